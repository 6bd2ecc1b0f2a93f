"""Writing spreadsheets safely: the one formula-safety rule for xlsx and csv, and widths for Chinese text.

A text value that starts with `=`, `+`, `-`, `@`, a tab or a carriage return could be taken for a
formula by a spreadsheet program (CSV/formula injection). `formula_like()` is the one test for it:
- in xlsx such a value is written as a text cell (never a formula) with the "quote prefix" set, so
  Excel shows and keeps it as the text it is;
- in csv it is prefixed with a single quote, the usual defence, because csv has no cell types.

openpyxl is imported only inside the functions that write a workbook (`csdesk --help` must not load it).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Iterator

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
    if s.isascii():
        return len(s)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def column_width(texts, floor: int = 6, cap: int = 60) -> float:
    """An Excel column width that fits the widest of `texts` (Chinese counted double), within bounds."""
    widest = max((display_width(t) for t in texts), default=0)
    return float(min(cap, max(floor, widest + 2)))


# ---- a sheet: one streamed table on the left, small blocks and charts on the right -------------------------

from dataclasses import dataclass, field  # noqa: E402

FORMATS = {
    "count": COUNT_FORMAT, "rate": RATE_FORMAT, "money": MONEY_FORMAT, "hours": HOURS_FORMAT,
    "score": SCORE_FORMAT, "datetime": DATETIME_FORMAT, "date": DATE_FORMAT, "month": "yyyy-mm", "change_rate": "+0.0%;-0.0%;0.0%",
    # a change in a rate, in percentage points (the value is already ×100), as the terminal shows it
    "points": '+0.0"pp";-0.0"pp";0.0"pp"', "points_zh": '+0.0"个百分点";-0.0"个百分点";0.0"个百分点"',
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
    block: str  # Block.key, or "main"; ignored when `sheet` is given
    categories: int  # 0-based column in the block (1-based column letter number with `sheet`)
    series: list[int]
    y_title: str = ""
    percent: bool = False
    # Data on another sheet (charts on a sheet of their own): its title, (header row, first, last data row)
    # and the series' names (the rows need not sit right under a header).
    sheet: str = ""
    rows: tuple[int, int, int] = (0, 0, 0)
    series_titles: list[str] = field(default_factory=list)
    x_format: str = ""  # the category labels' number format (e.g. "d": the day of the month for dates)


@dataclass
class SheetSpec:
    title: str
    columns: list[Col]
    rows: Iterable[tuple]
    preamble: list[str] = field(default_factory=list)  # lines above the header (report title, period …)
    blocks: list[Block] = field(default_factory=list)
    charts: list[ChartSpec] = field(default_factory=list)
    empty_note: str = ""  # written under the header when there are no rows
    # Printing: every sheet prints landscape, one page wide, its header row repeated on each page.
    page_header: str = ""  # the centre of the page header (the report's name and period); the sheet's name on the right
    page_footer: str = ""  # the centre of the page footer, with &P (page) and &N (pages)
    totals_label: str = ""  # when set: a totals row under the rows (outside the filter), summing the money columns
    chart_pages: bool = False  # a sheet of charts only: one chart per printed page
    key: str = ""  # a name for the program (not shown): which sheet this is, for write_rows_apart


class Typed:
    """A value that brings its own kind, for columns whose rows differ (the summary's figures)."""

    __slots__ = ("value", "kind")

    def __init__(self, value: Any, kind: str):
        self.value, self.kind = value, kind

    def __str__(self) -> str:
        return _shown(self.value, kind=self.kind)


# ---- cells as XML ------------------------------------------------------------------------------------------
#
# The rows are written as worksheet XML by the code below, not cell by cell through openpyxl: a monthly
# workbook has close to a million cells, and openpyxl's per-cell objects and element tree took most of the
# time of `report monthly --xlsx`. openpyxl still makes everything else (the workbook, the stylesheet,
# column widths, frozen panes, filters, charts); `write_workbook` saves that shell and then streams each
# sheet's rows into the place openpyxl left for them. Cells are what openpyxl itself writes: numbers,
# booleans, dates as serial numbers with a date format, and text as inline strings (never a formula).

CELL_TEXT_LIMIT = 32_767  # characters Excel allows in one cell
_EPOCH = date(1899, 12, 30).toordinal()  # Excel's day 0 (with its 1900 leap-year quirk, for dates after 1900-03-01)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry


def excel_serial(value: date) -> int | float:
    """A local date or naive local datetime as Excel's serial day number."""
    days = value.toordinal() - _EPOCH
    if not isinstance(value, datetime):
        return days
    if value.tzinfo is not None:
        raise TypeError("a workbook holds local times: convert an aware datetime to naive local time first")
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return days + seconds / 86400 if seconds else days


def _xml_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("", text)
    return text


class CellWriter:
    """Cell XML for one workbook: the styles it uses (registered in openpyxl's stylesheet) and a function per
    column kind that turns a value into its `<c>` element."""

    def __init__(self, ws):
        self._ws = ws  # any sheet of the workbook: its styles are registered through it
        self._styles: dict[tuple, str] = {}
        self._kinds: dict[str, Any] = {}
        self.frozen = False  # set once openpyxl has written the stylesheet: no new style can join it then
        self.mask: Any = None  # str -> str for every text cell (phones.mask_in_text when phones are masked)
        self._bodies: dict[str, str] = {}  # text -> its cell XML after the reference (unstyled cells)
        self._rows: dict[tuple, Any] = {}  # column kinds -> row_cells() function

    def style(self, fmt: str | None = None, role: str = "", quote: bool = False) -> str:
        """The ` s="N"` attribute of a cell format ('' for the default one)."""
        key = (fmt, role, quote)
        attr = self._styles.get(key)
        if attr is None:
            if self.frozen:
                raise RuntimeError(f"cell style {key} asked for after the stylesheet was written: register it in write_workbook")
            from openpyxl.cell import WriteOnlyCell
            from openpyxl.styles import Font, PatternFill

            cell = WriteOnlyCell(self._ws)
            if fmt:
                cell.number_format = fmt
            if role == "header":
                cell.font = Font(bold=True, color="FFFFFF")
                cell.fill = PatternFill("solid", fgColor="305496")
            elif role == "title":
                cell.font = Font(bold=True, size=14)
            elif role == "block":
                cell.font = Font(bold=True, color="305496")
            elif role == "total":
                cell.font = Font(bold=True)
            if quote:
                cell.quotePrefix = True  # Excel keeps "=…" as the text it is, even when the cell is edited
            index = cell.style_id if cell.has_style else 0
            attr = self._styles[key] = f' s="{index}"' if index else ""
        return attr

    def text(self, ref: str, value: str, role: str = "") -> str:
        """A text cell, whatever its first character: the xlsx side of formula safety ('' for no text)."""
        if not value:
            return ""
        if not role:
            return f'<c r="{ref}"{self.body(value)}'
        return f'<c r="{ref}"{self._text(value, role)}'

    def body(self, value: str) -> str | None:
        """An unstyled text cell's XML after `<c` and its reference (None for no text: no cell). The same texts come
        back row after row (names, codes, labels): their cell body is made once."""
        if not value:
            return None
        body = self._bodies.get(value)
        if body is None:
            if len(self._bodies) >= TEXT_CACHE:
                self._bodies.clear()
            body = self._bodies[value] = self._text(value, "")
        return body

    def _text(self, value: str, role: str) -> str:
        """A text cell's XML after its reference: style, type and the (masked, escaped) text."""
        if self.mask is not None:
            value = self.mask(value)
        if len(value) > CELL_TEXT_LIMIT:  # Excel refuses a workbook with a longer cell
            value = value[:CELL_TEXT_LIMIT - 1] + "…"
        style = self.style(role=role, quote=True) if value[:1] in RISKY_FIRST else self.style(role=role) if role else ""
        space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
        return f'{style} t="inlineStr"><is><t{space}>{_xml_text(value)}</t></is></c>'

    def _kind_styles(self, kind: str) -> tuple[str, str, str]:
        """The style attributes of a column of `kind`: for numbers, for dates and for times."""
        fmt = FORMATS.get(kind)
        number = self.style(fmt) if fmt else ""
        dates = kind in ("date", "datetime", "month")
        on_day = number if dates else self.style(DATE_FORMAT)
        at_time = number if dates else self.style(DATETIME_FORMAT)
        return number, on_day, at_time

    def of_kind(self, kind: str):
        """`put(ref, value) -> str` for a column of `kind` (None gives '': no cell)."""
        put = self._kinds.get(kind)
        if put is not None:
            return put
        number, on_day, at_time = self._kind_styles(kind)
        text = self.text
        of_kind = self.of_kind
        bodies = self._bodies  # cleared in place when full, never replaced: safe to hold here

        def put(ref: str, v: Any) -> str:
            cls = v.__class__
            if cls is str:
                body = bodies.get(v)  # a text seen before: its cell body without a call to text()
                return f'<c r="{ref}"{body}' if body is not None else text(ref, v)
            if cls is int or cls is Decimal or cls is float:
                return f'<c r="{ref}"{number}><v>{v}</v></c>'
            if v is None:
                return ""
            if cls is Typed:
                return of_kind(v.kind)(ref, v.value)
            if cls is bool:
                return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
            if cls is datetime:
                return f'<c r="{ref}"{at_time}><v>{excel_serial(v)}</v></c>'
            if cls is date:
                return f'<c r="{ref}"{on_day}><v>{excel_serial(v)}</v></c>'
            if isinstance(v, (int, float, Decimal)):
                return f'<c r="{ref}"{number}><v>{v}</v></c>'
            return text(ref, str(v))

        self._kinds[kind] = put
        return put

    def row_cells(self, kinds: list[str], letters: list[str]):
        """`cells(row, rs) -> str`: the cells of a row whose columns have these kinds, as XML — the cells
        `of_kind(kind)(letter + rs, value)` gives for each value, joined, less the references a reader does not
        need (below).

        A workbook has close to a million cells, and the rows of a sheet come in few shapes (which values are
        text, numbers, times or empty). For each shape seen, one function is made that writes the whole row
        as one string: the column letters and styles are in its literal text, numbers and times go straight
        in, text through the cache of cell bodies; anything else (Typed, bool, date …) through the column's
        `put`. A row of another length than the columns (zip's rule: extra values have no column), and
        shapes beyond SHAPES per sheet, are written cell by cell through `put`.

        A cell right after the one before it in the row is written without its reference (`<c>` rather than
        `<c r="B7">`: the reference is optional, a reader counts on from the previous cell — Excel, LibreOffice
        and openpyxl alike): a fifth of a detail sheet's XML, and most of what did not compress. Only a cell whose
        left neighbour may be missing (None, an empty text, a Typed, a `put` column) keeps its reference."""
        key = tuple(kinds)
        made = self._rows.get(key)
        if made is not None:
            return made
        puts = [self.of_kind(k) for k in kinds]
        pairs = list(zip(puts, letters))
        n = len(kinds)
        for letter in letters[:n]:
            if not re.fullmatch("[A-Z]+", letter):
                raise ValueError(f"not a column letter: {letter!r}")
        styles = [self._kind_styles(k) for k in kinds]
        scope: dict[str, Any] = {"bg": self._bodies.get, "body": self.body, "serial": excel_serial, "EPOCH": _EPOCH,
                                 **{f"put{i}": put for i, put in enumerate(puts)}}
        by_shape: dict[tuple, Any] = {}
        shape_of = by_shape.get

        def one_by_one(rs, *row):
            return "".join([put(letter + rs, v) for (put, letter), v in zip(pairs, row) if v is not None])

        def make(shape: tuple):
            if len(shape) != n or len(by_shape) >= SHAPES:
                return one_by_one
            parts = []
            lines = []  # statements before the row's text: text cells, times as serial numbers (excel_serial's arithmetic)
            after: bool | int = True  # the cell before was surely written (True), was if text v<int> is not empty, or maybe not
            for i, (cls, letter, (number, _on_day, at_time)) in enumerate(zip(shape, letters, styles)):
                if cls is type(None):
                    after = False
                    continue
                if after is True:
                    ref = ""
                elif after is False:
                    ref = f' r="{letter}{{rs}}"'
                else:
                    lines.append(f"    r{i} = '' if v{after} else ' r=\"{letter}' + rs + '\"'")
                    ref = f"{{r{i}}}"
                after = True
                if cls is str:  # its cached body (one f-string, no `+`); an empty text writes no cell
                    lines += [f"    b{i} = bg(v{i})", f"    if b{i} is None:", f"        b{i} = body(v{i})",
                              f"    c{i} = f'<c{ref}{{b{i}}}' if b{i} is not None else ''"]
                    parts.append(f'{{c{i}}}')
                    after = i
                elif cls is int or cls is Decimal or cls is float:
                    parts.append(f'<c{ref}{number}><v>{{v{i}}}</v></c>')
                elif cls is datetime:
                    lines += [f"    if v{i}.tzinfo is not None:", f"        serial(v{i})  # refuses it",
                              f"    d{i} = v{i}.toordinal() - EPOCH",
                              f"    s{i} = v{i}.hour * 3600 + v{i}.minute * 60 + v{i}.second + v{i}.microsecond / 1e6",
                              f"    x{i} = d{i} + s{i} / 86400 if s{i} else d{i}"]
                    parts.append(f'<c{ref}{at_time}><v>{{x{i}}}</v></c>')
                else:  # Typed (maybe of None), bool, date …: the column's put, with the reference
                    parts.append(f'{{put{i}("{letter}" + rs, v{i})}}')
                    after = False
            args = ", ".join(["rs", *(f"v{i}" for i in range(n))])
            body = "".join(parts).replace("\\", "\\\\").replace("\'", "\\'")
            code = "\n".join([f"def row({args}):", *lines, f"    return f'{body}'", ""])
            exec(compile(code, "<csdesk.xlsx row>", "exec"), scope)  # noqa: S102 — made here from the checked letters and styles
            made = by_shape[shape] = scope.pop("row")
            return made

        def cells(row, rs):
            shape = tuple(map(type, row))
            write = shape_of(shape)
            if write is None:
                write = make(shape)
            return write(rs, *row)

        made = self._rows[key] = cells
        return made


# ---- a sheet: its shell through openpyxl, its rows as XML -------------------------------------------------

SAMPLE_ROWS = 500  # rows read ahead to size the columns
SHAPES = 256  # row shapes (the classes of a row's values) per sheet that get a function of their own
TEXT_CACHE = 50_000  # distinct texts whose cell XML is kept (names, codes, labels repeat; summaries do not)


class _Sheet:
    """One sheet being written: made by `_prepare` (openpyxl), its rows streamed by `rows_xml`."""

    def __init__(self, ws, spec: SheetSpec, rows: Iterator[tuple], header_row: int, side_col: int,
                 grid: dict[int, list[tuple[str, Any]]], filter_ref: str):
        self.ws, self.spec, self.rows = ws, spec, rows
        self.header_row, self.side_col, self.grid = header_row, side_col, grid
        self.filter_ref = filter_ref  # the filter as openpyxl wrote it (header row only) until the rows are counted
        self.count = 0

    def rows_xml(self, cells: CellWriter) -> Iterator[str]:
        """The `<row>` elements: preamble, header, main rows, the note of an empty table, blocks on the right."""
        from openpyxl.utils import get_column_letter

        spec, grid = self.spec, self.grid
        width = max([len(spec.columns), 1] + [self.side_col - 1 + len(parts) for parts in grid.values()])
        letters = [get_column_letter(i) for i in range(1, width + 1)]
        side_letters = letters[self.side_col - 1:]

        def side(rs: str) -> str:
            parts = grid.get(int(rs))
            if not parts:
                return ""
            out = []
            for letter, (kind, value) in zip(side_letters, parts):
                if kind in ("title", "header"):
                    out.append(cells.text(letter + rs, value, "block" if kind == "title" else "header"))
                elif value is not None:
                    out.append(cells.of_kind(kind)(letter + rs, value))
            return "".join(out)

        row_no = 1
        for i, line in enumerate(spec.preamble):
            rs = str(row_no)
            yield f'<row r="{rs}">{cells.text("A" + rs, line, "title" if i == 0 else "")}{side(rs)}</row>'
            row_no += 1
        rs = str(row_no)
        head = "".join(cells.text(letter + rs, c.title, "header") for letter, c in zip(letters, spec.columns))
        yield f'<row r="{rs}">{head}{side(rs)}</row>'
        row_no += 1
        row_cells = cells.row_cells([c.kind for c in spec.columns], letters)
        count = 0
        if spec.totals_label:
            self.sums = {j: Decimal(0) for j, c in enumerate(spec.columns) if c.kind == "money"}
            self.rows = self._summing(self.rows)
        for row in self.rows:
            rs = str(row_no)
            if row_no in grid:
                yield f'<row r="{rs}">{row_cells(row, rs)}{side(rs)}</row>'
            else:
                yield f'<row r="{rs}">{row_cells(row, rs)}</row>'
            row_no += 1
            count += 1
        self.count = count
        if count and spec.totals_label:
            yield self._totals_xml(cells, str(row_no), letters)
            row_no += 1
        if count == 0 and spec.empty_note:
            rs = str(row_no)
            yield f'<row r="{rs}">{cells.text("A" + rs, spec.empty_note)}{side(rs)}</row>'
            row_no += 1
        for later in sorted(r for r in grid if r >= row_no):
            rs = str(later)
            yield f'<row r="{rs}">{side(rs)}</row>'

    def _summing(self, rows: Iterator[tuple]) -> Iterator[tuple]:
        sums = self.sums
        for row in rows:
            for j in sums:
                v = row[j] if j < len(row) else None
                if v.__class__ is Typed:
                    v = v.value
                if v is not None:
                    sums[j] += Decimal(v)
            yield row

    def _totals_xml(self, cells: CellWriter, rs: str, letters: list[str]) -> str:
        money = cells.style(MONEY_FORMAT, "total")
        parts = [cells.text("A" + rs, self.spec.totals_label, "total")]
        parts += [f'<c r="{letters[j]}{rs}"{money}><v>{total}</v></c>' for j, total in sorted(self.sums.items()) if j]
        return f'<row r="{rs}">{"".join(parts)}</row>'

    def final_filter(self) -> str:
        from openpyxl.utils import get_column_letter

        ncols = len(self.spec.columns)
        return f"A{self.header_row}:{get_column_letter(ncols)}{self.header_row + max(self.count, 1)}"


def _prepare(wb, spec: SheetSpec, sample: list | None = None) -> _Sheet:
    """The sheet's shell in `wb`: column widths (from the first rows), frozen header, filter, charts.

    `sample`: the rows to size the columns with, instead of the first ones of spec.rows (which is then not
    read here: a shared sheet is sized when it is written, see _sized)."""
    import itertools

    from openpyxl.chart import Reference, Series
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.pagebreak import Break

    ws = wb.create_sheet(spec.title)
    ncols = len(spec.columns)
    header_row = len(spec.preamble) + 1
    source = spec.rows
    if any(c.block == "main" for c in spec.charts) and not isinstance(source, list):
        source = list(source)  # a chart over the table needs its length now; such tables are short
    if sample is None:
        it = iter(source)
        sample = list(itertools.islice(it, SAMPLE_ROWS))
        rows = itertools.chain(sample, it)
    else:
        rows = source

    # Beside the main table: blocks stacked top to bottom, one blank row apart.
    side_col = ncols + 2  # 1-based column of the blocks
    grid: dict[int, list[tuple[str, Any]]] = {}
    where: dict[str, tuple[int, int, int]] = {}  # block key -> (header row, first data row, last data row)
    widths: dict[int, list[Any]] = {}
    r = 1
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
    filter_ref = ""
    if ncols:
        ws.freeze_panes = f"A{header_row + 1}"
        filter_ref = ws.auto_filter.ref = f"A{header_row}:{get_column_letter(ncols)}{header_row}"
    _page_setup(ws, spec, header_row)

    # Charts, to the right of the blocks, one under the other; on a sheet of charts, one per printed page.
    block_width = max((len(b.columns) for b in spec.blocks), default=0)
    anchor_col = get_column_letter(side_col + block_width + 1 if spec.blocks else ncols + 2)
    anchor_row = 1
    if spec.chart_pages:
        anchor_col, anchor_row = "A", header_row + 1
    for chart_spec in spec.charts:
        if chart_spec.sheet:
            head, first, last = chart_spec.rows
            if last < first:
                continue
            chart = _new_chart(chart_spec)
            quoted = "'" + chart_spec.sheet.replace("'", "''") + "'"

            def ref(col: int, top: int, bottom: int) -> Reference:
                letter = get_column_letter(col)
                return Reference(range_string=f"{quoted}!${letter}${top}:${letter}${bottom}")

            for col, name in zip(chart_spec.series, chart_spec.series_titles):
                chart.series.append(Series(ref(col, first, last), title=name))
            chart.set_categories(ref(chart_spec.categories, first, last))
            _straight(chart)
        elif chart_spec.block == "main":
            head, first, last = header_row, header_row + 1, header_row + len(source)
            base_col = 1
        elif chart_spec.block in where:
            head, first, last = where[chart_spec.block]
            base_col = side_col
        else:
            continue
        if last < first:
            continue  # nothing to draw
        if not chart_spec.sheet:
            chart = _new_chart(chart_spec)
            for col in chart_spec.series:
                chart.add_data(Reference(ws, min_col=base_col + col, min_row=head, max_row=last), titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=base_col + chart_spec.categories, min_row=first, max_row=last))
            _straight(chart)
        if spec.chart_pages:
            chart.height, chart.width = CHART_PAGE_HEIGHT_CM, CHART_PAGE_WIDTH_CM
        ws.add_chart(chart, f"{anchor_col}{anchor_row}")
        if spec.chart_pages:
            # The break's row number is read as "above this 0-based row" by Excel and one row later by
            # LibreOffice: the next chart starts a row below it, on the new page either way.
            last = anchor_row + CHART_PAGE_ROWS - 2
            ws.row_breaks.append(Break(id=last))
            anchor_row = last + 2
        else:
            anchor_row += 16
    return _Sheet(ws, spec, rows, header_row, side_col, grid, filter_ref)


