"""A killed or failed `csdesk demo` leaves no half-built file under the name asked for.

The demo is built under a temporary name (`.NAME.building`) and renamed when whole. A SIGKILL at a
random moment leaves either no file, or the whole demo; a failure removes what it built; an earlier
demo stays usable until the new one replaces it. SQLite only (a PostgreSQL demo is built in place).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csdesk.migrations import HEAD

pytestmark = pytest.mark.skipif(bool(os.environ.get("CSDESK_TEST_PG")), reason="the demo file is SQLite")
KILLS = 4


def _csdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "csdesk", *args]


def _whole_demo(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
        assert conn.execute("SELECT count(*) FROM audit_entry WHERE action = 'demo.build'").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM notice").fetchone()[0] > 0  # the first reminder run is in
    conn.close()


def test_a_killed_demo_leaves_no_half_built_file(tmp_path):
    seed = int(os.environ.get("CSDESK_CRASH_SEED") or random.SystemRandom().randrange(10**9))
    rng = random.Random(seed)
    started = time.monotonic()
    whole = tmp_path / "timed" / "demo.db"
    whole.parent.mkdir()
    made = subprocess.run(_csdesk("demo", "--db", str(whole)), capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    took = time.monotonic() - started
    _whole_demo(whole)
    killed = 0
    target = tmp_path / "demo.db"  # killed again and again at the same name, as a person retrying would
    for n in range(KILLS):
        proc = subprocess.Popen(_csdesk("demo", "--db", str(target)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        delay = rng.uniform(0.15, 0.95) * took
        try:
            _, err = proc.communicate(timeout=delay)
            assert proc.returncode == 0, err
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            killed += 1
        if target.exists():
            _whole_demo(target)  # renamed only once whole
    # The next demo into the same name simply works (nothing half-built stands in its way).
    again = subprocess.run(_csdesk("demo", "--db", str(target)), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, f"seed {seed}: {again.stderr}"
    _whole_demo(target)
    assert not (tmp_path / ".demo.db.building").exists()
    assert killed >= 1, f"seed {seed}: all {KILLS} demos finished before their kill came; nothing was tested"


def test_a_failed_demo_leaves_nothing_and_keeps_the_earlier_one(tmp_path, monkeypatch):
    from csdesk.config import load
    from csdesk.db import Database, resolve
    from csdesk.workflows import demo

    target = tmp_path / "demo.db"
    demo.build_demo(Database(resolve(str(target))), load(target))
    _whole_demo(target)
    before = target.stat().st_size

    def broken(desk, rng, made):
        raise RuntimeError("a step failed half way")

    monkeypatch.setattr(demo, "STEPS", demo.STEPS[:1] + [("broken", broken)] + demo.STEPS[1:])
    with pytest.raises(RuntimeError):
        demo.build_demo(Database(resolve(str(target))), load(target))
    _whole_demo(target)  # the earlier demo is untouched
    assert target.stat().st_size == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    fresh = tmp_path / "new" / "demo.db"
    fresh.parent.mkdir()
    with pytest.raises(RuntimeError):
        demo.build_demo(Database(resolve(str(fresh))), load(fresh))
    assert sorted(os.listdir(fresh.parent)) == []  # no half-built file, no temporary
