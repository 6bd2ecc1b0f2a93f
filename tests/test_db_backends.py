"""The database layer on both backends: URLs, clear refusals, writers that queue, retries, checks.

The tests marked `pg` need a PostgreSQL server (CSDESK_TEST_PG, set by scripts/test-all) and are
skipped in a plain `python -m pytest`; everything else runs on whichever backend the `db` fixture gives.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from csdesk.db import Database, Target, resolve

PG = os.environ.get("CSDESK_TEST_PG")
pg = pytest.mark.skipif(not PG, reason="needs a PostgreSQL server: CSDESK_TEST_PG (scripts/test-all starts one)")


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("postgres://desk@db.example.com/csdesk", "postgresql+psycopg://desk@db.example.com/csdesk"),
        ("postgresql://desk@db.example.com:5433/csdesk", "postgresql+psycopg://desk@db.example.com:5433/csdesk"),
        ("postgresql+psycopg://desk@/csdesk?host=/run/postgresql", "postgresql+psycopg://desk@/csdesk?host=/run/postgresql"),
    ],
)
def test_a_postgresql_url_is_used_with_the_psycopg_driver(given, url):
    target = resolve(given)
    assert target == Target(url, None)
    assert not target.is_sqlite


def test_a_path_or_sqlite_url_is_a_file(tmp_path):
    assert resolve(str(tmp_path / "a.db")).path == tmp_path / "a.db"
    assert resolve(f"sqlite:///{tmp_path}/b.db").path == tmp_path / "b.db"


def test_labels_never_show_a_password():
    assert resolve("postgresql://desk:s3cret@db/csdesk").label == "postgresql+psycopg://desk:***@db/csdesk"
    assert "s3cret" not in resolve("postgresql+psycopg://desk:s3cret@db:notaport/csdesk").label


def test_a_database_of_another_kind_is_refused(cli):
    result = cli("--db", "mysql://desk@db/csdesk", "customer", "list")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: cannot use mysql://desk@db/csdesk: csdesk works with a SQLite file or a PostgreSQL URL",
        "Hint: e.g. --db ~/desk.db or --db postgresql+psycopg://user@host/dbname",
    ]


def test_a_server_that_cannot_be_reached_is_one_clear_line(cli):
    pytest.importorskip("psycopg")
    result = cli("--db", "postgresql://desk@127.0.0.1:1/csdesk", "customer", "list")
    assert result.exit_code == 1
    first, hint = result.stderr.splitlines()
    assert first.startswith("Error: cannot open database postgresql+psycopg://desk@127.0.0.1:1/csdesk: connection to server at")
    assert "Connection refused" in first
    assert hint.startswith("Hint: check the server")


def test_a_number_too_large_for_any_column_is_a_bad_value(team, cli):
    before = team.dump()
    result = cli("--as", "王芳", "calls", "list", "--limit", "99999999999999999999")
    assert result.exit_code == 1
    assert result.stderr == "Error: 99999999999999999999 is too large a number (the largest is 9223372036854775807)\n"
    assert team.dump() == before


def test_an_old_schema_is_refused_with_how_to_upgrade(team, cli):
    from sqlalchemy import text

    with team.database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    result = cli("--as", "王芳", "calls", "list")
    assert result.exit_code == 1
    assert "Error: database schema is at revision 0001, this csdesk needs" in result.stderr
    backup = "csdesk db backup FILE" if team.path else "pg_dump"
    assert f"Hint: back it up ({backup}), then run: csdesk db upgrade" in result.stderr


def test_a_second_writer_waits_for_the_first_and_then_sees_its_row(team):
    """BEGIN IMMEDIATE on SQLite, the write lock on PostgreSQL: the second transaction starts after the first commits."""
    from sqlmodel import func, select

    from csdesk.models import Staff

    first_holds = threading.Event()
    seen: dict[str, float] = {}

    def first():
        with team.database.session(write=True) as session:
            session.add(Staff(name="先来的", role="specialist"))
            session.flush()
            first_holds.set()
            time.sleep(0.6)
            seen["first_commit"] = time.monotonic()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_holds.wait(10)
    count = team.database.write(lambda session: session.exec(select(func.count()).select_from(Staff)).one())
    seen["second_done"] = time.monotonic()
    thread.join()
    assert count == 5  # the team's four and the first writer's, committed before the second began
    assert seen["second_done"] >= seen["first_commit"]


class _Lost(Exception):
    def __init__(self, sqlstate):
        super().__init__(f"lost a race ({sqlstate})")
        self.sqlstate = sqlstate


def _dbapi_error(sqlstate):
    from sqlalchemy.exc import OperationalError

    return OperationalError("UPDATE …", {}, _Lost(sqlstate))


@pytest.mark.parametrize("sqlstate", ["40001", "40P01", "55P03"])
def test_a_transaction_that_lost_a_race_is_run_again(db, sqlstate):
    attempts = []

    def work(session):
        attempts.append(1)
        if len(attempts) == 1:
            raise _dbapi_error(sqlstate)
        return "done"

    assert db.database.write(work) == "done"
    assert len(attempts) == 2


def test_other_database_errors_are_not_retried(db):
    from sqlalchemy.exc import OperationalError

    attempts = []

    def work(session):
        attempts.append(1)
        raise _dbapi_error("23505")  # a unique violation is a real answer, not a race

    with pytest.raises(OperationalError):
        db.database.write(work)
    assert len(attempts) == 1


# --- PostgreSQL only ---------------------------------------------------------------------------


@pytest.fixture
def empty_pg():
    """A new, empty database on the test server (no csdesk schema)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(resolve(PG).url, isolation_level="AUTOCOMMIT")
    name = f"csdesk_empty_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(resolve(PG).url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pg
