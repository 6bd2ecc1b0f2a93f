"""The workbook, read back with openpyxl: every headline figure, the sheets, charts, formats, masking and
formula safety — for the hand-counted month of test_reports.py and for the demo database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import openpyxl
from test_reports import EXPECTED, at, month  # noqa: F401 — the shared hand-counted dataset fixture

D = Decimal
ZH_SHEETS = ["汇总", "图表", "通话", "投诉", "回访", "调整整改", "款项", "质检", "人员", "期末逾期事项", "分项统计", "指标说明"]
EN_SHEETS = ["Overview", "Charts", "Calls", "Complaints", "Return visits", "Adjustments", "Money", "Quality checks", "Per agent", "Overdue at end",
             "Breakdowns", "Definitions"]


def write(db, path, kind="monthly", period="2026-10", as_=None, now=None, **kw):
    from csdesk.reports import build_report, write_xlsx

    with db.desk(as_=as_, now=now) as d:
        kw.setdefault("lang", "zh")  # the workbook's language is the report's; these tests read the Chinese one
        report = build_report(d, kind, period, **kw)
        write_xlsx(d, report, path)
    return report, openpyxl.load_workbook(path)


def summary_figures(ws) -> dict[str, tuple]:
    """(figure label) -> (current, previous, change) from the summary sheet's table."""
    header = next(i for i, row in enumerate(ws.iter_rows(values_only=True), 1) if row[0] in ("区域", "Area"))
    out = {}
    for row in ws.iter_rows(min_row=header + 1, values_only=True):
        if row[1]:
            out[row[1]] = row[2:5]
    return out


def same(cell, expected) -> bool:
    if expected is None:
        return cell is None
    if isinstance(expected, Decimal):
        return cell is not None and Decimal(str(cell)).quantize(Decimal("0.0001")) == expected.quantize(Decimal("0.0001"))
    return cell == expected


def table(ws, header_row=1) -> list[dict]:
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    head = rows[0]
    width = head.index(None) if None in head else len(head)
    # a money list's totals row (合计 / Total) is not one of its rows
    return [dict(zip(head[:width], r[:width])) for r in rows[1:] if any(v is not None for v in r[:width])
            and r[0] not in ("合计", "Total")]


def test_every_headline_figure_in_the_workbook(month, tmp_path):
    from csdesk.reports import FIGURES

    report, wb = write(month, tmp_path / "m.xlsx")
    assert wb.sheetnames == ZH_SHEETS
    figures = summary_figures(wb["汇总"])
    for key, (value, previous) in EXPECTED.items():
        cur, prev, change = figures[FIGURES[key].zh]
        assert same(cur, value), (key, cur, value)
        assert same(prev, previous), (key, prev, previous)
        # a rate's change in percentage points, as on the terminal
        assert same(change, None if value is None or previous is None else (value - previous) * (100 if FIGURES[key].unit == "rate" else 1)), key
    assert wb["汇总"]["A1"].value.startswith("月报 2026年10月")


