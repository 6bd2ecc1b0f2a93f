"""The report's data: its dataclasses, the registries every area fills in, and helpers shared by areas."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, Callable, Iterator

from csdesk.reporting.periods import Period

RATE_PLACES = Decimal("0.0001")
HOURS_PLACES = Decimal("0.1")
SCORE_PLACES = Decimal("0.01")


@contextmanager
def speaking(lang: str | None):
    """Words from the catalogue of `lang` (zh or en) inside the block, the language before it after: a report is
    made and shown in its own language without changing the interface's."""
    from csdesk import i18n

    before = i18n.language()
    if lang:
        i18n.set_language(lang)
    try:
        yield
    finally:
        i18n.set_language(before)


def in_chinese(message: str) -> str:
    """A message of the catalogue in Chinese, whatever the interface language (for the definitions' checks)."""
    from csdesk import i18n

    return i18n._load("zh_CN").gettext(message)


class _Named:
    """A figure's or breakdown's name in each language: `label` is the English message id."""

    @property
    def zh(self) -> str:
        return in_chinese(self.label)

    @property
    def en(self) -> str:
        return self.label


@dataclass(frozen=True)
class FigureDef(_Named):
    key: str
    area: str
    label: str  # English message id: shown through _()
    unit: str  # count | rate | hours | money | score
    definition: str  # English message id


@dataclass(frozen=True)
class BreakdownDef(_Named):
    key: str
    area: str
    label: str
    unit: str
    item: str  # the heading of its items' column
    definition: str


FIGURES: dict[str, FigureDef] = {}
BREAKDOWNS: dict[str, BreakdownDef] = {}


# How each area is laid out in the workbook, filled in beside each area's definitions:
DETAILS: dict[str, Callable] = {}  # area -> fn(desk, report, window) -> Detail (its sheet's rows)
SHEET_BLOCKS: dict[str, list[tuple[str, str | None]]] = {}  # area -> breakdowns shown beside the rows
AREA_CHARTS: dict[str, list[tuple[str, str, str, list[int], bool]]] = {}  # (block, kind, title (message id), series, percent)
ON_TIME_FIGURES: list[str] = []  # the rate figures charted together on the summary sheet


def _fig(key: str, label: str, unit: str, definition: str) -> None:
    FIGURES[key] = FigureDef(key, key.split(".")[0], label, unit, definition)


def _brk(key: str, label: str, unit: str, item: str, definition: str) -> None:
    BREAKDOWNS[key] = BreakdownDef(key, key.split(".")[0], label, unit, item, definition)

# ---- the report -------------------------------------------------------------------------------------------


@dataclass
class PeriodInfo:
    name: str
    label: str
    first: date
    last: date
    start: datetime
    end: datetime


@dataclass
class FigureValue:
    key: str
    area: str
    label: str
    unit: str
    value: Any
    previous: Any
    change: Any


@dataclass
class BreakdownRow:
    item: str
    label: str
    value: Any
    previous: Any
    change: Any
    previous_item: str | None = None


@dataclass
class Breakdown:
    key: str
    area: str
    label: str
    unit: str
    item_label: str
    rows: list[BreakdownRow]


@dataclass
class AreaInfo:
    key: str
    label: str
    available: bool
    note: str = ""


@dataclass
class Report:
    kind: str
    title: str
    lang: str
    period: PeriodInfo
    previous: PeriodInfo
    as_of: datetime  # the end of the period, or now for a period still running
    to_date: bool
    generated_at: datetime
    masked: bool
    timezone: str
    areas: list[AreaInfo]
    figures: list[FigureValue]
    breakdowns: list[Breakdown]

    def figure(self, key: str) -> FigureValue:
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)

    def breakdown(self, key: str) -> Breakdown:
        for b in self.breakdowns:
            if b.key == key:
                return b
        raise KeyError(key)

    def area(self, key: str) -> AreaInfo:
        for a in self.areas:
            if a.key == key:
                return a
        raise KeyError(key)


@dataclass
class AreaData:
    """What one area's computation returns for one period."""

    values: dict[str, Any] = field(default_factory=dict)
    # breakdown key -> {item: value}; item order is kept
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    # item -> (zh, en) labels, shared by the area's breakdowns
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Window:
    """The rows a computation looks at: the period's bounds and the instant 'at period end' means."""

    period: Period
    as_of: datetime  # min(period end, now)

    @property
    def start(self) -> datetime:
        return self.period.start

    @property
    def end(self) -> datetime:
        return self.period.end


def rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _change(unit: str, value: Any, previous: Any) -> Any:
    if value is None or previous is None:
        return None
    return value - previous


