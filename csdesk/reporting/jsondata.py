"""The report as plain dicts, for --json."""

from __future__ import annotations

from typing import Any

from csdesk.i18n import _
from csdesk.reporting.agents import AGENT_COLUMNS, agent_table
from csdesk.reporting.core import BREAKDOWNS, FIGURES, PeriodInfo, Report, speaking

def report_json(report: Report) -> dict[str, Any]:
    """The same figures for scripts: every figure with its previous value and change, every breakdown."""
    with speaking(report.lang):
        return _report_json(report)


def _report_json(report: Report) -> dict[str, Any]:
    def period(p: PeriodInfo) -> dict[str, Any]:
        return {"name": p.name, "label": p.label, "first_day": p.first, "last_day": p.last, "start": p.start, "end": p.end}

    return {
        "report": report.kind,
        "title": report.title,
        "period": period(report.period),
        "previous": period(report.previous),
        "as_of": report.as_of,
        "to_date": report.to_date,
        "generated_at": report.generated_at,
        "areas": [{"area": a.key, "label": a.label, "available": a.available, "note": a.note or None} for a in report.areas],
        "figures": {
            f.key: {"label": f.label, "unit": f.unit, "value": f.value, "previous": f.previous, "change": f.change,
                    "definition": _(FIGURES[f.key].definition)}
            for f in report.figures
        },
        "agents": _agents_json(report),
        "breakdowns": {
            b.key: {"label": b.label, "unit": b.unit, "definition": _(BREAKDOWNS[b.key].definition),
                    "rows": [{"item": r.item, "label": r.label, "value": r.value, "previous": r.previous, "change": r.change,
                              **({"previous_item": r.previous_item} if r.previous_item is not None else {})}
                             for r in b.rows]}
            for b in report.breakdowns
        },
    }


def _agents_json(report: Report) -> list[dict[str, Any]]:
    cols, rows = agent_table(report)
    keys = [k for k, _words in AGENT_COLUMNS if any(b.key == k for b in report.breakdowns)]
    return [{"agent": row[0], **{k: {"value": row[1 + 2 * i], "previous": row[2 + 2 * i]} for i, k in enumerate(keys)}}
            for row in rows]