def test_a_missing_postgresql_database_says_to_create_it(cli):
    from sqlalchemy.engine import make_url

    url = make_url(resolve(PG).url).set(database="csdesk_no_such_db").render_as_string(hide_password=False)
    result = cli("--db", url, "customer", "list")
    assert result.exit_code == 1
    assert 'database "csdesk_no_such_db" does not exist' in result.stderr
    assert "Hint: create the empty database first (createdb NAME, or CREATE DATABASE NAME), then: csdesk --db" in result.stderr


@pg
def test_an_empty_postgresql_database_is_initialised_like_a_file(empty_pg, cli):
    refused = cli("--db", empty_pg, "customer", "list")
    assert refused.exit_code == 1
    assert "is not a csdesk database (no schema)" in refused.stderr
    assert f"Hint: create it with: csdesk --db {resolve(empty_pg).label} init" in refused.stderr

    made = cli("--db", empty_pg, "init")
    assert made.exit_code == 0, made.stderr
    assert cli("--db", empty_pg, "staff", "add", "陈总", "--role", "director").exit_code == 0
    logged = cli("--db", empty_pg, "--as", "陈总", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "问保修期")
    assert logged.exit_code == 0, logged.stderr
    again = cli("--db", empty_pg, "init")
    assert again.exit_code == 0
    assert "is already a csdesk database" in again.stderr


@pg
def test_db_backup_on_postgresql_points_to_pg_dump(team, tmp_path, cli):
    result = cli("db", "backup", str(tmp_path / "x.db"))
    assert result.exit_code == 1
    assert "Error: db backup copies SQLite files; a PostgreSQL database is backed up with the server's own tools" in result.stderr
    assert "Hint: pg_dump --format=custom --file x.db" in result.stderr
    assert not (tmp_path / "x.db").exists()


@pg
def test_db_check_on_postgresql_finds_a_sequence_behind_its_rows(team, cli):
    from sqlalchemy import text

    ok = cli("db", "check")
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    assert "integrity: ok" in ok.stdout
    with team.database.engine.begin() as conn:
        conn.execute(text("SELECT setval(pg_get_serial_sequence('staff', 'id'), 1)"))
    bad = cli("db", "check")
    assert bad.exit_code == 1
    assert "integrity: failed" in bad.stdout
    assert "sequence public.staff_id_seq would give staff.id 2, but 4 is taken" in bad.stdout


def test_a_kept_database_is_restored_for_the_next_test(team):
    """conftest's TestDB.keep/restore: build slow data once, start many tests from it (both backends)."""
    from csdesk.workflows.customers import add_customer

    key = f"keep-{uuid.uuid4().hex[:6]}"
    assert team.restore(key) is False
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", ["13812345678"])
    team.keep(key)
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "李雷", ["13900001111"])
    assert team.scalar("SELECT count(*) FROM customer") == 2
    assert team.restore(key) is True
    assert team.scalar("SELECT count(*) FROM customer") == 1
    assert team.scalar("SELECT name FROM customer") == "张伟"
    assert team.scalar("SELECT created_at FROM customer") == "2026-11-24 02:00:00.000000"  # text on both backends
