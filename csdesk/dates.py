"""Human dates and durations: the one place that parses them.

Everything returned is timezone-aware. Wall-clock words (`today 14:30`, `fri`, `2026-11-24`) are read
in the configured zone; the result is converted to UTC for storage.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csdesk.errors import InvalidValue
from csdesk.i18n import _

UTC = timezone.utc

_WEEKDAYS = {
    "mon": 0, "monday": 0, "周一": 0, "星期一": 0,
    "tue": 1, "tues": 1, "tuesday": 1, "周二": 1, "星期二": 1,
    "wed": 2, "wednesday": 2, "周三": 2, "星期三": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "周四": 3, "星期四": 3,
    "fri": 4, "friday": 4, "周五": 4, "星期五": 4,
    "sat": 5, "saturday": 5, "周六": 5, "星期六": 5,
    "sun": 6, "sunday": 6, "周日": 6, "周天": 6, "星期日": 6, "星期天": 6,
}
_DAY_WORDS = {
    "today": 0, "今天": 0, "tomorrow": 1, "明天": 1, "yesterday": -1, "昨天": -1,
    "后天": 2, "前天": -2,
}
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "w": 604800}
_SPAN_UNITS = {
    "d": "days", "day": "days", "days": "days", "天": "days",
    "w": "weeks", "wk": "weeks", "week": "weeks", "weeks": "weeks", "周": "weeks",
    "m": "months", "mo": "months", "mon": "months", "month": "months", "months": "months", "个月": "months", "月": "months",
    "y": "years", "yr": "years", "year": "years", "years": "years", "年": "years",
}


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(_("unknown time zone {name!r}").format(name=name)) from None


NOW_YEARS = (1970, 2999)


def now() -> datetime:
    """The current instant in UTC; `CSDESK_NOW` (ISO 8601) fixes it for tests and back-dated runs."""
    fixed = os.environ.get("CSDESK_NOW")
    if fixed:
        try:
            value = datetime.fromisoformat(fixed.strip())
        except ValueError:
            raise InvalidValue(_("CSDESK_NOW={fixed!r} is not an ISO 8601 time such as 2026-11-24T14:30:00+08:00").format(fixed=fixed)) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        # Rules add and subtract up to a century (payment spans, archives): keep far from year 1 and 9999.
        if not NOW_YEARS[0] <= value.year <= NOW_YEARS[1]:
            raise InvalidValue(_("CSDESK_NOW={fixed!r} is outside the years {first}–{last}").format(fixed=fixed, first=NOW_YEARS[0], last=NOW_YEARS[1]))
        return value.astimezone(UTC)
    return datetime.now(UTC)


# How far ahead of the clock a write may be dated: clocks of two machines disagree by a little, never
# by more. A write dated later (`--now 2040-01-01`) would wedge what it touches: every later entry
# made at the real time "would come before the last entry".
FUTURE_SLACK = timedelta(minutes=5)


def refuse_future(value: datetime, tz: ZoneInfo | None = None, option: str = "--now") -> datetime:
    """A write's time may be now or earlier (back-dated work), never in the future; returns value."""
    if value > now() + FUTURE_SLACK:
        shown = fmt(value, tz) if tz is not None else value.astimezone(UTC).isoformat(timespec="minutes")
        raise InvalidValue(
            _("{option} {shown} is in the future; a change can only be recorded now or earlier").format(option=option, shown=shown),
            hint=_("looking ahead is for reading only (e.g. csdesk remind run --dry-run --now …)"),
        )
    return value


_CLOCK_WORDS = {"上午": "am", "早上": "am", "早晨": "am", "中午": "noon", "下午": "pm", "晚上": "pm", "傍晚": "pm"}
_CLOCK_RE = r"(?:上午|早上|早晨|中午|下午|晚上|傍晚)?\d{1,2}(?:(?::|点|：)(?:\d{2}|半)?(?::\d{2})?|(?:am|pm))?(?:am|pm|分)?"