# A sheet of charts prints one chart a page: landscape A4 holds ~17 cm of rows (15 pt, 0.53 cm each)
# between its margins (0.75 in top and bottom), so each chart gets 26 rows (13.8 cm, room to spare for a
# taller title row) and is 12 cm high, with a page break after its rows.
CHART_PAGE_ROWS = 26
CHART_PAGE_HEIGHT_CM = 12.0
CHART_PAGE_WIDTH_CM = 24.0


def _new_chart(spec: ChartSpec):
    from openpyxl.chart import BarChart, LineChart

    chart = LineChart() if spec.kind == "line" else BarChart()
    if spec.kind == "barh":
        chart.type = "bar"
    elif spec.kind == "bar":
        chart.type = "col"
    chart.title = spec.title
    chart.y_axis.title = spec.y_title
    chart.height, chart.width = 7.5, 16
    chart.y_axis.scaling.min = 0  # counts, amounts and rates are never below zero
    if spec.percent:
        chart.y_axis.number_format = "0%"
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl hides the axes otherwise
    if spec.x_format:
        chart.x_axis.number_format = spec.x_format
    return chart


def _straight(chart) -> None:
    """Lines are drawn straight between the points: a smoothed curve invents values (below zero, even)."""
    from openpyxl.chart import LineChart

    if isinstance(chart, LineChart):
        chart.smooth = False
        for s in chart.series:
            s.smooth = False


