"""The pandas baseline for `csdesk report monthly --xlsx` (issue 7): the way a report is often written —
read the month's rows into DataFrames, group them in pandas, write the frames with DataFrame.to_excel.

Only for comparison: pandas is NOT a csdesk dependency (`pip install pandas` to run this). It computes
the same summary figures as csdesk's monthly report where they are plain counts and sums (calls by kind,
channel, direction, agent and day, first-contact resolution; complaints opened, resolved, closed,
reopened, escalations, by category and severity, on-time rates from the SLA columns csdesk caches;
visits due / on time / late / missed, reach and satisfied rates, average score; adjustments; money due,
collected, collection rate, dunning steps), and writes a summary sheet, the breakdowns and the same
detail rows as csdesk's workbook (every complaint of the month — SLA results from the cached columns —,
every visit due, receivables by project, what is overdue at the end) — without charts or formatting.

    python benchmarks/baseline_report_pandas.py --db /tmp/csdesk-bench.db --period 2026-10 --xlsx /tmp/baseline.xlsx

`--compare report.json` (csdesk's `report monthly --period 2026-10 --json`) sets every figure both compute
side by side. Prints its wall time and peak memory (ru_maxrss) so they can be set beside
`/usr/bin/time -v csdesk --db /tmp/csdesk-bench.db report monthly --period 2026-10 --xlsx /tmp/csdesk.xlsx`.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import time
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


def month_bounds(name: str, tz: ZoneInfo):
    y, m = (int(x) for x in name.split("-"))
    first = date(y, m, 1)
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    prev = date(y - (m == 1), (m - 2) % 12 + 1, 1)

    def utc(d: date) -> str:  # csdesk stores naive UTC
        return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")

    return (first, nxt, utc(first), utc(nxt)), (prev, first, utc(prev), utc(first))


def figures(con, pd, bounds, tz):
    first, nxt, start, end = bounds
    q = lambda sql, *p: pd.read_sql_query(sql, con, params=p)  # noqa: E731
    out: dict[str, object] = {}
    calls = q("SELECT at, kind, channel, direction, agent_id, first_contact_resolved FROM call WHERE at >= ? AND at < ?", start, end)
    calls["at"] = pd.to_datetime(calls["at"]).dt.tz_localize("UTC").dt.tz_convert(str(tz))
    inbound = calls[calls.direction == "in"]
    out["calls.total"] = len(calls)
    out["calls.inbound"] = len(inbound)
    out["calls.outbound"] = int((calls.direction == "out").sum())
    out["calls.fcr_rate"] = round(inbound.first_contact_resolved.mean(), 4) if len(inbound) else None
    breakdowns = {
        "calls.by_kind": calls.groupby("kind").size(),
        "calls.by_channel": calls.groupby("channel").size(),
        "calls.by_direction": calls.groupby("direction").size(),
        "calls.by_agent": calls.groupby("agent_id").size(),
        "calls.per_day": calls.groupby(calls["at"].dt.date).size(),
    }
    comp = q("SELECT id, category, severity, opened_at, acked_at, resolved_at, first_response_due, resolution_due, "
             "response_breached, resolution_breached FROM complaint WHERE opened_at >= ? AND opened_at < ?", start, end)
    out["complaints.opened"] = len(comp)
    breakdowns["complaints.by_category"] = comp.groupby("category").size()
    breakdowns["complaints.by_severity"] = comp.groupby("severity").size()
    ev = q("SELECT complaint_id, kind, to_value FROM complaint_event WHERE at >= ? AND at < ? "
           "AND kind IN ('resolved', 'closed', 'reopened', 'escalated')", start, end)
    for kind in ("resolved", "closed", "reopened"):
        out[f"complaints.{kind}"] = ev[ev.kind == kind].complaint_id.nunique()
    out["complaints.escalations"] = int((ev.kind == "escalated").sum())
    breakdowns["complaints.escalations_by_level"] = ev[ev.kind == "escalated"].groupby("to_value").size()
    due = q("SELECT response_breached, resolution_breached, first_response_due, resolution_due FROM complaint "
            "WHERE (first_response_due >= ? AND first_response_due < ?) OR (resolution_due >= ? AND resolution_due < ?)",
            start, end, start, end)
    fr = due[(due.first_response_due >= start) & (due.first_response_due < end)]
    rs = due[(due.resolution_due >= start) & (due.resolution_due < end)]
    out["complaints.first_response_on_time"] = round(1 - fr.response_breached.mean(), 4) if len(fr) else None
    out["complaints.resolution_on_time"] = round(1 - rs.resolution_breached.mean(), 4) if len(rs) else None
    cb = q("SELECT status, due_at, closed_at, satisfied, score, closed_by_id, assignee_id FROM callback "
           "WHERE first_due_at >= ? AND first_due_at < ? AND status != 'cancelled'", start, end)
    done = cb[cb.status == "done"]
    out["visits.due"] = len(cb)
    out["visits.on_time"] = int((done.closed_at <= done.due_at).sum())
    out["visits.late"] = int((done.closed_at > done.due_at).sum())
    out["visits.missed"] = int((cb.status == "missed").sum())
    fin = q("SELECT status, satisfied, score, coalesce(closed_by_id, assignee_id) AS agent FROM callback "
            "WHERE status IN ('done', 'missed') AND closed_at >= ? AND closed_at < ?", start, end)
    reached = fin[fin.status == "done"]
    out["visits.reach_rate"] = round(len(reached) / len(fin), 4) if len(fin) else None
    verdicts = reached.satisfied.dropna()
    out["visits.satisfied_rate"] = round(verdicts.astype(bool).mean(), 4) if len(verdicts) else None
    out["visits.avg_score"] = round(reached.score.dropna().mean(), 2) if reached.score.notna().any() else None
    breakdowns["visits.done_by_agent"] = reached.groupby("agent").size()
    adj = q("SELECT action, entity_id FROM audit_entry WHERE entity = 'adjustment' AND at >= ? AND at < ?", start, end)
    out["adjustments.opened"] = int(q("SELECT count(*) AS n FROM adjustment WHERE created_at >= ? AND created_at < ?", start, end).n[0])
    for action, key in (("adjustment.done", "done"), ("adjustment.accept", "accepted"), ("adjustment.reject", "rejected")):
        out[f"adjustments.{key}"] = adj[adj.action == action].entity_id.nunique()
    inst = q("SELECT id, amount_fen FROM instalment WHERE due_on >= ? AND due_on < ?", first.isoformat(), nxt.isoformat())
    out["money.due_count"] = len(inst)
    out["money.due_amount"] = int(inst.amount_fen.sum()) / 100
    pay = q("SELECT amount_fen FROM payment WHERE received_at >= ? AND received_at < ?", start, end)
    out["money.collected"] = int(pay.amount_fen.sum()) / 100
    alloc = q("SELECT a.instalment_id, a.amount_fen FROM payment_allocation a JOIN payment p ON p.id = a.payment_id "
              "WHERE p.received_at < ?", end)
    paid = alloc[alloc.instalment_id.isin(inst.id)].amount_fen.sum()
    out["money.collection_rate"] = round(paid / inst.amount_fen.sum(), 4) if len(inst) else None
    steps = q("SELECT step FROM collection_step WHERE at >= ? AND at < ?", start, end)
    out["money.dunning_steps"] = len(steps)
    breakdowns["money.dunning_by_step"] = steps.groupby("step").size()
    return out, breakdowns, comp


def details(con, pd, bounds):
    """The same detail rows as csdesk's workbook, from the same tables (SLA results from the cached columns)."""
    first, nxt, start, end = bounds
    q = lambda sql, *p: pd.read_sql_query(sql, con, params=p)  # noqa: E731
    complaints = q(
        "SELECT c.id, c.opened_at, cu.code, cu.name, ph.number AS phone, c.category, c.severity, c.level, c.status, "
        "c.owner_id, c.assignee_id, c.acked_at, c.first_response_due, c.response_breached, c.resolved_at, c.resolution_due, "
        "c.resolution_breached, c.breach_count, c.closed_at, c.summary FROM complaint c JOIN customer cu ON cu.id = c.customer_id "
        "LEFT JOIN customer_phone ph ON ph.customer_id = cu.id AND ph.position = 0 "
        "WHERE (c.opened_at >= ? AND c.opened_at < ?) OR (c.resolved_at >= ? AND c.resolved_at < ?) "
        "OR (c.first_response_due >= ? AND c.first_response_due < ?) OR (c.resolution_due >= ? AND c.resolution_due < ?) "
        "ORDER BY c.opened_at", start, end, start, end, start, end, start, end)
    visits = q(
        "SELECT cb.id, cu.code, cu.name, coalesce(cb.phone, ph.number) AS phone, cb.purpose, cb.first_due_at, cb.due_at, "
        "cb.assignee_id, cb.status, cb.attempts, cb.outcome, cb.closed_at, cb.satisfied, cb.score, cb.result_note "
        "FROM callback cb JOIN customer cu ON cu.id = cb.customer_id LEFT JOIN customer_phone ph ON ph.customer_id = cu.id AND ph.position = 0 "
        "WHERE cb.first_due_at >= ? AND cb.first_due_at < ? AND cb.status != 'cancelled' ORDER BY cb.first_due_at", start, end)
    visits["on_time"] = (visits.status == "done") & (visits.closed_at <= visits.due_at)
    inst = q("SELECT i.id, i.project_id, i.amount_fen, i.due_on FROM instalment i WHERE i.created_at < ?", end)
    paid = q("SELECT a.instalment_id AS id, sum(a.amount_fen) AS paid FROM payment_allocation a JOIN payment p ON p.id = a.payment_id "
             "WHERE p.received_at < ? GROUP BY a.instalment_id", end)
    inst = inst.merge(paid, on="id", how="left").fillna({"paid": 0})
    inst["owed"] = inst.amount_fen - inst.paid
    inst = inst[inst.owed > 0].copy()
    last = (nxt - pd.Timedelta(days=1)).isoformat() if hasattr(nxt, "isoformat") else nxt
    inst["late"] = (pd.to_datetime(last) - pd.to_datetime(inst.due_on)).dt.days
    inst["bucket"] = pd.cut(inst.late, [-10**6, 0, 30, 60, 90, 10**6], labels=["not_due", "0-30", "31-60", "61-90", "90+"])
    receivables = inst.pivot_table(index="project_id", columns="bucket", values="owed", aggfunc="sum", fill_value=0, observed=False) / 100
    projects = q("SELECT p.id AS project_id, p.code, p.name, p.stage, p.owner_id, p.contract_fen / 100.0 AS contract, cu.name AS customer "
                 "FROM project p JOIN customer cu ON cu.id = p.customer_id")
    receivables = projects.merge(receivables.reset_index(), on="project_id")
    overdue_visits = q("SELECT 'callback' AS type, id, customer_id, assignee_id, due_at AS due FROM callback "
                       "WHERE created_at < ? AND due_at < ? AND (status = 'pending' OR closed_at >= ?)", end, end, end)
    overdue_inst = inst[inst.late > 0][["id", "project_id", "due_on", "late", "owed"]]
    return {"complaints": complaints, "visits": visits, "receivables": receivables,
            "overdue": pd.concat([overdue_visits, overdue_inst.assign(type="instalment")], ignore_index=True)}


