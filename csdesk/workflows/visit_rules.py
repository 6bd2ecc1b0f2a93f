"""The arithmetic of return visits, with no database: deadlines, retries and repeating series.

- `deadline(cal, start, "1 business day")`: when a rule's visit is due. Business spans count working
  time only (1 business day = one working day's hours, so resolved Tue 15:00 → due Wed 15:00);
  calendar spans ("3 days") are moved back to the last working moment before they run out, so a
  visit "within 3 days" of a Thursday is due Friday evening, not Monday.
- `retry_due(cal, at, delay)`: after an unanswered try, the next business slot `delay` later.
- Series are RFC 5545 rules expanded by dateutil's rrule in local wall-clock time. `month_end_safe`
  makes a monthly/yearly rule that starts on the 29th–31st land on the last day of shorter months
  (31 Jan → 28 Feb → 31 Mar → 30 Apr) instead of skipping them, as RFC 5545 would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from csdesk.errors import InvalidValue
from csdesk.i18n import _

UTC = timezone.utc
RULES = ("complaint", "handover", "acceptance", "warranty", "key", "vip", "owner")
PERIODIC_RULES = ("key", "vip", "owner")
MAX_SERIES = 100  # visits one hand-made series may create at once

_BUSINESS = re.compile(r"(\d+)\s*(?:business|working|工作)\s*(days?|hours?|h|天|小时)", re.I)


def calendar(settings):
    """The configured BusinessCalendar (a bad [business] section is refused by name)."""
    from csdesk.businesstime import BusinessCalendar

    try:
        return BusinessCalendar(settings["timezone"], settings["business"])
    except ValueError as exc:
        raise InvalidValue(f"config: {exc}") from None


def business_day_length(settings) -> timedelta:
    """The working time of a normal working day (the first weekday that has windows): 7h30m by default."""
    for key in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        total = 0
        for window in settings["business"][key]:
            m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", window)
            if m:
                h1, m1, h2, m2 = map(int, m.groups())
                total += (h2 * 60 + m2) - (h1 * 60 + m1)
        if total > 0:
            return timedelta(minutes=total)
    raise InvalidValue("config: business hours have no working window on any weekday")


@dataclass(frozen=True)
class Within:
    """A rule's allowance: business time (a timedelta of working time) or a calendar span."""

    text: str
    business: timedelta | None = None
    span: Any = None  # relativedelta


def parse_within(text: str, day_length: timedelta) -> Within:
    """`1 business day`, `2 business days`, `4 business hours`, or a calendar span (`3 days`, `1w`)."""
    raw = (text or "").strip()
    m = _BUSINESS.fullmatch(raw)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        if n <= 0 or n > 365:
            raise InvalidValue(_("{value!r}: the number must be between 1 and 365").format(value=raw))
        per = day_length if unit.startswith("day") or unit == "天" else timedelta(hours=1)
        return Within(raw, business=n * per)
    from csdesk import dates

    try:
        return Within(raw, span=dates.parse_span(raw))
    except InvalidValue:
        raise InvalidValue(_("{value!r} is not an allowance (try 1 business day, 4 business hours, 3 days)").format(value=raw)) from None


def next_business_moment(cal, t: datetime) -> datetime:
    """`t` if the desk is working then, else the start of the next working window."""
    second = timedelta(seconds=1)
    return cal.add(t, second) - second


def last_business_moment(cal, t: datetime, not_before: datetime) -> datetime | None:
    """The latest working moment at or before `t` and not before `not_before`, or None."""
    tz = cal.zone
    day = t.astimezone(tz).date()
    floor = not_before.astimezone(tz).date()
    while day >= floor:
        for w in reversed(cal.windows(day)):
            if w.start <= t:
                moment = min(w.end, t).astimezone(UTC)
                return moment if moment >= not_before else None
        day -= timedelta(days=1)
    return None


def deadline(cal, start: datetime, within: Within) -> datetime:
    """When a visit promised `within` of `start` is due (UTC)."""
    if within.business is not None:
        return cal.add(start, within.business)
    local = start.astimezone(cal.zone)
    end = (local + within.span).astimezone(UTC)
    back = last_business_moment(cal, end, start)
    return back if back is not None else next_business_moment(cal, end)


def retry_due(cal, at: datetime, delay: timedelta) -> datetime:
    """The next try after an unanswered one at `at`: `delay` of business time later."""
    return cal.add(at, delay)


def workday_on_or_after(cal, day: date) -> date:
    for _ in range(3 * 366):
        if cal.is_workday(day):
            return day
        day += timedelta(days=1)
    raise InvalidValue("config: the business calendar has no working day within three years")


