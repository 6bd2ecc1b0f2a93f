"""Time `csdesk db archive` on the benchmark database: the oldest half-year moved out, then VACUUM.

    python benchmarks/generate.py --db /tmp/csdesk-bench.db --force       # once (if it is not there)
    python benchmarks/archive.py --source /tmp/csdesk-bench.db --work /tmp/archive-bench.db

The source is never changed: it is copied to --work (upgraded to the current schema if it is older),
and the archive goes to --to (default: beside --work). --before defaults to six months after the first
day of the month of the oldest call, i.e. the oldest half-year of the generated year. Prints the wall
time of the archive command (and its own phase times), the sizes of the live file before, after the
archive and after VACUUM, the archive file's size and the rows moved. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def mib(n: int | None) -> str:
    return "—" if n is None else f"{n / 2**20:,.1f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default="/tmp/csdesk-bench.db")
    ap.add_argument("--work", default="/tmp/archive-bench.db")
    ap.add_argument("--to", default=None)
    ap.add_argument("--before", default=None, help="cut-off date (default: the oldest half-year of calls)")
    ap.add_argument("--as", dest="actor", default=None, help="a manager's name (default: the first manager)")
    args = ap.parse_args()

    source, work = Path(args.source), Path(args.work)
    if not source.exists():
        sys.exit(f"{source} does not exist: python benchmarks/generate.py --db {source} --force")
    target = Path(args.to) if args.to else work.with_name(work.stem + "-archive.db")
    for p in (work, Path(f"{work}-wal"), Path(f"{work}-shm"), target, Path(f"{target}.partial")):
        p.unlink(missing_ok=True)
    conn = sqlite3.connect(source)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(source, work)
    os.chmod(work, 0o600)
    env = dict(os.environ)
    env.pop("CSDESK_DB", None)
    run = lambda *a, **kw: subprocess.run(["csdesk", "--db", str(work), *a], capture_output=True, text=True, env=env, **kw)  # noqa: E731
    upgraded = run("db", "upgrade")
    if upgraded.returncode:
        sys.exit(upgraded.stderr)

    conn = sqlite3.connect(work)
    oldest = conn.execute("SELECT min(at) FROM call").fetchone()[0]
    actor = args.actor or conn.execute("SELECT name FROM staff WHERE role = 'manager' ORDER BY id LIMIT 1").fetchone()[0]
    totals = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ("call", "complaint", "complaint_event", "callback", "project", "audit_entry")}
    conn.close()
    if args.before:
        before = args.before
    else:
        first = date.fromisoformat(oldest[:10])
        m = first.month + 6
        before = date(first.year + (m - 1) // 12, (m - 1) % 12 + 1, 1).isoformat()

    live_before = size(work)
    import resource

    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = run("--as", actor, "--json", "db", "archive", "--before", before, "--to", str(target))
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    if result.returncode:
        sys.exit(result.stderr)
    data = json.loads(result.stdout)
    live_after = size(work)
    conn = sqlite3.connect(work)
    t1 = time.perf_counter()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    vacuum_s = time.perf_counter() - t1
    conn.close()
    live_vacuumed = size(work)

    print(f"archive --before {before} (oldest call {oldest[:10]}), as {actor}")
    print(f"  wall time          {wall:6.1f} s   (CPU {cpu:.1f} s; phases: {data['seconds']})")
    print(f"  VACUUM             {vacuum_s:6.1f} s")
    print(f"  rows moved         {data['rows']:,}")
    for t, n in data["counts"].items():
        if n:
            share = f" of {totals[t]:,} ({n / totals[t]:.0%})" if t in totals and totals[t] else ""
            print(f"    {t:<20} {n:>10,}{share}")
    print(f"  reference copies   {data['references']}")
    print(f"  live file          {mib(live_before)} before, {mib(live_after)} after the archive, {mib(live_vacuumed)} after VACUUM "
          f"({1 - live_vacuumed / live_before:.0%} smaller)")
    print(f"  archive file       {mib(target.stat().st_size)}  {target}")


if __name__ == "__main__":
    main()
