"""`csdesk complaint …` through the CLI: what each command prints, and that refusals change nothing.

Clock: Tue 2026-11-24 10:00 Asia/Shanghai. A normal complaint opened then: first response due 15:30
(10:00–12:00, 13:30–15:30), resolution due Fri 11-27 11:30 (Tue 6.5 h, Wed 14, Thu 21.5, Fri 2.5).
"""

from __future__ import annotations

import json

import pytest

PHONE = "13812345678"


@pytest.fixture
def desk(team, cli):
    assert cli("--as", "王芳", "customer", "add", "张伟", "--phone", PHONE).exit_code == 0
    return team


def run(cli, *args, who="王芳"):
    return cli("--as", who, "complaint", *args) if who else cli("complaint", *args)


def open_one(cli, *extra, severity="normal", who="王芳"):
    result = run(cli, "open", "--phone", PHONE, "--severity", severity, "--category", "quality", "--summary", "墙面开裂", *extra, who=who)
    assert result.exit_code == 0, result.stderr
    return int(result.stdout)


def refused(cli, db, args, message, who="王芳", code=1):
    before = db.dump()
    result = run(cli, *args, who=who)
    assert result.exit_code == code, result.stdout + result.stderr
    assert message in result.stderr
    if code == 1:
        assert result.stderr.startswith("Error: ")
        assert "Traceback" not in result.stderr
    assert db.dump() == before
    return result


def test_open(desk, cli):
    result = run(cli, "open", "--phone", "138-1234-5678", "--severity", "normal", "--category", "quality", "--summary", "墙面开裂")
    assert result.exit_code == 0
    assert result.stdout == "1\n"
    assert result.stderr == (
        "Opened complaint #1 for C000001 张伟: normal, quality, L1 specialist, assigned to 王芳; "
        "first response due 2026-11-24 15:30; resolution due 2026-11-27 11:30.\n"
    )
    data = json.loads(run(cli, "open", "--customer", "C000001", "--severity", "major", "--category", "delay",
                          "--summary", "交付延误", "--at", "today 9:30", "--json").stdout)
    assert (data["id"], data["level"], data["assignee"], data["owner"]) == (2, 3, "张强", "王芳")
    assert data["opened_at"] == "2026-11-24T09:30:00+08:00"
    assert data["first_response_due"] == "2026-11-24T10:30:00+08:00"


def test_open_refusals(desk, cli):
    refused(cli, desk, ["open", "--phone", PHONE, "--category", "quality", "--summary", "x"], "Error: say how serious it is: --severity")
    refused(cli, desk, ["open", "--phone", PHONE, "--customer", "C000001", "--severity", "normal", "--category", "quality",
                        "--summary", "x"], "give --phone or --customer, not both")
    refused(cli, desk, ["open", "--phone", "13700000000", "--severity", "normal", "--category", "quality", "--summary", "x"],
            "Error: no customer with phone 137 0000 0000")
    refused(cli, desk, ["open", "--phone", PHONE, "--severity", "normal", "--category", "noise", "--summary", "x"],
            "Error: unknown category 'noise' (use one of: quality, installation, attitude, delay, billing, other)")
    refused(cli, desk, ["open", "--phone", PHONE, "--severity", "normal", "--category", "quality", "--summary", "x", "--at", "tomorrow"],
            "cannot be in the future")
    refused(cli, desk, ["open", "--phone", PHONE, "--severity", "normal", "--category", "quality", "--summary", "x"],
            "nobody is acting", who=None)
    refused(cli, desk, ["open", "--phone", PHONE, "--severity"], "requires an argument", code=2)


