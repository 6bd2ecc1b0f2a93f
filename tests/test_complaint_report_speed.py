"""The complaint side of a report made cheaper (issue 15) gives exactly what the plain computation gives.

- UTCDateTime reads SQLAlchemy's own text on SQLite in one step: the same aware UTC times as before, for that text
  and for every other text a column may hold.
- `local_wall_clock` (the detail rows' deadlines as local wall-clock time, the offset found once per UTC hour) is
  `_naive_local` for instants drawn across years and around daylight-saving changes of several zones.
- The complaints sheet of the demo department, row by row, against a plain computation: each complaint read as an
  object, its times converted with `_naive_local`, its deadlines from `compute_sla` on its events, its customer, main
  number and labels looked up one by one — in Chinese and in English, with numbers masked and not.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings as hsettings, strategies as st

UTC = timezone.utc


# ---- reading stored times ------------------------------------------------------------------------------------


def _former_read(value):
    """UTCDateTime's reading on SQLite before (csdesk 939829b)."""
    if value is None:
        return None
    if value.__class__ is not str:
        return value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@hsettings(max_examples=300, deadline=None)
@given(t=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 12, 31)))
def test_stored_text_is_read_as_before(t):
    from sqlalchemy.dialects import sqlite

    from csdesk.models import UTCDateTime

    read = UTCDateTime().result_processor(sqlite.dialect(), None)
    texts = [t.strftime("%Y-%m-%d %H:%M:%S.%f"), t.strftime("%Y-%m-%d %H:%M:%S"), t.strftime("%Y-%m-%dT%H:%M:%S.%f"),
             t.strftime("%Y-%m-%d %H:%M"), t.strftime("%Y-%m-%d"), t.strftime("%Y-%m-%d %H:%M:%S.%f")[:23],
             t.strftime("%Y-%m-%d %H:%M:%S+08:00"), t.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")]
    for value in [*texts, t, None]:
        got, want = read(value), _former_read(value)
        assert got == want and (got is None or got.utcoffset() == timedelta(0)), value
        if got is not None:
            assert got.replace(tzinfo=None) == want.replace(tzinfo=None), value  # the same wall time, not only instant
    assert read(t.strftime("%Y-%m-%d %H:%M:%S.%f")).tzinfo is UTC


def test_a_damaged_time_is_refused_as_before():
    from sqlalchemy.dialects import sqlite

    from csdesk.models import UTCDateTime

    read = UTCDateTime().result_processor(sqlite.dialect(), None)
    for bad in ("2026-13-01 09:30:00.000000", "not a time at all!!!!!!!!!", "2026-11-24 09:30:00.12345x"):
        with pytest.raises(ValueError):
            _former_read(bad)
        with pytest.raises(ValueError):
            read(bad)


# ---- deadlines as local wall-clock time ---------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "UTC"]


def _changes(zone: str) -> list[datetime]:
    """Instants around the zone's offset changes of 2024–2027 (a minute, a microsecond either side)."""
    tz = ZoneInfo(zone)
    out = []
    t = datetime(2024, 1, 1, tzinfo=UTC)
    while t < datetime(2027, 12, 31, tzinfo=UTC):
        nxt = t + timedelta(minutes=30)
        if t.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            lo, hi = t, nxt
            while hi - lo > timedelta(microseconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=mid.microsecond)
                if mid.astimezone(tz).utcoffset() == t.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            out += [hi + timedelta(microseconds=d) for d in (-1, 0, 1)] + [hi + timedelta(minutes=m) for m in (-61, -30, 29, 59, 60)]
        t = nxt
    return out


@pytest.mark.parametrize("zone", ZONES)
def test_local_wall_clock_is_naive_local_around_offset_changes(zone):
    from csdesk.reporting.core import local_wall_clock
    from csdesk.reporting.core import _naive_local

    tz = ZoneInfo(zone)
    local = local_wall_clock(tz)
    instants = _changes(zone)
    assert zone == "UTC" or zone == "Asia/Shanghai" or len(instants) >= 8 * 6  # the changes are really there
    for t in instants + instants[::-1] + [None]:  # again, once the offsets are known
        assert local(t) == _naive_local(t, tz), (zone, t)
        if t is not None:
            assert local(t).tzinfo is None and local(t).__class__ is datetime


@hsettings(max_examples=300, deadline=None)
@given(t=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30)), zone=st.sampled_from(ZONES),
       other=st.sampled_from([UTC, timezone(timedelta(hours=8)), ZoneInfo("Europe/Berlin")]))
