"""Shared fixtures: a database file per test, a fixed clock, a pinned terminal width.

- `db`: an initialised, empty csdesk database (schema from the migrations), with CSDESK_DB pointing at it.
- `team`: `db` plus four staff, one per level: 王芳 specialist → 李娜 supervisor → 张强 manager → 陈总 director.
- `cli`: run `csdesk ARGS…` through Typer's CliRunner; returns the Click result (stdout/stderr separate).
- `NOW`: the fixed clock, Tuesday 2026-11-24 10:00 in Asia/Shanghai (CSDESK_NOW).

PostgreSQL: when `CSDESK_TEST_PG` holds a server URL (scripts/test-all sets it), `db` gives each test an
empty, migrated database on that server instead (one per session, emptied before each test, remade from
a template migrated once when a test changed its schema); CSDESK_DB is its URL, `db.path` is None and
`db.url` the URL. Everything else is the same. `TestDB.keep/restore` share slow-to-build data between
tests on both backends.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
TEAM = [("陈总", "director", None), ("张强", "manager", "陈总"), ("李娜", "supervisor", "张强"), ("王芳", "specialist", "李娜")]

_TEMPLATE: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def _environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CSDESK_NOW", NOW.isoformat())
    monkeypatch.setenv("CSDESK_CONFIG", str(tmp_path / "csdesk.toml"))
    (tmp_path / "csdesk.toml").write_text("", encoding="utf-8")
    monkeypatch.delenv("CSDESK_AGENT", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    # A report on a (pseudo-)terminal goes through the pager: in tests it must never wait for a key.
    monkeypatch.setenv("PAGER", "cat")
    # The interface is Chinese by default; tests written against the English messages ask for English,
    # and tests of the Chinese interface delete this (tests/test_i18n.py).
    monkeypatch.setenv("CSDESK_LANG", "en")
    from csdesk import i18n

    i18n.set_language("en")  # workflows called in-process speak it too (the CLI chooses again from the env)
    monkeypatch.setenv("CSDESK_DB", str(tmp_path / "desk.db"))
    # Workflows called directly (not through the CLI, which chooses the language) speak English too.
    from csdesk import i18n

    i18n.set_language("en")


class TestDB:
    """A test database: its path (None on PostgreSQL), its URL, a Database handle, and a way to run workflows as someone."""

    def __init__(self, path: Path | None, url: str | None = None):
        from csdesk.db import Database, resolve

        self.path = path
        self.url = url or f"sqlite:///{path}"
        self.location = str(path) if path is not None else self.url  # what --db / CSDESK_DB takes
        self.database = Database(resolve(self.location))

    @contextmanager
    def desk(self, as_: str | None = None, now: datetime | None = None, config: str | None = None):
        """A Desk inside one write transaction (committed at the end of the block)."""
        from csdesk import config as cfg
        from csdesk.workflows import Desk
        from csdesk.workflows.staff import resolve_actor

        settings = cfg.load(self.path)
        with self.database.session(write=True) as session:
            yield Desk(session=session, settings=settings, now=(now or NOW).astimezone(ZoneInfo("UTC")), actor=resolve_actor(session, as_))

    def scalar(self, sql: str, **params):
        """One value by raw SQL. On PostgreSQL dates and times come back as the text SQLite gives
        ('2026-11-24', '2026-11-24 02:00:00.000000'), so an assertion written on SQLite holds on both."""
        from sqlalchemy import text

        with self.database.engine.connect() as conn:
            value = conn.execute(text(sql), params).scalar()
        if self.path is None:
            if isinstance(value, datetime):
                return value.strftime("%Y-%m-%d %H:%M:%S.%f")
            if isinstance(value, date):
                return value.isoformat()
        return value

    def keep(self, key: str) -> None:
        """Remember this database as it is now under `key`, for later tests to start from (`restore`).

        For data that is slow to build and shared by many tests: `if not db.restore("k"): build(db); db.keep("k")`.
        A file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL.
        """
        self.database.engine.dispose()
        if self.path is not None:
            kept = self.path.with_name(f"kept-{key}.db")
            shutil.copyfile(self.path, kept)
            _KEPT[key] = kept
        else:
            from sqlalchemy import text

            name = f"{_PG['prefix']}_kept_{len(_KEPT)}"
            _pg_drop(name)
            _pg_close_others(self._pg_name)
            with _PG["admin"].connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_name}"'))
            _KEPT[key] = name

    def restore(self, key: str) -> bool:
        """Make this database what `keep(key)` saw; False (and nothing done) when nothing was kept yet."""
        if key not in _KEPT:
            return False
        self.database.engine.dispose()
        if self.path is not None:
            for extra in (self.path.with_name(self.path.name + "-wal"), self.path.with_name(self.path.name + "-shm")):
                extra.unlink(missing_ok=True)
            shutil.copyfile(_KEPT[key], self.path)
            os.chmod(self.path, 0o600)
        else:
            from sqlalchemy import text

            _pg_drop(self._pg_name)
            with _PG["admin"].connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self._pg_name}" TEMPLATE "{_KEPT[key]}"'))
        return True

    @property
    def _pg_name(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).database

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table, to show that a refused command changed nothing."""
        from sqlalchemy import inspect, text

        out = {}
        with self.database.engine.connect() as conn:
            for table in sorted(inspect(conn).get_table_names()):
                out[table] = [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')).fetchall()]
        return out


def _template(tmp_path_factory) -> Path:
    """Run the migrations once per test session, then copy the file for each test."""
    if "path" not in _TEMPLATE:
        from csdesk.db import Database, resolve
        from csdesk.migrations import upgrade

        path = tmp_path_factory.mktemp("template") / "template.db"
        database = Database(resolve(str(path)))
        database.create_file()
        upgrade(database.engine)
        database.engine.dispose()
        _TEMPLATE["path"] = path
    return _TEMPLATE["path"]


_PG: dict = {}
_KEPT: dict[str, object] = {}  # TestDB.keep: key -> kept file (SQLite) or database name (PostgreSQL)


def _pg_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(_PG["admin"].url).set(database=name).render_as_string(hide_password=False)


def _pg_template() -> str:
    """On the CSDESK_TEST_PG server: a database migrated once per session, the template for each test's."""
    if "template" not in _PG:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        from csdesk.db import Database, resolve
        from csdesk.migrations import upgrade

        _PG["admin"] = create_engine(resolve(os.environ["CSDESK_TEST_PG"]).url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        _PG["prefix"] = f"csdesk_test_{os.getpid()}"
        name = f"{_PG['prefix']}_template"
        with _PG["admin"].connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        database = Database(resolve(_pg_url(name)))
        upgrade(database.engine)
        database.engine.dispose()
        _PG["template"] = name
    return _PG["template"]


_FINGERPRINT = """SELECT md5(
    coalesce((SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name)
              FROM information_schema.columns WHERE table_schema = 'public'), '')
    || coalesce((SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'), '')
    || coalesce((SELECT string_agg(version_num, ',') FROM alembic_version), ''))"""


def _pg_fresh_database() -> str:
    """The session's test database, emptied for the next test.

    Creating a database per test costs ~0.2-0.4 s (it copies the system catalogs); emptying one costs
    ~10 ms. So one database is reused: its rows are deleted and its id sequences restarted (ids start
    at 1, as in a new SQLite file), and it is made anew from the template only when a test changed its
    schema (tables, columns, indexes or the schema revision differ from the template's).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    template = _pg_template()
    name = f"{_PG['prefix']}_db"
    if "work" not in _PG:
        _PG["work"] = create_engine(_pg_url(name), poolclass=NullPool)
        _pg_recreate(name, template)
        with _PG["work"].connect() as conn:
            _PG["fingerprint"] = conn.execute(text(_FINGERPRINT)).scalar()
            present = {r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
            sequences = [r[0] for r in conn.execute(text("SELECT schemaname || '.' || sequencename FROM pg_sequences"))]
        from sqlmodel import SQLModel

        import csdesk.models  # noqa: F401

        ordered = [t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name in present]
        others = sorted(present - set(ordered) - {"alembic_version"})
        _PG["reset"] = "; ".join(
            [f'DELETE FROM "{t}"' for t in others + ordered] + [f"SELECT setval('{seq}', 1, false)" for seq in sequences]
        )
        return name
    _pg_close_others(name)
    try:
        with _PG["work"].begin() as conn:
            if conn.execute(text(_FINGERPRINT)).scalar() != _PG["fingerprint"]:
                raise LookupError("schema changed")
            conn.exec_driver_sql(_PG["reset"])
    except Exception:  # a test changed the schema (or left it unusable): start again from the template
        _pg_recreate(name, template)
    return name


def _pg_recreate(name: str, template: str) -> None:
    from sqlalchemy import text

    _pg_drop(name)
    with _PG["admin"].connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))


def _pg_close_others(name: str) -> None:
    """End connections to a database that a test left behind (a database is copied only when idle)."""
    from sqlalchemy import text

    with _PG["admin"].connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})


def _pg_drop(name: str) -> None:
    from sqlalchemy import text

    with _PG["admin"].connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", autouse=True)
def _pg_session():
    yield
    if "template" in _PG:
        for kept in _KEPT.values():
            if isinstance(kept, str):
                _pg_drop(kept)
        if "work" in _PG:
            _PG.pop("work").dispose()
            _pg_drop(f"{_PG['prefix']}_db")
        _pg_drop(_PG.pop("template"))
        _PG["admin"].dispose()


@pytest.fixture
def db(tmp_path, tmp_path_factory, monkeypatch) -> TestDB:
    if os.environ.get("CSDESK_TEST_PG"):
        test_db = TestDB(None, _pg_url(_pg_fresh_database()))
        monkeypatch.setenv("CSDESK_DB", test_db.url)
        yield test_db
        test_db.database.engine.dispose()
        return
    path = tmp_path / "desk.db"
    shutil.copyfile(_template(tmp_path_factory), path)
    os.chmod(path, 0o600)
    yield TestDB(path)


@pytest.fixture
def team(db) -> TestDB:
    from csdesk.workflows.staff import add_staff

    acting = None
    for name, role, boss in TEAM:
        with db.desk(as_=acting) as desk:
            add_staff(desk, name, role, reports_to=boss)
        acting = acting or name
    return db


@pytest.fixture
def cli():
    from typer.testing import CliRunner

    from csdesk.cli import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict | None = None):
        return runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    return run
