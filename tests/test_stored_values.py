"""Stored values that do not parse (a row edited by hand): `db check` lists them, `remind run` goes past them.

- `db check` reads every time, date, amount, count, flag, code, phone number and choice the way csdesk
  reads it and lists each row that does not parse (table, id, column, value, why), exit 1.
- A corrupted row never stops `remind run` for everyone: the run leaves that row out, finishes the
  rest, names the row on stderr and exits 1. (The time corruptions are SQLite's: PostgreSQL's typed
  columns refuse them; choices and codes are checked on both.)
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta

import pytest

from conftest import NOW

sqlite_only = pytest.mark.skipif(bool(os.environ.get("CSDESK_TEST_PG")), reason="PostgreSQL's typed columns cannot hold these values")


def ok(result):
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def _desk_with_work(cli) -> dict[str, int]:
    ok(cli("--as", "陈总", "customer", "add", "张伟", "--phone", "13812345678"))
    ok(cli("--as", "陈总", "customer", "add", "李强", "--phone", "13912345678"))
    ids = {}
    for n, phone in enumerate(["13812345678", "13912345678"]):
        r = ok(cli("--as", "王芳", "--json", "complaint", "open", "--phone", phone, "--severity", "normal",
                   "--category", "quality", "--summary", f"地板起拱{n}", "--at", "2026-11-24 09:00"))
        ids[f"complaint{n}"] = json.loads(r.stdout)["id"]
    ok(cli("--as", "王芳", "project", "add", "全屋精装", "--customer", "C000001", "--contract", "12万"))
    return ids


def test_db_check_lists_each_value_that_does_not_parse(team, cli):
    from sqlalchemy import text

    ids = _desk_with_work(cli)
    ok(cli("db", "check"))
    with team.database.engine.begin() as conn:
        conn.execute(text("UPDATE customer SET tier = 'gold' WHERE code = 'C000002'"))
        conn.execute(text("UPDATE complaint SET status = 'lost' WHERE id = :i"), {"i": ids["complaint1"]})
        conn.execute(text("UPDATE customer_phone SET number = '138-1234' WHERE number = '+8613812345678'"))
    result = cli("db", "check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "values: failed" in lines
    assert "  customer #2 tier = 'gold': not one of key, standard, vip" in lines
    assert f"  complaint #{ids['complaint1']} status = 'lost': not one of acknowledged, closed, on_hold, open, resolved, void" in lines
    assert "  customer_phone #1 number = '138-1234': not a phone number in E.164 (+8613812345678)" in lines
    assert result.stderr.startswith("Error: 3 stored values do not parse\n")
    data = json.loads(cli("db", "check", "--json").stdout)
    assert data["values"] == "failed" and len(data["bad_values"]) == 3


@sqlite_only
def test_db_check_reads_times_amounts_and_flags_as_csdesk_does(team, cli):
    from sqlalchemy import text

    ids = _desk_with_work(cli)
    with team.database.engine.begin() as conn:
        conn.execute(text("UPDATE complaint SET resolution_due = '2026-13-45 99:00:00' WHERE id = :i"), {"i": ids["complaint0"]})
        conn.execute(text("UPDATE project SET contract_fen = '十二万' WHERE code = 'P000001'"))
        conn.execute(text("UPDATE complaint SET response_breached = 'yes' WHERE id = :i"), {"i": ids["complaint1"]})
        conn.execute(text("UPDATE project SET signed_on = 'sometime' WHERE code = 'P000001'"))
    result = cli("db", "check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"  complaint #{ids['complaint0']} resolution_due = '2026-13-45 99:00:00': not a time (month must be in 1..12)" in lines
    assert "  project #1 contract_fen = '十二万': not an amount in fen (a whole number)" in lines
    assert f"  complaint #{ids['complaint1']} response_breached = 'yes': not a yes/no flag (0 or 1)" in lines
    assert any(line.startswith("  project #1 signed_on = 'sometime': not a date") for line in lines), lines


@sqlite_only
def test_a_corrupted_row_does_not_stop_the_reminder_run_for_everyone(team, cli, tmp_path, monkeypatch):
    from sqlalchemy import text

    ids = _desk_with_work(cli)
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", "13912345678", "--due", "today 11:00"))
    # The same desk, untouched, as the reference of what one run announces.
    team.database.engine.dispose()
    reference = tmp_path / "reference.db"
    shutil.copyfile(team.path, reference)
    with team.database.engine.begin() as conn:
        conn.execute(text("UPDATE complaint SET resolution_due = '2026-13-45 99:00:00' WHERE id = :i"), {"i": ids["complaint0"]})
    later = (NOW + timedelta(days=3)).isoformat()
    monkeypatch.setenv("CSDESK_NOW", later)

    expected = json.loads(ok(cli("--db", str(reference), "--json", "remind", "run")).stdout)
    result = cli("--json", "remind", "run")
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[:2] == [
        "Error: remind run skipped the rows it could not read (1 stored values do not parse); everything else was done",
        f"  complaint #{ids['complaint0']} resolution_due = '2026-13-45 99:00:00': not a time (month must be in 1..12)",
    ]
    got = json.loads(result.stdout)
    assert got["skipped_rows"] == [f"complaint #{ids['complaint0']} resolution_due = '2026-13-45 99:00:00': not a time (month must be in 1..12)"]

    def about(run, complaint_id=None):
        return sorted((n["kind"], n["entity"], person) for person, ns in run["by_person"].items() for n in ns
                      if complaint_id is None or n["entity"] != f"complaint:{complaint_id}")

    # Everything but the corrupted complaint is announced, as in the run over the untouched copy.
    assert about(got, ids["complaint0"]) == about(expected, ids["complaint0"]), (json.dumps(got, ensure_ascii=False), json.dumps(expected, ensure_ascii=False))
    assert any(n["entity"] == "callback:1" for ns in got["by_person"].values() for n in ns)
    assert all(n["entity"] != f"complaint:{ids['complaint0']}" for ns in got["by_person"].values() for n in ns)
    # Nothing is announced twice; the row stays skipped (and reported) until someone corrects it.
    again = cli("--json", "remind", "run")
    assert again.exit_code == 1
    assert json.loads(again.stdout)["announced"] == 0
