"""`csdesk demo`: a realistic sample department in a new file, never over real work, and every
command it suggests works."""

from __future__ import annotations

import shlex
from datetime import timedelta

from conftest import NOW


def try_next(stdout: str) -> list[list[str]]:
    lines = stdout.splitlines()
    start = lines.index("Try next:")
    end = lines.index("", start + 1) if "" in lines[start + 1:] else len(lines)
    commands = [shlex.split(l) for l in lines[start + 1:end] if l.strip()]
    assert commands and all(c[0] == "csdesk" for c in commands)
    return [c[1:] for c in commands]


def test_demo_builds_a_department_and_its_suggestions_work(cli, tmp_path):
    from csdesk.db import Database, resolve

    path = tmp_path / "sample.db"
    result = cli("demo", "--db", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Built a sample department in {path}:")
    assert "Try next:" in result.stdout
    # It ends with the line to paste and the desk to work in.
    assert result.stdout.splitlines()[-2:] == [f"  export CSDESK_DB={path}", "  csdesk --as 王芳 desk"]

    database = Database(resolve(str(path)))
    with database.engine.connect() as conn:
        def one(sql):
            return conn.exec_driver_sql(sql).scalar()

        roles = {r for (r,) in conn.exec_driver_sql("SELECT DISTINCT role FROM staff").fetchall()}
        assert roles == {"specialist", "supervisor", "manager", "director"}
        assert one("SELECT count(*) FROM customer") >= 200
        assert one("SELECT count(DISTINCT tier) FROM customer") == 3
        assert one("SELECT count(*) FROM customer WHERE name IS NULL OR name = ''") == 0
        calls = one("SELECT count(*) FROM call")
        assert calls >= 300
        first, last = conn.exec_driver_sql("SELECT min(at), max(at) FROM call").one()
    from datetime import datetime, timezone

    def utc(value):
        return (value if isinstance(value, datetime) else datetime.fromisoformat(str(value))).replace(tzinfo=timezone.utc)

    assert utc(last) <= NOW and utc(first) <= NOW - timedelta(days=28)  # a month of calls, none in the future
    database.engine.dispose()

    # Every command the demo suggests runs as printed.
    suggestions = try_next(result.stdout)
    assert len(suggestions) >= 4
    for args in suggestions:
        run = cli(*args)
        assert run.exit_code == 0, (args, run.stderr)


def test_demo_refuses_a_database_with_real_work(cli, team):
    before = team.dump()
    result = cli("demo", "--db", team.location)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"Error: {team.database.target.label} already holds data that is not a csdesk demo; the demo only writes into a new file"
    )
    assert team.dump() == before


def test_demo_defaults_to_a_file_here_and_rebuilds_an_earlier_demo(cli, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    first = cli("demo")  # CSDESK_DB points elsewhere: the demo never uses it
    assert first.exit_code == 0, first.stderr
    demo = work / "csdesk-demo.db"
    assert first.stdout.startswith(f"Built a sample department in {demo}:")
    assert not (tmp_path / "desk.db").exists()

    again = cli("--db", str(demo), "demo")  # the global --db works too
    assert again.exit_code == 0, again.stderr
    assert again.stdout == first.stdout  # same seed, same clock: the same department, not twice as much
