"""Make tests/data/schema-<HEAD>.db: a populated database at the current schema, kept from now on.

tests/test_upgrade.py copies every tests/data/schema-*.db, runs `csdesk db upgrade` on it and checks
that every row is still there; so each released schema leaves one such file behind. Whenever a new
migration becomes HEAD (csdesk/migrations/__init__.py), run this once and commit the new file:

    python tests/data/make_schema_fixture.py            # writes tests/data/schema-<HEAD>.db

The content is the demo department (every area's demo step, fixed seed) at a fixed clock, so running it
twice gives the same rows. An existing file for HEAD is only replaced with --force: a released schema's
file must never change.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLOCK = "2026-11-24T10:00:00+08:00"  # the tests' NOW


def make(force: bool = False) -> Path:
    root = HERE.parent.parent
    sys.path.insert(0, str(root))
    from csdesk.migrations import HEAD

    target = HERE / f"schema-{HEAD}.db"
    if target.exists() and not force:
        raise SystemExit(f"{target} exists; a released schema's file must not change (use --force while {HEAD} is unreleased)")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CSDESK_NOW"] = CLOCK
        os.environ["CSDESK_CONFIG"] = str(Path(tmp) / "csdesk.toml")
        (Path(tmp) / "csdesk.toml").write_text("", encoding="utf-8")
        os.environ.pop("CSDESK_DB", None)
        os.environ.pop("CSDESK_AGENT", None)
        from typer.testing import CliRunner

        from csdesk.cli import app

        built = Path(tmp) / "demo.db"
        result = CliRunner().invoke(app, ["demo", "--db", str(built)])
        if result.exit_code != 0:
            raise SystemExit(f"csdesk demo failed: {result.stderr}{result.exception!r}")
        conn = sqlite3.connect(built)
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        if version != HEAD:
            raise SystemExit(f"the demo database is at {version}, not {HEAD}")
        if target.exists():
            target.unlink()
        conn.execute("VACUUM INTO ?", (str(target),))  # one compact file, no -wal beside it
        conn.close()
    counts = sqlite3.connect(target).execute(
        "SELECT group_concat(name, ' ') FROM sqlite_master WHERE type = 'table'"
    ).fetchone()[0]
    print(f"wrote {target.relative_to(root)} ({target.stat().st_size // 1024} KiB): {counts}")
    return target


if __name__ == "__main__":
    make(force="--force" in sys.argv[1:])