def test_local_wall_clock_is_naive_local(t, zone, other):
    from csdesk.reporting.core import local_wall_clock
    from csdesk.reporting.core import _naive_local

    tz = ZoneInfo(zone)
    aware = t.replace(tzinfo=other)  # a kept verdict's deadline may come with another zone than UTC
    assert local_wall_clock(tz)(aware) == _naive_local(aware, tz)


# ---- the complaints sheet against a plain computation --------------------------------------------------------


@pytest.fixture
def demo(db, tmp_path_factory, cli):
    """The demo department in the test's database (SQLite file or PostgreSQL); shared with tests/test_sla_fast.py."""
    if not db.restore("sla-demo"):
        built = tmp_path_factory.mktemp("sla-demo") / "demo.db"
        made = subprocess.run([sys.executable, "-m", "csdesk", "demo", "--db", str(built)], capture_output=True, text=True,
                              timeout=600)
        assert made.returncode == 0, made.stderr
        copied = cli("--db", str(built), "db", "copy", "--to", db.location)
        assert copied.exit_code == 0, copied.stderr
        db.keep("sla-demo")
    return db


def _plain_rows(desk, report, ids: list[int]) -> list[tuple]:
    """The sheet's rows for these complaints, computed the plain way, one complaint at a time."""
    from sqlalchemy import select

    from csdesk.i18n import _
    from csdesk.models import Complaint, ComplaintEvent, Customer, CustomerPhone, Staff
    from csdesk.reporting.core import _naive_local, _phone_shown
    from csdesk.workflows.complaints import SEVERITIES, STATUSES, calendar, compute_sla, rules

    session, tz = desk.session, desk.tz
    r, cal = rules(desk.settings), calendar(desk.settings)
    zh = report.lang == "zh"
    words = {"met": "on time", "missed": "past the deadline", "running": "not yet due", "paused": "on hold"}

    def word(clock) -> str | None:
        if clock.due is None:
            key = "paused" if clock.running else ""
        elif clock.breached:
            key = "missed"
        else:
            key = "running" if clock.running else "met"
        return _(words[key]) if key else None

    def name(staff_id):
        staff = session.get(Staff, staff_id)
        return staff.name if staff is not None else ""

    out = []
    for cid in ids:
        c = session.get(Complaint, cid)
        customer = session.get(Customer, c.customer_id)
        phones = session.execute(select(CustomerPhone).where(CustomerPhone.customer_id == c.customer_id)
                                 .order_by(CustomerPhone.position, CustomerPhone.id)).scalars().all()
        events = session.execute(select(ComplaintEvent).where(ComplaintEvent.complaint_id == cid, ComplaintEvent.kind != "note")).scalars().all()
        sla = compute_sla(events, c.severity, desk.now, cal, r)
        out.append((
            c.id, _naive_local(c.opened_at, tz), customer.code or "", customer.name or "",
            _phone_shown(phones[0].number if phones else None, report.masked),
            r.categories.get(c.category, c.category) if zh else c.category,
            SEVERITIES.get(c.severity, c.severity) if zh else c.severity, c.level,
            STATUSES.get(c.status, c.status) if zh else c.status, name(c.owner_id), name(c.assignee_id),
            _naive_local(c.acked_at, tz), _naive_local(sla.first_response.due, tz), word(sla.first_response),
            _naive_local(c.resolved_at, tz), _naive_local(sla.current.due, tz), word(sla.current),
            None, c.breach_count, _naive_local(c.closed_at, tz), c.summary,
        ))
    return out


@pytest.mark.parametrize("kind,period,lang,unmask", [("monthly", "2026-11", "zh", False), ("monthly", "2026-11", "en", True),
                                                     ("annual", "2026", "zh", True)])
def test_complaints_sheet_is_the_plain_computation(demo, kind, period, lang, unmask):
    from csdesk.reports import build_report, collect_details

    with demo.desk(as_="陈建国") as desk:
        report = build_report(desk, kind, period, lang=lang, unmask=unmask)
        from csdesk.reporting.core import speaking

        with speaking(lang):
            rows = list(collect_details(desk, report)["complaints"].rows())
            plain = _plain_rows(desk, report, [row[0] for row in rows])
    assert len(rows) > 20 and any(row[12] is not None and row[15] is not None for row in rows)
    hours = [row[17] for row in rows]
    assert any(h is not None for h in hours)
    for row, want in zip(rows, plain):
        got = list(row)
        got[17] = None  # business hours: compared with the recomputation in tests/test_sla_fast.py
        assert tuple(got) == want, row[0]