def _header_text(text: str) -> str:
    return text.replace("&", "&&")


def _page_setup(ws, spec: SheetSpec, header_row: int) -> None:
    """Landscape A4, one page wide (as many pages down as needed), the header row on every page, the
    report's name in the page header and the sheet's name beside it, the page number in the footer."""
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.75, bottom=0.75, header=0.3, footer=0.3)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    if spec.columns and not spec.chart_pages:
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.gridLines = False
    if spec.page_header:
        ws.oddHeader.center.text = _header_text(spec.page_header)
        ws.oddHeader.right.text = "&A"
    if spec.page_footer:
        ws.oddFooter.center.text = spec.page_footer


_EMPTY_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")
FLUSH_ROWS = 2000  # rows joined into one write to the zip stream
# zlib's fastest level: a third of the default's time on a year of rows, for a file ~15 % larger.
ZIP_LEVEL = 1


def write_workbook(specs: list[SheetSpec], target, mask_phones: bool = False, apart=None) -> int:
    """Write the sheets to `target` (a path or a binary file object); returns the number of sheets.

    Rows are read from each spec as its sheet is written, so generators over a database cursor stream
    through without being held in memory. A path is created readable by its owner only (0600, or
    CSDESK_DB_MODE, like the database): a workbook holds customer data. `mask_phones` masks phone
    numbers typed into any text cell (summaries, notes), as the phone columns are.

    `apart`: another process is ready to write the rows of some sheets (`write_rows_apart` there, on the
    same sheets and the same data): an object with `keys` (the SheetSpec keys it can write), `take()` ->
    the index in `keys` of the next sheet to write (shared with the other process: each sheet is written
    by whichever is free first; None when none is left), `messages()` -> what write_rows_apart sends, as
    it comes, `scratch` (the file it writes into), `Failed` (raised when the other process failed: the
    sheets it did not deliver are written here) and `fell_back(exc)` (told so). The workbook is the same
    either way.
    """
    import io
    import os
    import zipfile

    from openpyxl import Workbook

    if isinstance(target, (str, os.PathLike)):
        from csdesk.db import file_mode

        mode = file_mode()
        fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)
        os.fchmod(fd, mode)  # an existing file keeps its mode through O_CREAT: set it
        with os.fdopen(fd, "wb") as stream:
            return write_workbook(specs, stream, mask_phones, apart)
    shared = set(apart.keys) if apart is not None else set()
    wb = Workbook(write_only=True)
    # A shared sheet's rows are not read here now: its columns are sized when it is written (_sized).
    sheets = [_prepare(wb, spec, [] if spec.key in shared else None) for spec in specs]
    cells = _cell_writer(sheets[0].ws if sheets else wb.create_sheet(), mask_phones)
    shell = io.BytesIO()
    wb.save(shell)
    cells.frozen = True
    by_part = {s.ws.path.lstrip("/"): s for s in sheets}
    waiting: dict[str, tuple[str, bytes, _Sheet]] = {}  # the shared sheets, by key, until one process writes them
    with zipfile.ZipFile(shell) as parts, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=ZIP_LEVEL) as out:
        for info in parts.infolist():
            data = parts.read(info.filename)
            sheet = by_part.get(info.filename)
            if sheet is None:
                out.writestr(info, data)
            elif sheet.spec.key in shared:
                waiting[sheet.spec.key] = (info.filename, data, sheet)
            else:
                _write_part(out, info.filename, data, sheet, cells)
        if apart is not None:
            while (i := apart.take()) is not None:
                name, data, sheet = waiting.pop(apart.keys[i])
                sheet, cols = _sized(sheet)
                _write_part(out, name, data, sheet, cells, cols=cols)
            try:
                # Each sheet the other process wrote is copied in as soon as it says it is done.
                for what, value in apart.messages():
                    if what == "styles" and value != cells._styles:
                        raise apart.Failed("the other process numbered the cell styles differently")
                    if what == "part":
                        key, offset, length, count, cols = value
                        name, data, sheet = waiting.pop(key)
                        sheet.count = count
                        _write_part(out, name, data, sheet, cells, _copied(apart.scratch, offset, length), cols)
            except apart.Failed as exc:
                apart.fell_back(exc)
        for name, data, sheet in waiting.values():  # the other process failed: written here, from this process's rows
            sheet, cols = _sized(sheet)
            _write_part(out, name, data, sheet, cells, cols=cols)
    return len(sheets)


