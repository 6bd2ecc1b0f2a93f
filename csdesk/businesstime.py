"""Business-hours arithmetic for complaint SLAs.

A `BusinessCalendar` knows, for every local date, whether the desk works and in which windows
(the gap between two windows is the lunch break). It then answers "when is N business hours after
this instant?" (`add`), "how much business time lies between these instants?" (`elapsed`) and
writes out the reasoning step by step (`explain`).

Which days work, in order of precedence:
1. a company closure (`closures`) never works;
2. an `extra_workdays` date, or a make-up working day (调休) from the holidays package, works;
3. a public holiday of `country` does not work;
4. otherwise the day works if its weekday has windows.
A forced working day (2.) uses its own weekday's windows, or — since it is normally a weekend with no
windows of its own — Monday's.

All arithmetic is done on UTC instants, so zones with daylight saving need no special care: a window
is "local wall-clock start → local wall-clock end", converted to UTC once per date and cached.

`add` and `elapsed` do not walk the calendar day by day: the calendar keeps a cumulative table (every
working window of a span of days, in order, with the business time before each one, in integer
microseconds), built once for the span needed and widened when a question falls outside it. Business
time between two instants is then the difference of two lookups (a bisection each), and a deadline is
the instant where the running total reaches the target. The answers are exactly those of the day walk
(`explain` still walks, to say what it does); a property test compares the two.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csdesk.i18n import N_, _

__all__ = ["DEFAULT_BUSINESS_HOURS", "DEFAULT_TIMEZONE", "BusinessCalendar", "Interval"]

UTC = timezone.utc
DEFAULT_TIMEZONE = "Asia/Shanghai"
_OFFICE_HOURS = ("09:00-12:00", "13:30-18:00")
# The [business] config section with its defaults. Treat as read-only: copy before changing.
DEFAULT_BUSINESS_HOURS: dict[str, Any] = {
    "mon": list(_OFFICE_HOURS),
    "tue": list(_OFFICE_HOURS),
    "wed": list(_OFFICE_HOURS),
    "thu": list(_OFFICE_HOURS),
    "fri": list(_OFFICE_HOURS),
    "sat": [],
    "sun": [],
    "country": "CN",
    "closures": [],
    "extra_workdays": [],
}
_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index == date.weekday()
_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not %a: that depends on the locale; _() when shown
_MAKE_UP = "make-up workday (调休)"
_EXTRA = "extra workday"
# More consecutive days than this without a single window means the calendar can never be satisfied.
_MAX_EMPTY_DAYS = 3 * 366

_WINDOW_RE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

_Span = tuple[datetime, datetime]  # [start, end) in UTC
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_GROW_DAYS = 64  # the least the cumulative table widens by


@dataclass(frozen=True)
class Interval:
    """A span of time between two aware datetimes (a working window, or a pause such as a hold)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _to_utc(self.start, "Interval.start")
        _to_utc(self.end, "Interval.end")


