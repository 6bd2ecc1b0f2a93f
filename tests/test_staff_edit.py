"""staff edit (issue 13) and who may deactivate whom (issue 12). Team: 王芳 specialist → 李娜 supervisor →
张强 manager → 陈总 director."""

from __future__ import annotations

import json

import pytest

from csdesk.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from csdesk.workflows.staff import add_staff, edit_staff, list_staff
from csdesk.workflows.handover import deactivate_staff


def _people(db) -> dict:
    with db.desk() as desk:
        return {s.name: (s.role, s.reports_to, s.email, s.login) for s in list_staff(desk, include_inactive=True)}


def test_a_manager_promotes_and_renames_someone_below(team):
    with team.desk(as_="张强") as desk:
        info = edit_staff(desk, "王芳", role="supervisor", reports_to="张强", email="wf@example.com")
    assert (info.role, info.reports_to, info.email) == ("supervisor", "张强", "wf@example.com")
    with team.desk(as_="张强") as desk:
        assert edit_staff(desk, "王芳", rename="王芳芳").name == "王芳芳"
    assert "王芳芳" in _people(team) and "王芳" not in _people(team)
    assert team.scalar("SELECT count(*) FROM audit_entry WHERE action = 'staff.edit'") == 2


def test_reports_to_loop_is_refused(team):
    before = team.dump()
    with pytest.raises(InvalidValue, match="张强 cannot report to 李娜: that makes a loop \\(张强 → 李娜 → 张强\\)"):
        with team.desk(as_="陈总") as desk:
            edit_staff(desk, "张强", reports_to="李娜")
    with pytest.raises(InvalidValue, match="陈总 cannot report to 王芳: that makes a loop"):
        with team.desk(as_="陈总") as desk:
            edit_staff(desk, "陈总", reports_to="王芳")
    with pytest.raises(InvalidValue, match="cannot report to themselves"):
        with team.desk(as_="陈总") as desk:
            edit_staff(desk, "张强", reports_to="张强")
    assert team.dump() == before


@pytest.mark.parametrize("as_, name, change, error, message", [
    ("李娜", "张强", {"email": "z@example.com"}, PermissionDenied, "李娜 \\(supervisor\\) cannot edit 张强 \\(manager\\)"),
    ("李娜", "李娜", {"role": "manager"}, PermissionDenied, "李娜 may change only their own email"),
    ("张强", "王芳", {"role": "director"}, PermissionDenied, "cannot make anyone a director"),
    ("王芳", "王芳", {"login": "wangfang"}, PermissionDenied, "may change only their own email"),
    ("张强", "王芳", {"reports_to": "陈总", "role": "director"}, PermissionDenied, "cannot make anyone a director"),
    ("张强", "李娜", {"role": "specialist"}, InvalidValue, "王芳 report to 李娜 and would no longer report to a higher role"),
    ("张强", "王芳", {"role": "supervisor"}, InvalidValue, "王芳 \\(supervisor\\) cannot report to 李娜 \\(supervisor\\)"),
    ("张强", "王芳", {"rename": "李娜"}, Conflict, "already a staff member named '李娜'"),
    ("张强", "王芳", {"rename": " "}, InvalidValue, "1–60 characters"),
    ("张强", "王芳", {"email": "not-an-address"}, InvalidValue, "not an email address"),
    ("张强", "王芳", {"role": "boss"}, InvalidValue, "unknown role"),
    ("张强", "王芳", {"reports_to": "nobody"}, NotFound, "no staff member named 'nobody'"),
    ("张强", "nobody", {"email": "x@example.com"}, NotFound, "no staff member named 'nobody'"),
    ("张强", "王芳", {}, InvalidValue, "nothing to change"),
    ("张强", "王芳", {"role": "specialist"}, InvalidValue, "nothing to change"),
])
def test_edits_that_break_a_rule_change_nothing(team, as_, name, change, error, message):
    before = team.dump()
    with pytest.raises(error, match=message):
        with team.desk(as_=as_) as desk:
            edit_staff(desk, name, **change)
    assert team.dump() == before


def test_anyone_changes_their_own_email_and_a_director_edits_herself(team):
    with team.desk(as_="王芳") as desk:
        assert edit_staff(desk, "王芳", email="wf@example.com").email == "wf@example.com"
    with team.desk(as_="陈总") as desk:
        assert edit_staff(desk, "陈总", login="chen").login == "chen"


def test_logins_are_unique_and_the_first_is_a_directors(team):
    with pytest.raises(InvalidValue, match="the first login bound must be a director's \\(王芳 is a specialist\\)"):
        with team.desk(as_="陈总") as desk:
            edit_staff(desk, "王芳", login="wangfang")
    with team.desk(as_="陈总") as desk:
        edit_staff(desk, "陈总", login="chen")
        edit_staff(desk, "王芳", login="wangfang")
    with pytest.raises(Conflict, match="the login 'chen' is already bound to 陈总"):
        with team.desk(as_="陈总") as desk:
            edit_staff(desk, "李娜", login="chen")
    with pytest.raises(InvalidValue, match="is not a login name"):
        with team.desk(as_="陈总") as desk:
            edit_staff(desk, "李娜", login="li na")
    with team.desk(as_="陈总") as desk:
        assert edit_staff(desk, "王芳", login="").login is None
        add_staff(desk, "赵敏", "specialist", reports_to="李娜", login="zhaomin")
    assert _people(team)["赵敏"][3] == "zhaomin"


# ---- deactivation: only someone who outranks the person (issue 12) --------------------------------------


def test_a_supervisor_cannot_deactivate_a_peer_or_herself(team):
    with team.desk(as_="陈总") as desk:
        add_staff(desk, "周涛", "supervisor", reports_to="张强")
    before = team.dump()
    with pytest.raises(PermissionDenied, match="李娜 \\(supervisor\\) cannot deactivate a supervisor \\(周涛\\)"):
        with team.desk(as_="李娜") as desk:
            deactivate_staff(desk, "周涛")
    with pytest.raises(PermissionDenied, match="李娜 cannot deactivate themselves"):
        with team.desk(as_="李娜") as desk:
            deactivate_staff(desk, "李娜")
    assert team.dump() == before
    with team.desk(as_="张强") as desk:
        assert deactivate_staff(desk, "周涛").active is False


def test_directors_may_deactivate_each_other_never_themselves(team):
    with team.desk(as_="陈总") as desk:
        add_staff(desk, "刘总", "director")
    with pytest.raises(PermissionDenied, match="陈总 cannot deactivate themselves"):
        with team.desk(as_="陈总") as desk:
            deactivate_staff(desk, "陈总")
    with team.desk(as_="陈总") as desk:
        assert deactivate_staff(desk, "刘总").active is False


def test_cli_staff_edit(team, cli):
    result = cli("--as", "张强", "staff", "edit", "王芳", "--role", "supervisor", "--reports-to", "张强", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["role"] == "supervisor"
    result = cli("--as", "陈总", "staff", "edit", "张强", "--reports-to", "王芳")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: 张强 cannot report to 王芳: that makes a loop (张强 → 王芳 → 张强)"
    result = cli("--as", "李娜", "staff", "deactivate", "李娜")
    assert result.exit_code == 1 and result.stderr.startswith("Error: 李娜 cannot deactivate themselves")
