"""The per-agent table, from the areas' by-agent breakdowns."""

from __future__ import annotations

from typing import Any

from csdesk.i18n import N_, _
from csdesk.reporting.core import Report, speaking
from csdesk.reporting.fmt import UNIT_KIND

# The per-agent table: one row per person, these breakdowns side by side (each with its previous value).
AGENT_COLUMNS = [
    ("calls.by_agent", N_("Calls")),
    ("complaints.owned_by_agent", N_("Complaints owned")),
    ("complaints.resolved_by_agent", N_("Resolved")),
    ("complaints.on_time_by_agent", N_("Resolution on time")),
    ("visits.done_by_agent", N_("Visits reached")),
    ("visits.score_by_agent", N_("Average score")),
]


def agent_table(report: Report) -> tuple[list[tuple[str, str]], list[tuple]]:
    """Columns (heading in the interface language, kind) and rows of the per-agent table, from the areas' agent
    breakdowns."""
    with speaking(report.lang):
        return _agent_table(report)


def _agent_table(report: Report) -> tuple[list[tuple[str, str]], list[tuple]]:
    present = [(k, words) for k, words in AGENT_COLUMNS if any(b.key == k for b in report.breakdowns)]
    columns = [(_("Agent"), "text")]
    values: dict[str, dict[str, tuple[Any, Any]]] = {}
    for key, words in present:
        b = report.breakdown(key)
        kind = UNIT_KIND[b.unit]
        columns += [(_(words), kind), (_("{column} (previous)").format(column=_(words)), kind)]
        for r in b.rows:
            values.setdefault(r.label, {})[key] = (r.value, r.previous)
    names = sorted(values, key=lambda n: (-(values[n].get("calls.by_agent", (0, 0))[0] or 0), n))
    rows = []
    for name in names:
        if name == "—" and not any(v[0] for v in values[name].values()):
            continue
        row: list[Any] = [name]
        for key, _words in present:
            empty = (0, 0) if report.breakdown(key).unit == "count" else (None, None)
            row += list(values[name].get(key, empty))
        rows.append(tuple(row))
    return columns, rows
