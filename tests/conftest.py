"""Shared fixtures: a database file per test, a fixed clock, a pinned terminal width.

- `db`: an initialised, empty csdesk database (schema from the migrations), with CSDESK_DB pointing at it.
- `team`: `db` plus four staff, one per level: 王芳 specialist → 李娜 supervisor → 张强 manager → 陈总 director.
- `cli`: run `csdesk ARGS…` through Typer's CliRunner; returns the Click result (stdout/stderr separate).
- `NOW`: the fixed clock, Tuesday 2026-11-24 10:00 in Asia/Shanghai (CSDESK_NOW).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from datetime import datetime
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
    monkeypatch.setenv("CSDESK_DB", str(tmp_path / "desk.db"))


class TestDB:
    """A test database: its path, a Database handle, and a way to run workflows as someone."""

    def __init__(self, path: Path):
        from csdesk.db import Database, resolve

        self.path = path
        self.url = f"sqlite:///{path}"
        self.database = Database(resolve(str(path)))

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
        from sqlalchemy import text

        with self.database.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

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


@pytest.fixture
def db(tmp_path, tmp_path_factory) -> TestDB:
    path = tmp_path / "desk.db"
    shutil.copyfile(_template(tmp_path_factory), path)
    os.chmod(path, 0o600)
    return TestDB(path)


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
