"""Half-yearly archive (issue 18): `db archive`, `db archives`, archive files opened read-only, the report
note, and the reminder for managers.

The data is the demo department at the tests' clock (NOW, 2026-11-24 10:00), archived before 2026-11-24:
that moves calls, closed complaints, finished callbacks, one ended warranty series and one archived
project with its money, and keeps all open work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NOW

MOVED = ["project", "call", "complaint", "complaint_event", "callback_series", "callback", "adjustment",
         "instalment", "payment", "payment_allocation", "collection_step", "notice", "audit_entry"]
MANAGER = "张丽华"  # the demo's manager


def _csdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "csdesk", *args]


@pytest.fixture
def demo(db, tmp_path_factory, cli):
    """The demo department in the test's database (SQLite file or PostgreSQL)."""
    if not db.restore("archive-demo"):
        built = tmp_path_factory.mktemp("archive-demo") / "demo.db"
        made = subprocess.run(_csdesk("demo", "--db", str(built)), capture_output=True, text=True, timeout=600)
        assert made.returncode == 0, made.stderr
        copied = cli("--db", str(built), "db", "copy", "--to", db.location)
        assert copied.exit_code == 0, copied.stderr
        db.keep("archive-demo")
    return db


def ids(location: str, table: str, where: str = "1=1") -> set[int]:
    from sqlalchemy import text

    from csdesk.db import Database, resolve

    database = Database(resolve(location))
    try:
        with database.engine.connect() as conn:
            return {r[0] for r in conn.execute(text(f'SELECT id FROM "{table}" WHERE {where}'))}
    finally:
        database.engine.dispose()


def rows(location: str, sql: str) -> list[tuple]:
    from sqlalchemy import text

    from csdesk.db import Database, resolve

    database = Database(resolve(location))
    try:
        with database.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        database.engine.dispose()