def _local_text(t: datetime, tz) -> str:
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _staff_names(session) -> dict[int, str]:
    from sqlalchemy import select

    from csdesk.models import Staff

    return {row[0]: row[1] for row in session.execute(select(Staff.id, Staff.name))}


def _projects_missing() -> str | None:
    try:
        from csdesk.workflows import payments, projects

        projects.OPEN_ADJUSTMENT, payments.aging, payments.STEPS  # noqa: B018
    except (ImportError, AttributeError) as exc:
        return f"the projects and money area (issue 5) is not installed yet ({exc})"
    return None


def end_day(w: Window, tz) -> date:
    """The day 'at period end' is judged on, for date-based rules: the last day, or today while it runs."""
    return min(w.period.last, (w.as_of - timedelta(microseconds=1)).astimezone(tz).date())


# ---- detail rows (streamed into the workbook) ----------------------------------------------------------------


@dataclass
class Detail:
    """Rows for an area's sheet, read from the database while the workbook is written."""

    area: str
    columns: list[tuple[str, str]]  # (heading: an English message id, shown through _(), kind)
    rows: Callable[[], Iterator[tuple]]
    empty: str = "Nothing in this period"  # a message id, shown through _()


def _phone_shown(number: str | None, masked: bool) -> str:
    if not number:
        return ""
    return _phone_text(number, masked)


@lru_cache(maxsize=1 << 16)
def _phone_text(number: str, masked: bool) -> str:
    """A stored number as a detail row shows it (the same numbers come back on many rows)."""
    from csdesk import phones

    return phones.mask(number) if masked else phones.display(number).replace(" ", "")


def _naive_local(t: datetime | None, tz) -> datetime | None:
    """Excel has no time zones: times go in as local wall-clock time.

    The local time's date and time put together: the same naive time as .replace(tzinfo=None) (fold included),
    at a third of the cost (datetime.replace() is slow, and a report makes hundreds of thousands of these)."""
    if t is None:
        return None
    local = t.astimezone(tz)
    return _combine(local.date(), local.time())


_combine = datetime.combine

_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_HOUR = timedelta(hours=1)
_TO_HOURS_END = _HOUR - timedelta(microseconds=1)


def _offset_through_hour(start: datetime, tz) -> timedelta | None:
    """The zone's offset all through the hour of UTC time that begins at `start` (aware), or None when it changes
    within that hour (its times are then converted exactly, one by one)."""
    off = start.astimezone(tz).utcoffset()
    return off if (start + _TO_HOURS_END).astimezone(tz).utcoffset() == off else None


def local_wall_clock(tz):
    """A function giving what `_naive_local(t, tz)` gives for an aware time t (or None), for the detail rows' ~200,000
    deadlines: the zone's offset is found once per hour of UTC time and added to the time as it is, without
    converting it and stripping its zone (two new datetimes and a slow replace() each). An hour in which the offset
    changes is converted exactly, time by time. tests/test_complaint_report_speed.py compares it across DST."""
    offsets: dict[int, timedelta | None] = {}

    def local(t: datetime | None) -> datetime | None:
        if t is None:
            return None
        since = t - _UTC_EPOCH
        hour = since // _HOUR
        if hour in offsets:
            off = offsets[hour]
        else:
            off = offsets[hour] = _offset_through_hour(_UTC_EPOCH + hour * _HOUR, tz)
        if off is None:
            return t.astimezone(tz).replace(tzinfo=None)
        return _NAIVE_EPOCH + since + off

    return local


def _streamed(session, query, size: int = 1000) -> Iterator:
    """The rows of `query`, read from the database `size` at a time (never all in memory), handed on a batch
    at a time: cheaper per row than iterating a yield_per result row by row."""
    for batch in session.execute(query.execution_options(yield_per=size)).partitions():
        yield from batch


def _batches(session, query, size: int = 1000) -> Iterator[list]:
    """The rows of `query` in lists of up to `size` (never all in memory): for rows that need something looked up
    for many of them at once (their customers' names and numbers: customer_cards, main_phones)."""
    yield from session.execute(query.execution_options(yield_per=size)).partitions()


