"""Business-hours arithmetic, checked against cases worked out by hand.

Default calendar: Asia/Shanghai, Mon–Fri 09:00–12:00 + 13:30–18:00 (7.5 h a day), China's public holidays
and make-up working days (调休) as the holidays package lists them for 2026.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdesk.businesstime import DEFAULT_BUSINESS_HOURS, BusinessCalendar, Interval

SH = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
H = timedelta(hours=1)
CAL = BusinessCalendar()  # shared: the calendar is immutable apart from its caches


def sh(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


# ---- days ---------------------------------------------------------------------------------------


def test_day_kinds_2026():
    assert CAL.day_kind(date(2026, 3, 13)) == "workday"
    assert CAL.day_kind(date(2026, 3, 14)) == "weekend"
    assert CAL.day_kind(date(2026, 10, 1)) == "holiday: National Day"
    assert CAL.day_kind(date(2026, 2, 16)) == "holiday: Chinese New Year's Eve"
    assert CAL.day_kind(date(2026, 2, 14)) == "make-up workday (调休)"
    assert CAL.day_kind(date(2026, 9, 20)) == "make-up workday (调休)"
    assert CAL.is_workday(date(2026, 10, 10))  # Saturday, make-up day
    assert not CAL.is_workday(date(2026, 10, 7))  # Wednesday, day off swapped for 10-10
    assert not CAL.is_workday(date(2026, 3, 15))


def test_windows_are_local_and_make_up_days_use_monday_hours():
    assert CAL.windows(date(2026, 2, 14)) == [
        Interval(sh(2026, 2, 14, 9), sh(2026, 2, 14, 12)),
        Interval(sh(2026, 2, 14, 13, 30), sh(2026, 2, 14, 18)),
    ]
    assert CAL.windows(date(2026, 2, 14))[0].start.utcoffset() == timedelta(hours=8)
    assert CAL.windows(date(2026, 2, 15)) == []
    # an aware datetime counts as its local date: 2026-03-13 20:00 UTC is Saturday 04:00 in Shanghai
    assert CAL.day_kind(datetime(2026, 3, 13, 20, tzinfo=UTC)) == "weekend"


# ---- add ----------------------------------------------------------------------------------------


def test_friday_evening_four_hours_lands_monday_after_lunch():
    # Fri 17:30–18:00 = 0.5 h; Mon 09:00–12:00 = 3 h (3.5 h); lunch; 13:30–14:00 = 0.5 h → 4 h.
    due = CAL.add(sh(2026, 3, 13, 17, 30), 4 * H)
    assert due == datetime(2026, 3, 16, 6, 0, tzinfo=UTC)  # Mon 14:00 in Shanghai
    assert due.tzinfo is UTC


def test_opened_during_lunch_starts_counting_after_lunch():
    assert CAL.add(sh(2026, 3, 17, 12, 10), H) == sh(2026, 3, 17, 14, 30)


def test_opened_at_night_starts_next_morning_and_zero_duration_is_unchanged():
    assert CAL.add(sh(2026, 3, 17, 22), H) == sh(2026, 3, 18, 10)
    assert CAL.add(sh(2026, 3, 17, 22), timedelta(0)) == datetime(2026, 3, 17, 14, tzinfo=UTC)
    # exactly filling the morning window ends at its end, not after lunch
    assert CAL.add(sh(2026, 3, 17, 9), 3 * H) == sh(2026, 3, 17, 12)


def test_inputs_in_other_zones():
    # 09:30 UTC = 17:30 Shanghai on Friday 2026-03-13, same case as above
    assert CAL.add(datetime(2026, 3, 13, 9, 30, tzinfo=UTC), 4 * H) == sh(2026, 3, 16, 14)


def test_national_day_week_2026():
    # Wed 09-30 17:30: 0.5 h, then Oct 1–3 holidays, Oct 4 Sunday, Oct 5–7 days off; Thu Oct 8 3 h + 0.5 h.
    assert CAL.add(sh(2026, 9, 30, 17, 30), 4 * H) == sh(2026, 10, 8, 14)
    # 16 h: 0.5 + Oct 8 7.5 + Oct 9 7.5 = 15.5; Sat Oct 10 is a make-up day → 09:30.
    assert CAL.add(sh(2026, 9, 30, 17, 30), 16 * H) == sh(2026, 10, 10, 9, 30)
    # Fri 09-18 17:30: Sat 19 weekend, Sun 20 make-up day → 0.5 + 3 + 0.5 = Sun 14:00.
    assert CAL.add(sh(2026, 9, 18, 17, 30), 4 * H) == sh(2026, 9, 20, 14)
    # Thu 09-24 17:30: Fri 25 is Mid-Autumn Festival, then the weekend → Mon 09-28 14:00.
    assert CAL.add(sh(2026, 9, 24, 17, 30), 4 * H) == sh(2026, 9, 28, 14)
    # Fri 10-09 17:30: the next day is make-up Saturday 10-10.
    assert CAL.add(sh(2026, 10, 9, 17, 30), 4 * H) == sh(2026, 10, 10, 14)


def test_spring_festival_2026():
    start = sh(2026, 2, 13, 17)
    # Fri 17:00–18:00 = 1 h; make-up Sat 02-14: 09:00–12:00 (4 h), 13:30–17:30 (8 h).
    assert CAL.add(start, 8 * H) == sh(2026, 2, 14, 17, 30)
    # 02-14 gives 7.5 h (8.5 h); 02-15 Sun; 02-16..20 holidays; 21–22 weekend; 23 holiday;
    # Tue 02-24 gives 7.5 h → exactly 16 h at 18:00.
    assert CAL.add(start, 16 * H) == sh(2026, 2, 24, 18)
    # Wed 02-25 7.5 h (23.5 h) → Thu 02-26 09:30.
    assert CAL.add(start, 24 * H) == sh(2026, 2, 26, 9, 30)
    # Fri 02-27 17:00 → the second make-up Saturday 02-28.
    assert CAL.add(sh(2026, 2, 27, 17), 8 * H) == sh(2026, 2, 28, 17, 30)


def test_three_day_hold_shifts_deadline_by_business_time_inside_it():
    start = sh(2026, 3, 9, 9)  # Monday
    # 24 h: Mon 7.5, Tue 15, Wed 22.5, Thu 09:00–10:30.
    assert CAL.add(start, 24 * H) == sh(2026, 3, 12, 10, 30)
    hold = Interval(sh(2026, 3, 10, 15), sh(2026, 3, 13, 15))  # Tue 15:00 → Fri 15:00
    # Inside the hold: Tue 3 h + Wed 7.5 + Thu 7.5 + Fri 3 + 1.5 = 22.5 h.
    assert CAL.elapsed(hold.start, hold.end) == timedelta(hours=22, minutes=30)
    # Before the hold 12 h; Fri 15:00–18:00 (15 h); Mon 03-16 (22.5 h); Tue 03-17 09:00–10:30.
    due = CAL.add(start, 24 * H, [hold])
    assert due == sh(2026, 3, 17, 10, 30)
    assert CAL.elapsed(sh(2026, 3, 12, 10, 30), due) == timedelta(hours=22, minutes=30)


def test_overlapping_pauses_and_pauses_outside_working_time():
    start = sh(2026, 3, 13, 17)  # Friday
    pauses = [
        Interval(sh(2026, 3, 14, 10), sh(2026, 3, 16, 10)),  # Sat 10:00 → Mon 10:00
        (sh(2026, 3, 16, 9, 30), sh(2026, 3, 16, 11)),  # overlaps; plain tuples are accepted too
        Interval(sh(2026, 3, 16, 9, 45), sh(2026, 3, 16, 10, 15)),  # nested inside the two above
        Interval(sh(2026, 3, 13, 20), sh(2026, 3, 13, 21)),  # evening only: costs nothing
    ]
    # Fri 1 h; Mon paused until 11:00, 11:00–12:00 (2 h), 13:30–15:30 (4 h).
    assert CAL.add(start, 4 * H, pauses) == sh(2026, 3, 16, 15, 30)
    assert CAL.elapsed(start, sh(2026, 3, 16, 15, 30), pauses) == 4 * H


def test_closures_and_extra_workdays_from_config():
    cal = BusinessCalendar(business={"closures": ["2026-03-13"], "extra_workdays": ["2026-03-14"]})
    assert cal.day_kind(date(2026, 3, 13)) == "closure"
    assert cal.day_kind(date(2026, 3, 14)) == "extra workday"
    # Thu 17:00–18:00 1 h; Fri closed; Sat works Monday hours: 09:00–12:00 → exactly 4 h at 12:00.
    assert cal.add(sh(2026, 3, 12, 17), 4 * H) == sh(2026, 3, 14, 12)


def test_closure_beats_make_up_day_and_extra_workday_beats_holiday():
    closed = BusinessCalendar(business={"closures": ["2026-02-14"]})
    assert closed.day_kind(date(2026, 2, 14)) == "closure"
    # Fri 1 h, then nothing until Tue 02-24: 09:00–12:00 (4 h), 13:30–17:30 (8 h).
    assert closed.add(sh(2026, 2, 13, 17), 8 * H) == sh(2026, 2, 24, 17, 30)
    # TOML parses a bare date (extra_workdays = [2026-10-01]) into a date object: accepted too.
    working = BusinessCalendar(business={"extra_workdays": [date(2026, 10, 1)]})
    assert working.add(sh(2026, 9, 30, 17, 30), 4 * H) == sh(2026, 10, 1, 14)


def test_no_country_means_no_public_holidays_or_make_up_days():
    cal = BusinessCalendar(business={"country": ""})
    assert cal.day_kind(date(2026, 10, 1)) == "workday"
    assert cal.day_kind(date(2026, 10, 10)) == "weekend"
    assert cal.add(sh(2026, 9, 30, 17, 30), 4 * H) == sh(2026, 10, 1, 14)


def test_custom_hours_and_zone():
    berlin = ZoneInfo("Europe/Berlin")
    cal = BusinessCalendar(
        "Europe/Berlin", {"country": "", "fri": ["08:00-24:00"], "sat": ["10:00-14:00"], "sun": ["01:00-04:00"]}
    )
    # Fri 2026-03-13 23:30 → 24:00 (0.5 h), Sat 10:00–10:30.
    assert cal.add(datetime(2026, 3, 13, 23, 30, tzinfo=berlin), H) == datetime(2026, 3, 14, 10, 30, tzinfo=berlin)
    # Business time is real time: 01:00–04:00 on the spring-forward night lasts 2 h, on the fall-back night 4 h.
    assert cal.elapsed(datetime(2026, 3, 29, tzinfo=berlin), datetime(2026, 3, 29, 12, tzinfo=berlin)) == 2 * H
    assert cal.elapsed(datetime(2026, 10, 25, tzinfo=berlin), datetime(2026, 10, 25, 12, tzinfo=berlin)) == 4 * H
    # 02:30 does not exist that night (it reads as 03:30 CEST), so the two windows would overlap in real
    # time; the overlap is counted once: 01:00 CET → 04:00 CEST is 2 real hours.
    gap = BusinessCalendar("Europe/Berlin", {"country": "", "sun": ["01:00-02:30", "03:00-04:00"]})
    night = [(w.start, w.end) for w in gap.windows(date(2026, 3, 29))]
    assert night[0][1] <= night[1][0]
    assert gap.elapsed(datetime(2026, 3, 29, tzinfo=berlin), datetime(2026, 3, 29, 12, tzinfo=berlin)) == 2 * H
    # while the next day's windows stay at wall-clock 08:00 / 09:00
    assert cal.windows(date(2026, 3, 30))[0].start == datetime(2026, 3, 30, 9, tzinfo=berlin)
    assert cal.windows(date(2026, 3, 30))[0].start.utcoffset() == 2 * H


# ---- elapsed ------------------------------------------------------------------------------------


def test_elapsed_across_weekend_and_lunch():
    # Fri 11:00–12:00 1 h + 13:30–18:00 4.5 h; Mon 09:00–12:00 3 h + 13:30–14:00 0.5 h = 9 h.
    assert CAL.elapsed(sh(2026, 3, 13, 11), sh(2026, 3, 16, 14)) == 9 * H
    assert CAL.elapsed(sh(2026, 3, 17, 11, 30), sh(2026, 3, 17, 14)) == H
    assert CAL.elapsed(sh(2026, 3, 17, 12, 5), sh(2026, 3, 17, 13, 25)) == timedelta(0)
    assert CAL.elapsed(sh(2026, 3, 17, 14), sh(2026, 3, 17, 10)) == timedelta(0)
    # the same instants given in UTC
    assert CAL.elapsed(datetime(2026, 3, 13, 3, tzinfo=UTC), datetime(2026, 3, 16, 6, tzinfo=UTC)) == 9 * H


# ---- explain ------------------------------------------------------------------------------------


def test_explain_names_skipped_days_and_deadline():
    hold = Interval(sh(2026, 10, 8, 10), sh(2026, 10, 8, 11))
    lines = CAL.explain(sh(2026, 9, 30, 17, 30), 4 * H, [hold])
    assert lines[0] == "Opened 2026-09-30 17:30 (Wed); business time allowed: 4h00m"
    assert "2026-10-01 (Thu) skipped: holiday: National Day" in lines
    assert "2026-10-04 (Sun) skipped: weekend" in lines
    assert "  2026-09-30 17:30 (Wed) → 18:00: +0h30m, total 0h30m" in lines
    assert "  2026-10-08 10:00 (Thu) → 11:00 on hold: 1h00m not counted" in lines
    assert "all business time used" in lines[-2]
    assert lines[-1] == "Deadline: 2026-10-08 15:00 (Thu) (2026-10-08 07:00 UTC)"
    assert CAL.add(sh(2026, 9, 30, 17, 30), 4 * H, [hold]) == sh(2026, 10, 8, 15)
    assert "Chinese New Year's Eve" in "\n".join(CAL.explain(sh(2026, 2, 13, 17), 16 * H))
    assert "2026-02-14 (Sat) is a make-up workday: working 09:00-12:00, 13:30-18:00" in CAL.explain(
        sh(2026, 2, 13, 17), 8 * H
    )


def test_explain_closure_and_late_start():
    cal = BusinessCalendar(business={"closures": ["2026-03-16"]})
    lines = cal.explain(sh(2026, 3, 13, 19), H)
    assert "Counting starts 2026-03-17 09:00 (Tue)" in lines
    assert "2026-03-16 (Mon) skipped: closure" in lines
    assert lines[-1] == "Deadline: 2026-03-17 10:00 (Tue) (2026-03-17 02:00 UTC)"
    assert cal.explain(sh(2026, 3, 13, 19), timedelta(0))[-1] == "Deadline: 2026-03-13 19:00 (Fri) (nothing to count)"


# ---- errors -------------------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 3, 13, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add(naive, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.elapsed(sh(2026, 3, 13, 9), naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.explain(naive, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add(sh(2026, 3, 13, 9), H, [(naive, naive + H)])
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(naive, naive + H)
    with pytest.raises(ValueError, match="negative"):
        CAL.add(sh(2026, 3, 13, 9), -H)


@pytest.mark.parametrize(
    ("business", "message"),
    [
        ({"mon": ["9-12"]}, "business.mon: '9-12' is not HH:MM-HH:MM"),
        ({"tue": ["12:00-09:00"]}, "business.tue: '12:00-09:00' ends before it starts"),
        ({"wed": ["09:00-25:00"]}, "business.wed: '09:00-25:00' is not a time of day"),
        ({"thu": ["09:00-12:00", "11:00-13:00"]}, "business.thu: windows overlap"),
        ({"fri": "09:00-18:00"}, "business.fri: expected a list"),
        ({"closures": ["2026/10/09"]}, "business.closures: '2026/10/09' is not a YYYY-MM-DD date"),
        ({"extra_workdays": ["2026-02-30"]}, "business.extra_workdays: '2026-02-30' is not a YYYY-MM-DD"),
    ],
)
def test_bad_config_is_refused(business, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        BusinessCalendar(business=business)


def test_bad_zone_country_and_empty_calendar():
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessCalendar("Mars/Olympus")
    with pytest.raises(ValueError, match="'XX' is not a country"):
        BusinessCalendar(business={"country": "XX"}).is_workday(date(2026, 3, 13))
    closed = BusinessCalendar(business={k: [] for k in ("mon", "tue", "wed", "thu", "fri")} | {"country": ""})
    with pytest.raises(ValueError, match="no working time in the calendar"):
        closed.add(sh(2026, 3, 13, 9), H)
    assert closed.elapsed(sh(2026, 1, 1), sh(2030, 1, 1)) == timedelta(0)


def test_defaults_are_not_mutated():
    BusinessCalendar(business={"mon": ["08:00-09:00"]})
    assert DEFAULT_BUSINESS_HOURS["mon"] == ["09:00-12:00", "13:30-18:00"]
    assert DEFAULT_BUSINESS_HOURS["country"] == "CN"


def test_holidays_is_imported_lazily():
    code = (
        "import sys, csdesk.businesstime as b; b.BusinessCalendar(); "
        "assert 'holidays' not in sys.modules, 'imported at start-up'"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env={"PYTHONPATH": str(root)})


def test_fast_enough():
    cal = BusinessCalendar()
    start = sh(2026, 3, 2, 10)
    cal.add(start, 100 * H)  # warm the caches (holidays object, per-day windows)
    t0 = time.perf_counter()
    for _ in range(200):
        cal.add(start, 100 * H)
        cal.elapsed(start, start + timedelta(days=21))
    assert (time.perf_counter() - t0) / 200 < 0.005  # typically ~0.1 ms


# ---- properties ---------------------------------------------------------------------------------

ZONES = st.sampled_from([SH, UTC, ZoneInfo("America/New_York"), timezone(timedelta(hours=5, minutes=30))])
INSTANTS = st.builds(
    lambda minutes, tz: (datetime(2025, 1, 1, tzinfo=SH) + timedelta(minutes=minutes)).astimezone(tz),
    st.integers(0, 3 * 365 * 24 * 60),
    ZONES,
)
DURATIONS = st.integers(0, 100 * 60).map(lambda m: timedelta(minutes=m))
PAUSES = st.lists(
    st.tuples(st.integers(-3 * 24 * 60, 20 * 24 * 60), st.integers(1, 5 * 24 * 60)), max_size=4
)


def _inside_a_window(cal: BusinessCalendar, t: datetime) -> bool:
    local = t.astimezone(SH).date()
    return any(w.start < t <= w.end for d in (local, local - timedelta(days=1)) for w in cal.windows(d))


@settings(max_examples=300, deadline=None, database=None)
@given(INSTANTS, DURATIONS)
def test_add_then_elapsed_round_trips(start, duration):
    due = CAL.add(start, duration)
    assert due.tzinfo is UTC
    assert CAL.elapsed(start, due) == duration
    if duration:
        assert _inside_a_window(CAL, due)
    else:
        assert due == start


@settings(max_examples=300, deadline=None, database=None)
@given(INSTANTS, DURATIONS, PAUSES)
def test_add_then_elapsed_round_trips_with_pauses(start, duration, pauses):
    paused = [Interval(start + timedelta(minutes=a), start + timedelta(minutes=a + n)) for a, n in pauses]
    due = CAL.add(start, duration, paused)
    assert CAL.elapsed(start, due, paused) == duration
    if duration:
        assert _inside_a_window(CAL, due)
        # pauses only ever push the deadline later
        assert due >= CAL.add(start, duration)
