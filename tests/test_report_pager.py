"""Terminal reports go through a pager when stdout is a terminal, never when piped; a reader that stops early
(`| head -1`) ends the report quietly with exit 0 (issue 14)."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import time

import pytest
from test_reports import month  # noqa: F401 — the shared hand-counted dataset fixture

CSDESK = shutil.which("csdesk")
pytestmark = pytest.mark.skipif(CSDESK is None, reason="the installed csdesk command is needed")


def test_piped_into_head_ends_quietly(month):
    result = subprocess.run(f"set -o pipefail; '{CSDESK}' report monthly --period 2026-10 | head -1", shell=True,
                            executable="/bin/bash", capture_output=True, text=True, env={**os.environ, "CSDESK_LANG": "zh"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "月报 2026年10月\n"
    assert result.stderr == ""


def test_piped_output_has_no_pager(month, tmp_path):
    paged = tmp_path / "paged.txt"
    result = subprocess.run([CSDESK, "report", "monthly", "--period", "2026-10"], capture_output=True, text=True,
                            env={**os.environ, "PAGER": f"cat > {paged}"})
    assert result.returncode == 0, result.stderr
    assert "Monthly report: October 2026" in result.stdout
    assert not paged.exists()


def _on_a_terminal(args: list[str], env: dict) -> tuple[int, str]:
    """Run with stdout (and stdin) on a pseudo-terminal; returns the exit code and what reached the terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    seen = b""
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the command has ended
            break
        if not chunk:
            break
        seen += chunk
    code = proc.wait(timeout=60)
    os.close(master)
    return code, seen.decode("utf-8", "replace")


def test_a_terminal_gets_the_pager_unless_no_pager(month, tmp_path):
    paged = tmp_path / "paged.txt"
    env = {**os.environ, "PAGER": f"cat > {paged}", "CSDESK_LANG": "en"}
    code, seen = _on_a_terminal([CSDESK, "report", "monthly", "--period", "2026-10"], env)
    assert code == 0
    assert "Monthly report: October 2026" in paged.read_text(encoding="utf-8")
    assert "Monthly report" not in seen  # it went to the pager, not straight to the terminal
    paged.unlink()
    code, seen = _on_a_terminal([CSDESK, "report", "monthly", "--period", "2026-10", "--no-pager"], env)
    assert code == 0
    assert "Monthly report: October 2026" in seen
    assert not paged.exists()
