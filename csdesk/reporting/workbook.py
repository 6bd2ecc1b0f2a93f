"""The report as workbook sheets (SheetSpecs for csdesk.xlsx), made to be printed as well as read.

Sheets, in order: the summary (the figures: this period, previous, change); the charts, one per printed
page; one sheet per area with its detail rows (calls: per day, or per month in an annual report); the
per-agent table; everything overdue at the end of the period; the breakdowns as one long table (the
charts' data); the definitions of every figure (指标说明), in the report's language.

Every sheet prints landscape, one page wide, its header row repeated on every page, the report's name
and period in the page header and "page x of y" in the footer. A change in a rate is in percentage
points (百分点 / pp), as on the terminal. Lists of money (receivables, overdue items) end with a totals row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from csdesk.i18n import N_, _
from csdesk.reporting.agents import agent_table
from csdesk.reporting.core import (
    AREA_CHARTS, ON_TIME_FIGURES, SHEET_BLOCKS, AreaInfo, Detail, Report, _local_text,
)
from csdesk.reporting.definitions import AREAS, definition
from csdesk.reporting.fmt import UNIT_KIND, _t, change_ratio

SHEETS = {  # fixed sheet names: message ids
    "charts": N_("Charts"), "breakdowns": N_("Breakdowns"), "definitions": N_("Definitions"),
    "overdue": N_("Overdue at end"),
}
WORDS = {
    "breakdown": N_("Breakdown"), "item": N_("Item"), "key": N_("Key"), "total": N_("Total"),
    "on_time": N_("On-time rates"), "agent_calls": N_("Calls per agent"),
    "footer": N_("Page &P of &N"),
    "charts_note": N_("The charts' data are on the Breakdowns, Calls and Per agent sheets."),
}


def _w(key: str, zh: bool = True) -> str:
    return _(WORDS[key])


def _sheet_name(key: str, zh: bool = True) -> str:
    return _(SHEETS[key])


def change_cell(unit: str, change, zh: bool):
    """A change as its cell: a rate's in percentage points (the value ×100), the rest in the figure's unit."""
    from csdesk.xlsx import Typed

    if unit == "rate":
        return Typed(None if change is None else Decimal(change) * 100, "points_zh" if zh else "points")
    return Typed(change, UNIT_KIND[unit])


def workbook_sheets(report: Report, details: dict[str, Detail]) -> list:
    """The workbook as SheetSpecs (see the module's docstring for the order)."""
    from csdesk.xlsx import Col, SheetSpec, Typed

    zh = report.lang == "zh"
    page = {"page_header": report.title, "page_footer": _w("footer", zh)}
    tz_name = f" ({report.timezone})"
    preamble = [
        report.title,
        f"{_t('period', zh)}: {report.period.name}  {report.period.first} ~ {report.period.last}"
        + (f"  ({_t('to_date', zh)} {_local_text(report.as_of, _zone_of(report))})" if report.to_date else ""),
        f"{_t('previous', zh)}: {report.previous.name}  {report.previous.first} ~ {report.previous.last}",
        f"{_t('generated', zh)}: {_local_text(report.generated_at, _zone_of(report))}{tz_name}   "
        + _t("masked" if report.masked else "unmasked", zh),
    ]
    columns = [Col(_t(k, zh)) for k in ("area", "figure")] + [Col(_t("current", zh)), Col(_t("previous", zh)),
                                                              Col(_t("change", zh)), Col(_t("change_rate", zh), "change_rate")]
    rows: list[tuple] = []
    area_label = {a.key: a.label for a in report.areas}
    for a in report.areas:
        if not a.available:
            rows.append((a.label, _t("not_available", zh), None, None, None, None))
    for f in report.figures:
        kind = UNIT_KIND[f.unit]
        rows.append((area_label[f.area], f.label, Typed(f.value, kind), Typed(f.previous, kind), change_cell(f.unit, f.change, zh),
                     change_ratio(f.unit, f.value, f.previous)))
    sheets = [SheetSpec(_t("summary", zh), columns, rows, preamble=preamble, **page)]

    breakdown_rows, where = _breakdown_table(report, zh)
    agent_cols, agent_rows = agent_table(report)
    sheets.append(SheetSpec(_sheet_name("charts", zh), [], [], preamble=[report.title, _w("charts_note", zh)],
                            charts=_charts(report, zh, where, len(agent_rows) if len(agent_cols) > 1 else 0), chart_pages=True, **page))
    for a in report.areas:
        sheets.append(_area_sheet(report, a, details.get(a.key), zh, page))
    sheets.append(SheetSpec(_(AREAS["agents"]), [Col(title, kind) for title, kind in agent_cols], agent_rows, **page))
    if "overdue" in details:
        sheets.append(_overdue_sheet(details["overdue"], zh, page))
    sheets.append(SheetSpec(_sheet_name("breakdowns", zh),
                            [Col(_t("area", zh)), Col(_w("breakdown", zh)), Col(_w("item", zh)), Col(_t("current", zh)),
                             Col(_t("previous", zh)), Col(_t("change", zh))], breakdown_rows, **page))
    sheets.append(SheetSpec(_sheet_name("definitions", zh), [Col(_t("area", zh)), Col(_t("figure", zh)), Col(_w("key", zh)),
                                                             Col(_t("definition", zh))], _definition_rows(report, zh), **page))
    return sheets


def detail_sheets(report: Report, details: dict[str, Detail]) -> list:
    """Only the sheets of detail rows (each with its `key`), as workbook_sheets makes them: what a second process
    writing some of them needs, before the figures are known (they need none of them)."""
    zh = report.lang == "zh"
    page = {"page_header": report.title, "page_footer": _w("footer", zh)}
    sheets = [_area_sheet(report, a, details[a.key], zh, page) for a in report.areas
              if a.available and a.key != "calls" and a.key in details]
    if "overdue" in details:
        sheets.append(_overdue_sheet(details["overdue"], zh, page))
    return sheets


def _overdue_sheet(d: Detail, zh: bool, page: dict):
    from csdesk.xlsx import Col, SheetSpec

    return SheetSpec(_sheet_name("overdue", zh), [Col(_(title), kind) for title, kind in d.columns],
                     d.rows(), empty_note=_(d.empty), totals_label=_w("total", zh), key="overdue", **page)


def _zone_of(report: Report):
    from csdesk.dates import zone

    return zone(report.timezone)


def _breakdown_table(report: Report, zh: bool) -> tuple[list[tuple], dict[str, tuple[int, int]]]:
    """The breakdowns as one long table (area, breakdown, item, this period, previous, change), the on-time
    rates first; and where each one's rows are (first, last row), for the charts."""
    from csdesk.xlsx import Typed

    rows: list[tuple] = []
    where: dict[str, tuple[int, int]] = {}
    area_label = {a.key: a.label for a in report.areas}

    def add(key: str, area: str, label: str, unit: str, items) -> None:
        first = len(rows) + 2  # row 1 is the header
        for item, value, previous, change in items:
            kind = UNIT_KIND[unit]
            rows.append((area, label, item, Typed(value, kind), Typed(previous, kind), change_cell(unit, change, zh)))
        if len(rows) + 1 >= first:
            where[key] = (first, len(rows) + 1)

    on_time = [report.figure(k) for k in ON_TIME_FIGURES if any(f.key == k for f in report.figures)]
    if on_time:
        add("on_time", _t("summary", zh), _w("on_time", zh), "rate", [(f.label, f.value, f.previous, f.change) for f in on_time])
    for a in report.areas:
        for key, _side in SHEET_BLOCKS.get(a.key, []):
            if not any(b.key == key for b in report.breakdowns):
                continue
            b = report.breakdown(key)
            add(key, area_label[a.key], b.label, b.unit, [(r.label, r.value, r.previous, r.change) for r in b.rows])
    return rows, where


def _charts(report: Report, zh: bool, where: dict[str, tuple[int, int]], agents: int) -> list:
    """The charts, one a page: on-time rates, calls per day (per month), each area's, calls by agent."""
    from csdesk.xlsx import ChartSpec

    current, previous = _t("current", zh), _t("previous", zh)
    breakdowns = _sheet_name("breakdowns", zh)
    charts = []
    if "on_time" in where:
        first, last = where["on_time"]
        charts.append(ChartSpec("bar", _w("on_time", zh), "", 3, [4, 5], percent=True, sheet=breakdowns,
                                rows=(1, first, last), series_titles=[current, previous]))
    available = {a.key for a in report.areas if a.available}
    for area in [a.key for a in report.areas]:  # in report order, whichever area module was imported first
        specs = AREA_CHARTS.get(area, [])
        if area not in available:
            continue
        for block, kind, chart_title, series, percent in specs:
            if block == "main":  # the area's own table: calls per day (per month in an annual report)
                b = report.breakdown("calls.per_day")
                # Short category labels that stay level: the day of the month (the month in an annual report).
                x_format = "yyyy-mm" if report.kind == "annual" else "d" if report.kind in ("monthly", "weekly") else "m-d"
                charts.append(ChartSpec(kind, b.label, "", 1, [1 + s for s in series], percent=percent, sheet=_(AREAS[area]),
                                        rows=(1, 2, 1 + len(b.rows)), series_titles=[current, previous], x_format=x_format))
            elif block in where:
                first, last = where[block]
                charts.append(ChartSpec(kind, _(chart_title), "", 3, [3 + s for s in series], percent=percent,
                                        sheet=breakdowns, rows=(1, first, last), series_titles=[current, previous]))
    if agents:
        charts.append(ChartSpec("bar", _w("agent_calls", zh), "", 1, [2], sheet=_(AREAS["agents"]),
                                rows=(1, 2, 1 + agents), series_titles=[_t("current", zh)]))
    return charts


def _definition_rows(report: Report, zh: bool) -> list[tuple]:
    """指标说明: every figure and breakdown of the report with its definition, in the report's language."""
    area_label = {a.key: a.label for a in report.areas}
    rows: list[tuple] = []
    for a in report.areas:
        if not a.available:
            rows.append((a.label, _t("not_available", zh), "", a.note))
    for f in report.figures:
        rows.append((area_label[f.area], f.label, f.key, definition(f.key, report.lang)))
    for b in report.breakdowns:
        rows.append((area_label[b.area], b.label, b.key, definition(b.key, report.lang)))
    return rows


def _area_sheet(report: Report, area: AreaInfo, detail: Detail | None, zh: bool, page: dict):
    from csdesk.xlsx import Col, SheetSpec

    title = area.label
    if not area.available:
        note = f"{area.label}: {_t('not_available', zh)} — {area.note}"
        return SheetSpec(title, [Col(_t("figure", zh))], [], preamble=[note], empty_note=note, **page)
    if area.key == "calls":
        b = report.breakdown("calls.per_day")
        cols = [Col(b.item_label), Col(_t("current", zh), "count"), Col(_t("previous_date", zh)),
                Col(_t("previous", zh), "count"), Col(_t("change", zh), "count")]
        kind = "month" if report.kind == "annual" else "date"
        cols[0].kind = cols[2].kind = kind
        rows = [(_item_date(r.item), r.value, _item_date(r.previous_item), r.previous, r.change) for r in b.rows]
        return SheetSpec(title, cols, rows, **page)
    if detail is None:
        return SheetSpec(title, [Col(_t("figure", zh))], [], **page)
    cols = [Col(_(heading), kind) for heading, kind in detail.columns]
    money = any(c.kind == "money" for c in cols)
    return SheetSpec(title, cols, detail.rows(), empty_note=_(detail.empty),
                     totals_label=_w("total", zh) if money else "", key=detail.area, **page)


def _item_date(item: str | None) -> date | None:
    """A per-day item (2026-11-24, or 2026-11 in an annual report) as a real date for the workbook."""
    if not item:
        return None
    return date.fromisoformat(item) if len(item) == 10 else date(int(item[:4]), int(item[5:7]), 1)

