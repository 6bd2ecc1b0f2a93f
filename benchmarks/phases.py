"""Where one csdesk command's start-up time goes, phase by phase (for finding what to make lazier).

    python benchmarks/phases.py -- --db /tmp/csdesk-bench.db customer show 13155084698
    python benchmarks/phases.py --reps 15 -- --db /tmp/csdesk-bench.db --as 王芳 log-call --phone 13155084698 \
        --kind inquiry --summary "phases"

Runs the command N times in fresh processes (as `csdesk` would run), each timing:
  third-party   importing exactly the third-party modules the command imports (the run.py baseline)
  models        import csdesk.models (the SQLModel table classes)
  cli           import csdesk.cli (the root app and every command module in COMMAND_MODULES)
  get_command   typer building the click commands (only the named command's, as csdesk.cli.main does)
  command       the command itself: csdesk modules imported inside it, engine, schema check, SQL
                (compiled once per process), and rendering
and prints the min and median of each (min: the figure least disturbed by other work on the machine).
Not counted here: the interpreter's start and its teardown at exit (run.py's figures include both;
the teardown of a process that has loaded SQLAlchemy, pydantic and typer and run a command is ~0.1 s).
The command's output is discarded; a write command writes each time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CHILD = r"""
import importlib, io, json, os, sys, time
T = time.perf_counter
mods, argv = json.loads(os.environ["PHASES_MODS"]), json.loads(os.environ["PHASES_ARGV"])
t0 = T()
for m in mods:
    try:
        importlib.import_module(m)
    except ImportError:
        pass
t1 = T()
import csdesk.models
t2 = T()
import csdesk.cli
t3 = T()
import typer.main
csdesk.cli._build_only(csdesk.cli._named_command(argv))  # as csdesk.cli.main() does
cmd = typer.main.get_command(csdesk.cli.app)
t4 = T()
sys.stdout = io.StringIO()
try:
    cmd.main(argv, prog_name="csdesk", standalone_mode=False)
finally:
    sys.stdout = sys.__stdout__
t5 = T()
print(json.dumps({"third-party": t1 - t0, "models": t2 - t1, "cli": t3 - t2, "get_command": t4 - t3, "command": t5 - t4}))
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=11)
    p.add_argument("--priority", action="store_true", help="as in run.py: a session of its own, raised CPU priority")
    p.add_argument("args", nargs=argparse.REMAINDER, help="-- then the csdesk arguments")
    a = p.parse_args(argv)
    if a.priority:
        from run import with_priority

        with_priority()
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    if not args:
        p.error("give the csdesk arguments after --")
    import shutil

    from run import ensure_bytecode, interpreter_of, run_once, third_party_modules

    csdesk = shutil.which("csdesk")
    python = interpreter_of(csdesk)
    ensure_bytecode(python)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}
    first = run_once([csdesk, *args], {**env, "PYTHONPROFILEIMPORTTIME": "1"})
    if first.returncode != 0:
        sys.exit(f"the command failed: {first.stderr.strip().splitlines()[-1:]}")
    mods = third_party_modules(first.stderr)
    env.update(PHASES_MODS=json.dumps(mods), PHASES_ARGV=json.dumps(args))
    runs = []
    for _ in range(a.reps):
        r = run_once([python, "-c", CHILD], env)
        if r.returncode != 0:
            sys.exit(r.stderr[-2000:])
        runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
    print(f"csdesk {' '.join(args)}  ({a.reps} runs, load average {os.getloadavg()[0]:.1f})")
    total_min = 0.0
    for key in runs[0]:
        values = [r[key] for r in runs]
        total_min += min(values)
        print(f"  {key:12} min {min(values) * 1000:7.1f} ms   median {statistics.median(values) * 1000:7.1f} ms")
    over = total_min - min(r["third-party"] for r in runs)
    print(f"  {'csdesk':12} min {over * 1000:7.1f} ms   (all but third-party: the overhead run.py measures, less interpreter noise)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
