"""Staff: who may add whom, the reporting line, who is acting, and deactivating people who left."""

from __future__ import annotations

import json

import pytest

from csdesk.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from csdesk.workflows.staff import add_staff, list_staff, resolve_actor
from csdesk.workflows.handover import deactivate_staff


def names(desk, **kw):
    return [s.name for s in list_staff(desk, **kw)]


# ---- adding -------------------------------------------------------------------------------------


def test_first_staff_member_needs_nobody_acting(db):
    with db.desk() as desk:
        info = add_staff(desk, "陈总", "director", email="chen@example.cn")
    assert (info.name, info.role, info.role_label, info.email, info.active) == ("陈总", "director", "director", "chen@example.cn", True)
    assert db.scalar("SELECT actor FROM audit_entry WHERE action = 'staff.add'") is None


def test_after_the_first_someone_must_act(db):
    with db.desk() as desk:
        add_staff(desk, "陈总", "director")
    with pytest.raises(PermissionDenied, match="nobody is acting"):
        with db.desk() as desk:
            add_staff(desk, "张强", "manager")
    assert db.scalar("SELECT count(*) FROM staff") == 1


def test_team_fixture_reporting_line(team):
    with team.desk(as_="王芳") as desk:
        rows = {s.name: (s.role, s.reports_to) for s in list_staff(desk)}
    assert rows == {
        "陈总": ("director", None),
        "张强": ("manager", "陈总"),
        "李娜": ("supervisor", "张强"),
        "王芳": ("specialist", "李娜"),
    }


@pytest.mark.parametrize(
    "acting, role",
    [("李娜", "manager"), ("李娜", "director"), ("王芳", "supervisor"), ("张强", "director")],
)
def test_nobody_creates_a_role_above_their_own(team, acting, role):
    with pytest.raises(PermissionDenied, match="nobody can create a role above their own"):
        with team.desk(as_=acting) as desk:
            add_staff(desk, "新人", role)


def test_same_role_or_below_is_allowed(team):
    with team.desk(as_="李娜") as desk:
        peer = add_staff(desk, "周涛", "supervisor", reports_to="张强")
        junior = add_staff(desk, "刘洋", "specialist", reports_to="周涛")
    assert (peer.reports_to, junior.reports_to) == ("张强", "周涛")
    row = team.scalar("SELECT actor FROM audit_entry WHERE action = 'staff.add' ORDER BY id DESC LIMIT 1")
    assert row == "李娜"


@pytest.mark.parametrize("boss", ["王芳", "李娜"])
def test_reports_to_must_be_a_higher_role(team, boss):
    with pytest.raises(InvalidValue, match="reports_to must be a higher role"):
        with team.desk(as_="李娜") as desk:
            add_staff(desk, "周涛", "supervisor" if boss == "李娜" else "specialist", reports_to=boss)


def test_reports_to_unknown_or_inactive_is_refused(team):
    with pytest.raises(NotFound, match="no staff member named '赵六'"):
        with team.desk(as_="李娜") as desk:
            add_staff(desk, "刘洋", "specialist", reports_to="赵六")
    with team.desk(as_="张强") as desk:
        add_staff(desk, "周涛", "supervisor", reports_to="张强")
        deactivate_staff(desk, "周涛")
    with pytest.raises(InvalidValue, match="周涛 is no longer active"):
        with team.desk(as_="李娜") as desk:
            add_staff(desk, "刘洋", "specialist", reports_to="周涛")


def test_bad_values_are_refused(team):
    with team.desk(as_="陈总") as desk:
        with pytest.raises(InvalidValue, match="unknown role 'boss'.*specialist, supervisor, manager, director"):
            add_staff(desk, "某人", "boss")
        with pytest.raises(Conflict, match="already a staff member named '王芳'"):
            add_staff(desk, "王芳", "specialist")
        with pytest.raises(InvalidValue, match="not an email address"):
            add_staff(desk, "某人", "specialist", email="someone at example")
        with pytest.raises(InvalidValue, match="1–60 characters"):
            add_staff(desk, "  ", "specialist")
        info = add_staff(desk, "某人", " Specialist ")
    assert info.role == "specialist"


# ---- who is acting --------------------------------------------------------------------------------


def test_unknown_or_inactive_actor_is_refused(team):
    with pytest.raises(PermissionDenied, match="unknown staff member '路人'"):
        with team.desk(as_="路人"):
            pass
    with team.desk(as_="李娜") as desk:
        deactivate_staff(desk, "王芳")
    with pytest.raises(PermissionDenied, match="王芳 is no longer active and cannot act"):
        with team.desk(as_="王芳"):
            pass


def test_resolve_actor_gives_role_and_rank(team):
    with team.database.session() as session:
        actor = resolve_actor(session, " 张强 ")
        assert resolve_actor(session, None) is None
    assert (actor.name, actor.role, actor.rank) == ("张强", "manager", 3)


# ---- deactivating -----------------------------------------------------------------------------------


def test_specialist_cannot_deactivate(team):
    with pytest.raises(PermissionDenied, match="deactivating staff needs a supervisor or above; 王芳 is a specialist"):
        with team.desk(as_="王芳") as desk:
            deactivate_staff(desk, "王芳")


