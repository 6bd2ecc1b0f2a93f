"""The report as workbook sheets (SheetSpecs for csdesk.xlsx): the summary first, then one sheet per area."""

from __future__ import annotations

from datetime import date

from csdesk.reporting.agents import agent_table
from csdesk.reporting.core import (
    AREA_CHARTS, FIGURES, ON_TIME_FIGURES, SHEET_BLOCKS, AreaInfo, Breakdown, Detail, Report, _local_text,
)
from csdesk.reporting.definitions import AREAS
from csdesk.reporting.fmt import UNIT_KIND, _t, change_ratio

def _breakdown_block(b: Breakdown, zh: bool):
    from csdesk.xlsx import Block, Col

    kind = UNIT_KIND[b.unit]
    cols = [Col(b.item_label), Col(_t("current", zh), kind), Col(_t("previous", zh), kind), Col(_t("change", zh), kind)]
    return Block(b.label, cols, [(r.label, r.value, r.previous, r.change) for r in b.rows], key=b.key)


def workbook_sheets(report: Report, details: dict[str, Detail]) -> list:
    """The workbook as SheetSpecs: the summary first, then one sheet per area."""
    from csdesk.xlsx import ChartSpec, Col, SheetSpec, Typed

    zh = report.lang == "zh"
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
                                                              Col(_t("change", zh)), Col(_t("change_rate", zh), "change_rate"),
                                                              Col(_t("definition", zh))]
    rows: list[tuple] = []
    area_label = {a.key: a.label for a in report.areas}
    for a in report.areas:
        if not a.available:
            rows.append((a.label, _t("not_available", zh), None, None, None, None, a.note))
    for f in report.figures:
        kind = UNIT_KIND[f.unit]
        rows.append((area_label[f.area], f.label, Typed(f.value, kind), Typed(f.previous, kind), Typed(f.change, kind),
                     change_ratio(f.unit, f.value, f.previous), FIGURES[f.key].definition))
    summary_blocks, summary_charts = _summary_blocks(report, zh)
    sheets = [SheetSpec(_t("summary", zh), columns, rows, preamble=preamble, blocks=summary_blocks, charts=summary_charts)]

    for a in report.areas:
        sheets.append(_area_sheet(report, a, details.get(a.key), zh))
    cols, rows = agent_table(report)
    sheets.append(SheetSpec(AREAS["agents"][0 if zh else 1], [Col(c[0] if zh else c[1], c[2]) for c in cols], rows,
                            charts=[ChartSpec("bar", "按客服通话" if zh else "Calls by agent", "main", 0, [1])] if len(cols) > 1 else []))
    if "overdue" in details:
        d = details["overdue"]
        sheets.append(SheetSpec("期末逾期事项" if zh else "Overdue at end", [Col(c[0] if zh else c[1], c[2]) for c in d.columns],
                                d.rows(), empty_note=d.empty_zh if zh else d.empty_en))
    return sheets


def _zone_of(report: Report):
    from csdesk.dates import zone

    return zone(report.timezone)


def _summary_blocks(report: Report, zh: bool):
    """The on-time rates block and chart on the summary sheet (complaints and visits)."""
    from csdesk.xlsx import Block, ChartSpec, Col

    keys = [k for k in ON_TIME_FIGURES if any(f.key == k for f in report.figures)]
    if not keys:
        return [], []
    rows = [(report.figure(k).label, report.figure(k).value, report.figure(k).previous) for k in keys]
    title = "按时率" if zh else "On-time rates"
    block = Block(title, [Col(_t("figure", zh)), Col(_t("current", zh), "rate"), Col(_t("previous", zh), "rate")], rows, key="on_time")
    return [block], [ChartSpec("bar", title, "on_time", 0, [1, 2], percent=True)]


def _area_sheet(report: Report, area: AreaInfo, detail: Detail | None, zh: bool):
    from csdesk.xlsx import ChartSpec, Col, SheetSpec

    title = area.label
    if not area.available:
        note = f"{area.label}: {_t('not_available', zh)} — {area.note}"
        return SheetSpec(title, [Col(_t("figure", zh))], [], preamble=[note], empty_note=note)
    blocks = [_breakdown_block(report.breakdown(k), zh) for k, _ in SHEET_BLOCKS.get(area.key, [])
              if any(b.key == k for b in report.breakdowns)]
    charts = [ChartSpec(kind, t_zh if zh else t_en, block, 0, series, percent=pct)
              for block, kind, t_zh, t_en, series, pct in AREA_CHARTS.get(area.key, [])]
    if area.key == "calls":
        b = report.breakdown("calls.per_day")
        cols = [Col(b.item_label), Col(_t("current", zh), "count"), Col(_t("previous_date", zh)),
                Col(_t("previous", zh), "count"), Col(_t("change", zh), "count")]
        kind = "month" if report.kind == "annual" else "date"
        cols[0].kind = cols[2].kind = kind
        rows = [(_item_date(r.item), r.value, _item_date(r.previous_item), r.previous, r.change) for r in b.rows]
        return SheetSpec(title, cols, rows, blocks=blocks, charts=charts)
    if detail is None:
        return SheetSpec(title, [Col(_t("figure", zh))], [], blocks=blocks, charts=charts)
    cols = [Col(c[0] if zh else c[1], c[2]) for c in detail.columns]
    return SheetSpec(title, cols, detail.rows(), blocks=blocks, charts=charts,
                     empty_note=detail.empty_zh if zh else detail.empty_en)


def _item_date(item: str | None) -> date | None:
    """A per-day item (2026-11-24, or 2026-11 in an annual report) as a real date for the workbook."""
    if not item:
        return None
    return date.fromisoformat(item) if len(item) == 10 else date(int(item[:4]), int(item[5:7]), 1)
