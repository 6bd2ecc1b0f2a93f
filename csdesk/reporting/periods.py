"""Periods are named the way people say them — `2026-11-24`, `2026-W48` (ISO week), `2026-11`, `2026-Q4`,
`2026` — and bounded at local midnight in the configured time zone: a call at 23:30 local time on
30 November belongs to November even though it is 15:30 UTC.
"""

from __future__ import annotations

from csdesk.i18n import N_

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from csdesk.errors import InvalidValue

UTC = timezone.utc
KINDS = ("daily", "weekly", "monthly", "quarterly", "annual")
KIND_LABELS = {"daily": N_("Daily report"), "weekly": N_("Weekly report"), "monthly": N_("Monthly report"),
               "quarterly": N_("Quarterly report"), "annual": N_("Annual report")}  # message ids, shown through _()
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"), N_("August"),
          N_("September"), N_("October"), N_("November"), N_("December"))
PERIOD_NOUNS = {"daily": N_("day"), "weekly": N_("week"), "monthly": N_("month"), "quarterly": N_("quarter"), "annual": N_("year")}
NAME_SHAPES = {"daily": "2026-11-24", "weekly": "2026-W48", "monthly": "2026-11", "quarterly": "2026-Q4", "annual": "2026"}


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

    def label(self, lang: str | None = None) -> str:
        """The period as people say it, in the interface language (`lang` is kept for the callers)."""
        from csdesk.i18n import _

        f, l = self.first, self.last
        if self.kind == "daily":
            return _("{date} ({weekday})").format(date=f.isoformat(), weekday=_(WEEKDAYS[f.weekday()]))
        if self.kind == "weekly":
            y, w, _day = f.isocalendar()
            return _("week {week} of {year} ({span})").format(week=w, year=y, span=f"{f:%m-%d} ~ {l:%m-%d}")
        if self.kind == "monthly":
            return _("{month_name} {year}").format(month_name=_(MONTHS[f.month - 1]), year=f.year)
        if self.kind == "quarterly":
            return _("Q{quarter} {year}").format(quarter=(f.month - 1) // 3 + 1, year=f.year)
        return _("year {year}").format(year=f.year)


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
    from csdesk.i18n import _

    shape = NAME_SHAPES[kind]
    bad = InvalidValue(_("{text!r} is not a {noun} (name it like {shape}, or say current or last)").format(
        text=raw, noun=_(PERIOD_NOUNS[kind]), shape=shape))
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
        raise InvalidValue(_("period {name} has not started yet (today is {today})").format(
                               name=period.name, today=now.astimezone(tz).date().isoformat()),
                           hint=_("the last complete one is {name}").format(name=last_complete_period(kind, tz, now).name))
    return period
