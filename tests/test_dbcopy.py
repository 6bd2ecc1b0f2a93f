"""`csdesk db copy --to URL`: a desk's SQLite file moved into an empty database, complete and verified.

The source is always a SQLite file built here; the target is the `db` fixture's database — a SQLite file
in the plain run, a PostgreSQL database when CSDESK_TEST_PG is set (scripts/test-all), which is the move
a department actually makes.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import conftest
from conftest import NOW, TEAM


def _tables(database):
    from sqlalchemy import inspect
    from sqlmodel import SQLModel

    import csdesk.models  # noqa: F401

    with database.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
    return [t for t in SQLModel.metadata.sorted_tables if t.name in present]


def _rows(database) -> dict[str, list[tuple]]:
    """Every row of every table, read through the column types (so both backends give equal values)."""
    out = {}
    with database.engine.connect() as conn:
        for table in _tables(database):
            pk = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*pk)).all()]
    return out


@pytest.fixture
def source(tmp_path) -> conftest.TestDB:
    """A small but complete desk in a SQLite file: staff (one pointing to a later id), customers, calls, money."""
    from sqlmodel import update

    from csdesk.db import Database, resolve
    from csdesk.migrations import upgrade
    from csdesk.models import Project, Staff
    from csdesk.workflows.call_intake import log_call
    from csdesk.workflows.customers import add_customer
    from csdesk.workflows.staff import add_staff

    path = tmp_path / "source.db"
    database = Database(resolve(str(path)))
    database.create_file()
    upgrade(database.engine)
    src = conftest.TestDB(path)
    acting = None
    for name, role, boss in TEAM:
        with src.desk(as_=acting) as desk:
            add_staff(desk, name, role, reports_to=boss)
        acting = acting or name
    with src.desk(as_="李娜") as desk:
        add_staff(desk, "赵敏", "specialist", reports_to="李娜")
        add_staff(desk, "钱坤", "supervisor", reports_to="张强")
        # 赵敏 (id 5) now reports to 钱坤 (id 6): a reference to a later row of the same table.
        desk.session.exec(update(Staff).where(Staff.name == "赵敏").values(reports_to_id=6))
    with src.desk(as_="王芳") as desk:
        customer = add_customer(desk, "张伟", ["13812345678", "010-62345678"], tier="vip", company="华府装饰")
        add_customer(desk, "李雷", ["13900001111"])
        desk.session.add(Project(code="P0001", customer_id=customer.id, name="华府 3-1201 精装", contract_fen=128_000_00))
        desk.session.add(Project(code="P0002", customer_id=customer.id, name="华府 3-1202 精装", contract_fen=99_950_50))
    for i in range(30):
        with src.desk(as_="王芳", now=NOW + timedelta(minutes=i)) as desk:
            log_call(desk, "13812345678" if i % 3 else f"1371234{i:04d}", "inquiry", f"第{i}通 问保修期")
    return src


def test_copy_moves_every_row_and_new_ids_continue(source, db):
    from csdesk.workflows.call_intake import log_call
    from csdesk.workflows.dbcopy import copy_database

    before = _rows(source.database)
    result = copy_database(source.database, db.database, batch=7)  # small batches: many round trips

    assert _rows(db.database) == before
    counts = {t.table: t.rows for t in result.tables}
    assert counts["staff"] == 6 and counts["project"] == 2 and counts["call"] == 30
    assert counts["customer"] == 2 + 10  # two added, ten new numbers called in
    assert {t.table: t.totals_fen for t in result.tables}["project"] == {"contract_fen": 128_000_00 + 99_950_50}
    assert db.scalar("SELECT reports_to_id FROM staff WHERE name = '赵敏'") == 6

    # The copy is a working desk: the next call gets the next id, not a clash with a copied one.
    with db.desk(as_="王芳", now=NOW + timedelta(hours=2)) as desk:
        logged = log_call(desk, "13812345678", "repair", "卫生间漏水")
    assert logged.call.id == 31
    assert logged.customer_code == "C000001"
    assert db.database.integrity() == []


def test_copy_from_the_cli_reports_rows_and_money(source, db, cli):
    result = cli("--db", str(source.path), "--json", "db", "copy", "--to", db.location)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    tables = {t["table"]: t for t in data["tables"]}
    assert tables["call"]["rows"] == 30
    assert tables["project"]["totals_fen"] == {"contract_fen": 22_795_050}
    assert data["schema"] == db.database.schema_version()

    check = cli("--db", db.location, "db", "check")
    assert check.exit_code == 0, check.stderr
    assert "integrity: ok" in check.stdout


def test_copy_prints_a_table_and_what_to_do_next(source, db, cli):
    result = cli("--db", str(source.path), "db", "copy", "--to", db.location)
    assert result.exit_code == 0, result.stderr
    assert "call" in result.stdout and "contract_fen 22795050" in result.stdout
    assert "row counts and money totals match" in result.stderr
    assert f"Copied {sum(len(v) for v in _rows(source.database).values())} rows" in result.stderr


def test_a_target_with_data_is_refused_and_left_alone(source, team, cli):
    before = team.dump()
    result = cli("--db", str(source.path), "db", "copy", "--to", team.location)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "is not empty (rows in: staff 4, audit_entry 4); db copy only fills an empty database" in result.stderr
    assert team.dump() == before


def test_copying_a_database_onto_itself_is_refused(source, cli):
    result = cli("--db", str(source.path), "db", "copy", "--to", str(source.path))
    assert result.exit_code == 1
    assert "the target is the database being copied" in result.stderr


def test_a_copy_that_does_not_add_up_is_rolled_back(source, db, monkeypatch):
    from csdesk.errors import CsdeskError
    from csdesk.workflows import dbcopy

    real = dbcopy._measure
    seen: list[str] = []

    def lying_measure(conn, table):
        measured = real(conn, table)
        seen.append(table.name)
        if table.name == "project" and seen.count("project") == 2:  # the second look at project is the target's, before commit
            measured.totals_fen["contract_fen"] -= 1  # as if the target had lost one fen
        return measured

    monkeypatch.setattr(dbcopy, "_measure", lying_measure)
    with pytest.raises(CsdeskError) as err:
        dbcopy.copy_database(source.database, db.database)
    assert "does not add up; nothing was copied" in err.value.message
    assert err.value.details == ["project.contract_fen: total 22795050 in the source, 22795049 copied"]
    assert all(not rows for rows in _rows(db.database).values())


def test_copy_into_a_new_sqlite_file_creates_it_private(source, tmp_path, cli):
    import os

    target = tmp_path / "moved.db"
    result = cli("--db", str(source.path), "db", "copy", "--to", str(target))
    assert result.exit_code == 0, result.stderr
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"
    moved = conftest.TestDB(target)
    assert moved.scalar("SELECT count(*) FROM call") == 30
    with moved.database.engine.connect() as conn:
        from csdesk.models import Customer

        assert conn.execute(select(func.count()).select_from(Customer.__table__)).scalar() == 12