def main() -> None:
    import pandas as pd

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/csdesk-bench.db")
    ap.add_argument("--period", required=True, help="a month, 2026-10")
    ap.add_argument("--xlsx", default="/tmp/baseline-report.xlsx")
    ap.add_argument("--tz", default="Asia/Shanghai")
    ap.add_argument("--compare", metavar="JSON", help="csdesk's `report monthly --json` of the same month: set each "
                    "shared figure beside this script's and say which differ")
    args = ap.parse_args()
    tz = ZoneInfo(args.tz)
    t0 = time.perf_counter()
    con = sqlite3.connect(args.db)
    cur_bounds, prev_bounds = month_bounds(args.period, tz)
    cur, breakdowns, _ = figures(con, pd, cur_bounds, tz)
    prev, prev_breakdowns, _ = figures(con, pd, prev_bounds, tz)
    summary = pd.DataFrame({"figure": list(cur), "current": list(cur.values()), "previous": [prev.get(k) for k in cur]})
    summary["change"] = [c - p if isinstance(c, (int, float)) and isinstance(p, (int, float)) else None
                         for c, p in zip(summary.current, summary.previous)]
    with pd.ExcelWriter(args.xlsx, engine="openpyxl") as writer:
        summary.to_excel(writer, sheet_name="summary", index=False)
        for key, series in breakdowns.items():
            frame = pd.DataFrame({"current": series}).join(pd.DataFrame({"previous": prev_breakdowns.get(key, pd.Series(dtype=int))}), how="outer")
            frame.to_excel(writer, sheet_name=key[:31])
        for name, frame in details(con, pd, cur_bounds).items():
            frame.to_excel(writer, sheet_name=name, index=False)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pandas baseline: {elapsed:.2f} s, peak {peak:.0f} MB, {cur['calls.total']:,} calls and "
          f"{cur['complaints.opened']:,} complaints in {args.period}; wrote {args.xlsx}")
    if args.compare:
        compare(args.compare, cur, prev)


def compare(path: str, cur: dict, prev: dict) -> None:
    """Each figure both compute, current and previous, to four places; rates and scores differ in rounding only
    if csdesk's places are fewer. Definitions that differ on purpose are in the README (resolution on time
    counts every resolution deadline that fell in the period; this script only the cached last one)."""
    import json
    from decimal import Decimal

    figures = json.load(open(path, encoding="utf-8"))["figures"]
    differ = 0
    for key in cur:
        if key not in figures:
            continue
        ours = [figures[key]["value"], figures[key]["previous"]]
        theirs = [cur[key], prev.get(key)]
        same = all((a is None) == (b is None) and (a is None or abs(Decimal(str(a)) - Decimal(str(b))) < Decimal("0.00005"))
                   for a, b in zip(ours, theirs))
        differ += not same
        print(f"  {'same' if same else 'DIFFERS':8} {key:40} csdesk {ours[0]} / {ours[1]}   pandas {theirs[0]} / {theirs[1]}")
    print(f"{differ} of the shared figures differ")


if __name__ == "__main__":
    main()
