"""The workbook writer on its own: every kind of value goes in and comes back out through openpyxl."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from csdesk.xlsx import Block, ChartSpec, Col, SheetSpec, Typed, excel_serial, write_workbook


def test_values_formats_and_text_come_back_as_written(tmp_path):
    cols = [Col("名称"), Col("金额", "money"), Col("比率", "rate"), Col("时间", "datetime"), Col("日期", "date"),
            Col("数量", "count"), Col("是否"), Col("混合")]
    rows = [
        ("墙面开裂 <A&B>", Decimal("12345.60"), Decimal("0.9234"), datetime(2026, 10, 31, 23, 30), date(2026, 10, 1), 3, True,
         Typed(Decimal("5.50"), "money")),
        ("  两边有空格  ", Decimal("-1.00"), None, datetime(2026, 1, 2, 9, 7, 30), None, 0, False, Typed(None, "rate")),
        ("控制\x01字符", 0, 1.5, None, date(1999, 12, 31), 10**12, None, "=SUM(A1)"),
    ]
    count = write_workbook([SheetSpec("明细", cols, iter(rows))], tmp_path / "w.xlsx")  # a generator streams through
    assert count == 1
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx")["明细"]
    back = [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=4, max_col=8)]
    assert back[0] == ["墙面开裂 <A&B>", 12345.6, 0.9234, datetime(2026, 10, 31, 23, 30), datetime(2026, 10, 1), 3, True, 5.5]
    assert back[1] == ["  两边有空格  ", -1, None, datetime(2026, 1, 2, 9, 7, 30), None, 0, False, None]
    assert back[2] == ["控制字符", 0, 1.5, None, datetime(1999, 12, 31), 10**12, None, "=SUM(A1)"]
    formats = [c.number_format for c in ws[2][:8]]
    assert formats == ["General", '"¥"#,##0.00', "0.0%", "yyyy-mm-dd hh:mm", "yyyy-mm-dd", "#,##0", "General", '"¥"#,##0.00']
    assert ws["H4"].data_type == "s" and ws["H4"].quotePrefix
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("305496")
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H4"


def test_blocks_beside_the_table_charts_and_an_empty_table(tmp_path):
    block = Block("按类别", [Col("类别"), Col("本期", "count")], [("质量", 3), ("服务", 1)], key="cat")
    spec = SheetSpec("空", [Col("编号"), Col("摘要")], [], preamble=["标题", "第二行"], blocks=[block],
                     charts=[ChartSpec("bar", "按类别", "cat", 0, [1])], empty_note="本期没有投诉")
    write_workbook([spec], tmp_path / "e.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "e.xlsx")["空"]
    assert ws["A1"].value == "标题" and ws["A1"].font.sz == 14 and ws["A2"].value == "第二行"
    assert [c.value for c in ws[3][:2]] == ["编号", "摘要"] and ws["A4"].value == "本期没有投诉"
    assert [ws.cell(r, 4).value for r in range(1, 6)] == ["按类别", "类别", "质量", "服务", None]
    assert [ws.cell(r, 5).value for r in range(2, 5)] == ["本期", 3, 1]
    assert ws.auto_filter.ref == "A3:B4" and len(ws._charts) == 1


def test_serial_numbers_match_excel_and_refuse_aware_times():
    assert excel_serial(date(1900, 3, 1)) == 61 and excel_serial(date(2026, 11, 24)) == 46350
    assert excel_serial(datetime(2026, 11, 24, 12)) == 46350.5
    with pytest.raises(TypeError):
        excel_serial(datetime(2026, 11, 24, tzinfo=__import__("datetime").timezone.utc))


def test_text_longer_than_excel_allows_is_cut(tmp_path):
    long = "长" * 40_000
    write_workbook([SheetSpec("t", [Col("摘要")], [(long,)])], tmp_path / "l.xlsx")
    value = openpyxl.load_workbook(tmp_path / "l.xlsx")["t"]["A2"].value
    assert len(value) == 32_767 and value.endswith("…") and value.startswith("长长")