def test_list(desk, cli):
    first = open_one(cli)
    second = open_one(cli, "--at", "today 9:00", severity="serious")  # first response due 11:00
    result = run(cli, "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    rows = [line.split() for line in lines if line.strip()[:1].isdigit()]
    assert [r[0] for r in rows] == [str(second), str(first)]
    assert "11-24 11:00 resp." in result.stdout and " 1h00m " in result.stdout
    assert result.stderr == "2 complaints.\n"
    data = json.loads(run(cli, "list", "--assignee", "me", "--json").stdout)
    assert [(r["id"], r["next_due"], r["business_left"]) for r in data["items"]] == [
        (second, "2026-11-24T11:00:00+08:00", "1h00m left"), (first, "2026-11-24T15:30:00+08:00", "4h00m left")]
    assert json.loads(run(cli, "list", "--due-within", "1h30m", "--json").stdout)["total"] == 1
    assert json.loads(run(cli, "list", "--overdue", "--json").stdout)["total"] == 0
    assert json.loads(run(cli, "list", "--severity", "较重", "--level", "1", "--json").stdout)["items"][0]["id"] == second
    refused(cli, desk, ["list", "--assignee", "me"], "nobody is acting", who=None)
    refused(cli, desk, ["list", "--status", "pending"], "unknown status 'pending'")
    refused(cli, desk, ["list", "--level", "9"], "--level must be from 1 to 4")
    refused(cli, desk, ["list", "--due-within", "soon"], "is not a duration")


def test_show(desk, cli):
    cid = open_one(cli)
    assert run(cli, "ack", str(cid), "--note", "已致电客户", "--at", "today 10:00").exit_code == 0
    result = run(cli, "show", str(cid))
    assert result.exit_code == 0
    out = result.stdout
    assert "Complaint #1  acknowledged  L1 specialist  normal  quality" in out
    assert "Owner       王芳 (first contact)" in out
    assert "first response " in out and "4h00m to spare" in out  # the severity is in the heading
    assert "resolution L1 " in out and "2026-11-27 11:30" in out and "24h00m left" in out
    assert "opened" in out and "first response" in out and "立案" not in out and "已致电客户" in out
    data = json.loads(run(cli, "show", str(cid), "--json").stdout)
    assert [e["kind"] for e in data["events"]] == ["opened", "acknowledged"]
    assert [(d["clock"], d["state"], d["due"]) for d in data["deadlines"]] == [
        ("first_response", "met", "2026-11-24T15:30:00+08:00"), ("resolution", "running", "2026-11-27T11:30:00+08:00")]
    refused(cli, desk, ["show", "99"], "Error: no complaint #99")
    refused(cli, desk, ["show", "first"], "Invalid value", code=2)


def test_sla_explains_the_arithmetic(desk, cli):
    cid = open_one(cli, "--at", "2026-11-20 17:30")  # a Friday evening
    result = run(cli, "sla", str(cid))
    assert result.exit_code == 0
    out = result.stdout.splitlines()
    assert out[1] == "Business hours: Asia/Shanghai; Mon–Fri 09:00-12:00, 13:30-18:00; public holidays and make-up workdays (调休) of CN"
    assert "  Opened 2026-11-20 17:30 (Fri); business time allowed: 4h00m" in out
    assert "  2026-11-21 (Sat) skipped: weekend" in out
    assert "  Deadline: 2026-11-23 14:00 (Mon) (2026-11-23 06:00 UTC)" in out
    # Used by now (Tue 10:00): Fri 0.5 h + Mon 7.5 h + Tue 1 h = 9 h.
    assert "  → BREACHED: deadline 2026-11-23 14:00 passed; 9h00m used of 4h00m, overdue 5h00m (business time)" in out
    sections = json.loads(run(cli, "sla", str(cid), "--json").stdout)["sections"]
    assert [title for title, _ in sections] == [
        "first response (normal), from 2026-11-20 17:30", "resolution at L1 specialist, from 2026-11-20 17:30"]
    refused(cli, desk, ["sla", "7"], "no complaint #7")


def test_ack_and_note(desk, cli):
    cid = open_one(cli)
    result = run(cli, "ack", str(cid))
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "Complaint #1 acknowledged; resolution due 2026-11-27 11:30.\n"
    refused(cli, desk, ["ack", str(cid)], "Error: complaint #1 was already acknowledged at 2026-11-24 10:00")
    result = run(cli, "note", str(cid), "客户要求周末上门")
    assert (result.exit_code, result.stderr) == (0, "Note added to complaint #1.\n")
    refused(cli, desk, ["note", str(cid), "  "], "Error: the note is empty")


def test_assign(desk, cli):
    cid = open_one(cli)
    result = run(cli, "assign", str(cid), "李娜")
    assert (result.exit_code, result.stderr) == (0, "Complaint #1 is now assigned to 李娜.\n")
    refused(cli, desk, ["assign", str(cid), "无名氏"], "Error: no staff member named '无名氏'")
    refused(cli, desk, ["assign", str(cid), "张强", "--owner"], "needs a supervisor or above")
    result = run(cli, "assign", str(cid), "张强", "--owner", who="李娜")
    assert (result.exit_code, result.stderr) == (0, "Complaint #1 is now owned by 张强.\n")


def test_hold_and_resume(desk, cli):
    cid = open_one(cli)
    run(cli, "ack", str(cid))
    refused(cli, desk, ["hold", str(cid), "--reason", "x", "--at", "today 10:30"], "the hold cannot be in the future (check --at)")
    result = run(cli, "hold", str(cid), "--reason", "等待厂家配件")
    assert (result.exit_code, result.stderr) == (0, "Complaint #1 is on hold; its clocks are stopped until it is resumed.\n")
    refused(cli, desk, ["hold", str(cid), "--reason", "again"], "Error: complaint #1 is already on hold")
    refused(cli, desk, ["resolve", str(cid), "--resolution", "x", "--at", "today 9:45"],
            "Error: the resolution at 2026-11-24 09:45 would come before complaint #1's last entry (2026-11-24 10:00)")
    # Resumed at the moment it was held: nothing moves.
    result = run(cli, "resume", str(cid))
    assert result.exit_code == 0
    assert result.stderr == "Complaint #1 resumed (acknowledged); resolution due 2026-11-27 11:30.\n"
    refused(cli, desk, ["resume", str(cid)], "Error: complaint #1 is acknowledged: cannot resume it (it is not on hold)")
    refused(cli, desk, ["hold", str(cid), "--reason", " "], "the reason (--reason) is empty")


def test_a_real_hold_moves_the_deadline(desk, cli):
    cid = open_one(cli)
    run(cli, "ack", str(cid))
    run(cli, "hold", str(cid), "--reason", "等待客户确认方案")
    result = cli("--as", "王芳", "--json", "complaint", "resume", str(cid), env={"CSDESK_NOW": "2026-11-26T10:30:00+08:00"})
    # Held Tue 10:00 → Thu 10:30, so all 24 h remain: Thu 6 h, Fri 13.5, Mon 21, Tue 12-01 09:00–12:00.
    assert json.loads(result.stdout)["resolution_due"] == "2026-12-01T12:00:00+08:00"


def test_escalate(desk, cli):
    cid = open_one(cli)
    result = run(cli, "escalate", str(cid), "--reason", "客户要求主管处理")
    assert (result.exit_code, result.stderr) == (0, "Complaint #1 escalated from level 1 to 2: 王芳 → 李娜.\n")
    data = json.loads(run(cli, "escalate", str(cid), "--reason", "重大", "--to", "4", "--json", who="李娜").stdout)
    assert (data["from_level"], data["to_level"], data["to_assignee"]) == (2, 4, "陈总")
    refused(cli, desk, ["escalate", str(cid), "--reason", "x"], "Error: complaint #1 is already at the top level (L4 director)")
    other = open_one(cli)
    refused(cli, desk, ["escalate", str(other), "--reason", "x", "--to", "1"], "--to must be a level from 2 to 4")
    refused(cli, desk, ["escalate", str(other)], "Missing option '--reason'", code=2)


def test_resolve_close_reopen(desk, cli):
    cid = open_one(cli)
    refused(cli, desk, ["close", str(cid)], "Error: complaint #1 is open: cannot close it before it is resolved")
    result = run(cli, "resolve", str(cid), "--resolution", "已修补墙面")
    assert (result.exit_code, result.stderr) == (0, "Complaint #1 resolved; it closes after a satisfied return visit.\n")
    refused(cli, desk, ["resolve", str(cid), "--resolution", "again"], "Error: complaint #1 is resolved: cannot resolve it")
    refused(cli, desk, ["close", str(cid)], "closed by a satisfied return visit, or by a supervisor with --without-visit --reason")
    refused(cli, desk, ["close", str(cid), "--without-visit", "--reason", "客户出国"], "needs a supervisor or above; 王芳 is a specialist")
    refused(cli, desk, ["close", str(cid), "--without-visit"], "the reason (--reason) is empty", who="李娜")
    result = run(cli, "close", str(cid), "--without-visit", "--reason", "客户出国，无法回访", who="李娜")
    assert (result.exit_code, result.stderr) == (0, "Complaint #1 closed.\n")
    refused(cli, desk, ["close", str(cid)], "Error: complaint #1 is already closed", who="李娜")
    result = run(cli, "reopen", str(cid), "--reason", "客户回国后反映裂缝复现")
    assert result.exit_code == 0
    # A new 24 h clock from now (Tue 10:00) at level 1.
    assert result.stderr == "Complaint #1 reopened at L1 specialist; resolution due 2026-11-27 11:30.\n"
    refused(cli, desk, ["reopen", str(cid), "--reason", "again"], "cannot reopen it (only resolved or closed complaints are reopened)")


def test_resolve_needs_the_complaints_level(desk, cli):
    cid = open_one(cli, severity="major")  # starts at the manager level
    refused(cli, desk, ["resolve", str(cid), "--resolution", "x"],
            "Error: complaint #1 is at L3 manager: resolving it needs a manager or above; 王芳 is a specialist")
    assert run(cli, "resolve", str(cid), "--resolution", "经理现场处理完毕", who="张强").exit_code == 0


def test_log_call_opens_a_complaint_and_customer_show_lists_it(desk, cli):
    result = cli("--as", "王芳", "log-call", "--phone", PHONE, "--kind", "complaint", "--summary", "安装师傅迟到",
                 "--open-complaint", "--severity", "serious", "--category", "installation")
    assert result.exit_code == 0, result.stderr
    assert "Opened complaint #1 (serious, installation), assigned to 王芳." in result.stderr
    assert result.stdout == "1\n" and "安装师傅迟到" in result.stderr  # the id on stdout, the brief on stderr
    shown = cli("customer", "show", PHONE)
    assert "Complaints" in shown.stdout and " open " in shown.stdout and "2026-11-24 12:00" in shown.stdout
    data = json.loads(run(cli, "show", "1", "--json").stdout)
    assert (data["complaint"]["call_id"], data["complaint"]["summary"]) == (1, "安装师傅迟到")
    before = desk.dump()
    result = cli("--as", "王芳", "log-call", "--phone", PHONE, "--kind", "inquiry", "--summary", "问保修", "--open-complaint")
    assert (result.exit_code, result.stderr) == (1, "Error: --open-complaint is for complaint calls (--kind complaint)\n")
    assert desk.dump() == before


@pytest.mark.parametrize("command", ["open", "list", "show", "sla", "ack", "note", "assign", "hold", "resume", "escalate",
                                     "resolve", "close", "reopen"])
def test_every_command_has_help_with_an_example(cli, command):
    result = cli("complaint", command, "--help")
    assert result.exit_code == 0
    assert "Example: csdesk" in result.stdout


def test_list_fits_an_80_column_terminal(desk, cli, monkeypatch):
    from rich.cells import cell_len

    first = open_one(cli)
    run(cli, "open", "--phone", PHONE, "--severity", "serious", "--category", "quality", "--at", "-3d",
        "--summary", "安装工人迟到两小时，客户要求道歉并减免部分安装费用", who="王芳")
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("--lang", "zh", "complaint", "list")  # Chinese (the default) at 80 columns; English waits for table() fitting
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and max(cell_len(line) for line in lines) <= 80
    assert str(first) in result.stdout and "C000001" in result.stdout and "王芳" in result.stdout
    assert "超时 " in result.stdout  # the one opened three days ago is past its deadline, and says so
    assert "安装工人迟到" in result.stdout and "…" in result.stdout  # a long summary is cut, on one line
    assert "类别" not in result.stdout  # the category column gives way below 100 columns
    monkeypatch.setenv("COLUMNS", "120")
    assert "类别" in cli("--lang", "zh", "complaint", "list").stdout
