"""`csdesk callback …` through the command line: what is printed where, exit codes, --json, --now.

NOW = Tue 2026-11-24 10:00 Asia/Shanghai (CSDESK_NOW). Team: 王芳 specialist → 李娜 supervisor → ….
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PHONE = "13812345678"


@pytest.fixture
def desk(team, cli):
    assert cli("--as", "王芳", "customer", "add", "张伟", "--phone", PHONE).exit_code == 0
    assert cli("--as", "王芳", "customer", "add", "华府装饰", "--phone", "13900001111", "--tier", "key", "--manager", "李娜").exit_code == 0
    return team


def ok(result):
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def refused(result, starts: str):
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"Error: {starts}"), lines
    assert all(line.startswith(("Hint: ", "  ")) for line in lines[1:])
    assert "Traceback" not in result.stderr


def test_schedule_prints_the_id_and_says_what_it_did(cli, desk):
    r = ok(cli("--as", "王芳", "callback", "schedule", "--phone", "138 1234 5678", "--due", "today 15:00", "--note", "报价确认后回电"))
    assert r.stdout == "1\n"
    assert r.stderr == "Scheduled callback #1 (promised callback) for C000001 张伟, due 2026-11-24 15:00, assigned to 王芳.\n"


def test_schedule_json_has_times_with_their_offset(cli, desk):
    r = ok(cli("--as", "王芳", "--json", "callback", "schedule", "--customer", "C000002", "--due", "tomorrow", "--purpose", "periodic"))
    data = json.loads(r.stdout)
    [c] = data["callbacks"]
    assert (c["id"], c["due_at"], c["purpose"], c["customer_code"], c["overdue"]) == (
        1, "2026-11-25T18:00:00+08:00", "periodic", "C000002", False)
    assert data["series_id"] is None


def test_month_end_series_from_the_command_line(cli, desk):
    r = ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "2027-01-31 10:00", "--every", "1 month", "--count", "4", "--exact"))
    assert r.stdout.split() == ["1", "2", "3", "4"]
    assert "2027-01-31 10:00, 2027-02-28 10:00, 2027-03-31 10:00, 2027-04-30 10:00" in r.stderr
    r = ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "2026-11-30 10:00",
               "--rrule", "FREQ=MONTHLY;INTERVAL=3;COUNT=3", "--exact", "--json"))
    assert [c["due_at"][:10] for c in json.loads(r.stdout)["callbacks"]] == ["2026-11-30", "2027-02-28", "2027-05-30"]


@pytest.mark.parametrize(
    "args, error",
    [
        (["--due", "someday"], "Error: 'someday' is not a date/time"),
        (["--due", "yesterday"], "Error: the due time 2026-11-23 18:00 is in the past"),
        (["--due", "tomorrow", "--phone", "12345"], "Error: '12345' is not a valid phone number"),
        (["--due", "tomorrow", "--every", "1 month", "--count", "500"], "Error: --count must be between 1 and 100"),
        (["--due", "tomorrow", "--rrule", "FREQ=SECONDLY"], "Error: 'FREQ=SECONDLY': FREQ must be"),
        (["--due", "tomorrow", "--for", "complaint:abc"], "Error: 'complaint:abc': a complaint is named by its number"),
    ],
)
def test_bad_schedules_exit_1_and_write_nothing(cli, desk, args, error):
    before = desk.dump()
    r = cli("--as", "王芳", "callback", "schedule", *(["--phone", PHONE] if "--phone" not in args else []), *args)
    refused(r, error.removeprefix("Error: "))
    assert desk.dump() == before


def test_usage_errors_exit_2(cli, desk):
    assert cli("callback", "schedule", "--phone", PHONE).exit_code == 2  # --due is required
    assert cli("callback", "done", "1", "--reached", "--bogus").exit_code == 2
    assert cli("callback", "done", "one", "--reached").exit_code == 2


def test_list_overdue_first_with_attempts_and_json(cli, desk):
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "today 11:00", "--now", "2026-11-23 10:00"))
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", "13900001111", "--due", "today 15:00", "--assign", "李娜"))
    # Tried Mon 11:00, no answer: next try Mon 14:30 (1h before lunch, 1h after) — overdue by Tuesday.
    ok(cli("--as", "王芳", "callback", "done", "1", "--no-answer", "--at", "2026-11-23 11:00"))
    r = ok(cli("--as", "王芳", "callback", "list"))
    lines = r.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("1 "))
    second = next(i for i, line in enumerate(lines) if line.strip().startswith("2 "))
    assert first < second
    assert "overdue" in r.stdout and "C000001" in r.stdout and "张伟" in r.stdout and "138 1234 5678" in r.stdout and "promised callback" in r.stdout
    assert r.stderr == "2 callbacks (today, pending), 1 overdue.\n"
    data = json.loads(ok(cli("--as", "王芳", "callback", "list", "--json")).stdout)
    assert [(c["id"], c["overdue"], c["attempts"], c["due_at"]) for c in data["items"]] == [
        (1, True, 1, "2026-11-23T14:30:00+08:00"), (2, False, 0, "2026-11-24T15:00:00+08:00")]
    mine = json.loads(ok(cli("--as", "李娜", "callback", "list", "--assignee", "me", "--json")).stdout)
    assert [c["id"] for c in mine["items"]] == [2]
    # Seen from the next morning, both are overdue; seen from Monday 12:00, only #1 is due that day, not yet late.
    later = json.loads(ok(cli("callback", "list", "--json", "--now", "2026-11-25 09:00")).stdout)
    assert [c["overdue"] for c in later["items"]] == [True, True]
    earlier = json.loads(ok(cli("callback", "list", "--json", "--now", "2026-11-23 12:00")).stdout)
    assert [(c["id"], c["overdue"]) for c in earlier["items"]] == [(1, False)]


def test_done_no_answer_three_times_then_missed(cli, desk):
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "today 11:00"))
    r1 = ok(cli("--as", "王芳", "callback", "done", "1", "--no-answer", env={"CSDESK_NOW": "2026-11-24T11:00:00+08:00"}))
    assert r1.stderr == "Callback #1: no answer (try 1 of 3); next try 2026-11-24 14:30.\n"
    r2 = ok(cli("--as", "王芳", "callback", "done", "1", "--no-answer", env={"CSDESK_NOW": "2026-11-27T17:00:00+08:00"}))
    assert r2.stderr == "Callback #1: no answer (try 2 of 3); next try 2026-11-30 10:00.\n"
    r3 = ok(cli("--as", "王芳", "callback", "done", "1", "--no-answer", env={"CSDESK_NOW": "2026-11-30T10:00:00+08:00"}))
    assert r3.stderr == "Callback #1: no answer (try 3 of 3) — marked missed; 李娜 will be told.\n"
    refused(cli("--as", "王芳", "callback", "done", "1", "--reached", env={"CSDESK_NOW": "2026-11-30T11:00:00+08:00"}),
            "callback #1 is missed; only a pending callback can be tried")
    show = ok(cli("callback", "show", "1", "--now", "2026-11-30 11:00")).stdout
    assert show.count("no answer") >= 2 and "missed" in show and "First due  2026-11-24 11:00" in show


def test_done_reached_with_satisfaction(cli, desk):
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "today 11:00"))
    r = ok(cli("--as", "王芳", "callback", "done", "1", "--reached", "--satisfied", "--score", "5", "--note", "维修后无渗漏"))
    assert r.stdout == ""
    assert r.stderr == "Callback #1 done: reached, satisfied, 5/5.\n"
    data = json.loads(ok(cli("callback", "show", "1", "--json")).stdout)
    assert (data["callback"]["status"], data["callback"]["score"], data["callback"]["result_note"]) == ("done", 5, "维修后无渗漏")
    assert [h["action"] for h in data["history"]] == ["callback.schedule", "callback.done"]


@pytest.mark.parametrize(
    "args, error",
    [
        (["--reached", "--no-answer"], "say how the call went: exactly one of --reached, --no-answer, --wrong-number"),
        ([], "say how the call went"),
        (["--no-answer", "--satisfied"], "--satisfied, --unsatisfied and --score need --reached"),
        (["--reached", "--score", "9"], "--score 9: a score is 1 to 5"),
        (["--reached", "--at", "today 12:00"], "--at 2026-11-24 12:00 is in the future"),
    ],
)
def test_bad_outcomes_exit_1(cli, desk, args, error):
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "today 11:00"))
    before = desk.dump()
    refused(cli("--as", "王芳", "callback", "done", "1", *args), error)
    assert desk.dump() == before


def test_reschedule_and_cancel(cli, desk):
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "today 15:00"))
    r = ok(cli("--as", "王芳", "callback", "reschedule", "1", "--due", "fri 10:00", "--reason", "客户出差"))
    assert r.stderr == "Callback #1 is now due 2026-11-27 10:00, assigned to 王芳.\n"
    refused(cli("--as", "王芳", "callback", "cancel", "1", "--reason", " "), "cancelling needs --reason")
    r = ok(cli("--as", "王芳", "callback", "cancel", "1", "--reason", "客户已来电，问题已解决"))
    assert r.stderr == "Cancelled callback #1.\n"
    audit = json.loads(ok(cli("audit", "--entity", "callback:1", "--json")).stdout)["items"]
    assert [a["action"] for a in audit] == ["callback.cancel", "callback.reschedule", "callback.schedule"]
    assert audit[1]["after"]["reason"] == "客户出差"


def test_stats_json_for_the_reports(cli, desk):
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "today 11:00"))
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", "13900001111", "--due", "today 11:00"))
    ok(cli("--as", "王芳", "callback", "done", "1", "--reached", "--satisfied", "--score", "5"))
    ok(cli("--as", "王芳", "callback", "done", "2", "--reached", "--unsatisfied", "--score", "2"))
    data = json.loads(ok(cli("callback", "stats", "--by", "agent", "--since", "today", "--json")).stdout)
    assert data["by"] == "agent" and data["since"] == "2026-11-24T00:00:00+08:00"
    [row] = data["rows"]
    assert (row["key"], row["visits"], row["satisfied"], row["unsatisfied"], row["satisfaction_rate"], row["average_score"]) == (
        "王芳", 2, 1, 1, "50.0", "3.5")
    customers = json.loads(ok(cli("callback", "stats", "--by", "customer", "--json")).stdout)
    assert [(r["key"], r["label"], r["average_score"]) for r in customers["rows"]] == [("C000001", "张伟", "5.0"), ("C000002", "华府装饰", "2.0")]
    table = ok(cli("callback", "stats")).stdout
    assert "王芳" in table and "50.0" in table and "total" in table


def test_generate_is_idempotent_from_the_command_line(cli, desk):
    dry = ok(cli("callback", "generate", "--dry-run"))
    assert dry.stderr == "Would make 1 visit.\n"
    r = ok(cli("callback", "generate"))
    # Key account C000002, customer 2: first visit 1 + 2 % 92 days on, Fri 2026-11-27, by its manager.
    assert r.stdout == "visit #1 periodic visit (key account) for C000002 华府装饰, due 2026-11-27 18:00 → 李娜\n"
    assert r.stderr == "Made 1 visit.\n"
    again = ok(cli("callback", "generate"))
    assert (again.stdout, again.stderr) == ("", "Nothing new: every visit the rules call for exists.\n")


def test_customer_show_has_the_visits(cli, desk):
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "today 11:00", "--note", "确认上门时间"))
    ok(cli("--as", "王芳", "callback", "schedule", "--phone", PHONE, "--due", "today 11:00"))
    ok(cli("--as", "王芳", "callback", "done", "2", "--reached", "--unsatisfied", "--score", "2", "--note", "嫌慢"))
    r = ok(cli("customer", "show", PHONE))
    assert "Callbacks" in r.stdout and "确认上门时间" in r.stdout and "reached unsatisfied" in r.stdout and "嫌慢" in r.stdout
    data = json.loads(ok(cli("customer", "show", PHONE, "--json")).stdout)
    rows = data["sections"]["callbacks"]
    assert [(r["id"], r["status"]) for r in rows] == [(1, "pending"), (2, "done")]


def test_every_command_has_help_with_an_example(cli):
    for name in ("schedule", "list", "show", "done", "reschedule", "cancel", "stats", "generate"):
        r = cli("callback", name, "--help")
        assert r.exit_code == 0 and "Example: csdesk callback " + name in r.stdout.replace("\n", " ").replace("  ", " ")


def test_the_installed_command_end_to_end(desk, tmp_path):
    """The way a person works: the installed `csdesk` in a subprocess."""
    import os
    import shutil

    exe = shutil.which("csdesk") or pytest.skip("csdesk is not installed on PATH")
    env = {**os.environ, "CSDESK_AGENT": "王芳"}

    def run(*args):
        return subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=60)

    r = run("callback", "schedule", "--phone", PHONE, "--due", "fri 10:00", "--note", "回访维修结果")
    assert (r.returncode, r.stdout) == (0, "1\n"), r.stderr
    r = run("callback", "list", "--due", "week", "--json")
    assert json.loads(r.stdout)["items"][0]["due_at"] == "2026-11-27T10:00:00+08:00"
    r = subprocess.run([exe, "callback", "done", "1", "--wrong-number"], capture_output=True, text=True, timeout=60,
                       env={**env, "CSDESK_NOW": "2026-11-27T10:05:00+08:00"})  # a write's --now is never ahead of the clock
    assert r.returncode == 0 and "wrong number — marked missed; 李娜 will be told." in r.stderr
    r = run("callback", "done", "1", "--reached")
    assert r.returncode == 1 and r.stderr.startswith("Error: callback #1 is missed")
    assert sys.executable  # the same interpreter's environment runs csdesk
