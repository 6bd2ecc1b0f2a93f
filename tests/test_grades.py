"""Staff grades (初级/中级/高级) and graded account managers for key accounts (issue 17).

Team (conftest): 陈总 director → 张强 manager → 李娜 supervisor → 王芳 specialist; here 刘洋 joins as a
junior specialist under 李娜."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from csdesk.errors import Conflict, InvalidValue
from csdesk.workflows.customers import add_customer, edit_customer
from csdesk.workflows.grades import check_grade, unmanaged_key_accounts
from csdesk.workflows.staff import add_staff, edit_staff, list_staff

from conftest import NOW


@pytest.fixture(autouse=True)
def _english():
    """Workflow messages in English (CSDESK_LANG=en applies when a command starts; here no command does)."""
    from csdesk import i18n

    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture
def graded(team):
    with team.desk(as_="李娜") as desk:
        add_staff(desk, "刘洋", "specialist", reports_to="李娜", grade="初级")
    return team


def _grades(db) -> dict[str, str]:
    with db.desk() as desk:
        return {s.name: s.grade for s in list_staff(desk, include_inactive=True)}


@pytest.mark.parametrize("typed, grade", [
    ("初级", "junior"), ("中级", "intermediate"), ("高级", "senior"), ("Junior", "junior"), (" senior ", "senior"),
    (None, "intermediate"), ("", "intermediate"),
])
def test_grades_are_read_in_english_and_chinese(typed, grade):
    assert check_grade(typed) == grade


def test_an_unknown_grade_is_refused():
    with pytest.raises(InvalidValue, match="Unknown grade '特级'"):
        check_grade("特级")


def test_staff_carry_a_grade_intermediate_unless_told(graded):
    assert _grades(graded) == {"陈总": "intermediate", "张强": "intermediate", "李娜": "intermediate", "王芳": "intermediate",
                               "刘洋": "junior"}
    with graded.desk(as_="张强") as desk:
        info = edit_staff(desk, "王芳", grade="高级")
    assert (info.grade, info.grade_label) == ("senior", "senior")
    assert graded.scalar("SELECT count(*) FROM audit_entry WHERE action = 'staff.edit' AND after LIKE '%senior%'") == 1


def test_a_junior_cannot_be_made_a_key_accounts_manager(graded):
    before = graded.dump()
    with pytest.raises(InvalidValue, match="刘洋 is junior and cannot manage a key account"):
        with graded.desk(as_="王芳") as desk:
            add_customer(desk, "大客户", ["13811112222"], tier="key", manager="刘洋")
    assert graded.dump() == before
    with graded.desk(as_="王芳") as desk:
        code = add_customer(desk, "大客户", ["13811112222"], tier="key", manager="王芳").code
    before = graded.dump()
    with pytest.raises(InvalidValue, match=f"刘洋 is junior and cannot manage the key account {code}"):
        with graded.desk(as_="王芳") as desk:
            edit_customer(desk, code, manager="刘洋")
    assert graded.dump() == before


def test_a_customer_managed_by_a_junior_cannot_become_a_key_account(graded):
    with graded.desk(as_="王芳") as desk:
        code = add_customer(desk, "普通客户", ["13811113333"], tier="vip", manager="刘洋").code
    before = graded.dump()
    with pytest.raises(InvalidValue, match=f"{code} cannot become a key account while its account manager 刘洋 is junior"):
        with graded.desk(as_="王芳") as desk:
            edit_customer(desk, code, tier="key")
    assert graded.dump() == before
    with graded.desk(as_="王芳") as desk:  # both at once: a qualified manager and the key tier
        assert edit_customer(desk, code, tier="key", manager="王芳").tier == "key"


def test_lowering_a_key_accounts_manager_to_junior_is_refused(graded):
    with graded.desk(as_="王芳") as desk:
        code = add_customer(desk, "大客户", ["13811112222"], tier="key", manager="王芳").code
    before = graded.dump()
    with pytest.raises(Conflict, match=f"王芳 manages 1 key accounts \\({code}\\) and cannot become junior"):
        with graded.desk(as_="李娜") as desk:
            edit_staff(desk, "王芳", grade="junior")
    assert graded.dump() == before
    with graded.desk(as_="王芳") as desk:
        edit_customer(desk, code, tier="vip")
    with graded.desk(as_="李娜") as desk:
        assert edit_staff(desk, "王芳", grade="初级").grade == "junior"


def test_a_junior_cannot_take_key_accounts_in_a_hand_over(graded):
    from csdesk.workflows.handover import hand_over

    with graded.desk(as_="王芳") as desk:
        add_customer(desk, "大客户", ["13811112222"], tier="key", manager="王芳")
    before = graded.dump()
    with pytest.raises(InvalidValue, match="刘洋 is junior and cannot manage the key account"):
        with graded.desk(as_="李娜") as desk:
            hand_over(desk, "王芳", "刘洋")
    assert graded.dump() == before


def test_an_import_refuses_a_junior_key_accounts_manager(graded, tmp_path):
    from csdesk.workflows.imports import import_customers, read_table

    path = tmp_path / "c.csv"
    path.write_text("name,phone,tier,manager\n甲,13811112222,key,刘洋\n乙,13811113333,key,王芳\n", encoding="utf-8")
    before = graded.dump()
    with pytest.raises(InvalidValue) as err:
        with graded.desk(as_="王芳") as desk:
            import_customers(desk, read_table(path), path.name)
    assert "line 2: 刘洋 is junior and cannot manage a key account" in " ".join([err.value.message, *err.value.details])
    assert graded.dump() == before


def _unmanaged(db):
    with db.desk() as desk:
        return unmanaged_key_accounts(desk.session)[0]


def test_key_accounts_without_a_qualified_manager_are_listed(graded):
    with graded.desk(as_="王芳") as desk:
        good = add_customer(desk, "有经理", ["13811110001"], tier="key", manager="王芳").code
        none = add_customer(desk, "无经理", ["13811110002"], tier="key").code
        old = add_customer(desk, "旧数据", ["13811110003"], tier="key", manager="李娜").code
        add_customer(desk, "普通", ["13811110004"])
    # A junior managing a key account from before the rule (or set in the database by hand).
    from sqlalchemy import text

    with graded.database.engine.begin() as conn:
        conn.execute(text("UPDATE staff SET grade = 'junior' WHERE name = '李娜'"))
    rows = _unmanaged(graded)
    assert [(r.code, r.reason, r.manager) for r in rows] == [(none, "no_manager", None), (old, "junior", "李娜")]
    assert good not in [r.code for r in rows]


def test_the_reminder_run_tells_the_manager_and_their_superior_once(graded):
    from csdesk import config as cfg
    from csdesk.workflows import reminders

    with graded.desk(as_="王芳") as desk:
        code = add_customer(desk, "大客户", ["13811112222"], tier="key", manager="王芳").code
    from sqlalchemy import text

    with graded.database.engine.begin() as conn:
        conn.execute(text("UPDATE staff SET grade = 'junior' WHERE name = '王芳'"))
    settings = cfg.load(graded.path)
    first = reminders.remind_run(graded.database, settings, NOW)
    again = reminders.remind_run(graded.database, settings, NOW + timedelta(hours=1))
    mine = [n for n in first.notices if n.kind == "key_account_unmanaged"]
    assert sorted(n.recipient for n in mine) == ["李娜", "王芳"]  # the manager and their superior
    assert code in mine[0].message and "the manager is junior (王芳)" in mine[0].message
    assert not [n for n in again.notices if n.kind == "key_account_unmanaged"]
    recipients = graded.scalar(
        "SELECT count(*) FROM notice n JOIN staff s ON s.id = n.recipient_id WHERE n.kind = 'key_account_unmanaged' "
        "AND s.name IN ('王芳', '李娜')")
    assert recipients == 2


def test_staff_before_grades_become_intermediate(tmp_path):
    """Migration 0012 on a database of 0010: existing staff are intermediate, so their key accounts stay valid."""
    from sqlalchemy import create_engine, text

    from csdesk.migrations import upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0010")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO staff (name, role, active) VALUES ('老员工', 'specialist', 1)"))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT grade FROM staff")).scalar() == "intermediate"
    engine.dispose()


# ---- the commands ----------------------------------------------------------------------------------


def test_cli_staff_grades_in_list_and_json(graded, cli):
    result = cli("--as", "李娜", "staff", "add", "赵敏", "--role", "specialist", "--reports-to", "李娜", "--grade", "高级", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["grade"] == "senior"
    result = cli("--lang", "zh", "staff", "list")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if "刘洋" in line)
    assert "初级" in line
    rows = json.loads(cli("staff", "list", "--json").stdout)
    rows = rows["items"] if isinstance(rows, dict) else rows
    assert {r["name"]: r["grade"] for r in rows}["赵敏"] == "senior"


def test_cli_refusals_are_one_error_line(graded, cli):
    before = graded.dump()
    result = cli("--as", "王芳", "customer", "add", "大客户", "--phone", "13811112222", "--tier", "key", "--manager", "刘洋")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 刘洋 is junior and cannot manage a key account")
    assert "Traceback" not in result.stderr
    result = cli("--as", "李娜", "staff", "edit", "王芳", "--grade", "特级")
    assert result.exit_code == 1 and result.stderr.startswith("Error: Unknown grade")
    assert graded.dump() == before
    result = cli("--lang", "zh", "--as", "王芳", "customer", "add", "大客户", "--phone", "13811112222", "--tier", "key", "--manager", "刘洋")
    assert result.exit_code == 1 and "是初级员工，不能负责重点客户" in result.stderr


def test_cli_unmanaged_key_accounts(graded, cli):
    assert cli("--as", "王芳", "customer", "add", "无经理", "--phone", "13811110002", "--tier", "key").exit_code == 0
    assert cli("--as", "王芳", "customer", "add", "有经理", "--phone", "13811110001", "--tier", "key", "--manager", "王芳").exit_code == 0
    result = cli("customer", "list", "--tier", "key", "--unmanaged", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == 1 and [r["name"] for r in data["items"]] == ["无经理"]
    assert data["items"][0]["reason"] == "no_manager"
    result = cli("customer", "list", "--unmanaged")
    assert "无经理" in result.stdout and "有经理" not in result.stdout
    assert "1 key accounts without a qualified manager" in result.stderr
    result = cli("customer", "list", "--tier", "vip", "--unmanaged")
    assert result.exit_code == 1 and result.stderr.startswith("Error: --unmanaged lists key accounts")


def test_installed_command_refuses_a_junior_manager(graded):
    """The installed `csdesk`, as a person runs it."""
    exe = Path(sys.executable).parent / "csdesk"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "csdesk"]
    env = {**os.environ, "CSDESK_DB": graded.location}
    ok = subprocess.run(cmd + ["--as", "李娜", "staff", "edit", "王芳", "--grade", "高级"], capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(cmd + ["--as", "王芳", "customer", "add", "大客户", "--phone", "13811112222", "--tier", "key",
                                "--manager", "刘洋"], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[0].startswith("Error: 刘洋 is junior")
    listed = subprocess.run(cmd + ["staff", "list", "--json"], capture_output=True, text=True, env=env, timeout=120)
    rows = json.loads(listed.stdout)
    rows = rows["items"] if isinstance(rows, dict) else rows
    assert {r["name"]: r["grade"] for r in rows} == {"陈总": "intermediate", "张强": "intermediate", "李娜": "intermediate",
                                                     "王芳": "senior", "刘洋": "junior"}
