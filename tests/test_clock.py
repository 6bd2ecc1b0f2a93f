"""Clocks that cannot be bent.

- A write reads "now" only once it holds the write lock (BEGIN IMMEDIATE on SQLite, the advisory
  write lock on PostgreSQL): entries are then timed in the order they are committed, and two agents
  acting on the same complaint a moment apart never get "would come before the last entry".
- `--now` in the future (past a few minutes of slack) is refused for every write, `remind run`
  included; `remind run --dry-run --now …` may look ahead. A run dated 2040 used to escalate
  complaints in 2040 and wedge them: nothing could be recorded on them again.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from conftest import NOW


def _lock_is_held(db) -> bool:
    """Whether some connection holds the database's write lock right now (asked from outside)."""
    if db.path is not None:
        other = sqlite3.connect(db.path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return True
        finally:
            other.close()
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from csdesk.db import PG_WRITE_LOCK

    engine = create_engine(db.database.target.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:a, :b)"), {"a": PG_WRITE_LOCK[0], "b": PG_WRITE_LOCK[1]}).scalar()
        return not got
    finally:
        engine.dispose()


@pytest.fixture
def clock_spy(monkeypatch):
    """Replace the clock: every reading is a distinct instant (NOW + n ms) and remembers whether the
    write lock was held when it was taken."""
    from csdesk import dates

    readings: list[tuple] = []
    state = {"db": None}

    def spy():
        value = (NOW + timedelta(milliseconds=len(readings) + 1)).astimezone(dates.UTC)
        readings.append((value, _lock_is_held(state["db"]) if state["db"] is not None else None))
        return value

    monkeypatch.setattr(dates, "now", spy)
    return readings, state


def _customer(cli) -> None:
    made = cli("--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678")
    assert made.exit_code == 0, made.stderr


def _open_complaint(cli) -> int:
    _customer(cli)
    result = cli("--as", "王芳", "--json", "complaint", "open", "--phone", "13812345678", "--severity", "normal",
                 "--category", "quality", "--summary", "地板起拱", "--at", "2026-11-24 09:00")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["id"]


def test_a_complaint_entry_is_timed_while_holding_the_write_lock(team, cli, clock_spy):
    readings, state = clock_spy
    cid = _open_complaint(cli)
    state["db"] = team
    result = cli("--as", "王芳", "complaint", "ack", str(cid), "--note", "已致电")
    assert result.exit_code == 0, result.stderr
    stored = team.scalar("SELECT acked_at FROM complaint WHERE id = :i", i=cid)
    # The instant stored as the acknowledgement was read with the write lock held — not before it.
    assert [locked for v, locked in readings if v.strftime("%Y-%m-%d %H:%M:%S.%f") == stored] == [True], (stored, readings)


def test_a_callback_attempt_without_now_is_timed_under_the_lock(team, cli, clock_spy):
    """`callback done` reads the clock early (to read --at against it); the write reads it again under the lock."""
    readings, state = clock_spy
    _customer(cli)
    made = cli("--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "today 11:00")
    assert made.exit_code == 0, made.stderr
    state["db"] = team
    result = cli("--as", "王芳", "--json", "callback", "done", "1", "--no-answer")
    assert result.exit_code == 0, result.stderr
    stored = team.scalar("SELECT last_attempt_at FROM callback WHERE id = 1")
    locked_readings = [v.strftime("%Y-%m-%d %H:%M:%S.%f") for v, locked in readings if locked]
    assert stored in locked_readings, (stored, readings)


def test_every_write_transaction_holds_the_lock_before_its_work_runs(team):
    seen = []
    team.database.write(lambda session: seen.append(_lock_is_held(team)))
    assert seen == [True]


# -- --now in the future -----------------------------------------------------------------------

def test_a_write_dated_in_the_future_is_refused_and_changes_nothing(team, cli):
    _customer(cli)
    made = cli("--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "today 11:00")
    assert made.exit_code == 0, made.stderr
    before = team.dump()
    for args in (["callback", "done", "1", "--no-answer", "--now", "2040-01-01"],
                 ["callback", "reschedule", "1", "--due", "+1d", "--now", "2040-01-01 10:00"],
                 ["callback", "cancel", "1", "--reason", "不需要", "--now", "+1h"],
                 ["callback", "generate", "--now", "2040-01-01"]):
        result = cli("--as", "王芳", *args)
        if result.exit_code == 2:  # a command another area renamed: not this test's business
            continue
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        first = result.stderr.splitlines()[0]
        assert first.startswith("Error: --now ") and "is in the future" in first, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert team.dump() == before


def test_a_few_minutes_ahead_is_a_clock_difference_not_the_future(team, cli):
    _customer(cli)
    made = cli("--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "today 11:00")
    assert made.exit_code == 0, made.stderr
    result = cli("--as", "王芳", "callback", "done", "1", "--no-answer", "--now", "+3m")
    assert result.exit_code == 0, result.stderr


def test_a_write_may_still_be_back_dated(team, cli):
    _customer(cli)
    made = cli("--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "today 11:00", "--now", "2026-11-23 10:00")
    assert made.exit_code == 0, made.stderr


def test_remind_run_in_the_future_is_refused_and_does_not_wedge_a_complaint(team, cli):
    cid = _open_complaint(cli)
    before = team.dump()
    result = cli("remind", "run", "--now", "2040-01-01")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("Error: --now 2040-01-01 00:00 is in the future")
    assert "remind run --dry-run" in result.stderr
    assert team.dump() == before  # nothing escalated, nothing announced
    # Looking ahead is a read: allowed, and it writes nothing.
    ahead = cli("--json", "remind", "run", "--now", "2040-01-01", "--dry-run")
    assert ahead.exit_code == 0, ahead.stderr
    assert json.loads(ahead.stdout)["announced"] >= 1
    assert team.dump() == before
    # And the complaint still takes entries at the real time.
    ack = cli("--as", "王芳", "complaint", "ack", str(cid))
    assert ack.exit_code == 0, ack.stderr


def test_remind_run_at_the_clock_still_runs(team, cli):
    _open_complaint(cli)
    result = cli("--json", "remind", "run", "--now", "now")
    assert result.exit_code == 0, result.stderr
