"""Reports (报表): daily, weekly, monthly, quarterly and annual — data first, then renderers.

The data part is pure: `build_report(desk, kind, period)` runs a handful of aggregate queries
(GROUP BY in SQL, never row by row in Python for the big tables) for the period and the one before it,
and returns a `Report` of plain dataclasses. Every figure and every breakdown is defined ONCE, in
FIGURES / BREAKDOWNS below, with the text that says what is counted, over which rows, in which period;
the README's report section carries the same definitions (a test keeps them in step).

Renderers: `render_terminal` (rich tables), `report_json` (plain dicts for --json), `write_xlsx` (an
Excel workbook with a summary sheet, one sheet per area with its detail rows, and native charts).
Detail rows (every complaint of the period, every overdue item at period end, receivables by project)
are streamed from the database while the workbook is written, so a month with tens of thousands of rows
never sits in memory.

Periods are named the way people say them — `2026-11-24`, `2026-W48` (ISO week), `2026-11`, `2026-Q4`,
`2026` — and bounded at local midnight in the configured time zone: a call at 23:30 local time on
30 November belongs to November even though it is 15:30 UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterator

from csdesk.errors import InvalidValue

UTC = timezone.utc
KINDS = ("daily", "weekly", "monthly", "quarterly", "annual")
KIND_LABELS = {"daily": ("日报", "Daily report"), "weekly": ("周报", "Weekly report"), "monthly": ("月报", "Monthly report"),
               "quarterly": ("季报", "Quarterly report"), "annual": ("年报", "Annual report")}
PERIOD_NOUNS = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter", "annual": "year"}
NAME_SHAPES = {"daily": "2026-11-24", "weekly": "2026-W48", "monthly": "2026-11", "quarterly": "2026-Q4", "annual": "2026"}
WEEKDAYS_ZH = "一二三四五六日"
RATE_PLACES = Decimal("0.0001")
HOURS_PLACES = Decimal("0.1")
SCORE_PLACES = Decimal("0.01")


# ---- periods --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A named period, its local calendar days [first, last] and its UTC bounds [start, end)."""

    kind: str
    name: str
    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def label(self, lang: str = "zh") -> str:
        f, l = self.first, self.last
        if self.kind == "daily":
            return f"{f.isoformat()} (周{WEEKDAYS_ZH[f.weekday()]})" if lang == "zh" else f"{f.isoformat()} ({f:%a})"
        if self.kind == "weekly":
            y, w, _ = f.isocalendar()
            span = f"{f:%m-%d} ~ {l:%m-%d}"
            return f"{y}年第{w}周 ({span})" if lang == "zh" else f"week {w} of {y} ({span})"
        if self.kind == "monthly":
            return f"{f.year}年{f.month}月" if lang == "zh" else f"{f:%B %Y}"
        if self.kind == "quarterly":
            q = (f.month - 1) // 3 + 1
            return f"{f.year}年第{q}季度" if lang == "zh" else f"Q{q} {f.year}"
        return f"{f.year}年" if lang == "zh" else str(f.year)


def _local_midnight(d: date, tz) -> datetime:
    return datetime.combine(d, time(0, 0)).replace(tzinfo=tz).astimezone(UTC)


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + (d.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def period_of(kind: str, day: date, tz) -> Period:
    """The period of `kind` that contains the local date `day`."""
    if kind == "daily":
        first, last, name = day, day, day.isoformat()
    elif kind == "weekly":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=6)
        y, w, _ = first.isocalendar()
        name = f"{y}-W{w:02d}"
    elif kind == "monthly":
        first = day.replace(day=1)
        last = _add_months(first, 1) - timedelta(days=1)
        name = f"{first.year}-{first.month:02d}"
    elif kind == "quarterly":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        last = _add_months(first, 3) - timedelta(days=1)
        name = f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    elif kind == "annual":
        first, last, name = date(day.year, 1, 1), date(day.year, 12, 31), str(day.year)
    else:
        raise InvalidValue(f"unknown report {kind!r} (use one of: {', '.join(KINDS)})")
    return Period(kind, name, first, last, _local_midnight(first, tz), _local_midnight(last + timedelta(days=1), tz))


def previous_period(p: Period, tz) -> Period:
    return period_of(p.kind, p.first - timedelta(days=1), tz)


def last_complete_period(kind: str, tz, now: datetime) -> Period:
    """The latest period of `kind` that has ended by `now` (yesterday, last week, last month …)."""
    today = now.astimezone(tz).date()
    return previous_period(period_of(kind, today, tz), tz)


def parse_period(kind: str, text: str | None, tz, now: datetime) -> Period:
    """`--period`: the natural name of a period of `kind`; also `current` (to date) and `last`."""
    if kind not in KINDS:
        raise InvalidValue(f"unknown report {kind!r} (use one of: {', '.join(KINDS)})")
    raw = (text or "").strip()
    if not raw or raw.lower() in ("last", "previous", "上期"):
        return last_complete_period(kind, tz, now)
    if raw.lower() in ("current", "this", "本期"):
        return period_of(kind, now.astimezone(tz).date(), tz)
    shape = NAME_SHAPES[kind]
    bad = InvalidValue(f"{raw!r} is not a {PERIOD_NOUNS[kind]} (name it like {shape}, or say current or last)")
    s = raw.upper()
    try:
        if kind == "daily":
            if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", s):
                y, m, d = (int(x) for x in s.split("-"))
                day = date(y, m, d)
            else:
                from csdesk import dates

                if re.fullmatch(r"\d{4}(-W\d+|-Q\d|-\d{1,2})?", s):
                    raise bad
                day = dates.parse_date(raw, tz=tz, at=now)
        elif kind == "weekly":
            m = re.fullmatch(r"(\d{4})-?W(\d{1,2})", s)
            if not m:
                raise bad
            day = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        elif kind == "monthly":
            m = re.fullmatch(r"(\d{4})-(\d{1,2})", s)
            if not m:
                raise bad
            day = date(int(m.group(1)), int(m.group(2)), 1)
        elif kind == "quarterly":
            m = re.fullmatch(r"(\d{4})-?Q([1-4])", s)
            if not m:
                raise bad
            day = date(int(m.group(1)), (int(m.group(2)) - 1) * 3 + 1, 1)
        else:
            if not re.fullmatch(r"\d{4}", s):
                raise bad
            day = date(int(s), 1, 1)
    except ValueError:
        raise bad from None
    if not (1900 <= day.year <= 2200):
        raise bad
    period = period_of(kind, day, tz)
    if period.start > now:
        raise InvalidValue(f"period {period.name} has not started yet (today is {now.astimezone(tz).date().isoformat()})",
                           hint=f"the last complete one is {last_complete_period(kind, tz, now).name}")
    return period


# ---- definitions: every figure and breakdown, once ----------------------------------------------------------

AREAS: dict[str, tuple[str, str]] = {
    "calls": ("通话", "Calls"),
    "complaints": ("投诉", "Complaints"),
    "visits": ("回访", "Return visits"),
    "adjustments": ("调整整改", "Adjustments"),
    "money": ("款项", "Money"),
    "agents": ("人员", "Per agent"),
}


@dataclass(frozen=True)
class FigureDef:
    key: str
    area: str
    zh: str
    en: str
    unit: str  # count | rate | hours | money | score
    definition: str


@dataclass(frozen=True)
class BreakdownDef:
    key: str
    area: str
    zh: str
    en: str
    unit: str
    item_zh: str
    item_en: str
    definition: str


FIGURES: dict[str, FigureDef] = {}
BREAKDOWNS: dict[str, BreakdownDef] = {}


# How each area is laid out in the workbook, filled in beside each area's definitions:
DETAILS: dict[str, Callable] = {}  # area -> fn(desk, report, window) -> Detail (its sheet's rows)
SHEET_BLOCKS: dict[str, list[tuple[str, str | None]]] = {}  # area -> breakdowns shown beside the rows
AREA_CHARTS: dict[str, list[tuple[str, str, str, str, list[int], bool]]] = {}  # (block, kind, 中文, English, series, percent)
ON_TIME_FIGURES: list[str] = []  # the rate figures charted together on the summary sheet


def _fig(key: str, zh: str, en: str, unit: str, definition: str) -> None:
    FIGURES[key] = FigureDef(key, key.split(".")[0], zh, en, unit, definition)


def _brk(key: str, zh: str, en: str, unit: str, item: tuple[str, str], definition: str) -> None:
    BREAKDOWNS[key] = BreakdownDef(key, key.split(".")[0], zh, en, unit, item[0], item[1], definition)


# Calls
_fig("calls.total", "通话总数", "Calls", "count",
     "Calls logged (any kind, channel or direction) whose time falls in the period.")
_fig("calls.inbound", "来电", "Inbound calls", "count", "Calls with direction `in` whose time falls in the period.")
_fig("calls.outbound", "去电", "Outbound calls", "count", "Calls with direction `out` whose time falls in the period.")
_fig("calls.fcr_rate", "首次解决率", "First-contact resolution rate", "rate",
     "Of the inbound calls in the period, the share marked resolved on first contact (`log-call --resolved`).")
_brk("calls.per_day", "每日通话", "Calls per day", "count", ("日期", "Date"),
     "Calls in the period by local calendar day (annual report: by month); the previous period's day at the same position beside it.")