def test_archive_moves_finished_work_and_keeps_open_work(demo, cli, tmp_path):
    live = demo.location
    # An old call that a complaint still open today came in on.
    old_call = min(ids(live, "call", "at < '2026-11-10' AND complaint_id IS NULL"))
    opened = cli("--as", "王芳", "complaint", "open", "--call", str(old_call), "--severity", "normal", "--category", "other",
                 "--summary", "上月来电的投诉仍未解决")
    assert opened.exit_code == 0, opened.stderr
    before = {t: ids(live, t) for t in MOVED}
    open_complaints = ids(live, "complaint", "status <> 'closed'")
    pending = ids(live, "callback", "status = 'pending'")
    active_series = ids(live, "callback_series", "active")
    money_before = rows(live, "SELECT project_id, sum(amount_fen), sum(paid_fen) FROM instalment GROUP BY project_id ORDER BY 1")
    paid_before = rows(live, "SELECT project_id, sum(amount_fen) FROM payment GROUP BY project_id ORDER BY 1")
    target = tmp_path / "archive-2026H2.db"

    result = cli("--as", MANAGER, "--json", "db", "archive", "--before", "2026-11-24", "--to", str(target))
    assert result.exit_code == 0, result.stderr
    made = json.loads(result.stdout)
    assert made["dry_run"] is False and made["sha256"] and Path(made["file"]) == target.resolve()
    assert target.exists() and not Path(f"{target}.partial").exists()
    for table in ("call", "complaint", "complaint_event", "callback", "callback_series", "project", "instalment",
                  "payment", "payment_allocation", "adjustment", "audit_entry"):
        assert made["counts"][table] > 0, f"nothing of {table} moved: the test data no longer exercises it"

    arc = str(target)
    for table in MOVED:
        # (the archive's own audit row is new)
        now_live = ids(live, table, "entity <> 'archive'" if table == "audit_entry" else "1=1")
        in_file = ids(arc, table)
        moved = before[table] - now_live
        assert now_live <= before[table], table
        assert made["counts"][table] == len(moved), table
        if table == "project":
            # Reference copies: projects that stay live but that archived calls or complaints name.
            assert moved <= in_file and (in_file - moved) <= now_live
        else:
            assert in_file == moved, f"{table}: the file holds other rows than those that left"
    # Open work stays, and every row it refers to.
    assert open_complaints <= ids(live, "complaint")
    assert pending <= ids(live, "callback")
    assert active_series <= ids(live, "callback_series")
    assert not ids(arc, "complaint", "status <> 'closed'")
    assert not ids(arc, "callback", "status = 'pending'")
    assert not ids(arc, "callback_series", "active")
    moved_projects = before["project"] - ids(live, "project")
    assert rows(arc, f"SELECT DISTINCT stage FROM project WHERE id IN ({','.join(map(str, moved_projects))})") in ([("archived",)], [("settled",)], [("archived",), ("settled",)])
    # An old call that an open complaint still refers to stayed live (the fixed point at work).
    assert old_call in ids(live, "call") and old_call not in ids(arc, "call")
    # Soft references (no foreign key) resolve on both sides.
    for location in (live, arc):
        for table in ("call", "callback", "callback_series"):
            dangling = rows(location, f'SELECT count(*) FROM "{table}" x WHERE x.complaint_id IS NOT NULL '
                                      "AND NOT EXISTS (SELECT 1 FROM complaint c WHERE c.id = x.complaint_id)")
            assert dangling[0][0] == 0, f"{location}: {table} names a complaint that is not there"
    # Money: live + archive = before, project by project.
    money_after = rows(live, "SELECT project_id, sum(amount_fen), sum(paid_fen) FROM instalment GROUP BY project_id ORDER BY 1")
    money_arc = rows(arc, "SELECT project_id, sum(amount_fen), sum(paid_fen) FROM instalment GROUP BY project_id ORDER BY 1")
    assert sorted(money_after + money_arc) == money_before
    paid_after = rows(live, "SELECT project_id, sum(amount_fen) FROM payment GROUP BY project_id ORDER BY 1")
    assert sorted(paid_after + rows(arc, "SELECT project_id, sum(amount_fen) FROM payment GROUP BY project_id")) == paid_before
    # Both databases are sound; the archive is recorded with its checksum and audited.
    for location in (live, arc):
        checked = cli("--db", location, "db", "check")
        assert checked.exit_code == 0, checked.stdout + checked.stderr
    listed = cli("--json", "db", "archives", "--check")
    assert listed.exit_code == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)["items"]
    assert entry["file"] == str(target.resolve()) and entry["intact"] is True and entry["present"] is True
    assert entry["before"] == "2026-11-24" and entry["rows"] == made["rows"] and entry["created_by"] == MANAGER
    assert entry["counts"]["call"] == made["counts"]["call"]
    shown = cli("db", "archives")
    assert shown.exit_code == 0
    assert entry["sha256"] in shown.stdout and f"calls {made['counts']['call']}" in shown.stdout
    assert "2026-11-23" in shown.stdout  # the period's last day
    trail = cli("--json", "audit", "--entity", f"archive:{entry['id']}")
    assert trail.exit_code == 0, trail.stderr
    assert "db.archive" in trail.stdout