def _parse_clock(text: str) -> time:
    raw = text
    text = text.strip().lower()
    half = None
    for word, part in _CLOCK_WORDS.items():
        if text.startswith(word):
            text, half = text[len(word):], part
            break
    text = text.replace("点半", "点30").rstrip("分")
    m = re.fullmatch(r"(\d{1,2})(?::|点|：)?(\d{2})?(?::(\d{2}))?(am|pm)?", text)
    if not m:
        raise InvalidValue(_("{raw!r} is not a time of day (use HH:MM)").format(raw=raw))
    hour, minute, second = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    half = m.group(4) or half
    if half == "pm" and hour < 12:
        hour += 12
    if half == "am" and hour == 12:
        hour = 0
    if half == "noon" and hour < 6:  # 中午1点 is 13:00
        hour += 12
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidValue(_("{raw!r} is not a time of day (use HH:MM)").format(raw=text))
    return time(hour, minute, second)


def local_datetime(d: date, t: time, tz: ZoneInfo) -> datetime:
    """A wall-clock date and time in the zone `tz` (aware)."""
    return datetime.combine(d, t).replace(tzinfo=tz)


_local = local_datetime


def parse_when(
    text: str,
    *,
    tz: ZoneInfo,
    at: datetime | None = None,
    default_time: time = time(0, 0),
    future: bool = True,
) -> datetime:
    """Parse a human date/time relative to `at` (default: now) and return it in UTC.

    Accepts ISO (`2026-11-24`, `2026-11-24 14:30`, `2026-11-24T14:30+08:00`), `now`, `14:30` (today), `today 14:30`,
    `tomorrow`, `yesterday 9:00`, weekday names (`fri 10:00`: the next one when `future`, else the last
    one), offsets (`+3d`, `-2h`, `+30m`, `+2w`, `in 3 days`, `2 hours ago`), `next week` (Monday),
    `next month` (same day next month) and Chinese words (今天 明天 昨天 后天 周一 … 周日, 下周一 … 下周日,
    下周, 下个月, 上周五, 本周三, 月底, 下月底, 3天后, 2小时后, 1周前); any day word may be followed by a time
    (`next month 10:00`, `下周五 10点`, `明天10点`, `明天下午3点半`).
    """
    from dateutil.relativedelta import relativedelta

    raw = text
    text = (text or "").strip().lower()
    if not text:
        raise InvalidValue(_("date/time is empty"))
    base = (at or now()).astimezone(tz)

    if text == "now" or text == "现在":
        return base.astimezone(UTC)
    # Chinese offsets: 3天后, 2小时后, 30分钟后, 2周后, 1个月后, 3天前 → the English forms below.
    zh = re.fullmatch(r"(\d+)\s*(天|小时|个小时|分钟|周|星期|个星期|个月|月|年)\s*(后|以后|之后|前|以前|之前)", text)
    if zh:
        unit = {"个小时": "小时", "星期": "周", "个星期": "周"}.get(zh.group(2), zh.group(2))
        text = ("-" if zh.group(3).endswith("前") else "+") + zh.group(1) + unit
    # A Chinese day word runs into its time without a space: 明天10点, 下周一上午9点, 月底18:00.
    zh_day = re.fullmatch(r"(今天|明天|后天|昨天|前天|(?:下|上|本|这)?(?:周|星期)[一二三四五六日天]|(?:下个?|本|这个?)?月底)\s*(" + _CLOCK_RE + ")", text)
    if zh_day:
        text = f"{zh_day.group(1)} {zh_day.group(2)}"

    m = re.fullmatch(r"([+-])\s*(\d+)\s*([a-z]+|天|小时|分钟|周|个月|月|年)", text) or re.fullmatch(
        r"(in)\s+(\d+)\s*([a-z]+)", text
    )
    ago = re.fullmatch(r"(\d+)\s*([a-z]+)\s+ago", text)
    if m or ago:
        if ago:
            sign, amount, unit = -1, int(ago.group(1)), ago.group(2)
        else:
            sign, amount, unit = (-1 if m.group(1) == "-" else 1), int(m.group(2)), m.group(3)
        unit = {"小时": "h", "分钟": "min", "hours": "h", "hour": "h", "minutes": "min", "minute": "min",
                "mins": "min", "seconds": "s", "second": "s"}.get(unit, unit)
        try:  # `+9999y`, `99999999h`: past the calendar's end is a bad value, not a crash
            if unit in ("h", "hr", "hrs", "min", "s", "sec"):
                seconds = _UNIT_SECONDS[unit.rstrip("s") if unit == "hrs" else unit]
                moved = base + sign * timedelta(seconds=amount * seconds)
            elif unit in ("m",):  # +30m: minutes, as people type it for a time offset
                moved = base + sign * timedelta(minutes=amount)
            elif unit in _SPAN_UNITS:
                moved = base + relativedelta(**{_SPAN_UNITS[unit]: sign * amount})
            else:
                raise InvalidValue(_("{raw!r}: unknown unit {unit!r} (use m, h, d, w, mo, y)").format(raw=raw, unit=unit))
        except (OverflowError, ValueError):
            raise InvalidValue(_("{raw!r} is out of range (years 1900–2200)").format(raw=raw)) from None
        if not (1900 <= moved.year <= 2200):
            raise InvalidValue(_("{raw!r} is out of range (years 1900–2200)").format(raw=raw))
        return moved.astimezone(UTC)

    words = text.split()
    clock: time | None = None
    if len(words) in (2, 3) and re.fullmatch(_CLOCK_RE, words[-1]):
        clock = _parse_clock(words[-1])  # `tomorrow 9:30`, `next month 10:00`, `next fri 10:00`
        head = " ".join(words[:-1])
    else:
        head = text
    # 下周五: that weekday in next week (English `next fri` is ambiguous and refused); 下周, 下个月.
    head = {"下周": "next week", "下星期": "next week", "下个月": "next month", "下月": "next month"}.get(head, head)
    m_next = re.fullmatch(r"下(?:周|星期)(.)", head)
    next_wd = _WEEKDAYS.get("周" + m_next.group(1).replace("天", "日")) if m_next else None
    m_last = re.fullmatch(r"上(?:周|星期)(.)", head)
    last_wd = _WEEKDAYS.get("周" + m_last.group(1).replace("天", "日")) if m_last else None
    m_this = re.fullmatch(r"(?:本|这)(?:周|星期)(.)", head)
    this_wd = _WEEKDAYS.get("周" + m_this.group(1).replace("天", "日")) if m_this else None
    # 月底: the last day of this month; 下月底 / 下个月底: of the next one.
    month_end = {"月底": 0, "本月底": 0, "这月底": 0, "这个月底": 0, "下月底": 1, "下个月底": 1}.get(head)

    day: date | None = None
    if head in _DAY_WORDS:
        day = base.date() + timedelta(days=_DAY_WORDS[head])
    elif head in _WEEKDAYS:
        wd = _WEEKDAYS[head]
        if future:
            ahead = (wd - base.weekday()) % 7
            if ahead == 0 and clock is not None and _local(base.date(), clock, tz) <= base:
                ahead = 7
            day = base.date() + timedelta(days=ahead)
        else:
            back = (base.weekday() - wd) % 7
            if back == 0 and clock is not None and _local(base.date(), clock, tz) > base:
                back = 7  # `tue 11:00` said at Tue 10:00, meaning the past: last Tuesday
            day = base.date() - timedelta(days=back)
    elif next_wd is not None:
        day = base.date() + timedelta(days=7 - base.weekday() + next_wd)
    elif last_wd is not None:
        day = base.date() - timedelta(days=base.weekday() + 7 - last_wd)
    elif this_wd is not None:
        day = base.date() + timedelta(days=this_wd - base.weekday())
    elif month_end is not None:
        day = (base.date().replace(day=1) + relativedelta(months=month_end + 1)) - timedelta(days=1)
    elif head == "next week":
        day = base.date() + timedelta(days=7 - base.weekday())
    elif head == "next month":
        day = base.date() + relativedelta(months=1)
    elif head in ("last week",):
        day = base.date() - timedelta(days=base.weekday() + 7)
    if day is not None:
        return _local(day, clock or default_time, tz).astimezone(UTC)
    if re.fullmatch(r"\d{1,2}(?::|点|：)\d{2}(?::\d{2})?|\d{1,2}(?::\d{2})?(?:am|pm)|\d{1,2}点", text) or (
        re.fullmatch(_CLOCK_RE, text) and not text.isdigit()
    ):
        return _local(base.date(), _parse_clock(text), tz).astimezone(UTC)  # a bare `14:30`: today

    iso = text.replace("/", "-")
    if clock is not None and re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", words[0].replace("/", "-")):
        # `2026-11-24 9:05`: ISO wants two-digit hours; read the clock the way the words above do.
        try:
            day = date(*(int(p) for p in words[0].replace("/", "-").split("-")))
        except ValueError:
            raise InvalidValue(_("{raw!r} is not a date (no such day)").format(raw=raw)) from None
        if not (1900 <= day.year <= 2200):
            raise InvalidValue(_("{raw!r} is out of range (years 1900–2200)").format(raw=raw))
        return _local(day, clock, tz).astimezone(UTC)
    try:
        value = datetime.fromisoformat(iso.upper() if "t" in iso else iso)
    except ValueError:
        try:
            value = datetime.combine(date.fromisoformat(iso), default_time)
        except ValueError:
            raise InvalidValue(
                _("{raw!r} is not a date/time (try 2026-11-24 14:30, today 14:30, tomorrow, fri 10:00, +3d, -2h)").format(raw=raw)
            ) from None
    if len(iso) == 10:
        value = datetime.combine(value.date(), default_time)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    if not (1900 <= value.year <= 2200):
        raise InvalidValue(_("{raw!r} is out of range (years 1900–2200)").format(raw=raw))
    return value.astimezone(UTC)


