"""Who may act as whom (issue 12): once logins are bound, csdesk acts as the login's staff member."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from csdesk.workflows import identity


@pytest.fixture
def login(monkeypatch):
    """Pretend the current login (OS user, or PostgreSQL role) is the one set here."""
    current = {"name": None}
    monkeypatch.setattr(identity, "current_login", lambda session: current["name"])

    def set_login(name):
        current["name"] = name

    return set_login


@pytest.fixture
def bound(team, cli, login):
    """陈总 is login chen, 王芳 is login wangfang; the other two have none."""
    assert cli("--as", "陈总", "staff", "edit", "陈总", "--login", "chen").exit_code == 0
    login("chen")
    assert cli("staff", "edit", "王芳", "--login", "wangfang").exit_code == 0
    assert cli("--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678").exit_code == 0
    return team


def test_without_logins_anyone_acts_as_anyone_and_config_and_check_say_so(team, cli):
    assert cli("--as", "陈总", "customer", "add", "张伟", "--phone", "13812345678").exit_code == 0
    line = "# identities not enforced: no staff member has a login, so anyone may act as anyone with --as"
    assert line in cli("config", "show").stdout.splitlines()
    assert "identities: not enforced: no staff member has a login, so anyone may act as anyone with --as" in cli("db", "check").stdout


def test_enforced_desks_do_not_say_so(bound, cli):
    assert "not enforced" not in cli("config", "show").stdout
    assert "not enforced" not in cli("db", "check").stdout


def test_the_login_decides_who_acts(bound, cli, login):
    login("wangfang")
    result = cli("log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "问保修期", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["call"]["agent"] == "王芳"
    assert cli("--as", "王芳", "calls", "list").exit_code == 0  # naming oneself is fine


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_non_director_cannot_act_as_someone_else(bound, cli, login, how):
    login("wangfang")
    before = bound.dump()
    if how == "option":
        result = cli("--as", "李娜", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "x")
    else:
        result = cli("log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "x", env={"CSDESK_AGENT": "李娜"})
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: the login 'wangfang' is 王芳, who cannot act as 李娜: only a director may act for someone else"
    assert bound.dump() == before


def test_the_settings_agent_is_ignored_once_logins_are_bound(bound, cli, login, tmp_path):
    (tmp_path / "csdesk.toml").write_text('agent = "李娜"\n', encoding="utf-8")
    login("wangfang")
    result = cli("log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "x", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["call"]["agent"] == "王芳"


def test_a_director_acts_for_someone_and_the_audit_says_so(bound, cli, login):
    login("chen")
    result = cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "代录", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["call"]["agent"] == "王芳"
    rows = json.loads(cli("audit", "--entity", "call", "--json").stdout)["items"]
    assert (rows[0]["actor"], rows[0]["admin"]) == ("王芳", "陈总")
    assert "王芳 (by 陈总)" in cli("audit", "--entity", "call").stdout
    assert bound.scalar("SELECT admin_id FROM audit_entry WHERE action = 'call.log'") == 1
    # Acting as oneself is not acting for someone: no administrator recorded.
    assert cli("--as", "陈总", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "自己").exit_code == 0
    assert bound.scalar("SELECT count(*) FROM audit_entry WHERE action = 'call.log' AND admin IS NULL") == 1


def test_a_login_bound_to_nobody_reads_but_cannot_act(bound, cli, login):
    login("stranger")
    assert cli("customer", "list").exit_code == 0
    result = cli("log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "x")
    assert result.exit_code == 1 and result.stderr.startswith("Error: nobody is acting")
    result = cli("--as", "陈总", "customer", "list")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "Error: the login 'stranger' is bound to no staff member, so it cannot act as '陈总'"


def test_an_inactive_persons_login_cannot_act(bound, cli, login):
    login("chen")
    assert cli("staff", "deactivate", "王芳").exit_code == 0
    login("wangfang")
    result = cli("customer", "list")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: 王芳 (login 'wangfang') is no longer active and cannot act"


def test_rank_rules_apply_to_the_login_not_to_a_name_typed(bound, cli, login):
    """王芳 cannot bind her own login to 陈总's record or deactivate anyone by naming a director."""
    login("wangfang")
    before = bound.dump()
    assert cli("--as", "陈总", "staff", "edit", "陈总", "--login", "wangfang2").exit_code == 1
    assert cli("staff", "edit", "王芳", "--login", "").exit_code == 1
    assert bound.dump() == before


def test_the_login_is_the_os_user_on_sqlite_and_the_database_role_on_postgresql(db):
    import pwd

    with db.desk() as desk:
        found = identity.current_login(desk.session)
        if db.path is None:
            from sqlalchemy import text

            assert found == desk.session.execute(text("SELECT current_user")).scalar()
        else:
            assert found == pwd.getpwuid(os.getuid()).pw_name


def test_the_installed_command_binds_the_real_login(team, tmp_path):
    """End to end: the real login (not $USER) bound to 陈总; --as 王芳 then acts for her, recorded."""
    from csdesk.workflows.staff import edit_staff

    with team.desk(as_="陈总") as desk:
        real = identity.current_login(desk.session)
        edit_staff(desk, "陈总", login=real)
    exe = Path(sys.executable).with_name("csdesk")
    env = {**os.environ, "CSDESK_DB": team.location, "USER": "王芳", "LOGNAME": "王芳"}
    run = subprocess.run([str(exe), "--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert team.scalar("SELECT actor || ' by ' || admin FROM audit_entry WHERE action = 'customer.add'") == "王芳 by 陈总"
