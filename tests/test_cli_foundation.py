"""The command line as a whole: exit codes (0 ok, 1 refused, 2 usage), data on stdout and messages on
stderr, --json that parses with ISO times and their offset, and a missing database explained."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from conftest import NOW


@pytest.fixture
def desk(team, cli):
    """The team, one customer (张伟) and one call."""
    assert cli("--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678", "--tier", "vip").exit_code == 0
    assert cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "repair", "--summary", "漏水", "--at", "today 9:30").exit_code == 0
    return team


def check_refusal(result, error: str | None = None) -> None:
    """Exit 1, nothing on stdout, exactly one `Error:` line first, then only hints or indented details."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("Error: ")
    assert all(l.startswith("Hint: ") or l.startswith("  ") for l in lines[1:]), lines
    assert sum(l.startswith("Hint: ") for l in lines) <= 1
    assert "Traceback" not in result.stderr
    if error is not None:
        assert lines[0] == error


OK = [
    ["staff", "list"],
    ["staff", "list", "--all"],
    ["customer", "list"],
    ["customer", "list", "--tier", "vip", "--search", "张"],
    ["customer", "show", "C000001"],
    ["customer", "show", "138-1234-5678"],
    ["calls", "list"],
    ["calls", "list", "--since", "-7d", "--until", "now", "--kind", "repair", "--agent", "王芳", "--customer", "C000001", "--limit", "5"],
    ["audit"],
    ["audit", "--entity", "customer:1", "--since", "today", "--limit", "3"],
    ["config", "show"],
    ["db", "check"],
    ["init"],
    ["db", "upgrade"],
    ["--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "问", "--channel", "wechat", "--direction", "out"],
    ["--as", "王芳", "customer", "add", "李四", "--phone", "13900001111"],
    ["--as", "王芳", "customer", "edit", "C000001", "--tier", "key"],
    ["--as", "李娜", "staff", "add", "刘洋", "--role", "specialist", "--reports-to", "李娜"],
]


@pytest.mark.parametrize("args", OK, ids=lambda a: " ".join(a))
def test_commands_that_succeed_exit_0_with_no_error(cli, desk, args):
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert "Error" not in result.stderr


REFUSED = [
    (["customer", "show", "C000404"], "Error: no customer with code C000404"),
    (["customer", "show", "hello"], "Error: no customer named 'hello'"),  # a name: not found (customers are named by code, phone or name)
    (["calls", "list", "--customer", "13900000000"], "Error: no customer with phone 139 0000 0000"),
    (["calls", "list", "--since", "soon"], None),
    (["calls", "list", "--kind", "chat"], None),
    (["audit", "--entity", "1:customer"], None),
    (["--as", "无名", "customer", "list"], "Error: unknown staff member '无名' given as the person acting"),
    (["customer", "add", "李四", "--phone", "13900001111"], "Error: nobody is acting: say who you are with --as NAME or CSDESK_AGENT"),
    (["--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "chat", "--summary", "x"], None),
    (["--as", "王芳", "log-call", "--phone", "138", "--kind", "inquiry", "--summary", "x"], None),
    (["--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "x", "--at", "+1d"], None),
    (["--as", "王芳", "customer", "edit", "C000404", "--tier", "key"], "Error: no customer with code C000404"),
    (["--as", "王芳", "staff", "deactivate", "李娜"], None),
    (["--as", "王芳", "customer", "import", "missing.csv"], "Error: missing.csv does not exist"),
    (["db", "backup", "."], None),
]


@pytest.mark.parametrize("args, error", REFUSED, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_refusals_exit_1_with_one_error_line_and_change_nothing(cli, desk, args, error):
    before = desk.dump()
    check_refusal(cli(*args), error)
    assert desk.dump() == before


USAGE = [
    ["no-such-command"],
    ["customer", "frobnicate"],
    ["customer", "show"],  # missing argument
    ["calls", "list", "--limit", "many"],
    ["log-call", "--phone", "13812345678"],  # missing --kind and --summary
    ["--colour", "staff", "list"],
    ["staff", "add", "X", "--role"],  # option without its value
]


@pytest.mark.parametrize("args", USAGE, ids=lambda a: " ".join(a))
def test_usage_errors_exit_2(cli, desk, args):
    before = desk.dump()
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert desk.dump() == before


def test_global_options_come_before_the_command(cli, desk):
    assert json.loads(cli("--json", "staff", "list").stdout)["total"] >= 1
    assert json.loads(cli("staff", "list", "--json").stdout)["total"] >= 1
    assert cli("staff", "list", "--as", "王芳").exit_code == 2  # --as is a global option only


# ---- --json -----------------------------------------------------------------------------------------


ISO_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00$")


def times_in(data, key_hint=("at", "created_at")):
    """Every value under a time-like key, anywhere in the JSON."""
    found = []
    if isinstance(data, dict):
        for k, v in data.items():
            if k in key_hint and v is not None:
                found.append(v)
            else:
                found.extend(times_in(v, key_hint))
    elif isinstance(data, list):
        for v in data:
            found.extend(times_in(v, key_hint))
    return found


@pytest.mark.parametrize(
    "args, expect_times",
    [
        (["customer", "show", "C000001"], True),
        (["customer", "list"], True),
        (["calls", "list"], True),
        (["audit"], True),
        (["--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "问"], True),
        (["--as", "王芳", "customer", "add", "李四", "--phone", "13900001111"], True),
        (["--as", "王芳", "customer", "edit", "C000001", "--tier", "key"], True),
        (["staff", "list"], False),
        (["db", "check"], False),
        (["config", "show"], False),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, list) else "",
)
def test_json_parses_and_times_carry_the_offset(cli, desk, args, expect_times):
    writes = args[0] == "--as"
    # The global --json before the command, or the command's own after it (a write runs once).
    for result in [cli("--json", *args)] + ([] if writes else [cli(*args, "--json")]):
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)  # nothing but JSON on stdout
        times = times_in(data)
        if expect_times:
            assert times, data
        for value in times:
            assert ISO_LOCAL.match(value), value


def test_json_call_time_is_the_wall_clock_entered(cli, desk):
    data = json.loads(cli("--json", "calls", "list").stdout)["items"]
    assert data[0]["at"] == "2026-11-24T09:30:00+08:00"
    assert data[0]["phone"] == "+8613812345678" and data[0]["id"] == 1 and data[0]["customer_code"] == "C000001"


def test_stdout_carries_data_and_stderr_messages(cli, desk):
    result = cli("--as", "王芳", "customer", "add", "李四", "--phone", "13900001111")
    assert (result.stdout, result.stderr) == ("C000002\n", "Added C000002 李四 (139 0000 1111).\n")
    result = cli("customer", "list")
    assert "C000002" in result.stdout and "shown" not in result.stdout
    assert result.stderr == ""  # all shown: no "Showing 50 of 926" line


# ---- a missing database -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["staff", "list"],
        ["customer", "show", "13812345678"],
        ["customer", "list"],
        ["--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "x"],
        ["calls", "list"],
        ["audit"],
        ["db", "check"],
        ["db", "upgrade"],
        ["db", "backup", "copy.db"],
        ["staff", "add", "陈总", "--role", "director"],
    ],
    ids=lambda a: " ".join(a),
)
def test_missing_database_says_how_to_create_it_and_creates_nothing(cli, tmp_path, args):
    path = tmp_path / "desk.db"  # CSDESK_DB points here; no `db` fixture, so it does not exist
    result = cli(*args)
    check_refusal(result, f"Error: no database at {path}")
    assert "init" in result.stderr.splitlines()[1]
    assert not path.exists()
    assert list(tmp_path.glob("desk.db*")) == [] and not (tmp_path / "copy.db").exists()


def test_missing_database_hint_names_the_file(cli, tmp_path):
    path = tmp_path / "office" / "desk.db"
    result = cli("--db", str(path), "customer", "list")
    assert result.stderr.splitlines() == [f"Error: no database at {path}", f"Hint: create it with: csdesk --db {path} init"]
    assert not path.parent.exists()


@pytest.mark.parametrize("content", [b"this is a text file, not a database" * 100, None])
def test_a_file_that_is_not_a_database_is_refused(cli, tmp_path, content):
    path = tmp_path / "notes.db"
    if content is None:
        path.mkdir()  # a folder
    else:
        path.write_bytes(content)
    check_refusal(cli("--db", str(path), "staff", "list"))


def test_python_dash_m_csdesk_help(tmp_path):
    result = subprocess.run([sys.executable, "-m", "csdesk", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ("log-call", "customer", "staff", "calls", "audit", "init", "db", "demo", "config"):
        assert command in result.stdout


def all_commands():
    import typer.main

    from csdesk.cli import app

    root = typer.main.get_command(app)
    out = []

    def walk(group, path):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, path + [name])
            else:
                out.append((" ".join(path + [name]), command))

    walk(root, [])
    return out


def test_every_command_has_a_summary_and_an_example():
    def has_example(text: str) -> bool:  # `Example: …` (or `Example (crontab): …`) on a line of its own
        return re.search(r"^\s*Example\b[^\n]*:", text, re.M) is not None

    def has_summary(text: str) -> bool:
        return bool(text.strip()) and not text.strip().startswith("Example")

    missing = [name for name, command in all_commands() if not (has_example(command.help or "") and has_summary(command.help or ""))]
    assert missing == []
    assert len(all_commands()) >= 16


def test_every_command_that_prints_data_takes_json():
    quiet = {"init", "db upgrade", "db backup", "demo", "desk"}  # print only messages (the desk is a screen)
    lacking = [name for name, command in all_commands() if name not in quiet
               and not any("--json" in p.opts for p in command.params)]
    assert lacking == []


def test_call_list_fits_an_80_column_terminal_without_cropping(cli, desk, monkeypatch):
    from rich.cells import cell_len

    cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "complaint", "--summary", "安装工人迟到两小时，客户要求道歉")
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("calls", "list")
    assert result.exit_code == 0
    assert max(cell_len(line) for line in result.stdout.splitlines()) <= 80
    for whole in ("2026-11-24 10:00", "2026-11-24 09:30", "138 1234 5678", "C000001", "王芳", "complaint"):
        assert whole in result.stdout  # ids, times, phones are never cut
    # The summary is shortened with … on its one line; --wide shows it whole.
    assert "安装" in result.stdout and "…" in result.stdout
    assert "安装工人迟到两小时，客户要求道歉" in cli("calls", "list", "--wide").stdout