def test_sheets_have_frozen_headers_filters_widths_formats_and_native_charts(month, tmp_path):
    report, wb = write(month, tmp_path / "m.xlsx")
    summary = wb["汇总"]
    assert summary.freeze_panes == "A6" and summary.auto_filter.ref.startswith("A5:F")
    money_row = next(r for r in summary.iter_rows(min_row=6) if r[1].value == "实收金额")
    assert money_row[2].number_format == '"¥"#,##0.00' and money_row[2].value == 20000
    rate_row = next(r for r in summary.iter_rows(min_row=6) if r[1].value == "回款率")
    assert rate_row[2].number_format == "0.0%"
    for name in ZH_SHEETS[2:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
    charts = {name: [type(c).__name__ for c in wb[name]._charts] for name in ZH_SHEETS}
    # all on the charts sheet: on-time rates, calls per day, complaints by category, aging, calls by agent
    assert charts["图表"] == ["BarChart", "LineChart", "BarChart", "BarChart", "BarChart"]
    assert all(not charts[name] for name in ZH_SHEETS if name != "图表")
    calls = wb["通话"]
    assert calls["A2"].value == datetime(2026, 10, 1) and calls["A2"].number_format == "yyyy-mm-dd"  # a real date
    # Chinese text counts double: "解决用时(工作小时)" is 8 wide characters and 2 narrow ones, + 2 of padding
    complaints = wb["投诉"]
    width_of = {c.value: complaints.column_dimensions[c.column_letter].width for c in complaints[1] if c.value}
    assert width_of["解决用时(工作小时)"] == 2 * 8 + 2 + 2
    assert width_of["摘要"] == 2 * 4 + 2  # the widest summary, 墙面开裂, is four wide characters
    assert width_of["立案时间"] == len("2026-10-20 09:00") + 2


def test_detail_rows(month, tmp_path):
    report, wb = write(month, tmp_path / "m.xlsx")
    complaints = table(wb["投诉"])
    assert [r["编号"] for r in complaints] == [2, 3, 4]  # A, B, C: D is September's
    a, b, c = complaints
    assert a["立案时间"] == datetime(2026, 10, 20, 9, 0) and a["首响时限"] == datetime(2026, 10, 20, 14, 30)
    assert (a["首响结果"], a["解决结果"], a["解决用时(工作小时)"], a["当前状态"]) == ("按时", "按时", 12.5, "已关闭")
    assert (b["首响结果"], b["解决结果"], b["级别"], b["处理人"]) == ("超时", "超时", 2, "李娜")
    assert b["电话"] == "139****4321" and b["客户"] == "李四"
    # answered in November; its resolution deadline (11-05 09:30) has passed by now, unresolved
    assert (c["首响结果"], c["解决结果"]) == ("按时", "超时")
    overdue = table(wb["期末逾期事项"])
    kinds = sorted(r["类型"] for r in overdue)
    # B (one row per complaint: its earliest passed deadline), J2, 尾款, V4 and the handover visit
    assert kinds == sorted(["投诉首次响应超时", "款项逾期", "调整逾期", "回访逾期", "回访逾期"])
    instalment = next(r for r in overdue if r["类型"] == "款项逾期")
    assert (instalment["金额"], instalment["逾期天数"], instalment["到期"]) == (50000, 16, datetime(2026, 10, 15))
    receivables = table(wb["款项"])
    assert len(receivables) == 1 and receivables[0]["0-30天"] == 50000 and receivables[0]["未收合计"] == 50000
    visits = table(wb["回访"])
    assert len(visits) == 6 and sorted(r["按时"] or "" for r in visits) == ["", "", "", "否", "是", "是"]
    agents = table(wb["人员"])
    assert [(r["客服"], r["通话"], r["通话(上期)"]) for r in agents] == [("王芳", 3, 1), ("李娜", 1, 0)]


def test_english_workbook(month, tmp_path):
    report, wb = write(month, tmp_path / "m.xlsx", lang="en")
    assert wb.sheetnames == EN_SHEETS
    figures = summary_figures(wb["Overview"])
    assert figures["Total calls"][:2] == (4, 1)
    assert figures["Collected"][:2] == (20000, 30000)
    assert table(wb["Complaints"])[1]["Response SLA"] == "past the deadline"


def test_phones_are_masked_unless_a_manager_unmasks(month, tmp_path):
    _, wb = write(month, tmp_path / "m.xlsx")
    phones = {r["电话"] for r in table(wb["投诉"])}
    assert phones == {"138****5678", "139****4321"}
    _, wb = write(month, tmp_path / "u.xlsx", as_="张强", unmask=True)
    assert {r["电话"] for r in table(wb["投诉"])} == {"13812345678", "13987654321"}


def test_text_that_looks_like_a_formula_is_written_as_text(team, tmp_path):
    from csdesk.workflows import complaints as cp
    from csdesk.workflows.call_intake import log_call
    from csdesk.xlsx import Col, SheetSpec, csv_field, write_workbook

    risky = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3+4", "@SUM(A1)"]
    with team.desk(as_="王芳", now=at("11-24 09:00")) as d:
        log_call(d, "13812345678", "complaint", "投诉", name=risky[0])
        for text in risky:
            cp.open_complaint(d, customer="13812345678", severity="normal", category="quality", summary=text)
    _, wb = write(team, tmp_path / "f.xlsx", period="current", now=at("11-24 10:00"))
    ws = wb["投诉"]
    summaries = [row[20] for row in ws.iter_rows(min_row=2, max_row=5)]
    assert [c.value for c in summaries] == risky
    assert all(c.data_type == "s" for c in summaries)  # text, never a formula
    names = [row[3] for row in ws.iter_rows(min_row=2, max_row=5)]
    assert all(c.data_type == "s" and c.value == risky[0] for c in names)
    # tab and carriage return (which the workflows strip from what people type) through the same helper
    write_workbook([SheetSpec("t", [Col(str(i)) for i in range(4)], [("\tTAB", "\rCR", "=1+1", "plain")])], tmp_path / "t.xlsx")
    back = [c for c in openpyxl.load_workbook(tmp_path / "t.xlsx")["t"][2]]
    assert [c.data_type for c in back] == ["s", "s", "s", "s"] and back[2].value == "=1+1"
    assert [c.quotePrefix for c in back] == [True, True, True, False]
    assert [csv_field(t) for t in risky + ["\tx", "\rx"]] == ["'" + t for t in risky + ["\tx", "\rx"]]
    assert csv_field("普通文字") == "普通文字" and csv_field(-5) == -5


def test_an_empty_period_writes_a_workbook_of_zeros(team, tmp_path):
    report, wb = write(team, tmp_path / "e.xlsx", period="2026-10")
    figures = summary_figures(wb["汇总"])
    assert figures["通话总数"] == (0, 0, 0)
    assert figures["首次响应按时率"] == (None, None, None)
    assert figures["期末未收金额"][:2] == (0, 0)
    assert table(wb["投诉"])[0]["编号"] == "本期没有投诉"


def test_the_demo_databases_monthly_workbook(tmp_path, monkeypatch):
    """`csdesk demo` writes the monthly workbook beside the database; every summary figure in it equals
    the report's, and the plain counts agree with the rows in the database."""
    from sqlalchemy import text

    from csdesk import config
    from csdesk.db import Database, resolve
    from csdesk.reports import FIGURES, build_report, period_of
    from csdesk.workflows import Desk
    from csdesk.workflows.demo import build_demo

    from csdesk import i18n

    database = Database(resolve(str(tmp_path / "demo.db")))
    settings = config.load(None)
    monkeypatch.setattr(i18n, "_current", i18n._current)  # put back whatever language was in force
    monkeypatch.setattr(i18n, "_catalogue", i18n._catalogue)
    i18n.set_language("zh")  # the demo's workbook speaks the interface's language: Chinese here
    lines = build_demo(database, settings)
    path = tmp_path / "demo-report-2026-11.xlsx"
    assert any(str(path) in line for line in lines)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ZH_SHEETS
    from csdesk import dates

    now = dates.now()
    p = period_of("monthly", now.astimezone(settings.tz).date(), settings.tz)
    report = database.read(lambda s: build_report(Desk(s, settings, now), "monthly", p, lang="zh"))
    figures = summary_figures(wb["汇总"])
    for f in report.figures:
        cur, prev, _ = figures[FIGURES[f.key].zh]
        assert same(cur, f.value) and same(prev, f.previous), f.key
    with database.engine.connect() as conn:
        calls = conn.execute(text("SELECT count(*) FROM call WHERE at >= :a AND at < :b"),
                             {"a": p.start.replace(tzinfo=None) - p.start.utcoffset() if p.start.utcoffset() else p.start.replace(tzinfo=None),
                              "b": now.replace(tzinfo=None)}).scalar()
        opened = conn.execute(text("SELECT count(*) FROM complaint WHERE opened_at >= :a"), {"a": p.start.replace(tzinfo=None)}).scalar()
    assert figures["通话总数"][0] == calls > 100
    assert figures["新增投诉"][0] == opened
    assert sum(r["本期"] or 0 for r in table(wb["通话"])) == calls  # the per-day rows add up
