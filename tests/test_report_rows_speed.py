"""The report's faster row paths (issue 15) give what the plain paths gave: the workbook writer's per-shape row
functions against the cell-by-cell `put`, times read as local time in the query (local_time) against
`_naive_local` (also across a daylight-saving change), the main number as a column of the query
(main_phone_of) against main_phones(), and the calls per day counted one day at a time."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from csdesk.xlsx import CellWriter, Typed, excel_serial


def _placed(xml: str) -> list[tuple[str, str]]:
    """A row's cells as (column, the cell's XML after its reference), a cell without `r` taking the column after the
    previous cell's (as Excel, LibreOffice and openpyxl read it)."""
    from openpyxl.utils import column_index_from_string, get_column_letter

    out, col = [], 0
    for m in re.finditer(r'<c(?: r="([A-Z]+)\d+")?((?:(?!</c>).)*</c>)', xml):
        col = column_index_from_string(m.group(1)) if m.group(1) else col + 1
        out.append((get_column_letter(col), m.group(2)))
    assert "".join(f"<c{rest}" for _col, rest in out) == re.sub(r'<c r="[A-Z]+\d+"', "<c", xml)  # nothing else in it
    return out


def _cells():
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    return CellWriter(wb.create_sheet("t"))


VALUES = [None, "", "文本 <&>", "=1+1", " 空格 ", "C001", 0, 7, -3, 10**13, Decimal("12.30"), Decimal("-0.5"), 1.25, True, False,
          datetime(2026, 11, 24, 9, 30), datetime(2026, 11, 24), date(2026, 11, 1), Typed(Decimal("5"), "money"), Typed(None, "rate"),
          Typed("x", "text")]


def test_row_functions_write_what_put_writes_cell_by_cell():
    kinds = ["int", "text", "money", "datetime", "date", "rate", "count", "hours", "score", "month", "change_rate", "points_zh"]
    letters = [chr(ord("A") + i) for i in range(len(kinds))]
    cells = _cells()
    rows_of = cells.row_cells(kinds, letters)
    rnd = random.Random(15)
    rows = [tuple(rnd.choice(VALUES) for _ in kinds) for _ in range(400)]
    rows += [rows[0][:5], rows[1] + ("extra",)]  # shorter and longer rows: zip's rule, cell by cell
    for n, row in enumerate(rows, start=2):
        rs = str(n)
        plain = "".join(cells.of_kind(k)(letter + rs, v) for k, letter, v in zip(kinds, letters, row) if v is not None)
        assert _placed(rows_of(row, rs)) == _placed(plain), row
    # Every row seen twice gives the same text (the shapes' functions are kept and reused).
    assert rows_of(rows[3], "9") == rows_of(rows[3], "9")


def test_a_text_cell_cached_or_not_is_the_same():
    cells = _cells()
    rows_of = cells.row_cells(["text", "text"], ["A", "B"])
    first = rows_of(("同一个", "=危险"), "2")
    again = rows_of(("同一个", "=危险"), "2")
    assert first == again
    assert _placed(first) == _placed(cells.text("A2", "同一个") + cells.text("B2", "=危险"))
    assert 'quotePrefix' not in first and ' s="' in _placed(first)[1][1]  # the risky one is styled (quote prefix)


def test_a_cell_keeps_its_reference_only_after_a_gap():
    """A cell after a written one goes without `r` (the reader counts on); after an empty or missing one it keeps it."""
    cells = _cells()
    rows_of = cells.row_cells(["int", "text", "int", "text", "int", "rate", "int"], list("ABCDEFG"))
    xml = rows_of((1, "a", 2, "", 3, Typed(None, "rate"), 4), "5")
    assert [m.group(1) for m in re.finditer(r"<c( r=\"[A-Z]+\d+\")?", xml)] == [None, None, None, ' r="E5"', ' r="G5"']
    xml = rows_of((None, "a", None, "b", 2, None, 7), "6")
    assert [col for col, _rest in _placed(xml)] == ["B", "D", "E", "G"]
    assert xml.count(' r="') == 3  # B6, D6, G6