# ---- repeating series ---------------------------------------------------------------------------

_FREQ_OF_SPAN = (("years", "YEARLY"), ("months", "MONTHLY"))


def every_to_rrule(span_text: str) -> str:
    """`3 months` → `FREQ=MONTHLY;INTERVAL=3`; `2w` → weekly; `90d` → daily; `1y` → yearly."""
    from csdesk import dates

    span = dates.parse_span(span_text)
    if span.years and not span.months and not span.days:
        return f"FREQ=YEARLY;INTERVAL={span.years}"
    if (span.years or span.months) and not span.days:
        return f"FREQ=MONTHLY;INTERVAL={span.years * 12 + span.months}"
    if span.days and not (span.years or span.months):
        if span.days % 7 == 0:
            return f"FREQ=WEEKLY;INTERVAL={span.days // 7}"
        return f"FREQ=DAILY;INTERVAL={span.days}"
    raise InvalidValue(_("{value!r} is not a span a series can repeat by").format(value=span_text))


def _parts(rule: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in rule.strip().rstrip(";").split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise InvalidValue(_("RRULE part {value!r} is not NAME=VALUE").format(value=part))
        name, value = part.split("=", 1)
        out[name.strip().upper()] = value.strip().upper()
    return out


def _join(parts: dict[str, str]) -> str:
    return ";".join(f"{k}={v}" for k, v in parts.items())


def month_end_safe(rule: str, start: date) -> str:
    """Make a MONTHLY/YEARLY rule that starts on day 29–31 keep to the month's end in shorter months.

    RFC 5545 skips a month that has no such day; people expect the last day instead. Day 31 becomes
    BYMONTHDAY=-1 (the last day); day 29/30 becomes "the last of 28..day" (BYSETPOS=-1). A rule that
    already says which days (BYMONTHDAY, BYDAY, BYSETPOS, BYYEARDAY, BYWEEKNO) is left alone.
    """
    parts = _parts(rule)
    freq = parts.get("FREQ")
    if freq not in ("MONTHLY", "YEARLY") or start.day < 29:
        return _join(parts)
    if any(k in parts for k in ("BYMONTHDAY", "BYDAY", "BYSETPOS", "BYYEARDAY", "BYWEEKNO")):
        return _join(parts)
    if freq == "YEARLY":
        parts.setdefault("BYMONTH", str(start.month))
    if start.day == 31:
        parts["BYMONTHDAY"] = "-1"
    else:
        parts["BYMONTHDAY"] = ",".join(str(d) for d in range(28, start.day + 1))
        parts["BYSETPOS"] = "-1"
    return _join(parts)


def check_rrule(rule: str, start: datetime, tz) -> str:
    """Validate an RRULE body (no DTSTART: the series start is the first due time)."""
    from dateutil.rrule import rrulestr

    text = (rule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "DTSTART" in text.upper() or "\n" in text:
        raise InvalidValue(_("{value!r} is not an RRULE body (e.g. FREQ=MONTHLY;INTERVAL=3;COUNT=3)").format(value=rule))
    parts = _parts(text)
    if parts.get("FREQ") not in ("YEARLY", "MONTHLY", "WEEKLY", "DAILY"):
        raise InvalidValue(_("{value!r}: FREQ must be YEARLY, MONTHLY, WEEKLY or DAILY").format(value=rule))
    # dateutil accepts impossible days (BYMONTHDAY=40) and then searches to the year 9999 for them.
    ranges = {"BYMONTHDAY": 31, "BYMONTH": 12, "BYYEARDAY": 366, "BYWEEKNO": 53, "BYSETPOS": 366, "INTERVAL": 1000}
    for name, top in ranges.items():
        for value in filter(None, parts.get(name, "").split(",")):
            try:
                number = int(value)
            except ValueError:
                raise InvalidValue(_("{rule!r} is not a valid RRULE: {part}").format(rule=rule, part=f"{name}={value}")) from None
            if number == 0 or abs(number) > top or (name in ("BYMONTH", "INTERVAL") and number < 0):
                raise InvalidValue(_("{rule!r} is not a valid RRULE: {part} is out of range").format(rule=rule, part=f"{name}={value}"))
    local = start.astimezone(tz).replace(tzinfo=None)
    try:
        rrulestr(_join(parts), dtstart=local)
    except (ValueError, TypeError) as exc:
        raise InvalidValue(_("{rule!r} is not a valid RRULE: {part}").format(rule=rule, part=exc)) from None
    return _join(parts)


def occurrences(
    rule: str, start: datetime, tz, limit: int | None = None, after_seq: int = 0, skip_first: bool = False,
) -> list[tuple[int, datetime]]:
    """(seq, due in UTC) of a series' visits, numbered from 1, after `after_seq`, at most `limit`.

    Expanded in local wall-clock time from `start` (DTSTART), so a 10:00 visit stays at 10:00 across
    daylight-saving changes. With `skip_first` the first occurrence is the series' anchor (the day of
    handover or acceptance) and not a visit: visits are counted from the occurrence after it.
    """
    from dateutil.rrule import rrulestr

    local = start.astimezone(tz).replace(tzinfo=None)
    rr = rrulestr(rule, dtstart=local)
    out = []
    for index, when in enumerate(rr, start=1):
        seq = index - 1 if skip_first else index
        if seq <= after_seq:
            continue
        out.append((seq, when.replace(tzinfo=tz).astimezone(UTC)))
        if limit is not None and len(out) >= limit:
            break
    return out


def is_finite(rule: str) -> bool:
    parts = _parts(rule)
    return "COUNT" in parts or "UNTIL" in parts


def with_end(rule: str, count: int | None = None, until: date | None = None) -> str:
    parts = _parts(rule)
    if count is not None:
        if count < 1 or count > MAX_SERIES:
            raise InvalidValue(_("--count must be between 1 and {max}").format(max=MAX_SERIES))
        parts["COUNT"] = str(count)
    if until is not None:
        parts["UNTIL"] = f"{until:%Y%m%d}T235959"
    return _join(parts)


def warranty_rule(every: str, start: date, warranty_end: date, at_least: int) -> tuple[str, int]:
    """The warranty series, anchored on the day the warranty starts (occurrence 1, not a visit): a
    visit every `every` from then while within the warranty, and at least `at_least` visits.
    Returns (rrule with COUNT, counting the anchor; the number of visits)."""
    from csdesk import dates

    span = dates.parse_span(every)
    n = 0
    while n < 400 and start + span * (n + 1) <= warranty_end:
        n += 1
    visits = max(n, at_least)
    if visits == 0:
        return "", 0
    parts = _parts(month_end_safe(every_to_rrule(every), start))
    parts["COUNT"] = str(visits + 1)
    return _join(parts), visits


def first_visit_day(customer_id: int, today: date, every: str) -> date:
    """The first periodic visit of a customer a rule has just picked up: within the first interval,
    spread by customer id, so that a large import does not put every customer on the same day."""
    from csdesk import dates

    days = max(1, ((today + dates.parse_span(every)) - today).days)
    return today + timedelta(days=1 + customer_id % days)


# ---- settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitRules:
    """The [visit_rules] and [callbacks] settings, checked once."""

    enabled: dict[str, bool]
    within: dict[str, Within]
    every: dict[str, str]
    at_least: int
    retry_delay: timedelta
    max_attempts: int
    default_time: time

    def on(self, rule: str) -> bool:
        return self.enabled.get(rule, False)


def load_rules(settings) -> VisitRules:
    from csdesk import dates

    cfg = settings["visit_rules"]
    day = business_day_length(settings)
    enabled = {r: bool(cfg[r]["enabled"]) for r in RULES}
    within = {}
    for r in ("complaint", "handover", "acceptance"):
        try:
            within[r] = parse_within(cfg[r]["within"], day)
        except InvalidValue as exc:
            raise InvalidValue(f"config: visit_rules.{r}.within: {exc.message}") from None
    every = {}
    for r in ("warranty", "key", "vip", "owner"):
        text = cfg[r]["every"]
        try:
            every_to_rrule(text)
        except InvalidValue as exc:
            raise InvalidValue(f"config: visit_rules.{r}.every: {exc.message}") from None
        every[r] = text
    at_least = cfg["warranty"]["at_least"]
    if not isinstance(at_least, int) or not 0 <= at_least <= 100:
        raise InvalidValue("config: visit_rules.warranty.at_least must be a whole number 0–100")
    cb = settings["callbacks"]
    try:
        delay = dates.parse_duration(cb["retry_delay"])
    except InvalidValue as exc:
        raise InvalidValue(f"config: callbacks.retry_delay: {exc.message}") from None
    if not isinstance(cb["max_attempts"], int) or not 1 <= cb["max_attempts"] <= 20:
        raise InvalidValue("config: callbacks.max_attempts must be a whole number 1–20")
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(cb["default_time"]).strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise InvalidValue(f"config: callbacks.default_time {cb['default_time']!r} is not HH:MM")
    return VisitRules(enabled, within, every, at_least, delay, cb["max_attempts"], time(int(m.group(1)), int(m.group(2))))