_brk("calls.by_kind", "按类型", "Calls by kind", "count", ("类型", "Kind"), "Calls in the period by kind (咨询, 投诉, 报修 …).")
_brk("calls.by_channel", "按渠道", "Calls by channel", "count", ("渠道", "Channel"), "Calls in the period by channel.")
_brk("calls.by_direction", "按方向", "Calls by direction", "count", ("方向", "Direction"), "Calls in the period by direction (来电 in / 去电 out).")
_brk("calls.by_agent", "按客服", "Calls by agent", "count", ("客服", "Agent"), "Calls in the period by the agent who logged them.")
SHEET_BLOCKS["calls"] = [("calls.by_kind", None), ("calls.by_channel", None), ("calls.by_direction", None), ("calls.by_agent", None)]
AREA_CHARTS["calls"] = [("main", "line", "每日通话", "Calls per day", [1, 3], False)]


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


def _mask(settings, unmask: bool) -> bool:
    if unmask:
        return False
    try:
        return bool(settings["export.mask_phones"])
    except KeyError:
        return True


def build_report(desk, kind: str, period: str | Period | None = None, *, lang: str = "zh", unmask: bool = False) -> Report:
    """The report of `kind` for `period` (a name, a Period, or None for the last complete one).

    `unmask` (phone numbers in full in the detail rows) needs a manager or above.
    """
    if lang not in ("zh", "en"):
        raise InvalidValue(f"unknown language {lang!r} (use zh or en)")
    if unmask:
        desk.require_rank("manager", "showing customers' full phone numbers (--unmask)")
    tz = desk.tz
    p = period if isinstance(period, Period) else parse_period(kind, period, tz, desk.now)
    prev = previous_period(p, tz)
    cur_w = Window(p, min(p.end, desk.now))
    prev_w = Window(prev, min(prev.end, desk.now))
    zh = lang == "zh"

    areas: list[AreaInfo] = []
    figures: list[FigureValue] = []
    breakdowns: list[Breakdown] = []
    done_cur: dict[str, AreaData] = {}
    done_old: dict[str, AreaData] = {}
    for key, compute in AREA_COMPUTATIONS:
        missing = compute.missing() if hasattr(compute, "missing") else None
        label = AREAS[key][0 if zh else 1]
        if missing:
            areas.append(AreaInfo(key, label, False, missing))
            continue
        cur = done_cur[key] = compute(desk, cur_w, done_cur)
        old = done_old[key] = compute(desk, prev_w, done_old)
        areas.append(AreaInfo(key, label, True))
        for fkey, fdef in FIGURES.items():
            if fdef.area != key or fkey not in cur.values:
                continue
            v, pv = cur.values[fkey], old.values.get(fkey)
            figures.append(FigureValue(fkey, key, fdef.zh if zh else fdef.en, fdef.unit, v, pv, _change(fdef.unit, v, pv)))
        for bkey, bdef in BREAKDOWNS.items():
            if bdef.area != key or bkey not in cur.items:
                continue
            breakdowns.append(_breakdown(bdef, cur, old, zh))

    title = f"{KIND_LABELS[kind][0]} {p.label('zh')}" if zh else f"{KIND_LABELS[kind][1]}: {p.label('en')}"
    to_date = desk.now < p.end
    if to_date:
        title += " (截至 " + _local_text(desk.now, tz) + ")" if zh else " (to " + _local_text(desk.now, tz) + ")"
    return Report(
        kind=kind, title=title, lang=lang,
        period=PeriodInfo(p.name, p.label(lang), p.first, p.last, p.start, p.end),
        previous=PeriodInfo(prev.name, prev.label(lang), prev.first, prev.last, prev.start, prev.end),
        as_of=cur_w.as_of, to_date=to_date, generated_at=desk.now, masked=_mask(desk.settings, unmask),
        timezone=str(desk.settings["timezone"]),
        areas=areas, figures=figures, breakdowns=breakdowns,
    )


def _local_text(t: datetime, tz) -> str:
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _breakdown(bdef: BreakdownDef, cur: AreaData, old: AreaData, zh: bool) -> Breakdown:
    now_items = cur.items.get(bdef.key, {})
    old_items = old.items.get(bdef.key, {})
    rows: list[BreakdownRow] = []
    if bdef.key.endswith("per_day"):
        # Aligned by position: day 1 beside day 1 of the previous period.
        old_list = list(old_items.items())
        for i, (item, value) in enumerate(now_items.items()):
            prev_item, prev_value = old_list[i] if i < len(old_list) else (None, None)
            rows.append(BreakdownRow(item, item, value, prev_value, _change(bdef.unit, value, prev_value), prev_item))
        return Breakdown(bdef.key, bdef.area, bdef.zh if zh else bdef.en, bdef.unit, bdef.item_zh if zh else bdef.item_en, rows)
    labels = {**old.labels, **cur.labels}
    order = list(now_items) + [k for k in old_items if k not in now_items]
    zero = 0 if bdef.unit in ("count", "money") else None
    for item in order:
        value = now_items.get(item, zero)
        prev_value = old_items.get(item, zero)
        zh_label, en_label = labels.get(item, (item, item))
        rows.append(BreakdownRow(item, zh_label if zh else en_label, value, prev_value, _change(bdef.unit, value, prev_value)))
    return Breakdown(bdef.key, bdef.area, bdef.zh if zh else bdef.en, bdef.unit, bdef.item_zh if zh else bdef.item_en, rows)


# ---- calls --------------------------------------------------------------------------------------------------


def _day_buckets(w: Window, tz):
    """Bucket bounds for the per-day series: local days (or months in an annual report)."""
    p = w.period
    if p.kind == "annual":
        firsts = [date(p.first.year, m, 1) for m in range(1, 13)]
        names = [f"{d.year}-{d.month:02d}" for d in firsts]
    else:
        firsts = p.days
        names = [d.isoformat() for d in firsts]
    bounds = [_local_midnight(d, tz) for d in firsts[1:]]
    return names, bounds


def _bucket_expr(column, bounds):
    """A portable CASE that numbers the bucket a time falls in (bounds are the starts of buckets 1..n)."""
    from sqlalchemy import case, literal

    if not bounds:
        return literal(0)
    return case(*[(column < b, i) for i, b in enumerate(bounds)], else_=len(bounds))


def _staff_names(session) -> dict[int, str]:
    from sqlalchemy import select

    from csdesk.models import Staff

    return {row[0]: row[1] for row in session.execute(select(Staff.id, Staff.name))}


def compute_calls(desk, w: Window, _computed) -> AreaData:
    from sqlalchemy import and_, case, func, literal_column, select

    from csdesk.models import Call
    from csdesk.workflows.calls import CHANNELS, DIRECTIONS, KINDS

    session, tz = desk.session, desk.tz
    c = Call.__table__.c
    in_period = and_(c.at >= w.start, c.at < w.end)
    data = AreaData()
    names = _staff_names(session)
    fcr = func.sum(case((and_(c.direction == "in", c.first_contact_resolved), 1), else_=0))
    rows = session.execute(
        select(c.kind, c.channel, c.direction, c.agent_id, func.count(), fcr).where(in_period)
        .group_by(c.kind, c.channel, c.direction, c.agent_id)
    ).all()
    by_kind = {k: 0 for k in KINDS}
    by_channel: dict[str, int] = {k: 0 for k in CHANNELS}
    by_direction = {k: 0 for k in DIRECTIONS}
    by_agent: dict[str, int] = {}
    total = fcr_count = 0
    for kind, channel, direction, agent_id, count, resolved in rows:
        total += count
        fcr_count += resolved or 0
        by_kind[kind] = by_kind.get(kind, 0) + count
        by_channel[channel] = by_channel.get(channel, 0) + count
        by_direction[direction] = by_direction.get(direction, 0) + count
        agent = names.get(agent_id, "—") if agent_id is not None else "—"
        by_agent[agent] = by_agent.get(agent, 0) + count
    data.values["calls.total"] = total
    data.values["calls.inbound"] = by_direction.get("in", 0)
    data.values["calls.outbound"] = by_direction.get("out", 0)
    data.values["calls.fcr_rate"] = rate(fcr_count, by_direction.get("in", 0))
    data.items["calls.by_kind"] = by_kind
    data.items["calls.by_channel"] = by_channel
    data.items["calls.by_direction"] = by_direction
    data.items["calls.by_agent"] = dict(sorted(by_agent.items(), key=lambda kv: (-kv[1], kv[0])))
    for choices in (KINDS, CHANNELS, DIRECTIONS):
        for key, label in choices.items():
            data.labels.setdefault(key, (label, key))
    for name in by_agent:
        data.labels[name] = (name, name)

    bucket_names, bounds = _day_buckets(w, tz)
    bucket = _bucket_expr(c.at, bounds).label("bucket")
    starts = [w.start, *bounds]
    # A day that had not begun by the end of the report (a period still running) has no figure, not a zero.
    per_day = {name: (0 if begins < w.as_of else None) for name, begins in zip(bucket_names, starts)}
    for index, count in session.execute(select(bucket, func.count()).where(in_period).group_by(literal_column("bucket"))):
        per_day[bucket_names[int(index)]] = count
    data.items["calls.per_day"] = per_day
    return data


# ---- complaints -----------------------------------------------------------------------------------------------