def test_aware_times_are_still_refused_by_the_row_functions():
    cells = _cells()
    rows_of = cells.row_cells(["datetime"], ["A"])
    with pytest.raises(TypeError):
        rows_of((datetime(2026, 11, 24, tzinfo=timezone.utc),), "2")
    assert rows_of((datetime(2026, 11, 24, 12),), "2") == f'<c{cells.style("yyyy-mm-dd hh:mm")}><v>{excel_serial(datetime(2026, 11, 24, 12))}</v></c>'


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_local_time_in_the_query_is_naive_local_time(db, zone):
    """Every minute around two daylight-saving changes and times all through a year, against _naive_local."""
    from sqlalchemy import literal, select

    from csdesk.models import UTCDateTime
    from csdesk.reporting.core import _naive_local, local_time

    tz = ZoneInfo(zone)
    utc = timezone.utc
    times = [datetime(2026, 1, 1, tzinfo=utc) + timedelta(hours=7 * i, seconds=13 * i) for i in range(1300)]
    for change in (datetime(2026, 3, 8, 6, tzinfo=utc), datetime(2026, 10, 4, 14, tzinfo=utc), datetime(2026, 10, 25, 0, tzinfo=utc),
                   datetime(2026, 11, 1, 5, tzinfo=utc), datetime(2026, 4, 4, 14, tzinfo=utc)):
        times += [change + timedelta(minutes=m, seconds=s) for m in range(-70, 70, 1) for s in (0, 59)]
    times.append(None)
    with db.database.session() as session:
        stored = [literal(t, UTCDateTime()) for t in times]
        got = []
        for start in range(0, len(stored), 400):
            got += list(session.execute(select(*[local_time(s, tz) for s in stored[start:start + 400]])).one())
    assert got == [_naive_local(t, tz) for t in times]
    assert all(g is None or g.tzinfo is None for g in got)


def test_main_phone_of_is_main_phones(team, cli):
    from sqlalchemy import select

    from csdesk.models import Customer
    from csdesk.reporting.core import main_phone_of, main_phones

    for n, phones in enumerate([["13800000001"], ["13800000002", "13800000003"], ["010-62345678"]]):
        args = ["--as", "王芳", "customer", "add", f"客户{n}"]
        for p in phones:
            args += ["--phone", p]
        assert cli(*args).exit_code == 0
    with team.database.session() as session:
        cu = Customer.__table__.c
        ids = [r[0] for r in session.execute(select(cu.id))]
        in_query = dict(session.execute(select(cu.id, main_phone_of(cu.id))).all())
        session.info.clear()
        assert {k: v for k, v in in_query.items() if v is not None} == main_phones(session, ids)
        assert main_phones(session, ids) == main_phones(session, ids[:1]) | main_phones(session, ids[1:])  # kept numbers


def test_calls_per_day_counted_day_by_day(team, cli):
    """Calls on both sides of local midnight and of the period's ends land in the right day."""
    assert cli("--as", "王芳", "customer", "add", "张三", "--phone", "13800000009").exit_code == 0
    for at in ("2026-10-31 23:59", "2026-11-01 00:00", "2026-11-01 23:59", "2026-11-02 00:00", "2026-11-23 12:00"):
        result = cli("--as", "王芳", "log-call", "--phone", "13800000009", "--kind", "inquiry", "--summary", "问价", "--at", at)
        assert result.exit_code == 0, result.stderr
    import json

    data = json.loads(cli("report", "monthly", "--period", "2026-11", "--json").stdout)
    per_day = data["breakdowns"]["calls.per_day"]
    days = {r["item"]: r["value"] for r in per_day["rows"]}
    assert days["2026-11-01"] == 2 and days["2026-11-02"] == 1 and days["2026-11-23"] == 1
    assert days["2026-11-24"] == 0 and days["2026-11-25"] is None  # begun (to date) / not begun yet
    assert sum(v or 0 for v in days.values()) == 4
