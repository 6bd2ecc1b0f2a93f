"""Property: hostile text (markup, ESC/OSC/CSI sequences, C1 controls, bidi controls, NUL, very long)
written into every text field — through the CLI, and straight into the rows as an older csdesk or
another tool might have left it — never reaches a terminal as control: every list and show command
exits 0 with no traceback, and the only escape sequences on the terminal are csdesk's own styling.

Hypothesis drives the writes and checks every screen in-process (no terminal there, so csdesk emits no
escape at all: any control character in the output came from data). Then the installed `csdesk` runs
every list and show command on a pseudo-terminal (Python's `pty`), where Rich does style its output:
there only SGR sequences (`ESC [ … m`) may appear. Examples are derandomized so CI is stable; the run
stays within some tens of seconds on each backend.
"""

from __future__ import annotations

import itertools
import os
import pty
import re
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PIECES = [
    "\x1b[2J", "\x1b[31m", "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\", "\x1b]0;title\x07", "\x9b2J",
    "\x9d8;;http://e\x9c", "\u202e", "\u2066", "\u200f", "\u2028", "\x00", "\x07", "\x08", "\x7f", "\r", "\n", "\t",
    "[/x]", "[/平方米]", "[link=http://evil.example]点我[/link]", "[bold]", ":smile:", "客", "a ", "13912345678",
]
HOSTILE = st.one_of(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=10).map("".join),
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40),
    st.builds(lambda piece, n: (piece * n)[:5000], st.sampled_from(PIECES), st.integers(300, 3000)),
)
# What the terminal must never receive from data: C0 (but newline and tab), DEL, C1, bidi controls.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
SGR = re.compile(r"\x1b\[[0-9;]*m")

# (table, column) holding text from people, written raw as stored data.
TEXT_COLUMNS = [
    ("staff", "name"), ("staff", "email"), ("customer", "name"), ("customer", "company"), ("customer", "address"),
    ("customer", "source"), ("customer", "notes"), ("call", "summary"), ("call", "phone_raw"), ("complaint", "summary"),
    ("complaint", "resolution"), ("complaint_event", "note"), ("project", "name"), ("project", "site"),
    ("adjustment", "item"), ("callback", "note"), ("callback", "result_note"), ("instalment", "name"),
    ("notice", "message"),
]
PHONE = "13900000001"
SHOW_TEXT = {("calls", "list"), ("customer", "show"), ("complaint", "show"), ("staff", "list"), ("project", "show"),
             ("callback", "show")}


def screens(project: str) -> list[tuple[str, ...]]:
    return [
        ("calls", "list"), ("customer", "list"), ("customer", "show", "C000001"), ("staff", "list", "--all"),
        ("complaint", "list"), ("complaint", "show", "1"), ("complaint", "sla", "1"), ("callback", "list", "--due", "all"),
        ("callback", "show", "1"), ("project", "list"), ("project", "show", project), ("adjust", "list"),
        ("payment", "list"), ("payment", "aging"), ("audit",), ("remind", "list"), ("remind", "run", "--dry-run"),
        ("report", "monthly", "2026-11"),
    ]


def _ok(result, what):
    assert result.exit_code == 0, (what, result.stdout[-2000:], result.stderr[-2000:])
    return result


def _baseline(cli) -> str:
    """One row of each kind, written with plain text, that the raw writes then fill with hostile text."""
    _ok(cli("--as", "陈总", "staff", "add", "甲", "--role", "specialist", "--reports-to", "李娜"), "staff")
    _ok(cli("--as", "王芳", "customer", "add", "乙", "--phone", PHONE), "customer")
    _ok(cli("--as", "王芳", "log-call", "--phone", PHONE, "--kind", "complaint", "--summary", "s", "--open-complaint"), "call")
    project = _ok(cli("--as", "王芳", "project", "add", "丙", "--customer", PHONE, "--contract", "10万"), "project").stdout.split()[0]
    _ok(cli("--as", "王芳", "project", "handover", project), "handover")
    _ok(cli("--as", "王芳", "adjust", "add", "--project", project, "--item", "i"), "adjust")
    _ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "today 11:00", "--note", "n"), "callback")
    _ok(cli("--as", "王芳", "payment", "plan", project, "--split", "首款:100%:sign"), "plan")
    _ok(cli("remind", "run"), "remind")
    return project