def customer_cards(session, customer_ids) -> dict[int, tuple[str, str | None] | None]:
    """Customers' (code, name) by id: a mapping that holds every customer of `customer_ids` (None for one not
    found), and those read before in the session.

    Read once for the session (the report's one read transaction), like main_phones: a year's callbacks are
    for far fewer customers (162,000 callbacks, 18,000 customers), and a lookup per batch of rows of the ones
    not read yet costs less than joining every row to its customer."""
    from sqlalchemy import select

    from csdesk.models import Customer

    cu = Customer.__table__.c
    known: dict[int, tuple[str, str | None] | None] = session.info.setdefault("csdesk.reports.customers", {})
    missing = list({cid for cid in customer_ids if cid is not None and cid not in known})
    for i in range(0, len(missing), 500):
        chunk = missing[i:i + 500]
        found = {cid: (code, name) for cid, code, name in session.execute(select(cu.id, cu.code, cu.name).where(cu.id.in_(chunk)))}
        for cid in chunk:
            known[cid] = found.get(cid)
    return known


def local_time(column, tz):
    """`column` (a UTC time column) read as naive local wall-clock time, as `_naive_local` would make it.

    For detail rows, which read hundreds of thousands of times: each value is converted once, while the row is
    read, by adding its zone's offset (found once per hour of UTC time) to the UTC time, instead of making an
    aware time and converting and stripping it (three new datetimes a value)."""
    from sqlalchemy import type_coerce

    return type_coerce(column, _local_time_type()(tz))


@lru_cache(maxsize=None)
def _local_time_type():
    import sqlalchemy as sa
    from sqlalchemy.types import TypeDecorator

    utc = timezone.utc
    hour = timedelta(hours=1)

    class LocalWallClock(TypeDecorator):
        impl = sa.DateTime
        cache_ok = True

        def __init__(self, tz):
            super().__init__()
            self.tz = tz

        def result_processor(self, dialect, coltype):
            tz, parse = self.tz, datetime.fromisoformat
            # UTC hour -> the zone's offset all through it, or None when it changes within that hour.
            offsets: dict[Any, timedelta | None] = {}
            impl = None if dialect.name == "sqlite" else self.impl_instance.result_processor(dialect, coltype)

            def offset(t: datetime, key) -> timedelta | None:
                off = offsets[key] = _offset_through_hour(t.replace(minute=0, second=0, microsecond=0, tzinfo=utc), tz)
                return off

            def process(value):
                if value is None:
                    return None
                if value.__class__ is str:  # SQLite keeps the text SQLAlchemy wrote: naive UTC
                    key = value[:13]
                    value = parse(value)
                    if value.tzinfo is not None:  # read as UTC whatever it says, as UTCDateTime reads it
                        value = value.replace(tzinfo=None)
                else:
                    if impl is not None:
                        value = impl(value)
                    if value.tzinfo is not None:
                        return value.astimezone(tz).replace(tzinfo=None)
                    key = (value.year, value.month, value.day, value.hour)
                off = offsets.get(key, hour)
                if off is hour:
                    off = offset(value, key)
                if off is None:
                    return value.replace(tzinfo=utc).astimezone(tz).replace(tzinfo=None)
                return value + off

            return process

    return LocalWallClock


def main_phones(session, customer_ids) -> dict[int, str]:
    """Each customer's main number (position 0, else the lowest).

    Numbers read once are kept for the session (the report's one read transaction): the sheets of a report
    show many of the same customers."""
    known = main_phone_map(session, customer_ids)
    return {cid: known[cid] for cid in {cid for cid in customer_ids if cid is not None} if known[cid] is not None}


def main_phone_map(session, customer_ids) -> dict[int, str | None]:
    """main_phones() without a new dict each time: the session's mapping of main numbers, which holds every
    customer of `customer_ids` (None for one without a number) and those read before."""
    from sqlalchemy import select

    from csdesk.models import CustomerPhone

    known: dict[int, str | None] = session.info.setdefault("csdesk.reports.main_phones", {})
    missing = list({cid for cid in customer_ids if cid is not None and cid not in known})
    for i in range(0, len(missing), 500):
        chunk = missing[i:i + 500]
        found: dict[int, str] = {}
        for cid, number in session.execute(
            select(CustomerPhone.customer_id, CustomerPhone.number).where(CustomerPhone.customer_id.in_(chunk))
            .order_by(CustomerPhone.customer_id, CustomerPhone.position.desc(), CustomerPhone.id.desc())
        ):
            found[cid] = number  # the last one written wins: position 0, lowest id
        for cid in chunk:
            known[cid] = found.get(cid)
    return known


def main_phone_of(customer_id):
    """The main number of the customer in `customer_id` (a column), as a column of the same query: position 0,
    else the lowest — main_phones() in SQL, for detail rows that need it on every row."""
    from sqlalchemy import select

    from csdesk.models import CustomerPhone

    ph = CustomerPhone.__table__.c
    return (select(ph.number).where(ph.customer_id == customer_id).order_by(ph.position, ph.id).limit(1)
            .scalar_subquery().label("main_phone"))
