"""Call quality checks (质检): the draw, the scoring, the notice to the supervisor, the report's figures, the
commands (CliRunner) and the installed command (subprocess)."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from decimal import Decimal as D

import pytest

from conftest import NOW, TZ

GOOD = ["礼貌用语=5", "问题确认=4", "解决方案=3", "服务态度=4", "结束规范=5"]  # (100+100+90+60+50)/100 = 4.00
POOR = ["礼貌用语=3", "问题确认=3", "解决方案=3", "服务态度=4", "结束规范=4"]  # (60+75+90+60+40)/100 = 3.25


@pytest.fixture(autouse=True)
def _english():
    """Workflows called directly speak the language chosen last (the CLI chooses per command): English here."""
    from csdesk import i18n

    i18n.set_language("en")


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}").replace(tzinfo=TZ)


@pytest.fixture
def qa(team):
    """The team (陈总 → 张强 → 李娜 → 王芳) plus 赵敏 under 李娜, 周涛 (supervisor) under 张强 and 孙磊 under 周涛;
    November calls: 王芳 8 (one voided), 赵敏 6, 孙磊 2, 李娜 2, and one October call of 王芳."""
    from csdesk.workflows.call_intake import log_call
    from csdesk.workflows.calls import void_call
    from csdesk.workflows.staff import add_staff

    if team.restore("qa-calls"):
        return team
    with team.desk(as_="张强") as desk:
        add_staff(desk, "赵敏", "specialist", reports_to="李娜")
        add_staff(desk, "周涛", "supervisor", reports_to="张强")
        add_staff(desk, "孙磊", "specialist", reports_to="周涛")
    n = 0
    for agent, count in (("王芳", 8), ("赵敏", 6), ("孙磊", 2), ("李娜", 2)):
        with team.desk(as_=agent) as desk:
            for i in range(count):
                n += 1
                log_call(desk, f"1390000{n:04d}", "inquiry" if i % 2 else "repair", f"来电 {n}",
                         at=at(f"11-{1 + i * 2:02d} 10:{n:02d}"), recording=f"rec/{n}.mp3")
    with team.desk(as_="王芳") as desk:
        log_call(desk, "13900009999", "inquiry", "十月来电", at=at("10-20 10:00"))
        void_call(desk, 1, "logged twice")
    team.keep("qa-calls")
    return team


def draw(db, as_="李娜", **kw):
    from csdesk.workflows.qa import draw_sample

    kw.setdefault("period", "2026-11")
    with db.desk(as_=as_) as desk:
        return draw_sample(desk, **kw)


def score(db, call_id, items=GOOD, as_="李娜", note=None, now=None):
    from csdesk.workflows.qa import score_call

    with db.desk(as_=as_, now=now) as desk:
        return score_call(desk, call_id, items, note)


def agent_calls(db, name):
    from sqlalchemy import text

    with db.database.engine.connect() as conn:
        return {r[0] for r in conn.execute(text("SELECT call.id FROM call JOIN staff ON staff.id = call.agent_id WHERE staff.name = :n"),
                                           {"n": name})}


# ---- the draw ---------------------------------------------------------------------------------------------


def test_the_same_seed_draws_the_same_sample_and_another_seed_another(qa):
    first = [r.call_id for r in draw(qa, seed=7, per_agent=3).drawn]
    qa.restore("qa-calls")
    again = [r.call_id for r in draw(qa, seed=7, per_agent=3).drawn]
    assert again == first
    qa.restore("qa-calls")
    other = [r.call_id for r in draw(qa, seed=8, per_agent=3).drawn]
    assert sorted(other) != sorted(first)
    # three of each agent's November calls (孙磊 has only two), the checker's own never
    by_agent = {}
    for call_id in first:
        for name in ("王芳", "赵敏", "孙磊", "李娜"):
            if call_id in agent_calls(qa, name):
                by_agent[name] = by_agent.get(name, 0) + 1
    assert by_agent == {"王芳": 3, "赵敏": 3, "孙磊": 2}


def test_a_second_draw_takes_other_calls_never_a_voided_one_and_stops_when_all_are_drawn(qa):
    from csdesk.errors import InvalidValue

    one = draw(qa, seed=1, per_agent=3)
    two = draw(qa, seed=1, per_agent=3)
    three = draw(qa, seed=1, per_agent=3)
    ids = [r.call_id for r in one.drawn + two.drawn + three.drawn]
    assert len(ids) == len(set(ids))  # nothing drawn twice
    assert 1 not in ids  # the voided call
    assert 19 not in ids  # the October call
    assert set(ids) == (agent_calls(qa, "王芳") | agent_calls(qa, "赵敏") | agent_calls(qa, "孙磊")) - {1, 19}
    assert one.short == {"孙磊": 2} and two.short == {"孙磊": 0} and three.short == {"王芳": 1, "赵敏": 0, "孙磊": 0}
    before = qa.dump()
    with pytest.raises(InvalidValue, match="already in a sample"):
        draw(qa, seed=1)
    assert qa.dump() == before


def test_the_sample_goes_to_the_person_named_and_kind_filters(qa):
    result = draw(qa, seed=3, per_agent=5, kind="repair", to="周涛")
    assert result.assigned_to == "周涛"
    assert {r.kind for r in result.drawn} == {"repair"}
    assert {r.assigned_to for r in result.drawn} == {"周涛"}
    assert qa.scalar("SELECT count(*) FROM audit_entry WHERE action = 'qa.sample'") == len(result.drawn)


@pytest.mark.parametrize("kw,message", [
    ({"period": "2026-13"}, "is not a month like 2026-11"),
    ({"period": "11-2026"}, "is not a month like 2026-11"),
    ({"period": "2026-12"}, "has not begun yet"),
    ({"period": "2026-09"}, "No calls to draw from"),
    ({"per_agent": 0}, "--per-agent"),
    ({"to": "王芳"}, "not a supervisor or above nor in the quality group"),
    ({"to": "无名"}, "no staff member"),
    ({"kind": "gossip"}, "unknown kind"),
])
def test_a_bad_draw_is_refused_and_writes_nothing(qa, kw, message):
    from csdesk.errors import CsdeskError

    before = qa.dump()
    with pytest.raises(CsdeskError, match=message):
        draw(qa, **kw)
    assert qa.dump() == before


def test_who_may_check_supervisors_and_the_quality_group(qa, tmp_path):
    from csdesk.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="supervisors and above and the quality group"):
        draw(qa, as_="王芳", seed=1)
    (tmp_path / "csdesk.toml").write_text('[qa]\ngroup = ["王芳"]\n', encoding="utf-8")
    drawn = draw(qa, as_="王芳", seed=1, per_agent=1).drawn
    assert drawn and not set(r.call_id for r in drawn) & agent_calls(qa, "王芳")  # nobody draws their own calls


# ---- scoring ----------------------------------------------------------------------------------------------


def test_weighted_score_and_the_pass_mark():
    from csdesk.config import DEFAULTS, qa_items
    from csdesk.workflows.qa import weighted_score

    weights = qa_items(DEFAULTS["qa"]["items"])
    assert weights == {"礼貌用语": 20, "问题确认": 25, "解决方案": 30, "服务态度": 15, "结束规范": 10}
    assert weighted_score(dict(zip(weights, (5, 4, 3, 4, 5))), weights) == D("4.00")
    assert weighted_score(dict(zip(weights, (3, 3, 3, 4, 4))), weights) == D("3.25")
    assert weighted_score(dict(zip(weights, (5, 3, 3, 3, 4))), weights) == D("3.50")  # exactly the pass mark
    assert weighted_score({"a": 5, "b": 4}, {"a": 1, "b": 2}) == D("4.33")  # 13/3, half up to two places


def test_scores_pass_at_the_mark_and_fail_below_it(qa):
    drawn = [r.call_id for r in draw(qa, seed=5, per_agent=3).drawn]
    good = score(qa, drawn[0], GOOD, note="很好")
    assert (good.weighted, good.passed, good.pass_mark, good.rescore) == (D("4.00"), True, D("3.50"), False)
    mark = score(qa, drawn[1], ["礼貌用语=5", "问题确认=3", "解决方案=3", "服务态度=3", "结束规范=4"])
    assert (mark.weighted, mark.passed) == (D("3.50"), True)
    poor = score(qa, drawn[2], POOR, note="未复述问题")
    assert (poor.weighted, poor.passed) == (D("3.25"), False)
    assert qa.scalar("SELECT weighted FROM qa_score WHERE id = :i", i=poor.id) == 325


def test_a_rescore_is_a_new_audited_score_and_the_newest_counts(qa):
    from csdesk.workflows import qa as workflow

    call_id = draw(qa, seed=5, per_agent=1).drawn[0].call_id
    score(qa, call_id, POOR)
    again = score(qa, call_id, GOOD, as_="张强", note="复听后更正")
    assert again.rescore and again.scorer == "张强"
    assert qa.scalar("SELECT count(*) FROM qa_score WHERE call_id = :c", c=call_id) == 2
    assert qa.scalar("SELECT action FROM audit_entry WHERE entity = 'qa_score' ORDER BY id DESC LIMIT 1") == "qa.rescore"
    with qa.desk(as_="李娜") as desk:
        view = workflow.show_qa(desk, call_id)
        rows, total = workflow.list_samples(desk, period="2026-11")
    assert [s.weighted for s in view.history] == [D("3.25"), D("4.00")] and view.score.passed
    assert next(r for r in rows if r.call_id == call_id).weighted == D("4.00")


@pytest.mark.parametrize("items,message", [
    (GOOD[:-1], "missing: 结束规范"),
    (GOOD + ["结束规范=4"], "scored twice"),
    (GOOD[:-1] + ["结束语=4"], "not on the checklist"),
    (GOOD[:-1] + ["结束规范=6"], "whole number from 1 to 5"),
    (GOOD[:-1] + ["结束规范=0"], "whole number from 1 to 5"),
    (GOOD[:-1] + ["结束规范=4.5"], "whole number from 1 to 5"),
    (GOOD[:-1] + ["结束规范"], "is not ITEM=SCORE"),
])
def test_a_bad_score_is_refused_and_writes_nothing(qa, items, message):
    from csdesk.errors import InvalidValue

    call_id = draw(qa, seed=5, per_agent=1).drawn[0].call_id
    before = qa.dump()
    with pytest.raises(InvalidValue, match=message):
        score(qa, call_id, items)
    assert qa.dump() == before


def test_scoring_refuses_unknown_unsampled_voided_and_own_calls(qa, tmp_path):
    from csdesk.errors import CsdeskError
    from csdesk.workflows.calls import void_call

    drawn = draw(qa, seed=5, per_agent=2).drawn
    wang = next(r.call_id for r in drawn if r.agent == "王芳")
    unsampled = min(agent_calls(qa, "赵敏") - {r.call_id for r in drawn})
    with qa.desk(as_="李娜") as desk:
        void_call(desk, wang, "wrong desk")
    (tmp_path / "csdesk.toml").write_text('[qa]\ngroup = ["赵敏"]\n', encoding="utf-8")
    zhao = next(r.call_id for r in drawn if r.agent == "赵敏")
    before = qa.dump()
    for call_id, as_, message in [(999, "李娜", "No call #999"), (unsampled, "李娜", "not in a quality sample"),
                                  (wang, "李娜", "is void"), (zhao, "赵敏", "Nobody scores their own calls"),
                                  (zhao, "王芳", "supervisors and above and the quality group")]:
        with pytest.raises(CsdeskError, match=message):
            score(qa, call_id, GOOD, as_=as_)
    assert qa.dump() == before


# ---- the notice to the supervisor ------------------------------------------------------------------------


def _run(db, now):
    from csdesk import config
    from csdesk.workflows.reminders import remind_run

    result = remind_run(db.database, config.load(db.path), now)
    return [n for n in result.notices if n.kind == "qa_failed"]


def test_a_failing_score_is_told_once_to_the_agents_first_active_supervisor(qa):
    from csdesk.workflows.handover import deactivate_staff

    drawn = draw(qa, seed=9, per_agent=2).drawn
    wang = [r.call_id for r in drawn if r.agent == "王芳"]
    sun = next(r.call_id for r in drawn if r.agent == "孙磊")
    zhao = next(r.call_id for r in drawn if r.agent == "赵敏")
    with qa.desk(as_="张强") as desk:
        deactivate_staff(desk, "周涛")  # 孙磊's supervisor has left: the next one up (张强) is told
    score(qa, wang[0], POOR, note="未复述问题")
    score(qa, wang[1], GOOD)
    score(qa, sun, POOR)
    score(qa, zhao, GOOD)
    first = _run(qa, NOW + timedelta(minutes=5))
    assert sorted((n.entity, n.recipient) for n in first) == [("qa_score", "张强"), ("qa_score", "李娜")]
    told_li = next(n for n in first if n.recipient == "李娜")
    assert f"call #{wang[0]} by 王芳 scored 3.25 (pass mark 3.50)" in told_li.message and "未复述问题" in told_li.message
    assert _run(qa, NOW + timedelta(minutes=10)) == []
    # a rescore that still fails is not news; a passing call rescored to a fail is
    score(qa, wang[0], ["礼貌用语=1"] + POOR[1:], now=NOW + timedelta(minutes=15))
    score(qa, zhao, POOR, now=NOW + timedelta(minutes=15))
    third = _run(qa, NOW + timedelta(minutes=20))
    assert [(n.recipient, f"call #{zhao} " in n.message) for n in third] == [("李娜", True)]
    assert qa.scalar("SELECT count(*) FROM notice WHERE kind = 'qa_failed'") == 3


# ---- the report -------------------------------------------------------------------------------------------


def test_the_report_counts_sampled_scored_average_pass_rate_and_lowest_items(qa):
    from csdesk.reports import build_report, report_json

    drawn = draw(qa, seed=11, per_agent=3).drawn
    wang = [r.call_id for r in drawn if r.agent == "王芳"]
    zhao = [r.call_id for r in drawn if r.agent == "赵敏"]
    score(qa, wang[0], GOOD)  # 4.00
    score(qa, wang[1], POOR)  # 3.25
    score(qa, zhao[0], ["礼貌用语=5", "问题确认=5", "解决方案=5", "服务态度=5", "结束规范=1"])  # 4.60
    with qa.desk(as_="张强", now=NOW + timedelta(hours=1)) as desk:
        report = build_report(desk, "monthly", "2026-11", lang="en")
        data = report_json(report)
    figures = {f.key: f.value for f in report.figures if f.area == "qa"}
    assert figures == {"qa.sampled": 8, "qa.scored": 3, "qa.avg_score": D("3.95"), "qa.pass_rate": D("0.6667")}
    rows = {b.key: {r.item: r.value for r in b.rows} for b in report.breakdowns if b.area == "qa"}
    assert rows["qa.sampled_by_agent"] == {"王芳": 3, "赵敏": 3, "孙磊": 2}
    assert rows["qa.scored_by_agent"] == {"王芳": 2, "赵敏": 1, "孙磊": 0}
    assert rows["qa.score_by_agent"] == {"王芳": D("3.63"), "赵敏": D("4.60"), "孙磊": None}  # (4.00+3.25)/2 half up
    assert rows["qa.pass_rate_by_agent"] == {"王芳": D("0.5"), "赵敏": D("1"), "孙磊": None}
    # items lowest first: 结束规范 (5+4+1)/3 = 3.33, 解决方案 (3+3+5)/3 = 3.67 …
    assert list(rows["qa.item_avg"].items())[:2] == [("结束规范", D("3.33")), ("解决方案", D("3.67"))]
    assert data["figures"]["qa.pass_rate"]["value"] == D("0.6667")
    assert data["areas"][-1] == {"area": "qa", "label": "Quality checks", "available": True, "note": None}


def test_the_workbook_has_a_qa_sheet_one_row_per_agent(qa, tmp_path):
    import openpyxl

    from csdesk.reports import build_report, write_xlsx

    drawn = draw(qa, seed=11, per_agent=3).drawn
    score(qa, next(r.call_id for r in drawn if r.agent == "王芳"), POOR)
    with qa.desk(as_="张强") as desk:
        report = build_report(desk, "monthly", "2026-11", lang="zh")
        write_xlsx(desk, report, tmp_path / "m.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "m.xlsx")["质检"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("客服", "抽检", "已评分", "平均评分", "合格率", "最低检查项", "该项平均分")
    assert rows[1][:6] == ("王芳", 3, 1, 3.25, 0, "礼貌用语")  # 3, 3, 3: a tie goes to the first by name
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"


# ---- recordings ------------------------------------------------------------------------------------------


def test_recordings_from_log_call_edit_and_show(team, cli):
    out = cli("--as", "王芳", "log-call", "--phone", "13800001111", "--kind", "inquiry", "--summary", "问保修",
              "--recording", "rec/2026/11/24/0001.mp3")
    assert out.exit_code == 0, out.stderr
    shown = cli("calls", "show", "1", "--json")
    assert json.loads(shown.stdout)["recording"] == "rec/2026/11/24/0001.mp3"
    edited = cli("--as", "王芳", "calls", "edit", "1", "--recording", "https://pbx.example/r/77")
    assert edited.exit_code == 0, edited.stderr
    assert "https://pbx.example/r/77" in cli("calls", "show", "1").stdout
    assert team.scalar("SELECT count(*) FROM audit_entry WHERE action = 'call.edit' AND after LIKE '%pbx.example%'") == 1
    bad = cli("--as", "王芳", "calls", "edit", "1", "--recording", "a\x1bb")
    assert bad.exit_code == 1 and bad.stderr.count("Error:") == 1
    assert cli("--as", "王芳", "calls", "edit", "1", "--recording", "").exit_code == 0
    assert json.loads(cli("calls", "show", "1", "--json").stdout)["recording"] is None


# ---- the commands ----------------------------------------------------------------------------------------


def test_cli_sample_score_list_show(qa, cli):
    out = cli("--as", "李娜", "qa", "sample", "--period", "2026-11", "--per-agent", "2", "--seed", "4", "--json")
    assert out.exit_code == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result["seed"], result["assigned_to"], len(result["drawn"])) == (4, "李娜", 6)
    call_id = result["drawn"][0]["call_id"]
    args = [a for item in POOR for a in ("--item", item)]
    scored = cli("--as", "李娜", "qa", "score", str(call_id), *args, "--note", "语速太快")
    assert scored.exit_code == 0, scored.stderr
    assert scored.stdout.strip() == "3.25"
    assert "Scored call" in scored.stderr and "supervisor" in scored.stderr
    listed = json.loads(cli("--as", "李娜", "qa", "list", "--unscored", "--json").stdout)
    assert listed["total"] == 5 and len(listed["items"]) == 5 and call_id not in [r["call_id"] for r in listed["items"]]
    mine = json.loads(cli("--as", "李娜", "qa", "list", "--checker", "me", "--limit", "1", "--json").stdout)
    assert (mine["total"], len(mine["items"])) == (6, 1)
    shown = json.loads(cli("qa", "show", str(call_id), "--json").stdout)
    assert shown["score"]["items"] == {"礼貌用语": 3, "问题确认": 3, "解决方案": 3, "服务态度": 4, "结束规范": 4}
    assert shown["score"]["weighted"] == "3.25" and shown["score"]["passed"] is False and shown["period"] == "2026-11"
    text = cli("--as", "李娜", "qa", "show", str(call_id)).stdout
    assert "3.25 FAIL" in text and "语速太快" in text and "rec/" in text
    zh = cli("--lang", "zh", "--as", "李娜", "qa", "show", str(call_id)).stdout
    assert "不合格" in zh and "合格线 3.50" in zh


@pytest.mark.parametrize("args,message", [
    (["qa", "sample", "--period", "2026/11"], "is not a month like 2026-11"),
    (["qa", "score", "999", "--item", "礼貌用语=5"], "No call #999"),
    (["qa", "score", "2", "--item", "礼貌用语=9"], "not in a quality sample"),
    (["qa", "list", "--period", "nov"], "is not a month like 2026-11"),
    (["qa", "show", "999"], "No call #999"),
])
def test_cli_refusals_are_one_error_line_exit_1_nothing_written(qa, cli, args, message):
    before = qa.dump()
    out = cli("--as", "李娜", *args)
    assert out.exit_code == 1
    assert out.stderr.startswith("Error: ") and out.stderr.count("Error:") == 1 and message in out.stderr, out.stderr
    assert out.stdout == ""
    assert qa.dump() == before


def test_cli_chinese_refusal(qa, cli):
    out = cli("--lang", "zh", "--as", "王芳", "qa", "sample", "--period", "2026-11")
    assert out.exit_code == 1 and "仅限主管及以上和质检组" in out.stderr


def test_settings_document_the_checklist_and_refuse_a_bad_one(qa, cli, tmp_path):
    shown = cli("config", "show")
    assert "[qa]" in shown.stdout and "pass_mark = 3.5" in shown.stdout and "礼貌用语=20" in shown.stdout
    (tmp_path / "csdesk.toml").write_text('[qa]\nitems = ["礼貌用语=20", "礼貌用语=5"]\n', encoding="utf-8")
    out = cli("config", "show")
    assert out.exit_code == 1 and "qa.items" in out.stderr and "twice" in out.stderr
    (tmp_path / "csdesk.toml").write_text('[qa]\npass_mark = 6\n', encoding="utf-8")
    assert "qa.pass_mark" in cli("config", "show").stderr


def test_the_installed_command_draws_and_scores(qa):
    from test_e2e import csdesk_command

    env = {**__import__("os").environ, "CSDESK_DB": qa.location, "CSDESK_AGENT": "李娜"}
    run = lambda *a: subprocess.run(csdesk_command() + list(a), capture_output=True, text=True, env=env, timeout=120)  # noqa: E731
    drawn = run("qa", "sample", "--period", "2026-11", "--per-agent", "1", "--seed", "2", "--json")
    assert drawn.returncode == 0, drawn.stderr
    call_id = json.loads(drawn.stdout)["drawn"][0]["call_id"]
    scored = run("qa", "score", str(call_id), *[a for item in GOOD for a in ("--item", item)])
    assert scored.returncode == 0 and scored.stdout.strip() == "4.00", scored.stderr
    listed = json.loads(run("qa", "list", "--json").stdout)
    assert listed["total"] == 3 and [r["weighted"] for r in listed["items"] if r["call_id"] == call_id] == ["4.00"]
    refused = run("qa", "score", str(call_id), "--item", "礼貌用语=5")
    assert refused.returncode == 1 and refused.stderr.count("Error:") == 1 and "Traceback" not in refused.stderr


# ---- the archive -----------------------------------------------------------------------------------------


def test_archived_calls_take_their_quality_checks_along(qa):
    from datetime import date

    from csdesk.workflows.archive import MOVED_TABLES, cutoff_instant, make_plan

    drawn = draw(qa, seed=5, per_agent=1).drawn
    score(qa, drawn[0].call_id, POOR)
    assert {"qa_sample", "qa_score"} <= set(MOVED_TABLES)
    with qa.database.session() as session:
        plan = make_plan(session, date(2026, 12, 1), cutoff_instant(date(2026, 12, 1), TZ), TZ)
        nothing = make_plan(session, date(2026, 11, 1), cutoff_instant(date(2026, 11, 1), TZ), TZ)
    assert len(plan.moved["qa_sample"]) == 3 and len(plan.moved["qa_score"]) == 1
    assert any(True for _ in plan.moved["audit_entry"])
    assert nothing.moved["qa_sample"] == set() and nothing.moved["qa_score"] == set()
