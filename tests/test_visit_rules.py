"""The arithmetic of return visits, without a database: deadlines, retries, series, settings.

Calendar: the default business hours (09:00-12:00, 13:30-18:00, Mon–Fri, CN holidays), Asia/Shanghai.
2026-11-24 is a Tuesday.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from csdesk import config
from csdesk.errors import InvalidValue
from csdesk.workflows import visit_rules as vr

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def local(t: datetime) -> datetime:
    return t.astimezone(SH).replace(tzinfo=None)


@pytest.fixture
def settings():
    return config.Settings(copy.deepcopy(config.DEFAULTS))


@pytest.fixture
def cal(settings):
    return vr.calendar(settings)


# --- deadlines -------------------------------------------------------------------------------------


def test_a_business_day_is_the_working_time_of_one_day(settings):
    # 09:00-12:00 (3h) + 13:30-18:00 (4h30) = 7h30.
    assert vr.business_day_length(settings) == timedelta(hours=7, minutes=30)


@pytest.mark.parametrize(
    "start, expected",
    [
        # Tue 15:00: 3h left today (15-18), 3h Wed morning, 1h30 after lunch → Wed 15:00.
        (at(2026, 11, 24, 15, 0), datetime(2026, 11, 25, 15, 0)),
        # Fri 17:00: 1h on Friday, then Mon 09-12 (3h), 13:30-17:00 (3h30) → Mon 17:00.
        (at(2026, 11, 27, 17, 0), datetime(2026, 11, 30, 17, 0)),
        # Fri 20:00, after hours: the whole of Monday → Mon 18:00.
        (at(2026, 11, 27, 20, 0), datetime(2026, 11, 30, 18, 0)),
        # Resolved during lunch, Tue 12:30: counting starts 13:30 → 4h30 Tue + 3h Wed morning → Wed 12:00.
        (at(2026, 11, 24, 12, 30), datetime(2026, 11, 25, 12, 0)),
    ],
)
def test_within_one_business_day(cal, settings, start, expected):
    within = vr.parse_within("1 business day", vr.business_day_length(settings))
    assert local(vr.deadline(cal, start, within)) == expected


@pytest.mark.parametrize(
    "start, expected",
    [
        # Tue 10:00 + 3 days = Fri 10:00, a working moment: stays.
        (at(2026, 11, 24, 10, 0), datetime(2026, 11, 27, 10, 0)),
        # Thu 10:00 + 3 days = Sun 10:00: moved back to the last working moment, Fri 18:00.
        (at(2026, 11, 26, 10, 0), datetime(2026, 11, 27, 18, 0)),
        # Wed 12:45 + 3 days = Sat 12:45 → back to Fri 18:00.
        (at(2026, 11, 25, 12, 45), datetime(2026, 11, 27, 18, 0)),
        # Mon 12:30 + 3 days = Thu 12:30, in the lunch break → back to Thu 12:00.
        (at(2026, 11, 30, 12, 30), datetime(2026, 12, 3, 12, 0)),
    ],
)
def test_within_three_calendar_days_keeps_the_promise(cal, settings, start, expected):
    within = vr.parse_within("3 days", vr.business_day_length(settings))
    assert local(vr.deadline(cal, start, within)) == expected


def test_calendar_span_with_no_working_time_before_it_runs_out_moves_forward(cal, settings):
    # Accepted Sat 2026-11-28 10:00, within 1 day = Sun 10:00: no working moment in between → Mon 09:00.
    within = vr.parse_within("1d", vr.business_day_length(settings))
    assert local(vr.deadline(cal, at(2026, 11, 28, 10, 0), within)) == datetime(2026, 11, 30, 9, 0)


def test_business_hours_allowance(cal, settings):
    within = vr.parse_within("4 business hours", vr.business_day_length(settings))
    assert within.business == timedelta(hours=4)
    # Tue 10:00: 2h to noon, lunch, 2h from 13:30 → 15:30.
    assert local(vr.deadline(cal, NOW, within)) == datetime(2026, 11, 24, 15, 30)


@pytest.mark.parametrize("text", ["soon", "0 business days", "3 lightyears", ""])
def test_bad_allowances(text):
    with pytest.raises(InvalidValue):
        vr.parse_within(text, timedelta(hours=7, minutes=30))


# --- retries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tried, expected",
    [
        # Tue 11:00 + 2 business hours: 1h to noon, lunch 12:00-13:30, 1h → 14:30.
        (at(2026, 11, 24, 11, 0), datetime(2026, 11, 24, 14, 30)),
        # Fri 17:00: 1h on Friday, the weekend, 1h Monday → Mon 10:00.
        (at(2026, 11, 27, 17, 0), datetime(2026, 11, 30, 10, 0)),
        # Tue 19:00 (after hours): counting starts Wed 09:00 → Wed 11:00.
        (at(2026, 11, 24, 19, 0), datetime(2026, 11, 25, 11, 0)),
        # Thu 2026-12-31 17:00: 1h, then New Year's Day (holiday) and the weekend → Mon 2027-01-04 10:00.
        (at(2026, 12, 31, 17, 0), datetime(2027, 1, 4, 10, 0)),
    ],
)
def test_no_answer_retry_lands_on_the_next_business_slot(cal, tried, expected):
    assert local(vr.retry_due(cal, tried, timedelta(hours=2))) == expected


def test_next_business_moment(cal):
    assert local(vr.next_business_moment(cal, at(2026, 11, 24, 10, 0))) == datetime(2026, 11, 24, 10, 0)
    assert local(vr.next_business_moment(cal, at(2026, 11, 24, 12, 0))) == datetime(2026, 11, 24, 13, 30)
    assert local(vr.next_business_moment(cal, at(2026, 11, 28, 10, 0))) == datetime(2026, 11, 30, 9, 0)


# --- series ----------------------------------------------------------------------------------------


def dues(rule: str, start: datetime, **kw) -> list[datetime]:
    return [local(t) for _, t in vr.occurrences(rule, start, SH, **kw)]


def test_every_maps_to_rrule():
    assert vr.every_to_rrule("3 months") == "FREQ=MONTHLY;INTERVAL=3"
    assert vr.every_to_rrule("2w") == "FREQ=WEEKLY;INTERVAL=2"
    assert vr.every_to_rrule("90d") == "FREQ=DAILY;INTERVAL=90"
    assert vr.every_to_rrule("1y") == "FREQ=YEARLY;INTERVAL=1"
    assert vr.every_to_rrule("6个月") == "FREQ=MONTHLY;INTERVAL=6"


def test_month_end_series_keeps_to_the_last_day():
    start = at(2027, 1, 31, 10, 0)
    rule = vr.with_end(vr.month_end_safe(vr.every_to_rrule("1 month"), start.date()), count=5)
    assert rule == "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=-1;COUNT=5"
    # Not 28 Feb → 28 Mar → 28 Apr (drift), not skipping February (RFC 5545 as is).
    assert dues(rule, start) == [
        datetime(2027, 1, 31, 10, 0), datetime(2027, 2, 28, 10, 0), datetime(2027, 3, 31, 10, 0),
        datetime(2027, 4, 30, 10, 0), datetime(2027, 5, 31, 10, 0),
    ]


def test_series_on_the_30th_falls_back_in_february_only():
    start = at(2027, 1, 30, 9, 30)
    rule = vr.with_end(vr.month_end_safe(vr.every_to_rrule("1 month"), start.date()), count=4)
    assert dues(rule, start) == [
        datetime(2027, 1, 30, 9, 30), datetime(2027, 2, 28, 9, 30), datetime(2027, 3, 30, 9, 30), datetime(2027, 4, 30, 9, 30),
    ]


def test_quarterly_from_the_30th_of_november():
    start = at(2026, 11, 30, 10, 0)
    rule = vr.with_end(vr.month_end_safe("FREQ=MONTHLY;INTERVAL=3", start.date()), count=4)
    assert dues(rule, start) == [
        datetime(2026, 11, 30, 10, 0), datetime(2027, 2, 28, 10, 0), datetime(2027, 5, 30, 10, 0), datetime(2027, 8, 30, 10, 0),
    ]


def test_yearly_on_29_february():
    start = at(2028, 2, 29, 10, 0)
    rule = vr.with_end(vr.month_end_safe("FREQ=YEARLY", start.date()), count=5)
    assert [d.date() for d in dues(rule, start)] == [
        date(2028, 2, 29), date(2029, 2, 28), date(2030, 2, 28), date(2031, 2, 28), date(2032, 2, 29),
    ]


def test_rules_that_name_their_days_are_left_alone():
    assert vr.month_end_safe("FREQ=MONTHLY;BYMONTHDAY=15", date(2027, 1, 31)) == "FREQ=MONTHLY;BYMONTHDAY=15"
    assert vr.month_end_safe("FREQ=WEEKLY", date(2027, 1, 31)) == "FREQ=WEEKLY"
    assert vr.month_end_safe("FREQ=MONTHLY", date(2027, 1, 15)) == "FREQ=MONTHLY"


def test_until_is_inclusive_of_its_day():
    start = at(2026, 12, 1, 10, 0)
    rule = vr.with_end("FREQ=MONTHLY;INTERVAL=1", until=date(2027, 3, 1))
    assert [d.date() for d in dues(rule, start)] == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]


def test_occurrences_after_a_seq_and_with_an_anchor():
    start = at(2026, 11, 24, 18, 0)
    rule = "FREQ=MONTHLY;INTERVAL=3;COUNT=4"
    # With skip_first the start is the anchor (handover day), not a visit: visits 1..3 follow it.
    assert vr.occurrences(rule, start, SH, skip_first=True)[0][0] == 1
    assert [local(t).date() for _, t in vr.occurrences(rule, start, SH, skip_first=True)] == [
        date(2027, 2, 24), date(2027, 5, 24), date(2027, 8, 24)]
    assert [s for s, _ in vr.occurrences(rule, start, SH, after_seq=2)] == [3, 4]


@pytest.mark.parametrize(
    "rule, says",
    [
        ("FREQ=HOURLY;COUNT=3", "FREQ must be"),
        ("garbage", "NAME=VALUE"),
        ("DTSTART:20270101T000000", "not an RRULE body"),
        ("FREQ=MONTHLY;BYMONTHDAY=40", "not a valid RRULE"),
    ],
)
def test_bad_rrules(rule, says):
    with pytest.raises(InvalidValue) as err:
        vr.check_rrule(rule, NOW, SH)
    assert says in err.value.message


def test_check_rrule_accepts_the_rrule_prefix():
    assert vr.check_rrule("RRULE:FREQ=MONTHLY;INTERVAL=3;COUNT=3", NOW, SH) == "FREQ=MONTHLY;INTERVAL=3;COUNT=3"


def test_warranty_series_every_three_months_at_least_three():
    # 24-month warranty from 2026-11-24: visits at +3 … +24 months = 8 (the last on 2028-11-24, the last day).
    rule, visits = vr.warranty_rule("3 months", date(2026, 11, 24), date(2028, 11, 24), 3)
    assert visits == 8
    assert rule == "FREQ=MONTHLY;INTERVAL=3;COUNT=9"
    # A 6-month warranty would give 2 visits; at least 3 are made.
    assert vr.warranty_rule("3 months", date(2026, 11, 24), date(2027, 5, 24), 3)[1] == 3


def test_warranty_from_the_31st_keeps_to_month_ends():
    rule, visits = vr.warranty_rule("3 months", date(2026, 8, 31), date(2027, 8, 31), 3)
    start = at(2026, 8, 31, 18, 0)
    assert visits == 4
    assert [local(t).date() for _, t in vr.occurrences(rule, start, SH, skip_first=True)] == [
        date(2026, 11, 30), date(2027, 2, 28), date(2027, 5, 31), date(2027, 8, 31)]


def test_first_periodic_visit_is_spread_over_the_first_interval():
    # 2026-11-24 + 3 months = 2027-02-24: 92 days; customer 10 → day 1 + 10 = 2026-12-05.
    assert vr.first_visit_day(10, date(2026, 11, 24), "3 months") == date(2026, 12, 5)
    assert vr.first_visit_day(102, date(2026, 11, 24), "3 months") == date(2026, 12, 5)
    assert vr.first_visit_day(91, date(2026, 11, 24), "3 months") == date(2027, 2, 24)


# --- settings --------------------------------------------------------------------------------------


def test_default_rules(settings):
    rules = vr.load_rules(settings)
    assert all(rules.on(r) for r in vr.RULES)
    assert rules.within["complaint"].business == timedelta(hours=7, minutes=30)
    assert rules.within["acceptance"].span is not None
    assert rules.every == {"warranty": "3 months", "key": "3 months", "vip": "2 months", "owner": "6 months"}
    assert rules.at_least == 3
    assert rules.retry_delay == timedelta(hours=2)
    assert rules.max_attempts == 3
    assert rules.default_time == time(18, 0)


@pytest.mark.parametrize(
    "change, says",
    [
        (("visit_rules", "complaint", "within", "whenever"), "visit_rules.complaint.within"),
        (("visit_rules", "vip", "every", "often"), "visit_rules.vip.every"),
        (("callbacks", None, "retry_delay", "soon"), "callbacks.retry_delay"),
        (("callbacks", None, "max_attempts", 0), "callbacks.max_attempts"),
        (("callbacks", None, "default_time", "25:00"), "callbacks.default_time"),
    ],
)
def test_bad_settings_are_named(settings, change, says):
    section, sub, key, value = change
    node = settings.data[section] if sub is None else settings.data[section][sub]
    node[key] = value
    with pytest.raises(InvalidValue) as err:
        vr.load_rules(settings)
    assert says in err.value.message


def test_config_file_can_switch_a_rule_off(tmp_path, monkeypatch):
    path = tmp_path / "rules.toml"
    path.write_text('[visit_rules.vip]\nenabled = false\n[callbacks]\nmax_attempts = 5\n', encoding="utf-8")
    monkeypatch.setenv("CSDESK_CONFIG", str(path))
    rules = vr.load_rules(config.load())
    assert not rules.on("vip") and rules.on("key")
    assert rules.max_attempts == 5


# --- the WHEN examples of the README ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("today 15:00", datetime(2026, 11, 24, 15, 0)),
        ("tomorrow", datetime(2026, 11, 25, 18, 0)),  # a date alone: by callbacks.default_time
        ("tomorrow 9:30", datetime(2026, 11, 25, 9, 30)),
        ("fri 10:00", datetime(2026, 11, 27, 10, 0)),
        ("+3d", datetime(2026, 11, 27, 10, 0)),
        ("+2h", datetime(2026, 11, 24, 12, 0)),
        ("next month", datetime(2026, 12, 24, 18, 0)),
        ("next month 10:00", datetime(2026, 12, 24, 10, 0)),
        ("next week 10:00", datetime(2026, 11, 30, 10, 0)),
        ("2026-12-01", datetime(2026, 12, 1, 18, 0)),
        ("2027-01-31 10:00", datetime(2027, 1, 31, 10, 0)),
        ("下周一", datetime(2026, 11, 30, 18, 0)),
        ("下周五 10点", datetime(2026, 12, 4, 10, 0)),
        ("明天 15:00", datetime(2026, 11, 25, 15, 0)),
    ],
)
def test_when_examples(text, expected):
    from csdesk.workflows.callbacks import due_text

    assert local(due_text(text, SH, NOW, time(18, 0))) == expected


def test_the_readme_settings_example_loads(tmp_path, monkeypatch):
    """The [callbacks]/[visit_rules] example in the README is a valid settings file."""
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: callbacks -->")[1].split("<!-- /section: callbacks -->")[0]
    [toml] = re.findall(r"```toml\n(.*?)```", section, re.S)
    path = tmp_path / "readme.toml"
    path.write_text(toml, encoding="utf-8")
    monkeypatch.setenv("CSDESK_CONFIG", str(path))
    rules = vr.load_rules(config.load())
    assert not rules.on("vip") and rules.on("key") and rules.max_attempts == 3