def test_cannot_deactivate_someone_above_yourself(team):
    with pytest.raises(PermissionDenied, match="李娜 \\(supervisor\\) cannot deactivate a manager"):
        with team.desk(as_="李娜") as desk:
            deactivate_staff(desk, "张强")


def test_deactivate_hides_from_list_and_leaves_an_audit_row(team):
    with team.desk(as_="李娜") as desk:
        info = deactivate_staff(desk, "王芳")
    assert info.active is False
    with team.desk(as_="李娜") as desk:
        assert names(desk) == ["陈总", "张强", "李娜"]
        assert names(desk, include_inactive=True) == ["陈总", "张强", "李娜", "王芳"]
        with pytest.raises(InvalidValue, match="王芳 is already inactive"):
            deactivate_staff(desk, "王芳")
    with team.database.engine.connect() as conn:
        before, after, actor = conn.exec_driver_sql(
            "SELECT before, after, actor FROM audit_entry WHERE action = 'staff.deactivate'"
        ).one()
    assert (json.loads(before), json.loads(after), actor) == ({"active": True}, {"active": False}, "李娜")


def _project(team, owner: str, stage: str) -> int:
    from sqlmodel import select

    from csdesk.models import Project, Staff
    from csdesk.workflows.customers import create_customer

    with team.desk(as_="李娜") as desk:
        customer = create_customer(desk, "张伟", ["13812345678"])
        owner_id = desk.session.exec(select(Staff.id).where(Staff.name == owner)).one()
        project = Project(code="P001", customer_id=customer.id, name="张伟家装修", owner_id=owner_id, stage=stage)
        desk.session.add(project)
        desk.session.flush()
        return project.id


def test_deactivate_refused_while_owning_an_unsettled_project(team):
    project_id = _project(team, "王芳", "handed_over")
    before = team.dump()
    with pytest.raises(Conflict, match="王芳 still owns open work: 1 projects not yet settled") as err:
        with team.desk(as_="李娜") as desk:
            deactivate_staff(desk, "王芳")
    assert err.value.hint == "hand it over first: csdesk staff handover 王芳 --to NAME"
    assert team.dump() == before

    with team.database.session(write=True) as session:
        from sqlalchemy import text

        session.execute(text("UPDATE project SET stage = 'settled' WHERE id = :id"), {"id": project_id})
    with team.desk(as_="李娜") as desk:
        assert deactivate_staff(desk, "王芳").active is False


# ---- CLI --------------------------------------------------------------------------------------------


def test_cli_first_staff_then_acting(cli, db):
    result = cli("staff", "add", "陈总", "--role", "director", "--email", "chen@example.cn")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == "Added 陈总 (director)."
    result = cli("staff", "add", "张强", "--role", "manager")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: nobody is acting: say who you are with --as NAME or CSDESK_AGENT",
        "Hint: csdesk staff list shows the names",
    ]
    result = cli("--as", "陈总", "staff", "add", "张强", "--role", "manager", "--reports-to", "陈总", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "id": 2, "name": "张强", "role": "manager", "role_label": "manager", "reports_to": "陈总", "email": None, "active": True,
        "login": None, "grade": "intermediate", "grade_label": "intermediate",
    }


def test_cli_list_and_deactivate(cli, team, monkeypatch):
    monkeypatch.setenv("CSDESK_AGENT", "李娜")
    result = cli("staff", "list")
    assert result.exit_code == 0
    for text in ("陈总", "director", "王芳", "specialist", "李娜"):
        assert text in result.stdout
    assert cli("staff", "deactivate", "王芳").stderr.strip() == "Deactivated 王芳."
    assert [s["name"] for s in json.loads(cli("staff", "list", "--json").stdout)["items"]] == ["陈总", "张强", "李娜"]
    everyone = json.loads(cli("--json", "staff", "list", "--all").stdout)
    assert [(s["name"], s["active"]) for s in everyone["items"]][-1] == ("王芳", False) and everyone["total"] == 4


@pytest.mark.parametrize(
    "args, error",
    [
        (["--as", "路人", "staff", "list"], "Error: unknown staff member '路人' given as the person acting"),
        (["--as", "李娜", "staff", "add", "X", "--role", "manager"], "Error: 李娜 (supervisor) cannot add a manager: nobody can create a role above their own"),
        (["--as", "李娜", "staff", "add", "X", "--role", "chief"], "Error: unknown role 'chief' (use one of: specialist, supervisor, manager, director)"),
        (["--as", "王芳", "staff", "deactivate", "李娜"], "Error: deactivating staff needs a supervisor or above; 王芳 is a specialist"),
        (["--as", "李娜", "staff", "deactivate", "无名"], "Error: no staff member named '无名'"),
    ],
)
def test_cli_refusals_are_one_error_line_and_change_nothing(cli, team, args, error):
    before = team.dump()
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == error
    assert [l for l in lines if l.startswith("Error:")] == [error]
    assert all(l.startswith("Hint: ") for l in lines[1:])
    assert team.dump() == before


def test_cli_staff_add_without_role_is_a_usage_error(cli, team):
    result = cli("--as", "李娜", "staff", "add", "X")
    assert result.exit_code == 2
    assert "--role" in result.stderr
