"""Rule passes in short transactions: `remind run` and `callback generate` make periodic visits a batch
at a time (reminders.STEP_BATCH series per transaction), stay exactly-once when stopped between
batches, and make everything in one pass (a second pass finds nothing)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from csdesk import config as cfg
from csdesk.workflows import reminders
from csdesk.workflows.customers import add_customer

from conftest import NOW


def _customers(db, n, tier="key"):
    with db.desk(as_="王芳") as desk:
        for i in range(n):
            add_customer(desk, f"客户{i:03d}", [f"1390013{i:04d}"], tier=tier)


def _series_rows(db):
    return db.scalar("SELECT count(*) FROM callback_series")


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(reminders, "STEP_BATCH", 4)
    monkeypatch.setattr(reminders, "STEP_PAUSE", 0)
    monkeypatch.setattr(reminders, "COLLECTORS", [])
    import csdesk.workflows.reminder_rules  # noqa: F401 — the real steps

    monkeypatch.setattr(reminders, "_load_collectors", lambda: None)


def test_remind_run_makes_periodic_visits_in_short_transactions(team, small_batches):
    _customers(team, 18)
    sizes = []
    original = team.database.write

    def write(fn):
        before = _series_rows(team)
        out = original(fn)
        sizes.append(_series_rows(team) - before)
        return out

    team.database.write = write
    result = reminders.remind_run(team.database, cfg.load(team.path), NOW)
    assert result.actions == ["created 18 periodic visits (18 key account)"]
    assert _series_rows(team) == 18 and team.scalar("SELECT count(*) FROM callback WHERE status = 'pending'") == 18
    assert max(sizes) == 4 and sum(1 for s in sizes if s) == 5        # 4 + 4 + 4 + 4 + 2, each committed apart
    again = reminders.remind_run(team.database, cfg.load(team.path), NOW)
    assert again.actions == [] and _series_rows(team) == 18


def test_a_run_stopped_between_batches_finishes_the_rest_once(team, small_batches, monkeypatch):
    from csdesk.workflows import callbacks

    _customers(team, 15)
    real = callbacks.periodic_visits_batch
    calls = {"n": 0}

    def dies_on_the_third(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as if killed: the two committed batches stay
        return real(*args, **kw)

    monkeypatch.setattr(callbacks, "periodic_visits_batch", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        reminders.remind_run(team.database, cfg.load(team.path), NOW)
    assert _series_rows(team) == 8
    monkeypatch.setattr(callbacks, "periodic_visits_batch", real)
    reminders.remind_run(team.database, cfg.load(team.path), NOW)
    assert _series_rows(team) == 15
    assert team.scalar("SELECT count(DISTINCT customer_id) FROM callback_series") == 15
    assert team.scalar("SELECT count(*) FROM callback") == 15


def test_callback_generate_commits_in_batches_too(team, cli, monkeypatch):
    monkeypatch.setattr(reminders, "STEP_BATCH", 5)
    monkeypatch.setattr(reminders, "STEP_PAUSE", 0)
    _customers(team, 12, tier="vip")
    from csdesk.db import Database

    commits = []
    original = Database.write

    def write(self, fn):
        out = original(self, fn)
        commits.append(out)
        return out

    monkeypatch.setattr(Database, "write", write)
    result = cli("--as", "王芳", "callback", "generate")
    assert result.exit_code == 0, result.stderr
    assert "Made 12 visits." in result.stderr
    assert [len(made) for made, _ in commits] == [5, 5, 2]


def test_generate_makes_everything_in_one_pass(team):
    """A warranty series that runs out during the pass hands its customer to the owner rule in the same pass."""
    from csdesk.workflows import projects as P
    from csdesk.workflows.callbacks import generate_periodic_visits

    with team.desk(as_="王芳") as desk:
        add_customer(desk, "钱业主", ["13600003333"])
        P.add_project(desk, "三室两厅装修", "13600003333", Decimal("100000"))
        P.handover_project(desk, "P000001")
    # Its visits were dealt with outside the series (cancelled one by one): the series is idle, nothing left.
    with team.database.engine.begin() as conn:
        conn.execute(text("UPDATE callback SET status = 'cancelled', seq = 100 + id "
                          "WHERE series_id IN (SELECT id FROM callback_series WHERE rule = 'warranty')"))
    with team.desk(as_="王芳") as desk:
        first = generate_periodic_visits(desk)
    with team.desk(as_="王芳") as desk:
        second = generate_periodic_visits(desk)
    assert [v.rule for v in first] == ["owner"]
    assert second == []
    assert team.scalar("SELECT active FROM callback_series WHERE rule = 'warranty'") in (0, False)
