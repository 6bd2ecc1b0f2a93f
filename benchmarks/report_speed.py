"""Time `csdesk report … --xlsx` for a month, a quarter and a year, and the pandas baseline beside the month,
in one run, interleaved (issue 15).

    python benchmarks/report_speed.py --db /tmp/reports-bench.db --month 2026-11 --quarter 2026-Q3 --year 2026 --reps 3

Each repetition runs, one after the other: the pandas baseline for the month (benchmarks/baseline_report_pandas.py,
needs pandas: `--pandas-python` names a Python that has it, so that csdesk's own environment stays without
numpy), then csdesk's monthly, quarterly and annual workbooks — so that the machine's load weighs on both
sides of the ratio alike. CPU time counts the report's helper process too (it is waited for). For each command: median wall time, median CPU time (user + system:
what the command itself costs, less moved by other work on a shared machine), peak memory (ru_maxrss), and
for the month the ratio csdesk / pandas in wall and in CPU time. The load average is printed before and after.
`--now` fixes the clock (CSDESK_NOW) so a period still running is cut at the same moment every time.

`--before DIR` measures another copy of csdesk's source beside this one, in the same run (each repetition
runs both, one after the other), e.g. the code before a change:

    git archive main | tar -x -C /tmp/csdesk-before
    python benchmarks/report_speed.py --db /tmp/bench.db --now "2026-12-01 13:00" --before /tmp/csdesk-before

Its commands are named `monthly@before` … and run with PYTHONPATH=DIR (the installed csdesk is not used).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(cmd: list[str], env: dict, cwd: str | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak memory (MB) of one child process.

    It runs in the folder whose csdesk it is to import (`python -m` puts the current folder first on the path):
    the --before folder for its commands, else this checkout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cwd = cwd or str(HERE.parent)
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss // 1024  # the children's peak so far: each command is measured alone below


def measure(cmd: list[str], env: dict, cwd: str | None = None) -> tuple[float, float, int]:
    """Like run(), with the peak memory of this command alone (through /usr/bin/time when it is there)."""
    if Path("/usr/bin/time").exists():
        out = Path(f"/tmp/report-speed-{os.getpid()}.time")
        wall, cpu, _ = run(["/usr/bin/time", "-o", str(out), "-f", "%M", *cmd], env, cwd)
        peak = int(out.read_text().split()[-1]) // 1024
        out.unlink()
        return wall, cpu, peak
    return run(cmd, env, cwd)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/csdesk-bench.db")
    ap.add_argument("--month", default="2026-11")
    ap.add_argument("--quarter", default="2026-Q3")
    ap.add_argument("--year", default="2026")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--now", default=os.environ.get("CSDESK_NOW", ""), help="the clock for csdesk (CSDESK_NOW)")
    ap.add_argument("--only", action="append", help="monthly, quarterly, annual, pandas (default: all)")
    ap.add_argument("--json", metavar="FILE", help="write the figures as JSON too")
    ap.add_argument("--before", metavar="DIR", help="also time csdesk from this source folder (PYTHONPATH=DIR), interleaved")
    ap.add_argument("--pandas-python", metavar="PYTHON", default=sys.executable,
                    help="the Python that runs the pandas baseline (default: this one). pandas brings numpy, which openpyxl "
                         "then imports too (0.1 s at every start): keep it out of csdesk's environment, as a user's has it, "
                         "e.g. python3 -m venv /tmp/pandas-venv && /tmp/pandas-venv/bin/pip install pandas openpyxl")
    args = ap.parse_args()

    if Path(args.db).exists():
        args.db = str(Path(args.db).resolve())  # the commands run in another folder (see run())
    env = dict(os.environ)
    if args.now:
        env["CSDESK_NOW"] = args.now
    csdesk = [sys.executable, "-m", "csdesk"]
    commands = {
        "pandas": [args.pandas_python, str(HERE / "baseline_report_pandas.py"), "--db", args.db, "--period", args.month,
                   "--xlsx", "/tmp/report-speed-pandas.xlsx"],
        "monthly": [*csdesk, "--db", args.db, "report", "monthly", "--period", args.month, "--xlsx", "/tmp/report-speed-monthly.xlsx"],
        "quarterly": [*csdesk, "--db", args.db, "report", "quarterly", "--period", args.quarter, "--xlsx", "/tmp/report-speed-quarterly.xlsx"],
        "annual": [*csdesk, "--db", args.db, "report", "annual", "--period", args.year, "--xlsx", "/tmp/report-speed-annual.xlsx"],
    }
    envs = {k: env for k in commands}
    cwds: dict[str, str] = {}
    if args.before:
        before_env = dict(env, PYTHONPATH=str(Path(args.before).resolve()))
        for key in ("monthly", "quarterly", "annual"):
            commands[f"{key}@before"] = commands[key][:-1] + [f"/tmp/report-speed-{key}-before.xlsx"]
            envs[f"{key}@before"] = before_env
            cwds[f"{key}@before"] = before_env["PYTHONPATH"]
    chosen = [k for k in commands if not args.only or k.split("@")[0] in args.only]
    # Each command beside its @before twin, so that both see the same moment's load.
    chosen.sort(key=lambda k: list(commands).index(k.split("@")[0]))
    load_before = os.getloadavg()
    results: dict[str, list[tuple[float, float, int]]] = {k: [] for k in chosen}
    for rep in range(args.reps):
        for key in chosen:
            results[key].append(measure(commands[key], envs[key], cwds.get(key)))
            w, c, m = results[key][-1]
            print(f"  rep {rep + 1} {key:<16} {w:6.2f} s wall {c:6.2f} s CPU {m:5d} MB", file=sys.stderr)
    load_after = os.getloadavg()

    def med(key: str, i: int) -> float:
        return statistics.median(r[i] for r in results[key])

    print(f"database {args.db}, {args.reps} repetitions, load average before {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}, {os.cpu_count()} CPUs")
    print(f"{'command':<17} {'wall (median)':>14} {'CPU (median)':>13} {'peak MB':>8}")
    summary = {"db": args.db, "reps": args.reps, "load_before": load_before, "load_after": load_after, "figures": {}}
    for key in chosen:
        peak = max(r[2] for r in results[key])
        print(f"{key:<17} {med(key, 0):13.2f}s {med(key, 1):12.2f}s {peak:8d}")
        summary["figures"][key] = {"wall": med(key, 0), "cpu": med(key, 1), "peak_mb": peak,
                                   "runs": results[key]}
    if "pandas" in chosen and "monthly" in chosen:
        wall_ratio = med("monthly", 0) / med("pandas", 0)
        cpu_ratio = med("monthly", 1) / med("pandas", 1)
        ratios = sorted(m[0] / p[0] for m, p in zip(results["monthly"], results["pandas"]))
        print(f"monthly / pandas: {wall_ratio:.2f}x wall, {cpu_ratio:.2f}x CPU (per repetition, wall: "
              + ", ".join(f"{r:.2f}" for r in ratios) + ")")
        summary["ratio_wall"], summary["ratio_cpu"] = wall_ratio, cpu_ratio
    if "pandas" in chosen and "monthly@before" in chosen:
        print(f"monthly@before / pandas: {med('monthly@before', 0) / med('pandas', 0):.2f}x wall, "
              f"{med('monthly@before', 1) / med('pandas', 1):.2f}x CPU")
    for key in ("monthly", "quarterly", "annual"):
        if key in chosen and f"{key}@before" in chosen:
            print(f"{key}: {med(key, 0) / med(key + '@before', 0):.2f}x the time before (wall), "
                  f"{med(key, 1) / med(key + '@before', 1):.2f}x (CPU)")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
