"""Times the desk (`csdesk desk`) headless with Textual's pilot on a large database.

    python benchmarks/desk.py --db /tmp/csdesk-bench.db [--as 王芳] [--rounds 40] [--warmup 3] [--profile out.prof]

Prints: how long the desk takes to open (`csdesk desk` run as a person runs it, in a new process, from its
start to the caller box drawn and the person acting known; and the app alone, already imported), and the 50th/95th
percentiles of what a person waits for after each key (until every message is handled, every worker
done and the screen drawn; keys are sent as a terminal sends them, without the pilot's idle waits): a lookup as they type (digits of a real number,
part of a real name), opening a customer card, my queue, and logging a call from the card (one write).
The desk refreshes as it does for a person (`desk.refresh`, 5 s; `--refresh`): a refresh inside an action
is waited for. The first `--warmup` rounds (caches, first imports, first composition of each screen) are run but not
counted. The machine's load average is printed beside the figures: on a shared machine they move with it.
Writes one call per round: run it on a fresh copy of the benchmark database each time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def send(app, key: str) -> None:
    """A key as the terminal sends it (the pilot's `press` also waits for the process to look idle, in
    slices of 20 ms: that would be measured too)."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app.post_message(event)  # what the driver does with a key read from the terminal


async def settled(pilot) -> None:
    """Until nothing is left to do after a key — every message handled, every worker done and its result
    delivered — and then the screen drawn once: what the person waits for."""
    from textual.worker import WorkerCancelled

    app = pilot.app

    def state():
        screen = app.screen
        return screen, screen.is_mounted, sum(1 for _ in screen.walk_children())

    while True:
        before = state()
        await pilot._wait_for_screen()
        await asyncio.sleep(0)
        if any(w.is_running for w in app.workers):
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:  # one superseded by a newer one of its group: that one is waited for
                pass
            continue
        if state() == before and before[1]:  # the same screen, mounted, nothing new in it: done
            break
    app.screen._on_timer_update()  # draw it now, not at the next frame


# The desk opened as a person opens it: `csdesk --db DB --as NAME desk` in a new process, through the CLI,
# every import on its way, headless; "open" when the caller box is drawn and the person acting is known.
# An import hook wraps `csdesk.desk.app.run` (nothing is imported earlier than the command imports it).
OPEN_CHILD = r"""
import importlib.abc, importlib.util, sys, time
started = float(sys.argv[1])
db, who = sys.argv[2], sys.argv[3]


class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "csdesk.desk.app":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        exec_module = spec.loader.exec_module

        def patched(module):
            exec_module(module)

            def run(backend, refresh=5.0):
                app = module.DeskApp(backend, refresh)
                app.settle_memory = True  # as module.run does

                async def opened(pilot):
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                    app.screen._on_timer_update()
                    print(f"OPENED {time.time() - started:.4f}", flush=True)
                    app.exit()

                app.run(headless=True, size=(80, 24), auto_pilot=opened)
                return 0

            module.run = run

        spec.loader.exec_module = patched
        return spec


sys.meta_path.insert(0, Hook())
sys.argv = ["csdesk", "--db", db, "--as", who, "desk"]
from csdesk.cli import main

main()
"""


