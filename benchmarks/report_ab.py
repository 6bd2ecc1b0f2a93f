"""Two versions of csdesk's report side by side, interleaved (issue 15): before/after figures on a shared machine.

    git archive main | tar -x -C /tmp/base-src
    python benchmarks/report_ab.py --base /tmp/base-src --db /tmp/reports-bench.db --now "2026-12-01 13:00" --reps 2

Each repetition runs the pandas baseline for the month, then for the month, the quarter and the year the base
version (the source tree given by --base, put first on PYTHONPATH) and this one, one right after the other, in
turn first (the order flips every repetition), so that the load of the machine weighs on both alike. Medians of
wall and CPU time (user + system), peak memory, and each version's monthly / pandas ratio; the load average
before and after. Timing and memory as benchmarks/report_speed.py measures them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report_speed import measure  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="a source tree of the version to compare with (has csdesk/)")
    ap.add_argument("--db", default="/tmp/csdesk-bench.db")
    ap.add_argument("--month", default="2026-11")
    ap.add_argument("--quarter", default="2026-Q3")
    ap.add_argument("--year", default="2026")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--now", default=os.environ.get("CSDESK_NOW", ""))
    args = ap.parse_args()
    args.db = str(Path(args.db).resolve())
    # `python -m` puts the working directory first on sys.path, before PYTHONPATH: run from an empty one, so
    # that the base is the base even when started from a source tree.
    os.chdir(tempfile.mkdtemp(prefix="report-ab-"))

    env_new = dict(os.environ)
    env_new.pop("PYTHONPATH", None)
    if args.now:
        env_new["CSDESK_NOW"] = args.now
    env_base = dict(env_new, PYTHONPATH=str(Path(args.base).resolve()))
    py = sys.executable

    def report(kind: str, period: str, tag: str) -> list[str]:
        return [py, "-m", "csdesk", "--db", args.db, "report", kind, "--period", period, "--xlsx", f"/tmp/report-ab-{tag}-{kind}.xlsx"]

    pandas = [py, str(HERE / "baseline_report_pandas.py"), "--db", args.db, "--period", args.month, "--xlsx", "/tmp/report-ab-pandas.xlsx"]
    results: dict[str, list[tuple[float, float, int]]] = {}
    load_before = os.getloadavg()
    for rep in range(args.reps):
        results.setdefault("pandas", []).append(measure(pandas, env_new))
        for kind, period in (("monthly", args.month), ("quarterly", args.quarter), ("annual", args.year)):
            order = [("base", env_base), ("new", env_new)]
            for tag, env in order if rep % 2 == 0 else order[::-1]:
                key = f"{kind} {tag}"
                results.setdefault(key, []).append(measure(report(kind, period, tag), env))
                w, c, m = results[key][-1]
                print(f"  rep {rep + 1} {key:<15} {w:6.2f} s wall {c:6.2f} s CPU {m:5d} MB", file=sys.stderr)
    load_after = os.getloadavg()

    def med(key: str, i: int) -> float:
        return statistics.median(r[i] for r in results[key])

    print(f"database {args.db}, {args.reps} repetitions, load average before {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}, {os.cpu_count()} CPUs")
    for key in results:
        print(f"{key:<16} {med(key, 0):7.2f} s wall {med(key, 1):7.2f} s CPU {max(r[2] for r in results[key]):5d} MB   runs "
              + " ".join(f"{r[0]:.2f}/{r[1]:.2f}" for r in results[key]))
    for tag in ("base", "new"):
        print(f"monthly {tag} / pandas: {med(f'monthly {tag}', 0) / med('pandas', 0):.2f}x wall, "
              f"{med(f'monthly {tag}', 1) / med('pandas', 1):.2f}x CPU")


if __name__ == "__main__":
    main()
