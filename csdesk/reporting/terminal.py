"""The report on the terminal: rich tables."""

from __future__ import annotations

from csdesk.i18n import _
from csdesk.reporting.agents import agent_table
from csdesk.reporting.core import Report, speaking
from csdesk.reporting.definitions import AREAS
from csdesk.reporting.fmt import _t, fmt_change, fmt_value

def render_terminal(report: Report, console) -> None:
    """The report as rich tables: per area its figures (this period, previous, change), then its breakdowns."""
    with speaking(report.lang):
        _render(report, console)


def _render(report: Report, console) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    zh = report.lang == "zh"
    console.print(report.title, style="bold")
    console.print(f"{_t('period', zh)}: {report.period.first} ~ {report.period.last}    "
                  f"{_t('previous', zh)}: {report.previous.name} ({report.previous.first} ~ {report.previous.last})",
                  markup=False)
    for area in report.areas:
        console.print()
        if not area.available:
            console.print(Text.assemble((area.label, "bold"), f": {_t('not_available', zh)} — {area.note}"))
            continue
        t = Table(title=area.label, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, title_style="bold")
        t.add_column(_t("figure", zh))
        for col in ("current", "previous", "change"):
            t.add_column(_t(col, zh), justify="right", no_wrap=True)
        for f in report.figures:
            if f.area == area.key:
                t.add_row(f.label, fmt_value(f.unit, f.value), fmt_value(f.unit, f.previous), fmt_change(f.unit, f.change))
        console.print(t)
        for b in report.breakdowns:
            if b.area != area.key or not b.rows:
                continue
            bt = Table(title=f"{area.label} · {b.label}", box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
            bt.add_column(b.item_label)
            for col in ("current", "previous", "change"):
                bt.add_column(_t(col, zh), justify="right", no_wrap=True)
            per_day = b.key.endswith("per_day")
            if per_day:
                bt.add_column(_t("previous_date", zh), no_wrap=True)
            for r in b.rows:
                cells = [r.label, fmt_value(b.unit, r.value), fmt_value(b.unit, r.previous), fmt_change(b.unit, r.change)]
                if per_day:
                    cells.append(r.previous_item or "")
                bt.add_row(*cells)
            console.print(bt)
    cols, rows = agent_table(report)
    if rows:
        console.print()
        title = _("{table} (this period / previous)").format(table=_(AREAS["agents"]))
        at = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, title_style="bold")
        at.add_column(cols[0][0], no_wrap=True, min_width=4)
        for heading, _kind in cols[1::2]:
            at.add_column(heading, justify="right", no_wrap=True)
        for row in rows:
            cells = [f"{fmt_value(cols[j][1], row[j])} / {fmt_value(cols[j][1], row[j + 1])}" for j in range(1, len(row), 2)]
            at.add_row(row[0], *cells)
        console.print(at)