def _sized(sheet: _Sheet) -> tuple[_Sheet, bytes]:
    """A shared sheet about to be written here, and its columns' XML (`<cols>`) sized by its first rows:
    the same sheet made again in a workbook of its own, so that openpyxl writes the columns exactly as in a
    sheet prepared with its rows."""
    from openpyxl import Workbook

    made = _prepare(Workbook(write_only=True), sheet.spec)
    return made, _cols_xml(made)


def _cols_xml(sheet: _Sheet) -> bytes:
    from openpyxl.xml.functions import tostring

    return tostring(sheet.ws.column_dimensions.to_tree())


def _cell_writer(ws, mask_phones: bool) -> CellWriter:
    """The cell writer of a workbook, with every style the rows may use registered now, in one fixed order
    (the stylesheet is written before the rows; the same order gives the same style numbers in every
    process that writes rows of one workbook)."""
    cells = CellWriter(ws)
    if mask_phones:
        from csdesk.phones import mask_in_text

        cells.mask = mask_in_text
    for kind in FORMATS:
        cells.of_kind(kind)
    for role in ("", "header", "title", "block", "total"):
        cells.style(role=role), cells.style(role=role, quote=True)
    cells.style(MONEY_FORMAT, "total")
    return cells


def write_rows_apart(specs: list[SheetSpec], scratch, take, send, mask_phones: bool = False) -> None:
    """In another process beside write_workbook: the rows of the sheets it takes, as worksheet XML.

    `specs` are the sheets write_workbook's `apart.keys` name, in that order; `take()` gives the next one to
    write (its index in `specs`; None: no more), whose rows go one after the other into the file `scratch`.
    `send` tells write_workbook ("styles", the cell styles used) first, then ("part", (key, offset, length,
    rows, the columns' XML)) as each sheet is done, for it to copy them into the workbook meanwhile."""
    import os

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    cells = _cell_writer(wb.create_sheet(), mask_phones)
    cells.frozen = True
    send(("styles", cells._styles))
    fd = scratch.fileno()
    offset = os.lseek(fd, 0, os.SEEK_END)
    while (i := take()) is not None:
        spec = specs[i]
        sheet = _prepare(Workbook(write_only=True), spec)
        start = offset
        for chunk in _row_chunks(sheet, cells):
            view = memoryview(chunk)
            while view:
                n = os.pwrite(fd, view, offset)
                view, offset = view[n:], offset + n
        send(("part", (spec.key, start, offset - start, sheet.count, _cols_xml(sheet))))


