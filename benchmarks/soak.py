"""Soak: many agents writing at once for minutes, then count what was lost.

    python benchmarks/soak.py                          # 10 minutes, 16 writers, a fresh demo at /tmp/csdesk-soak.db
    python benchmarks/soak.py --minutes 2              # shorter
    python benchmarks/soak.py --db postgresql+psycopg://desk@localhost/soak   # an EMPTY PostgreSQL database

The database is a fresh `csdesk demo` (on PostgreSQL: a demo built in a temporary SQLite file, then
`db copy --to URL`; the URL's database must be empty). Then, for the given time:

- WRITERS processes (16) each act as one of the demo's specialists, in a loop with a random pause
  (`--pause`, 0.5-1.5 s): log a call (40%), act on complaints (25%: open one, acknowledge it, note, hold, resume; and
  notes on one complaint every writer shares), record a payment of ¥0.01 on a project that still owes
  money (15%), schedule a callback and record its outcome (20%);
- one more process runs `remind run` every second.

Every command runs through csdesk's own command line (the same click command `csdesk` builds), inside
the worker process — so the times are the commands' own (transaction, lock waits, rules), without
the interpreter's start (~0.3 s, the same in every command). `--subprocess` runs the installed
`csdesk` instead, start included (heavy: 16 processes starting Python in a loop).

Every write that reported success carries a unique marker (`soak w3 #17`); at the end each marker is
looked up in the table it should be in. Printed: lost rows (successes whose row is missing; goal 0),
lock errors ("database is locked", lock timeouts, deadlocks; goal 0), other refusals (by message:
e.g. "would come before the last entry"; goal 0), crashes (tracebacks; goal 0), and the 50th/99th
percentile and maximum `log-call` time (goal: 99th under 1 s). Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

DEFAULT_DB = "/tmp/csdesk-soak.db"
SPECIALISTS = ["王芳", "刘洋", "赵敏", "孙磊", "吴静"]
LOCK_WORDS = ("database is locked", "database is busy", "lock timeout", "lock_timeout", "deadlock", "could not obtain lock",
              "canceling statement due to lock")


class Runner:
    """Runs `csdesk ARGS` in this process (the click command, built once) or as a subprocess."""

    def __init__(self, db: str, subprocess_mode: bool):
        self.db = db
        self.subprocess_mode = subprocess_mode
        self.command = None
        if not subprocess_mode:
            from typer.main import get_command

            from csdesk.cli import app

            self.command = get_command(app)
            # Each command makes its own State (and engine), as a started `csdesk` does; here the
            # process lives on, so each command's engine is closed after it (a PostgreSQL server
            # would otherwise run out of connections: "too many clients").
            from csdesk.commands import common

            self.states: list = []
            made = common.State.__init__

            def remember(state, *args, **kwargs):
                made(state, *args, **kwargs)
                self.states.append(state)

            common.State.__init__ = remember
            # What the first command of each kind would import, imported now: the times are then the
            # commands' own, not a module import that a started `csdesk` pays in every case anyway.
            import csdesk.models  # noqa: F401
            import csdesk.workflows.callbacks  # noqa: F401
            import csdesk.workflows.calls  # noqa: F401
            import csdesk.workflows.complaints  # noqa: F401
            import csdesk.workflows.payments  # noqa: F401
            import csdesk.workflows.reminders  # noqa: F401

    def __call__(self, *args: str) -> tuple[int, str, str, float]:
        full = ["--db", self.db, *args]
        started = time.perf_counter()
        if self.subprocess_mode:
            done = subprocess.run(["csdesk", *full], capture_output=True, text=True)
            return done.returncode, done.stdout, done.stderr, time.perf_counter() - started
        out, err = io.StringIO(), io.StringIO()
        try:
            with redirect_stdout(out), redirect_stderr(err):
                code = self.command.main(args=full, prog_name="csdesk", standalone_mode=False)
            code = code if isinstance(code, int) else 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:  # noqa: BLE001 — a crash is a finding, counted and shown
            import traceback

            code = 99
            err.write("Traceback: " + "".join(traceback.format_exception_only(type(exc), exc)))
        seconds = time.perf_counter() - started
        for state in self.states:
            if state._database is not None and state._database._engine is not None:
                state._database._engine.dispose()
        self.states.clear()
        return code, out.getvalue(), err.getvalue(), seconds


def _classify(code: int, err: str) -> str:
    if code == 0:
        return "ok"
    low = err.lower()
    if any(w in low for w in LOCK_WORDS):
        return "lock"
    if code == 99 or "Traceback" in err:
        return "crash"
    return "refused"


def writer(index: int, db: str, until: float, out_path: str, subprocess_mode: bool, projects: list[str], shared: int,
           pause: tuple[float, float] = (0.5, 1.5)) -> None:
    rng = random.Random(index * 7919 + int(until))
    run = Runner(db, subprocess_mode)
    agent = SPECIALISTS[index % len(SPECIALISTS)]
    phone = f"1390000{index:04d}"
    log: list[dict] = []
    k = 0

    def act(kind: str, args: list[str], check: tuple[str, str, str] | None) -> tuple[int, str]:
        at = time.time()
        code, stdout, err, seconds = run("--as", agent, *args)
        outcome = _classify(code, err)
        log.append({"kind": kind, "outcome": outcome, "seconds": seconds, "at": at, "check": check if outcome == "ok" else None,
                    "error": err.strip().splitlines()[0][:160] if outcome != "ok" and err.strip() else None})
        return code, stdout

    def marker() -> str:
        nonlocal k
        k += 1
        return f"soak w{index} #{k}"

    complaint: dict = {"id": None, "status": None}
    m = marker()
    act("log-call (first: new customer, warm-up)", ["log-call", "--phone", phone, "--kind", "inquiry", "--summary", m,
                                                    "--name", f"压测客户{index}"], ("call", "summary", m))
    while time.time() < until:
        roll = rng.random()
        if roll < 0.40:
            m = marker()
            act("log-call", ["log-call", "--phone", phone, "--kind", rng.choice(["inquiry", "repair", "other"]), "--summary", m],
                ("call", "summary", m))
        elif roll < 0.65:
            m = marker()
            if rng.random() < 0.3 and shared:
                act("complaint note (shared)", ["complaint", "note", str(shared), m], ("complaint_event", "note", m))
            elif complaint["id"] is None:
                code, stdout = act("complaint open", ["--json", "complaint", "open", "--phone", phone, "--severity", "normal",
                                                      "--category", "quality", "--summary", m], ("complaint", "summary", m))
                if code == 0:
                    complaint = {"id": json.loads(stdout)["id"], "status": "open"}
            elif complaint["status"] == "open":
                if act("complaint ack", ["complaint", "ack", str(complaint["id"]), "--note", m], ("complaint_event", "note", m))[0] == 0:
                    complaint["status"] = "acknowledged"
            elif complaint["status"] == "on_hold":
                if act("complaint resume", ["complaint", "resume", str(complaint["id"]), "--note", m], ("complaint_event", "note", m))[0] == 0:
                    complaint["status"] = "acknowledged"
            elif rng.random() < 0.2:
                if act("complaint hold", ["complaint", "hold", str(complaint["id"]), "--reason", m], ("complaint_event", "note", m))[0] == 0:
                    complaint["status"] = "on_hold"
            else:
                act("complaint note", ["complaint", "note", str(complaint["id"]), m], ("complaint_event", "note", m))
        elif roll < 0.80 and projects:
            ref = marker().replace(" ", "-").replace("#", "")
            act("payment record", ["payment", "record", rng.choice(projects), "--amount", "0.01", "--ref", ref, "--allow-overpay"],
                ("payment", "ref", ref))
        else:
            m = marker()
            code, stdout = act("callback schedule", ["--json", "callback", "schedule", "--phone", phone, "--due", "+2h", "--note", m],
                               ("callback", "note", m))
            if code == 0:
                data = json.loads(stdout)
                cid = (data.get("callbacks") or [data])[0]["id"] if isinstance(data, dict) else data[0]["id"]
                m2 = marker()
                act("callback done", ["callback", "done", str(cid), "--reached", "--satisfied", "--score", "5", "--note", m2],
                    ("callback", "result_note", m2))
        time.sleep(rng.uniform(*pause))
    Path(out_path).write_text(json.dumps(log, ensure_ascii=False), encoding="utf-8")


def reminder(db: str, until: float, out_path: str, subprocess_mode: bool) -> None:
    run = Runner(db, subprocess_mode)
    log = []
    while time.time() < until:
        started = time.time()
        code, _, err, seconds = run("remind", "run", "--quiet")
        outcome = _classify(code, err)
        log.append({"kind": "remind run", "outcome": outcome, "seconds": seconds, "at": started, "check": None,
                    "error": err.strip().splitlines()[0][:160] if outcome != "ok" and err.strip() else None})
        time.sleep(max(0.0, 1.0 - (time.time() - started)))
    Path(out_path).write_text(json.dumps(log, ensure_ascii=False), encoding="utf-8")


def prepare(db: str) -> None:
    """A fresh demo department at `db` (SQLite), or copied into the empty PostgreSQL database `db`."""
    env = {k: v for k, v in os.environ.items() if k != "CSDESK_NOW"}
    if "://" not in db:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
        subprocess.run(["csdesk", "demo", "--db", db], check=True, stdout=subprocess.DEVNULL, env=env)
        return
    with tempfile.TemporaryDirectory() as tmp:
        demo = str(Path(tmp) / "demo.db")
        subprocess.run(["csdesk", "demo", "--db", demo], check=True, stdout=subprocess.DEVNULL, env=env)
        copied = subprocess.run(["csdesk", "--db", demo, "db", "copy", "--to", db], stdout=subprocess.DEVNULL, env=env)
        if copied.returncode != 0:
            raise SystemExit("soak: the demo could not be copied there (above); give an empty database, or --keep to use it as it is")


def setup(db: str) -> tuple[list[str], int]:
    """Projects that still owe money (for payments), and one complaint every writer notes on."""
    from sqlalchemy import text

    from csdesk.db import Database, resolve

    database = Database(resolve(db))
    with database.engine.connect() as conn:
        projects = [r[0] for r in conn.execute(text(
            "SELECT p.code FROM project p JOIN instalment i ON i.project_id = p.id "
            "WHERE p.stage IN ('signed', 'handed_over', 'accepted') GROUP BY p.code "
            "HAVING sum(i.amount_fen) - sum(i.paid_fen) > 100000 ORDER BY p.code LIMIT 20"))]
        phone = conn.execute(text("SELECT number FROM customer_phone ORDER BY id LIMIT 1")).scalar()
    database.engine.dispose()
    run = Runner(db, False)
    code, out, err, _ = run("--as", "李娜", "--json", "complaint", "open", "--phone", phone, "--severity", "normal",
                            "--category", "quality", "--summary", "soak: the complaint every writer notes on")
    if code != 0:
        raise SystemExit(f"cannot open the shared complaint: {err}")
    return projects, json.loads(out)["id"]


def verify(db: str, logs: list[dict]) -> list[str]:
    """Every success whose marker is not in its table: the lost rows."""
    from sqlalchemy import text

    from csdesk.db import Database, resolve

    wanted: dict[tuple[str, str], set[str]] = {}
    for entry in logs:
        if entry["check"]:
            table, column, value = entry["check"]
            wanted.setdefault((table, column), set()).add(value)
    database = Database(resolve(db))
    lost = []
    with database.engine.connect() as conn:
        for (table, column), values in wanted.items():
            found = {r[0] for r in conn.execute(text(f'SELECT "{column}" FROM "{table}" WHERE "{column}" LIKE \'soak%\''))}
            lost.extend(f"{table}.{column} = {v!r}" for v in sorted(values - found))
    database.engine.dispose()
    return lost


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=DEFAULT_DB, metavar="PATH|URL", help=f"SQLite file (rebuilt) or an empty PostgreSQL database (default {DEFAULT_DB})")
    p.add_argument("--minutes", type=float, default=10.0, help="how long the writers write (default 10)")
    p.add_argument("--writers", type=int, default=16, help="writer processes (default 16), plus one running remind run every second")
    p.add_argument("--pause", default="0.5-1.5", metavar="MIN-MAX",
                   help="seconds each writer waits between two commands, drawn uniformly (default 0.5-1.5: an agent "
                        "acting every second, dozens of times a person's pace; 0.05-0.3 saturates a 2-core machine)")
    p.add_argument("--subprocess", action="store_true", help="run the installed csdesk for every command (interpreter start included)")
    p.add_argument("--keep", action="store_true", help="use the database as it is (no fresh demo)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = p.parse_args()
    try:
        pause = tuple(float(x) for x in args.pause.split("-", 1))
        assert len(pause) == 2 and 0 <= pause[0] <= pause[1]
    except (ValueError, AssertionError):
        raise SystemExit(f"--pause {args.pause!r}: give MIN-MAX in seconds, e.g. 0.5-1.5") from None
    os.environ.pop("CSDESK_NOW", None)  # the real clock: the soak is about now
    if shutil.which("csdesk") is None:
        raise SystemExit("csdesk is not on PATH: activate the project's virtualenv")
    if not args.keep:
        print(f"building a fresh demo department in {args.db} …", file=sys.stderr)
        prepare(args.db)
    projects, shared = setup(args.db)
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    load_before = round(os.getloadavg()[0], 2)  # other work on the machine: the figures depend on it
    until = time.time() + args.minutes * 60
    print(f"{args.writers} writers + remind run every second for {args.minutes:g} min on {args.db} …", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        procs = [ctx.Process(target=writer, args=(i, args.db, until, f"{tmp}/w{i}.json", args.subprocess, projects, shared, pause))
                 for i in range(args.writers)]
        procs.append(ctx.Process(target=reminder, args=(args.db, until, f"{tmp}/remind.json", args.subprocess)))
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        logs = []
        died = 0
        for path in sorted(Path(tmp).glob("*.json")):
            logs.extend(json.loads(path.read_text(encoding="utf-8")))
        died = sum(1 for proc in procs if proc.exitcode != 0)
    lost = verify(args.db, logs)
    by_outcome: dict[str, int] = {}
    for entry in logs:
        by_outcome[entry["outcome"]] = by_outcome.get(entry["outcome"], 0) + 1
    calls = [e["seconds"] for e in logs if e["kind"] == "log-call" and e["outcome"] == "ok"]
    reminds = [e["seconds"] for e in logs if e["kind"] == "remind run" and e["outcome"] == "ok"]
    errors: dict[str, int] = {}
    for e in logs:
        if e["outcome"] != "ok":
            key = f"[{e['outcome']}] {e['kind']}: {e['error']}"
            errors[key] = errors.get(key, 0) + 1
    kinds: dict[str, int] = {}
    for e in logs:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    figures = {
        "db": args.db, "minutes": args.minutes, "writers": args.writers, "mode": "subprocess" if args.subprocess else "in-process",
        "pause": args.pause, "load_before": load_before, "load_after": round(os.getloadavg()[0], 2),
        "commands": len(logs), "by_kind": kinds, "ok": by_outcome.get("ok", 0), "lost_rows": len(lost),
        "lock_errors": by_outcome.get("lock", 0), "refused": by_outcome.get("refused", 0), "crashes": by_outcome.get("crash", 0),
        "workers_died": died,
        "log_call": {"n": len(calls), "p50": percentile(calls, 50), "p99": percentile(calls, 99), "max": max(calls, default=float("nan"))},
        "remind_run": {"n": len(reminds), "p50": percentile(reminds, 50), "max": max(reminds, default=float("nan"))},
        "errors": errors, "lost": lost[:20],
        "timeline": [[round(e["at"] - (until - args.minutes * 60), 2), e["kind"], round(e["seconds"], 3)] for e in sorted(logs, key=lambda e: e["at"])],
    }
    print(f"pace                each writer pauses {args.pause} s between commands; load average {figures['load_before']} before, {figures['load_after']} at the end")
    print(f"commands run        {figures['commands']} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
    print(f"lost rows           {figures['lost_rows']}")
    print(f"lock errors         {figures['lock_errors']}")
    print(f"other refusals      {figures['refused']}")
    print(f"crashes             {figures['crashes']} (worker processes died: {died})")
    lc = figures["log_call"]
    print(f"log-call            n={lc['n']} p50={lc['p50']:.3f}s p99={lc['p99']:.3f}s max={lc['max']:.3f}s ({figures['mode']})")
    rr = figures["remind_run"]
    print(f"remind run          n={rr['n']} p50={rr['p50']:.3f}s max={rr['max']:.3f}s")
    for key, n in sorted(errors.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {n:5d} × {key}")
    for line in lost[:20]:
        print(f"  lost: {line}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    missed = lost or figures["lock_errors"] or figures["crashes"] or died or not lc["p99"] < 1.0
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
