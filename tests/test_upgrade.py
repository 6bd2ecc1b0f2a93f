"""Upgrades: a database made by an earlier schema is brought to the current one with every row kept.

tests/data/schema-<REV>.db is a populated database (the demo department) made by schema REV with
tests/data/make_schema_fixture.py; one is kept for every schema released, and each is upgraded here.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from csdesk.migrations import HEAD

DATA = Path(__file__).parent / "data"
FIXTURES = sorted(DATA.glob("schema-*.db"))


def _rows(path: Path) -> dict[str, list[dict]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    out = {t: [dict(r) for r in conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid')] for t in tables if t != "alembic_version"}
    conn.close()
    return out


def test_the_current_schema_has_its_fixture():
    assert (DATA / f"schema-{HEAD}.db").exists(), (
        f"schema {HEAD} has no tests/data/schema-{HEAD}.db: run `python tests/data/make_schema_fixture.py` and commit it"
    )


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_db_upgrade_keeps_every_row(fixture, tmp_path, cli):
    from sqlalchemy import create_engine, inspect
    from sqlmodel import SQLModel

    import csdesk.models  # noqa: F401

    path = tmp_path / "desk.db"
    shutil.copyfile(fixture, path)
    os.chmod(path, 0o600)
    before = _rows(path)
    assert sum(len(v) for v in before.values()) > 1000, "the fixture should hold a populated desk"

    result = cli("--db", str(path), "db", "upgrade")
    assert result.exit_code == 0, result.stderr
    check = cli("--db", str(path), "db", "check")
    assert check.exit_code == 0, check.stdout + check.stderr
    assert f"schema: {HEAD} (current)" in check.stdout

    after = _rows(path)
    for table, rows in before.items():
        assert table in after, f"{fixture.name}: table {table} is gone after the upgrade"
        assert len(after[table]) == len(rows), f"{fixture.name}: {table} had {len(rows)} rows, now {len(after[table])}"
        kept = set(rows[0]) & set(after[table][0]) if rows else set()
        for old, new in zip(rows, after[table]):
            assert {k: old[k] for k in kept} == {k: new[k] for k in kept}, f"{fixture.name}: a {table} row changed"

    # The upgraded file has the schema the code expects (a stale fixture for HEAD shows up here).
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        inspector = inspect(conn)
        present = set(inspector.get_table_names())
        for table in SQLModel.metadata.sorted_tables:
            assert table.name in present, (
                f"{fixture.name} upgraded has no table {table.name}"
                + (" — regenerate it: python tests/data/make_schema_fixture.py --force" if fixture.stem == f"schema-{HEAD}" else "")
            )
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, f"{fixture.name} upgraded: columns of {table.name} differ from the models"
    engine.dispose()

    # And it is a working desk.
    for args in (("customer", "list", "--json"), ("calls", "list", "--json"), ("audit", "--json")):
        shown = cli("--db", str(path), *args)
        assert shown.exit_code == 0, (args, shown.stderr)
    logged = cli("--db", str(path), "--as", "王芳", "log-call", "--phone", "13912345678", "--kind", "inquiry", "--summary", "升级后第一通")
    assert logged.exit_code == 0, logged.stderr
