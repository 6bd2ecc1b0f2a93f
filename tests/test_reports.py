"""Reports: periods, and every figure of a hand-counted month (October 2026, beside September).

The dataset is built through the workflows, each step as the person who does it at the moment it
happens (the desk's clock is set to that moment). Business hours are the defaults (Mon–Fri 09:00–12:00,
13:30–18:00, Asia/Shanghai, Chinese holidays: 25 Sep and 1–7 Oct 2026 are off).

Hand count (the numbers the tests expect), October 2026:
- calls: #1 10-01 09:00 inquiry hotline in, resolved (王芳); #2 10-15 14:00 repair phone in (王芳);
  #3 10-20 10:00 followup phone out (王芳); #4 10-31 23:30 local complaint wechat in (李娜) — 15:30 UTC,
  still October. September: one call 09-30 23:59 local, resolved. November: one at 11-01 00:00 local.
  → Oct 4 calls, 3 in, 1 out, first-contact resolution 1 of 3 inbound; Sep 1 call, 1/1.
- complaints: A normal/quality opened Tue 10-20 09:00, acknowledged 10:00 (response due 14:30: met),
  resolved Wed 10-21 10:00 (due Fri 10-23 10:30: met; 8.5 business hours). Its return visit V1 at 15:00:
  unsatisfied → reopened and escalated to L2 at 15:00 (new 8 h clock, due Thu 10-22 15:30); 李娜 resolves
  it Thu 10:00 (met; 3 h + 1 h more → 12.5 business hours in all); visit V2 at 15:00 satisfied → closed.
  B serious/installation opened Thu 10-22 09:00, never acknowledged (response due 11:00: missed);
  resolution due Mon 10-26 10:00, escalated by hand at 11:00 (missed) to L2, due Tue 10-27 11:30,
  still running at the end of October (missed). C normal/quality opened Fri 10-30 17:00: its deadlines
  are in November. → opened 3, resolved 1, closed 1, reopened 1, open at end 2 (B, C), escalations 2
  (both to L2); first response 1 of 2 on time; resolution 2 of 4 deadlines met; hours [12.5].
  September: D normal/attitude opened Tue 09-22 09:00, acknowledged 09:30, resolved 11:00 (2 h),
  closed by a satisfied visit V0 (score 5) at 15:00.
- visits first due in October: V1 (done on time, unsatisfied, 2, 王芳), V2 (on time, satisfied, 4, 李娜),
  V3 promise due 10-27 15:00: no answer three times → missed 10-28 10:00, V4 promise due 10-29 10:00 never
  made (overdue at end), V5 promise due 10-30 10:00 reached 16:00 (late, satisfied, 3, 王芳), V6 the handover
  visit of P1 (handed over 10-08 10:00), due 10-09, never made (overdue at end). → due 6, on time 2,
  late 1, missed 1, overdue at end 2; finished in October 4, reached 3 (0.75); satisfied 2 of 3
  (66.7%); average score 3.0. September: V0 due, on time, reached, satisfied, 5.0.
- project P1 (张三, ¥100,000.00, signed 09-01): 首款 30% due 09-01, 尾款 70% due 10-15. ¥30,000 paid
  09-05, ¥20,000 paid 10-20; reminder 10-16 and call 10-22 recorded. → October: 1 instalment due
  (¥70,000.00), collected ¥20,000.00, collection rate 20000/70000, outstanding and overdue at end ¥50,000
  (16 days: 0–30), 2 dunning steps. September: ¥30,000 due and collected (rate 1), ¥70,000 outstanding,
  nothing overdue.
- adjustments on P1: J1 (install) added 10-09, done 10-12, accepted 10-13; J2 (supplier) added 10-12
  (due 10-19), done 10-14, rejected 10-15, open at the end (overdue); J3 (design) added 10-26, due 11-02.
  → opened 3, done 2, accepted 1, rejected 1, overdue at end 1.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
ZHANG = "13812345678"
LI = "13987654321"
_BUILT: dict[str, Path] = {}


def at(text: str) -> datetime:
    """A local wall-clock time, 'MM-DD HH:MM' in 2026."""
    return datetime.strptime("2026-" + text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def _build(db) -> None:
    from csdesk.workflows import callbacks as cb
    from csdesk.workflows import complaints as cp
    from csdesk.workflows import payments as pay
    from csdesk.workflows import projects as pj
    from csdesk.workflows.call_intake import log_call

    def desk(who, when):
        return db.desk(as_=who, now=at(when))

    # calls
    with desk("王芳", "09-30 23:59") as d:
        log_call(d, ZHANG, "inquiry", "问保修", name="张三", resolved=True)
    with desk("王芳", "10-01 09:00") as d:
        log_call(d, ZHANG, "inquiry", "问发票", channel="hotline", resolved=True)
    with desk("王芳", "10-15 14:00") as d:
        log_call(d, ZHANG, "repair", "卫生间漏水")
    with desk("王芳", "10-20 10:00") as d:
        log_call(d, ZHANG, "followup", "回访", direction="out")
    with desk("李娜", "10-31 23:30") as d:
        log_call(d, LI, "complaint", "安装工人迟到", name="李四", channel="wechat")
    with desk("王芳", "11-01 00:00") as d:
        log_call(d, ZHANG, "inquiry", "问进度")

    # project, plan, payments (September)
    with desk("王芳", "09-01 10:00") as d:
        code = pj.add_project(d, "朝阳全屋精装", ZHANG, Decimal("100000"), signed=date(2026, 9, 1)).code
        pay.make_plan(d, code, "首款:30%:sign, 尾款:70%:2026-10-15")
    with desk("王芳", "09-05 10:00") as d:
        pay.record_payment(d, code, Decimal("30000"))

    # complaint D and its visit (September)
    with desk("王芳", "09-22 09:00") as d:
        dd = cp.open_complaint(d, customer=ZHANG, severity="normal", category="attitude", summary="客服态度差").id
    with desk("王芳", "09-22 09:30") as d:
        cp.ack_complaint(d, dd)
    with desk("王芳", "09-22 11:00") as d:
        cp.resolve_complaint(d, dd, "已道歉")
    with desk("王芳", "09-22 15:00") as d:
        v0 = _visit_of(d, dd)
        cb.record_attempt(d, v0, "reached", satisfied=True, score=5)

    # October: handover, adjustments, money
    with desk("王芳", "10-08 10:00") as d:
        pj.handover_project(d, code)
    with desk("王芳", "10-09 10:00") as d:
        j1 = pj.add_adjustment(d, code, "灯带不亮", responsible="install").id
    with desk("王芳", "10-12 10:00") as d:
        pj.finish_adjustment(d, j1)
        j2 = pj.add_adjustment(d, code, "柜门色差", responsible="supplier").id
    with desk("王芳", "10-13 10:00") as d:
        pj.accept_adjustment(d, j1)
    with desk("王芳", "10-14 10:00") as d:
        pj.finish_adjustment(d, j2)
    with desk("王芳", "10-15 10:00") as d:
        pj.reject_adjustment(d, j2, "颜色仍不一致")
    with desk("王芳", "10-16 10:00") as d:
        pay.chase(d, code, "reminder")
    with desk("王芳", "10-20 10:00") as d:
        pay.record_payment(d, code, Decimal("20000"))
    with desk("王芳", "10-22 16:00") as d:
        pay.chase(d, code, "call")
    with desk("王芳", "10-26 09:00") as d:
        pj.add_adjustment(d, code, "踢脚线松动", responsible="design")

    # complaint A: resolved, unsatisfied visit (reopened + escalated), resolved again, satisfied visit
    with desk("王芳", "10-20 09:00") as d:
        a = cp.open_complaint(d, customer=ZHANG, severity="normal", category="quality", summary="墙面开裂").id
    with desk("王芳", "10-20 10:00") as d:
        cp.ack_complaint(d, a)
    with desk("王芳", "10-21 10:00") as d:
        cp.resolve_complaint(d, a, "已修补")
    with desk("王芳", "10-21 15:00") as d:
        cb.record_attempt(d, _visit_of(d, a), "reached", satisfied=False, score=2, note="裂缝还在")
    with desk("李娜", "10-22 10:00") as d:
        cp.resolve_complaint(d, a, "重新批荡")
    with desk("李娜", "10-22 15:00") as d:
        cb.record_attempt(d, _visit_of(d, a), "reached", satisfied=True, score=4)

    # complaint B: never answered, escalated by hand after its deadline
    with desk("王芳", "10-22 09:00") as d:
        b = cp.open_complaint(d, customer=LI, severity="serious", category="installation", summary="安装延误").id
    with desk("李娜", "10-26 11:00") as d:
        cp.escalate_complaint(d, b, "超时未处理")

    # promises
    with desk("王芳", "10-26 16:00") as d:
        v3 = cb.schedule_callback(d, at("10-27 15:00"), customer=LI, purpose="promise").callbacks[0].id
    with desk("王芳", "10-27 15:00") as d:
        cb.record_attempt(d, v3, "no_answer")
    with desk("王芳", "10-27 17:00") as d:
        cb.record_attempt(d, v3, "no_answer")
    with desk("王芳", "10-28 10:00") as d:
        cb.record_attempt(d, v3, "no_answer")
        cb.schedule_callback(d, at("10-29 10:00"), customer=ZHANG, purpose="promise")
        v5 = cb.schedule_callback(d, at("10-30 10:00"), customer=ZHANG, purpose="promise").callbacks[0].id
    with desk("王芳", "10-30 16:00") as d:
        cb.record_attempt(d, v5, "reached", satisfied=True, score=3)

    # complaint C: opened late on the last Friday, answered in November
    with desk("王芳", "10-30 17:00") as d:
        c = cp.open_complaint(d, customer=ZHANG, severity="normal", category="quality", summary="地板起拱").id
    with desk("王芳", "11-02 09:30") as d:
        cp.ack_complaint(d, c)


def _visit_of(desk, complaint_id: int) -> int:
    from sqlmodel import select

    from csdesk.models import Callback

    return desk.session.exec(select(Callback.id).where(Callback.complaint_id == complaint_id, Callback.status == "pending")).one()


@pytest.fixture
def month(team):
    """The hand-counted dataset (on SQLite built once and copied for each test; on PostgreSQL built anew)."""
    if team.path is None:
        _build(team)
        return team
    if "path" not in _BUILT:
        _build(team)
        team.database.engine.dispose()
        keep = Path(team.path).with_name("reports-dataset.db")
        shutil.copyfile(team.path, keep)
        _BUILT["path"] = keep
    else:
        team.database.engine.dispose()
        shutil.copyfile(_BUILT["path"], team.path)
    return team


def report_of(db, kind="monthly", period="2026-10", as_=None, now=None, **kw):
    from csdesk.reports import build_report

    with db.desk(as_=as_, now=now) as d:
        return build_report(d, kind, period, **kw)


def values(report) -> dict:
    return {f.key: (f.value, f.previous) for f in report.figures}


def rows(report, key) -> dict:
    return {r.item: (r.value, r.previous) for r in report.breakdown(key).rows}


D = Decimal

# Every headline figure of October 2026 (and September beside it), counted by hand above.
EXPECTED = {
    "calls.total": (4, 1),
    "calls.inbound": (3, 1),
    "calls.outbound": (1, 0),
    "calls.fcr_rate": (D("0.3333"), D("1")),
    "complaints.opened": (3, 1),
    "complaints.resolved": (1, 1),
    "complaints.closed": (1, 1),
    "complaints.reopened": (1, 0),
    "complaints.open_at_end": (2, 0),
    "complaints.escalations": (2, 0),
    "complaints.first_response_on_time": (D("0.5"), D("1")),
    "complaints.resolution_on_time": (D("0.5"), D("1")),
    "complaints.resolution_hours_avg": (D("12.5"), D("2.0")),
    "complaints.resolution_hours_median": (D("12.5"), D("2.0")),
    "visits.due": (6, 1),
    "visits.on_time": (2, 1),
    "visits.late": (1, 0),
    "visits.missed": (1, 0),
    "visits.overdue_at_end": (2, 0),
    "visits.reach_rate": (D("0.75"), D("1")),
    "visits.satisfied_rate": (D("0.6667"), D("1")),  # 2 of 3 verdicts, to four places like every rate
    "visits.avg_score": (D("3.0"), D("5.0")),
    "adjustments.opened": (3, 0),
    "adjustments.done": (2, 0),
    "adjustments.accepted": (1, 0),
    "adjustments.rejected": (1, 0),
    "adjustments.overdue_at_end": (1, 0),
    "money.due_count": (1, 1),
    "money.due_amount": (D("70000.00"), D("30000.00")),
    "money.collected": (D("20000.00"), D("30000.00")),
    "money.collection_rate": (D("0.2857"), D("1")),
    "money.outstanding_at_end": (D("50000.00"), D("70000.00")),
    "money.overdue_at_end": (D("50000.00"), D("0.00")),
    "money.dunning_steps": (2, 0),
    # quality checks: nothing sampled in the hand-counted months (tests/test_qa.py counts its own)
    "qa.sampled": (0, 0), "qa.scored": (0, 0), "qa.avg_score": (None, None), "qa.pass_rate": (None, None),
}


# ---- periods ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,text,name,first,last", [
    ("daily", "2026-11-24", "2026-11-24", "2026-11-24", "2026-11-24"),
    ("weekly", "2026-W48", "2026-W48", "2026-11-23", "2026-11-29"),
    ("weekly", "2026-w1", "2026-W01", "2025-12-29", "2026-01-04"),
    ("monthly", "2026-11", "2026-11", "2026-11-01", "2026-11-30"),
    ("monthly", "2024-2", "2024-02", "2024-02-01", "2024-02-29"),
    ("quarterly", "2026-Q4", "2026-Q4", "2026-10-01", "2026-12-31"),
    ("annual", "2025", "2025", "2025-01-01", "2025-12-31"),
])
def test_periods_are_named_naturally(kind, text, name, first, last):
    from csdesk.reports import parse_period

    now = at("11-24 10:00")
    p = parse_period(kind, text, TZ, now)
    assert (p.name, p.first.isoformat(), p.last.isoformat()) == (name, first, last)
    # bounded at local midnight: 00:00 Asia/Shanghai is 16:00 UTC the day before
    assert p.start == datetime.fromisoformat(first + "T00:00+08:00")
    assert p.end == datetime.fromisoformat(last + "T00:00+08:00") + timedelta(days=1)


@pytest.mark.parametrize("kind,name,previous", [
    ("daily", "2026-11-23", "2026-11-22"), ("weekly", "2026-W47", "2026-W46"), ("monthly", "2026-10", "2026-09"),
    ("quarterly", "2026-Q3", "2026-Q2"), ("annual", "2025", "2024"),
])
def test_default_is_the_last_complete_period_and_previous_is_beside_it(kind, name, previous):
    from csdesk.reports import parse_period, previous_period

    p = parse_period(kind, None, TZ, at("11-24 10:00"))
    assert p.name == name
    assert previous_period(p, TZ).name == previous


def test_a_period_is_refused_when_misnamed_or_not_started():
    from csdesk.errors import InvalidValue
    from csdesk.reports import parse_period

    now = at("11-24 10:00")
    for kind, text in [("monthly", "2026-Q4"), ("monthly", "2026-13"), ("weekly", "2026-W54"), ("quarterly", "2026-Q5"),
                       ("annual", "26"), ("daily", "2026-02-30"), ("daily", "2026-11")]:
        with pytest.raises(InvalidValue, match="is not a"):
            parse_period(kind, text, TZ, now)
    with pytest.raises(InvalidValue, match="has not started yet"):
        parse_period("monthly", "2026-12", TZ, now)
    assert parse_period("monthly", "current", TZ, now).name == "2026-11"
    assert parse_period("daily", "yesterday", TZ, now).name == "2026-11-23"


# ---- figures ------------------------------------------------------------------------------------------------


def test_every_headline_figure_of_the_hand_counted_month(month):
    report = report_of(month)
    assert report.period.name == "2026-10" and report.previous.name == "2026-09"
    got = values(report)
    assert set(got) == set(EXPECTED)
    for key, expected in EXPECTED.items():
        assert got[key] == expected, key
    # change = this period minus the previous one
    assert report.figure("calls.total").change == 3
    assert report.figure("money.collected").change == D("-10000.00")
    assert all(a.available for a in report.areas)


def test_breakdowns_of_the_hand_counted_month(month):
    report = report_of(month)
    assert rows(report, "calls.by_kind") == {"inquiry": (1, 1), "complaint": (1, 0), "repair": (1, 0), "suggestion": (0, 0),
                                             "followup": (1, 0), "payment": (0, 0), "other": (0, 0)}
    assert {k: v for k, v in rows(report, "calls.by_channel").items() if v != (0, 0)} == {
        "hotline": (1, 0), "phone": (2, 1), "wechat": (1, 0)}
    assert rows(report, "calls.by_direction") == {"in": (3, 1), "out": (1, 0)}
    assert rows(report, "calls.by_agent") == {"王芳": (3, 1), "李娜": (1, 0)}
    per_day = report.breakdown("calls.per_day").rows
    assert len(per_day) == 31
    assert {r.item: r.value for r in per_day if r.value} == {"2026-10-01": 1, "2026-10-15": 1, "2026-10-20": 1, "2026-10-31": 1}
    # the previous period's day at the same position: 30 September beside 30 October, nothing beside the 31st
    assert (per_day[29].previous_item, per_day[29].previous) == ("2026-09-30", 1)
    assert (per_day[30].previous_item, per_day[30].previous) == (None, None)
    assert {k: v for k, v in rows(report, "complaints.by_category").items() if v != (0, 0)} == {
        "quality": (2, 0), "installation": (1, 0), "attitude": (0, 1)}
    assert rows(report, "complaints.by_severity") == {"normal": (2, 1), "serious": (1, 0), "major": (0, 0)}
    assert rows(report, "complaints.escalations_by_level") == {"2": (2, 0), "3": (0, 0), "4": (0, 0)}
    assert rows(report, "money.aging") == {"0-30": (D("50000.00"), D("0.00")), "31-60": (D("0.00"), D("0.00")),
                                           "61-90": (D("0.00"), D("0.00")), "90+": (D("0.00"), D("0.00"))}
    assert rows(report, "money.dunning_by_step") == {"reminder": (1, 0), "call": (1, 0), "notice": (0, 0), "lawyer": (0, 0)}
    assert {k: v for k, v in rows(report, "adjustments.by_responsible").items() if v != (0, 0)} == {
        "install": (1, 0), "supplier": (1, 0), "design": (1, 0)}


def test_per_agent_table(month):
    from csdesk.reports import agent_table

    report = report_of(month, lang="en")
    columns, table = agent_table(report)
    assert [c[0] for c in columns[1::2]] == ["Calls", "Complaints owned", "Resolved", "Resolution on time", "Visits reached", "Average score"]
    by_name = {row[0]: row[1:] for row in table}
    # (value, previous) pairs: calls, owned, resolved, on-time rate, visits reached, average score
    assert by_name["王芳"] == (3, 1, 3, 1, 1, 1, D("0.5"), D("1"), 2, 1, D("2.5"), D("5.0"))
    assert by_name["李娜"] == (1, 0, 0, 0, 0, 0, None, None, 1, 0, D("4.0"), None)


def test_a_call_at_2330_local_on_the_last_day_belongs_to_that_month(month):
    october = report_of(month, period="2026-10")
    november = report_of(month, period="2026-11")
    assert rows(october, "calls.by_agent")["李娜"] == (1, 0)  # 10-31 23:30 local = 15:30 UTC
    assert november.figure("calls.total").value == 1  # 11-01 00:00 local, and nothing else
    assert november.figure("calls.total").previous == 4
    day = report_of(month, kind="daily", period="2026-10-31")
    assert day.figure("calls.total").value == 1
    assert report_of(month, kind="daily", period="2026-11-01").figure("calls.total").value == 1
    assert report_of(month, kind="weekly", period="2026-W44").figure("calls.total").value == 2  # Mon 10-26 .. Sun 11-01: both


def test_an_empty_period_gives_zeros_and_no_error(month):
    report = report_of(month, period="2025-06")
    for f in report.figures:
        if f.unit == "count":
            assert f.value == 0 and f.previous == 0, f.key
        elif f.unit == "money":
            assert f.value == 0, f.key
        else:
            assert f.value is None, f.key  # a rate or an average over nothing is not a number
    assert all(r.value == 0 for r in report.breakdown("calls.per_day").rows)


def test_a_period_still_running_counts_to_now(month):
    report = report_of(month, period="current")
    assert report.to_date and report.period.name == "2026-11"
    per_day = {r.item: r.value for r in report.breakdown("calls.per_day").rows}
    assert per_day["2026-11-01"] == 1
    assert per_day["2026-11-24"] == 0 and per_day["2026-11-25"] is None  # not begun yet: no figure
    # C was acknowledged on 11-02, B is still open: both open now
    assert report.figure("complaints.open_at_end").value == 2


def test_unmask_needs_a_manager(month):
    from csdesk.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="manager or above"):
        report_of(month, as_="李娜", unmask=True)
    with pytest.raises(PermissionDenied):
        report_of(month, unmask=True)  # nobody acting
    assert report_of(month, as_="张强", unmask=True).masked is False
    assert report_of(month).masked is True


def test_every_figure_is_defined_once_in_code_and_in_the_readme():
    """The README (Chinese) lists each figure with the catalogue's Chinese of its definition, the text of
    the workbook's 指标说明 sheet; the English source is what --lang en shows."""
    from csdesk.reporting.core import in_chinese
    from csdesk.reports import BREAKDOWNS, FIGURES

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: reports -->")[1].split("<!-- /section: reports -->")[0]
    for key, fig in {**FIGURES, **BREAKDOWNS}.items():
        chinese = in_chinese(fig.definition)
        assert chinese != fig.definition, key  # translated
        assert f"- `{key}` {fig.zh}" in section, key
        assert f"：{chinese}\n" in section, key
        assert fig.definition not in section, key


def test_visit_scores_and_satisfaction_keep_the_reports_precision():
    """The callbacks area rounds its own figures to 0.1 (96.0%, 4.6); the report divides the counts itself."""
    from types import SimpleNamespace

    from csdesk.reports import _average_score

    assert _average_score(SimpleNamespace(scored=9, score_sum=41)) == D("4.56")  # not 4.6 shown as 4.60
    assert _average_score(SimpleNamespace(scored=0, score_sum=0)) is None