def parse_date(text: str, *, tz: ZoneInfo, at: datetime | None = None) -> date:
    """A calendar date in the configured zone (`2026-11-24`, `today`, `fri`, `-3d` …)."""
    return parse_when(text, tz=tz, at=at).astimezone(tz).date()


def parse_duration(text: str) -> timedelta:
    """A length of time: `5m30s`, `1h30m`, `2h`, `90s`, `45` (minutes), `1d`."""
    raw = text
    text = (text or "").strip().lower().replace(" ", "")
    if not text:
        raise InvalidValue(_("duration is empty"))
    if re.fullmatch(r"[0-9]+", text):
        text += "m"
    m = re.fullmatch(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m(?:in)?)?(?:([0-9]+)s)?", text)
    if not m or not any(m.groups()):
        if re.fullmatch(r"[0-9]{1,2}:[0-9]{2}", text):
            mins, secs = text.split(":")
            return timedelta(minutes=int(mins), seconds=int(secs))
        raise InvalidValue(_("{raw!r} is not a duration (try 5m30s, 1h30m, 2h, 45)").format(raw=raw))
    d, h, mi, s = (int(g or 0) for g in m.groups())
    # Sum in seconds first: timedelta() itself overflows (a traceback) long before a number is too long to type.
    seconds = ((d * 24 + h) * 60 + mi) * 60 + s
    if seconds > 366 * 86400:
        raise InvalidValue(_("{raw!r} is too long a duration").format(raw=raw))
    total = timedelta(seconds=seconds)
    if total > timedelta(days=366):
        raise InvalidValue(_("{raw!r} is too long a duration").format(raw=raw))
    return total