def open_command(db_path: str, who: str, times: int = 3) -> float:
    """The median time from starting `csdesk desk` to the caller box drawn with the person known."""
    import subprocess

    took = []
    for _ in range(times):
        started = time.time()
        out = subprocess.run([sys.executable, "-c", OPEN_CHILD, repr(started), db_path, who], capture_output=True,
                             text=True, timeout=120, cwd=str(Path(__file__).resolve().parent.parent))
        line = next((l for l in out.stdout.splitlines() if l.startswith("OPENED ")), None)
        if line is None:
            raise SystemExit(f"the desk did not open: {out.stderr.strip()[-500:]}")
        took.append(float(line.split()[1]))
    return statistics.median(took)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def bench(db_path: str, who: str, rounds: int, seed: int, warmup: int = 3, refresh: float | None = None) -> dict:
    from sqlmodel import select

    from csdesk import config
    from csdesk.db import Database, resolve
    from csdesk.desk.app import DeskApp
    from csdesk.desk.backend import Backend
    from csdesk.models import Customer, CustomerPhone

    database = Database(resolve(db_path))
    settings = config.load(database.target.path)
    rng = random.Random(seed)
    with database.session() as session:
        phones = list(session.exec(select(CustomerPhone.number)).all())
        names = [n for n in session.exec(select(Customer.name).where(Customer.name.is_not(None))).all()]
        codes = list(session.exec(select(Customer.code)).all())
    results: dict[str, list[float]] = {"lookup": [], "card": [], "queue": [], "log_call": []}
    started = time.perf_counter()
    # The refresh runs as it does at a desk (every desk.refresh seconds, 5 by default): a refresh that falls
    # inside a measured action is waited for too.
    every = refresh if refresh is not None else float(settings["desk"]["refresh"])
    app = DeskApp(Backend(database, settings, who), refresh=every)
    app.settle_memory = True  # as `csdesk desk` (desk.app.run) does
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        opened = time.perf_counter() - started
        for round_no in range(warmup + rounds):
            if round_no == warmup:  # the warm-up rounds are not counted
                results = {k: [] for k in results}
            search = app.screen.query_one("#caller")
            typed = rng.choice(phones)[3:10] if rng.random() < 0.7 else rng.choice(names)[:1 + rng.randrange(2)]
            search.value = ""
            await pilot.pause()
            for ch in typed:
                t0 = time.perf_counter()
                send(app, ch)
                await settled(pilot)
                results["lookup"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            app.open_customer(rng.choice(codes))  # as Enter in the caller box does
            await settled(pilot)
            results["card"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            send(app, "l")  # the form, the summary typed (not timed: a person types), Ctrl+S, the card updated
            await settled(pilot)
            typing = time.perf_counter()
            app.screen.query_one("#field-summary").value = "基准测试通话"
            await pilot.pause()
            typing = time.perf_counter() - typing
            app.screen.action_submit()  # as Ctrl+S does
            await settled(pilot)
            results["log_call"].append(time.perf_counter() - t0 - typing)
            app.pop_screen()
            await pilot.pause()
            t0 = time.perf_counter()
            app.action_queue()  # as F2 does
            await settled(pilot)
            results["queue"].append(time.perf_counter() - t0)
            app.pop_screen()
            await pilot.pause()
    return {"open_s": opened, **{k: (pct(v, 50), pct(v, 95), len(v)) for k, v in results.items()}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True)
    p.add_argument("--as", dest="who", default="王芳")
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--warmup", type=int, default=3, help="rounds run first and not counted")
    p.add_argument("--refresh", type=float, help="seconds between refreshes (default: desk.refresh in the settings, 5)")
    p.add_argument("--profile", help="write a cProfile of the whole run to this file")
    args = p.parse_args()
    load_before = os.getloadavg()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        out = profiler.runcall(asyncio.run, bench(args.db, args.who, args.rounds, args.seed, args.warmup, args.refresh))
        profiler.dump_stats(args.profile)
    else:
        out = asyncio.run(bench(args.db, args.who, args.rounds, args.seed, args.warmup, args.refresh))
    command = open_command(args.db, args.who)
    load_after = os.getloadavg()
    print(f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after ({os.cpu_count()} cores); "
          f"{args.warmup} warm-up rounds not counted")
    print(f"desk opens in {command:.2f} s (csdesk desk: process start, imports, caller box drawn; median of 3); "
          f"the app alone {out.pop('open_s'):.2f} s")
    for name, (p50, p95, n) in out.items():
        print(f"{name:9} p50 {p50 * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms   ({n} samples)")


if __name__ == "__main__":
    main()
