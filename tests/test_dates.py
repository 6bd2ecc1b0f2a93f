"""Human dates, durations and spans, read in Asia/Shanghai, returned as aware UTC.

The clock: Tuesday 2026-11-24 10:00 in Shanghai (02:00 UTC).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from conftest import NOW
from csdesk import dates
from csdesk.errors import InvalidValue

SH = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


def when(text, future=True, **kw):
    value = dates.parse_when(text, tz=SH, at=NOW, future=future, **kw)
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0), "results are aware UTC"
    return value


def sh(y, mo, d, h=0, mi=0, s=0):
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-24", sh(2026, 11, 24)),
        ("2026-11-24 14:30", sh(2026, 11, 24, 14, 30)),
        ("2026-11-24T14:30", sh(2026, 11, 24, 14, 30)),
        ("2026-11-24 9:05", sh(2026, 11, 24, 9, 5)),
        ("2026/11/24 14:30", sh(2026, 11, 24, 14, 30)),
        ("2026-11-24T14:30:15", sh(2026, 11, 24, 14, 30, 15)),
        ("2026-11-24T14:30+08:00", sh(2026, 11, 24, 14, 30)),
        ("2026-11-24T06:30Z", sh(2026, 11, 24, 14, 30)),  # an explicit offset wins over the zone
        ("2026-11-24T14:30+00:00", sh(2026, 11, 24, 22, 30)),
        ("now", sh(2026, 11, 24, 10, 0)),
        ("today", sh(2026, 11, 24)),
        ("today 14:30", sh(2026, 11, 24, 14, 30)),
        ("today 3pm", sh(2026, 11, 24, 15, 0)),
        ("14:30", sh(2026, 11, 24, 14, 30)),
        ("yesterday", sh(2026, 11, 23)),
        ("yesterday 9:00", sh(2026, 11, 23, 9, 0)),
        ("tomorrow", sh(2026, 11, 25)),
        ("今天", sh(2026, 11, 24)),
        ("今天 14点30", sh(2026, 11, 24, 14, 30)),
        ("明天", sh(2026, 11, 25)),
        ("明天 15:00", sh(2026, 11, 25, 15, 0)),
        ("昨天", sh(2026, 11, 23)),
        ("后天", sh(2026, 11, 26)),
        ("-2h", sh(2026, 11, 24, 8, 0)),
        ("-2 h", sh(2026, 11, 24, 8, 0)),
        ("2 hours ago", sh(2026, 11, 24, 8, 0)),
        ("+30m", sh(2026, 11, 24, 10, 30)),
        ("+3d", sh(2026, 11, 27, 10, 0)),
        ("+3天", sh(2026, 11, 27, 10, 0)),
        ("in 3 days", sh(2026, 11, 27, 10, 0)),
        ("+2w", sh(2026, 12, 8, 10, 0)),
        ("+1mo", sh(2026, 12, 24, 10, 0)),
        ("-1y", sh(2025, 11, 24, 10, 0)),
        ("next week", sh(2026, 11, 30)),  # the coming Monday
        ("next month", sh(2026, 12, 24)),
    ],
)
def test_parse_when(text, expected):
    assert when(text) == expected


def test_default_time_applies_to_bare_days():
    from datetime import time

    assert when("tomorrow", default_time=time(9, 0)) == sh(2026, 11, 25, 9, 0)
    assert when("2026-12-01", default_time=time(18, 0)) == sh(2026, 12, 1, 18, 0)


@pytest.mark.parametrize(
    "text, future, expected",
    [
        # On Tuesday 10:00 "fri" means this coming Friday, or — for things that happened — last Friday.
        ("fri 10:00", True, sh(2026, 11, 27, 10, 0)),
        ("fri 10:00", False, sh(2026, 11, 20, 10, 0)),
        ("周五", True, sh(2026, 11, 27)),
        ("周五", False, sh(2026, 11, 20)),
        ("mon", True, sh(2026, 11, 30)),
        ("mon", False, sh(2026, 11, 23)),
        # Today's weekday: a time still ahead is today (future) or last week (past), and vice versa.
        ("tue 11:00", True, sh(2026, 11, 24, 11, 0)),
        ("tue 11:00", False, sh(2026, 11, 17, 11, 0)),
        ("tue 09:00", True, sh(2026, 12, 1, 9, 0)),
        ("tue 09:00", False, sh(2026, 11, 24, 9, 0)),
    ],
)
def test_weekday_names_future_and_past(text, future, expected):
    assert when(text, future=future) == expected


def test_result_is_utc_read_in_shanghai():
    value = when("today 14:30")
    assert value == datetime(2026, 11, 24, 6, 30, tzinfo=UTC)
    assert dates.fmt(value, SH) == "2026-11-24 14:30"
    assert dates.iso(value, SH) == "2026-11-24T14:30:00+08:00"


def test_other_zone_reads_wall_clock_there():
    value = dates.parse_when("today 14:30", tz=ZoneInfo("Europe/Berlin"), at=NOW)
    assert value == datetime(2026, 11, 24, 13, 30, tzinfo=UTC)


def test_parse_date_is_a_local_calendar_day():
    # 02:00 UTC is still the 24th in Shanghai; "yesterday" is the 23rd.
    assert dates.parse_date("yesterday", tz=SH, at=NOW) == date(2026, 11, 23)
    assert dates.parse_date("+3d", tz=SH, at=NOW) == date(2026, 11, 27)


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "empty"),
        ("garbage", "is not a date/time"),
        ("next fri", "is not a date/time"),
        ("2026-13-01", "is not a date/time"),
        ("2026-02-30 9:00", "no such day"),
        ("today 25:00", "not a time of day"),
        ("25:00", "not a time of day"),
        ("+3q", "unknown unit"),
        ("1800-01-01", "out of range"),
    ],
)
def test_bad_dates_are_invalid_values(text, says):
    with pytest.raises(InvalidValue) as err:
        when(text)
    assert says in err.value.message


def test_now_honours_csdesk_now(monkeypatch):
    assert dates.now() == NOW
    assert dates.now().tzinfo is not None
    monkeypatch.setenv("CSDESK_NOW", "2026-01-02T03:04:05")  # naive: read as UTC
    assert dates.now() == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


# ---- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("5m30s", 330),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("2h", 7200),
        ("90s", 90),
        ("45", 45 * 60),  # a bare number is minutes
        ("5min", 300),
        ("5:30", 330),
        ("1d", 86400),
    ],
)
def test_parse_duration(text, seconds):
    assert dates.parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "abc", "-5m", "1.5h", "400d"])
def test_bad_durations(text):
    with pytest.raises(InvalidValue):
        dates.parse_duration(text)


def test_fmt_duration_reads_back():
    assert dates.fmt_duration(timedelta(seconds=330)) == "5m30s"
    assert dates.fmt_duration(timedelta(minutes=90)) == "1h30m"
    assert dates.fmt_duration(timedelta(0)) == "0m"
    assert dates.parse_duration(dates.fmt_duration(timedelta(seconds=4000))) == timedelta(seconds=4000)


# ---- spans ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, span",
    [
        ("24m", relativedelta(months=24)),  # here m is months: a warranty of 24 months
        ("3 months", relativedelta(months=3)),
        ("3 mo", relativedelta(months=3)),
        ("6个月", relativedelta(months=6)),
        ("2y", relativedelta(years=2)),
        ("1年", relativedelta(years=1)),
        ("90d", relativedelta(days=90)),
        ("2w", relativedelta(weeks=2)),
    ],
)
def test_parse_span(text, span):
    assert dates.parse_span(text) == span


def test_span_of_24_months_from_a_handover_date():
    handed_over = date(2026, 11, 24)
    assert handed_over + dates.parse_span("24m") == date(2028, 11, 24)
    assert date(2026, 1, 31) + dates.parse_span("1 month") == date(2026, 2, 28)


@pytest.mark.parametrize("text", ["", "x", "0m", "3 fortnights", "1201m"])
def test_bad_spans(text):
    with pytest.raises(InvalidValue):
        dates.parse_span(text)