_fig("complaints.opened", "新增投诉", "Complaints opened", "count", "Complaints whose opening time falls in the period.")
_fig("complaints.resolved", "已解决", "Complaints resolved", "count",
     "Complaints with a resolution (解决) entered for a time in the period; a complaint resolved twice in the period counts once.")
_fig("complaints.closed", "已关闭", "Complaints closed", "count", "Complaints closed (after a satisfied return visit, or by a supervisor) in the period.")
_fig("complaints.reopened", "重开", "Complaints reopened", "count", "Complaints reopened (by hand or by an unsatisfied return visit) in the period.")
_fig("complaints.open_at_end", "期末未结投诉", "Complaints open at period end", "count",
     "Complaints opened before the end of the period that were still open, acknowledged or on hold at that moment (not resolved, not closed).")
_fig("complaints.escalations", "升级次数", "Escalations", "count", "Escalations (by hand or automatic) made in the period, each counted once whatever the number of levels it climbed.")
_fig("complaints.first_response_on_time", "首次响应按时率", "First response on time", "rate",
     "Of the complaints whose first-response deadline fell in the period, the share first answered (acknowledged or resolved) by that deadline. Deadlines from the complaints' SLA (business hours, holds excluded).")
_fig("complaints.resolution_on_time", "解决按时率", "Resolution on time", "rate",
     "Of the resolution deadlines that fell in the period (one per level reached or reopening; a deadline replaced by an escalation before it came is not counted), the share met: resolved by the deadline.")
_fig("complaints.resolution_hours_avg", "平均解决用时(工作小时)", "Average business hours to resolve", "hours",
     "Over the complaints resolved in the period (their last resolution in it): business hours from opening to resolution, holds and time spent resolved before a reopening excluded; the mean.")
_fig("complaints.resolution_hours_median", "解决用时中位数(工作小时)", "Median business hours to resolve", "hours",
     "The same business hours to resolve, the median.")
_brk("complaints.by_category", "按类别", "Complaints by category", "count", ("类别", "Category"), "Complaints opened in the period by category.")
_brk("complaints.by_severity", "按严重程度", "Complaints by severity", "count", ("严重程度", "Severity"), "Complaints opened in the period by severity.")
_brk("complaints.escalations_by_level", "按升级级别", "Escalations by level", "count", ("级别", "Level"),
     "Escalations made in the period by the level the complaint was escalated to.")
_brk("complaints.owned_by_agent", "按负责人新增投诉", "Complaints owned, by agent", "count", ("客服", "Agent"),
     "Complaints opened in the period, by their owner (who took them: 首问负责制).")
_brk("complaints.resolved_by_agent", "按负责人解决投诉", "Complaints resolved, by owner", "count", ("客服", "Agent"),
     "Complaints resolved in the period (their last resolution in it), by their owner.")
_brk("complaints.on_time_by_agent", "按负责人解决按时率", "Resolution on time, by owner", "rate", ("客服", "Agent"),
     "The resolution on-time rate (as above) over the deadlines of the complaints each agent owns.")

COMPLAINT_LOOKBACK = timedelta(days=31)  # an earlier clock's deadline is looked for this far before the period


def _complaints_missing() -> str | None:
    try:
        from csdesk.workflows import complaints

        complaints.compute_sla, complaints.rules, complaints.calendar  # noqa: B018
    except (ImportError, AttributeError) as exc:
        return f"the complaints area (issue 3) is not installed yet ({exc})"
    return None


@dataclass
class ComplaintSla:
    """One complaint's SLA verdicts as they bear on a window."""

    row: Any
    sla: Any
    fr_counted: bool  # its first-response deadline fell in the window
    fr_on_time: bool
    clocks: list[tuple[Any, bool]]  # resolution deadlines in the window: (clock, met)
    resolved_in: datetime | None  # its last resolution in the window
    hours: Decimal | None  # business hours to that resolution


def _complaint_candidates(w: Window):
    """Ids of the complaints a window's figures or detail rows can involve (a superset, checked one by one)."""
    from sqlalchemy import and_, select, union

    from csdesk.models import Complaint, ComplaintEvent

    c, e = Complaint.__table__.c, ComplaintEvent.__table__.c
    # A deadline in the window is the cached one (the last clock's), or an earlier clock's — of a complaint
    # escalated or reopened since shortly before the window; resolutions in the window give the hours.
    return union(
        select(c.id).where(c.opened_at >= w.start, c.opened_at < w.as_of),
        select(c.id).where(c.first_response_due >= w.start, c.first_response_due < w.as_of),
        select(c.id).where(c.resolution_due >= w.start, c.resolution_due < w.as_of),
        select(e.complaint_id).where(and_(e.kind.in_(("escalated", "reopened")), e.at >= w.start - COMPLAINT_LOOKBACK, e.at < w.as_of)),
        select(e.complaint_id).where(and_(e.kind == "resolved", e.at >= w.start, e.at < w.as_of)),
    ).subquery()


def _candidate_rows(w: Window, extra_columns=()):
    from sqlalchemy import select

    from csdesk.models import Complaint

    c = Complaint.__table__.c
    cand = _complaint_candidates(w)
    return select(c.id, c.severity, c.owner_id, c.opened_at, *extra_columns).where(c.id.in_(select(cand.c[0]))).order_by(c.opened_at, c.id)


def _clock_key(clock) -> str:
    """A deadline's result: met, missed, running (not yet due), paused (on hold: not known), or none."""
    if clock.due is None:
        return "paused" if clock.running else ""
    if clock.breached:
        return "missed"
    return "running" if clock.running else "met"


def _verdicts(session) -> dict:
    """Per window, each complaint's SLA results for the detail rows, kept while the report is made."""
    return session.info.setdefault("csdesk.reports.complaint_verdicts", {})


def iter_complaint_slas(desk, w: Window, extra_columns=()) -> Iterator[ComplaintSla]:
    """Each candidate complaint (in opening order) with its SLA computed by the complaints area from its events."""
    from sqlalchemy import select

    from csdesk.models import ComplaintEvent
    from csdesk.workflows.complaints import calendar, compute_sla, rules

    session = desk.session
    r, cal = rules(desk.settings), calendar(desk.settings)
    e = ComplaintEvent.__table__.c
    query = _candidate_rows(w, extra_columns)
    chunk: list[Any] = []

    def flush(rows):
        events: dict[int, list] = {}
        for ev in session.execute(select(e.complaint_id, e.id, e.at, e.kind, e.from_value, e.to_value)
                                  .where(e.complaint_id.in_([x.id for x in rows]), e.kind != "note")):
            events.setdefault(ev.complaint_id, []).append(ev)
        for row in rows:
            sla = compute_sla(events.get(row.id, []), row.severity, desk.now, cal, r)
            fr = sla.first_response
            fr_counted = fr.due is not None and w.start <= fr.due < w.as_of
            clocks = [(k, not k.breached) for k in sla.resolution
                      if k.due is not None and w.start <= k.due < w.as_of and not (k.ended_by == "escalated" and not k.breached)]
            resolves = [ev.at for ev in events.get(row.id, []) if ev.kind == "resolved" and w.start <= ev.at < w.as_of]
            resolved_in = max(resolves) if resolves else None
            hours = None
            if resolved_in is not None:
                used = sum((k.used for k in sla.resolution if k.ended_at is not None and k.ended_at <= resolved_in), timedelta(0))
                hours = (Decimal(int(used.total_seconds())) / 3600).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)
            yield ComplaintSla(row, sla, fr_counted, fr_counted and not fr.breached, clocks, resolved_in, hours)

    for row in session.execute(query).yield_per(1000):
        chunk.append(row)
        if len(chunk) >= 500:
            yield from flush(chunk)
            chunk = []
    if chunk:
        yield from flush(chunk)


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    value = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return value.quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)


def _mean(values: list[Decimal], places: Decimal = HOURS_PLACES) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(places, rounding=ROUND_HALF_UP)


def open_complaints_at(session, at: datetime) -> int:
    """Complaints open, acknowledged or on hold at the instant `at`, from their status-changing events."""
    from sqlalchemy import func, select

    return session.execute(select(func.count()).select_from(_open_at_query(at).subquery())).scalar_one()


def _open_at_query(at: datetime):
    from sqlalchemy import or_, select

    from csdesk.models import Complaint, ComplaintEvent
    from csdesk.workflows.complaints import ACTIVE

    c, e = Complaint.__table__.c, ComplaintEvent.__table__.c
    last_kind = (
        select(e.kind).where(e.complaint_id == c.id, e.kind.in_(("opened", "resolved", "closed", "reopened")), e.at < at)
        .order_by(e.at.desc(), e.id.desc()).limit(1).scalar_subquery()
    )
    # Open at `at` means: active now, or resolved since (a later resolution); checked exactly by its last event before `at`.
    return (select(c.id, c.severity, c.customer_id, c.owner_id, c.assignee_id, c.summary)
            .where(c.opened_at < at, or_(c.status.in_(ACTIVE), c.resolved_at >= at), last_kind.in_(("opened", "reopened"))))


