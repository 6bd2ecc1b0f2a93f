"""Business time through the cumulative table gives exactly the answers of the day-by-day walk.

`walk_add` / `walk_elapsed` below are the calendar's former implementations, kept here word for word as
the reference (they walk the days with `BusinessCalendar._walk`). Hypothesis draws calendars (zones with
and without daylight saving, 0–3 windows a weekday up to 24:00, holidays on or off, closures and extra
working days, calendars with no working time at all) and instants, durations and pauses, and the new
`add` / `elapsed` must agree to the microsecond, or raise the same error.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdesk.businesstime import BusinessCalendar, Interval, _check_duration, _merge, _subtract, _to_utc

UTC = timezone.utc
SH = ZoneInfo("Asia/Shanghai")


# ---- the reference: the former day walk ---------------------------------------------------------------


def walk_add(cal: BusinessCalendar, start, duration, paused=()):
    start_utc = _to_utc(start, "start")
    _check_duration(duration)
    if not duration:
        return start_utc
    pauses = _merge(paused)
    remaining = duration
    for _d, _kind, spans in cal._walk(start_utc):
        for a, b in spans:
            for pa, pb in _subtract(a, b, pauses)[0] if pauses else ((a, b),):
                if remaining <= pb - pa:
                    return pa + remaining
                remaining -= pb - pa
    raise AssertionError("unreachable")


def walk_elapsed(cal: BusinessCalendar, start, end, paused=()):
    s, e = _to_utc(start, "start"), _to_utc(end, "end")
    total = timedelta(0)
    if e <= s:
        return total
    pauses = _merge(paused)
    for _d, _kind, spans in cal._walk(s, until=e.astimezone(cal.zone).date()):
        for a, b in spans:
            b = min(b, e)
            if b <= a:
                continue
            if not pauses:
                total += b - a
            else:
                for pa, pb in _subtract(a, b, pauses)[0]:
                    total += pb - pa
    return total


def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except ValueError as exc:
        return ("error", str(exc))


# ---- strategies -----------------------------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]


@st.composite
def windows(draw):
    """0–3 sorted, non-overlapping HH:MM-HH:MM windows within a day (24:00 may close the last)."""
    n = draw(st.integers(0, 3))
    cuts = sorted(draw(st.lists(st.integers(0, 24 * 4), min_size=2 * n, max_size=2 * n, unique=True)))
    out = []
    for i in range(n):
        a, b = cuts[2 * i] * 15, cuts[2 * i + 1] * 15
        out.append(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}")
    return out


DAYS = st.integers(0, 3 * 366).map(lambda n: (date(2025, 1, 1) + timedelta(days=n)).isoformat())


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 19)) == 0:  # now and then: no working time at all
        business = {k: [] for k in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")} | {"country": ""}
    else:
        business = {k: draw(windows()) for k in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        business["country"] = draw(st.sampled_from(["CN", "", "US"]))
        business["closures"] = draw(st.lists(DAYS, max_size=6))
        business["extra_workdays"] = draw(st.lists(DAYS, max_size=3))
    return BusinessCalendar(zone, business)


INSTANTS = st.builds(
    lambda minutes, seconds, zone: (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes, seconds=seconds)).astimezone(zone),
    st.integers(0, 3 * 365 * 24 * 60), st.integers(0, 59), st.sampled_from([UTC, SH, ZoneInfo("America/New_York")]),
)
DURATIONS = st.one_of(
    st.integers(0, 300 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(0, 10**11).map(lambda us: timedelta(microseconds=us)),
)
PAUSES = st.lists(st.tuples(st.integers(-5 * 24 * 60, 40 * 24 * 60), st.integers(0, 12 * 24 * 60)), max_size=5)

CHECK = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@CHECK
@given(calendars(), INSTANTS, DURATIONS, PAUSES)
def test_add_is_the_day_walk(cal, start, duration, pauses):
    paused = [Interval(start + timedelta(minutes=a), start + timedelta(minutes=a + n)) for a, n in pauses]
    assert outcome(cal.add, start, duration, paused) == outcome(walk_add, cal, start, duration, paused)
    assert outcome(cal.add, start, duration) == outcome(walk_add, cal, start, duration)


@CHECK
@given(calendars(), INSTANTS, st.integers(-3 * 24 * 60, 200 * 24 * 60), PAUSES)
def test_elapsed_is_the_day_walk(cal, start, minutes, pauses):
    end = start + timedelta(minutes=minutes, microseconds=minutes * 7)
    paused = [Interval(start + timedelta(minutes=a), start + timedelta(minutes=a + n)) for a, n in pauses]
    assert cal.elapsed(start, end, paused) == walk_elapsed(cal, start, end, paused)
    assert cal.elapsed(start, end) == walk_elapsed(cal, start, end)


@CHECK
@given(calendars(), st.lists(st.tuples(INSTANTS, DURATIONS), min_size=2, max_size=8))
def test_one_calendar_answers_questions_in_any_order(cal, questions):
    """The table widens backwards and forwards as questions come; earlier answers stay right."""
    for start, duration in questions:
        assert outcome(cal.add, start, duration) == outcome(walk_add, cal, start, duration)
        assert cal.elapsed(start, start + duration) == walk_elapsed(cal, start, start + duration)


def test_boundaries_and_far_apart_questions():
    cal = BusinessCalendar()
    # a deadline that exactly fills a window ends at its end; a zero duration is the start itself
    monday = datetime(2026, 3, 16, 9, tzinfo=SH)
    assert cal.add(monday, timedelta(hours=3)) == datetime(2026, 3, 16, 12, tzinfo=SH) == walk_add(cal, monday, timedelta(hours=3))
    # a question years before the first one widens the table backwards
    old = datetime(2019, 6, 3, 10, tzinfo=SH)
    assert cal.add(old, timedelta(hours=40)) == walk_add(cal, old, timedelta(hours=40))
    assert cal.elapsed(old, monday) == walk_elapsed(cal, old, monday)
    # a calendar whose only working time is years away still answers (runs shorter than three years)
    rare = BusinessCalendar("UTC", {k: [] for k in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
                            | {"country": "", "extra_workdays": ["2028-06-01"]})
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert outcome(rare.add, start, timedelta(hours=1)) == outcome(walk_add, rare, start, timedelta(hours=1))
    late = BusinessCalendar("UTC", {k: [] for k in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
                            | {"country": "", "extra_workdays": ["2030-06-01"]})
    with pytest.raises(ValueError, match="no working time in the calendar"):
        late.add(start, timedelta(hours=1))
    with pytest.raises(ValueError, match="no working time in the calendar"):
        walk_add(late, start, timedelta(hours=1))


def test_a_year_of_deadlines_costs_lookups_not_walks():
    """A long elapsed time costs about what a short one does (no walk over the days between)."""
    cal = BusinessCalendar()
    start = datetime(2025, 1, 6, 10, tzinfo=SH)
    cal.elapsed(start, start + timedelta(days=730))  # build the table once
    t0 = time.perf_counter()
    for i in range(2000):
        cal.elapsed(start + timedelta(minutes=i), start + timedelta(days=700))
        cal.add(start + timedelta(minutes=i), timedelta(hours=2000))
    per_call = (time.perf_counter() - t0) / 4000
    assert per_call < 0.0005  # the walk over 700 days took ~1 ms; lookups take ~10 µs


@pytest.mark.parametrize("gap, first_day, fails", [(1099, 0, False), (1100, 0, True), (1100, 2, False), (1101, 2, True)])
def test_giving_up_after_three_years_without_working_time_is_the_walks_rule(gap, first_day, fails):
    """The walk gives up on the 1,099th windowless day in a row counted from the start's day: so must the table."""
    d0 = date(2026, 1, 5)  # a Monday; every other Monday for years is closed, the only other working day is d0 + gap
    mondays = [d0 + timedelta(days=7 * i) for i in range(1, 400) if 7 * i != gap]
    cal = BusinessCalendar("UTC", {"mon": ["09:00-17:00"], "tue": [], "wed": [], "thu": [], "fri": [], "country": "",
                                   "closures": [m.isoformat() for m in mondays],
                                   "extra_workdays": [(d0 + timedelta(days=gap)).isoformat()]})
    start = datetime.combine(d0 + timedelta(days=first_day), datetime.min.time(), UTC) + timedelta(hours=18)
    expected = outcome(walk_add, cal, start, timedelta(hours=1))
    assert (expected[0] == "error") is fails
    assert outcome(cal.add, start, timedelta(hours=1)) == expected
    cal.elapsed(start - timedelta(days=30), start + timedelta(days=gap + 30))  # the table already spans it all
    assert outcome(cal.add, start, timedelta(hours=1)) == expected
