"""Writing spreadsheets safely: the one formula-safety rule for xlsx and csv, and widths for Chinese text.

A text value that starts with `=`, `+`, `-`, `@`, a tab or a carriage return could be taken for a
formula by a spreadsheet program (CSV/formula injection). `formula_like()` is the one test for it:
- in xlsx such a value is written as a text cell (never a formula) with the "quote prefix" set, so
  Excel shows and keeps it as the text it is;
- in csv it is prefixed with a single quote, the usual defence, because csv has no cell types.

openpyxl is imported only inside the functions that write a workbook (`csdesk --help` must not load it).
"""

from __future__ import annotations

import unicodedata
from typing import Any, Iterable

RISKY_FIRST = ("=", "+", "-", "@", "\t", "\r")

MONEY_FORMAT = '"¥"#,##0.00'
RATE_FORMAT = "0.0%"
HOURS_FORMAT = "0.0"
SCORE_FORMAT = "0.00"
COUNT_FORMAT = "#,##0"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


def formula_like(value: Any) -> bool:
    """True for a text value a spreadsheet might read as a formula."""
    return isinstance(value, str) and value.startswith(RISKY_FIRST)


def csv_field(value: Any) -> Any:
    """A value for a csv writer: risky text gets a leading single quote; everything else as it is."""
    return "'" + value if formula_like(value) else value


