"""Assignment rules (issue 17): who gets a complaint or callback created without a named assignee.

Team (conftest): 陈总 director → 张强 manager → 李娜 supervisor → 王芳 specialist; here 刘洋 and 赵敏
(specialists) join under 李娜, 周涛 (supervisor) under 张强. Customers: VIP C1 (manager 刘洋), key C2
(manager 李娜), standard C3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from csdesk.errors import Conflict, InvalidValue
from csdesk.workflows.assignment import explain
from csdesk.workflows.complaints import open_complaint
from csdesk.workflows.customers import add_customer
from csdesk.workflows.staff import add_staff

VIP, KEY, PLAIN = "13811110001", "13811110002", "13811110003"


@pytest.fixture(autouse=True)
def _english():
    from csdesk import i18n

    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture
def office(team):
    with team.desk(as_="张强") as desk:
        add_staff(desk, "刘洋", "specialist", reports_to="李娜")
        add_staff(desk, "赵敏", "specialist", reports_to="李娜")
        add_staff(desk, "周涛", "supervisor", reports_to="张强")
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "贵宾", [VIP], tier="vip", manager="刘洋")
        add_customer(desk, "大客户", [KEY], tier="key", manager="李娜")
        add_customer(desk, "散客", [PLAIN])
    return team


def settings(text: str) -> None:
    Path(os.environ["CSDESK_CONFIG"]).write_text(text, encoding="utf-8")


def _open(db, who="王芳", phone=PLAIN, assign=None, severity="normal", category="quality"):
    with db.desk(as_=who) as desk:
        return open_complaint(desk, phone, severity, category, "问题", assign=assign)


def _explain(db, cid, entity="complaint"):
    with db.desk() as desk:
        return explain(desk, entity, cid)


def test_by_default_the_opener_keeps_an_ordinary_complaint(office):
    info = _open(office)
    assert (info.assignee, info.assign_rule) == ("王芳", "opener")
    steps = _explain(office, info.id).steps
    assert [(s.rule, s.outcome, s.reason) for s in steps] == [
        ("account_manager", "skipped", "tier"), ("category", "skipped", "no_category"), ("opener", "chosen", None)]


def test_a_vip_customers_complaint_goes_to_the_account_manager(office):
    info = _open(office, phone=VIP)
    assert (info.owner, info.assignee, info.assign_rule) == ("王芳", "刘洋", "account_manager")
    assert office.scalar(f"SELECT note FROM complaint_event WHERE complaint_id = {info.id} AND kind = 'assigned'") == \
        "assignment rule: account_manager"


def test_the_level_rules_still_hold(office):
    """A key account's complaint starts at L3: its supervisor manager and the specialist opening it are
    passed over, and it goes up the opener's line to the manager, as before the rules."""
    info = _open(office, phone=KEY)
    assert (info.level, info.assignee, info.assign_rule) == (3, "张强", "opener")
    e = _explain(office, info.id)
    assert [(s.rule, s.candidate, s.outcome, s.reason) for s in e.steps] == [
        ("account_manager", "李娜", "skipped", "level"), ("category", None, "skipped", "no_category"),
        ("opener", "王芳", "skipped", "level"), ("opener", "张强", "chosen", None)]
    assert "李娜 is a supervisor; a level-3 complaint needs a manager or above" in e.steps[0].text


def test_assign_auto_goes_round_robin_among_active_specialists(office):
    got = [_open(office, assign="auto") for _ in range(4)]
    assert [(i.assignee, i.assign_rule) for i in got] == [
        ("王芳", "round_robin"), ("刘洋", "round_robin"), ("赵敏", "round_robin"), ("王芳", "round_robin")]
    assert _explain(office, got[0].id).steps[2].reason == "auto"


def test_a_serious_auto_complaint_goes_to_a_supervisor_in_turn(office):
    settings('[escalation]\nmajor_level = 2\n')
    got = [_open(office, assign="auto", severity="major") for _ in range(3)]
    assert [i.assignee for i in got] == ["李娜", "周涛", "李娜"]


def test_fewest_open_items(office):
    settings('[assignment]\nfallback = "fewest_open"\n')
    _open(office, who="王芳")  # 王芳 now has one open complaint, 刘洋 and 赵敏 none
    _open(office, who="刘洋")
    info = _open(office, assign="auto")
    assert (info.assignee, info.assign_rule) == ("赵敏", "fewest_open")


def test_a_person_or_a_role_named_for_the_category(office):
    settings('[assignment]\nby_category = {billing = "赵敏", installation = "role:supervisor"}\n')
    assert _open(office, category="billing").assignee == "赵敏"
    assert [_open(office, category="installation").assignee for _ in range(2)] == ["李娜", "周涛"]
    info = _open(office, category="billing", severity="major")  # L3: 赵敏 is passed over
    assert info.assignee == "张强"
    assert ("category", "赵敏", "level") in [(s.rule, s.candidate, s.reason) for s in _explain(office, info.id).steps]


def test_absent_and_inactive_people_are_skipped(office):
    settings('[assignment]\nabsent = ["刘洋", "王芳"]\n')
    info = _open(office, who="李娜", phone=VIP)
    assert (info.assignee, info.assign_rule) == ("李娜", "opener")
    assert [s.reason for s in _explain(office, info.id).steps][0] == "absent"
    auto = _open(office, who="李娜", assign="auto")
    assert auto.assignee == "赵敏"  # the only specialist present
    skipped = [(s.candidate, s.reason) for s in _explain(office, auto.id).steps if s.outcome == "skipped"]
    assert ("刘洋", "absent") in skipped and ("王芳", "absent") in skipped


