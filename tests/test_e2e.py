"""End to end: the installed `csdesk` run in a subprocess, the way a person would on a new machine."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest


def csdesk_command() -> list[str]:
    """The installed console script beside this Python (the venv's bin), else `python -m csdesk`."""
    beside = Path(sys.executable).parent / "csdesk"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("csdesk")
    return [found] if found else [sys.executable, "-m", "csdesk"]


@pytest.fixture
def run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CSDESK_DB", "CSDESK_AGENT")}
    env["CSDESK_CONFIG"] = str(tmp_path / "csdesk.toml")  # empty settings file (conftest): the defaults

    def run(*args: str, agent: str | None = None, check: int | None = 0) -> subprocess.CompletedProcess:
        extra = {"CSDESK_AGENT": agent} if agent else {}
        proc = subprocess.run(csdesk_command() + list(args), capture_output=True, text=True, cwd=tmp_path,
                              env={**env, **extra}, timeout=120)
        assert "Traceback" not in proc.stderr, proc.stderr
        if check is not None:
            assert proc.returncode == check, (args, proc.stdout, proc.stderr)
        return proc

    return run


def test_a_first_day_at_the_desk(run, tmp_path):
    db = str(tmp_path / "office" / "desk.db")

    # Before anything exists, a command says how to start.
    proc = run("--db", db, "customer", "list", check=1)
    assert proc.stderr.splitlines() == [f"Error: no database at {db}", f"Hint: create it with: csdesk --db {db} init"]

    proc = run("--db", db, "init")
    assert proc.stderr.startswith(f"Created {db} (schema ")
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600

    run("--db", db, "staff", "add", "李娜", "--role", "supervisor", "--email", "lina@example.cn")
    run("--db", db, "--as", "李娜", "staff", "add", "王芳", "--role", "specialist", "--reports-to", "李娜")
    proc = run("--db", db, "--as", "王芳", "staff", "add", "张强", "--role", "manager", check=1)
    assert proc.stderr.startswith("Error: 王芳 (specialist) cannot add a manager")

    proc = run("--db", db, "customer", "add", "张伟", "--phone", "138 1234 5678", "--phone", "010-62345678", "--tier", "vip", agent="王芳")
    assert proc.stdout == "C000001\n"

    # The phone rings: the number typed another way finds 张伟.
    proc = run("--db", db, "--as", "王芳", "log-call", "--phone", "+86-138-1234-5678", "--kind", "repair",
               "--summary", "卫生间漏水", "--at", "today 9:30", "--duration", "5m")
    assert proc.stdout == "1\n"
    assert proc.stderr == "Call #1 logged for C000001 张伟 (VIP).\n"

    # An unknown caller becomes a customer to complete later.
    proc = run("--db", db, "--as", "王芳", "log-call", "--phone", "13900001111", "--kind", "inquiry", "--summary", "问价格")
    assert "C000002" in proc.stderr and "new customer" in proc.stderr

    # A typo is refused without writing anything.
    proc = run("--db", db, "--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "chat", "--summary", "x", check=1)
    assert proc.stderr.splitlines()[0].startswith("Error: unknown kind 'chat'")
    assert proc.stdout == ""

    proc = run("--db", db, "customer", "show", "010 6234 5678")
    assert proc.stdout.splitlines()[0] == "C000001 张伟  VIP"
    assert "卫生间漏水" in proc.stdout and "2026-11-24 09:30" in proc.stdout

    data = json.loads(run("--db", db, "--json", "customer", "show", "C000001").stdout)
    assert data["calls"][0]["at"] == "2026-11-24T09:30:00+08:00" and data["calls"][0]["duration_s"] == 300

    audit = json.loads(run("--db", db, "--json", "audit").stdout)["items"]
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("call.log", "王芳"), ("customer.add", "王芳"), ("call.log", "王芳"), ("customer.add", "王芳"),
        ("staff.add", "李娜"), ("staff.add", None),
    ]

    backup = str(tmp_path / "backup.db")
    run("--db", db, "db", "backup", backup)
    proc = run("--db", backup, "db", "check")
    assert "integrity: ok" in proc.stdout