def display_width(text: Any) -> int:
    """Columns a value takes on screen: wide (CJK, full-width) characters count as 2."""
    if text is None:
        return 0
    s = text if isinstance(text, str) else str(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def column_width(texts, floor: int = 6, cap: int = 60) -> float:
    """An Excel column width that fits the widest of `texts` (Chinese counted double), within bounds."""
    widest = max((display_width(t) for t in texts), default=0)
    return float(min(cap, max(floor, widest + 2)))


def text_cell(ws, value: str, style=None):
    """A cell holding `value` as text, whatever its first character: the xlsx side of formula safety."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value)
    if formula_like(value):
        cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
        cell.quotePrefix = True
    if style is not None:
        style(cell)
    return cell


# ---- a sheet: one streamed table on the left, small blocks and charts on the right -------------------------

from dataclasses import dataclass, field  # noqa: E402

FORMATS = {
    "count": COUNT_FORMAT, "rate": RATE_FORMAT, "money": MONEY_FORMAT, "hours": HOURS_FORMAT,
    "score": SCORE_FORMAT, "datetime": DATETIME_FORMAT, "date": DATE_FORMAT, "month": "yyyy-mm", "change_rate": "+0.0%;-0.0%;0.0%",
}


@dataclass
class Col:
    title: str
    kind: str = "text"  # text | count | int | rate | money | hours | score | datetime | date | change_rate


@dataclass
class Block:
    """A small table placed beside the main one (a breakdown), with a title line above its header."""

    title: str
    columns: list[Col]
    rows: list[tuple]
    key: str = ""


@dataclass
class ChartSpec:
    """A native chart over a block: categories from one column, one series per value column."""

    kind: str  # line | bar (vertical columns) | barh
    title: str
    block: str  # Block.key
    categories: int  # 0-based column in the block
    series: list[int]
    y_title: str = ""
    percent: bool = False


@dataclass
class SheetSpec:
    title: str
    columns: list[Col]
    rows: Iterable[tuple]
    preamble: list[str] = field(default_factory=list)  # lines above the header (report title, period …)
    blocks: list[Block] = field(default_factory=list)
    charts: list[ChartSpec] = field(default_factory=list)
    empty_note: str = ""  # written under the header when there are no rows


def _styles():
    from openpyxl.styles import Alignment, Font, PatternFill

    return {
        "header_font": Font(bold=True, color="FFFFFF"),
        "header_fill": PatternFill("solid", fgColor="305496"),
        "title_font": Font(bold=True, size=14),
        "block_font": Font(bold=True, color="305496"),
        "wrap": Alignment(vertical="top", wrap_text=True),
    }


class Typed:
    """A value that brings its own kind, for columns whose rows differ (the summary's figures)."""

    __slots__ = ("value", "kind")

    def __init__(self, value: Any, kind: str):
        self.value, self.kind = value, kind

    def __str__(self) -> str:
        return _shown(self.value, self.kind)


def _cell(ws, value: Any, kind: str, st: dict):
    """A value as a cell: numbers and dates with their format; text through the formula-safety rule."""
    if isinstance(value, Typed):
        value, kind = value.value, value.kind
    return _converter(ws, kind)(value)


def _converter(ws, kind: str):
    """A function making the cell of one column's values, fast: it runs for every cell of a big sheet.

    Numbers and dates share one style object per column (copied, as openpyxl wants); text is checked
    with the one formula-safety rule; plain values go through untouched.
    """
    from copy import copy

    from openpyxl.cell import Cell, WriteOnlyCell

    fmt = FORMATS.get(kind)
    style = None
    if fmt is not None:
        template = WriteOnlyCell(ws)
        template.number_format = fmt
        style = template._style

    def convert(value):
        if value is None:
            return None
        cls = value.__class__
        if cls is str:
            return text_cell(ws, value) if value[:1] in RISKY_FIRST else value
        if cls is Typed:
            return _cell(ws, value, kind, {})
        if style is None or cls is bool:
            return value
        return Cell(ws, 1, 1, value, style_array=copy(style))

    return convert


def _header(ws, title: str, st: dict):
    cell = text_cell(ws, title)
    cell.font = st["header_font"]
    cell.fill = st["header_fill"]
    return cell


SAMPLE_ROWS = 500  # rows read ahead to size the columns


def write_sheet(wb, spec: SheetSpec) -> int:
    """Stream `spec` into a new write-only sheet of `wb`; returns the number of main rows written."""
    import itertools

    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.utils import get_column_letter

    st = _styles()
    ws = wb.create_sheet(spec.title)
    ncols = len(spec.columns)
    header_row = len(spec.preamble) + 1
    rows = iter(spec.rows)
    sample = list(itertools.islice(rows, SAMPLE_ROWS))

    # Beside the main table: blocks stacked top to bottom, one blank row apart.
    side_col = ncols + 2  # 1-based column of the blocks
    grid: dict[int, list[Any]] = {}
    where: dict[str, tuple[int, int, int]] = {}  # block key -> (header row, first data row, last data row)
    r = 1
    widths: dict[int, list[Any]] = {}
    for block in spec.blocks:
        grid[r] = [("title", block.title)]
        grid[r + 1] = [("header", c.title) for c in block.columns]
        for i, row in enumerate(block.rows):
            grid[r + 2 + i] = [(c.kind, v) for c, v in zip(block.columns, row)]
        where[block.key] = (r + 1, r + 2, r + 1 + len(block.rows))
        for j, c in enumerate(block.columns):
            widths.setdefault(side_col + j, []).extend([c.title] + [_shown(row[j], c.kind) for row in block.rows])
        r += len(block.rows) + 3

    for j, c in enumerate(spec.columns):
        widths.setdefault(j + 1, []).extend([c.title] + [_shown(row[j], c.kind) for row in sample])
    for col, texts in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = column_width(texts)
    if ncols:
        ws.freeze_panes = f"A{header_row + 1}"

    def side(row_no: int) -> list[Any]:
        parts = grid.get(row_no)
        if not parts:
            return []
        out: list[Any] = [None] * (side_col - 1 - 0)
        for kind, value in parts:
            if kind == "title":
                cell = text_cell(ws, value)
                cell.font = st["block_font"]
                out.append(cell)
            elif kind == "header":
                out.append(_header(ws, value, st))
            else:
                out.append(_cell(ws, value, kind, st))
        return out

    def merged(row_no: int, main: list[Any]) -> list[Any]:
        extra = side(row_no)
        if not extra:
            return main
        return main + [None] * (side_col - 1 - len(main)) + extra[side_col - 1:]

    row_no = 1
    for i, line in enumerate(spec.preamble):
        cell = text_cell(ws, line)
        if i == 0:
            cell.font = st["title_font"]
        ws.append(merged(row_no, [cell]))
        row_no += 1
    ws.append(merged(row_no, [_header(ws, c.title, st) for c in spec.columns]))
    row_no += 1
    converters = [_converter(ws, c.kind) for c in spec.columns]
    count = 0
    for row in itertools.chain(sample, rows):
        cells = [conv(v) for conv, v in zip(converters, row)]
        ws.append(merged(row_no, cells) if row_no in grid else cells)
        row_no += 1
        count += 1
    if count == 0 and spec.empty_note:
        ws.append(merged(row_no, [text_cell(ws, spec.empty_note)]))
        row_no += 1
    last_side = max(grid) if grid else 0
    while row_no <= last_side:
        ws.append(merged(row_no, []))
        row_no += 1
    if ncols:
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(ncols)}{header_row + max(count, 1)}"
    main_where = (header_row, header_row + 1, header_row + count)

    # Charts, to the right of the blocks, one under the other.
    block_width = max((len(b.columns) for b in spec.blocks), default=0)
    anchor_col = get_column_letter(side_col + block_width + 1 if spec.blocks else ncols + 2)
    anchor_row = 1
    for chart_spec in spec.charts:
        if chart_spec.block == "main":
            head, first, last = main_where
            base_col = 1
        elif chart_spec.block in where:
            head, first, last = where[chart_spec.block]
            base_col = side_col
        else:
            continue
        if last < first:
            continue  # nothing to draw
        chart = LineChart() if chart_spec.kind == "line" else BarChart()
        if chart_spec.kind == "barh":
            chart.type = "bar"
        elif chart_spec.kind == "bar":
            chart.type = "col"
        chart.title = chart_spec.title
        chart.y_axis.title = chart_spec.y_title
        chart.height, chart.width = 7.5, 16
        if chart_spec.percent:
            chart.y_axis.number_format = "0%"
            chart.y_axis.scaling.min = 0
        for col in chart_spec.series:
            data = Reference(ws, min_col=base_col + col, min_row=head, max_row=last)
            chart.add_data(data, titles_from_data=True)
        cats = Reference(ws, min_col=base_col + chart_spec.categories, min_row=first, max_row=last)
        chart.set_categories(cats)
        ws.add_chart(chart, f"{anchor_col}{anchor_row}")
        anchor_row += 16
    return count


def _shown(value: Any, kind: str) -> str:
    """Roughly how a value looks in its cell, for sizing the column."""
    if isinstance(value, Typed):
        value, kind = value.value, value.kind
    if value is None:
        return ""
    if kind == "money":
        return f"¥{value:,.2f}"
    if kind in ("rate", "change_rate"):
        return "100.0%"
    if kind == "datetime":
        return "2026-11-24 14:30"
    if kind == "date":
        return "2026-11-24"
    if kind == "month":
        return "2026-11"
    return str(value)