def test_auto_with_nobody_to_take_it_is_refused_and_writes_nothing(office):
    settings('[assignment]\norder = ["fallback"]\nabsent = ["王芳", "刘洋", "赵敏"]\n')
    before = office.dump()
    with pytest.raises(Conflict, match="The assignment rules found nobody to take it: .*nobody active and present is a specialist"):
        _open(office, assign="auto")
    assert office.dump() == before


def test_without_an_opener_rule_every_unnamed_complaint_is_routed(office):
    settings('[assignment]\norder = ["account_manager", "fallback"]\n')
    assert [_open(office, who="李娜").assignee for _ in range(2)] == ["王芳", "刘洋"]


@pytest.mark.parametrize("text, message", [
    ('[assignment]\nfallback = "random"\n', "assignment.fallback"),
    ('[assignment]\norder = ["boss"]\n', "assignment.order"),
    ('[assignment]\npool_role = "intern"\n', "assignment.pool_role"),
    ('[assignment]\nby_category = {billing = "role:boss"}\n', "assignment.by_category.billing"),
])
def test_bad_settings_are_refused_when_loaded(office, text, message):
    from csdesk import config

    settings(text)
    with pytest.raises(InvalidValue, match=message):
        config.load(office.path)


def test_callbacks_auto_and_a_visit_whose_person_has_left(office):
    from sqlalchemy import text

    from csdesk.workflows.callbacks import schedule_callback
    from csdesk.workflows.complaints import resolve_complaint
    from conftest import NOW
    from datetime import timedelta

    with office.desk(as_="王芳") as desk:
        cb = schedule_callback(desk, NOW + timedelta(hours=2), phone=VIP, assignee="auto").callbacks[0]
        mine = schedule_callback(desk, NOW + timedelta(hours=2), phone=PLAIN).callbacks[0]
    assert cb.assignee == "刘洋" and mine.assignee == "王芳"
    assert office.scalar(f"SELECT assign_rule FROM callback WHERE id = {cb.id}") == "account_manager"
    # A complaint of 赵敏's; 赵敏 leaves (set in the database: she still has it); its return visit goes by the rules.
    info = _open(office, who="赵敏")
    with office.database.engine.begin() as conn:
        conn.execute(text("UPDATE staff SET active = FALSE WHERE name = '赵敏'"))
    with office.desk(as_="李娜") as desk:
        resolve_complaint(desk, info.id, "已处理")
    row = office.scalar(f"SELECT assign_rule FROM callback WHERE complaint_id = {info.id}")
    who = office.scalar(f"SELECT s.name FROM callback c JOIN staff s ON s.id = c.assignee_id WHERE c.complaint_id = {info.id}")
    assert (row, who) == ("round_robin", "王芳")
    visit = office.scalar(f"SELECT id FROM callback WHERE complaint_id = {info.id}")
    steps = _explain(office, visit, "callback").steps
    assert [(s.rule, s.reason) for s in steps] == [("account_manager", "tier"), ("opener", "visit_rule"), ("round_robin", None)]


# ---- the commands ----------------------------------------------------------------------------------


def test_cli_open_auto_says_the_rule_and_explain_shows_it(office, cli):
    result = cli("--as", "李娜", "complaint", "open", "--phone", PLAIN, "--severity", "normal", "--category", "quality",
                 "--summary", "地板起拱", "--assign", "auto")
    assert result.exit_code == 0, result.stderr
    cid = int(result.stdout.strip())
    assert "王芳 was chosen by the assignment rule: round robin." in result.stderr
    result = cli("assign", "explain", str(cid), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["rule"], data["chosen"], data["assignee"]) == ("round_robin", "王芳", "王芳")
    assert [s["rule"] for s in data["steps"]] == ["account_manager", "category", "opener", "round_robin"]
    result = cli("assign", "explain", str(cid))
    assert f"Complaint #{cid} (C000003): given to 王芳 by the rule: round robin." in result.stdout
    assert "left out: --assign auto asks for the rules" in result.stdout
    result = cli("--lang", "zh", "assign", "explain", str(cid))
    assert "按规则“轮流分派”派给 王芳" in result.stdout


def test_cli_explain_refusals(office, cli):
    result = cli("assign", "explain", "99")
    assert result.exit_code == 1 and result.stderr.startswith("Error: No complaint #99.")
    settings('[assignment]\nfallback = "random"\n')
    result = cli("config", "show")
    assert result.exit_code == 1 and "assignment.fallback" in result.stderr


def test_cli_config_show_documents_the_defaults(office, cli):
    result = cli("config", "show")
    assert result.exit_code == 0, result.stderr
    assert "[assignment]" in result.stdout and "round_robin" in result.stdout


def test_installed_command_assigns_and_explains(office):
    exe = Path(sys.executable).parent / "csdesk"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "csdesk"]
    env = {**os.environ, "CSDESK_DB": office.location}
    opened = subprocess.run(cmd + ["--as", "王芳", "log-call", "--phone", VIP, "--kind", "complaint", "--summary", "地板起拱",
                                   "--open-complaint", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert opened.returncode == 0, opened.stderr
    cid = json.loads(opened.stdout)["complaint"]["id"]
    shown = subprocess.run(cmd + ["assign", "explain", str(cid), "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert (json.loads(shown.stdout)["rule"], json.loads(shown.stdout)["assignee"]) == ("account_manager", "刘洋")


def test_the_readme_example_is_a_valid_settings_file(tmp_path):
    from csdesk import config

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: assignment -->")[1].split("<!-- /section: assignment -->")[0]
    example = section.split("```toml")[1].split("```")[0]
    settings(example)
    loaded = config.load(tmp_path / "desk.db")
    assert loaded["assignment"]["by_category"] == {"billing": "赵敏", "installation": "role:supervisor"}
    assert loaded["assignment"]["order"] == list(config.DEFAULTS["assignment"]["order"])
