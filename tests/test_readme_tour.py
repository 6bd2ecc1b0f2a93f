"""The README's tour works as written on a fresh demo (issue 14).

Every `csdesk` line of the README's tour section (`<!-- section: tour -->`) runs, in order, against a
fresh demo department, as the installed command would run it: `export` lines set the environment for
the lines after them, `VAR=value csdesk …` for that line. A line does what its comment says:

- it exits 0, unless its comment starts with `拒绝` (refused: exit 1, one `错误：` line, nothing else);
- each text in 「」 in its comment appears in what it printed (stdout and stderr).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
QUOTED = re.compile(r"「([^」]+)」")


def tour_lines(text: str) -> list[str]:
    """The shell lines of the tour's ```bash blocks (continuations joined, blank lines dropped)."""
    start, end = text.index("<!-- section: tour -->"), text.index("<!-- /section: tour -->")
    lines, inside, buf = [], False, ""
    for line in text[start:end].splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        if not inside or not line.strip():
            continue
        joined = buf + line.strip()
        if joined.endswith("\\"):
            buf = joined[:-1] + " "
            continue
        buf = ""
        lines.append(joined)
    return lines


def split_comment(line: str) -> tuple[str, str]:
    """`csdesk today   # 我今天的工作` → the command, and its comment (after two spaces and a `#`)."""
    parts = re.split(r"\s{2,}#", line, maxsplit=1)
    return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")


def test_the_tour_is_in_the_readme():
    lines = tour_lines(README.read_text(encoding="utf-8"))
    assert sum(1 for line in lines if "csdesk " in line) >= 25


def test_the_readme_tour_works_on_a_fresh_demo(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from csdesk.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CSDESK_LANG", raising=False)  # the tour is read in the default language
    env: dict[str, str] = {"CSDESK_LANG": "zh_CN", "COLUMNS": "80"}
    runner = CliRunner()
    ran = 0
    for line in tour_lines(README.read_text(encoding="utf-8")):
        command, comment = split_comment(line)
        words = shlex.split(command)
        if words and words[0] == "export":
            name, _, value = words[1].partition("=")
            env[name] = value
            continue
        local = dict(env)
        while words and re.match(r"^[A-Z_]+=", words[0]):
            name, _, value = words.pop(0).partition("=")
            local[name] = value
        if not words or words[0] != "csdesk":
            continue
        result = runner.invoke(app, words[1:], env=local, catch_exceptions=False)
        said = result.stdout + result.stderr
        if comment.startswith("拒绝"):
            assert result.exit_code == 1, f"{line}\nshould be refused, got {result.exit_code}:\n{said}"
            assert result.stderr.startswith("错误："), f"{line}\n{said}"
        else:
            assert result.exit_code == 0, f"{line}\nexit {result.exit_code}:\n{said}"
        for text in QUOTED.findall(comment):
            assert text in said, f"{line}\nshould print 「{text}」:\n{said}"
        ran += 1
    assert ran >= 25