def compute_complaints(desk, w: Window, _done) -> AreaData:
    from sqlalchemy import and_, func, select

    from csdesk.models import Complaint, ComplaintEvent
    from csdesk.workflows.complaints import SEVERITIES, rules

    session = desk.session
    r = rules(desk.settings)
    c, e = Complaint.__table__.c, ComplaintEvent.__table__.c
    data = AreaData()
    by_category = {k: 0 for k in r.categories}
    by_severity = {k: 0 for k in SEVERITIES}
    opened = 0
    owned: dict[int, int] = {}
    for category, severity, owner_id, count in session.execute(
        select(c.category, c.severity, c.owner_id, func.count()).where(c.opened_at >= w.start, c.opened_at < w.end)
        .group_by(c.category, c.severity, c.owner_id)
    ):
        opened += count
        by_category[category] = by_category.get(category, 0) + count
        by_severity[severity] = by_severity.get(severity, 0) + count
        owned[owner_id] = owned.get(owner_id, 0) + count
    in_period = and_(e.at >= w.start, e.at < w.end)
    counts = dict(session.execute(
        select(e.kind, func.count(func.distinct(e.complaint_id))).where(in_period, e.kind.in_(("resolved", "closed", "reopened")))
        .group_by(e.kind)
    ).all())
    levels = {str(n): 0 for n in range(2, len(r.level_names) + 1)}
    for level, count in session.execute(select(e.to_value, func.count()).where(in_period, e.kind == "escalated").group_by(e.to_value)):
        levels[str(level)] = levels.get(str(level), 0) + count
    data.values.update({
        "complaints.opened": opened,
        "complaints.resolved": counts.get("resolved", 0),
        "complaints.closed": counts.get("closed", 0),
        "complaints.reopened": counts.get("reopened", 0),
        "complaints.open_at_end": open_complaints_at(session, w.as_of),
        "complaints.escalations": sum(levels.values()),
    })
    fr_total = fr_met = res_total = res_met = 0
    hours: list[Decimal] = []
    agent_clocks: dict[int, list[int]] = {}
    agent_resolved: dict[int, int] = {}
    verdicts = _verdicts(session)[(w.start, w.as_of)] = {}
    for item in iter_complaint_slas(desk, w):
        row = item.row
        if w.start <= row.opened_at < w.end or item.fr_counted or item.clocks or item.resolved_in is not None:
            fr, current = item.sla.first_response, item.sla.current
            verdicts[row.id] = (fr.due, _clock_key(fr), current.due, _clock_key(current), item.hours)
        if item.fr_counted:
            fr_total += 1
            fr_met += item.fr_on_time
        for _clock, met in item.clocks:
            res_total += 1
            res_met += met
            mine = agent_clocks.setdefault(item.row.owner_id, [0, 0])
            mine[0] += 1
            mine[1] += met
        if item.resolved_in is not None and item.resolved_in < w.end:
            hours.append(item.hours)
            agent_resolved[item.row.owner_id] = agent_resolved.get(item.row.owner_id, 0) + 1
    data.values["complaints.first_response_on_time"] = rate(fr_met, fr_total)
    data.values["complaints.resolution_on_time"] = rate(res_met, res_total)
    data.values["complaints.resolution_hours_avg"] = _mean(hours)
    data.values["complaints.resolution_hours_median"] = _median(hours)
    data.items["complaints.by_category"] = by_category
    data.items["complaints.by_severity"] = by_severity
    data.items["complaints.escalations_by_level"] = {k: levels[k] for k in sorted(levels, key=int)}
    for key, label in r.categories.items():
        data.labels[key] = (label, key)
    for key, label in SEVERITIES.items():
        data.labels[key] = (label, key)
    for n in range(1, len(r.level_names) + 1):
        data.labels[str(n)] = (r.level_label(n), f"L{n}")
    names = _staff_names(session)
    data.items["complaints.owned_by_agent"] = {names.get(k, "—"): v for k, v in owned.items()}
    data.items["complaints.resolved_by_agent"] = {names.get(k, "—"): v for k, v in agent_resolved.items()}
    data.items["complaints.on_time_by_agent"] = {names.get(k, "—"): rate(met, total) for k, (total, met) in agent_clocks.items()}
    for name in names.values():
        data.labels[name] = (name, name)
    return data


compute_complaints.missing = _complaints_missing


def complaint_details(desk, report: Report, w: Window) -> Detail:
    """Every complaint of the period: opened, resolved or with a deadline in it, with its times and SLA result."""
    from sqlalchemy import select

    from csdesk.models import Complaint, Customer
    from csdesk.workflows.complaints import SEVERITIES, STATUSES, rules

    session, tz = desk.session, desk.tz
    r = rules(desk.settings)
    names = _staff_names(session)
    zh = report.lang == "zh"
    c = Complaint.__table__.c
    cust = Customer.__table__.c
    columns = [
        ("编号", "No.", "int"), ("立案时间", "Opened", "datetime"), ("客户编号", "Customer", "text"), ("客户", "Name", "text"),
        ("电话", "Phone", "text"), ("类别", "Category", "text"), ("严重程度", "Severity", "text"), ("级别", "Level", "int"),
        ("当前状态", "Status now", "text"), ("负责人", "Owner", "text"), ("处理人", "Assignee", "text"),
        ("首次响应", "First response", "datetime"), ("首响时限", "Response due", "datetime"), ("首响结果", "Response SLA", "text"),
        ("解决时间", "Resolved", "datetime"), ("解决时限", "Resolution due", "datetime"), ("解决结果", "Resolution SLA", "text"),
        ("解决用时(工作小时)", "Business hours to resolve", "hours"), ("超时次数", "Deadlines missed", "int"),
        ("关闭时间", "Closed", "datetime"), ("摘要", "Summary", "text"),
    ]
    words = {"met": ("按时", "on time"), "missed": ("超时", "missed"), "running": ("未到期", "not yet due"),
             "paused": ("挂起中", "on hold"), "": ("", "")}
    extra = (c.customer_id, c.category, c.level, c.status, c.assignee_id, c.acked_at, c.resolved_at, c.closed_at,
             c.breach_count, c.summary)

    def rows():
        window = Window(w.period, w.as_of)
        verdicts = _verdicts(session).get((window.start, window.as_of))
        if verdicts is None:  # the figures were not computed in this session: compute the SLAs here
            compute_complaints(desk, window, {})
            verdicts = _verdicts(session)[(window.start, window.as_of)]
        batch: list = []

        def emit(items):
            phones_of = main_phones(session, [row.customer_id for row in items])
            customers = {row.id: row for row in session.execute(
                select(cust.id, cust.code, cust.name).where(cust.id.in_({row.customer_id for row in items})))}
            for row in items:
                fr_due, fr_key, cur_due, cur_key, hours = verdicts[row.id]
                customer = customers.get(row.customer_id)
                yield (
                    row.id, _naive_local(row.opened_at, tz), customer.code if customer else "", (customer.name or "") if customer else "",
                    _phone_shown(phones_of.get(row.customer_id), report.masked),
                    r.categories.get(row.category, row.category) if zh else row.category,
                    SEVERITIES.get(row.severity, row.severity) if zh else row.severity, row.level,
                    STATUSES.get(row.status, row.status) if zh else row.status,
                    names.get(row.owner_id, ""), names.get(row.assignee_id, ""),
                    _naive_local(row.acked_at, tz), _naive_local(fr_due, tz), words[fr_key][0 if zh else 1] or None,
                    _naive_local(row.resolved_at, tz), _naive_local(cur_due, tz), words[cur_key][0 if zh else 1] or None,
                    hours, row.breach_count, _naive_local(row.closed_at, tz), row.summary,
                )

        for row in session.execute(_candidate_rows(window, extra)).yield_per(1000):
            if row.id not in verdicts:
                continue
            batch.append(row)
            if len(batch) >= 500:
                yield from emit(batch)
                batch = []
        if batch:
            yield from emit(batch)

    return Detail("complaints", columns, rows, "本期没有投诉", "No complaints in this period")


DETAILS["complaints"] = complaint_details
ON_TIME_FIGURES.extend(["complaints.first_response_on_time", "complaints.resolution_on_time"])
SHEET_BLOCKS["complaints"] = [("complaints.by_category", None), ("complaints.by_severity", None), ("complaints.escalations_by_level", None)]
AREA_CHARTS["complaints"] = [("complaints.by_category", "bar", "投诉按类别", "Complaints by category", [1, 2], False)]


# ---- return visits --------------------------------------------------------------------------------------------

_fig("visits.due", "应回访", "Visits due", "count",
     "Callbacks and return visits first due (as first promised) in the period, not cancelled.")
_fig("visits.on_time", "按时完成", "Done on time", "count",
     "Of those, reached (done) no later than their due time (which moves with each unanswered try and each reschedule, by the callbacks area's rules).")
_fig("visits.late", "逾期完成", "Done late", "count", "Of those, reached after their due time.")
_fig("visits.missed", "未联系上", "Missed", "count", "Of those, marked missed (no answer on every try, or a wrong number).")
_fig("visits.overdue_at_end", "期末逾期未回访", "Visits overdue at period end", "count",
     "Callbacks still pending at the end of the period whose due time had passed (due time as it stands now).")
_fig("visits.reach_rate", "接通率", "Reach rate", "rate",
     "Of the callbacks finished in the period (reached or missed), the share reached.")
_fig("visits.satisfied_rate", "满意率", "Satisfied rate", "rate",
     "Of the visits reached in the period that gave a verdict, the share satisfied (the callbacks area's satisfaction figures).")
_fig("visits.avg_score", "平均评分", "Average score", "score", "The mean 1–5 score of the visits reached in the period that were scored.")
_brk("visits.done_by_agent", "按客服回访完成", "Visits reached by agent", "count", ("客服", "Agent"),
     "Visits reached in the period, by who made the call (else the assignee).")
