"""Issue 13/12 in the project, adjust and payment commands: what a user types and sees. Every refusal is
one `Error:` line on stderr, exit 1, and the database unchanged. NOW = Tue 2026-11-24 10:00 Shanghai."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def desk(team, cli):
    """Customer 张伟 (C000001); P000001 (¥100,000, 王芳's) signed 2026-07-01, handed over 11-10, one adjustment #1."""
    assert cli("--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678").exit_code == 0
    assert cli("--as", "王芳", "project", "add", "望京SOHO 12层精装", "--customer", "C000001", "--contract", "10万",
               "--signed", "2026-07-01").exit_code == 0
    assert cli("--as", "王芳", "project", "handover", "P000001", "--at", "2026-11-10 16:00").exit_code == 0
    assert cli("--as", "王芳", "adjust", "add", "--project", "P000001", "--item", "灯带不亮", "--responsible", "install").exit_code == 0
    return team


def refused(team, cli, args, first_line: str | None = None, contains: str | None = None) -> str:
    before = team.dump()
    result = cli(*args)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: ") and "Traceback" not in result.stderr
    assert all(line.startswith("Hint: ") for line in lines[1:])
    if first_line is not None:
        assert lines[0] == first_line
    if contains is not None:
        assert contains in lines[0], lines[0]
    assert team.dump() == before, "a refused command changed the database"
    return lines[0]


def test_adjust_edit_from_the_command_line(desk, cli):
    r = cli("--as", "王芳", "adjust", "edit", "1", "--item", "客厅灯带不亮", "--due", "2026-12-05", "--responsible", "supplier",
            "--cost", "¥1,200")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "Updated adjustment #1 of P000001.\n")
    data = json.loads(cli("--json", "adjust", "list", "--project", "P000001").stdout)["items"][0]
    assert (data["item"], data["due_on"], data["responsible"], data["cost"], data["payer"]) == (
        "客厅灯带不亮", "2026-12-05", "supplier", "1200.00", "company")
    r = cli("--as", "王芳", "--json", "adjust", "edit", "1", "--payer", "contractor")
    assert json.loads(r.stdout)["payer"] == "contractor"
    trail = json.loads(cli("--json", "audit", "--entity", "adjustment:1").stdout)["items"]
    assert [a["action"] for a in trail].count("adjustment.edit") == 2


@pytest.mark.parametrize("args, text", [
    (["adjust", "edit", "9"], "Error: no adjustment #9"),
    (["adjust", "edit", "1"], "Error: nothing to change (give at least one new value)"),
    (["adjust", "edit", "1", "--due", "2026-13-01"], None),
    (["adjust", "edit", "1", "--due", "2026-11-01"], "Error: the due date 2026-11-01 is before adjustment #1 was reported (2026-11-24)"),
    (["adjust", "edit", "1", "--cost", "abc"], None),
    (["adjust", "edit", "1", "--cost", "-5"], None),
    (["adjust", "edit", "1", "--responsible", "plumber"], None),
    (["adjust", "edit", "1", "--item", ""], "Error: the item cannot be empty"),
    (["adjust", "edit", "1", "--payer", "company"], "Error: --payer goes with a cost (give --cost too)"),
    (["adjust", "add", "--project", "P000001", "--item", "x", "--on", "2026-11-25"], None),
    (["adjust", "add", "--project", "P000001", "--item", "x", "--on", "2026-11-09"], None),
    (["adjust", "done", "1", "--at", "tomorrow"], None),
    (["adjust", "done", "1", "--at", "2026-11-23 10:00"], None),
    (["adjust", "accept", "1"], None),
    (["payment", "record", "P000009", "--amount", "100"], None),
    (["payment", "record", "P000001", "--amount", "12x"], None),
    (["payment", "record", "P000001", "--amount", "100", "--at", "+2d"], None),
    (["payment", "plan", "P000001", "--split", "a:33.33%:sign, b:33.33%:sign, c:33.33%:sign"], None),
    (["payment", "plan", "P000001", "--split", "a:50%:2026-06-30, b:50%:accept"], None),
    (["payment", "chase", "P000001", "--step", "call", "--at", "+1h"], None),
    (["project", "handover", "P000009"], None),
    (["project", "accept", "P000001", "--at", "2027-01-01"], None),
    (["project", "assign", "P000001", "张强"], "Error: giving P000001 to 张强 (manager) needs its owner or someone above a manager; 李娜 is a supervisor"),
])
def test_bad_input_is_one_error_line_and_changes_nothing(desk, cli, args, text):
    who = "李娜" if args[:2] == ["project", "assign"] else "王芳"
    refused(desk, cli, ["--as", who, *args], text)


