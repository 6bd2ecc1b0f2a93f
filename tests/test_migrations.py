"""The schema comes from Alembic; it matches the models; older files upgrade; check and backup work."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from csdesk.db import Database, resolve
from csdesk.migrations import HEAD, script_head, upgrade

# Tests that open the SQLite file itself; the PostgreSQL run (CSDESK_TEST_PG) skips them.
sqlite_only = pytest.mark.skipif(bool(os.environ.get("CSDESK_TEST_PG")), reason="SQLite file only")


def test_migrated_schema_matches_the_models(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import csdesk.models  # noqa: F401

    with db.database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_head_constant_is_alembics_head():
    assert HEAD == script_head()


def test_every_table_has_a_primary_key_and_phone_lookup_is_indexed(db):
    from sqlalchemy import inspect

    with db.database.engine.connect() as conn:
        insp = inspect(conn)
        unique = {tuple(u["column_names"]) for u in insp.get_unique_constraints("customer_phone")}
        assert ("number",) in unique  # one number, one customer; the lookup is an index probe
        for table in insp.get_table_names():
            if table != "alembic_version":
                assert insp.get_pk_constraint(table)["constrained_columns"], table


@pytest.fixture
def old_db(tmp_path) -> Database:
    """A database at the first revision, holding a customer."""
    path = tmp_path / "desk.db"
    database = Database(resolve(str(path)))
    database.create_file()
    upgrade(database.engine, "0001")
    with database.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO customer (id, code, name, tier) VALUES (1, 'C000001', '老客户', 'standard')")
        conn.exec_driver_sql("INSERT INTO customer_phone (customer_id, number, position) VALUES (1, '+8613812345678', 0)")
    database.engine.dispose()
    return database


def test_commands_refuse_an_old_schema_and_say_how_to_upgrade(cli, old_db):
    if HEAD == "0001":
        pytest.skip("only one revision")
    result = cli("customer", "show", "13812345678")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: database schema is at revision 0001, this csdesk needs {HEAD}",
        "Hint: back it up (csdesk db backup FILE), then run: csdesk db upgrade",
    ]


def test_db_check_on_a_schema_behind(cli, old_db):
    if HEAD == "0001":
        pytest.skip("only one revision")
    result = cli("db", "check")
    assert result.exit_code == 1
    assert "integrity: ok" in result.stdout
    assert f"schema: 0001 (needs upgrade to {HEAD}: csdesk db upgrade)" in result.stdout
    assert result.stderr.splitlines() == [f"Error: schema 0001 is not current ({HEAD})", "Hint: csdesk db upgrade"]


def test_db_upgrade_brings_an_old_file_to_head_keeping_its_data(cli, old_db):
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"Upgraded {old_db.target.path} from 0001 to {HEAD}.\n"
    assert old_db.schema_version() == HEAD
    shown = cli("customer", "show", "138-1234-5678")
    assert shown.exit_code == 0 and "C000001 老客户" in shown.stdout
    again = cli("db", "upgrade")
    assert (again.exit_code, again.stderr) == (0, f"Schema already current ({HEAD}).\n")


def test_db_check_ok(cli, db):
    result = cli("db", "check")
    assert result.exit_code == 0, result.stderr
    label = db.database.target.label
    assert result.stdout.splitlines() == [f"database: {label}", "integrity: ok", "values: ok", f"schema: {HEAD} (current)",
                                          "identities: not enforced: no staff member has a login, so anyone may act as anyone with --as"]
    data = json.loads(cli("db", "check", "--json").stdout)
    assert data == {"database": label, "integrity": "ok", "problems": [], "values": "ok", "bad_values": [], "schema": HEAD,
                    "schema_expected": HEAD, "schema_current": True}


@sqlite_only
def test_db_check_reports_a_broken_reference(cli, db):
    with sqlite3.connect(db.path) as conn:  # foreign keys off in this raw connection
        conn.execute("INSERT INTO customer_phone (customer_id, number, position) VALUES (99, '+8613800000000', 0)")
    result = cli("db", "check")
    assert result.exit_code == 1
    assert "integrity: failed" in result.stdout
    assert "foreign key: customer_phone row 1 points to a missing customer" in result.stdout
    assert result.stderr == "Error: integrity check failed\n"


def test_init_creates_a_private_file_and_is_idempotent(cli, tmp_path):
    path = tmp_path / "new" / "desk.db"
    result = cli("--db", str(path), "init")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"Created {path} (schema {HEAD})."
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Database(resolve(str(path))).schema_version() == HEAD
    again = cli("--db", str(path), "init")
    assert again.exit_code == 0
    assert again.stderr.splitlines()[0] == f"{path} is already a csdesk database (schema {HEAD}); nothing done."


def _writer(path: Path, stop: threading.Event, written: list[int]) -> None:
    """Commits pairs of customers, each pair in one transaction, until told to stop."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    i = 0
    while not stop.is_set():
        i += 1
        conn.execute("BEGIN IMMEDIATE")
        for half in "ab":
            conn.execute("INSERT INTO customer (code, name, tier) VALUES (?, ?, 'standard')", (f"W{i:05d}{'ab'.index(half)}", "写入中" * 20))
        conn.execute("COMMIT")
        written.append(i)
    conn.close()


@sqlite_only
def test_backup_is_consistent_while_another_connection_writes(cli, db, tmp_path):
    # A file big enough that the copy takes a moment, copied while another connection commits.
    with sqlite3.connect(db.path) as conn:
        conn.executemany("INSERT INTO customer (code, name, tier, notes) VALUES (?, '客户', 'standard', ?)",
                         [(f"B{i:06d}", "备注" * 200) for i in range(3000)])
    stop, written = threading.Event(), []
    thread = threading.Thread(target=_writer, args=(db.path, stop, written))
    thread.start()
    try:
        while len(written) < 3:
            time.sleep(0.005)
        target = tmp_path / "backups" / "desk-copy.db"
        result = cli("db", "backup", str(target))
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(f"Backed up {db.path} to {target} (")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not Path(str(target) + "-wal").exists()  # a self-contained file
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("SELECT count(*) FROM customer WHERE code LIKE 'B%'").fetchone()[0] == 3000
        copied = copy.execute("SELECT count(*) FROM customer WHERE code LIKE 'W%'").fetchone()[0]
    # Whole transactions only (pairs), and at least those committed before the backup began.
    assert copied % 2 == 0
    assert 6 <= copied <= 2 * len(written)
    # The copy is a csdesk database of its own.
    check = cli("--db", str(target), "db", "check")
    assert check.exit_code == 0, check.stderr


@sqlite_only
def test_backup_refusals(cli, db, tmp_path):
    (tmp_path / "exists.db").write_bytes(b"x")
    for target, error in (
        (tmp_path / "exists.db", f"Error: {tmp_path / 'exists.db'} already exists; choose a new file name"),
        (db.path, "Error: the backup file must not be the database itself"),
    ):
        result = cli("db", "backup", str(target))
        assert (result.exit_code, result.stderr.splitlines()[0]) == (1, error)
    result = cli("--db", str(tmp_path / "none.db"), "db", "backup", str(tmp_path / "b.db"))
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: no database at {tmp_path / 'none.db'}")
    assert not (tmp_path / "b.db").exists() and not (tmp_path / "none.db").exists()