def parse_span(text: str):
    """A calendar span for warranties and repeating visits: `24m`, `3 months`, `2y`, `90d`, `2w`, `6个月`.

    Returns a dateutil relativedelta. Here `m` means months.
    """
    from dateutil.relativedelta import relativedelta

    raw = text
    parts = span_parts(text)
    if parts is None:
        raise InvalidValue(_("{raw!r} is not a span (try 3 months, 24m, 2y, 90d, 2w)").format(raw=raw))
    amount, unit = parts
    if amount <= 0 or amount > 1200:
        raise InvalidValue(_("{raw!r}: the number must be between 1 and 1200").format(raw=raw))
    return relativedelta(**{unit: amount})


def span_parts(text: str | None) -> tuple[int, str] | None:
    """`30d` → (30, "days"), `6个月` → (6, "months"): a span's number and unit (days, weeks, months, years),
    or None when it is not one."""
    m = re.fullmatch(r"(\d+)\s*([a-z]+|天|周|个月|月|年)", (text or "").strip().lower())
    if not m or m.group(2) not in _SPAN_UNITS:
        return None
    return int(m.group(1)), _SPAN_UNITS[m.group(2)]


def to_local(value: datetime, tz: ZoneInfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz)


def fmt(value: datetime | None, tz: ZoneInfo, seconds: bool = False) -> str:
    """How a time is shown on screen: local wall clock, `2026-11-25 14:30`."""
    if value is None:
        return ""
    return to_local(value, tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    """How a time is written in --json: ISO 8601 in the configured zone, with its offset."""
    if value is None:
        return None
    return to_local(value, tz).isoformat()


def fmt_duration(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    d, rem = divmod(total, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    parts = []
    if d:
        parts.append(f"{d}d")
    if h:
        parts.append(f"{h}h")
    if m:
        parts.append(f"{m}m")
    if s and not d:
        parts.append(f"{s}s")
    return sign + ("".join(parts) or "0m")
