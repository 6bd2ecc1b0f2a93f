"""The per-agent table, from the areas' by-agent breakdowns."""

from __future__ import annotations

from typing import Any

from csdesk.reporting.core import Report
from csdesk.reporting.fmt import UNIT_KIND

# The per-agent table: one row per person, these breakdowns side by side (each with its previous value).
AGENT_COLUMNS = [
    ("calls.by_agent", "通话", "Calls"),
    ("complaints.owned_by_agent", "负责投诉", "Complaints owned"),
    ("complaints.resolved_by_agent", "已解决", "Resolved"),
    ("complaints.on_time_by_agent", "解决按时率", "Resolution on time"),
    ("visits.done_by_agent", "回访完成", "Visits reached"),
    ("visits.score_by_agent", "平均评分", "Average score"),
]


def agent_table(report: Report) -> tuple[list[tuple[str, str, str]], list[tuple]]:
    """Columns (中文, English, kind) and rows of the per-agent table, from the areas' agent breakdowns."""
    present = [(k, z, e) for k, z, e in AGENT_COLUMNS if any(b.key == k for b in report.breakdowns)]
    columns = [("客服", "Agent", "text")]
    values: dict[str, dict[str, tuple[Any, Any]]] = {}
    for key, z, e in present:
        b = report.breakdown(key)
        kind = UNIT_KIND[b.unit]
        columns += [(z, e, kind), (f"{z}(上期)", f"{e} (prev.)", kind)]
        for r in b.rows:
            values.setdefault(r.label, {})[key] = (r.value, r.previous)
    names = sorted(values, key=lambda n: (-(values[n].get("calls.by_agent", (0, 0))[0] or 0), n))
    rows = []
    for name in names:
        if name == "—" and not any(v[0] for v in values[name].values()):
            continue
        row: list[Any] = [name]
        for key, _z, _e in present:
            empty = (0, 0) if report.breakdown(key).unit == "count" else (None, None)
            row += list(values[name].get(key, empty))
        rows.append(tuple(row))
    return columns, rows
