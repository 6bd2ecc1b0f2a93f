"""Crashes: commands killed with SIGKILL at random moments leave a sound database and no half-done work.

A 20,000-row `customer import` is killed several times at random points: afterwards `db check` passes
and the import is all-or-nothing (no customers, or all of them with all their numbers and audit rows).
A `remind run` is killed half way several times: the next complete run finishes the work, and what is
announced in the end is exactly what one uninterrupted run announces — nothing twice, nothing missing.
Runs on SQLite and, under scripts/test-all, on PostgreSQL. The kill points are random; the seed is in
every failure message (set CSDESK_CRASH_SEED to replay one).
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from conftest import NOW

ROWS = 20_000
KILLS = 4


def _rng() -> tuple[random.Random, int]:
    seed = int(os.environ.get("CSDESK_CRASH_SEED") or random.SystemRandom().randrange(10**9))
    return random.Random(seed), seed


def _csdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "csdesk", *args]


def _killed_after(args: list[str], delay: float) -> bool:
    """Run a csdesk command and SIGKILL it after `delay` seconds; True if it was killed (not finished)."""
    proc = subprocess.Popen(_csdesk(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return True
    assert proc.returncode == 0, err
    return False


def _sound(cli, location: str, seed: int) -> None:
    result = cli("--db", location, "db", "check")
    assert result.exit_code == 0, f"seed {seed}: {result.stdout}{result.stderr}"
    assert "integrity: ok" in result.stdout


def _has_command(*path: str) -> bool:
    from typer.main import get_command

    from csdesk.cli import app

    group = get_command(app)
    for name in path:
        group = getattr(group, "commands", {}).get(name)
        if group is None:
            return False
    return True


def test_a_killed_customer_import_is_all_or_nothing(team, tmp_path, cli):
    rng, seed = _rng()
    sheet = tmp_path / "客户名单.csv"
    with sheet.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["姓名", "电话", "公司", "等级"])
        for i in range(ROWS):
            writer.writerow([f"客户{i:05d}", f"138{i:08d}" + (f"/139{i:08d}" if i % 5 == 0 else ""), "华府装饰" if i % 3 == 0 else "", "vip" if i % 10 == 0 else "普通"])
    phones = ROWS + ROWS // 5
    args = ["--db", team.location, "--as", "王芳", "customer", "import", str(sheet)]

    def counts():
        return (
            team.scalar("SELECT count(*) FROM customer"),
            team.scalar("SELECT count(*) FROM customer_phone"),
            team.scalar("SELECT count(*) FROM audit_entry WHERE action = 'customer.import'"),
        )

    killed = 0
    for delay in sorted(rng.uniform(0.5, 6.0) for _ in range(KILLS)):
        if not _killed_after(args, delay):
            break  # this machine imports faster than the kill came: the import is complete
        killed += 1
        _sound(cli, team.location, seed)
        assert counts() == (0, 0, 0), f"seed {seed}: killed after {delay:.2f}s, a partial import is visible"
    else:
        result = subprocess.run(_csdesk(*args), capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
    _sound(cli, team.location, seed)
    assert counts() == (ROWS, phones, ROWS), f"seed {seed}, {killed} kills"
    assert team.scalar("SELECT count(DISTINCT name) FROM customer") == ROWS
    assert team.scalar(
        "SELECT c.name FROM customer c JOIN customer_phone p ON p.customer_id = c.id WHERE p.number = '+8613900019995'"
    ) == "客户19995"
    assert killed >= 1, f"seed {seed}: the first kill came after the import had finished; nothing was tested"


def test_a_killed_remind_run_finishes_the_work_once(db, tmp_path, cli, monkeypatch):
    if not _has_command("remind", "run"):
        pytest.skip("no `csdesk remind run` yet")
    rng, seed = _rng()
    demo = tmp_path / "demo" / "demo.db"
    demo.parent.mkdir()
    made = subprocess.run(_csdesk("demo", "--db", str(demo)), capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    copied = cli("--db", str(demo), "db", "copy", "--to", db.location)
    assert copied.exit_code == 0, copied.stderr
    when = (NOW + timedelta(days=3, hours=2)).isoformat()
    monkeypatch.setenv("CSDESK_NOW", when)  # the clock itself: a run's --now is never ahead of it

    # The reference: one uninterrupted run over the same data.
    reference = subprocess.run(_csdesk("--db", str(demo), "--json", "remind", "run", "--now", when), capture_output=True, text=True, timeout=600)
    assert reference.returncode == 0, reference.stderr

    killed = 0
    for delay in sorted(rng.uniform(0.3, 2.5) for _ in range(KILLS)):
        if not _killed_after(["--db", db.location, "remind", "run", "--now", when], delay):
            break
        killed += 1
        _sound(cli, db.location, seed)
    for _ in range(50):  # a killed run's lock goes with its process (or its server connection)
        final = subprocess.run(_csdesk("--db", db.location, "--json", "remind", "run", "--now", when), capture_output=True, text=True, timeout=600)
        assert final.returncode == 0, final.stderr
        if "another remind run is in progress" not in final.stderr:
            break
        time.sleep(0.2)
    again = json.loads(cli("--db", db.location, "--json", "remind", "run", "--now", when).stdout)
    assert again["announced"] == 0, f"seed {seed}: a second run announced again: {again['by_person']}"
    _sound(cli, db.location, seed)

    from csdesk.db import Database, resolve

    def outcome(location):
        """The notice keys, and how many rows each table holds (actions such as escalations add rows)."""
        from sqlalchemy import inspect, text

        database = Database(resolve(location))
        with database.engine.connect() as conn:
            keys = sorted(r[0] for r in conn.execute(text("SELECT key FROM notice")))
            sizes = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in inspect(conn).get_table_names()}
        database.engine.dispose()
        return keys, sizes

    (done, done_sizes), (expected, expected_sizes) = outcome(db.location), outcome(str(demo))
    assert len(done) == len(set(done)), f"seed {seed}: duplicate announcements"
    assert done == expected, f"seed {seed}, {killed} kills: announcements differ from one clean run"
    assert done_sizes == expected_sizes, f"seed {seed}, {killed} kills: the work done differs from one clean run"
