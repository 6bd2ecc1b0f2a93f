"""The report reads the cached SLA columns of finished, simple complaints (issue 15): every figure and every
detail row must be what the full recomputation from the events gives — on a generated story whose caches are
current, and after making some of them stale (an event written after the cache, cached deadlines that are wrong,
kept verdicts that differ from the cache)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import csdesk.reporting.complaints as fast

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-25 18:00"
_BUILT: dict[str, Path] = {}


@pytest.fixture
def story(tmp_path, tmp_path_factory, monkeypatch) -> Path:
    """A small generated desk (benchmarks/generate.py): 1,500 complaints over four months, caches as csdesk keeps them."""
    if "db" not in _BUILT:
        built = tmp_path_factory.mktemp("fastpath") / "story.db"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--db", str(built), "--force", "--now", NOW,
                        "--days", "120", "--customers", "300", "--calls", "3000", "--projects", "200", "--complaints", "1500",
                        "--callbacks", "2000", "--adjustments", "100", "--no-check"], check=True, capture_output=True)
        _BUILT["db"] = built
    path = tmp_path / "story.db"
    shutil.copy(_BUILT["db"], path)
    monkeypatch.setenv("CSDESK_NOW", NOW)
    return path


def _both(cli, db: Path, *args: str) -> tuple[dict, dict]:
    out = []
    for use_cache in (True, False):
        fast.USE_CACHE = use_cache
        try:
            result = cli("--db", str(db), "report", *args, "--json")
        finally:
            fast.USE_CACHE = True
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        data.pop("generated_at", None)
        out.append(data)
    return out[0], out[1]


def _detail_rows(db: Path, kind: str, period: str, use_cache: bool) -> list[tuple]:
    """The complaints sheet's rows, as the workbook gets them."""
    from csdesk import config
    from csdesk.db import Database, resolve
    from csdesk.reports import build_report, collect_details
    from csdesk.workflows import Desk
    from datetime import datetime
    from zoneinfo import ZoneInfo

    database = Database(resolve(str(db)))
    settings = config.load(db)
    now = datetime.strptime(NOW, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    fast.USE_CACHE = use_cache
    try:
        def work(session):
            desk = Desk(session=session, settings=settings, now=now, actor=None)
            report = build_report(desk, kind, period)
            return list(collect_details(desk, report)["complaints"].rows())
        return database.read(work)
    finally:
        fast.USE_CACHE = True


def _fast_share(db: Path) -> tuple[int, int]:
    """(complaints the fast path takes, all) — so that the comparison is not vacuous."""
    con = sqlite3.connect(db)
    total = con.execute("SELECT count(*) FROM complaint").fetchone()[0]
    simple = con.execute(
        "SELECT count(*) FROM complaint c WHERE status IN ('resolved', 'closed') AND NOT EXISTS (SELECT 1 FROM complaint_event e "
        "WHERE e.complaint_id = c.id AND e.kind IN ('held', 'resumed', 'escalated', 'reopened'))").fetchone()[0]
    con.close()
    return simple, total


PERIODS = [("monthly", "2026-10"), ("monthly", "2026-11"), ("quarterly", "2026-Q3"), ("annual", "2026")]


@pytest.mark.parametrize("kind,period", PERIODS)
def test_fast_path_equals_recomputation_when_caches_are_current(story, cli, kind, period):
    simple, total = _fast_share(story)
    assert simple > total // 3  # most complaints are finished and simple: the fast path is really taken
    with_cache, recomputed = _both(cli, story, kind, "--period", period)
    assert with_cache == recomputed
    assert with_cache["figures"]["complaints.resolution_on_time"]["value"] is not None


def test_fast_path_falls_back_where_caches_are_stale(story, cli):
    con = sqlite3.connect(story)
    ids = [r[0] for r in con.execute(
        "SELECT id FROM complaint c WHERE status IN ('resolved', 'closed') AND resolved_at >= '2026-09-20' AND NOT EXISTS "
        "(SELECT 1 FROM complaint_event e WHERE e.complaint_id = c.id AND e.kind IN ('held', 'resumed', 'escalated', 'reopened')) "
        "ORDER BY id LIMIT 90")]
    assert len(ids) == 90
    stale, wrong_verdict = ids[:60], ids[60:]
    # 1. Caches older than an event, with wrong deadlines: a write that did not refresh them.
    for cid in stale:
        con.execute("UPDATE complaint SET first_response_due = datetime(opened_at, '+1 minute'), "
                    "resolution_due = datetime(opened_at, '+2 minutes'), "
                    "updated_at = datetime((SELECT max(at) FROM complaint_event WHERE complaint_id = ?), '-1 second') "
                    "WHERE id = ?", (cid, cid))
    # 2. Kept verdicts (a finished clock's deadline as computed when it ended) that differ from today's calendar.
    for i, cid in enumerate(wrong_verdict):
        opened, severity = con.execute("SELECT opened_at, severity FROM complaint WHERE id = ?", (cid,)).fetchone()
        due = opened.replace(" ", "T")[:19] + "+00:00"
        kept_for = severity if i % 3 else "other"  # a verdict of another severity is not kept: recomputed
        verdict = json.dumps({"fr": [due, 60, kept_for], "r0": [due, 7200, kept_for]})
        con.execute("UPDATE complaint_event SET verdict = ? WHERE complaint_id = ? AND kind = 'resolved'", (verdict, cid))
    con.commit()
    con.close()
    for kind, period in PERIODS[:3]:
        with_cache, recomputed = _both(cli, story, kind, "--period", period)
        assert with_cache == recomputed, (kind, period)
    assert _detail_rows(story, "monthly", "2026-10", True) == _detail_rows(story, "monthly", "2026-10", False)


def test_detail_rows_are_the_same(story):
    rows = _detail_rows(story, "monthly", "2026-10", True)
    assert rows and rows == _detail_rows(story, "monthly", "2026-10", False)


def test_a_test_that_can_fail(story, cli):
    """Wrong cached deadlines with a current-looking cache are taken as they are: the comparison above sees them."""
    con = sqlite3.connect(story)
    con.execute("UPDATE complaint SET resolution_due = datetime(opened_at, '+1 minute') WHERE status IN ('resolved', 'closed') "
                "AND resolved_at >= '2026-10-05' AND resolved_at < '2026-10-25'")
    con.commit()
    con.close()
    with_cache, recomputed = _both(cli, story, "monthly", "--period", "2026-10")
    assert with_cache["figures"]["complaints.resolution_on_time"] != recomputed["figures"]["complaints.resolution_on_time"]
