"""Complaints: SLA deadlines worked out by hand, the state machine, escalation (by hand, automatic,
repeated and concurrent), and what other areas see.

Default calendar: Asia/Shanghai, Mon–Fri 09:00–12:00 + 13:30–18:00 (7.5 h a day), China's holidays and
make-up working days (调休) for 2026. Default SLA: first response / resolution normal 4 h / 24 h,
serious 2 h / 16 h, major 1 h / 8 h; 8 h at each level reached by escalation.
Team: 王芳 specialist → 李娜 supervisor → 张强 manager → 陈总 director.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.workflows import complaints as C

SH = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
H = timedelta(hours=1)
PHONE = "13812345678"
KEY_PHONE = "13900001111"


def sh(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


@pytest.fixture
def desk_(team):
    """act(who, when, fn) runs fn(desk) in one write transaction as `who` at `when`."""
    from csdesk.workflows.customers import add_customer

    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", [PHONE])
        add_customer(desk, "华府装饰", [KEY_PHONE], tier="key")

    def act(who, when, fn):
        with team.desk(as_=who, now=when) as desk:
            return fn(desk)

    act.db = team
    return act


def opened(act, when, severity="normal", who="王芳", phone=PHONE, **kw):
    return act(who, when, lambda d: C.open_complaint(d, phone, severity, kw.pop("category", "quality"), "墙面开裂", **kw))


def view(act, cid, when):
    return act("王芳", when, lambda d: C.complaint_view(d, cid))


def events(db, cid):
    from sqlalchemy import text

    with db.database.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT kind, from_value, to_value, actor_id, key FROM complaint_event WHERE complaint_id = :c ORDER BY at, id"), {"c": cid})]


# ---- SLA worked out by hand -----------------------------------------------------------------------


def test_friday_evening_before_the_spring_festival_week(desk_):
    # Fri 02-13 17:30–18:00 0.5 h; Sat 02-14 is a make-up workday: 09:00–12:00 (3.5 h), 13:30–14:00 → 4 h.
    c = opened(desk_, sh(2026, 2, 13, 17, 30))
    assert c.first_response_due == sh(2026, 2, 14, 14)
    # Sat gives 7.5 h (8 h); 02-15 Sun, 02-16..20 holidays, 21–22 weekend, 23 day off; Tue 24 (15.5 h),
    # Wed 25 (23 h), Thu 26 09:00–10:00 → 24 h.
    assert c.resolution_due == sh(2026, 2, 26, 10)
    lines = "\n".join(line for _, body in desk_("王芳", sh(2026, 2, 24, 10), lambda d: C.explain_sla(d, c.id)).sections for line in body)
    assert "2026-02-14 (Sat) is a make-up workday: working 09:00-12:00, 13:30-18:00" in lines
    assert "2026-02-16 (Mon) skipped: holiday: Chinese New Year's Eve" in lines
    assert "2026-02-23 (Mon) skipped: holiday: Day off (substituted from 02/28/2026)" in lines
    assert "Deadline: 2026-02-26 10:00 (Thu) (2026-02-26 02:00 UTC)" in lines
    # On Tue 02-24 10:00 the first response is 5 business hours late (Sat 14:00–18:00 4 h + Tue 1 h).
    fr, res = view(desk_, c.id, sh(2026, 2, 24, 10)).deadlines
    assert (fr.state, fr.business_left) == ("breached", "overdue 5h00m")
    assert (res.state, res.business_used, res.business_left) == ("running", "9h00m", "15h00m left")


def test_national_day_week(desk_):
    # Wed 09-30 17:30: 0.5 h; Oct 1–7 off; Thu 10-08 09:00–12:00, 13:30–14:00 → 4 h.
    c = opened(desk_, sh(2026, 9, 30, 17, 30))
    assert c.first_response_due == sh(2026, 10, 8, 14)
    # 0.5 + Thu 7.5 + Fri 7.5 + make-up Sat 10-10 7.5 = 23 h; Sun 10-11 off; Mon 10-12 09:00–10:00.
    assert c.resolution_due == sh(2026, 10, 12, 10)


def test_opened_during_lunch(desk_):
    c = opened(desk_, sh(2026, 11, 24, 12, 10), "serious")
    # Counting starts 13:30: 2 h → 15:30.
    assert c.first_response_due == sh(2026, 11, 24, 15, 30)
    # 16 h: Tue 4.5, Wed 7.5 (12), Thu 09:00–12:00 (15), 13:30–14:30.
    assert c.resolution_due == sh(2026, 11, 26, 14, 30)
    sections = desk_("王芳", sh(2026, 11, 24, 12, 10), lambda d: C.explain_sla(d, c.id)).sections
    assert "Counting starts 2026-11-24 13:30 (Tue)" in sections[0][1]


def test_across_the_spring_festival_to_the_second_make_up_saturday(desk_):
    c = opened(desk_, sh(2026, 2, 13, 17))
    # 1 + 7.5 (Sat 02-14) + Tue 24 7.5 + Wed 25 7.5 = 23.5 → Thu 02-26 09:30.
    assert c.resolution_due == sh(2026, 2, 26, 9, 30)
    # A major complaint on Fri 02-27 17:00 starts at the manager level; 8 h: Fri 1 h, make-up Sat 02-28
    # 09:00–12:00 (4 h), 13:30–17:30.
    major = opened(desk_, sh(2026, 2, 27, 17), "major")
    assert (major.level, major.assignee, major.owner) == (3, "张强", "王芳")
    assert major.first_response_due == sh(2026, 2, 27, 18)
    assert major.resolution_due == sh(2026, 2, 28, 17, 30)
    # At 17:29 only the first complaint (due Thu 02-26 09:30) has missed its deadline.
    assert [r.complaint_id for r in desk_(None, sh(2026, 2, 28, 17, 29), lambda d: C.auto_escalate(d))] == [c.id]
    done = desk_(None, sh(2026, 2, 28, 17, 30), lambda d: C.auto_escalate(d))
    assert [(r.complaint_id, r.from_level, r.to_level, r.to_assignee, r.missed_due) for r in done] == [
        (major.id, 3, 4, "陈总", sh(2026, 2, 28, 17, 30))
    ]
    # The director's 8 h from Sat 17:30: 0.5 h Sat, Sun off, Mon 03-02 7.5 h → 18:00.
    deadlines = view(desk_, major.id, sh(2026, 2, 28, 17, 30)).deadlines
    assert deadlines[-1].due == sh(2026, 3, 2, 18)
    assert deadlines[-1].label == "resolution at L4 director"


def test_three_day_hold_moves_the_deadline_by_the_business_time_held(desk_):
    c = opened(desk_, sh(2026, 3, 9, 9))  # Monday
    desk_("王芳", sh(2026, 3, 9, 9, 30), lambda d: C.ack_complaint(d, c.id))
    assert c.resolution_due == sh(2026, 3, 12, 10, 30)  # Mon 7.5, Tue 15, Wed 22.5, Thu 09:00–10:30
    held = desk_("王芳", sh(2026, 3, 10, 15), lambda d: C.hold_complaint(d, c.id, "等待厂家配件"))
    assert (held.status, held.resolution_due, held.next_due) == ("on_hold", None, None)
    during = view(desk_, c.id, sh(2026, 3, 12, 11))
    assert during.on_hold_since == sh(2026, 3, 10, 15)
    assert (during.deadlines[1].state, during.deadlines[1].due, during.deadlines[1].business_left) == (
        "on hold", None, "12h00m left (clock stopped)")
    # Not overdue while held, even past the old deadline.
    assert desk_("王芳", sh(2026, 3, 12, 11), lambda d: C.list_complaints(d, overdue=True)).total == 0
    back = desk_("王芳", sh(2026, 3, 13, 15), lambda d: C.resume_complaint(d, c.id))
    # 12 h before the hold; Fri 15:00–18:00 (15 h); Mon 03-16 (22.5 h); Tue 03-17 09:00–10:30.
    assert (back.status, back.resolution_due) == ("acknowledged", sh(2026, 3, 17, 10, 30))
    lines = desk_("王芳", sh(2026, 3, 13, 15), lambda d: C.explain_sla(d, c.id)).sections[1][1]
    assert "On hold 2026-03-10 15:00 (Tue) → 2026-03-13 15:00 (Fri): working time inside does not count" in lines
    assert "  2026-03-10 15:00 (Tue) → 18:00 on hold: 3h00m not counted" in lines


def test_a_hold_before_the_first_response_stops_that_clock_too(desk_):
    c = opened(desk_, sh(2026, 3, 9, 9))
    desk_("王芳", sh(2026, 3, 9, 10), lambda d: C.hold_complaint(d, c.id, "客户出差，约定周二联系"))
    back = desk_("王芳", sh(2026, 3, 10, 10), lambda d: C.resume_complaint(d, c.id))
    # 1 h used before the hold; 3 h from Tue 10:00: 10:00–12:00, 13:30–14:30.
    assert (back.status, back.first_response_due) == ("open", sh(2026, 3, 10, 14, 30))


def test_changing_the_calendar_recomputes_the_deadlines(desk_):
    c = opened(desk_, sh(2026, 3, 9, 9))
    assert c.resolution_due == sh(2026, 3, 12, 10, 30)
    with open(os.environ["CSDESK_CONFIG"], "w", encoding="utf-8") as f:
        f.write('[business]\nclosures = ["2026-03-10"]\n')
    assert view(desk_, c.id, sh(2026, 3, 9, 10)).deadlines[1].due == sh(2026, 3, 13, 10, 30)


def test_resolving_late_counts_a_breach_and_resolving_counts_as_first_response(desk_):
    c = opened(desk_, sh(2026, 11, 24, 12, 10), "serious")  # resolution due Thu 11-26 14:30
    done = desk_("王芳", sh(2026, 11, 26, 15), lambda d: C.resolve_complaint(d, c.id, "已更换"))
    assert (done.status, done.acked_at, done.resolution_breached, done.breach_count) == ("resolved", sh(2026, 11, 26, 15), True, 1)
    assert done.response_breached  # first response (due Tue 15:30) came with the resolution on Thu
    fr, res = view(desk_, c.id, sh(2026, 11, 27, 9)).deadlines
    assert (fr.state, fr.ended_by, res.state, res.business_left) == ("late", "resolved", "late", "0h30m late")


def test_reopening_starts_a_new_clock_without_an_instant_breach(desk_):
    c = opened(desk_, sh(2026, 3, 9, 9))
    desk_("王芳", sh(2026, 3, 9, 9, 30), lambda d: C.ack_complaint(d, c.id))
    desk_("王芳", sh(2026, 3, 9, 11), lambda d: C.resolve_complaint(d, c.id, "已修复"))
    again = desk_("王芳", sh(2026, 3, 23, 10), lambda d: C.reopen_complaint(d, c.id, "问题复发"))
    # 24 h from Mon 03-23 10:00: Mon 6.5, Tue 14, Wed 21.5, Thu 09:00–11:30.
    assert (again.status, again.resolution_due, again.resolution_breached, again.breach_count) == (
        "acknowledged", sh(2026, 3, 26, 11, 30), False, 0)
    assert desk_(None, sh(2026, 3, 23, 10), lambda d: C.auto_escalate(d)) == []
    states = [(d.state, d.business_used) for d in view(desk_, c.id, sh(2026, 3, 23, 11)).deadlines]
    assert states == [("met", "0h30m"), ("met", "2h00m"), ("running", "1h00m")]


# ---- levels -----------------------------------------------------------------------------------------


def test_major_and_key_account_complaints_start_at_the_manager_level(desk_):
    key = opened(desk_, sh(2026, 11, 24, 9), phone=KEY_PHONE)
    assert (key.level, key.level_name, key.assignee, key.owner) == (3, "L3 manager", "张强", "王芳")
    mine = opened(desk_, sh(2026, 11, 24, 9), "major", who="张强")
    assert (mine.level, mine.assignee, mine.owner) == (3, "张强", "张强")
    with pytest.raises(PermissionDenied, match="needs a manager or above; 李娜 is a supervisor"):
        opened(desk_, sh(2026, 11, 24, 9), "major", assign="李娜")
    assert opened(desk_, sh(2026, 11, 24, 9), "serious", assign="李娜").assignee == "李娜"


def test_someone_below_the_level_cannot_resolve_or_close(desk_, monkeypatch):
    c = opened(desk_, sh(2026, 11, 24, 9))
    desk_("王芳", sh(2026, 11, 24, 9), lambda d: C.escalate_complaint(d, c.id, "客户要求主管处理"))
    with pytest.raises(PermissionDenied, match=r"complaint #1 is at L2 supervisor: resolving it needs a supervisor or above; 王芳 is a specialist"):
        desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.resolve_complaint(d, c.id, "已处理"))
    desk_("李娜", sh(2026, 11, 24, 10), lambda d: C.resolve_complaint(d, c.id, "已处理"))
    monkeypatch.setattr(C.hooks, "ask", lambda query, session, cid: 77 if query == "satisfied_visit" else None)
    with pytest.raises(PermissionDenied, match="closing it needs a supervisor"):
        desk_("王芳", sh(2026, 11, 24, 11), lambda d: C.close_complaint(d, c.id))
    assert desk_("李娜", sh(2026, 11, 24, 11), lambda d: C.close_complaint(d, c.id)).status == "closed"


# ---- the state machine: every action in every state ----------------------------------------------------

ACTIONS = {
    "ack": lambda d, cid: C.ack_complaint(d, cid),
    "note": lambda d, cid: C.add_note(d, cid, "客户来电催促"),
    "assign": lambda d, cid: C.assign_complaint(d, cid, "张强"),
    "hold": lambda d, cid: C.hold_complaint(d, cid, "等待客户确认"),
    "resume": lambda d, cid: C.resume_complaint(d, cid),
    "escalate": lambda d, cid: C.escalate_complaint(d, cid, "需要主管协调"),
    "resolve": lambda d, cid: C.resolve_complaint(d, cid, "已处理"),
    "close": lambda d, cid: C.close_complaint(d, cid, without_visit=True, reason="客户无法联系"),
    "reopen": lambda d, cid: C.reopen_complaint(d, cid, "客户反映未解决"),
}
# state → {action: status afterwards}; actions not listed are refused in that state.
ALLOWED = {
    "open": {"ack": "acknowledged", "note": "open", "assign": "open", "hold": "on_hold", "escalate": "open", "resolve": "resolved"},
    "acknowledged": {"note": "acknowledged", "assign": "acknowledged", "hold": "on_hold", "escalate": "acknowledged", "resolve": "resolved"},
    "on_hold": {"note": "on_hold", "assign": "on_hold", "resume": "acknowledged", "escalate": "on_hold", "resolve": "resolved"},
    "resolved": {"note": "resolved", "assign": "resolved", "close": "closed", "reopen": "acknowledged"},
    "closed": {"note": "closed", "reopen": "acknowledged"},
}
STEPS_TO = {
    "open": [], "acknowledged": ["ack"], "on_hold": ["ack", "hold"], "resolved": ["ack", "resolve"],
    "closed": ["ack", "resolve", "close"],
}


@pytest.mark.parametrize("state,action", [(s, a) for s in ALLOWED for a in ACTIONS])
def test_every_action_in_every_state(desk_, state, action):
    c = opened(desk_, sh(2026, 11, 23, 9))
    for i, step in enumerate(STEPS_TO[state]):
        desk_("李娜", sh(2026, 11, 23, 10 + i), lambda d, step=step: ACTIONS[step](d, c.id))
    before = desk_.db.dump()
    act = lambda d: ACTIONS[action](d, c.id)  # noqa: E731
    if action in ALLOWED[state]:
        result = desk_("李娜", sh(2026, 11, 24, 9), act)
        status = result.status if hasattr(result, "status") else view(desk_, c.id, sh(2026, 11, 24, 9)).complaint.status
        assert status == ALLOWED[state][action]
        assert desk_.db.dump()["complaint_event"] != before["complaint_event"]
    else:
        with pytest.raises(InvalidTransition) as refused:
            desk_("李娜", sh(2026, 11, 24, 9), act)
        assert f"complaint #{c.id}" in refused.value.message
        assert state in refused.value.message.replace("on hold", "on_hold")
        assert desk_.db.dump() == before


def test_refusals_say_what_is_possible(desk_):
    c = opened(desk_, sh(2026, 11, 24, 9))
    desk_("王芳", sh(2026, 11, 24, 9, 5), lambda d: C.ack_complaint(d, c.id))
    with pytest.raises(InvalidTransition, match=r"complaint #1 was already acknowledged at 2026-11-24 09:05 .*acknowledged once"):
        desk_("王芳", sh(2026, 11, 24, 9, 10), lambda d: C.ack_complaint(d, c.id))
    with pytest.raises(InvalidTransition, match=r"cannot close it before it is resolved; resolve it first"):
        desk_("李娜", sh(2026, 11, 24, 9, 10), lambda d: C.close_complaint(d, c.id, without_visit=True, reason="x"))
    desk_("王芳", sh(2026, 11, 24, 9, 20), lambda d: C.resolve_complaint(d, c.id, "已处理"))
    with pytest.raises(InvalidTransition, match=r"complaint #1 is resolved: cannot resolve it; it is closed by a satisfied return visit"):
        desk_("王芳", sh(2026, 11, 24, 9, 30), lambda d: C.resolve_complaint(d, c.id, "again"))


def test_closing_needs_a_satisfied_visit_or_a_supervisor_with_a_reason(desk_, monkeypatch):
    c = opened(desk_, sh(2026, 11, 24, 9))
    desk_("王芳", sh(2026, 11, 24, 9, 30), lambda d: C.resolve_complaint(d, c.id, "已处理"))
    monkeypatch.setattr(C.hooks, "ask", lambda query, *args: None)
    with pytest.raises(InvalidTransition, match="closed by a satisfied return visit, or by a supervisor with --without-visit --reason"):
        desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.close_complaint(d, c.id))
    with pytest.raises(PermissionDenied, match="closing a complaint without a satisfied return visit needs a supervisor"):
        desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.close_complaint(d, c.id, without_visit=True, reason="客户出国"))
    with pytest.raises(InvalidValue, match="reason"):
        desk_("李娜", sh(2026, 11, 24, 10), lambda d: C.close_complaint(d, c.id, without_visit=True))
    monkeypatch.setattr(C.hooks, "ask", lambda query, session, cid: 41 if (query, cid) == ("satisfied_visit", c.id) else None)
    closed = desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.close_complaint(d, c.id))
    assert (closed.status, closed.closed_at) == ("closed", sh(2026, 11, 24, 10))
    last = view(desk_, c.id, sh(2026, 11, 24, 10)).events[-1]
    assert (last.kind, last.visit_id, last.actor) == ("closed", 41, "王芳")


def test_the_callbacks_area_closes_with_the_visit_it_recorded(desk_):
    c = opened(desk_, sh(2026, 11, 24, 9))
    desk_("李娜", sh(2026, 11, 24, 9), lambda d: C.escalate_complaint(d, c.id, "复杂"))
    desk_("李娜", sh(2026, 11, 24, 9, 30), lambda d: C.resolve_complaint(d, c.id, "已处理"))
    # The specialist making the visit closes it through the visit, whatever the level.
    closed = desk_("王芳", sh(2026, 11, 25, 10), lambda d: C.close_complaint(d, c.id, visit_id=9))
    assert closed.status == "closed"
    assert view(desk_, c.id, sh(2026, 11, 25, 10)).events[-1].text == "satisfied return visit #9"


def test_resolving_fires_complaint_resolved(desk_, monkeypatch):
    fired = []
    monkeypatch.setattr(C.hooks, "fire", lambda event, desk, **kw: fired.append((event, kw)))
    c = opened(desk_, sh(2026, 11, 24, 9))
    desk_("王芳", sh(2026, 11, 24, 9, 30), lambda d: C.resolve_complaint(d, c.id, "已处理"))
    assert fired == [("complaint_resolved", {"complaint_id": c.id})]


def test_an_unsatisfied_visit_reopens_one_level_up_with_a_fresh_clock(desk_):
    c = opened(desk_, sh(2026, 11, 23, 9))
    desk_("王芳", sh(2026, 11, 23, 9, 30), lambda d: C.resolve_complaint(d, c.id, "已处理"))
    again = desk_("王芳", sh(2026, 11, 30, 10), lambda d: C.reopen_after_visit(d, c.id, "客户不满意：仍有裂缝", visit_id=5))
    # Level 2's 8 h from Mon 11-30 10:00: 10–12 (2), 13:30–18 (6.5), Tue 09:00–10:30.
    assert (again.status, again.level, again.assignee, again.owner) == ("acknowledged", 2, "李娜", "王芳")
    assert (again.resolution_due, again.resolution_breached) == (sh(2026, 12, 1, 10, 30), False)
    kinds = [(e.kind, e.visit_id) for e in view(desk_, c.id, sh(2026, 11, 30, 10)).events]
    assert kinds[-3:] == [("reopened", 5), ("escalated", 5), ("assigned", None)]
    labels = [d.label for d in view(desk_, c.id, sh(2026, 11, 30, 10)).deadlines]
    assert labels == ["first response (normal)", "resolution at L1 specialist", "resolution at L2 supervisor"]


# ---- escalation -------------------------------------------------------------------------------------------


def test_escalating_by_hand_goes_up_the_reports_to_chain(desk_):
    c = opened(desk_, sh(2026, 11, 24, 9))
    up = desk_("王芳", sh(2026, 11, 24, 9, 30), lambda d: C.escalate_complaint(d, c.id, "客户要求主管处理"))
    assert (up.from_level, up.to_level, up.from_assignee, up.to_assignee) == (1, 2, "王芳", "李娜")
    info = view(desk_, c.id, sh(2026, 11, 24, 9, 30)).complaint
    # The owner stays on it; the new level gets 8 business hours: 09:30–12:00, 13:30–18:00, Wed 09:00–10:00.
    assert (info.owner, info.assignee, info.resolution_due) == ("王芳", "李娜", sh(2026, 11, 25, 10))
    top = desk_("李娜", sh(2026, 11, 24, 10), lambda d: C.escalate_complaint(d, c.id, "重大影响", to_level=4))
    assert (top.to_level, top.to_assignee) == (4, "陈总")
    with pytest.raises(InvalidTransition, match="already at the top level"):
        desk_("陈总", sh(2026, 11, 24, 10), lambda d: C.escalate_complaint(d, c.id, "再升级"))
    d2 = opened(desk_, sh(2026, 11, 24, 9))
    with pytest.raises(InvalidValue, match="--to must be a level from 2 to 4"):
        desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.escalate_complaint(d, d2.id, "x", to_level=1))


def test_escalation_falls_back_to_the_configured_person_then_to_the_role(desk_):
    from csdesk.workflows.staff import add_staff

    desk_("陈总", sh(2026, 11, 24, 8), lambda d: add_staff(d, "赵敏", "specialist"))  # reports to nobody
    desk_("陈总", sh(2026, 11, 24, 8), lambda d: add_staff(d, "周涛", "supervisor", "张强"))
    first = opened(desk_, sh(2026, 11, 24, 9), who="赵敏")
    second = opened(desk_, sh(2026, 11, 24, 9), who="赵敏")
    # No chain, no default: the supervisor with the fewest active complaints (李娜 and 周涛 have none: lowest id).
    assert desk_("赵敏", sh(2026, 11, 24, 10), lambda d: C.escalate_complaint(d, first.id, "x")).to_assignee == "李娜"
    assert desk_("赵敏", sh(2026, 11, 24, 10), lambda d: C.escalate_complaint(d, second.id, "x")).to_assignee == "周涛"
    with open(os.environ["CSDESK_CONFIG"], "w", encoding="utf-8") as f:
        f.write('[escalation.default_assignee]\n2 = "周涛"\n')
    third = opened(desk_, sh(2026, 11, 24, 9), who="赵敏")
    assert desk_("赵敏", sh(2026, 11, 24, 10), lambda d: C.escalate_complaint(d, third.id, "x")).to_assignee == "周涛"
    with open(os.environ["CSDESK_CONFIG"], "w", encoding="utf-8") as f:
        f.write('[escalation.default_assignee]\n2 = "王芳"\n')
    fourth = opened(desk_, sh(2026, 11, 24, 9), who="赵敏")
    with pytest.raises(InvalidValue, match="escalation.default_assignee.2 names '王芳', who is not an active supervisor"):
        desk_("赵敏", sh(2026, 11, 24, 10), lambda d: C.escalate_complaint(d, fourth.id, "x"))


def test_automatic_escalation_acts_once_per_missed_deadline(desk_):
    c = opened(desk_, sh(2026, 11, 24, 12, 10), "serious")  # resolution due Thu 11-26 14:30
    desk_("王芳", sh(2026, 11, 24, 13), lambda d: C.ack_complaint(d, c.id))
    assert desk_(None, sh(2026, 11, 26, 14, 29), lambda d: C.auto_escalate(d)) == []
    # Before any pass runs, the list already shows the breach.
    overdue = desk_("王芳", sh(2026, 11, 26, 15), lambda d: C.list_complaints(d, overdue=True))
    assert [(r.id, r.business_left) for r in overdue.rows] == [(c.id, "overdue 0h30m")]
    first = desk_(None, sh(2026, 11, 26, 15), lambda d: C.auto_escalate(d))
    assert [(r.from_level, r.to_level, r.to_assignee, r.missed_due) for r in first] == [(1, 2, "李娜", sh(2026, 11, 26, 14, 30))]
    for hour in (15, 16, 17):
        assert desk_(None, sh(2026, 11, 26, hour, 30), lambda d: C.auto_escalate(d)) == []
    # Level 2's 8 h from Thu 15:00: 3 h Thu, Fri 09:00–12:00 (6 h), 13:30–15:30 → due Fri 11-27 15:30.
    info = view(desk_, c.id, sh(2026, 11, 26, 16)).complaint
    assert (info.level, info.assignee, info.resolution_due, info.breach_count) == (2, "李娜", sh(2026, 11, 27, 15, 30), 1)
    second = desk_(None, sh(2026, 11, 27, 16), lambda d: C.auto_escalate(d))
    assert [(r.from_level, r.to_level, r.to_assignee) for r in second] == [(2, 3, "张强")]
    auto = [e for e in events(desk_.db, c.id) if e[0] == "escalated"]
    assert [(e[1], e[2], e[3], e[4]) for e in auto] == [
        ("1", "2", None, f"auto-escalate:{c.id}:L1:2026-11-26T06:30:00"),
        ("2", "3", None, f"auto-escalate:{c.id}:L2:2026-11-27T07:30:00"),
    ]
    assert desk_.db.scalar("SELECT count(*) FROM audit_entry WHERE action = 'complaint.auto_escalate'") == 2


def test_automatic_escalation_stops_at_the_top_and_skips_held_complaints(desk_):
    top = opened(desk_, sh(2026, 11, 24, 9), "major")
    desk_("张强", sh(2026, 11, 24, 9), lambda d: C.escalate_complaint(d, top.id, "直接上报", to_level=4))
    held = opened(desk_, sh(2026, 11, 24, 9))
    desk_("王芳", sh(2026, 11, 24, 9, 30), lambda d: C.hold_complaint(d, held.id, "等待客户"))
    assert desk_(None, sh(2026, 12, 31, 10), lambda d: C.auto_escalate(d)) == []
    overdue = desk_("王芳", sh(2026, 12, 31, 10), lambda d: C.list_complaints(d, overdue=True))
    assert [r.id for r in overdue.rows] == [top.id]  # the top-level breach is shown, never escalated


def test_a_deadline_missed_before_a_hold_is_still_acted_on(desk_):
    c = opened(desk_, sh(2026, 3, 9, 9))  # resolution due Thu 03-12 10:30
    desk_("王芳", sh(2026, 3, 9, 9, 30), lambda d: C.ack_complaint(d, c.id))
    desk_("王芳", sh(2026, 3, 13, 9), lambda d: C.hold_complaint(d, c.id, "等待客户"))
    rows = desk_("王芳", sh(2026, 3, 13, 10), lambda d: C.list_complaints(d, overdue=True)).rows
    assert [(r.id, r.business_left) for r in rows] == [(c.id, "overdue (on hold)")]
    done = desk_(None, sh(2026, 3, 13, 10), lambda d: C.auto_escalate(d))
    assert [(r.complaint_id, r.to_level, r.missed_due) for r in done] == [(c.id, 2, sh(2026, 3, 12, 10, 30))]
    info = view(desk_, c.id, sh(2026, 3, 13, 10)).complaint
    # Still on hold: the new level's clock has not started counting, so it has no deadline yet.
    assert (info.status, info.level, info.resolution_due, info.next_due) == ("on_hold", 2, None, None)
    back = desk_("李娜", sh(2026, 3, 16, 9), lambda d: C.resume_complaint(d, c.id))
    assert back.resolution_due == sh(2026, 3, 17, 9, 30)  # 8 h from Mon 09:00: Mon 7.5 h, Tue 09:00–09:30


def test_a_breach_already_taken_by_another_pass_is_skipped_and_nothing_changes(desk_):
    """What a concurrent pass on PostgreSQL meets: the unique key of the same breach is already there."""
    from csdesk.models import ComplaintEvent

    c = opened(desk_, sh(2026, 11, 24, 12, 10), "serious")
    key = f"auto-escalate:{c.id}:L1:2026-11-26T06:30:00"
    desk_(None, sh(2026, 11, 26, 15), lambda d: d.session.add(ComplaintEvent(
        complaint_id=c.id, at=d.now, recorded_at=d.now, kind="note", note="taken", key=key)))
    before = desk_.db.dump()
    assert desk_(None, sh(2026, 11, 26, 15), lambda d: C.auto_escalate(d)) == []
    assert desk_.db.dump() == before


def test_concurrent_passes_escalate_exactly_once(desk_):
    from csdesk.db import Database, resolve
    from csdesk.workflows import Desk

    ids = [opened(desk_, sh(2026, 11, 24, 12, 10), "serious").id for _ in range(3)]
    settings = __import__("csdesk.config", fromlist=["load"]).load(desk_.db.path)
    now = sh(2026, 11, 26, 15).astimezone(UTC)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run():
        database = Database(resolve(desk_.db.location))  # its own engine and connection (SQLite file or PostgreSQL)
        try:
            barrier.wait()
            results.append(database.write(lambda s: C.auto_escalate(Desk(s, settings, now), now)))
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            database.engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(r.complaint_id for batch in results for r in batch) == ids
    for cid in ids:
        assert [e[0] for e in events(desk_.db, cid)].count("escalated") == 1


def test_the_pass_with_nothing_to_do_is_one_query(desk_):
    from sqlalchemy import event

    def many(d):
        for _ in range(30):
            c = C.open_complaint(d, PHONE, "normal", "quality", "墙面开裂")
            C.resolve_complaint(d, c.id, "已处理")

    desk_("王芳", sh(2026, 11, 24, 9), many)
    opened(desk_, sh(2026, 11, 24, 9))  # running, due Thu
    statements = []
    engine = desk_.db.database.engine
    listener = lambda conn, cursor, sql, *a: statements.append(sql)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert desk_(None, sh(2026, 11, 24, 17), lambda d: C.auto_escalate(d)) == []
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    touching = [s for s in statements if "complaint" in s]  # (PostgreSQL writes also take an advisory lock)
    assert len(touching) == 1 and "escalate_at <=" in touching[0]


# ---- the SLA watch (for the reminder run) ----------------------------------------------------------------


def test_sla_watch_reports_clocks_past_80_percent_and_breaches(desk_):
    a = opened(desk_, sh(2026, 11, 24, 9))  # first response 09:00–12:00 + 13:30–14:30 → due 14:30
    b = opened(desk_, sh(2026, 11, 24, 11), "serious")  # first response 11:00–12:00, 13:30–14:30 → 14:30
    desk_("王芳", sh(2026, 11, 24, 11), lambda d: C.ack_complaint(d, b.id))
    # At 13:45: a has used 3h15m of 4 h (81 %); b's resolution (16 h) has used 1h15m.
    watch = desk_(None, sh(2026, 11, 24, 13, 45), lambda d: C.sla_watch(d))
    assert [(w.complaint_id, w.clock, w.used_percent, w.business_left, w.due) for w in watch.warnings] == [
        (a.id, "first_response", 81, "0h45m left", sh(2026, 11, 24, 14, 30))]
    assert watch.breached == []
    late = desk_(None, sh(2026, 11, 24, 15), lambda d: C.sla_watch(d))
    assert [(w.complaint_id, w.clock, w.breached, w.business_left, w.assignee) for w in late.breached] == [
        (a.id, "first_response", True, "overdue 0h30m", "王芳")]


# ---- lists and other areas -----------------------------------------------------------------------------


def test_list_is_ordered_by_urgency_and_filters(desk_):
    late = opened(desk_, sh(2026, 11, 20, 9))  # Fri: first response due 13:30… long past
    desk_("王芳", sh(2026, 11, 20, 9, 30), lambda d: C.ack_complaint(d, late.id))  # resolution due Wed 11-25 10:30
    soon = opened(desk_, sh(2026, 11, 24, 9), "serious")  # first response due 11:00
    calm = opened(desk_, sh(2026, 11, 24, 9))  # first response due 14:30
    done = opened(desk_, sh(2026, 11, 24, 9))
    desk_("王芳", sh(2026, 11, 24, 9, 30), lambda d: C.resolve_complaint(d, done.id, "已处理"))
    desk_("王芳", sh(2026, 11, 24, 9, 30), lambda d: C.escalate_complaint(d, calm.id, "x"))
    listing = desk_("王芳", sh(2026, 11, 25, 11), lambda d: C.list_complaints(d))
    assert [r.id for r in listing.rows] == [soon.id, calm.id, late.id]  # all three overdue: most overdue first
    assert listing.total == 3
    at_ten = lambda **kw: [r.id for r in desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.list_complaints(d, **kw)).rows]  # noqa: E731
    assert at_ten() == [soon.id, calm.id, late.id]
    assert at_ten(status="all") == [soon.id, calm.id, late.id, done.id]
    assert at_ten(status="resolved") == [done.id]
    assert at_ten(level=2) == [calm.id]
    assert at_ten(assignee="me") == [soon.id, late.id]
    assert at_ten(assignee="李娜") == [calm.id]
    assert at_ten(severity="serious") == [soon.id]
    assert at_ten(due_within=H) == [soon.id]  # 11:00 is within an hour; 14:30 is not
    fri = desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.list_complaints(d, due_within=5 * H))
    assert [r.id for r in fri.rows] == [soon.id, calm.id]  # 5 business hours from 10:00 is 16:30


def test_due_within_counts_business_time(desk_):
    c = opened(desk_, sh(2026, 11, 27, 9))  # Friday
    desk_("王芳", sh(2026, 11, 27, 9), lambda d: C.ack_complaint(d, c.id))
    # 24 h: Fri 7.5, Mon 15, Tue 22.5, Wed 12-02 09:00–10:30.
    assert view(desk_, c.id, sh(2026, 11, 27, 9)).complaint.resolution_due == sh(2026, 12, 2, 10, 30)
    # On Tue 17:30, 2 business hours reach Wed 10:30 (0.5 h Tue + 1.5 h Wed): due within 2 h, though 17 wall-clock hours away.
    within = lambda hours: desk_("王芳", sh(2026, 12, 1, 17, 30), lambda d: C.list_complaints(d, due_within=hours * H))  # noqa: E731
    assert [(r.id, r.business_left) for r in within(2).rows] == [(c.id, "2h00m left")]
    assert within(1).rows == []


def test_log_call_can_open_the_complaint_from_the_call(desk_):
    from csdesk.workflows.call_intake import log_call

    logged = desk_("王芳", sh(2026, 11, 24, 10), lambda d: log_call(
        d, "138 1234 5678", "complaint", "安装师傅迟到两小时", at=sh(2026, 11, 24, 9, 40), open_complaint=True,
        severity="serious", category="installation"))
    c = logged.complaint
    assert (c.call_id, c.severity, c.category_label, c.opened_at, c.owner, c.summary) == (
        logged.call.id, "serious", "installation", sh(2026, 11, 24, 9, 40), "王芳", "安装师傅迟到两小时")
    assert desk_.db.scalar("SELECT complaint_id FROM call WHERE id = :i", i=logged.call.id) == c.id
    assert [row.id for row in logged.brief.complaints] == [c.id]
    with pytest.raises(InvalidValue, match="--open-complaint is for complaint calls"):
        desk_("王芳", sh(2026, 11, 24, 10), lambda d: log_call(d, PHONE, "inquiry", "问保修", open_complaint=True))
    # A call already linked cannot open a second complaint.
    with pytest.raises(Conflict, match=f"call #{logged.call.id} is already linked to complaint #{c.id}"):
        desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.open_complaint(d, None, "normal", "other", None, call_id=logged.call.id))


def test_opening_refuses_bad_input(desk_):
    bad = [
        (dict(severity="urgent"), InvalidValue, "unknown severity 'urgent'"),
        (dict(category="noise"), InvalidValue, "unknown category 'noise'"),
        (dict(customer="13700000000"), NotFound, "no customer with phone"),
        (dict(customer=None), InvalidValue, "--phone, --customer or --call"),
        (dict(summary="  "), InvalidValue, "the summary"),
        (dict(project="P999"), NotFound, "no project with code P999"),
        (dict(at=sh(2026, 11, 25, 10)), InvalidValue, "cannot be in the future"),
        (dict(at=sh(2025, 11, 1, 10)), InvalidValue, "is more than a year ago"),
        (dict(assign="nobody"), NotFound, "no staff member named 'nobody'"),
    ]
    before = desk_.db.dump()
    for change, error, message in bad:
        args = dict(customer=PHONE, severity="normal", category="quality", summary="墙面开裂") | change
        with pytest.raises(error, match=message):
            desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.open_complaint(d, **args))
    with pytest.raises(PermissionDenied, match="nobody is acting"):
        desk_(None, sh(2026, 11, 24, 10), lambda d: C.open_complaint(d, PHONE, "normal", "quality", "x"))
    assert desk_.db.dump() == before
    # Labels work as well as keys.
    assert opened(desk_, sh(2026, 11, 24, 9), "较重", category="安装施工").severity == "serious"


def test_entries_after_the_fact_go_in_order(desk_):
    c = opened(desk_, sh(2026, 11, 24, 9))
    desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.ack_complaint(d, c.id, at=sh(2026, 11, 24, 9, 15)))
    with pytest.raises(InvalidValue, match=r"resolution at 2026-11-24 09:10 would come before complaint #1's last entry \(2026-11-24 09:15\)"):
        desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.resolve_complaint(d, c.id, "x", at=sh(2026, 11, 24, 9, 10)))
    # A note may be entered for any time since the opening.
    desk_("王芳", sh(2026, 11, 24, 10), lambda d: C.add_note(d, c.id, "09:05 已回电", at=sh(2026, 11, 24, 9, 5)))
    timeline = view(desk_, c.id, sh(2026, 11, 24, 10)).events
    assert [(e.kind, e.at, e.recorded_at) for e in timeline] == [
        ("opened", sh(2026, 11, 24, 9), sh(2026, 11, 24, 9)),
        ("note", sh(2026, 11, 24, 9, 5), sh(2026, 11, 24, 10)),
        ("acknowledged", sh(2026, 11, 24, 9, 15), sh(2026, 11, 24, 10)),
    ]
    assert view(desk_, c.id, sh(2026, 11, 24, 10)).deadlines[0].business_left == "3h45m to spare"


def test_assigning_and_transferring_ownership(desk_):
    c = opened(desk_, sh(2026, 11, 24, 9))
    assert desk_("王芳", sh(2026, 11, 24, 9), lambda d: C.assign_complaint(d, c.id, "李娜")).assignee == "李娜"
    with pytest.raises(InvalidValue, match="already assigned to 李娜"):
        desk_("李娜", sh(2026, 11, 24, 9), lambda d: C.assign_complaint(d, c.id, "李娜"))
    with pytest.raises(PermissionDenied, match="supervisor"):
        desk_("王芳", sh(2026, 11, 24, 9), lambda d: C.assign_complaint(d, c.id, "张强", owner=True))
    moved = desk_("李娜", sh(2026, 11, 24, 9), lambda d: C.assign_complaint(d, c.id, "张强", owner=True))
    assert (moved.owner, moved.assignee) == ("张强", "李娜")
    desk_("李娜", sh(2026, 11, 24, 9), lambda d: C.escalate_complaint(d, c.id, "x"))  # → 张强, level 2
    with pytest.raises(PermissionDenied, match=r"L2 supervisor: it can only be assigned to a supervisor or above; 王芳 is a specialist"):
        desk_("张强", sh(2026, 11, 24, 9), lambda d: C.assign_complaint(d, c.id, "王芳"))
    assert desk_.db.scalar("SELECT count(*) FROM audit_entry WHERE entity = 'complaint' AND action IN ('complaint.assign', 'complaint.owner', 'complaint.escalate')") == 3


def test_customer_show_and_staff_deactivation_see_complaints(desk_):
    from csdesk.workflows.customer_card import customer_view
    from csdesk.workflows.handover import deactivate_staff

    c = opened(desk_, sh(2026, 11, 24, 9))
    shown = desk_("王芳", sh(2026, 11, 24, 15), lambda d: customer_view(d, PHONE))
    rows = shown.sections["complaints"]
    assert [(r["#"], r["status"], r["assignee"], r["due"]) for r in rows] == [(c.id, "open", "王芳", "overdue 2026-11-24 14:30")]
    with pytest.raises(Conflict, match=r"王芳 still owns open work: 1 complaints assigned to them, not yet closed, 1 complaints they own"):
        desk_("李娜", sh(2026, 11, 24, 15), lambda d: deactivate_staff(d, "王芳"))


# ---- properties ------------------------------------------------------------------------------------------

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402


class _Event:
    def __init__(self, i, at, kind, to_value=None):
        self.id, self.at, self.kind, self.from_value, self.to_value = i, at, kind, None, to_value


@hsettings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)).map(lambda t: t.replace(tzinfo=SH)),
    severity=st.sampled_from(list(C.SEVERITIES)),
    holds=st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 6000)), max_size=3),
)
def test_deadlines_fall_in_working_windows_and_give_back_the_allowance(start, severity, holds):
    from csdesk import config

    cfg = config.load(None)
    cal, r = C.calendar(cfg), C.rules(cfg)
    evs, t, i = [_Event(0, start, "opened", 1)], start, 1
    for gap, length in holds:
        t = t + timedelta(minutes=gap)
        evs.append(_Event(i, t, "held"))
        t = t + timedelta(minutes=length)
        evs.append(_Event(i + 1, t, "resumed"))
        i += 2
    sla = C.compute_sla(evs, severity, t + timedelta(days=60), cal, r)
    for clock in (sla.first_response, sla.current):
        due = clock.due
        assert any(w.start < due <= w.end for w in cal.windows(due.astimezone(SH).date()))
        pauses = [(a, b) for a, b in sla.holds]
        assert cal.elapsed(start, due, pauses) == clock.allowance