_brk("visits.score_by_agent", "按客服平均评分", "Average score by agent", "score", ("客服", "Agent"),
     "The mean score of the visits reached in the period, by who made the call.")
SHEET_BLOCKS["visits"] = [("visits.done_by_agent", None), ("visits.score_by_agent", None)]
ON_TIME_FIGURES.extend(["visits.reach_rate", "visits.satisfied_rate"])


def _visits_missing() -> str | None:
    try:
        from csdesk.workflows import callbacks

        callbacks.satisfaction_stats, callbacks.STATUSES  # noqa: B018
    except (ImportError, AttributeError) as exc:
        return f"the callbacks and return visits area (issue 4) is not installed yet ({exc})"
    return None


def overdue_visits_query(w: Window, *columns):
    """Callbacks pending at the window's end and past their due time by then."""
    from sqlalchemy import or_, select

    from csdesk.models import Callback

    cb = Callback.__table__.c
    return select(*columns).where(cb.created_at < w.as_of, cb.due_at < w.as_of,
                                  or_(cb.status == "pending", cb.closed_at >= w.as_of))


def compute_visits(desk, w: Window, _done) -> AreaData:
    from sqlalchemy import and_, case, func, select

    from csdesk.models import Callback
    from csdesk.workflows.callbacks import satisfaction_stats

    session = desk.session
    cb = Callback.__table__.c
    data = AreaData()

    def count_if(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    done = cb.status == "done"
    due, on_time, late, missed = session.execute(
        select(func.count(), count_if(and_(done, cb.closed_at <= cb.due_at)), count_if(and_(done, cb.closed_at > cb.due_at)),
               count_if(cb.status == "missed"))
        .where(cb.first_due_at >= w.start, cb.first_due_at < w.end, cb.status != "cancelled")
    ).one()
    stats = satisfaction_stats(desk, "agent", w.start, w.end)
    t = stats.total
    finished = t.visits + t.missed + t.wrong_number
    data.values.update({
        "visits.due": int(due), "visits.on_time": int(on_time), "visits.late": int(late), "visits.missed": int(missed),
        "visits.overdue_at_end": session.execute(overdue_visits_query(w, func.count())).scalar_one(),
        "visits.reach_rate": rate(t.visits, finished),
        # From the counts, not the callbacks area's rounded percentages (96.0%, 4.6): to the report's own places.
        "visits.satisfied_rate": rate(t.satisfied, t.satisfied + t.unsatisfied),
        "visits.avg_score": _average_score(t),
    })
    data.items["visits.done_by_agent"] = {r.key: r.visits for r in stats.rows if r.visits}
    data.items["visits.score_by_agent"] = {r.key: _average_score(r) for r in stats.rows if r.visits}
    for r in stats.rows:
        data.labels[r.key] = (r.key, r.key)
    return data


def _average_score(row) -> Decimal | None:
    """A satisfaction row's mean score to the report's places (the row's own average is rounded to 0.1)."""
    if not row.scored:
        return None
    return (Decimal(row.score_sum) / row.scored).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


compute_visits.missing = _visits_missing


def visit_details(desk, report: Report, w: Window) -> Detail:
    """Every callback first due in the period, with its outcome."""
    from sqlalchemy import select

    from csdesk.models import Callback, Customer
    from csdesk.workflows.callbacks import OUTCOMES, PURPOSES, STATUSES

    session, tz = desk.session, desk.tz
    zh = report.lang == "zh"
    cb, cu = Callback.__table__.c, Customer.__table__.c
    names = _staff_names(session)
    columns = [("编号", "No.", "int"), ("客户编号", "Customer", "text"), ("客户", "Name", "text"), ("电话", "Phone", "text"),
               ("目的", "Purpose", "text"), ("承诺时间", "First due", "datetime"), ("当前到期", "Due", "datetime"),
               ("负责人", "Assignee", "text"), ("状态", "Status", "text"), ("尝试次数", "Tries", "int"),
               ("结果", "Outcome", "text"), ("完成时间", "Finished", "datetime"), ("按时", "On time", "text"),
               ("满意", "Satisfied", "text"), ("评分", "Score", "int"), ("回访记录", "Note", "text")]
    yes_no = {True: ("是", "yes"), False: ("否", "no")}

    def rows():
        query = (select(cb.id, cu.code, cu.name, cu.id.label("cid"), cb.phone, cb.purpose, cb.first_due_at, cb.due_at, cb.assignee_id,
                        cb.status, cb.attempts, cb.outcome, cb.closed_at, cb.satisfied, cb.score, cb.result_note)
                 .select_from(Callback.__table__.join(Customer.__table__, cu.id == cb.customer_id))
                 .where(cb.first_due_at >= w.start, cb.first_due_at < w.end, cb.status != "cancelled")
                 .order_by(cb.first_due_at, cb.id))
        batch = []

        def emit(items):
            phones_of = main_phones(session, [r.cid for r in items if not r.phone])
            for r in items:
                on_time = None
                if r.status == "done":
                    on_time = yes_no[r.closed_at <= r.due_at][0 if zh else 1]
                yield (r.id, r.code, r.name or "", _phone_shown(r.phone or phones_of.get(r.cid), report.masked),
                       PURPOSES.get(r.purpose, r.purpose) if zh else r.purpose, _naive_local(r.first_due_at, tz),
                       _naive_local(r.due_at, tz), names.get(r.assignee_id, ""), STATUSES.get(r.status, r.status) if zh else r.status,
                       r.attempts, (OUTCOMES.get(r.outcome, r.outcome) if zh else r.outcome) if r.outcome else "",
                       _naive_local(r.closed_at, tz), on_time or "",
                       yes_no[r.satisfied][0 if zh else 1] if r.satisfied is not None else "", r.score, r.result_note or "")

        for r in session.execute(query).yield_per(1000):
            batch.append(r)
            if len(batch) >= 500:
                yield from emit(batch)
                batch = []
        if batch:
            yield from emit(batch)

    return Detail("visits", columns, rows, "本期没有应回访", "No visits due in this period")


DETAILS["visits"] = visit_details


# ---- every overdue item at the end of the period ----------------------------------------------------------------


def overdue_details(desk, report: Report, w: Window) -> Detail:
    """One list of everything overdue at the end of the period: complaints past a running deadline, callbacks
    past due, adjustments past their due date, instalments unpaid past their due date."""
    from csdesk.xlsx import Typed

    session, tz = desk.session, desk.tz
    zh = report.lang == "zh"
    available = {a.key for a in report.areas if a.available}
    names = _staff_names(session)
    columns = [("类型", "Type", "text"), ("编号", "Ref", "text"), ("客户", "Customer", "text"), ("电话", "Phone", "text"),
               ("负责人", "Responsible", "text"), ("到期", "Due", "datetime"), ("逾期天数", "Days overdue", "int"),
               ("金额", "Amount", "money"), ("说明", "Details", "text")]
    day = end_day(w, tz)

    def label(z: str, e: str) -> str:
        return z if zh else e

    def customers(ids) -> dict[int, Any]:
        from sqlalchemy import select

        from csdesk.models import Customer

        cu = Customer.__table__.c
        out: dict[int, Any] = {}
        ids = list(set(ids))
        for i in range(0, len(ids), 500):
            out.update({r.id: r for r in session.execute(select(cu.id, cu.code, cu.name).where(cu.id.in_(ids[i:i + 500])))})
        return out

    def who(cid, cmap, pmap):
        c = cmap.get(cid)
        return (f"{c.code} {c.name or ''}".strip() if c else ""), _phone_shown(pmap.get(cid), report.masked)

    def rows():
        from sqlalchemy import and_, func, select

        if "complaints" in available:
            from csdesk.models import ComplaintEvent
            from csdesk.workflows.complaints import calendar, compute_sla, rules

            r, cal = rules(desk.settings), calendar(desk.settings)
            e = ComplaintEvent.__table__.c
            items = session.execute(_open_at_query(w.as_of)).all()
            cmap = customers([x.customer_id for x in items])
            pmap = main_phones(session, [x.customer_id for x in items])
            for start in range(0, len(items), 500):
                chunk = items[start:start + 500]
                events: dict[int, list] = {}
                for ev in session.execute(select(e.complaint_id, e.id, e.at, e.kind, e.from_value, e.to_value)
                                          .where(e.complaint_id.in_([x.id for x in chunk]), e.kind != "note", e.at < w.as_of)):
                    events.setdefault(ev.complaint_id, []).append(ev)
                for x in chunk:
                    sla = compute_sla(events.get(x.id, []), x.severity, w.as_of, cal, r)
                    late = [k for k in (sla.first_response, sla.current) if k.running and k.due is not None and k.due <= w.as_of]
                    if not late:
                        continue
                    k = min(late, key=lambda k: k.due)
                    what = label("投诉首次响应超时", "complaint: first response overdue") if k.name == "first_response" \
                        else label("投诉解决超时", "complaint: resolution overdue")
                    customer, phone = who(x.customer_id, cmap, pmap)
                    yield (what, f"#{x.id}", customer, phone, names.get(x.assignee_id, ""), Typed(_naive_local(k.due, tz), "datetime"),
                           (w.as_of - k.due).days, None, x.summary)
        if "visits" in available:
            from csdesk.models import Callback
            from csdesk.workflows.callbacks import PURPOSES

            cb = Callback.__table__.c
            items = session.execute(overdue_visits_query(w, cb.id, cb.customer_id, cb.phone, cb.assignee_id, cb.due_at, cb.purpose,
                                                         cb.attempts, cb.note).order_by(cb.due_at, cb.id)).all()
            cmap = customers([x.customer_id for x in items])
            pmap = main_phones(session, [x.customer_id for x in items if not x.phone])
            for x in items:
                customer, _ = who(x.customer_id, cmap, pmap)
                phone = _phone_shown(x.phone or pmap.get(x.customer_id), report.masked)
                detail = (PURPOSES.get(x.purpose, x.purpose) if zh else x.purpose) + (f" · {x.note}" if x.note else "")
                yield (label("回访逾期", "callback overdue"), f"#{x.id}", customer, phone, names.get(x.assignee_id, ""),
                       Typed(_naive_local(x.due_at, tz), "datetime"), (w.as_of - x.due_at).days, None, detail)
        if "adjustments" in available:
            from csdesk.models import Adjustment, Project

            a, pr = Adjustment.__table__.c, Project.__table__.c
            items = session.execute(overdue_adjustments_query(desk, w, a.id, a.item, a.due_on, pr.code, pr.customer_id, pr.owner_id)
                                    .order_by(a.due_on, a.id)).all()
            cmap = customers([x.customer_id for x in items])
            pmap = main_phones(session, [x.customer_id for x in items])
            for x in items:
                customer, phone = who(x.customer_id, cmap, pmap)
                yield (label("调整逾期", "adjustment overdue"), f"#{x.id} {x.code}", customer, phone, names.get(x.owner_id, ""),
                       Typed(x.due_on, "date"), (day - x.due_on).days, None, x.item)
        if "money" in available:
            from csdesk.models import Instalment, Payment, PaymentAllocation, Project
            from csdesk.money import from_fen

            i, pay, al, pr = Instalment.__table__.c, Payment.__table__.c, PaymentAllocation.__table__.c, Project.__table__.c
            # Paid as of the end of that day, the way the payments area's aging counts it.
            day_end = _local_midnight(day + timedelta(days=1), tz)
            paid = (select(al.instalment_id.label("iid"), func.sum(al.amount_fen).label("paid"))
                    .select_from(PaymentAllocation.__table__.join(Payment.__table__, pay.id == al.payment_id))
                    .where(pay.received_at < day_end).group_by(al.instalment_id).subquery())
            owed = i.amount_fen - func.coalesce(paid.c.paid, 0)
            items = session.execute(
                select(i.id, i.name, i.due_on, owed.label("owed"), pr.code, pr.customer_id, pr.owner_id)
                .select_from(Instalment.__table__.join(Project.__table__, pr.id == i.project_id).outerjoin(paid, paid.c.iid == i.id))
                .where(and_(i.due_on < day, owed > 0, pr.signed_on <= day)).order_by(i.due_on, i.id)
            ).all()
            cmap = customers([x.customer_id for x in items])
            pmap = main_phones(session, [x.customer_id for x in items])
            for x in items:
                customer, phone = who(x.customer_id, cmap, pmap)
                yield (label("款项逾期", "instalment overdue"), f"{x.code} {x.name}", customer, phone, names.get(x.owner_id, ""),
                       Typed(x.due_on, "date"), (day - x.due_on).days, from_fen(int(x.owed)), x.name)

    return Detail("overdue", columns, rows, "期末没有逾期事项", "Nothing overdue at the end of the period")


# ---- per agent ----------------------------------------------------------------------------------------------

# The per-agent table: one row per person, these breakdowns side by side (each with its previous value).
AGENT_COLUMNS = [
    ("calls.by_agent", "通话", "Calls"),
    ("complaints.owned_by_agent", "负责投诉", "Complaints owned"),
    ("complaints.resolved_by_agent", "已解决", "Resolved"),
    ("complaints.on_time_by_agent", "解决按时率", "Resolution on time"),
    ("visits.done_by_agent", "回访完成", "Visits reached"),
    ("visits.score_by_agent", "平均评分", "Average score"),
]


def agent_table(report: Report) -> tuple[list[tuple[str, str, str]], list[tuple]]:
    """Columns (中文, English, kind) and rows of the per-agent table, from the areas' agent breakdowns."""
    present = [(k, z, e) for k, z, e in AGENT_COLUMNS if any(b.key == k for b in report.breakdowns)]
    columns = [("客服", "Agent", "text")]
    values: dict[str, dict[str, tuple[Any, Any]]] = {}
    for key, z, e in present:
        b = report.breakdown(key)
        kind = UNIT_KIND[b.unit]
        columns += [(z, e, kind), (f"{z}(上期)", f"{e} (prev.)", kind)]
        for r in b.rows:
            values.setdefault(r.label, {})[key] = (r.value, r.previous)
    names = sorted(values, key=lambda n: (-(values[n].get("calls.by_agent", (0, 0))[0] or 0), n))
    rows = []
    for name in names:
        if name == "—" and not any(v[0] for v in values[name].values()):
            continue
        row: list[Any] = [name]
        for key, _z, _e in present:
            empty = (0, 0) if report.breakdown(key).unit == "count" else (None, None)
            row += list(values[name].get(key, empty))
        rows.append(tuple(row))
    return columns, rows


# ---- adjustments ----------------------------------------------------------------------------------------------

_fig("adjustments.opened", "新增调整", "Adjustments opened", "count", "Adjustments (调整/整改) added in the period.")
_fig("adjustments.done", "已完成", "Adjustments done", "count", "Adjustments marked done in the period (each adjustment once, however often it was redone).")
_fig("adjustments.accepted", "客户验收", "Adjustments accepted", "count", "Adjustments the customer accepted (验收) in the period.")
_fig("adjustments.rejected", "客户驳回", "Adjustments rejected", "count", "Adjustments the customer rejected in the period (open again).")
_fig("adjustments.overdue_at_end", "期末逾期调整", "Adjustments overdue at period end", "count",
     "Adjustments open or rejected on the period's last day (today for a period still running) whose due date was before that day, on projects not shelved or archived.")
_brk("adjustments.by_responsible", "按责任方", "Adjustments by responsible party", "count", ("责任方", "Responsible"),
     "Adjustments added in the period by the party responsible for the work.")
SHEET_BLOCKS["adjustments"] = [("adjustments.by_responsible", None)]


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


def _adjustment_state_at(at: datetime):
    """The last status-changing audit action of each adjustment before `at` (a correlated subquery)."""
    from sqlalchemy import select

    from csdesk.models import Adjustment, AuditEntry

    a, au = Adjustment.__table__.c, AuditEntry.__table__.c
    return (
        select(au.action).where(au.entity == "adjustment", au.entity_id == a.id,
                                au.action.in_(("adjustment.add", "adjustment.done", "adjustment.accept", "adjustment.reject")),
                                au.at < at)
        .order_by(au.at.desc(), au.id.desc()).limit(1).scalar_subquery()
    )


def overdue_adjustments_query(desk, w: Window, *columns):
    """Adjustments overdue at the window's end, by the projects area's rule (open or rejected, due before
    the day, project active), with their state at that moment taken from the audit trail."""
    from sqlalchemy import or_, select

    from csdesk.models import Adjustment, Project
    from csdesk.workflows.payments import INACTIVE_STAGES
    from csdesk.workflows.projects import OPEN_ADJUSTMENT

    a, pr = Adjustment.__table__.c, Project.__table__.c
    day = end_day(w, desk.tz)
    return (
        select(*columns).select_from(Adjustment.__table__.join(Project.__table__, pr.id == a.project_id))
        .where(a.created_at < w.as_of, a.due_on < day, pr.stage.not_in(INACTIVE_STAGES),
               or_(a.status.in_(OPEN_ADJUSTMENT), a.done_at >= w.as_of, a.verdict_at >= w.as_of),
               _adjustment_state_at(w.as_of).in_(("adjustment.add", "adjustment.reject")))
    )


def compute_adjustments(desk, w: Window, _done) -> AreaData:
    from sqlalchemy import and_, func, select

    from csdesk.models import Adjustment, AuditEntry
    from csdesk.workflows.projects import RESPONSIBLE_LABELS

    session = desk.session
    a, au = Adjustment.__table__.c, AuditEntry.__table__.c
    data = AreaData()
    by_responsible = {k: 0 for k in RESPONSIBLE_LABELS}
    for responsible, count in session.execute(
        select(a.responsible, func.count()).where(a.created_at >= w.start, a.created_at < w.end).group_by(a.responsible)
    ):
        by_responsible[responsible] = by_responsible.get(responsible, 0) + count
    actions = dict(session.execute(
        select(au.action, func.count(func.distinct(au.entity_id)))
        .where(and_(au.entity == "adjustment", au.at >= w.start, au.at < w.end,
                    au.action.in_(("adjustment.done", "adjustment.accept", "adjustment.reject"))))
        .group_by(au.action)
    ).all())
    data.values.update({
        "adjustments.opened": sum(by_responsible.values()),
        "adjustments.done": actions.get("adjustment.done", 0),
        "adjustments.accepted": actions.get("adjustment.accept", 0),
        "adjustments.rejected": actions.get("adjustment.reject", 0),
        "adjustments.overdue_at_end": session.execute(overdue_adjustments_query(desk, w, func.count())).scalar_one(),
    })
    data.items["adjustments.by_responsible"] = by_responsible
    for key, label in RESPONSIBLE_LABELS.items():
        data.labels[key] = (label, key)
    return data


compute_adjustments.missing = _projects_missing


def adjustment_details(desk, report: Report, w: Window) -> Detail:
    """Every adjustment added in the period or overdue at its end."""
    from sqlalchemy import or_, select

    from csdesk.models import Adjustment, Customer, Project
    from csdesk.workflows.projects import ADJUSTMENT_STATUSES, RESPONSIBLE_LABELS

    session, tz = desk.session, desk.tz
    zh = report.lang == "zh"
    a, pr, cu = Adjustment.__table__.c, Project.__table__.c, Customer.__table__.c
    names = _staff_names(session)
    day = end_day(w, tz)
    overdue_ids = select(overdue_adjustments_query(desk, w, a.id).subquery().c[0])
    columns = [("编号", "No.", "int"), ("项目", "Project", "text"), ("客户", "Customer", "text"), ("电话", "Phone", "text"),
               ("负责人", "Owner", "text"), ("事项", "Item", "text"), ("责任方", "Responsible", "text"),
               ("登记日期", "Reported", "date"), ("到期日", "Due", "date"), ("完成时间", "Done", "datetime"),
               ("验收/驳回时间", "Verdict", "datetime"), ("驳回次数", "Rejections", "int"), ("当前状态", "Status now", "text"),
               ("期末逾期天数", "Days overdue at end", "int"), ("保修期内", "In warranty", "text")]

    def rows():
        overdue = {row[0] for row in session.execute(overdue_ids)}
        query = (select(a.id, pr.code, pr.owner_id, cu.id.label("cid"), cu.name, a.item, a.responsible, a.reported_on, a.due_on,
                        a.done_at, a.verdict_at, a.rejections, a.status, a.in_warranty)
                 .select_from(Adjustment.__table__.join(Project.__table__, pr.id == a.project_id).join(Customer.__table__, cu.id == pr.customer_id))
                 .where(or_(and_created(a, w), a.id.in_(overdue_ids))).order_by(a.reported_on, a.id))
        result = session.execute(query).all()
        phones_of = main_phones(session, [r.cid for r in result])
        for r in result:
            late = (day - r.due_on).days if r.id in overdue else None
            yield (r.id, r.code, r.name or "", _phone_shown(phones_of.get(r.cid), report.masked), names.get(r.owner_id, ""),
                   r.item, RESPONSIBLE_LABELS.get(r.responsible, r.responsible) if zh else r.responsible, r.reported_on, r.due_on,
                   _naive_local(r.done_at, tz), _naive_local(r.verdict_at, tz), r.rejections,
                   ADJUSTMENT_STATUSES.get(r.status, r.status) if zh else r.status, late,
                   ("是" if r.in_warranty else "否") if zh else ("yes" if r.in_warranty else "no"))

    return Detail("adjustments", columns, rows, "本期没有新增或逾期的调整", "No adjustments added or overdue in this period")


def and_created(a, w: Window):
    from sqlalchemy import and_

    return and_(a.created_at >= w.start, a.created_at < w.end)


DETAILS["adjustments"] = adjustment_details


# ---- money ----------------------------------------------------------------------------------------------------

_fig("money.due_count", "到期款项笔数", "Instalments falling due", "count", "Instalments whose due date is a day of the period.")
_fig("money.due_amount", "到期金额", "Amount falling due", "money", "The amounts of the instalments whose due date is a day of the period.")
_fig("money.collected", "实收金额", "Collected", "money",
     "Money received in the period, net: payments minus reversals recorded for a time in the period.")
_fig("money.collection_rate", "回款率", "Collection rate", "rate",
     "Of the amount falling due in the period, the share paid (payments net of reversals allocated to those instalments) by the end of the period.")
_fig("money.outstanding_at_end", "期末未收金额", "Outstanding at period end", "money",
     "Everything planned and still unpaid at the end of the period's last day (today for a period still running), due or not: the payments area's aging total.")
_fig("money.overdue_at_end", "期末逾期金额", "Overdue amount at period end", "money",
     "Of that, what was past its due date (the payments area's aging: due before the last day).")
_fig("money.dunning_steps", "催收动作", "Dunning steps taken", "count", "Dunning steps (提醒, 电话催收, 催款函, 律师函) recorded for a time in the period.")
_brk("money.aging", "账龄", "Aging at period end", "money", ("账龄", "Days overdue"),
     "Overdue amounts at the end of the period by days past due: 0–30 (1 to 30 days), 31–60, 61–90, 90+; from the payments area's aging.")
_brk("money.dunning_by_step", "催收动作按步骤", "Dunning steps by step", "count", ("步骤", "Step"), "Dunning steps recorded in the period, by step.")
SHEET_BLOCKS["money"] = [("money.aging", None), ("money.dunning_by_step", None)]
AREA_CHARTS["money"] = [("money.aging", "bar", "账龄分布", "Aging", [1, 2], False)]
AGING_BUCKETS = [("days_0_30", "0-30", "0–30天"), ("days_31_60", "31-60", "31–60天"), ("days_61_90", "61-90", "61–90天"),
                 ("days_90_plus", "90+", "90天以上")]


def compute_money(desk, w: Window, _done) -> AreaData:
    from sqlalchemy import and_, func, select

    from csdesk.models import CollectionStep, Instalment, Payment, PaymentAllocation
    from csdesk.money import from_fen
    from csdesk.workflows.payments import STEPS, aging

    session = desk.session
    i, pay, al, cs = Instalment.__table__.c, Payment.__table__.c, PaymentAllocation.__table__.c, CollectionStep.__table__.c
    data = AreaData()
    due_in = and_(i.due_on >= w.period.first, i.due_on <= w.period.last)
    due_count, due_fen = session.execute(select(func.count(), func.coalesce(func.sum(i.amount_fen), 0)).where(due_in)).one()
    collected = session.execute(
        select(func.coalesce(func.sum(pay.amount_fen), 0)).where(pay.received_at >= w.start, pay.received_at < w.end)
    ).scalar_one()
    paid_of_due = session.execute(
        select(func.coalesce(func.sum(al.amount_fen), 0))
        .select_from(PaymentAllocation.__table__.join(Payment.__table__, pay.id == al.payment_id).join(Instalment.__table__, i.id == al.instalment_id))
        .where(due_in, pay.received_at < w.as_of)
    ).scalar_one()
    steps = {k: 0 for k in STEPS}
    for step, count in session.execute(select(cs.step, func.count()).where(cs.at >= w.start, cs.at < w.end).group_by(cs.step)):
        steps[step] = steps.get(step, 0) + count
    total = aging(desk, as_of=end_day(w, desk.tz)).total
    data.values.update({
        "money.due_count": due_count,
        "money.due_amount": from_fen(int(due_fen)),
        "money.collected": from_fen(int(collected)),
        "money.collection_rate": rate(int(paid_of_due), int(due_fen)),
        "money.outstanding_at_end": total.outstanding,
        "money.overdue_at_end": total.overdue,
        "money.dunning_steps": sum(steps.values()),
    })
    data.items["money.aging"] = {label: getattr(total, attr) for attr, label, _ in AGING_BUCKETS}
    data.items["money.dunning_by_step"] = steps
    for _attr, label, zh_label in AGING_BUCKETS:
        data.labels[label] = (zh_label, label)
    for key, label in STEPS.items():
        data.labels[key] = (label, key)
    return data


compute_money.missing = _projects_missing


def money_details(desk, report: Report, w: Window) -> Detail:
    """Receivables by project at the end of the period: the payments area's aging, one row per project."""
    from sqlalchemy import select

    from csdesk.models import Customer, Project
    from csdesk.workflows.payments import aging
    from csdesk.workflows.projects import STAGES

    session = desk.session
    zh = report.lang == "zh"
    pr, cu = Project.__table__.c, Customer.__table__.c
    names = _staff_names(session)
    columns = [("项目编号", "Project", "text"), ("项目", "Name", "text"), ("客户", "Customer", "text"), ("电话", "Phone", "text"),
               ("负责人", "Owner", "text"), ("阶段", "Stage", "text"), ("合同额", "Contract", "money"),
               ("未到期", "Not due", "money"), ("0-30天", "0-30 days", "money"), ("31-60天", "31-60 days", "money"),
               ("61-90天", "61-90 days", "money"), ("90天以上", "90+ days", "money"), ("逾期合计", "Overdue", "money"),
               ("未收合计", "Outstanding", "money")]

    def rows():
        from csdesk.money import from_fen

        result = aging(desk, as_of=end_day(w, desk.tz), by="project", limit=10**9).rows
        for start in range(0, len(result), 500):
            chunk = result[start:start + 500]
            info = {r.code: r for r in session.execute(
                select(pr.code, pr.name, pr.stage, pr.owner_id, pr.contract_fen, cu.id.label("cid"), cu.name.label("customer"))
                .select_from(Project.__table__.join(Customer.__table__, cu.id == pr.customer_id))
                .where(pr.code.in_([r.key for r in chunk])))}
            phones_of = main_phones(session, [x.cid for x in info.values()])
            for r in chunk:
                p = info.get(r.key)
                yield (r.key, r.label, (p.customer or "") if p else "", _phone_shown(phones_of.get(p.cid), report.masked) if p else "",
                       names.get(p.owner_id, "") if p else "", (STAGES.get(p.stage, p.stage) if zh else p.stage) if p else "",
                       from_fen(p.contract_fen) if p else None, r.not_due, r.days_0_30, r.days_31_60, r.days_61_90,
                       r.days_90_plus, r.overdue, r.outstanding)

    return Detail("money", columns, rows, "期末没有未收款项", "Nothing outstanding at the end of the period")


DETAILS["money"] = money_details


# Areas in report order: (key, compute(desk, window, computed_so_far) -> AreaData). An area whose tables or
# rules have not landed says so through compute.missing() -> reason, and its sheet says it honestly.
AREA_COMPUTATIONS: list[tuple[str, Callable]] = [
    ("calls", compute_calls),
    ("complaints", compute_complaints),
    ("visits", compute_visits),
    ("adjustments", compute_adjustments),
    ("money", compute_money),
]


# ---- detail rows (streamed into the workbook) ----------------------------------------------------------------


@dataclass
class Detail:
    """Rows for an area's sheet, read from the database while the workbook is written."""

    area: str
    columns: list[tuple[str, str, str]]  # (中文, English, kind)
    rows: Callable[[], Iterator[tuple]]
    empty_zh: str = "本期没有记录"
    empty_en: str = "Nothing in this period"


def _phone_shown(number: str | None, masked: bool) -> str:
    from csdesk import phones

    if not number:
        return ""
    return phones.mask(number) if masked else phones.display(number).replace(" ", "")


def _naive_local(t: datetime | None, tz) -> datetime | None:
    """Excel has no time zones: times go in as local wall-clock time."""
    return t.astimezone(tz).replace(tzinfo=None) if t is not None else None


def main_phones(session, customer_ids) -> dict[int, str]:
    """Each customer's main number (position 0, else the lowest)."""
    from sqlalchemy import select

    from csdesk.models import CustomerPhone

    out: dict[int, str] = {}
    ids = list(set(customer_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for cid, number in session.execute(
            select(CustomerPhone.customer_id, CustomerPhone.number).where(CustomerPhone.customer_id.in_(chunk))
            .order_by(CustomerPhone.customer_id, CustomerPhone.position.desc(), CustomerPhone.id.desc())
        ):
            out[cid] = number  # the last one written wins: position 0, lowest id
    return out




# ---- rendering helpers ----------------------------------------------------------------------------------------

UNIT_KIND = {"count": "count", "rate": "rate", "hours": "hours", "money": "money", "score": "score"}


def fmt_value(unit: str, value: Any) -> str:
    if value is None:
        return "—"
    if unit == "rate":
        return f"{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
    if unit == "money":
        from csdesk.money import fmt_money

        return fmt_money(value)
    if unit == "hours":
        return f"{Decimal(value).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)}"
    if unit == "score":
        return f"{Decimal(value).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)}"
    return f"{value:,}"


def fmt_change(unit: str, value: Any) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else ""
    if unit == "rate":
        return f"{sign}{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}pp"
    if unit == "money":
        from csdesk.money import fmt_money

        return fmt_money(value, sign=True)
    return sign + fmt_value(unit, value)


def change_ratio(unit: str, value: Any, previous: Any) -> Decimal | None:
    """Relative change for counts and money (rates and averages change in points, shown as `change`)."""
    if unit not in ("count", "money") or value is None or not previous:
        return None
    return ((Decimal(value) - Decimal(previous)) / Decimal(previous)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


T = {  # column headings and fixed words, (中文, English)
    "area": ("区域", "Area"), "figure": ("指标", "Figure"), "current": ("本期", "This period"),
    "previous": ("上期", "Previous"), "change": ("变化", "Change"), "change_rate": ("变化率", "Change %"),
    "definition": ("定义", "Definition"), "summary": ("汇总", "Summary"), "period": ("本期", "Period"),
    "generated": ("生成时间", "Generated"), "masked": ("客户电话已脱敏", "Customer phone numbers are masked"),
    "unmasked": ("客户电话未脱敏（仅限经理及以上）", "Customer phone numbers in full (manager or above only)"),
    "not_available": ("暂无数据", "not available"), "previous_date": ("上期日期", "Previous date"),
    "to_date": ("截至", "to"), "tz": ("时区", "Time zone"),
}


def _t(key: str, zh: bool) -> str:
    return T[key][0 if zh else 1]


# ---- terminal ------------------------------------------------------------------------------------------------


def render_terminal(report: Report, console) -> None:
    """The report as rich tables: per area its figures (this period, previous, change), then its breakdowns."""
    from rich import box
    from rich.table import Table

    zh = report.lang == "zh"
    console.print(f"[bold]{report.title}[/bold]")
    console.print(f"{_t('period', zh)}: {report.period.first} ~ {report.period.last}    "
                  f"{_t('previous', zh)}: {report.previous.name} ({report.previous.first} ~ {report.previous.last})",
                  markup=False)
    for area in report.areas:
        console.print()
        if not area.available:
            console.print(f"[bold]{area.label}[/bold]: {_t('not_available', zh)} — {area.note}")
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
        title = AREAS["agents"][0 if zh else 1] + (" (本期 / 上期)" if zh else " (this period / previous)")
        at = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, title_style="bold")
        at.add_column(cols[0][0 if zh else 1], no_wrap=True, min_width=4)
        for z, e, _kind in cols[1::2]:
            at.add_column(z if zh else e, justify="right", no_wrap=True)
        for row in rows:
            cells = [f"{fmt_value(cols[j][2], row[j])} / {fmt_value(cols[j][2], row[j + 1])}" for j in range(1, len(row), 2)]
            at.add_row(row[0], *cells)
        console.print(at)


# ---- json ----------------------------------------------------------------------------------------------------


def report_json(report: Report) -> dict[str, Any]:
    """The same figures for scripts: every figure with its previous value and change, every breakdown."""
    def period(p: PeriodInfo) -> dict[str, Any]:
        return {"name": p.name, "label": p.label, "first_day": p.first, "last_day": p.last, "start": p.start, "end": p.end}

    return {
        "report": report.kind,
        "title": report.title,
        "period": period(report.period),
        "previous": period(report.previous),
        "as_of": report.as_of,
        "to_date": report.to_date,
        "generated_at": report.generated_at,
        "areas": [{"area": a.key, "label": a.label, "available": a.available, "note": a.note or None} for a in report.areas],
        "figures": {
            f.key: {"label": f.label, "unit": f.unit, "value": f.value, "previous": f.previous, "change": f.change,
                    "definition": FIGURES[f.key].definition}
            for f in report.figures
        },
        "agents": _agents_json(report),
        "breakdowns": {
            b.key: {"label": b.label, "unit": b.unit, "definition": BREAKDOWNS[b.key].definition,
                    "rows": [{"item": r.item, "label": r.label, "value": r.value, "previous": r.previous, "change": r.change,
                              **({"previous_item": r.previous_item} if r.previous_item is not None else {})}
                             for r in b.rows]}
            for b in report.breakdowns
        },
    }


def _agents_json(report: Report) -> list[dict[str, Any]]:
    cols, rows = agent_table(report)
    keys = [k for k, _z, _e in AGENT_COLUMNS if any(b.key == k for b in report.breakdowns)]
    return [{"agent": row[0], **{k: {"value": row[1 + 2 * i], "previous": row[2 + 2 * i]} for i, k in enumerate(keys)}}
            for row in rows]


# ---- xlsx ----------------------------------------------------------------------------------------------------



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


def collect_details(desk, report: Report) -> dict[str, Detail]:
    """The detail-row sources of every available area (their rows are read only when written)."""
    p = period_of(report.kind, report.period.first, desk.tz)
    w = Window(p, report.as_of)
    out = {}
    for a in report.areas:
        if a.available and a.key in DETAILS:
            out[a.key] = DETAILS[a.key](desk, report, w)
    out["overdue"] = overdue_details(desk, report, w)
    return out


def write_xlsx(desk, report: Report, target) -> int:
    """Write the workbook to `target` (a path or a binary file object); returns the number of sheets.

    Must run inside the read transaction that built `report`: detail rows are streamed from it.
    """
    from csdesk.xlsx import write_workbook

    return write_workbook(workbook_sheets(report, collect_details(desk, report)), target)


# ---- the demo's workbook ---------------------------------------------------------------------------------------


def demo_workbook(database, settings, now: datetime) -> list[str]:
    """`csdesk demo` ends here: the monthly workbook (this month to date, or last month early in a month)
    written next to the database, and a line saying where it is."""
    from pathlib import Path

    from csdesk.workflows import Desk

    tz = settings.tz
    today = now.astimezone(tz).date()
    period = period_of("monthly", today, tz) if today.day >= 8 else last_complete_period("monthly", tz, now)
    folder = database.target.path.parent if database.target.path is not None else Path.cwd()
    stem = database.target.path.stem if database.target.path is not None else "csdesk-demo"
    target = folder / f"{stem}-report-{period.name}.xlsx"

    def work(session):
        desk = Desk(session=session, settings=settings, now=now, actor=None)
        report = build_report(desk, "monthly", period)
        write_xlsx(desk, report, target)
        return report

    report = database.read(work)
    return ["", f"Monthly report {report.title}: {target}",
            f"  (again: csdesk --db {database.target.label} report monthly --period {period.name} --xlsx FILE.xlsx)"]