def _copied(scratch, offset: int, length: int, size: int = 1 << 20) -> Iterator[bytes]:
    """The bytes written by write_rows_apart, read back a piece at a time."""
    import os

    fd, end = scratch.fileno(), offset + length
    while offset < end:
        chunk = os.pread(fd, min(size, end - offset), offset)
        if not chunk:
            raise OSError("the rows written apart are shorter than said")
        offset += len(chunk)
        yield chunk


def _row_chunks(sheet: _Sheet, cells: CellWriter) -> Iterator[bytes]:
    """The sheet's rows as XML, FLUSH_ROWS rows a piece."""
    batch: list[str] = []
    for row in sheet.rows_xml(cells):
        batch.append(row)
        if len(batch) >= FLUSH_ROWS:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


_COLS = re.compile(rb"<cols>.*?</cols>")


def _write_part(out, name: str, shell_xml: bytes, sheet: _Sheet, cells: CellWriter,
                rows: Iterator[bytes] | None = None, cols: bytes | None = None) -> None:
    """One worksheet part: openpyxl's XML with the rows streamed into its empty sheetData. `rows`: the rows'
    XML written elsewhere already (sheet.count set); `cols`: the columns' XML, in place of the shell's."""
    if cols is not None:
        shell_xml, n = _COLS.subn(lambda _m: cols, shell_xml, count=1)
        if n != 1:
            raise RuntimeError(f"no columns in {name}: openpyxl wrote something unexpected")
    found = _EMPTY_SHEET_DATA.search(shell_xml)
    if found is None:
        raise RuntimeError(f"no empty sheetData in {name}: openpyxl wrote something unexpected")
    with out.open(name, "w") as stream:  # no ZIP64 (some Excel versions dislike it): a sheet stays far below 2 GiB
        stream.write(shell_xml[:found.start()] + b"<sheetData>")
        for chunk in rows if rows is not None else _row_chunks(sheet, cells):
            stream.write(chunk)
        stream.write(b"</sheetData>")
        tail = shell_xml[found.end():]
        if sheet.filter_ref:
            old = f'<autoFilter ref="{sheet.filter_ref}"'.encode()
            if old not in tail:
                raise RuntimeError(f"no filter {sheet.filter_ref} in {name}: openpyxl wrote something unexpected")
            tail = tail.replace(old, f'<autoFilter ref="{sheet.final_filter()}"'.encode(), 1)
        stream.write(tail)

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
