"""Read commands on a database whose file and folder are read-only (issue 12; an archive on a read-only share).

Honest about root: root ignores file permissions, so when the tests run as root the commands run as the
user `nobody` (`setpriv --reuid nobody`, with the system Python of the same version and this checkout plus
its site-packages on PYTHONPATH); as any other user, the file modes alone are enough. The folder is 0555
and the files 0444: SQLite can create no journal, -wal or -shm there. Two files are read: an archive
(rollback journal, opened with mode=ro) and a live database in WAL mode (opened with mode=ro&immutable=1,
since no -shm can be made). Reads work; a write is refused in one line; neither file changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from test_archive_crash import MANAGER, demo  # noqa: F401  (the shared demo fixture)

ROOT = Path(__file__).resolve().parent.parent


def _reader_prefix() -> list[str] | None:
    """How to run Python as someone who cannot write the files; None: no honest way on this machine."""
    if os.geteuid() != 0:
        return [sys.executable]
    setpriv = shutil.which("setpriv")
    python = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    try:
        import pwd

        pwd.getpwnam("nobody")
    except KeyError:
        return None
    if not setpriv or not python.exists():
        return None
    return [setpriv, "--reuid=nobody", "--regid=nogroup" if _group("nogroup") else "--regid=nobody", "--clear-groups", str(python)]


def _group(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def share():
    folder = Path(tempfile.mkdtemp(prefix="csdesk-ro-", dir="/tmp"))
    os.chmod(folder, 0o755)
    yield folder
    os.chmod(folder, 0o755)
    shutil.rmtree(folder, ignore_errors=True)


def test_read_commands_work_on_a_read_only_file_and_folder(demo, cli, tmp_path, share):  # noqa: F811
    prefix = _reader_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv/nobody/system python: no honest read-only test here")
    made = tmp_path / "archive-2026H2.db"
    assert cli("--as", MANAGER, "db", "archive", "--before", "2026-11-24", "--to", str(made)).exit_code == 0
    files = {"archive": share / "archive-2026H2.db"}
    shutil.copyfile(made, files["archive"])
    if demo.path is not None:
        demo.database.engine.dispose()
        conn = sqlite3.connect(demo.path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        files["live (WAL)"] = share / "live.db"
        shutil.copyfile(demo.path, files["live (WAL)"])
        with open(files["live (WAL)"], "rb") as f:
            assert f.read(20)[18] == 2, "the live copy should be a WAL-mode file"
    (share / "csdesk.toml").write_text("", encoding="utf-8")
    phone = sqlite3.connect(made).execute(
        "SELECT p.number FROM customer_phone p JOIN call c ON c.customer_id = p.customer_id LIMIT 1").fetchone()[0]
    for f in share.iterdir():
        os.chmod(f, 0o444)
    os.chmod(share, 0o555)
    sums = {name: _sha(path) for name, path in files.items()}
    env = {
        "PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "NO_COLOR": "1", "COLUMNS": "200", "CSDESK_LANG": "en",
        "PYTHONPATH": os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]),
        "CSDESK_NOW": os.environ["CSDESK_NOW"], "CSDESK_CONFIG": str(share / "csdesk.toml"),
    }

    def run(*args):
        return subprocess.run([*prefix, "-m", "csdesk", *args], capture_output=True, text=True, env=env, cwd="/", timeout=300)

    # Whoever runs it really cannot write there (else this test would prove nothing).
    probe = subprocess.run([*prefix, "-c", f"open({str(share / 'x')!r}, 'w')"], capture_output=True, text=True, env=env, cwd="/")
    assert probe.returncode != 0

    for name, path in files.items():
        for args in (["report", "monthly", "2026-11"], ["report", "annual", "2026", "--json"], ["customer", "show", phone],
                     ["audit", "--limit", "3"], ["calls", "list", "--limit", "3"], ["db", "check"]):
            shown = run("--db", str(path), *args)
            assert shown.returncode == 0, f"{name} {args}: {shown.stderr}"
            assert "Error" not in shown.stderr
        refused = run("--db", str(path), "--as", MANAGER, "log-call", "--phone", phone, "--kind", "inquiry", "--summary", "x")
        assert refused.returncode == 1, refused.stderr
        assert refused.stderr.startswith("Error: ") and "read-only" in refused.stderr and "Traceback" not in refused.stderr
    assert sorted(p.name for p in share.iterdir()) == sorted([p.name for p in files.values()] + ["csdesk.toml"])
    assert {name: _sha(path) for name, path in files.items()} == sums
