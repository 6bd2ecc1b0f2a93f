"""The print-ready workbook, read back with openpyxl (the PDF itself is checked in test_report_print.py):
page setup on every sheet, charts on their own sheet, definitions in the report's language, a rate's
change in percentage points, straight lines, the annual report by month, totals rows under lists of
money, and the stage of a project as of the period's end like the money beside it."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
from test_report_xlsx import table, write
from test_reports import at, month  # noqa: F401 — the shared hand-counted dataset fixture


def chart_title(chart) -> str:
    return "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))


def test_every_sheet_prints_landscape_one_page_wide_with_header_rows_and_page_numbers(month, tmp_path):
    report, wb = write(month, tmp_path / "m.xlsx")
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape", ws.title
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0) and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert report.title in ws.oddHeader.center.text and ws.oddHeader.right.text == "&A", ws.title
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页", ws.title
        if ws.title != "图表":
            header = 5 if ws.title == "汇总" else 1
            assert ws.print_title_rows == f"${header}:${header}", ws.title
    _, en = write(month, tmp_path / "e.xlsx", lang="en")
    assert en["Overview"].oddFooter.center.text == "Page &P of &N"


def test_charts_have_a_sheet_of_their_own_one_a_page_and_lines_are_straight(month, tmp_path):
    _, wb = write(month, tmp_path / "m.xlsx")
    charts = wb["图表"]._charts
    assert [chart_title(c) for c in charts] == ["按时率", "每日通话", "投诉按类别", "账龄分布", "按客服通话"]
    rows = [c.anchor._from.row for c in charts]  # 0-based top rows, one printed page apart
    breaks = [b.id for b in wb["图表"].row_breaks.brk]
    assert len(breaks) == len(charts)
    for top, brk, nxt in zip(rows, breaks, rows[1:] + [None]):
        assert top < brk and (nxt is None or nxt > brk)  # each chart between two breaks
    line = charts[1]
    assert type(line).__name__ == "LineChart" and line.series and all(s.smooth is False for s in line.series)
    assert all(c.y_axis.scaling.min == 0 for c in charts)
    # the data the charts draw: on the breakdowns sheet and the calls and agents tables
    refs = [s.val.numRef.f for c in charts for s in c.series]
    assert all(ref.startswith(("'分项统计'!", "'通话'!", "'人员'!")) for ref in refs), refs


def test_definitions_sheet_in_the_reports_language_and_not_on_the_summary(month, tmp_path):
    from csdesk.reports import BREAKDOWNS, FIGURES
    from csdesk.reporting.core import in_chinese

    for key, fig in {**FIGURES, **BREAKDOWNS}.items():  # every figure has its Chinese text, in the catalogue
        assert in_chinese(fig.definition) != fig.definition and in_chinese(fig.label) != fig.label, key
    _, wb = write(month, tmp_path / "m.xlsx")
    assert [c.value for c in wb["汇总"][5]] == ["区域", "指标", "本期", "上期", "变化", "变化率"]
    rows = {r["代码"]: r for r in table(wb["指标说明"])}
    assert set(rows) == set(FIGURES) | set(BREAKDOWNS)
    assert rows["calls.total"]["定义"] == in_chinese(FIGURES["calls.total"].definition) and rows["calls.total"]["指标"] == "通话总数"
    _, en = write(month, tmp_path / "e.xlsx", lang="en")
    defs = {r["Key"]: r for r in table(en["Definitions"])}
    assert defs["money.collected"]["Definition"] == FIGURES["money.collected"].definition


def test_a_rates_change_is_in_percentage_points(month, tmp_path):
    _, wb = write(month, tmp_path / "m.xlsx")
    summary = wb["汇总"]
    row = next(r for r in summary.iter_rows(min_row=6) if r[1].value == "首次解决率")
    # October 1 of 3 inbound resolved (33.3%), September 1 of 1 (100%): -66.7 points
    assert Decimal(str(row[4].value)).quantize(Decimal("0.01")) == Decimal("-66.67")
    assert row[4].number_format == '+0.0"个百分点";-0.0"个百分点";0.0"个百分点"'
    on_time = [r for r in wb["分项统计"].iter_rows(min_row=2) if r[1].value == "按时率"]
    assert on_time and all(r[5].number_format.startswith('+0.0"个百分点"') for r in on_time if r[5].value is not None)
    _, en = write(month, tmp_path / "e.xlsx", lang="en")
    row = next(r for r in en["Overview"].iter_rows(min_row=6) if r[1].value == "First-contact resolution rate")
    assert row[4].number_format == '+0.0"pp";-0.0"pp";0.0"pp"'


def test_the_annual_report_counts_and_charts_by_month(month, tmp_path):
    report, wb = write(month, tmp_path / "a.xlsx", kind="annual", period="2026", now=at("11-24 10:00"))
    assert report.breakdown("calls.per_day").label == "每月通话"
    calls = wb["通话"]
    assert calls["A1"].value == "月份" and calls["A2"].number_format == "yyyy-mm"
    titles = [chart_title(c) for c in wb["图表"]._charts]
    assert "每月通话" in titles and "每日通话" not in titles
    line = next(c for c in wb["图表"]._charts if chart_title(c) == "每月通话")
    assert line.x_axis.number_format.formatCode == "yyyy-mm"
    assert "每日通话" not in {r["指标"] for r in table(wb["指标说明"])}


def test_lists_of_money_end_with_a_totals_row_and_the_stage_is_as_of_period_end(month, tmp_path):
    """P1 is accepted and paid in full in November (so settled now); October's money sheet shows it as it
    was at the end of October — handed over, ¥50,000 outstanding — and a totals row under the list."""
    from csdesk.workflows import payments as pay
    from csdesk.workflows import projects as pj

    from sqlalchemy import select

    from csdesk.models import Project

    with month.desk(as_="张强", now=at("11-10 10:00")) as d:
        code = d.session.execute(select(Project.code)).scalar_one()
        pj.accept_project(d, code, with_open_adjustments=True, reason="客户同意先验收")
    with month.desk(as_="王芳", now=at("11-11 10:00")) as d:
        pay.record_payment(d, code, Decimal("50000"))
    with month.desk(now=at("11-12 10:00")) as d:
        assert pj.find_project(d.session, code).stage == "settled"
    _, wb = write(month, tmp_path / "m.xlsx", now=at("11-24 10:00"))
    ws = wb["款项"]
    rows = list(ws.iter_rows(min_row=1, values_only=True))
    head = rows[0]
    assert rows[1][head.index("期末阶段")] == "已交付"  # not 已结清: as of 31 October, like the money
    assert rows[1][head.index("未收合计")] == 50000
    assert rows[2][0] == "合计" and rows[2][head.index("未收合计")] == 50000 and rows[2][head.index("0-30天")] == 50000
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(head))}2"  # the totals row is not filtered
    overdue = list(wb["期末逾期事项"].iter_rows(min_row=1, values_only=True))
    assert overdue[-1][0] == "合计" and overdue[-1][overdue[0].index("金额")] == 50000
