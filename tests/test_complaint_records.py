"""Records that stay true (issue 13) and the return-visit permission (issue 12), from the workflows.

Calendar: Asia/Shanghai, Mon–Fri 09:00–12:00 + 13:30–18:00, CN holidays. NOW = Tue 2026-11-24 10:00.
SLA: normal 4 h / 24 h, serious 2 h / 16 h; 8 h per escalated level. Return visit within 1 business day.
Team: 王芳 specialist → 李娜 supervisor → 张强 manager → 陈总 director; 刘洋 specialist → 李娜.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from csdesk.errors import InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.models import Callback, Complaint, ComplaintEvent
from csdesk.workflows import callbacks as CB
from csdesk.workflows import complaints as C

SH = ZoneInfo("Asia/Shanghai")
PHONE = "13812345678"
OTHER_PHONE = "13700002222"


def sh(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


@pytest.fixture
def act(team):
    from csdesk.workflows.customers import add_customer
    from csdesk.workflows.staff import add_staff

    with team.desk(as_="李娜") as desk:
        add_staff(desk, "刘洋", "specialist", reports_to="李娜")
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", [PHONE])
        add_customer(desk, "赵敏", [OTHER_PHONE])

    def run(who, when, fn):
        with team.desk(as_=who, now=when) as desk:
            return fn(desk)

    run.db = team
    return run


def opened(act, when, severity="normal", who="王芳", phone=PHONE, **kw):
    return act(who, when, lambda d: C.open_complaint(d, phone, severity, "quality", "墙面开裂", **kw))


def deadlines(act, cid, when):
    return act("王芳", when, lambda d: C.complaint_view(d, cid)).deadlines


def visits(act, cid, when):
    def read(d):
        rows = d.session.exec(__import__("sqlmodel").select(Callback).where(Callback.complaint_id == cid).order_by(Callback.id)).all()
        return [(r.id, r.status, r.due_at) for r in rows]
    return act("王芳", when, read)


def write_config(tmp_path, monkeypatch, text: str) -> None:
    path = tmp_path / "csdesk.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CSDESK_CONFIG", str(path))


# ---- a hold that begins after a clock ended never moves it ----------------------------------------------


def test_a_hold_after_the_first_response_does_not_move_its_deadline(act):
    c = opened(act, sh(2026, 11, 24, 10))
    assert c.first_response_due == sh(2026, 11, 24, 15, 30)  # 10:00–12:00, 13:30–15:30
    act("王芳", sh(2026, 11, 24, 10, 30), lambda d: C.ack_complaint(d, c.id))
    act("王芳", sh(2026, 11, 24, 11), lambda d: C.hold_complaint(d, c.id, "等待厂家"))
    act("王芳", sh(2026, 11, 24, 16), lambda d: C.resume_complaint(d, c.id))
    fr, res = deadlines(act, c.id, sh(2026, 11, 24, 16))
    assert (fr.due, fr.state) == (sh(2026, 11, 24, 15, 30), "met")  # the hold (11:00–16:00) came after the answer
    # The resolution clock was running: moved by the 3.5 business hours on hold (Fri 11-27 11:30 → 16:30).
    assert res.due == sh(2026, 11, 27, 16, 30)
    row = act("王芳", sh(2026, 11, 24, 16), lambda d: d.session.get(Complaint, c.id))
    assert row.first_response_due == sh(2026, 11, 24, 15, 30)
    text = "\n".join(l for _, body in act("王芳", sh(2026, 11, 24, 16), lambda d: C.explain_sla(d, c.id)).sections for l in body)
    assert "Deadline: 2026-11-24 15:30 (Tue)" in text


def test_a_hold_after_an_escalation_does_not_move_the_level_that_ended(act):
    c = opened(act, sh(2026, 11, 24, 10))
    act("王芳", sh(2026, 11, 24, 10, 30), lambda d: C.ack_complaint(d, c.id))
    act("王芳", sh(2026, 11, 24, 11), lambda d: C.escalate_complaint(d, c.id, "客户要求主管处理"))
    act("李娜", sh(2026, 11, 24, 11, 30), lambda d: C.hold_complaint(d, c.id, "等待物业"))
    act("李娜", sh(2026, 11, 25, 11, 30), lambda d: C.resume_complaint(d, c.id))
    fr, level1, level2 = deadlines(act, c.id, sh(2026, 11, 25, 12))
    assert (level1.due, level1.state) == (sh(2026, 11, 27, 11, 30), "escalated")  # 24 h from Tue 10:00, no hold
    # Level 2: 8 h from Tue 11:00, the hold 11:30 → Wed 11:30 (7.5 h) excluded: Wed 11:30 + 7.5 h → Thu 11:30.
    assert level2.due == sh(2026, 11, 26, 11, 30)


# ---- a finished clock keeps its verdict -----------------------------------------------------------------


def test_a_calendar_change_never_rewrites_a_finished_clock(act, tmp_path, monkeypatch):
    c = opened(act, sh(2026, 11, 24, 10))
    act("王芳", sh(2026, 11, 24, 16), lambda d: C.ack_complaint(d, c.id))  # half an hour late (due 15:30)
    fr, res = deadlines(act, c.id, sh(2026, 11, 24, 16))
    assert (fr.due, fr.state) == (sh(2026, 11, 24, 15, 30), "late")
    assert res.due == sh(2026, 11, 27, 11, 30)
    # The company now declares 11-24 a closure and 11-26 too: the finished first response keeps its
    # deadline and its verdict; the running resolution clock follows the new calendar.
    write_config(tmp_path, monkeypatch, '[business]\nclosures = ["2026-11-24", "2026-11-26"]\n')
    fr, res = deadlines(act, c.id, sh(2026, 11, 24, 16))
    assert (fr.due, fr.state, fr.business_left) == (sh(2026, 11, 24, 15, 30), "late", "0h30m late")
    assert res.due == sh(2026, 12, 1, 10, 30)  # Wed 7.5, Fri 7.5, Mon 7.5, Tue 12-01 09:00–10:30
    text = "\n".join(l for _, body in act("王芳", sh(2026, 11, 24, 16), lambda d: C.explain_sla(d, c.id)).sections for l in body)
    assert "Deadline kept as computed when the clock ended: 2026-11-24 15:30" in text


def test_calendar_gaps_name_the_year_without_make_up_days(act, tmp_path, monkeypatch):
    from csdesk import config

    settings = config.load(None)
    gaps = C.calendar_gaps(settings, [2026, 2027])
    assert len(gaps) == 1 and "CN 2027" in gaps[0] and "extra_workdays" in gaps[0] and "closures" in gaps[0]
    settings.data["business"]["extra_workdays"] = ["2027-02-07"]
    assert C.calendar_gaps(settings, [2026, 2027]) == []
    settings.data["business"]["country"] = ""
    assert C.calendar_gaps(config.load(None) if False else settings, [2027]) == []


def test_pyproject_requires_the_holidays_release_with_2026():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"holidays>=0.85"' in text


# ---- severity edits --------------------------------------------------------------------------------------


def test_a_severity_change_times_the_complaint_as_if_it_had_been_filed_that_way(act):
    c = opened(act, sh(2026, 11, 24, 10))
    act("王芳", sh(2026, 11, 24, 10, 30), lambda d: C.ack_complaint(d, c.id))
    twin = opened(act, sh(2026, 11, 24, 10), "serious")
    act("王芳", sh(2026, 11, 24, 10, 30), lambda d: C.ack_complaint(d, twin.id))
    info = act("李娜", sh(2026, 11, 24, 11), lambda d: C.edit_complaint(d, c.id, severity="serious"))
    assert (info.severity, info.level) == ("serious", 1)
    assert (info.first_response_due, info.resolution_due) == (twin.first_response_due, sh(2026, 11, 26, 11))
    mine = [(d.due, d.state) for d in deadlines(act, c.id, sh(2026, 11, 24, 11))]
    assert mine == [(d.due, d.state) for d in deadlines(act, twin.id, sh(2026, 11, 24, 11))]
    view = act("王芳", sh(2026, 11, 24, 11), lambda d: C.complaint_view(d, c.id))
    assert [(e.kind, e.actor) for e in view.events if e.kind == "severity"] == [("severity", "李娜")]
    sla = act("王芳", sh(2026, 11, 24, 11), lambda d: C.explain_sla(d, c.id))
    assert sla.sections[0][0].startswith("Severity changes")
    assert "normal → serious" in sla.sections[0][1][0]


def test_edit_moves_the_complaint_and_its_pending_visit_to_the_other_customer(act):
    c = opened(act, sh(2026, 11, 24, 10))
    act("王芳", sh(2026, 11, 24, 11), lambda d: C.resolve_complaint(d, c.id, "已修补"))
    (vid, status, _), = visits(act, c.id, sh(2026, 11, 24, 11))
    info = act("王芳", sh(2026, 11, 24, 12), lambda d: C.edit_complaint(d, c.id, customer=OTHER_PHONE, summary="窗户渗水"))
    assert (info.customer_name, info.summary) == ("赵敏", "窗户渗水")
    cb = act("王芳", sh(2026, 11, 24, 12), lambda d: CB.callback_detail(d, vid)).callback
    assert (cb.customer_name, cb.status) == ("赵敏", "pending")


def test_edits_that_break_a_rule_change_nothing(act):
    from csdesk.workflows.projects import add_project

    c = opened(act, sh(2026, 11, 24, 10))
    from decimal import Decimal

    act("王芳", sh(2026, 11, 24, 10), lambda d: add_project(d, "赵敏新居", OTHER_PHONE, Decimal("10000")))
    before = act.db.dump()
    for who, kw, error in [
        ("王芳", {"severity": "urgent"}, InvalidValue),
        ("王芳", {"project": "P000001"}, InvalidValue),  # 赵敏's project, not 张伟's
        ("王芳", {"category": "nonsense"}, InvalidValue),
        ("王芳", {}, InvalidValue),
        ("王芳", {"severity": "normal"}, InvalidValue),  # nothing changes
        ("刘洋", {"severity": "major"}, PermissionDenied),  # not his complaint
    ]:
        with pytest.raises(error):
            act(who, sh(2026, 11, 24, 11), lambda d: C.edit_complaint(d, c.id, **kw))
    with pytest.raises(NotFound):
        act("王芳", sh(2026, 11, 24, 11), lambda d: C.edit_complaint(d, 999, severity="major"))
    assert act.db.dump() == before


# ---- void ------------------------------------------------------------------------------------------------


def test_void_takes_a_duplicate_out_of_lists_slas_reminders_and_its_visits(act):
    c = opened(act, sh(2026, 11, 23, 10))
    dup = opened(act, sh(2026, 11, 23, 10, 5))
    act("王芳", sh(2026, 11, 23, 11), lambda d: C.resolve_complaint(d, dup.id, "同 #1"))
    with pytest.raises(PermissionDenied):
        act("王芳", sh(2026, 11, 24, 9), lambda d: C.void_complaint(d, dup.id, "重复立案"))
    info = act("李娜", sh(2026, 11, 24, 9), lambda d: C.void_complaint(d, dup.id, f"重复立案，同 #{c.id}"))
    assert info.status == "void"
    assert [v[1] for v in visits(act, dup.id, sh(2026, 11, 24, 9))] == ["cancelled"]
    listed = act("王芳", sh(2026, 11, 24, 9), lambda d: C.list_complaints(d, status="all"))
    assert [r.id for r in listed.rows] == [c.id]
    assert [r.id for r in act("王芳", sh(2026, 11, 24, 9), lambda d: C.list_complaints(d, status="void")).rows] == [dup.id]
    watch = act(None, sh(2026, 11, 27, 17), lambda d: C.sla_watch(d))
    assert {a.complaint_id for a in watch.breached} == {c.id}
    with pytest.raises(InvalidTransition):
        act("李娜", sh(2026, 11, 24, 9), lambda d: C.void_complaint(d, dup.id, "again"))
    with pytest.raises(InvalidTransition):
        act("李娜", sh(2026, 11, 24, 9), lambda d: C.reopen_complaint(d, dup.id, "again"))


def test_reports_leave_void_complaints_out(act):
    from csdesk.reports import build_report

    c = opened(act, sh(2026, 11, 23, 10))
    act("王芳", sh(2026, 11, 23, 11), lambda d: C.ack_complaint(d, c.id))
    dup = opened(act, sh(2026, 11, 23, 10, 5))
    act("王芳", sh(2026, 11, 23, 11), lambda d: C.escalate_complaint(d, dup.id, "客户要求"))
    act("李娜", sh(2026, 11, 23, 12), lambda d: C.resolve_complaint(d, dup.id, "同 #1"))
    act("李娜", sh(2026, 11, 24, 9), lambda d: C.void_complaint(d, dup.id, "重复立案"))
    report = act("李娜", sh(2026, 11, 24, 10), lambda d: build_report(d, "daily", "2026-11-23"))
    got = {k: report.figure(k).value for k in ("complaints.opened", "complaints.resolved", "complaints.escalations",
                                                "complaints.open_at_end")}
    assert got == {"complaints.opened": 1, "complaints.resolved": 0, "complaints.escalations": 0, "complaints.open_at_end": 1}
    assert report.figure("complaints.first_response_on_time").value is not None  # #1's was answered in time


# ---- reopening by hand, visits from the event's time ------------------------------------------------------


def test_reopening_by_hand_cancels_the_visit_and_resolving_again_makes_a_new_one(act):
    c = opened(act, sh(2026, 11, 24, 10))
    act("王芳", sh(2026, 11, 24, 11), lambda d: C.resolve_complaint(d, c.id, "已修补"))
    act("王芳", sh(2026, 11, 24, 14), lambda d: C.reopen_complaint(d, c.id, "又裂了"))
    assert [v[1] for v in visits(act, c.id, sh(2026, 11, 24, 14))] == ["cancelled"]
    act("王芳", sh(2026, 11, 24, 16), lambda d: C.resolve_complaint(d, c.id, "重新修补"))
    got = visits(act, c.id, sh(2026, 11, 24, 16))
    assert [v[1] for v in got] == ["cancelled", "pending"]
    assert got[1][2] == sh(2026, 11, 25, 16)  # 1 business day after the second resolution


def test_resolving_with_at_schedules_the_visit_from_the_resolution(act):
    c = opened(act, sh(2026, 11, 23, 10))
    act("王芳", sh(2026, 11, 24, 9, 30), lambda d: C.resolve_complaint(d, c.id, "已修补", at=sh(2026, 11, 23, 15)))
    (_, _, due), = visits(act, c.id, sh(2026, 11, 24, 10))
    assert due == sh(2026, 11, 24, 15)  # Mon 15:00 + 1 business day, not Tue 09:30 + 1 day


def test_an_unsatisfied_visit_recorded_later_reopens_and_escalates_at_the_visits_time(act):
    c = opened(act, sh(2026, 11, 23, 10))
    act("王芳", sh(2026, 11, 23, 11), lambda d: C.resolve_complaint(d, c.id, "已修补"))
    (vid, _, _), = visits(act, c.id, sh(2026, 11, 23, 11))
    act("王芳", sh(2026, 11, 24, 9), lambda d: CB.record_attempt(
        d, vid, "reached", satisfied=False, note="仍然渗水", at=sh(2026, 11, 23, 16)))
    view = act("王芳", sh(2026, 11, 24, 9), lambda d: C.complaint_view(d, c.id))
    assert (view.complaint.status, view.complaint.level) == ("acknowledged", 2)
    assert {e.kind: e.at for e in view.events if e.kind in ("reopened", "escalated")} == {
        "reopened": sh(2026, 11, 23, 16), "escalated": sh(2026, 11, 23, 16)}
    assert view.deadlines[-1].started_at == sh(2026, 11, 23, 16)
    assert view.deadlines[-1].due == sh(2026, 11, 24, 16, 30)  # 8 h: Mon 16:00–18:00, Tue 09:00–16:30


def test_callback_done_at_is_accepted_after_the_resolution_even_if_the_visit_was_written_later(act):
    c = opened(act, sh(2026, 11, 23, 10))
    # Resolved Mon 11:00, typed in Tue 09:00 (the visit row is written then); the visit was made Mon 17:00.
    act("王芳", sh(2026, 11, 24, 9), lambda d: C.resolve_complaint(d, c.id, "已修补", at=sh(2026, 11, 23, 11)))
    (vid, _, _), = visits(act, c.id, sh(2026, 11, 24, 9))
    before = act.db.dump()
    with pytest.raises(InvalidValue, match="before complaint #1 was resolved"):
        act("王芳", sh(2026, 11, 24, 9, 5), lambda d: CB.record_attempt(d, vid, "reached", satisfied=True, at=sh(2026, 11, 23, 10, 30)))
    assert act.db.dump() == before
    act("王芳", sh(2026, 11, 24, 9, 5), lambda d: CB.record_attempt(d, vid, "reached", satisfied=True, at=sh(2026, 11, 23, 17)))
    info = act("王芳", sh(2026, 11, 24, 9, 5), lambda d: C.complaint_view(d, c.id)).complaint
    assert (info.status, info.closed_at) == ("closed", sh(2026, 11, 23, 17))


def test_callback_done_at_is_accepted_after_the_call_that_made_the_promise(act):
    from csdesk.workflows.call_intake import log_call

    call = act("王芳", sh(2026, 11, 24, 10), lambda d: log_call(d, PHONE, "inquiry", "问报价", at=sh(2026, 11, 24, 9))).call
    cb = act("王芳", sh(2026, 11, 24, 10), lambda d: CB.schedule_callback(
        d, sh(2026, 11, 24, 15), subject=f"call:{call.id}")).callbacks[0]  # written at 10:00, promised on the 09:00 call
    with pytest.raises(InvalidValue, match=f"before call #{call.id} that made the promise"):
        act("王芳", sh(2026, 11, 24, 10, 5), lambda d: CB.record_attempt(d, cb.id, "reached", at=sh(2026, 11, 24, 8, 30)))
    done = act("王芳", sh(2026, 11, 24, 10, 5), lambda d: CB.record_attempt(d, cb.id, "reached", at=sh(2026, 11, 24, 9, 40)))
    assert done.callback.closed_at == sh(2026, 11, 24, 9, 40)


# ---- who may close a complaint by its visit (issue 12) ------------------------------------------------------


def test_a_specialist_cannot_close_someone_elses_complaint_through_its_visit(act):
    c = opened(act, sh(2026, 11, 24, 10))
    act("王芳", sh(2026, 11, 24, 11), lambda d: C.resolve_complaint(d, c.id, "已修补"))
    (vid, _, _), = visits(act, c.id, sh(2026, 11, 24, 11))
    before = act.db.dump()
    with pytest.raises(PermissionDenied, match="刘洋 is a specialist"):
        act("刘洋", sh(2026, 11, 24, 15), lambda d: CB.record_attempt(d, vid, "reached", satisfied=True))
    assert act.db.dump() == before
    # Someone above them may (a supervisor outranks the specialist who owns it).
    act("李娜", sh(2026, 11, 24, 15), lambda d: CB.record_attempt(d, vid, "reached", satisfied=True))
    assert act("王芳", sh(2026, 11, 24, 15), lambda d: d.session.get(Complaint, c.id).status) == "closed"


# ---- notices go to someone active ----------------------------------------------------------------------------


def test_breach_and_missed_callback_notices_skip_a_deactivated_supervisor(act):
    from csdesk.models import Staff
    from csdesk.workflows.reminder_rules import callbacks_missed, complaint_deadlines
    from csdesk.workflows.handover import deactivate_staff

    c = opened(act, sh(2026, 11, 23, 10))
    cb = act("王芳", sh(2026, 11, 23, 10), lambda d: CB.schedule_callback(d, sh(2026, 11, 23, 11), phone=PHONE)).callbacks[0]
    act("王芳", sh(2026, 11, 23, 11), lambda d: CB.record_attempt(d, cb.id, "wrong_number"))
    # 刘洋 is 李娜's other report; she leaves once her own work is handed on.
    act("张强", sh(2026, 11, 23, 12), lambda d: deactivate_staff(d, "李娜"))
    ids = act(None, sh(2026, 11, 23, 12), lambda d: {s.name: s.id for s in d.session.exec(__import__("sqlmodel").select(Staff)).all()})

    def recipients(d):
        breach = [a for a in complaint_deadlines(d, d.now, d.settings) if a.kind == "sla_breach" and a.entity_id == c.id]
        missed = [a for a in callbacks_missed(d, d.now, d.settings) if a.entity_id == cb.id]
        return breach[0].recipients, missed[0].recipients

    breach, missed = act(None, sh(2026, 11, 27, 17), recipients)
    assert breach == [ids["王芳"], ids["张强"]]  # not 李娜: the first active person above her
    assert missed == [ids["张强"]]


def test_notices_go_to_the_levels_default_assignee_when_nobody_active_is_above(act, tmp_path, monkeypatch):
    from csdesk.workflows.reminder_rules import complaint_deadlines
    from csdesk.workflows.staff import add_staff

    with act.db.desk(as_="李娜") as d:
        add_staff(d, "孙丽", "specialist")  # reports to nobody
    write_config(tmp_path, monkeypatch, '[escalation.default_assignee]\n"2" = "李娜"\n')
    c = opened(act, sh(2026, 11, 23, 10), who="孙丽")
    notes = act(None, sh(2026, 11, 23, 16), lambda d: [
        a.recipients for a in complaint_deadlines(d, d.now, d.settings) if a.kind == "sla_breach" and a.entity_id == c.id])
    staff = act(None, sh(2026, 11, 23, 15), lambda d: {n: i for i, n in C._names(d.session).items()})
    assert notes == [[staff["孙丽"], staff["李娜"]]]


# ---- repeating visits typed by hand land on working days ---------------------------------------------------


def test_a_hand_made_series_moves_off_sundays_and_holidays_unless_exact(act):
    made = act("王芳", sh(2026, 11, 24, 10), lambda d: CB.schedule_callback(
        d, sh(2026, 11, 29, 10), phone=PHONE, every="1 week", count=3))  # Sundays 11-29, 12-06, 12-13
    assert [c.due_at for c in made.callbacks] == [sh(2026, 11, 30, 10), sh(2026, 12, 7, 10), sh(2026, 12, 14, 10)]
    exact = act("王芳", sh(2026, 11, 24, 10), lambda d: CB.schedule_callback(
        d, sh(2026, 11, 29, 10), phone=PHONE, every="1 week", count=2, exact=True))
    assert [c.due_at for c in exact.callbacks] == [sh(2026, 11, 29, 10), sh(2026, 12, 6, 10)]
    # An open-ended one keeps to working days when its next visit is made.
    first = act("王芳", sh(2026, 11, 24, 10), lambda d: CB.schedule_callback(
        d, sh(2026, 12, 25, 10), phone=PHONE, every="1 week")).callbacks[0]  # Fri; next Fri 01-01 is New Year's Day
    done = act("王芳", sh(2026, 12, 25, 10, 30), lambda d: CB.record_attempt(d, first.id, "reached"))
    assert "2027-01-04 10:00" in done.follow_up[0]
    with pytest.raises(InvalidValue):
        act("王芳", sh(2026, 11, 24, 10), lambda d: CB.schedule_callback(d, sh(2026, 11, 29, 10), phone=PHONE, exact=True))
