"""A `db archive` killed with SIGKILL at any moment leaves the old state or the new one (issue 18).

Old state: every row still live, no archive recorded, no archive file. New state: the moved rows only in
the archive file (recorded in the live database with its checksum), every other row only live. Never rows
in neither, never rows in both. Killed (1) at named points — while copying, after verifying the file, in
the middle of the live deletes, after the live commit but before the file is renamed — through the test
hook CSDESK_ARCHIVE_CRASH_AT, and (2) at random moments. After each kill `db archives` runs (it finishes
a committed archive whose rename was cut off), then the state is checked; finally an uninterrupted run
completes. Runs on SQLite and, under scripts/test-all, on PostgreSQL (the archive file is SQLite either way).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

MOVED = ["project", "call", "complaint", "complaint_event", "callback_series", "callback", "adjustment",
         "instalment", "payment", "payment_allocation", "collection_step", "notice", "audit_entry"]
MANAGER = "张丽华"


def _csdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "csdesk", *args]


@pytest.fixture
def demo(db, tmp_path_factory, cli):
    if not db.restore("archive-demo"):
        built = tmp_path_factory.mktemp("archive-demo") / "demo.db"
        made = subprocess.run(_csdesk("demo", "--db", str(built)), capture_output=True, text=True, timeout=600)
        assert made.returncode == 0, made.stderr
        copied = cli("--db", str(built), "db", "copy", "--to", db.location)
        assert copied.exit_code == 0, copied.stderr
        db.keep("archive-demo")
    return db


def _ids(location: str) -> dict[str, set[int]]:
    from sqlalchemy import text

    from csdesk.db import Database, resolve

    database = Database(resolve(location))
    try:
        with database.engine.connect() as conn:
            out = {}
            for t in MOVED:
                where = "WHERE entity <> 'archive'" if t == "audit_entry" else ""
                out[t] = {r[0] for r in conn.execute(text(f'SELECT id FROM "{t}" {where}'))}
            out["_archives"] = {r[0] for r in conn.execute(text("SELECT file FROM archive"))}
            return out
    finally:
        database.engine.dispose()


def _state(cli, live: str, original: dict, target: Path, why: str) -> str:
    """'old' or 'new', after checking that every row is in exactly one place."""
    listed = cli("--db", live, "db", "archives")  # finishes an archive whose rename was cut off
    assert listed.exit_code == 0, f"{why}: {listed.stderr}"
    now = _ids(live)
    if not now["_archives"]:
        assert not target.exists(), f"{why}: an archive file exists that the live database does not record"
        for t in MOVED:
            assert now[t] == original[t], f"{why}: {t} lost rows without an archive"
        return "old"
    assert now["_archives"] == {str(target.resolve())}, why
    assert target.exists(), f"{why}: the archive is recorded but its file is missing"
    arc = _ids(str(target))
    for t in MOVED:
        if t == "project":
            assert original[t] - now[t] <= arc[t], f"{why}: projects in neither place"
            continue
        assert not (now[t] & arc[t]), f"{why}: {t} rows in both places"
        assert now[t] | arc[t] == original[t], f"{why}: {t} rows in neither place"
    checked = cli("--db", str(target), "db", "check")
    assert checked.exit_code == 0, f"{why}: {checked.stdout}"
    return "new"


def _archive(live: str, target: Path, crash_at: str | None = None, delay: float | None = None):
    env = dict(os.environ)
    if crash_at:
        env["CSDESK_ARCHIVE_CRASH_AT"] = crash_at
    args = _csdesk("--db", live, "--as", MANAGER, "db", "archive", "--before", "2026-11-24", "--to", str(target))
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _, err = proc.communicate(timeout=delay if delay is not None else 600)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return "killed"
    if proc.returncode == -signal.SIGKILL:
        return "killed"
    assert proc.returncode == 0, err
    return "done"


@pytest.mark.parametrize("point, expected", [
    ("copied:call", "old"),          # half-way through writing the file
    ("verified", "old"),             # the file is complete and verified; nothing deleted yet
    ("deleted:complaint", "old"),    # inside the live transaction, some tables already deleted
    ("committed", "new"),            # the live commit is done; FILE.partial not yet renamed
])
def test_killed_at_each_stage_leaves_the_old_or_the_new_state(demo, cli, tmp_path, point, expected):
    live = demo.location
    original = _ids(live)
    target = tmp_path / "archive-2026H2.db"
    assert _archive(live, target, crash_at=point) == "killed"
    assert _state(cli, live, original, target, f"killed at {point}") == expected
    if expected == "old":
        assert db_sound(cli, live)
        assert _archive(live, target) == "done"  # the next run removes the dead .partial and completes
    assert _state(cli, live, original, target, "after the rerun") == "new"
    assert not Path(f"{target}.partial").exists()
    assert db_sound(cli, live)
    listed = json.loads(cli("--db", live, "--json", "db", "archives", "--check").stdout)["items"]
    assert [a["intact"] for a in listed] == [True]


def test_killed_at_random_moments(demo, cli, tmp_path):
    seed = int(os.environ.get("CSDESK_CRASH_SEED") or random.SystemRandom().randrange(10**9))
    rng = random.Random(seed)
    live = demo.location
    original = _ids(live)
    target = tmp_path / "a.db"
    states = []
    for delay in sorted(rng.uniform(0.3, 4.0) for _ in range(4)):
        outcome = _archive(live, target, delay=delay)
        state = _state(cli, live, original, target, f"seed {seed}, killed after {delay:.2f}s")
        states.append(state)
        if outcome == "done" or state == "new":
            break
    if states[-1] == "old":
        assert _archive(live, target) == "done"
    assert _state(cli, live, original, target, f"seed {seed}, final") == "new"
    assert db_sound(cli, live)


def db_sound(cli, location: str) -> bool:
    result = cli("--db", location, "db", "check")
    assert result.exit_code == 0, result.stdout + result.stderr
    return True