def test_an_archive_reads_like_a_desk_and_refuses_writes(demo, cli, tmp_path):
    target = tmp_path / "a.db"
    assert cli("--as", MANAGER, "db", "archive", "--before", "2026-11-24", "--to", str(target)).exit_code == 0
    arc = str(target)
    phone = rows(arc, "SELECT p.number FROM customer_phone p JOIN call c ON c.customer_id = p.customer_id LIMIT 1")[0][0]
    for args in (["report", "monthly", "2026-11"], ["report", "annual", "2026", "--json"], ["customer", "show", phone],
                 ["audit", "--limit", "5"], ["calls", "list", "--limit", "5"], ["complaint", "list", "--status", "closed"]):
        shown = cli("--db", arc, *args)
        assert shown.exit_code == 0, f"{args}: {shown.stderr}"
    report = cli("--db", arc, "report", "monthly", "2026-11")
    assert "This is an archive" in report.stdout.replace("\n", "")
    before = demo.dump() if demo.path is None else None
    refused = cli("--db", arc, "--as", MANAGER, "log-call", "--phone", phone, "--kind", "inquiry", "--summary", "问保修")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: ") and "is an archive" in refused.stderr and "read-only" in refused.stderr
    assert "Traceback" not in refused.stderr
    notices = rows(arc, "SELECT count(*) FROM notice")
    assert cli("--db", arc, "remind", "run").exit_code == 1
    assert rows(arc, "SELECT count(*) FROM notice") == notices
    # Archiving an archive is refused the same way.
    again = cli("--db", arc, "--as", MANAGER, "db", "archive", "--before", "2026-11-01", "--to", str(tmp_path / "b.db"))
    assert again.exit_code == 1 and "is an archive" in again.stderr
    if before is not None:
        assert demo.dump() == before


def test_reports_over_an_archived_period_say_so(demo, cli, tmp_path):
    target = tmp_path / "a.db"
    plain = cli("report", "monthly", "2026-11")
    assert "archived" not in plain.stdout
    assert cli("--as", MANAGER, "db", "archive", "--before", "2026-11-24", "--to", str(target)).exit_code == 0
    shown = cli("report", "monthly", "2026-11")
    assert shown.exit_code == 0
    assert f"archived to {target.resolve()}" in shown.stdout.replace("\n", "")
    data = json.loads(cli("report", "monthly", "2026-11", "--json").stdout)
    assert [a["file"] for a in data["archived"]] == [str(target.resolve())]
    assert data["archived"][0]["before"] == "2026-11-24"
    # A period (and the one before it) earlier than all archived work is not affected.
    earlier = json.loads(cli("report", "monthly", "2025-03", "--json").stdout)
    assert earlier["archived"] == []


def test_archive_refusals(demo, cli, tmp_path):
    target = tmp_path / "a.db"
    snapshot = demo.dump()
    cases = [
        (["--as", "王芳"], "manager or above"),
        (["--as", MANAGER, "--before", "2027-01-01"], "in the future"),
        (["--as", MANAGER, "--before", "2020-01-01"], "nothing finished before 2020-01-01"),
        (["--as", MANAGER, "--to", str(tmp_path / "no" / "a.db")], "does not exist"),
    ]
    for extra, message in cases:
        args = ["db", "archive", "--before", "2026-11-24", "--to", str(target)]
        who = extra[:2]
        rest = extra[2:]
        for i in range(0, len(rest), 2):
            args[args.index(rest[i]) + 1] = rest[i + 1]
        result = cli(*who, *args)
        assert result.exit_code == 1, (extra, result.stdout)
        assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
        assert not target.exists()
    target.write_text("x")
    taken = cli("--as", MANAGER, "db", "archive", "--before", "2026-11-24", "--to", str(target))
    assert taken.exit_code == 1 and "already exists" in taken.stderr
    assert demo.dump() == snapshot


def test_dry_run_writes_nothing(demo, cli, tmp_path):
    target = tmp_path / "a.db"
    snapshot = demo.dump()
    result = cli("--as", MANAGER, "--json", "db", "archive", "--before", "2026-11-24", "--to", str(target), "--dry-run")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dry_run"] is True and data["counts"]["call"] > 0 and data["sha256"] is None
    assert not target.exists() and not Path(f"{target}.partial").exists()
    assert demo.dump() == snapshot


