"""Backups and schemas.

- `db backup` writes under a temporary name and renames only once SQLite's integrity check and a
  schema check pass: a SIGKILL at any moment, a full disk or a bad copy leaves no file under the name
  asked for, and the retry is not blocked. The database's own -wal, -shm and -journal are refused.
- `db backup` works on an older schema (the upgrade hint says "back it up, then upgrade") and a newer one.
- A database written by a newer csdesk gets one line from every other command, `db upgrade` included.

SQLite only (a PostgreSQL database is backed up with pg_dump; the newer-schema line is checked on both).
The full disk is a real one when this runs as root and may mount a small tmpfs; a simulated ENOSPC
(os.fsync failing in a subprocess) runs everywhere.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from csdesk.migrations import HEAD

sqlite_only = pytest.mark.skipif(bool(os.environ.get("CSDESK_TEST_PG")), reason="db backup copies SQLite files")
KILLS = 12


def _csdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "csdesk", *args]


def _whole_backup(path: Path, version: str = HEAD) -> None:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == version
    conn.close()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


@sqlite_only
@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_the_databases_own_side_files_are_refused(db, cli, suffix):
    own = Path(str(db.path) + suffix)
    existed = own.exists()
    result = cli("db", "backup", str(own))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {own.name} is the database's own {suffix} file; choose a new file name\n"
    assert own.exists() == existed
    assert db.scalar("SELECT count(*) FROM alembic_version") == 1


@sqlite_only
def test_a_backup_that_fails_its_check_leaves_no_file(db, cli, tmp_path, monkeypatch):
    import csdesk.db

    def broken(dst, version):
        raise csdesk.db.CsdeskError("the backup copy failed SQLite's integrity check (simulated); nothing was written")

    original = csdesk.db._check_copy
    monkeypatch.setattr(csdesk.db, "_check_copy", broken)
    target = tmp_path / "out" / "desk.db"
    result = cli("db", "backup", str(target))
    assert result.exit_code == 1
    assert "integrity check" in result.stderr and "Traceback" not in result.stderr
    assert not target.exists()
    assert _leftovers(target.parent) == []
    monkeypatch.setattr(csdesk.db, "_check_copy", original)
    again = cli("db", "backup", str(target))
    assert again.exit_code == 0, again.stderr
    _whole_backup(target)


@sqlite_only
def test_the_check_catches_a_copy_without_the_schema(db, tmp_path):
    from csdesk.db import _check_copy
    from csdesk.errors import CsdeskError

    empty = sqlite3.connect(tmp_path / "empty.db")
    with pytest.raises(CsdeskError, match="not at the database's schema"):
        _check_copy(empty, HEAD)
    empty.close()


# -- schemas --------------------------------------------------------------------------------

def _older(tmp_path) -> Path:
    from csdesk.db import Database, resolve
    from csdesk.migrations import upgrade

    path = tmp_path / "old.db"
    database = Database(resolve(str(path)))
    database.create_file()
    upgrade(database.engine, "0005")
    database.engine.dispose()
    return path


@sqlite_only
def test_an_older_database_can_be_backed_up_before_its_upgrade(tmp_path, cli):
    old = _older(tmp_path)
    hint = cli("--db", str(old), "calls", "list")
    assert hint.exit_code == 1 and "back it up (csdesk db backup FILE), then run: csdesk db upgrade" in hint.stderr
    target = tmp_path / "before-upgrade.db"
    result = cli("--db", str(old), "db", "backup", str(target))
    assert result.exit_code == 0, result.stderr
    _whole_backup(target, "0005")
    upgraded = cli("--db", str(old), "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr


def _newer(db) -> str:
    from sqlalchemy import text

    with db.database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    db.database.engine.dispose()
    return f"Error: this database is at schema 9999, newer than this csdesk ({HEAD}): install a newer csdesk\n"


@pytest.mark.parametrize("args", [
    ["db", "upgrade"], ["db", "check"], ["init"], ["calls", "list"], ["remind", "run"], ["customer", "list"],
    ["--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "other", "--summary", "x"],
    ["report", "monthly"], ["db", "copy", "--to", "sqlite:////nonexistent/x.db"],
])
def test_a_newer_database_gets_one_line_from_every_command(db, cli, args):
    line = _newer(db)
    result = cli("--db", db.location, *args)
    assert result.exit_code == 1, (args, result.stdout, result.stderr)
    assert result.stderr == line, args
    assert db.scalar("SELECT version_num FROM alembic_version") == "9999"


@sqlite_only
def test_a_newer_database_can_still_be_backed_up(db, cli, tmp_path):
    _newer(db)
    target = tmp_path / "newer.db"
    result = cli("db", "backup", str(target))
    assert result.exit_code == 0, result.stderr
    _whole_backup(target, "9999")


# -- kills and full disks ---------------------------------------------------------------------

def _big(path: Path, rows: int = 60_000) -> None:
    """Enough pages that a copy takes a moment (≈ 40 MB of notes)."""
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO customer (code, name, tier, notes) VALUES (?, '客户', 'standard', ?)",
                         [(f"B{i:06d}", "备注" * 300) for i in range(rows)])
    conn.close()


@sqlite_only
def test_a_killed_backup_never_leaves_a_file_under_its_name(db, tmp_path):
    seed = int(os.environ.get("CSDESK_CRASH_SEED") or random.SystemRandom().randrange(10**9))
    rng = random.Random(seed)
    _big(db.path)
    folder = tmp_path / "backups"
    folder.mkdir()
    # How long one whole backup takes here, so that the kills land before, during and after the copy.
    started = time.monotonic()
    done = subprocess.run(_csdesk("--db", str(db.path), "db", "backup", str(folder / "timed.db")), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    whole = time.monotonic() - started
    _whole_backup(folder / "timed.db")
    killed = 0
    for n in range(KILLS):
        target = folder / f"b{n}.db"
        proc = subprocess.Popen(_csdesk("--db", str(db.path), "db", "backup", str(target)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        delay = rng.uniform(0.3, 1.1) * whole
        try:
            proc.communicate(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            killed += 1
        if target.exists():  # the rename happened: then it is a whole, checked backup
            _whole_backup(target)
        assert not Path(str(target) + "-journal").exists(), f"seed {seed}"
    assert killed >= KILLS // 3, f"seed {seed}: only {killed} of {KILLS} runs were killed before they finished"
    # Whatever a kill left is under a temporary name, never the one asked for; the retry works and
    # clears what the killed backups to that name left.
    for n in range(KILLS):
        retry = folder / f"b{n}.db"
        if not retry.exists():
            again = subprocess.run(_csdesk("--db", str(db.path), "db", "backup", str(retry)), capture_output=True, text=True, timeout=300)
            assert again.returncode == 0, again.stderr
            _whole_backup(retry)
            break
    assert [name for name in _leftovers(folder) if name.startswith(f".{retry.name}.")] == []


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if os.geteuid() != 0 or sys.platform != "linux":
        return False
    folder.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    return made.returncode == 0


@sqlite_only
def test_a_full_disk_gives_one_line_and_no_file(db, cli, tmp_path):
    """A real full disk: a 256 KB tmpfs (needs root); the database is bigger than that."""
    _big(db.path, rows=2_000)
    small = tmp_path / "small"
    if not _mount_tmpfs(small, "256k"):
        pytest.skip("cannot mount a small tmpfs here (not root); test_a_simulated_enospc covers the path")
    try:
        target = small / "desk.db"
        result = subprocess.run(_csdesk("--db", str(db.path), "db", "backup", str(target)), capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stderr
        assert result.stderr.splitlines()[0] == f"Error: cannot write the backup {target}: the disk is full; nothing was written"
        assert "Traceback" not in result.stderr
        assert sorted(os.listdir(small)) == []  # no file under the name, no temporary left behind
    finally:
        subprocess.run(["umount", str(small)], capture_output=True)
    # Nothing blocks the retry on a disk with room.
    retry = subprocess.run(_csdesk("--db", str(db.path), "db", "backup", str(target)), capture_output=True, text=True, timeout=120)
    assert retry.returncode == 0, retry.stderr
    _whole_backup(target)


@sqlite_only
def test_a_simulated_enospc_gives_one_line_and_no_file(db, tmp_path):
    """ENOSPC reported when the copy is flushed (os.fsync fails), in a subprocess running csdesk."""
    target = tmp_path / "backups" / "desk.db"
    script = textwrap.dedent(f"""
        import errno, os, sys
        def full(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        os.fsync = full
        from csdesk.cli import main
        sys.argv = ["csdesk", "--db", {str(db.path)!r}, "db", "backup", {str(target)!r}]
        main()
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"Error: cannot write the backup {target}: the disk is full; nothing was written",
        "Hint: free some space, or back up to another disk",
    ]
    assert not target.exists()
    assert _leftovers(target.parent) == []
    retry = subprocess.run(_csdesk("--db", str(db.path), "db", "backup", str(target)), capture_output=True, text=True, timeout=120)
    assert retry.returncode == 0, retry.stderr
    _whole_backup(target)
