"""The faster paths of the report's other areas (issue 15) give what the plain computations gave, on a generated
desk with odd rows added (calls of a kind or channel the calls area does not know, calls without an agent, voided
calls, calls on both sides of local midnight; callbacks with a number of their own, an empty one, a customer
without any number; quality samples in and out of the period): the calls counted a day at a time against one
GROUP BY, the qa sample read through IN against the join, the visits sheet with its customers looked up a batch at
a time against the join and the subquery, customer_cards / main_phone_map against plain queries, and the cheaper
time conversions (UTCDateTime's read of SQLite text, _naive_local) against datetime.replace()."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import conftest

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
_BUILT: dict[str, Path] = {}


@pytest.fixture
def story(tmp_path, tmp_path_factory) -> conftest.TestDB:
    """A small generated desk (benchmarks/generate.py) over four months, with the odd rows above added."""
    if "db" not in _BUILT:
        built = tmp_path_factory.mktemp("areaspeed") / "story.db"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--db", str(built), "--force",
                        "--now", "2026-11-25 18:00", "--days", "120", "--customers", "300", "--calls", "4000",
                        "--projects", "100", "--complaints", "300", "--callbacks", "2500", "--adjustments", "50",
                        "--no-check"], check=True, capture_output=True)
        _odd_rows(built)
        _BUILT["db"] = built
    path = tmp_path / "story.db"
    shutil.copy(_BUILT["db"], path)
    return conftest.TestDB(path)


def _odd_rows(path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(path)
    ids = [r[0] for r in con.execute("SELECT id FROM call ORDER BY id")]
    customer = con.execute("SELECT min(id) FROM customer").fetchone()[0]
    con.execute("UPDATE call SET agent_id = NULL WHERE id % 17 = 0")
    con.execute("UPDATE call SET voided_at = at WHERE id % 13 = 0")
    # Local midnight in Shanghai is 16:00 UTC: calls either side of it, of kinds and channels nobody knows.
    for n, (at, kind, channel, agent) in enumerate([
        ("2026-10-31 15:59:59.999999", "legacy", "fax", None), ("2026-10-31 16:00:00.000000", "legacy", "phone", None),
        ("2026-11-01 15:59:59.000000", "inquiry", "fax", None), ("2026-11-23 15:59:59.000000", "aa-old", "zz-chan", None),
        ("2026-11-01 03:00:00.000000", "zz-old", "aa-chan", None),  # first seen the other way round day by day
        ("2026-11-30 16:00:00.000000", "legacy", "fax", None), ("2026-09-30 16:00:00.000000", "legacy", "fax", None),
    ]):
        con.execute("INSERT INTO call (at, direction, channel, customer_id, agent_id, kind, summary, first_contact_resolved,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, 'x', ?, ?)", (at, "in" if n % 2 else "out", channel, customer, agent,
                                                                         kind, n % 3 == 0, at))
    staff = con.execute("SELECT min(id) FROM staff").fetchone()[0]
    for call_id in ids[::9]:
        con.execute("INSERT OR IGNORE INTO qa_sample (call_id, period, seed, assigned_to_id, sampled_by_id, sampled_at) "
                    "VALUES (?, '2026-11', 1, ?, ?, '2026-11-25 00:00:00.000000')", (call_id, staff, staff))
    con.execute("UPDATE callback SET phone = '13912345678' WHERE id % 7 = 0")
    con.execute("UPDATE callback SET phone = '' WHERE id % 11 = 0")
    lonely = con.execute("SELECT customer_id FROM callback ORDER BY id LIMIT 1").fetchone()[0]
    con.execute("DELETE FROM customer_phone WHERE customer_id = ?", (lonely,))
    con.commit()
    con.close()


def _windows(desk):
    from csdesk.reporting.core import Window
    from csdesk.reporting.periods import parse_period, previous_period

    out = []
    for kind, name in (("monthly", "2026-11"), ("monthly", "2026-10"), ("quarterly", "2026-Q4"), ("annual", "2026")):
        p = parse_period(kind, name, desk.tz, desk.now)
        for q in (p, previous_period(p, desk.tz)):
            out.append(Window(q, min(q.end, desk.now)))
    return out


# ---- calls ---------------------------------------------------------------------------------------------------


def _plain_calls(desk, w):
    """The calls area as one GROUP BY over the period and one count per day (the plain computation)."""
    from sqlalchemy import and_, case, func, select

    from csdesk.models import Call
    from csdesk.reporting.calls import _day_buckets
    from csdesk.reporting.core import _staff_names
    from csdesk.workflows.calls import CHANNELS, DIRECTIONS, KINDS

    session, c = desk.session, Call.__table__.c
    names = _staff_names(session)
    fcr = func.sum(case((and_(c.direction == "in", c.first_contact_resolved), 1), else_=0))
    rows = session.execute(select(c.kind, c.channel, c.direction, c.agent_id, func.count(), fcr)
                           .where(c.at >= w.start, c.at < w.end, c.voided_at.is_(None))
                           .group_by(c.kind, c.channel, c.direction, c.agent_id)).all()
    by_kind, by_channel, by_direction = {k: 0 for k in KINDS}, {k: 0 for k in CHANNELS}, {k: 0 for k in DIRECTIONS}
    by_agent: dict[str, int] = {}
    total = resolved_in = 0
    for kind, channel, direction, agent_id, count, resolved in rows:
        total += count
        resolved_in += resolved or 0
        by_kind[kind] = by_kind.get(kind, 0) + count
        by_channel[channel] = by_channel.get(channel, 0) + count
        by_direction[direction] = by_direction.get(direction, 0) + count
        agent = names.get(agent_id, "—") if agent_id is not None else "—"
        by_agent[agent] = by_agent.get(agent, 0) + count
    bucket_names, bounds = _day_buckets(w, desk.tz)
    per_day = {}
    for name, begins, ends in zip(bucket_names, [w.start, *bounds], [*bounds, w.end]):
        count = session.execute(select(func.count()).where(c.at >= begins, c.at < ends, c.voided_at.is_(None))).scalar_one()
        per_day[name] = count or (0 if begins < w.as_of else None)
    return total, resolved_in, by_kind, by_channel, by_direction, by_agent, per_day


def test_calls_counted_a_day_at_a_time_are_one_group_by(story):
    from csdesk.reporting.calls import compute_calls

    with story.desk(now=NOW) as desk:
        seen_unknown = False
        for w in _windows(desk):
            data = compute_calls(desk, w, {})
            total, resolved_in, by_kind, by_channel, by_direction, by_agent, per_day = _plain_calls(desk, w)
            assert data.values["calls.total"] == total
            assert data.values["calls.inbound"] == by_direction.get("in", 0)
            # dicts compared as lists: the order of the items (and of any kind or channel nobody knows) is kept
            assert list(data.items["calls.by_kind"].items()) == list(by_kind.items())
            assert list(data.items["calls.by_channel"].items()) == list(by_channel.items())
            assert list(data.items["calls.by_direction"].items()) == list(by_direction.items())
            assert list(data.items["calls.by_agent"].items()) == sorted(by_agent.items(), key=lambda kv: (-kv[1], kv[0]))
            assert list(data.items["calls.per_day"].items()) == list(per_day.items())
            from csdesk.reporting.core import rate

            assert data.values["calls.fcr_rate"] == rate(resolved_in, by_direction.get("in", 0))
            seen_unknown |= "legacy" in by_kind and "fax" in by_channel and "—" in by_agent
        assert seen_unknown  # the odd rows were in some period


# ---- quality checks -----------------------------------------------------------------------------------------


def test_qa_sample_read_through_in_is_the_join(story):
    from sqlalchemy import select

    from csdesk.models import Call, QaSample
    from csdesk.reporting import qa

    with story.desk(now=NOW) as desk:
        c, s = Call.__table__.c, QaSample.__table__.c
        some = False
        for w in _windows(desk):
            joined = desk.session.execute(
                select(c.id, c.agent_id).select_from(QaSample.__table__.join(Call.__table__, c.id == s.call_id))
                .where(c.at >= w.start, c.at < w.end, c.voided_at.is_(None))).all()
            agents, _items = qa._collect(desk, w)
            assert sum(a.sampled for a in agents.values()) == len(joined)
            some |= bool(joined)
            assert qa._collect(desk, w) is qa._collect(desk, w)  # read once for the figures and the sheet
        assert some


# ---- customers looked up a batch at a time ----------------------------------------------------------------


def test_customer_cards_and_main_phone_map_are_plain_reads(story):
    from sqlalchemy import select

    from csdesk.models import Customer
    from csdesk.reporting.core import customer_cards, main_phone_map, main_phone_of, main_phones

    with story.desk(now=NOW) as desk:
        session = desk.session
        cu = Customer.__table__.c
        plain = {i: (code, name) for i, code, name in session.execute(select(cu.id, cu.code, cu.name))}
        numbers = dict(session.execute(select(cu.id, main_phone_of(cu.id))).all())
        ids = sorted(plain) + [10**9, None]
        for part in (ids[:7], ids[3:250], ids):  # overlapping batches: the ones read before are kept
            cards = customer_cards(session, part)
            phones = main_phone_map(session, part)
            for cid in part:
                if cid is not None:
                    assert cards[cid] == plain.get(cid)
                    assert phones[cid] == numbers.get(cid)
        assert None in numbers.values()  # a customer without any number
        session.info.clear()
        assert main_phones(session, ids) == {k: v for k, v in numbers.items() if v is not None}


def _plain_visit_rows(desk, report, w):
    """The visits sheet's rows from one query joining each callback to its customer and reading the main number in
    a subquery (the plain computation)."""
    from sqlalchemy import select

    from csdesk.i18n import _
    from csdesk.models import Callback, Customer
    from csdesk.reporting.core import _naive_local, _phone_shown, _staff_names, main_phone_of
    from csdesk.workflows.callbacks import OUTCOMES, PURPOSES, STATUSES

    cb, cu = Callback.__table__.c, Customer.__table__.c
    names, tz, zh = _staff_names(desk.session), desk.tz, report.lang == "zh"
    said = {True: _("yes"), False: _("no"), None: ""}
    out = []
    for r in desk.session.execute(
        select(cb.id, cu.code, cu.name, cb.phone, main_phone_of(cu.id), cb.purpose, cb.first_due_at, cb.due_at, cb.assignee_id,
               cb.status, cb.attempts, cb.outcome, cb.closed_at, cb.satisfied, cb.score, cb.result_note)
        .select_from(Callback.__table__.join(Customer.__table__, cu.id == cb.customer_id))
        .where(cb.first_due_at >= w.start, cb.first_due_at < w.end, cb.status != "cancelled").order_by(cb.first_due_at, cb.id)
    ):
        (cid, code, name, phone, main, purpose, first_due, due, assignee, status, attempts, outcome, closed, satisfied, score,
         note) = r
        out.append((cid, code, name or "", _phone_shown(phone or main, report.masked), PURPOSES.get(purpose, purpose) if zh else purpose,
                    _naive_local(first_due, tz), _naive_local(due, tz), names.get(assignee, ""),
                    STATUSES.get(status, status) if zh else status, attempts,
                    (OUTCOMES.get(outcome, outcome) if zh else outcome) if outcome else "", _naive_local(closed, tz),
                    said[closed is not None and closed <= due] if status == "done" else "", said[satisfied], score, note or ""))
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_visit_rows_are_the_join_and_the_subquery(story, lang):
    from csdesk import reports
    from csdesk.reporting.core import speaking
    from csdesk.reporting.visits import visit_details

    with story.desk(now=NOW) as desk:
        report = reports.build_report(desk, "monthly", "2026-11", lang=lang)
        seen = []
        with speaking(lang):
            for w in _windows(desk):
                desk.session.info.clear()
                fast = list(visit_details(desk, report, w).rows())
                assert fast == _plain_visit_rows(desk, report, w)
                seen += fast
        assert any(r[3] for r in seen) and any(not r[3] for r in seen)  # numbers shown, and a customer without one


# ---- cheaper time conversions ----------------------------------------------------------------------------


def test_utc_text_is_read_as_replace_read_it():
    from sqlalchemy.dialects import sqlite

    from csdesk.models import UTCDateTime

    read = UTCDateTime().result_processor(sqlite.dialect(), None)
    texts = ["2026-11-30 16:00:00.000000", "2026-11-30 16:00:00", "2026-11-30 16:00", "2026-11-30 16", "2026-11-30",
             "2026-11-30T16:00:00.5", "2026-11-30T16:00:00+08:00", "2026-11-30 16:00:00Z", "2026-03-08 02:30:00.000001",
             "1999-12-31 23:59:59.999999"]
    for text in texts:
        got = read(text)
        assert got == datetime.fromisoformat(text).replace(tzinfo=timezone.utc), text
        assert got.tzinfo is timezone.utc and got.replace(tzinfo=None) == datetime.fromisoformat(text).replace(tzinfo=None)
    assert read(None) is None
    with pytest.raises(ValueError):
        read("not a time")


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe", "Europe/Berlin"])
def test_naive_local_is_astimezone_and_replace(zone):
    from csdesk.reporting.core import _naive_local

    tz = ZoneInfo(zone)
    utc = timezone.utc
    times = [datetime(2026, 1, 1, tzinfo=utc) + timedelta(minutes=37 * i, microseconds=i) for i in range(15000)]
    times += [datetime(2026, 11, 1, 5, 30, tzinfo=utc), datetime(2026, 11, 1, 6, 30, tzinfo=utc)]  # New York's repeated hour
    for t in times:
        plain = t.astimezone(tz).replace(tzinfo=None)
        got = _naive_local(t, tz)
        assert got == plain and got.tzinfo is None and got.fold == plain.fold, t
    assert _naive_local(None, tz) is None
