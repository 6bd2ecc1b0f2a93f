"""Callbacks and return visits: scheduling, series, outcomes, retries, the rules that make visits,
closing the loop on complaints, and what the reminder run and the reports read.

Calendar: Asia/Shanghai, Mon–Fri 09:00–12:00 + 13:30–18:00, CN holidays. NOW = Tue 2026-11-24 10:00.
Defaults: retry 2 business hours, 3 attempts; a date without a time means 18:00.
Team: 王芳 specialist → 李娜 supervisor → 张强 manager → 陈总 director.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.workflows import callbacks as CB
from csdesk.workflows import hooks

SH = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
PHONE = "13812345678"
KEY_PHONE = "13900001111"
VIP_PHONE = "13700002222"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)


def sh(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def local(t):
    return t.astimezone(SH).replace(tzinfo=None)


@pytest.fixture
def act(team):
    """act(who, when, fn): fn(desk) in one write transaction, as `who`, at `when`."""
    from csdesk.workflows.customers import add_customer
    from csdesk.workflows.staff import add_staff

    with team.desk(as_="李娜") as desk:
        add_staff(desk, "刘洋", "specialist", reports_to="李娜")
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", [PHONE])
        add_customer(desk, "华府装饰", [KEY_PHONE], tier="key", manager="李娜")
        add_customer(desk, "赵敏", [VIP_PHONE], tier="vip")

    def run(who, when, fn):
        with team.desk(as_=who, now=when) as desk:
            return fn(desk)

    run.db = team
    return run


def schedule(act, due, when=NOW, who="王芳", **kw):
    kw.setdefault("phone", PHONE)
    return act(who, when, lambda d: CB.schedule_callback(d, due, **kw))


def attempt(act, cid, outcome, when, who="王芳", **kw):
    return act(who, when, lambda d: CB.record_attempt(d, cid, outcome, **kw))


def actions(db, cid):
    from sqlalchemy import text

    with db.database.engine.connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT action FROM audit_entry WHERE entity = 'callback' AND entity_id = :i ORDER BY id"), {"i": cid})]


def audit_after(db, cid, action):
    from sqlalchemy import text

    with db.database.engine.connect() as conn:
        return [json.loads(r[0]) for r in conn.execute(text(
            "SELECT after FROM audit_entry WHERE entity = 'callback' AND entity_id = :i AND action = :a ORDER BY id"),
            {"i": cid, "a": action})]


def add_project(db, code, customer_id, owner="王芳", handed=None, months=24, end=None, accepted=None):
    """A project row as the projects area leaves it after handover/acceptance."""
    from dateutil.relativedelta import relativedelta

    from csdesk.models import Project, Staff

    with db.desk(as_="王芳") as desk:
        owner_id = desk.session.exec(__import__("sqlmodel").select(Staff.id).where(Staff.name == owner)).one()
        p = Project(code=code, customer_id=customer_id, name=f"{code} 装修", owner_id=owner_id, contract_fen=100_000_00,
                    handed_over_at=handed, accepted_at=accepted, warranty_months=months,
                    warranty_end=end or ((handed.astimezone(SH).date() + relativedelta(months=months)) if handed else None),
                    stage="accepted" if accepted else ("handed_over" if handed else "signed"), created_at=NOW)
        desk.session.add(p)
        desk.session.flush()
        return p.id


# --- scheduling -----------------------------------------------------------------------------------


def test_schedule_a_promise_by_phone(act):
    made = schedule(act, sh(2026, 11, 24, 15), phone="138-1234-5678", note="报价确认后回电")
    [c] = made.callbacks
    assert (c.id, c.status, c.purpose, c.customer_code, c.customer_name) == (1, "pending", "promise", "C000001", "张伟")
    assert (local(c.due_at), c.assignee, c.attempts, c.note, c.phone) == (datetime(2026, 11, 24, 15), "王芳", 0, "报价确认后回电", "+8613812345678")
    assert c.first_due_at == c.due_at and not c.overdue
    assert actions(act.db, 1) == ["callback.schedule"]


def test_schedule_for_someone_else_and_by_customer_code(act):
    [c] = schedule(act, sh(2026, 11, 25, 10), phone=None, customer="C000002", assignee="刘洋", purpose="payment").callbacks
    assert (c.customer_code, c.assignee, c.purpose, c.purpose_label, c.phone) == ("C000002", "刘洋", "payment", "payment follow-up", "+8613900001111")


@pytest.mark.parametrize(
    "kw, error, says",
    [
        (dict(due=sh(2026, 11, 24, 9)), InvalidValue, "is in the past"),
        (dict(phone="13800000000"), NotFound, "no customer with phone"),
        (dict(phone=None), InvalidValue, "say who to call"),
        (dict(purpose="gossip"), InvalidValue, "unknown purpose"),
        (dict(purpose="complaint-visit"), InvalidValue, "needs the complaint"),
        (dict(assignee="nobody"), NotFound, "no staff member"),
        (dict(subject="order:5"), InvalidValue, "--for takes complaint:ID, project:CODE or call:ID"),
        (dict(subject="call:99"), NotFound, "no call #99"),
        (dict(subject="complaint:7"), NotFound, "no complaint #7"),
        (dict(count=3), InvalidValue, "give --every SPAN or --rrule RULE too"),
        (dict(every="1 month", rrule="FREQ=WEEKLY"), InvalidValue, "either --every or --rrule"),
        (dict(every="1d", count=101), InvalidValue, "between 1 and 100"),
        (dict(every="1d", until=date(2027, 12, 31)), InvalidValue, "more than 100 visits"),
        (dict(every="1 month", until=date(2026, 11, 1)), InvalidValue, "before the first visit"),
        (dict(every="soon", count=2), InvalidValue, "is not a span"),
    ],
)
def test_bad_schedules_change_nothing(act, kw, error, says):
    before = act.db.dump()
    due = kw.pop("due", sh(2026, 11, 25, 10))
    with pytest.raises(error) as err:
        schedule(act, due, **kw)
    assert says in err.value.message
    assert act.db.dump() == before


def test_schedule_needs_someone_acting(act):
    with pytest.raises(PermissionDenied):
        schedule(act, sh(2026, 11, 25, 10), who=None)


def test_schedule_for_a_project_or_a_call_finds_the_customer(act):
    from csdesk.workflows.call_intake import log_call

    pid = add_project(act.db, "P000001", 1)
    [c] = schedule(act, sh(2026, 11, 25, 10), phone=None, subject="project:P1").callbacks
    assert (c.customer_code, c.subject, c.project_code) == ("C000001", "project P000001", "P000001")
    call = act("王芳", NOW, lambda d: log_call(d, KEY_PHONE, "inquiry", "问发票"))
    [c2] = schedule(act, sh(2026, 11, 25, 10), phone=None, subject=f"call:{call.call.id}").callbacks
    assert (c2.customer_code, c2.subject, c2.purpose) == ("C000002", f"call #{call.call.id}", "promise")
    with pytest.raises(InvalidValue, match="project P000001 is about C000001, not C000002"):
        schedule(act, sh(2026, 11, 25, 10), phone=KEY_PHONE, subject="project:P000001")
    assert pid == 1


# --- series ---------------------------------------------------------------------------------------


def test_month_end_series_lands_on_the_last_day_of_shorter_months(act):
    made = schedule(act, sh(2027, 1, 31, 10), every="1 month", count=4, purpose="periodic", exact=True)
    assert made.rrule == "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=-1;COUNT=4"
    assert [local(c.due_at) for c in made.callbacks] == [
        datetime(2027, 1, 31, 10), datetime(2027, 2, 28, 10), datetime(2027, 3, 31, 10), datetime(2027, 4, 30, 10)]
    assert [c.seq for c in made.callbacks] == [1, 2, 3, 4]
    assert {c.series_id for c in made.callbacks} == {made.series_id}


def test_rrule_series_every_quarter(act):
    made = schedule(act, sh(2026, 11, 30, 10), rrule="FREQ=MONTHLY;INTERVAL=3;COUNT=3", exact=True)
    assert [local(c.due_at).date() for c in made.callbacks] == [date(2026, 11, 30), date(2027, 2, 28), date(2027, 5, 30)]


def test_series_until_a_date(act):
    made = schedule(act, sh(2026, 12, 1, 10), every="2w", until=date(2026, 12, 31))
    assert [local(c.due_at).date() for c in made.callbacks] == [date(2026, 12, 1), date(2026, 12, 15), date(2026, 12, 29)]


def test_open_ended_series_makes_the_next_visit_when_one_is_over(act):
    made = schedule(act, sh(2026, 12, 1, 10), every="1 month", exact=True)
    assert made.open_ended and len(made.callbacks) == 1
    first = made.callbacks[0].id
    result = attempt(act, first, "reached", sh(2026, 12, 1, 10, 30), score=4)
    assert result.callback.status == "done"
    listed = act("王芳", sh(2026, 12, 1, 11), lambda d: CB.list_callbacks(d, due="all"))
    assert [(c.seq, local(c.due_at)) for c in listed.rows] == [(2, datetime(2027, 1, 1, 10))]
    assert result.follow_up == [f"next visit of the series: #{listed.rows[0].id}, due 2027-01-01 10:00"]


def test_cancel_series_cancels_the_rest_and_ends_it(act):
    made = schedule(act, sh(2027, 1, 31, 10), every="1 month", count=4)
    second = made.callbacks[1].id
    cancelled = act("王芳", NOW, lambda d: CB.cancel_callback(d, second, "客户搬家", series=True))
    assert [c.id for c in cancelled] == [c.id for c in made.callbacks[1:]]
    assert all(c.status == "cancelled" and c.result_note == "客户搬家" for c in cancelled)
    detail = act("王芳", NOW, lambda d: CB.callback_detail(d, made.callbacks[0].id))
    assert detail.callback.status == "pending"
    assert (detail.series["active"], detail.series["ended_reason"]) == (False, "cancelled: 客户搬家")


# --- outcomes -------------------------------------------------------------------------------------


def test_reached_and_satisfied(act):
    cid = schedule(act, sh(2026, 11, 24, 15)).callbacks[0].id
    r = attempt(act, cid, "reached", sh(2026, 11, 24, 15, 5), satisfied=True, score=5, note="维修后无渗漏")
    c = r.callback
    assert (c.status, c.outcome, c.satisfied, c.score, c.result_note, c.attempts) == ("done", "reached", True, 5, "维修后无渗漏", 1)
    assert (local(c.closed_at), c.closed_by, r.follow_up) == (datetime(2026, 11, 24, 15, 5), "王芳", [])
    assert actions(act.db, cid) == ["callback.schedule", "callback.done"]


def test_no_answer_moves_to_the_next_business_slot_across_lunch_then_missed_after_three(act):
    cid = schedule(act, sh(2026, 11, 24, 11)).callbacks[0].id
    # Try 1 at Tue 11:00: +2 business hours = 1h before lunch, 1h after 13:30 → 14:30.
    r1 = attempt(act, cid, "no_answer", sh(2026, 11, 24, 11), note="无人接听")
    assert (r1.callback.attempts, local(r1.next_due), r1.missed) == (1, datetime(2026, 11, 24, 14, 30), False)
    assert r1.callback.status == "pending" and local(r1.callback.first_due_at) == datetime(2026, 11, 24, 11)
    # Try 2 at 14:30 → 16:30.
    r2 = attempt(act, cid, "no_answer", sh(2026, 11, 24, 14, 30))
    assert (r2.callback.attempts, local(r2.next_due)) == (2, datetime(2026, 11, 24, 16, 30))
    # Try 3: missed; the supervisor is named.
    r3 = attempt(act, cid, "no-answer", sh(2026, 11, 24, 16, 30))
    assert (r3.callback.status, r3.callback.attempts, r3.missed, r3.next_due, r3.supervisor) == ("missed", 3, True, None, "李娜")
    assert local(r3.callback.closed_at) == datetime(2026, 11, 24, 16, 30)
    assert actions(act.db, cid) == ["callback.schedule", "callback.no_answer", "callback.no_answer", "callback.missed"]
    # Each try's due time is kept in the audit trail, before and after.
    assert [a["due_at"] for a in audit_after(act.db, cid, "callback.no_answer")] == [
        "2026-11-24T06:30:00+00:00", "2026-11-24T08:30:00+00:00"]
    missed = act("李娜", sh(2026, 11, 24, 17), lambda d: CB.missed_callbacks(d, since=NOW))
    assert [(m.id, m.assignee, m.supervisor, m.outcome, m.attempts) for m in missed] == [(cid, "王芳", "李娜", "no_answer", 3)]
    with pytest.raises(InvalidTransition, match=r"callback #1 is missed; only a pending callback can be tried"):
        attempt(act, cid, "reached", sh(2026, 11, 24, 17))


def test_no_answer_on_friday_evening_moves_to_monday(act):
    cid = schedule(act, sh(2026, 11, 27, 17)).callbacks[0].id
    r = attempt(act, cid, "no_answer", sh(2026, 11, 27, 17))
    assert local(r.next_due) == datetime(2026, 11, 30, 10)  # 1h Friday, weekend, 1h Monday


def test_retry_delay_and_max_attempts_come_from_the_config(act, tmp_path):
    (tmp_path / "csdesk.toml").write_text('[callbacks]\nretry_delay = "30m"\nmax_attempts = 1\n', encoding="utf-8")
    cid = schedule(act, sh(2026, 11, 24, 11)).callbacks[0].id
    r = attempt(act, cid, "no_answer", sh(2026, 11, 24, 11))
    assert (r.missed, r.max_attempts) == (True, 1)


def test_wrong_number_is_missed_at_once(act):
    cid = schedule(act, sh(2026, 11, 24, 11)).callbacks[0].id
    r = attempt(act, cid, "wrong_number", sh(2026, 11, 24, 11), note="空号")
    assert (r.callback.status, r.callback.outcome, r.missed, r.callback.attempts) == ("missed", "wrong_number", True, 1)
    assert actions(act.db, cid)[-1] == "callback.wrong_number"


@pytest.mark.parametrize(
    "outcome, kw, says",
    [
        ("no_answer", dict(satisfied=True), "need --reached"),
        ("wrong_number", dict(score=3), "need --reached"),
        ("reached", dict(score=6), "a score is 1 to 5"),
        ("reached", dict(at=sh(2026, 11, 24, 12)), "is in the future"),
        ("reached", dict(at=sh(2026, 11, 23, 9)), "before the callback was scheduled"),
        ("hung up", {}, "unknown outcome"),
    ],
)
def test_bad_outcomes_change_nothing(act, outcome, kw, says):
    cid = schedule(act, sh(2026, 11, 24, 11)).callbacks[0].id
    before = act.db.dump()
    with pytest.raises(InvalidValue) as err:
        attempt(act, cid, outcome, NOW, **kw)
    assert says in err.value.message
    assert act.db.dump() == before


def test_attempts_are_recorded_in_order(act):
    cid = schedule(act, sh(2026, 11, 24, 11)).callbacks[0].id
    attempt(act, cid, "no_answer", sh(2026, 11, 24, 11, 30))
    with pytest.raises(InvalidValue, match="before the last try"):
        attempt(act, cid, "reached", sh(2026, 11, 24, 15), at=sh(2026, 11, 24, 11))


def test_missing_callback(act):
    with pytest.raises(NotFound, match="no callback #42"):
        attempt(act, 42, "reached", NOW)


# --- reschedule and cancel ------------------------------------------------------------------------


def test_reschedule_keeps_the_first_promise_and_the_reason(act):
    cid = schedule(act, sh(2026, 11, 24, 15)).callbacks[0].id
    c = act("王芳", NOW, lambda d: CB.reschedule_callback(d, cid, sh(2026, 11, 27, 10), "客户出差", assignee="刘洋"))
    assert (local(c.due_at), local(c.first_due_at), c.assignee) == (datetime(2026, 11, 27, 10), datetime(2026, 11, 24, 15), "刘洋")
    [after] = audit_after(act.db, cid, "callback.reschedule")
    assert after == {"due_at": "2026-11-27T02:00:00+00:00", "assignee_id": 5, "reason": "客户出差"}  # 刘洋 is staff #5
    with pytest.raises(InvalidValue, match="is in the past"):
        act("王芳", NOW, lambda d: CB.reschedule_callback(d, cid, sh(2026, 11, 24, 9)))
    with pytest.raises(InvalidValue, match="nothing to change"):
        act("王芳", NOW, lambda d: CB.reschedule_callback(d, cid, sh(2026, 11, 27, 10)))


def test_cancel_needs_a_reason_and_the_right_person(act):
    cid = schedule(act, sh(2026, 11, 24, 15)).callbacks[0].id
    with pytest.raises(InvalidValue, match="needs --reason"):
        act("王芳", NOW, lambda d: CB.cancel_callback(d, cid, "  "))
    with pytest.raises(PermissionDenied, match="only its assignee, whoever scheduled it, or a supervisor"):
        act("刘洋", NOW, lambda d: CB.cancel_callback(d, cid, "不需要了"))
    [c] = act("李娜", NOW, lambda d: CB.cancel_callback(d, cid, "客户已来电，问题已解决"))
    assert (c.status, c.result_note, c.closed_by) == ("cancelled", "客户已来电，问题已解决", "李娜")
    with pytest.raises(InvalidTransition, match="only a pending callback can be cancelled"):
        act("李娜", NOW, lambda d: CB.cancel_callback(d, cid, "again"))
    with pytest.raises(InvalidTransition, match="only a pending callback can be rescheduled"):
        act("李娜", NOW, lambda d: CB.reschedule_callback(d, cid, sh(2026, 11, 27, 10)))


# --- lists ----------------------------------------------------------------------------------------


@pytest.fixture
def spread(act):
    """Five callbacks: overdue (Mon 11:00), today 15:00, tomorrow 10:00 (刘洋, VIP), next Mon 10:00, next month."""
    ids = {}
    ids["overdue"] = schedule(act, sh(2026, 11, 23, 11), when=sh(2026, 11, 23, 10)).callbacks[0].id
    ids["today"] = schedule(act, sh(2026, 11, 24, 15)).callbacks[0].id
    ids["tomorrow"] = schedule(act, sh(2026, 11, 25, 10), phone=VIP_PHONE, assignee="刘洋", purpose="payment").callbacks[0].id
    ids["monday"] = schedule(act, sh(2026, 11, 30, 10)).callbacks[0].id
    ids["later"] = schedule(act, sh(2026, 12, 24, 18)).callbacks[0].id
    return ids


@pytest.mark.parametrize(
    "due, expected, overdue",
    [
        ("today", ["overdue", "today"], 1),
        ("tomorrow", ["tomorrow"], 0),
        ("week", ["overdue", "today", "tomorrow"], 1),
        ("overdue", ["overdue"], 1),
        ("all", ["overdue", "today", "tomorrow", "monday", "later"], 1),
        (None, ["overdue", "today"], 1),
    ],
)
def test_list_windows_overdue_first(act, spread, due, expected, overdue):
    result = act("王芳", NOW, lambda d: CB.list_callbacks(d, due=due))
    assert [c.id for c in result.rows] == [spread[k] for k in expected]
    assert (result.total, result.overdue) == (len(expected), overdue)
    assert [c.overdue for c in result.rows][:1] == ([True] if overdue else [False])


def test_list_filters(act, spread):
    mine = act("刘洋", NOW, lambda d: CB.list_callbacks(d, due="all", assignee="me"))
    assert [c.id for c in mine.rows] == [spread["tomorrow"]]
    by_name = act("王芳", NOW, lambda d: CB.list_callbacks(d, due="all", assignee="王芳"))
    assert len(by_name.rows) == 4
    by_customer = act("王芳", NOW, lambda d: CB.list_callbacks(d, due="all", customer=VIP_PHONE))
    assert [c.customer_name for c in by_customer.rows] == ["赵敏"]
    by_purpose = act("王芳", NOW, lambda d: CB.list_callbacks(d, due="all", purpose="回款跟进"))
    assert [c.purpose for c in by_purpose.rows] == ["payment"]
    limited = act("王芳", NOW, lambda d: CB.list_callbacks(d, due="all", limit=2))
    assert (len(limited.rows), limited.total) == (2, 5)
    with pytest.raises(InvalidValue, match="unknown --due"):
        act("王芳", NOW, lambda d: CB.list_callbacks(d, due="soon"))
    with pytest.raises(InvalidValue, match="only pending callbacks can be overdue"):
        act("王芳", NOW, lambda d: CB.list_callbacks(d, due="overdue", status="done"))


def test_overdue_is_computed_against_the_given_now(act, spread):
    later = act("王芳", sh(2026, 11, 25, 12), lambda d: CB.list_callbacks(d, due="today"))
    assert [c.id for c in later.rows if c.overdue] == [spread["overdue"], spread["today"], spread["tomorrow"]]


def test_due_callbacks_for_the_reminder_run(act, spread):
    due = act("王芳", NOW, lambda d: CB.due_callbacks(d, sh(2026, 11, 24, 14, 40), timedelta(minutes=30)))
    assert [(c.id, c.overdue, c.assignee) for c in due] == [(spread["overdue"], True, "王芳"), (spread["today"], False, "王芳")]


# --- the customer's screen, staff, history ---------------------------------------------------------


def test_customer_show_lists_pending_and_recent_visits(act, spread):
    from csdesk.workflows.customer_card import customer_view

    attempt(act, spread["overdue"], "reached", NOW, satisfied=False, score=2, note="嫌回电太慢")
    view = act("王芳", NOW, lambda d: customer_view(d, PHONE))
    rows = view.sections["callbacks"]
    assert [(r["id"], r["status"]) for r in rows] == [
        (spread["today"], "pending"), (spread["monday"], "pending"), (spread["later"], "pending"), (spread["overdue"], "done")]
    assert (rows[-1]["outcome"], rows[-1]["score"], rows[-1]["note"]) == ("reached unsatisfied", 2, "嫌回电太慢")


def test_staff_with_pending_callbacks_cannot_be_deactivated(act, spread):
    from csdesk.workflows.handover import deactivate_staff

    with pytest.raises(Conflict, match="刘洋 still owns open work: 1 callbacks pending"):
        act("李娜", NOW, lambda d: deactivate_staff(d, "刘洋"))


def test_history_shows_every_try_with_names(act):
    cid = schedule(act, sh(2026, 11, 24, 11)).callbacks[0].id
    attempt(act, cid, "no_answer", sh(2026, 11, 24, 11))
    act("李娜", sh(2026, 11, 24, 12), lambda d: CB.reschedule_callback(d, cid, sh(2026, 11, 25, 10), "客户要求明天", assignee="刘洋"))
    detail = act("王芳", sh(2026, 11, 24, 12), lambda d: CB.callback_detail(d, cid))
    assert [(h.actor, h.action) for h in detail.history] == [
        ("王芳", "callback.schedule"), ("王芳", "callback.no_answer"), ("李娜", "callback.reschedule")]
    assert detail.history[-1].changes == {"due_at": "2026-11-25T02:00:00+00:00", "assignee": "刘洋", "reason": "客户要求明天"}


# --- satisfaction figures -------------------------------------------------------------------------


def test_satisfaction_by_agent_customer_and_purpose(act):
    ids = [schedule(act, sh(2026, 11, 24, 11), assignee=a, phone=p).callbacks[0].id
           for a, p in (("王芳", PHONE), ("王芳", KEY_PHONE), ("刘洋", PHONE), ("刘洋", VIP_PHONE))]
    attempt(act, ids[0], "reached", sh(2026, 11, 24, 11), satisfied=True, score=5)
    attempt(act, ids[1], "reached", sh(2026, 11, 24, 11), satisfied=False, score=2, note="态度差")
    attempt(act, ids[2], "reached", sh(2026, 11, 24, 11), who="刘洋", satisfied=True, score=4)
    attempt(act, ids[3], "wrong_number", sh(2026, 11, 24, 11), who="刘洋")
    stats = act("李娜", sh(2026, 11, 24, 12), lambda d: CB.satisfaction_stats(d, "agent"))
    rows = {r.key: r for r in stats.rows}
    assert (rows["王芳"].visits, rows["王芳"].satisfied, rows["王芳"].unsatisfied) == (2, 1, 1)
    assert (str(rows["王芳"].satisfaction_rate), str(rows["王芳"].average_score)) == ("50.0", "3.5")
    assert (rows["刘洋"].visits, str(rows["刘洋"].satisfaction_rate), rows["刘洋"].wrong_number, rows["刘洋"].attempts) == (1, "100.0", 1, 2)
    t = stats.total
    assert (t.visits, t.satisfied, t.unsatisfied, str(t.satisfaction_rate), str(t.average_score)) == (3, 2, 1, "66.7", "3.7")
    by_customer = act("李娜", sh(2026, 11, 24, 12), lambda d: CB.satisfaction_stats(d, "customer"))
    assert [(r.key, r.label, r.visits) for r in by_customer.rows] == [("C000001", "张伟", 2), ("C000002", "华府装饰", 1), ("C000003", "赵敏", 0)]
    window = act("李娜", sh(2026, 11, 24, 12), lambda d: CB.satisfaction_stats(d, "purpose", since=sh(2026, 11, 25)))
    assert window.rows == [] and window.total.visits == 0
    with pytest.raises(InvalidValue, match="unknown --by"):
        act("李娜", NOW, lambda d: CB.satisfaction_stats(d, "weather"))


# --- visit rules fired by projects ----------------------------------------------------------------


def test_handover_makes_the_handover_visit_and_the_warranty_series(act):
    pid = add_project(act.db, "P000001", 1, handed=NOW)
    made = act("王芳", NOW, lambda d: hooks.fire("project_handed_over", d, project_id=pid))
    visits = [m for result in made for m in (result if isinstance(result, list) else [result])]
    handover = [m for m in visits if m.rule == "handover"]
    warranty = [m for m in visits if m.rule == "warranty"]
    # Tue 10:00 + 7h30 of business time: 2h + 4h30 on Tuesday, 1h on Wednesday → Wed 10:00.
    assert [(local(m.due_at), m.assignee, m.purpose) for m in handover] == [(datetime(2026, 11, 25, 10), "王芳", "handover-visit")]
    # 24 months of warranty from 2026-11-24: every 3 months, 8 visits, on the last one's day at 18:00.
    assert [local(m.due_at).date() for m in warranty] == [
        date(2027, 2, 24), date(2027, 5, 24), date(2027, 8, 24), date(2027, 11, 24),
        date(2028, 2, 24), date(2028, 5, 24), date(2028, 8, 24), date(2028, 11, 24)]
    assert {local(m.due_at).time() for m in warranty} == {datetime(2026, 1, 1, 18).time()}
    assert [m.seq for m in warranty] == list(range(1, 9))
    # Firing again (or generating) makes nothing new.
    again = act("王芳", NOW, lambda d: hooks.fire("project_handed_over", d, project_id=pid))
    assert again == [[]]
    assert {m.rule for m in act("王芳", NOW, lambda d: CB.generate_periodic_visits(d, NOW))} == {"key", "vip"}
    visits_for_project = act("王芳", NOW, lambda d: hooks.ask("project_visits", d.session, pid))
    assert [v["purpose"] for v in visits_for_project] == ["handover-visit"] + ["warranty-visit"] * 8
    assert set(visits_for_project[0]) == {"id", "due", "purpose", "status", "outcome", "score"}


def test_acceptance_visit_within_three_days(act):
    pid = add_project(act.db, "P000001", 1, handed=sh(2026, 11, 20, 10), accepted=sh(2026, 11, 26, 10))
    made = act("王芳", sh(2026, 11, 26, 10), lambda d: hooks.fire("project_accepted", d, project_id=pid))
    # Thu 10:00 + 3 days = Sun 10:00 → the last working moment before: Fri 18:00.
    assert [(local(m.due_at), m.purpose) for m in made] == [(datetime(2026, 11, 27, 18), "acceptance-visit")]
    assert act("王芳", sh(2026, 11, 26, 10), lambda d: hooks.fire("project_accepted", d, project_id=pid)) == [None]


def test_rules_switched_off_make_nothing(act, tmp_path):
    (tmp_path / "csdesk.toml").write_text(
        "[visit_rules.handover]\nenabled = false\n[visit_rules.warranty]\nenabled = false\n", encoding="utf-8")
    pid = add_project(act.db, "P000001", 1, handed=NOW)
    assert act("王芳", NOW, lambda d: hooks.fire("project_handed_over", d, project_id=pid)) == [[]]


def test_with_the_projects_area(act):
    P = pytest.importorskip("csdesk.workflows.projects")
    from decimal import Decimal

    act("王芳", NOW, lambda d: P.add_project(d, "三室两厅装修", PHONE, Decimal("100000")))
    act("王芳", NOW, lambda d: P.handover_project(d, "P000001"))
    listed = act("王芳", NOW, lambda d: CB.list_callbacks(d, due="all", customer=PHONE))
    assert [c.purpose for c in listed.rows][:2] == ["handover-visit", "warranty-visit"]
    assert local(listed.rows[0].due_at) == datetime(2026, 11, 25, 10)


# --- periodic visits ------------------------------------------------------------------------------


def test_generate_periodic_visits_is_idempotent(act):
    from csdesk.models import Customer

    from csdesk.workflows.customers import add_customer

    act("王芳", NOW, lambda d: add_customer(d, "钱业主", ["13600003333"]))
    # Owner of a project handed over 2026-05-20, whose 6-month warranty has ended.
    add_project(act.db, "P000001", 4, owner="刘洋", handed=sh(2026, 5, 20, 10), months=6)
    made = act("王芳", NOW, lambda d: CB.generate_periodic_visits(d, NOW))
    got = {(m.customer_code, m.rule): (local(m.due_at), m.assignee, m.seq) for m in made}
    assert got == {
        # key, customer 2: first visit spread over the first quarter: 2026-11-24 + 1 + 2 % 92 days = Fri 11-27.
        ("C000002", "key"): (datetime(2026, 11, 27, 18), "李娜", 1),
        # VIP, customer 3: + 1 + 3 % 61 = Sat 11-28 → the next working day, Mon 11-30.
        ("C000003", "vip"): (datetime(2026, 11, 30, 18), None, 1),
        # Owner: every 6 months from the handover, 2026-11-20 has passed → 2027-05-20 (the 2nd); its project's owner calls.
        ("C000004", "owner"): (datetime(2027, 5, 20, 18), "刘洋", 2),
    }
    assert all(m.purpose == "periodic" for m in made)
    # A second run makes nothing, and writes nothing.
    before = act.db.dump()
    assert act("王芳", NOW, lambda d: CB.generate_periodic_visits(d, NOW)) == []
    assert act.db.dump() == before
    # The key visit is done: the next one is made at once, a quarter after the first (Sat → Mon 2027-03-01).
    key_visit = next(m.id for m in made if m.rule == "key")
    r = attempt(act, key_visit, "reached", sh(2026, 11, 27, 15), who="李娜", satisfied=True, score=5)
    nxt = act("王芳", sh(2026, 11, 27, 15), lambda d: CB.list_callbacks(d, due="all", customer=KEY_PHONE))
    assert [(c.seq, local(c.due_at)) for c in nxt.rows] == [(2, datetime(2027, 3, 1, 18))]
    assert r.follow_up == [f"next visit of the series: #{nxt.rows[0].id}, due 2027-03-01 18:00"]
    assert act("王芳", sh(2026, 11, 27, 15), lambda d: CB.generate_periodic_visits(d)) == []
    # Standard customers without a handed-over project get nothing.
    assert "C000001" not in {m.customer_code for m in made}
    assert Customer  # imported for the reader: tiers live on customer.tier


def test_tier_change_ends_the_old_series(act):
    from csdesk.workflows.customers import edit_customer

    made = act("王芳", NOW, lambda d: CB.generate_periodic_visits(d))
    vip_visit = next(m.id for m in made if m.rule == "vip")
    act("王芳", NOW, lambda d: edit_customer(d, VIP_PHONE, tier="key"))
    again = act("王芳", NOW, lambda d: CB.generate_periodic_visits(d))
    # Customer 3 is now a key account: first visit 1 + 3 % 92 = 4 days on, Sat 11-28 → Mon 11-30.
    assert [(m.customer_code, m.rule, local(m.due_at)) for m in again] == [("C000003", "key", datetime(2026, 11, 30, 18))]
    old = act("王芳", NOW, lambda d: CB.callback_detail(d, vip_visit))
    assert (old.callback.status, old.callback.result_note) == ("cancelled", "rule key applies now, not vip")
    assert (old.series["active"], old.series["ended_reason"]) == (False, "rule key applies now, not vip")


def test_switching_a_periodic_rule_off(act, tmp_path):
    act("王芳", NOW, lambda d: CB.generate_periodic_visits(d))
    (tmp_path / "csdesk.toml").write_text("[visit_rules.key]\nenabled = false\n", encoding="utf-8")
    assert act("王芳", NOW, lambda d: CB.generate_periodic_visits(d)) == []
    key = act("王芳", NOW, lambda d: CB.list_callbacks(d, due="all", status="all", customer=KEY_PHONE))
    assert [(c.status, c.result_note) for c in key.rows] == [("cancelled", "rule key switched off")]


def test_dry_run_says_what_would_be_made_and_writes_nothing(act):
    before = act.db.dump()
    with act.db.database.session() as session:
        from csdesk import config
        from csdesk.workflows import Desk

        desk = Desk(session=session, settings=config.load(act.db.path), now=NOW.astimezone(UTC))
        would = CB.generate_periodic_visits(desk, dry_run=True)
    assert sorted((m.customer_code, m.rule, m.id) for m in would) == [("C000002", "key", None), ("C000003", "vip", None)]
    assert act.db.dump() == before


def test_warranty_sweep_for_projects_handed_over_before_the_rule(act):
    # Handed over 2026-06-30 (24 months): visits every 3 months from then; from today on: seq 2 onwards.
    add_project(act.db, "P000001", 1, handed=sh(2026, 6, 30, 10))
    made = act("王芳", NOW, lambda d: CB.generate_periodic_visits(d))
    warranty = [m for m in made if m.rule == "warranty"]
    # The 30th: "the last of the 28th–30th" each time, so December keeps the 30th and February its last day.
    assert [(m.seq, local(m.due_at).date()) for m in warranty[:3]] == [
        (2, date(2026, 12, 30)), (3, date(2027, 3, 30)), (4, date(2027, 6, 30))]
    assert len(warranty) == 7 and warranty[-1].seq == 8
    # While its warranty visits run, the owner gets no 6-monthly visit on top.
    assert [m for m in made if m.rule == "owner"] == []
    assert act("王芳", NOW, lambda d: CB.generate_periodic_visits(d)) == []


def test_generating_when_nothing_is_new_costs_the_same_whatever_the_number_of_customers(act):
    """Set-based: the statements run do not grow with the customers (the 20,000-customer target)."""
    from sqlalchemy import event, insert

    from csdesk.models import Customer

    def statements():
        counted = []
        engine = act.db.database.engine
        listener = lambda *a, **k: counted.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert act("王芳", NOW, lambda d: CB.generate_periodic_visits(d)) == []
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(counted)

    act("王芳", NOW, lambda d: CB.generate_periodic_visits(d))
    few = statements()

    def add_many(desk):
        desk.session.execute(insert(Customer), [
            {"code": f"K{i:06d}", "name": f"客户{i}", "tier": ("key", "vip", "standard")[i % 3], "created_at": NOW}
            for i in range(600)])
    act("王芳", NOW, add_many)
    made = act("王芳", NOW, lambda d: CB.generate_periodic_visits(d))
    assert len(made) == 400
    assert statements() == few


# --- closing the loop on complaints ---------------------------------------------------------------


@pytest.fixture
def complaints():
    return pytest.importorskip("csdesk.workflows.complaints")


def resolved_complaint(act, C, opened=NOW, resolved=sh(2026, 11, 24, 11)):
    c = act("王芳", opened, lambda d: C.open_complaint(d, PHONE, "normal", "quality", "墙面开裂"))
    act("王芳", resolved, lambda d: C.resolve_complaint(d, c.id, "已修补"))
    return c.id


def test_resolving_a_complaint_schedules_its_return_visit(act, complaints):
    cid = resolved_complaint(act, complaints)
    [visit] = act("王芳", sh(2026, 11, 24, 11), lambda d: CB.list_callbacks(d, due="all")).rows
    # Resolved Tue 11:00 + 1 business day (7h30): 1h + 4h30 Tuesday, 2h Wednesday → Wed 11:00, for its owner.
    assert (visit.purpose, visit.complaint_id, visit.assignee, local(visit.due_at)) == (
        "complaint-visit", cid, "王芳", datetime(2026, 11, 25, 11))
    assert visit.rule == "complaint"


def test_a_satisfied_visit_closes_the_complaint(act, complaints):
    C = complaints
    cid = resolved_complaint(act, C)
    [visit] = act("王芳", sh(2026, 11, 25, 10), lambda d: CB.list_callbacks(d, due="all")).rows
    with pytest.raises(InvalidValue, match="say --satisfied or --unsatisfied"):
        attempt(act, visit.id, "reached", sh(2026, 11, 25, 10))
    r = attempt(act, visit.id, "reached", sh(2026, 11, 25, 10), satisfied=True, score=5)
    assert r.follow_up == [f"complaint #{cid} closed (customer satisfied)"]
    view = act("王芳", sh(2026, 11, 25, 10), lambda d: C.complaint_view(d, cid))
    assert view.complaint.status == "closed"
    assert act("王芳", sh(2026, 11, 25, 10), lambda d: hooks.ask("satisfied_visit", d.session, cid)) == visit.id


def test_an_unsatisfied_visit_reopens_and_escalates(act, complaints):
    C = complaints
    cid = resolved_complaint(act, C)
    [visit] = act("王芳", sh(2026, 11, 25, 10), lambda d: CB.list_callbacks(d, due="all")).rows
    with pytest.raises(InvalidValue, match="needs --note"):
        attempt(act, visit.id, "reached", sh(2026, 11, 25, 10), satisfied=False)
    r = attempt(act, visit.id, "reached", sh(2026, 11, 25, 10), satisfied=False, score=1, note="裂缝又出现了")
    assert r.follow_up == [f"complaint #{cid} reopened and escalated to level 2 (customer not satisfied)"]
    view = act("王芳", sh(2026, 11, 25, 10), lambda d: C.complaint_view(d, cid))
    assert (view.complaint.status, view.complaint.level) == ("acknowledged", 2)
    assert any("裂缝又出现了" in e.text for e in view.events)
    assert act("王芳", sh(2026, 11, 25, 10), lambda d: hooks.ask("satisfied_visit", d.session, cid)) is None
    # Resolved again by the supervisor: a new return visit, and the old one no longer counts.
    act("李娜", sh(2026, 11, 26, 10), lambda d: C.resolve_complaint(d, cid, "重新修补"))
    pending = act("王芳", sh(2026, 11, 26, 10), lambda d: CB.list_callbacks(d, due="all")).rows
    assert [(p.purpose, p.complaint_id, local(p.due_at)) for p in pending] == [("complaint-visit", cid, datetime(2026, 11, 27, 10))]
    with pytest.raises(InvalidTransition, match="no return visit has found the customer satisfied"):
        act("李娜", sh(2026, 11, 26, 10), lambda d: C.close_complaint(d, cid))


def test_a_complaint_visit_does_not_touch_a_complaint_being_worked_on(act, complaints):
    C = complaints
    c = act("王芳", NOW, lambda d: C.open_complaint(d, PHONE, "normal", "quality", "墙面开裂"))
    [visit] = schedule(act, sh(2026, 11, 24, 11), phone=None, subject=f"complaint:{c.id}").callbacks
    assert visit.purpose == "complaint-visit"
    r = attempt(act, visit.id, "reached", sh(2026, 11, 24, 11), satisfied=True)
    assert r.follow_up == [f"complaint #{c.id} is open, not resolved: left as it is"]