def _write_through_cli(cli, text: str, n: int, project: str) -> None:
    """Hostile text into every text field a command takes: refused (exit 1) or stored (exit 0), never a crash."""
    phone = f"1370000{n:04d}"
    for args in (
        ("--as", "陈总", "staff", "add", f"{text[:50]}{n}", "--role", "specialist", "--email", f"{text[:20]}@x.cn"),
        ("--as", "王芳", "customer", "add", f"{text[:90]}", "--phone", phone, "--company", text, "--address", text,
         "--source", text[:50], "--notes", text),
        ("--as", "王芳", "log-call", "--phone", phone, "--kind", "inquiry", "--summary", text, "--name", text[:90]),
        ("--as", "王芳", "complaint", "open", "--phone", PHONE, "--summary", text),
        ("--as", "王芳", "complaint", "note", "1", text),
        ("--as", "王芳", "project", "add", text[:190], "--customer", PHONE, "--contract", "1万", "--site", text),
        ("--as", "王芳", "adjust", "add", "--project", project, "--item", text[:490]),
        ("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "tomorrow", "--note", text),
    ):
        result = cli(*args)
        assert result.exit_code in (0, 1), (args[2:4], result.stdout[-1000:], result.stderr[-1000:])
        assert not FORBIDDEN.search(result.stdout + result.stderr), (args[2:4], result.stdout + result.stderr)


def _write_raw(db, text: str) -> None:
    """The same text straight into the rows (the first of each table), cut to the column's length."""
    from sqlalchemy import text as sql

    from csdesk.models import SQLModel

    if db.path is None:  # PostgreSQL refuses NUL in text
        text = text.replace("\x00", "\x01")
    tables = SQLModel.metadata.tables
    with db.database.engine.begin() as conn:
        for table, column in TEXT_COLUMNS:
            length = getattr(tables[table].c[column].type, "length", None) or 5000
            value = text[:length]
            if table == "staff" and column == "name":  # names are unique: the baseline's extra person only
                conn.execute(sql("UPDATE staff SET name = :v WHERE id = (SELECT id FROM staff WHERE name = '甲' OR id = 5 ORDER BY id LIMIT 1)"), {"v": value})
            else:
                conn.execute(sql(f'UPDATE "{table}" SET "{column}" = :v WHERE id = (SELECT min(id) FROM "{table}")'), {"v": value})


# One Python process on the terminal runs the screens one after the other (the same app as the installed
# command, without paying the interpreter's start-up for each); the installed `csdesk` runs a few itself.
DRIVER = r"""
import json, sys
from csdesk.cli import app
for args in json.loads(sys.argv[1]):
    try:
        app(args=args, prog_name="csdesk", standalone_mode=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:
        print("Traceback:", type(exc).__name__, exc)
        code = 99
    sys.stdout.flush()
    sys.stderr.flush()
    print("\n<<<exit %d>>>" % code, flush=True)
"""


def _on_a_terminal(command: list[str]) -> str:
    """Run `command` with stdout and stderr on a pseudo-terminal (colours on); everything it wrote."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env.update(TERM="xterm-256color", CSDESK_AGENT="王芳")
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, env=env, close_fds=True)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    code = proc.wait(timeout=120)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert code == 0, (command[-1][:200], shown[-2000:])
    return shown


def _check_terminal(args, shown: str) -> None:
    assert "Traceback" not in shown, (args, shown[-2000:])
    rest = SGR.sub("", shown).replace("\r\n", "\n")
    found = FORBIDDEN.search(rest)
    assert found is None, (args, repr(found.group()), rest[max(0, found.start() - 80):found.end() + 80])
    if tuple(args[:2]) in SHOW_TEXT:
        assert "\\x1b[2J" in rest, (args, rest[-1500:])


def test_hostile_text_in_every_field_never_reaches_the_terminal(team, cli):
    project = _baseline(cli)
    counter = itertools.count(1)

    @settings(max_examples=5, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(HOSTILE)
    def every_screen_is_safe(text):
        n = next(counter)
        _write_through_cli(cli, text, n, project)
        _write_raw(team, text)
        for args in screens(project)[::2] if n % 2 else screens(project)[1::2]:  # each screen every other example
            result = cli("--as", "王芳", *args)
            assert result.exit_code == 0, (args, result.stdout[-1000:], result.stderr[-1000:])
            found = FORBIDDEN.search(result.stdout + result.stderr)
            assert found is None, (args, repr(found.group()), (result.stdout + result.stderr)[max(0, found.start() - 80):found.end() + 80])

    every_screen_is_safe()

    # The worst of it at once, then every screen on a real (pseudo-)terminal with colours on.
    import json

    _write_raw(team, "".join(PIECES) * 3)
    all_screens = [list(a) for a in screens(project)]
    shown = _on_a_terminal([sys.executable, "-c", DRIVER, json.dumps(all_screens)])
    parts = re.split(r"\r?\n<<<exit (\d+)>>>\r?\n", shown)
    outputs, codes = parts[0:-1:2], [int(c) for c in parts[1::2]]
    assert len(codes) == len(all_screens), shown[-3000:]
    for args, code, output in zip(all_screens, codes, outputs):
        assert code == 0, (args, output[-2000:])
        _check_terminal(args, output)
    exe = shutil.which("csdesk")
    if exe:
        for args in (["calls", "list"], ["customer", "show", "C000001"], ["staff", "list", "--all"]):
            _check_terminal(args, _on_a_terminal([exe, *args]))