class BusinessCalendar:
    def __init__(self, tz: str = DEFAULT_TIMEZONE, business: dict | None = None):
        try:
            self.zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(_("unknown time zone {name!r}").format(name=tz)) from None
        cfg = {**DEFAULT_BUSINESS_HOURS, **(business or {})}
        # Per weekday: sorted, non-overlapping (start, end) in minutes after local midnight.
        self._schedule = tuple(_parse_windows(f"business.{k}", cfg[k]) for k in _DAY_KEYS)
        country = cfg["country"]
        if not isinstance(country, str):
            raise ValueError(_("business.country: {country!r} is not a country code").format(country=country))
        self.country = country.strip().upper()
        self._closures = _parse_dates("business.closures", cfg["closures"])
        self._extra = _parse_dates("business.extra_workdays", cfg["extra_workdays"])
        self._holidays_by_year: dict[int, Any] = {}
        self._days: dict[date, tuple[str, tuple[_Span, ...]]] = {}
        # The cumulative table over the local days [_first, _last]: working windows in order as integer
        # microseconds since the epoch (_starts, _ends), _cum[i] the business time before window i
        # (len n + 1), the last day with a window, and the runs of windowless days long enough to make
        # `add` give up ((first, last) day, at least _MAX_EMPTY_DAYS + 1 days).
        self._first: date | None = None
        self._last: date | None = None
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._cum: list[int] = [0]
        self._last_working: date | None = None
        self._long_runs: list[tuple[date, date]] = []
        # Instants [_lo, _hi) whose local day is well inside [_first, _last] (a day's margin each side): a
        # question inside them needs no date conversion to know the table covers it.
        self._lo, self._hi = 1, 0

    # ---- days -----------------------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        return bool(self._day(self._local_date(d))[1])

    def day_kind(self, d: date) -> str:
        return self._day(self._local_date(d))[0]

    def windows(self, d: date) -> list[Interval]:
        return [Interval(a.astimezone(self.zone), b.astimezone(self.zone))
                for a, b in self._day(self._local_date(d))[1]]

    def _local_date(self, d: date) -> date:
        if isinstance(d, datetime):  # a datetime is a date too; take its local calendar date
            return _to_utc(d, "date").astimezone(self.zone).date()
        return d

    def _holidays(self, year: int) -> Any:
        if not self.country:
            return None
        if year not in self._holidays_by_year:
            import holidays  # lazily: importing it costs ~100 ms at CLI start-up

            try:
                self._holidays_by_year[year] = holidays.country_holidays(self.country, years=year)
            except NotImplementedError:
                raise ValueError(
                    _("business.country: {country!r} is not a country the holidays package knows").format(country=self.country)
                ) from None
        return self._holidays_by_year[year]

    def _day(self, d: date) -> tuple[str, tuple[_Span, ...]]:
        """(kind, working windows in UTC) of a local date, cached."""
        cached = self._days.get(d)
        if cached is not None:
            return cached
        own = self._schedule[d.weekday()]
        forced = own or self._schedule[0]
        if d in self._closures:
            kind, spans = "closure", ()
        elif d in self._extra:
            kind, spans = _EXTRA, forced
        else:
            hol = self._holidays(d.year)
            if hol is not None and d in getattr(hol, "weekend_workdays", ()):
                kind, spans = _MAKE_UP, forced
            elif hol is not None and d in hol:
                kind, spans = f"holiday: {hol.get(d)}", ()
            elif own:
                kind, spans = "workday", own
            else:
                kind, spans = "weekend", ()
        # Aware + timedelta is wall-clock arithmetic; astimezone then applies that wall time's offset.
        midnight = datetime(d.year, d.month, d.day, tzinfo=self.zone)
        utc: list[_Span] = []
        for s, e in spans:
            a = (midnight + timedelta(minutes=s)).astimezone(UTC)
            b = (midnight + timedelta(minutes=e)).astimezone(UTC)
            if utc and a < utc[-1][1]:  # only possible around a DST shift
                a = utc[-1][1]
            if b > a:
                utc.append((a, b))
        self._days[d] = result = (kind, tuple(utc))
        return result

    def _walk(self, start: datetime, until: date | None = None) -> Iterator[tuple[date, str, list[_Span]]]:
        """Yield (local date, kind, windows clipped to begin no earlier than `start`) day by day."""
        d = start.astimezone(self.zone).date()
        empty = 0
        while until is None or d <= until:
            kind, spans = self._day(d)
            empty = 0 if spans else empty + 1
            if until is None and empty > _MAX_EMPTY_DAYS:
                raise ValueError(_("no working time in the calendar"))
            yield d, kind, [(max(a, start), b) for a, b in spans if b > start]
            d += timedelta(days=1)

    # ---- arithmetic -----------------------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta, paused: Sequence[Interval] = ()) -> datetime:
        """The UTC instant when `duration` of business time (outside `paused`) has passed since `start`."""
        start_utc = _to_utc(start, "start")
        _check_duration(duration)
        if not duration:
            return start_utc
        pauses = [(_micro(a), _micro(b)) for a, b in _merge(paused)]
        return _EPOCH + timedelta(microseconds=self.add_micro(_micro(start_utc), duration // _US, pauses))

    def elapsed(self, start: datetime, end: datetime, paused: Sequence[Interval] = ()) -> timedelta:
        """Business time between `start` and `end`, outside `paused`; zero if `end` is not after `start`."""
        s, e = _to_utc(start, "start"), _to_utc(end, "end")
        if e <= s:
            return timedelta(0)
        pauses = [(_micro(a), _micro(b)) for a, b in _merge(paused)]
        return timedelta(microseconds=self.elapsed_micro(_micro(s), _micro(e), pauses))

    # `add` and `elapsed` on integer microseconds since the epoch (`micro()`), for callers that ask many
    # questions (a report's SLA clocks): no datetime is made or converted. `pauses` are sorted, disjoint
    # spans (`merge_micro()`); the amount is not checked (never negative).

    def add_micro(self, t: int, amount: int, pauses: Sequence[tuple[int, int]] = ()) -> int:
        if not amount:
            return t
        origin = t
        for pa, pb in pauses:
            if pb <= t:
                continue
            if pa > t:
                free = self._between(t, pa)
                if amount <= free:
                    break
                amount -= free
            t = pb
        return self._reach(t, amount, origin)

    def elapsed_micro(self, a: int, b: int, pauses: Sequence[tuple[int, int]] = ()) -> int:
        if b <= a:
            return 0
        total = self._between(a, b)
        for pa, pb in pauses:
            lo, hi = max(pa, a), min(pb, b)
            if hi > lo:
                total -= self._between(lo, hi)
        return total

    # ---- the cumulative table -----------------------------------------------------------------------

    def _day_of(self, t: int) -> date:
        return (_EPOCH + timedelta(microseconds=t)).astimezone(self.zone).date()

    def _cover(self, first: date, last: date) -> None:
        """Make the table span at least the local days [first, last] (widening it by half again or more)."""
        if self._first is not None and self._first <= first and last <= self._last:
            return
        if self._first is not None:
            grow = max(_GROW_DAYS, (self._last - self._first).days // 2)
            if first < self._first:
                first = min(first, _shift(self._first, -grow))
            first = min(first, self._first)
            if last > self._last:
                last = max(last, _shift(self._last, grow))
            last = max(last, self._last)
        else:
            first, last = _shift(first, -7), _shift(last, _GROW_DAYS)
        starts: list[int] = []
        ends: list[int] = []
        cum = [0]
        runs: list[tuple[date, date]] = []
        last_working = None
        run_start = None
        d = first
        one = timedelta(days=1)
        while d <= last:
            spans = self._day(d)[1]
            if spans:
                if run_start is not None and (d - run_start).days > _MAX_EMPTY_DAYS:
                    runs.append((run_start, d - one))
                run_start = None
                last_working = d
                for a, b in spans:
                    x, y = _micro(a), _micro(b)
                    starts.append(x)
                    ends.append(y)
                    cum.append(cum[-1] + y - x)
            elif run_start is None:
                run_start = d
            d += one
        if run_start is not None and (last - run_start).days + 1 > _MAX_EMPTY_DAYS:
            runs.append((run_start, last))
        self._first, self._last = first, last
        self._starts, self._ends, self._cum = starts, ends, cum
        self._last_working, self._long_runs = last_working, runs
        try:
            lo, hi = first + timedelta(days=2), last - timedelta(days=1)
            self._lo = _micro(datetime(lo.year, lo.month, lo.day, tzinfo=self.zone))
            self._hi = _micro(datetime(hi.year, hi.month, hi.day, tzinfo=self.zone))
        except (OverflowError, ValueError):
            self._lo, self._hi = 1, 0

    def _total_at(self, t: int) -> int:
        """Business time from the table's first day to the instant t (inside the table)."""
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            return 0
        return self._cum[i] + min(t, self._ends[i]) - self._starts[i]

    def _between(self, a: int, b: int) -> int:
        """Business time in [a, b) (microseconds), pauses not considered."""
        if b <= a:
            return 0
        if not (self._lo <= a and b < self._hi):
            self._cover(self._day_of(a), self._day_of(b))
        return self._total_at(b) - self._total_at(a)

    def _reach(self, t: int, amount: int, origin_at: int) -> int:
        """The first instant at which `amount` of business time has passed since t; `origin_at` is when the
        count began: from its day, a too long run of windowless days means the calendar cannot be satisfied."""
        if not (self._lo <= t < self._hi):
            day = self._day_of(t)
            self._cover(day, day)
        target = self._total_at(t) + amount
        if self._cum[-1] < target:
            origin = self._day_of(origin_at)
            while self._cum[-1] < target:
                quiet_since = max(self._last_working, _shift(origin, -1)) if self._last_working else _shift(origin, -1)
                if (self._last - quiet_since).days > _MAX_EMPTY_DAYS:
                    raise ValueError(_("no working time in the calendar"))
                self._cover(self._first, _shift(self._last, 1))
        j = bisect_left(self._cum, target, 1) - 1
        found = self._starts[j] + (target - self._cum[j])
        if self._long_runs:
            origin, answer_day = self._day_of(origin_at), self._day_of(found)
            for run_first, run_last in self._long_runs:
                lo, hi = max(run_first, origin), min(run_last, answer_day - timedelta(days=1))
                if (hi - lo).days + 1 > _MAX_EMPTY_DAYS:
                    raise ValueError(_("no working time in the calendar"))
        return found

    def explain(self, start: datetime, duration: timedelta, paused: Sequence[Interval] = ()) -> list[str]:
        """The reasoning behind `add(start, duration, paused)`, one readable line per step."""
        start_utc = _to_utc(start, "start")
        _check_duration(duration)
        pauses = _merge(paused)
        fmt = self._fmt
        lines = [_("Opened {time}; business time allowed: {allowed}").format(time=fmt(start_utc), allowed=_fmt_td(duration))]
        lines += [_("On hold {start} → {end}: working time inside does not count").format(start=fmt(a), end=fmt(b)) for a, b in pauses]
        if not duration:
            return lines + [_("Deadline: {time} (nothing to count)").format(time=fmt(start_utc))]
        remaining, total, started = duration, timedelta(0), False
        for d, kind, spans in self._walk(start_utc):
            day = f"{d.isoformat()} ({_(_DAY_ABBR[d.weekday()])})"
            if not self._day(d)[1]:
                lines.append(_("{day} skipped: {kind}").format(day=day, kind=_day_kind(kind)))
                continue
            if kind in (_MAKE_UP, _EXTRA):
                hours = ", ".join(f"{w.start:%H:%M}-{w.end:%H:%M}" for w in self.windows(d))
                lines.append(_("{day} is a {kind}: working {hours}").format(day=day, kind=_day_kind(kind), hours=hours))
            for a, b in spans:
                pieces, held = _subtract(a, b, pauses)
                steps = [(p, True) for p in pieces] + [(h, False) for h in held]
                for (pa, pb), counted in sorted(steps):
                    if not counted:
                        lines.append("  " + _("{start} → {end} on hold: {length} not counted").format(
                            start=fmt(pa), end=self._hm(pb), length=_fmt_td(pb - pa)))
                        continue
                    if not started and pa != start_utc:
                        lines.append(_("Counting starts {time}").format(time=fmt(pa)))
                    started = True
                    if remaining <= pb - pa:
                        end = pa + remaining
                        lines.append("  " + _("{start} → {end}: +{length}, total {total} — all business time used").format(
                            start=fmt(pa), end=self._hm(end), length=_fmt_td(remaining), total=_fmt_td(duration)))
                        return lines + [_("Deadline: {time} ({utc} UTC)").format(time=fmt(end), utc=f"{end:%Y-%m-%d %H:%M}")]
                    remaining -= pb - pa
                    total += pb - pa
                    lines.append("  " + _("{start} → {end}: +{length}, total {total}").format(
                        start=fmt(pa), end=self._hm(pb), length=_fmt_td(pb - pa), total=_fmt_td(total)))
        raise AssertionError("unreachable: _walk is endless or raises")

    def _fmt(self, t: datetime) -> str:
        local = t.astimezone(self.zone)
        return f"{local:%Y-%m-%d %H:%M} ({_(_DAY_ABBR[local.weekday()])})"

    def _hm(self, t: datetime) -> str:
        return f"{t.astimezone(self.zone):%H:%M}"


# ---- helpers ------------------------------------------------------------------------------------


def _day_kind(kind: str) -> str:
    """A day's kind (explain) in the interface language; a holiday keeps the holidays package's name."""
    if kind.startswith("holiday: "):
        return _("holiday: {name}").format(name=kind[len("holiday: "):])
    return _(_DAY_KINDS.get(kind, kind))


_DAY_KINDS = {"closure": N_("closure"), "workday": N_("workday"), "weekend": N_("weekend"),
              _MAKE_UP: N_("make-up workday"), _EXTRA: N_("extra workday")}
_DAY_WORDS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def _to_utc(t: datetime, what: str) -> datetime:
    if not isinstance(t, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {t.isoformat()}")
    return t.astimezone(UTC)


def _micro(t: datetime) -> int:
    """An aware instant as whole microseconds since the epoch (exact, unlike a float timestamp)."""
    return (t - _EPOCH) // _US


micro = _micro


def from_micro(t: int) -> datetime:
    """The UTC instant of `micro()`'s integer."""
    return _EPOCH + timedelta(microseconds=t)


def merge_micro(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of microseconds as sorted, disjoint spans (as `_merge`: empty ones left out, touching ones joined)."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _shift(d: date, days: int) -> date:
    """d moved by `days`, kept inside the calendar's range of dates."""
    try:
        return d + timedelta(days=days)
    except OverflowError:
        return date.min + timedelta(days=1) if days < 0 else date.max - timedelta(days=1)


def _check_duration(duration: timedelta) -> None:
    if not isinstance(duration, timedelta):
        raise TypeError(f"duration must be a timedelta, not {type(duration).__name__}")
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")


def _merge(paused: Sequence[Interval | tuple[datetime, datetime]]) -> list[_Span]:
    """Pauses as sorted, disjoint UTC spans; overlapping or touching pauses are joined."""
    spans = []
    for p in paused:
        a, b = (p.start, p.end) if isinstance(p, Interval) else p
        a, b = _to_utc(a, "paused start"), _to_utc(b, "paused end")
        if b > a:
            spans.append((a, b))
    spans.sort()
    merged: list[_Span] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _subtract(a: datetime, b: datetime, pauses: list[_Span]) -> tuple[list[_Span], list[_Span]]:
    """Split [a, b) into (parts outside every pause, parts inside one)."""
    free: list[_Span] = []
    held: list[_Span] = []
    cur = a
    for pa, pb in pauses:
        if pb <= cur:
            continue
        if pa >= b:
            break
        if pa > cur:
            free.append((cur, pa))
        held.append((max(pa, cur), min(pb, b)))
        cur = pb
        if cur >= b:
            break
    if cur < b:
        free.append((cur, b))
    return free, held


def _parse_windows(key: str, value: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(_("{key}: expected a list of \"HH:MM-HH:MM\" windows, got {value!r}").format(key=key, value=value))
    out = []
    for text in value:
        m = _WINDOW_RE.fullmatch(text) if isinstance(text, str) else None
        if not m:
            raise ValueError(_("{key}: {text!r} is not HH:MM-HH:MM").format(key=key, text=text))
        h1, m1, h2, m2 = map(int, m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60:  # "24:00" may close the last window
            raise ValueError(_("{key}: {text!r} is not a time of day (00:00-24:00)").format(key=key, text=text))
        if end <= start:
            raise ValueError(_("{key}: {text!r} ends before it starts").format(key=key, text=text))
        out.append((start, end))
    out.sort()
    for (_s1, e1), (s2, _e2) in zip(out, out[1:]):
        if s2 < e1:
            raise ValueError(_("{key}: windows overlap in {windows!r}").format(key=key, windows=list(value)))
    return tuple(out)


def _parse_dates(key: str, value: Any) -> frozenset[date]:
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise ValueError(_("{key}: expected a list of YYYY-MM-DD dates, got {value!r}").format(key=key, value=value))
    out = set()
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):  # TOML bare dates arrive parsed
            out.add(item)
            continue
        try:
            if not (isinstance(item, str) and _DATE_RE.fullmatch(item.strip())):
                raise ValueError
            out.add(date.fromisoformat(item.strip()))
        except ValueError:
            raise ValueError(_("{key}: {item!r} is not a YYYY-MM-DD date").format(key=key, item=item)) from None
    return frozenset(out)


def _fmt_td(td: timedelta) -> str:
    """4h30m; seconds only when there are any."""
    seconds = int(td.total_seconds())
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" + (f"{s:02d}s" if s else "")
