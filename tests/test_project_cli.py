"""The project, adjust and payment commands through the CLI: what a user types and sees, exit codes,
--json, refusals that change nothing, and the demo's projects. NOW = Tue 2026-11-24 10:00 Shanghai."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def desk(team, cli):
    """The team, customer 张伟 (C000001) and project P000001 (¥100,000) with the usual plan."""
    assert cli("--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678").exit_code == 0
    r = cli("--as", "王芳", "project", "add", "望京SOHO 12层精装", "--customer", "138 1234 5678", "--contract", "10万",
            "--signed", "2026-06-01", "--site", "朝阳区望京街10号")
    assert (r.exit_code, r.stdout) == (0, "P000001\n"), r.stderr
    r = cli("--as", "王芳", "payment", "plan", "P000001", "--split", "首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d")
    assert r.exit_code == 0, r.stderr
    return team


def refused(result, first_line: str | None = None) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: ") and "Traceback" not in result.stderr
    assert all(l.startswith("Hint: ") for l in lines[1:])
    if first_line is not None:
        assert lines[0] == first_line
    return lines[0]


def test_add_and_show_a_project(desk, cli):
    r = cli("--json", "project", "show", "P000001")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    p = data["project"]
    assert (p["code"], p["stage"], p["owner"], p["contract"], p["customer_code"]) == ("P000001", "signed", "王芳", "100000.00", "C000001")
    assert [(i["name"], i["amount"], i["due_on"], i["status"]) for i in data["instalments"]] == [
        ("首款", "30000.00", "2026-06-01", "overdue"), ("二期款", "40000.00", None, "pending"), ("尾款", "30000.00", None, "pending")]
    assert [d["step"] for d in data["next_steps"]] == ["reminder", "call", "notice", "lawyer"]
    text = cli("project", "show", "P000001").stdout
    assert "P000001 望京SOHO 12层精装  signed" in text
    assert "contract ¥100,000.00 · paid ¥0.00 · outstanding ¥100,000.00\n  Overdue: ¥30,000.00" in text
    assert "首款" in text and "overdue 176 days" in text  # 2026-06-01 → 2026-11-24


def test_the_whole_lifecycle_from_the_command_line(desk, cli):
    assert cli("--as", "王芳", "payment", "record", "P000001", "--amount", "¥30,000", "--ref", "流水001").stdout == "1\n"
    r = cli("--as", "王芳", "project", "handover", "P000001", "--at", "2026-11-10 16:00")
    assert r.exit_code == 0 and "warranty until 2028-11-10" in r.stderr
    r = cli("--as", "王芳", "adjust", "add", "--project", "P000001", "--item", "主卧衣柜门关不严", "--responsible", "install")
    assert (r.exit_code, r.stdout) == (0, "1\n")
    assert "in warranty, due 2026-12-01" in r.stderr
    refused(cli("--as", "王芳", "project", "accept", "P000001"),
            "Error: P000001 has 1 open adjustment(s): #1 主卧衣柜门关不严; it cannot be accepted yet")
    assert cli("--as", "王芳", "adjust", "done", "1", "--cost", "800").exit_code == 0
    r = cli("--as", "王芳", "adjust", "reject", "1", "--reason", "门缝仍然过大")
    assert "rejected (1×); it is open again" in r.stderr
    assert cli("--as", "王芳", "adjust", "done", "1").exit_code == 0
    assert cli("--as", "王芳", "adjust", "accept", "1").exit_code == 0
    assert cli("--as", "王芳", "payment", "record", "P000001", "--amount", "4万", "--instalment", "二期款").exit_code == 0
    r = cli("--as", "王芳", "project", "accept", "P000001", "--at", "2026-11-20 10:00")
    assert r.exit_code == 0 and "accepted; stage accepted" in r.stderr
    r = cli("--as", "王芳", "payment", "record", "P000001", "--amount", "30000")
    assert r.exit_code == 0
    assert "尾款 ¥30,000.00 — the project is settled." in r.stderr
    assert cli("--as", "王芳", "project", "archive", "P000001").exit_code == 0
    data = json.loads(cli("--json", "project", "list").stdout)
    assert data["total"] == 1
    assert (data["items"][0]["stage"], data["items"][0]["outstanding"]) == ("archived", "0.00")


def test_refusals_leave_the_database_unchanged(desk, cli):
    before = desk.dump()
    refused(cli("--as", "王芳", "payment", "record", "P000001", "--amount", "100001"),
            "Error: ¥100,001.00 is more than the ¥100,000.00 still owed on P000001")
    refused(cli("--as", "王芳", "payment", "record", "P000001", "--amount", "12.345"))
    refused(cli("--as", "王芳", "payment", "record", "P000001", "--amount", "-5"))
    refused(cli("--as", "王芳", "payment", "plan", "P000001", "--replace", "--split", "首款:30%:sign, 尾款:60%:accept"))
    refused(cli("--as", "王芳", "project", "add", "x", "--customer", "C000001", "--contract", "1.2.3"))
    refused(cli("--as", "王芳", "project", "accept", "P000001"),
            "Error: P000001 is signed; only a handed-over project can be accepted")
    refused(cli("--as", "王芳", "payment", "chase", "P000001", "--step", "lawyer"),
            "Error: a lawyer step needs a manager or above; 王芳 is a specialist")
    refused(cli("--as", "王芳", "payment", "reverse", "1", "--reason", "x"))
    refused(cli("--as", "王芳", "project", "show", "P000009"))
    refused(cli("--as", "王芳", "adjust", "add", "--project", "P000001", "--item", "x"))
    refused(cli("payment", "aging", "--by", "city"))
    assert desk.dump() == before


def test_overpayment_needs_allow_overpay(desk, cli):
    r = cli("--as", "王芳", "--json", "payment", "record", "P000001", "--amount", "100200", "--allow-overpay", "--method", "cheque")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert (data["amount"], data["credit"], data["method"]) == ("100200.00", "200.00", "cheque")
    assert [a["amount"] for a in data["allocations"]] == ["30000.00", "40000.00", "30000.00"]


def test_reverse_a_payment(desk, cli):
    assert cli("--as", "王芳", "payment", "record", "P000001", "--amount", "3000").exit_code == 0
    r = cli("--as", "李娜", "payment", "reverse", "1", "--reason", "金额录错")
    assert (r.exit_code, r.stdout) == (0, "2\n")
    assert "Reversed payment #1 with #2 (-¥3,000.00) on P000001." in r.stderr
    shown = cli("project", "show", "P000001").stdout
    assert "reversed by #2" in shown and "reverses #1: 金额录错" in shown


def test_chase_and_the_dunning_history(desk, cli):
    refused(cli("--as", "王芳", "payment", "chase", "P000001", "--step", "call"),
            "Error: 首款 of P000001 has had no reminder by 2026-11-24 10:00; "
            "the dunning ladder goes in order, so a call cannot come first")
    assert cli("--as", "王芳", "payment", "chase", "P000001", "--step", "reminder", "--at", "2026-06-02 10:00").exit_code == 0
    r = cli("--as", "王芳", "payment", "chase", "P000001", "--step", "call", "--note", "客户答应周五前付")
    assert r.exit_code == 0 and "Recorded call on P000001 for 首款." in r.stderr
    refused(cli("--as", "张强", "payment", "chase", "P000001", "--step", "lawyer", "--at", "today 09:00"))
    refused(cli("--as", "李娜", "payment", "chase", "P000001", "--step", "notice", "--skip", "--reason", "x"),
            "Error: skipping dunning steps needs a manager or above; 李娜 is a supervisor")
    r = cli("--as", "张强", "payment", "chase", "P000001", "--step", "lawyer", "--at", "today 09:00", "--skip", "--reason", "客户失联")
    assert r.exit_code == 0 and "skipping call, notice" in r.stderr, r.stderr
    data = json.loads(cli("--json", "project", "show", "P000001").stdout)
    assert [(s["step"], s["by"]) for s in data["dunning"]] == [("reminder", "王芳"), ("lawyer", "张强"), ("call", "王芳")]
    assert data["dunning"][1]["at"] == "2026-11-24T09:00:00+08:00"
    entry = json.loads(cli("--json", "audit", "--entity", "collection_step:3").stdout)["items"][0]
    assert (entry["after"]["skipped"], entry["after"]["reason"]) == (["call", "notice"], "客户失联")
    assert data["next_steps"] == []  # the lawyer's letter is the last rung


def test_payment_list_and_aging(desk, cli):
    cli("--as", "王芳", "project", "add", "别墅软装", "--customer", "C000001", "--contract", "50000")
    cli("--as", "王芳", "payment", "plan", "P000002", "--split", "首款:20000:2026-12-10, 尾款:30000:2027-03-01")
    data = json.loads(cli("--json", "payment", "list", "--overdue").stdout)
    assert [(i["project_code"], i["name"], i["days_overdue"]) for i in data["items"]] == [("P000001", "首款", 176)]
    data = json.loads(cli("--json", "payment", "list", "--due-within", "30d").stdout)
    assert [(i["project_code"], i["name"], i["due_on"]) for i in data["items"]] == [("P000002", "首款", "2026-12-10")]
    assert "P000002" in cli("payment", "list", "--due-within", "30").stdout
    aging = json.loads(cli("--json", "payment", "aging").stdout)
    # 首款 ¥30,000 due 2026-06-01 is 176 days overdue: 90+; the rest is not due (or not known yet)
    assert aging["total"]["days_90_plus"] == "30000.00"
    assert (aging["total"]["not_due"], aging["total"]["outstanding"]) == ("120000.00", "150000.00")
    # looking ahead: on 2026-12-20 P000002's 首款 (due 12-10) will be 10 days overdue
    by = json.loads(cli("--json", "payment", "aging", "--by", "project", "--as-of", "2026-12-20").stdout)
    assert [(r["key"], r["days_0_30"], r["days_90_plus"]) for r in by["rows"]] == [
        ("P000001", "0.00", "30000.00"), ("P000002", "20000.00", "0.00")]
    # looking back: the plan was typed in today, but on 2026-07-01 the project was signed and its 首款 30 days late
    back = json.loads(cli("--json", "payment", "aging", "--as-of", "2026-07-01").stdout)["total"]
    assert (back["days_0_30"], back["outstanding"]) == ("30000.00", "100000.00")
    # before the signing there was nothing to age
    assert json.loads(cli("--json", "payment", "aging", "--as-of", "2026-05-31").stdout)["total"]["outstanding"] == "0.00"
    text = cli("payment", "aging", "--by", "customer").stdout
    assert "C000001 张伟" in text and "Total" in text and "¥30,000.00" in text


def test_edit_assign_and_adjust_list(desk, cli):
    r = cli("--as", "李娜", "project", "assign", "P000001", "李娜")
    assert r.exit_code == 0 and "now owned by 李娜" in r.stderr
    audit = json.loads(cli("--json", "audit", "--entity", "project:1").stdout)["items"]
    assert any(a["action"] == "project.assign" for a in audit)
    cli("--as", "王芳", "project", "handover", "P000001", "--at", "-1d")
    cli("--as", "王芳", "adjust", "add", "--project", "P000001", "--item", "灯带不亮", "--due", "+2d")
    data = json.loads(cli("--json", "adjust", "list", "--open").stdout)
    assert [(a["item"], a["due_on"], a["in_warranty"]) for a in data["items"]] == [("灯带不亮", "2026-11-26", True)]
    assert json.loads(cli("--json", "adjust", "list", "--overdue").stdout)["total"] == 0
    text = cli("project", "list", "--owner", "李娜").stdout
    assert "P000001" in text and "handed over" in text


def test_customer_show_lists_projects_and_money_owed(desk, cli):
    text = cli("customer", "show", "C000001").stdout
    assert "Projects" in text and "P000001" in text
    assert "Money owed" in text and "首款" in text


@pytest.mark.parametrize("group", ["project", "adjust", "payment"])
def test_every_command_has_help_with_an_example(cli, group):
    from csdesk.cli import app
    from typer.main import get_command

    sub = get_command(app).commands[group]
    for name, command in sub.commands.items():
        assert "Example: csdesk" in (command.help or ""), f"{group} {name}"
        assert cli(group, name, "--help").exit_code == 0


def test_the_demo_has_projects_in_every_stage_and_money_in_every_state(cli, tmp_path):
    from sqlalchemy import create_engine, text

    path = tmp_path / "demo.db"
    r = cli("demo", "--db", str(path))
    assert r.exit_code == 0, r.stderr
    assert "projects:" in r.stdout
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        def all_(sql):
            return {row[0] for row in conn.execute(text(sql))}

        assert all_("SELECT DISTINCT stage FROM project") == {"signed", "handed_over", "accepted", "settled", "archived", "shelved"}
        assert all_("SELECT DISTINCT status FROM adjustment") >= {"open", "done", "rejected", "accepted"}
        assert all_("SELECT DISTINCT step FROM collection_step") == {"reminder", "call", "notice", "lawyer"}
        assert conn.execute(text("SELECT count(*) FROM payment WHERE kind = 'reversal'")).scalar() >= 1
        assert conn.execute(text("SELECT count(*) FROM instalment WHERE paid_fen = amount_fen")).scalar() > 10
        assert conn.execute(text("SELECT count(*) FROM instalment WHERE paid_fen < amount_fen AND due_on IS NOT NULL")).scalar() > 5
        assert conn.execute(text("SELECT count(*) FROM instalment WHERE due_on IS NULL")).scalar() >= 1
    engine.dispose()
    for args in (["payment", "aging", "--by", "owner"], ["payment", "list", "--overdue"], ["project", "list"], ["adjust", "list", "--overdue"]):
        run = cli("--db", str(path), *args)
        assert run.exit_code == 0 and run.stdout, (args, run.stderr)