def test_project_assign_refused_to_a_specialist_and_allowed_to_the_owner(desk, cli):
    assert cli("--as", "李娜", "staff", "add", "赵敏", "--role", "specialist", "--reports-to", "李娜").exit_code == 0
    refused(desk, cli, ["--as", "赵敏", "project", "assign", "P000001", "赵敏"],
            "Error: P000001 is owned by 王芳 (specialist); only the owner or someone above a specialist can give it to "
            "another owner, and 赵敏 is a specialist")
    refused(desk, cli, ["--as", "赵敏", "project", "edit", "P000001", "--owner", "赵敏"])
    r = cli("--as", "王芳", "project", "assign", "P000001", "赵敏")
    assert r.exit_code == 0 and "now owned by 赵敏" in r.stderr


def test_aging_as_of_last_july_for_a_plan_typed_in_today(desk, cli):
    assert cli("--as", "王芳", "payment", "plan", "P000001", "--split", "首款:30%:sign, 尾款:70%:2026-08-15").exit_code == 0
    assert cli("--as", "王芳", "payment", "record", "P000001", "--amount", "3万", "--at", "2026-07-20 15:00").exit_code == 0
    july = json.loads(cli("--json", "payment", "aging", "--as-of", "2026-07-10").stdout)["total"]
    assert (july["days_0_30"], july["not_due"], july["outstanding"]) == ("30000.00", "70000.00", "100000.00")
    september = json.loads(cli("--json", "payment", "aging", "--as-of", "2026-09-30").stdout)["total"]
    assert (september["days_31_60"], september["outstanding"]) == ("70000.00", "70000.00")
    text = cli("payment", "aging", "--as-of", "2026-07-10").stdout
    assert "Aging as of 2026-07-10" in text and "¥30,000.00" in text


def test_adjustments_typed_in_late_keep_their_days(desk, cli):
    r = cli("--as", "王芳", "adjust", "add", "--project", "P000001", "--item", "踢脚线脱落", "--on", "2026-11-12")
    assert r.exit_code == 0 and "in warranty, due 2026-11-19" in r.stderr
    assert cli("--as", "王芳", "adjust", "done", "2", "--at", "2026-11-13 17:00").exit_code == 0
    assert cli("--as", "王芳", "adjust", "accept", "2", "--at", "2026-11-14 09:30").exit_code == 0
    shown = json.loads(cli("--json", "project", "show", "P000001").stdout)["adjustments"][1]
    assert (shown["reported_on"], shown["done_at"], shown["verdict_at"], shown["status"]) == (
        "2026-11-12", "2026-11-13T17:00:00+08:00", "2026-11-14T09:30:00+08:00", "accepted")


def test_dunning_in_order_and_a_managers_skip_shown_in_the_history(desk, cli):
    assert cli("--as", "王芳", "payment", "plan", "P000001", "--split", "首款:30%:sign, 尾款:70%:2026-10-01").exit_code == 0
    refused(desk, cli, ["--as", "李娜", "payment", "chase", "P000001", "--step", "notice", "--instalment", "尾款"],
            "Error: 尾款 of P000001 has had no reminder, call by 2026-11-24 10:00; the dunning ladder goes "
            "in order, so a notice cannot come first")
    assert cli("--as", "王芳", "payment", "chase", "P000001", "--step", "reminder", "--instalment", "尾款", "--at", "2026-10-02").exit_code == 0
    r = cli("--as", "张强", "payment", "chase", "P000001", "--step", "notice", "--instalment", "尾款", "--note", "EMS 寄出",
            "--skip", "--reason", "客户电话停机")
    assert (r.exit_code, r.stderr) == (0, "Recorded notice on P000001 for 尾款, skipping call.\n")
    text = cli("project", "show", "P000001").stdout
    assert "EMS 寄出 (skipped call: 客户电话停机)" in text
    history = json.loads(cli("--json", "project", "show", "P000001").stdout)["dunning"]
    assert [(h["step"], h["skipped"], h["skip_reason"]) for h in history] == [
        ("reminder", [], None), ("notice", ["call"], "客户电话停机")]
