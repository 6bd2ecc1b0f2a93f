"""The shift handover log (交接班): hand over with the checklist and the open items of the moment, take or
refuse (only the person named), review the day, the reminder run's notices (each once), `today`."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta

import pytest

from tests.conftest import NOW, TZ

CHECKS = ("--check", "设备正常=ok", "--check", "工单已派=no:还有两张未派", "--check", "待办已交代=是")
AT = "2026-11-24 07:55"  # just before the 08:00 change of shift; NOW is 10:00 the same day


@pytest.fixture
def desk_team(team, cli):
    """The conftest team plus two specialists under 李娜 (刘洋, 赵敏) and one who left (孙磊)."""
    for name in ("刘洋", "赵敏", "孙磊"):
        assert cli("--as", "李娜", "staff", "add", name, "--role", "specialist", "--reports-to", "李娜").exit_code == 0
    assert cli("--as", "李娜", "staff", "deactivate", "孙磊").exit_code == 0
    return team


def ok(cli, *args):
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return result


def hand(cli, *extra, as_="王芳", to="刘洋", at=AT):
    return cli("--as", as_, "shift", "hand", "--to", to, "--at", at, *CHECKS, *extra)


def refused(cli, db, *args):
    """A refusal: one Error line on stderr, exit 1, nothing written."""
    before = db.dump()
    result = cli(*args)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Error: ") and not any(line.startswith("Error: ") for line in lines[1:])
    assert "Traceback" not in result.stderr
    assert db.dump() == before
    return lines[0]


# -- the handover and its open items ---------------------------------------------------------------

def test_hand_over_with_checklist_and_the_open_items_of_the_moment(cli, desk_team):
    ok(cli, "--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678")
    # A complaint opened yesterday: its first response is due long before the next shift ends (20:00).
    ok(cli, "--as", "王芳", "complaint", "open", "--severity", "normal", "--category", "quality", "--phone", "13812345678",
       "--summary", "墙面开裂", "--at", "2026-11-23 09:00")
    # Callbacks: made yesterday and due today 16:00 (in the next shift); due next week (not); a promise made
    # during the night shift (07:00), due next week; one made after the handover (09:00, not of that moment).
    ok(cli, "--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "2026-11-24 16:00", "--now", "2026-11-23 17:00")
    ok(cli, "--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "2026-12-01 10:00", "--now", "2026-11-23 17:00")
    ok(cli, "--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "2026-12-01 11:00", "--note", "报价回电",
       "--now", "2026-11-24 07:00")
    ok(cli, "--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "2026-11-24 15:00", "--now", "2026-11-24 09:00")
    result = hand(cli, "--note", "3号线路有杂音")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "1"
    assert "handover #1, 3 open items attached, 1 checklist items not ok" in result.stderr
    data = json.loads(ok(cli, "--json", "shift", "show", "1").stdout)
    assert (data["from_name"], data["to_name"], data["status"]) == ("王芳", "刘洋", "handed")
    assert data["at"] == "2026-11-24T07:55:00+08:00"
    assert (data["shift_start"], data["shift_end"], data["next_end"]) == (
        "2026-11-23T20:00:00+08:00", "2026-11-24T08:00:00+08:00", "2026-11-24T20:00:00+08:00")
    assert [(c["item"], c["ok"], c["note"]) for c in data["checks"]] == [
        ("设备正常", True, None), ("工单已派", False, "还有两张未派"), ("待办已交代", True, None)]
    assert [(i["kind"], i["ref_id"]) for i in data["items"]] == [("complaint", 1), ("callback", 1), ("promise", 3)]
    assert "墙面开裂" in data["items"][0]["text"] and "报价回电" in data["items"][2]["text"]
    assert data["note"] == "3号线路有杂音" and data["late"] is True  # not taken 2h05 after it was made
    # Audited, with the checklist and the items.
    audit = json.loads(desk_team.scalar("SELECT after FROM audit_entry WHERE action = 'shift.hand'"))
    assert audit["to_id"] and len(audit["checks"]) == 3 and len(audit["items"]) == 3


def test_late_once_the_configured_time_has_passed(cli, desk_team):
    assert hand(cli).exit_code == 0
    # 07:55 + 30 min has passed at 10:00: waiting and late; at 08:10 it was not late yet.
    assert json.loads(ok(cli, "--json", "shift", "show", "1").stdout)["late"] is True
    assert json.loads(ok(cli, "--json", "shift", "show", "1", "--now", "2026-11-24 08:10").stdout)["late"] is False


def test_checklist_answers(cli, desk_team):
    line = refused(cli, desk_team, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--check", "设备正常=ok")
    assert "missing: 工单已派, 待办已交代" in line
    line = refused(cli, desk_team, "--as", "王芳", "shift", "hand", "--to", "刘洋", *CHECKS, "--check", "咖啡=ok")
    assert "'咖啡' is not on the handover checklist" in line
    line = refused(cli, desk_team, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--check", "设备正常=maybe",
                   "--check", "工单已派=ok", "--check", "待办已交代=ok")
    assert "'maybe' is not an answer for 设备正常" in line
    line = refused(cli, desk_team, "--as", "王芳", "shift", "hand", "--to", "刘洋", *CHECKS, "--check", "设备正常=ok")
    assert "answered twice" in line
    assert "ITEM=ok" in refused(cli, desk_team, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--check", "设备正常")
    # Chinese answers, a full-width colon before the note.
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--check", "设备正常=正常", "--check", "工单已派=否：两张",
       "--check", "待办已交代=是")
    checks = json.loads(ok(cli, "--json", "shift", "show", "1").stdout)["checks"]
    assert [(c["ok"], c["note"]) for c in checks] == [(True, None), (False, "两张"), (True, None)]


def test_checklist_from_the_settings(cli, desk_team, tmp_path):
    (tmp_path / "csdesk.toml").write_text('[shift]\nchecklist = ["钥匙已交"]\nstarts = ["09:00"]\n', encoding="utf-8")
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--check", "钥匙已交=ok")
    data = json.loads(ok(cli, "--json", "shift", "show", "1").stdout)
    assert data["shift_end"] == "2026-11-24T09:00:00+08:00" and data["next_end"] == "2026-11-25T09:00:00+08:00"
    shown = ok(cli, "config", "show").stdout
    assert "[shift]" in shown and 'take_within = "30m"' in shown
    (tmp_path / "csdesk.toml").write_text('[shift]\nstarts = ["25:00"]\n', encoding="utf-8")
    result = cli("config", "show")
    assert result.exit_code == 1 and "shift.starts" in result.stderr


def test_refusals_change_nothing(cli, desk_team):
    assert "no staff member named '无名'" in refused(cli, desk_team, "--as", "王芳", "shift", "hand", "--to", "无名", *CHECKS)
    assert "themselves" in refused(cli, desk_team, "--as", "王芳", "shift", "hand", "--to", "王芳", *CHECKS)
    assert "孙磊 is no longer active" in refused(cli, desk_team, "--as", "王芳", "shift", "hand", "--to", "孙磊", *CHECKS)
    assert "future" in refused(cli, desk_team, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", "today 18:00", *CHECKS)
    assert "nobody is acting" in refused(cli, desk_team, "shift", "hand", "--to", "刘洋", *CHECKS)
    assert "no handover #9" in refused(cli, desk_team, "--as", "刘洋", "shift", "take", "9")


def test_take_only_by_the_person_named_and_only_once(cli, desk_team):
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", AT, *CHECKS)
    assert "only 刘洋" in refused(cli, desk_team, "--as", "赵敏", "shift", "take", "1")
    assert "only 刘洋" in refused(cli, desk_team, "--as", "王芳", "shift", "refuse", "1", "--reason", "x")
    assert "before that" in refused(cli, desk_team, "--as", "刘洋", "shift", "take", "1", "--at", "2026-11-24 07:50")
    result = ok(cli, "--as", "刘洋", "shift", "take", "1", "--note", "已核对", "--at", "2026-11-24 08:05")
    assert "Took over the shift from 王芳" in result.stderr
    data = json.loads(ok(cli, "--json", "shift", "show", "1").stdout)
    assert (data["status"], data["taken_at"], data["taker_note"], data["late"]) == ("taken", "2026-11-24T08:05:00+08:00", "已核对", False)
    assert "already taken" in refused(cli, desk_team, "--as", "刘洋", "shift", "take", "1")
    assert "already taken" in refused(cli, desk_team, "--as", "刘洋", "shift", "refuse", "1", "--reason", "晚了")
    # The same shift cannot be handed over twice while the first stands.
    assert "already handed over the shift ending 2026-11-24 08:00" in refused(
        cli, desk_team, "--as", "王芳", "shift", "hand", "--to", "赵敏", "--at", "2026-11-24 08:02", *CHECKS)
    assert desk_team.scalar("SELECT count(*) FROM audit_entry WHERE action = 'shift.take'") == 1


def test_refuse_needs_a_reason_then_the_shift_can_be_handed_again(cli, desk_team):
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", AT, *CHECKS)
    assert "needs a reason" in refused(cli, desk_team, "--as", "刘洋", "shift", "refuse", "1", "--reason", "  ")
    ok(cli, "--as", "刘洋", "shift", "refuse", "1", "--reason", "投诉待办没说清", "--at", "2026-11-24 08:00")
    data = json.loads(ok(cli, "--json", "shift", "show", "1").stdout)
    assert (data["status"], data["refuse_reason"]) == ("refused", "投诉待办没说清")
    assert "already refused" in refused(cli, desk_team, "--as", "刘洋", "shift", "take", "1")
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "赵敏", "--at", "2026-11-24 08:10", *CHECKS)
    assert desk_team.scalar("SELECT count(*) FROM audit_entry WHERE action LIKE 'shift.%'") == 3


def test_review_the_day(cli, desk_team):
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", AT, *CHECKS)
    ok(cli, "--as", "刘洋", "shift", "hand", "--to", "赵敏", "--at", "2026-11-23 19:58", *CHECKS)
    assert "supervisor or above" in refused(cli, desk_team, "--as", "王芳", "shift", "review", "today")
    assert "wait to be taken: #1" in refused(cli, desk_team, "--as", "李娜", "shift", "review", "today")
    assert "no handovers were made on 2026-11-22" in refused(cli, desk_team, "--as", "李娜", "shift", "review", "2026-11-22")
    assert "future" in refused(cli, desk_team, "--as", "李娜", "shift", "review", "2026-11-25")
    ok(cli, "--as", "刘洋", "shift", "take", "1")
    result = ok(cli, "--as", "李娜", "--json", "shift", "review", "today")
    data = json.loads(result.stdout)
    assert data["reviewed"] == [1] and data["taken"] == 1 and data["late"] == 1  # taken at 10:00, 2h05 after
    assert "already reviewed by 李娜" in refused(cli, desk_team, "--as", "张强", "shift", "review", "today")
    listed = json.loads(ok(cli, "--json", "shift", "list", "--date", "today").stdout)
    assert listed["total"] == 1 and listed["items"][0]["reviewed"] is True
    assert desk_team.scalar("SELECT count(*) FROM audit_entry WHERE action = 'shift.review'") == 1


def test_list_pending_and_by_date(cli, desk_team):
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", AT, *CHECKS)
    ok(cli, "--as", "刘洋", "shift", "hand", "--to", "赵敏", "--at", "2026-11-23 19:58", *CHECKS)
    ok(cli, "--as", "赵敏", "shift", "take", "2", "--at", "2026-11-23 20:03")
    data = json.loads(ok(cli, "--json", "shift", "list").stdout)
    assert set(data) == {"items", "total"} and data["total"] == 2
    assert [r["id"] for r in data["items"]] == [1, 2]  # newest first
    first = data["items"][0]
    assert (first["from_name"], first["to_name"], first["checks_ok"], first["checks_total"]) == ("王芳", "刘洋", 2, 3)
    assert [r["id"] for r in json.loads(ok(cli, "--json", "shift", "list", "--pending").stdout)["items"]] == [1]
    assert [r["id"] for r in json.loads(ok(cli, "--json", "shift", "list", "--date", "2026-11-23").stdout)["items"]] == [2]
    assert [r["id"] for r in json.loads(ok(cli, "--json", "shift", "list", "--person", "赵敏").stdout)["items"]] == [2]
    screen = ok(cli, "shift", "list").stdout
    assert "waiting to be taken late" in screen and "王芳" in screen
    cut = ok(cli, "shift", "list", "--limit", "1")
    assert "Showing 1 of 2" in cut.stderr


def test_chinese_screens(cli, desk_team, monkeypatch):
    monkeypatch.delenv("CSDESK_LANG")
    result = cli("--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", AT, *CHECKS)
    assert result.exit_code == 0 and "已交班给 刘洋" in result.stderr
    monkeypatch.setenv("COLUMNS", "80")
    screen = ok(cli, "shift", "list").stdout
    assert "待接班" in screen and "交班人" in screen
    assert all(len(line) <= 80 for line in screen.splitlines())
    shown = ok(cli, "shift", "show", "1").stdout
    assert "交接班 #1" in shown and "检查项" in shown
    long = "晚高峰来电较多，已全部登记；有一位客户情绪激动，已安抚，需跟进，明早九点前回电确认" * 2
    ok(cli, "--as", "赵敏", "shift", "hand", "--to", "刘洋", "--at", "2026-11-23 19:55", "--note", long, *CHECKS)
    today = ok(cli, "--as", "刘洋", "today").stdout
    assert "等你接班的交接 (2)" in today and all(len(line) <= 80 for line in today.splitlines())
    assert "赵敏" in today and "11-23 19:55" in today  # the person and the time are never cut for the note
    error = cli("--as", "赵敏", "shift", "take", "1")
    assert error.exit_code == 1 and error.stderr.startswith("错误：") and "刘洋" in error.stderr


# -- today and the reminder run --------------------------------------------------------------------

def test_today_shows_a_handover_waiting_for_you(cli, desk_team):
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", AT, "--note", "线路 [/bold] 杂音", *CHECKS)
    data = json.loads(ok(cli, "--as", "刘洋", "--json", "today").stdout)
    assert [(h["id"], h["from_name"]) for h in data["handovers"]] == [(1, "王芳")]
    screen = ok(cli, "--as", "刘洋", "today").stdout
    assert "Shift handovers waiting for you (1)" in screen and "线路 [/bold] 杂音" in screen
    assert json.loads(ok(cli, "--as", "王芳", "--json", "today").stdout)["handovers"] == []
    ok(cli, "--as", "刘洋", "shift", "take", "1")
    assert "Shift handovers" not in ok(cli, "--as", "刘洋", "today").stdout


def _run(db, now):
    from csdesk import config as cfg
    from csdesk.workflows.reminders import remind_run

    return remind_run(db.database, cfg.load(db.path), now)


def test_reminder_run_announces_an_untaken_handover_and_a_refusal_exactly_once(cli, desk_team):
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", "2026-11-24 09:50", *CHECKS)
    ok(cli, "--as", "刘洋", "shift", "hand", "--to", "赵敏", "--at", "2026-11-24 07:50", *CHECKS)
    ok(cli, "--as", "赵敏", "shift", "refuse", "2", "--reason", "设备故障未说明", "--at", "2026-11-24 07:58")

    def shift_notices(result):
        return sorted((n.kind, n.entity_id, n.recipient) for n in result.notices if n.kind.startswith("shift_"))

    # At 10:00 #1 is 10 minutes old: not yet; the refusal goes to 赵敏's supervisor and to 刘洋.
    assert shift_notices(_run(desk_team, NOW)) == [("shift_refused", 2, "刘洋"), ("shift_refused", 2, "李娜")]
    later = NOW + timedelta(minutes=25)
    assert shift_notices(_run(desk_team, later)) == [
        ("shift_untaken", 1, "刘洋"), ("shift_untaken", 1, "李娜"), ("shift_untaken", 1, "王芳")]
    assert shift_notices(_run(desk_team, later + timedelta(hours=3))) == []
    assert desk_team.scalar("SELECT count(*) FROM notice WHERE kind LIKE 'shift_%'") == 5
    message = desk_team.scalar("SELECT message FROM notice WHERE kind = 'shift_untaken' LIMIT 1")
    assert "#1" in message and "王芳" in message and "刘洋" in message


def test_a_handover_taken_in_time_is_never_announced(cli, desk_team):
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", "2026-11-24 09:00", *CHECKS)
    ok(cli, "--as", "刘洋", "shift", "take", "1", "--at", "2026-11-24 09:10")
    assert not [n for n in _run(desk_team, NOW + timedelta(hours=1)).notices if n.kind.startswith("shift_")]


# -- the installed command ---------------------------------------------------------------------------

def test_installed_command_hands_and_takes(tmp_path):
    import os

    from tests.test_e2e import csdesk_command

    db = str(tmp_path / "shift.db")
    env = {k: v for k, v in os.environ.items() if k not in ("CSDESK_DB", "CSDESK_AGENT")}

    def run(*args, code=0):
        proc = subprocess.run(csdesk_command() + ["--db", db, *args], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == code, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        return proc

    run("init")
    run("staff", "add", "李娜", "--role", "supervisor")
    run("--as", "李娜", "staff", "add", "王芳", "--role", "specialist", "--reports-to", "李娜")
    run("--as", "李娜", "staff", "add", "刘洋", "--role", "specialist", "--reports-to", "李娜")
    assert run("--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", "today 09:00", *CHECKS).stdout.strip() == "1"
    refusal = run("--as", "王芳", "shift", "take", "1", code=1)
    assert refusal.stderr.startswith("Error: ") and len(refusal.stderr.strip().splitlines()) == 1
    run("--as", "刘洋", "shift", "take", "1")
    data = json.loads(run("--json", "shift", "list").stdout)
    assert data["total"] == 1 and data["items"][0]["status"] == "taken"


def test_shift_window_is_the_nearest_change_of_shift():
    from csdesk import config
    from csdesk.workflows.shift_rules import load_shift_rules, shift_window

    rules = load_shift_rules(config.Settings(config.DEFAULTS))
    for at, end in [(datetime(2026, 11, 24, 20, 10, tzinfo=TZ), datetime(2026, 11, 24, 20, 0, tzinfo=TZ)),
                    (datetime(2026, 11, 24, 19, 40, tzinfo=TZ), datetime(2026, 11, 24, 20, 0, tzinfo=TZ)),
                    (datetime(2026, 11, 25, 0, 30, tzinfo=TZ), datetime(2026, 11, 24, 20, 0, tzinfo=TZ)),
                    (datetime(2026, 11, 25, 7, 0, tzinfo=TZ), datetime(2026, 11, 25, 8, 0, tzinfo=TZ))]:
        start, boundary, next_end = shift_window(rules, at, TZ)
        assert boundary == end and start == end - timedelta(hours=12) and next_end == end + timedelta(hours=12)


def test_the_log_stays_when_the_callback_it_names_is_archived(cli, desk_team, tmp_path):
    """The open items refer to complaints and callbacks by id, without a foreign key: `db archive` moves a
    finished callback out, the handover keeps its line about it."""
    ok(cli, "--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678")
    ok(cli, "--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "2026-03-02 15:00", "--note", "报价回电",
       "--now", "2026-03-02 07:00")
    ok(cli, "--as", "王芳", "shift", "hand", "--to", "刘洋", "--at", "2026-03-02 07:50", *CHECKS)
    ok(cli, "--as", "王芳", "callback", "done", "1", "--reached", "--at", "2026-03-02 15:00", "--now", "2026-03-02 15:05")
    ok(cli, "--as", "张强", "db", "archive", "--before", "2026-07-01", "--to", str(tmp_path / "a.db"))
    assert desk_team.scalar("SELECT count(*) FROM callback") == 0
    items = json.loads(ok(cli, "--json", "shift", "show", "1").stdout)["items"]
    assert [(i["kind"], i["ref_id"]) for i in items] == [("promise", 1)] and "报价回电" in items[0]["text"]