def test_a_change_between_plan_and_commit_refuses_the_archive(demo, tmp_path, monkeypatch):
    """Someone reopens work while the file is written: the live transaction sees it and moves nothing."""
    from csdesk import config
    from csdesk.errors import Conflict
    from csdesk.workflows import archive as wf

    real = wf._write_file

    def write_then_change(database, plan, partial, *args, **kwargs):
        real(database, plan, partial, *args, **kwargs)
        cid = min(plan.moved["callback"])
        with demo.database.engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE callback SET status = 'pending', closed_at = NULL WHERE id = {cid}")

    monkeypatch.setattr(wf, "_write_file", write_then_change)
    calls = len(ids(demo.location, "call"))
    with pytest.raises(Conflict, match="changed while the archive was written"):
        wf.archive_database(demo.database, config.load(demo.path), MANAGER, __import__("datetime").date(2026, 11, 24),
                            tmp_path / "a.db", NOW)
    assert len(ids(demo.location, "call")) == calls
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "a.db.partial").exists()


def test_remind_run_tells_managers_once_after_half_a_year(demo, cli, tmp_path):
    # The demo's oldest call is recent: no reminder now.
    assert cli("remind", "run").exit_code == 0
    assert rows(demo.location, "SELECT count(*) FROM notice WHERE kind = 'archive_due'")[0][0] == 0
    later = "2027-06-01 09:00"
    text = cli("remind", "run", "--dry-run", "--now", later)
    assert text.exit_code == 0, text.stderr
    assert "db archive --before 2027-01-01 --to archive-2026H2.db" in text.stdout.replace("\n", "")
    assert cli("remind", "run", env={"CSDESK_NOW": "2027-06-01T09:00:00+08:00"}).exit_code == 0
    manager_id = rows(demo.location, f"SELECT id FROM staff WHERE name = '{MANAGER}'")[0][0]
    assert rows(demo.location, "SELECT recipient_id FROM notice WHERE kind = 'archive_due'") == [(manager_id,)]
    assert cli("remind", "run", env={"CSDESK_NOW": "2027-06-02T09:00:00+08:00"}).exit_code == 0
    assert rows(demo.location, "SELECT count(*) FROM notice WHERE kind = 'archive_due'")[0][0] == 1  # once
    # After an archive, the next reminder waits for the next half-year.
    assert cli("--as", MANAGER, "db", "archive", "--before", "2026-11-24", "--to", str(tmp_path / "a.db")).exit_code == 0
    quiet = cli("remind", "run", "--dry-run", "--now", "2027-03-01 09:00")
    assert "db archive --before" not in quiet.stdout


def test_a_partial_file_left_after_the_commit_is_finished_by_db_archives(demo, cli, tmp_path):
    """The live commit happened, the rename did not (a crash in between): db archives finishes it."""
    target = tmp_path / "a.db"
    assert cli("--as", MANAGER, "db", "archive", "--before", "2026-11-24", "--to", str(target)).exit_code == 0
    target.rename(f"{target}.partial")
    listed = cli("--json", "db", "archives", "--check")
    assert listed.exit_code == 0
    (entry,) = json.loads(listed.stdout)["items"]
    assert entry["present"] and entry["intact"] and target.exists()


def test_archive_file_uses_a_rollback_journal_and_is_private(demo, cli, tmp_path):
    if demo.path is None:
        pytest.skip("file modes: SQLite live database only (the archive file is SQLite either way)")
    target = tmp_path / "a.db"
    assert cli("--as", MANAGER, "db", "archive", "--before", "2026-11-24", "--to", str(target)).exit_code == 0
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"
    import sqlite3

    conn = sqlite3.connect(target)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()
    assert not Path(f"{target}-wal").exists()


def test_vacuum_shrinks_the_live_file(demo, cli, tmp_path):
    if demo.path is None:
        pytest.skip("VACUUM of a file: SQLite only (PostgreSQL reclaims space with its own VACUUM)")
    result = cli("--as", MANAGER, "--json", "db", "archive", "--before", "2026-11-24", "--to", str(tmp_path / "a.db"), "--vacuum")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["vacuumed"] is True
    assert data["live_bytes_after"] < data["live_bytes_before"]
    assert os.path.getsize(demo.path) == data["live_bytes_after"]
    assert cli("db", "check").exit_code == 0
