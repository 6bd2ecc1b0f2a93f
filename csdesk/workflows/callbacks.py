"""Callbacks and return visits (回访/回电): promises, repeating visits, phone outcomes, closing the loop.

A callback is due at a time, for a customer, assigned to one person, for a purpose, maybe about a
complaint, a project or a call. Trying it gives an outcome:
- reached: done, with satisfied/unsatisfied, a 1–5 score and a note. A reached complaint visit closes
  the loop: satisfied closes the complaint, unsatisfied reopens it (the note is the reason) one level up;
- no answer: the attempt is counted and the callback moves to the next business slot
  `callbacks.retry_delay` later, until `callbacks.max_attempts` tries, when it is missed;
- wrong number: missed at once.
Missed callbacks are reported to the assignee's supervisor by the reminder run (`missed_callbacks`).

Visits are also made by rules (csdesk/workflows/visit_rules.py has the arithmetic, [visit_rules] the
numbers): a resolved complaint, a handover, an acceptance (through hooks, in the same transaction),
the warranty series (at handover), and the periodic visits of key accounts, VIPs and owners of
handed-over projects (`generate_periodic_visits`, idempotent, run by `remind run` or by hand).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, literal
from sqlmodel import select

from csdesk import dates, phones
from csdesk.errors import InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import _
from csdesk.models import AuditEntry, Call, Callback, CallbackSeries, Customer, Project, Staff
from csdesk.workflows import ROLE_RANK, Desk, audit, check_limit, hooks, snapshot
from csdesk.workflows import assignment
from csdesk.workflows import visit_rules as vr
from csdesk.workflows.callback_records import (
    AttemptResult, CallbackDetail, CallbackInfo, CallbackList, DUE_WINDOWS, DUE_WORDS, HistoryEntry, PURPOSES,
    STATUSES, Scheduled, UTC, _check_choice, _complaint_model, _day_start, _infos, _names, _new_callback, _settings,
    _subject, _subject_ref, _text, get_callback, status_label,
)
from csdesk.workflows.callback_rules import _end_series, _roll_series, _rule_due
from csdesk.workflows.callback_stats import _boss_of
from csdesk.workflows.lookup import customer_by_phone, find_customer
from csdesk.workflows.lookup import find_staff

# Names of the callback modules, importable from here as before (csdesk imports the area from here).
from csdesk.workflows.callback_records import (  # noqa: F401
    OUTCOMES, RULE_LABELS, PURPOSE_LABELS, STATUS_LABELS, OUTCOME_LABELS, RULE_WORDS, WINDOW_LABELS, BY_LABELS, BY,
    _RULE_PURPOSE, purpose_label, outcome_label, rule_label, window_label, VisitMade, SatisfactionRow,
    SatisfactionStats, DueCallback, MissedCallback, _chunks, _find_project, _active_staff_id, due_text,
)
from csdesk.workflows.callback_rules import (  # noqa: F401
    _next_occurrence, _made, schedule_complaint_visit, _project_assignee, _project_visit, _warranty_plan,
    create_warranty_series, cancel_for_complaint, move_complaint_callbacks, _on_project_handed_over,
    _on_project_accepted, satisfied_visit, project_visits, _NewSeries, _wanted_rule, generate_periodic_visits,
    periodic_visits_batch, _made_many,
)
from csdesk.workflows.callback_stats import (  # noqa: F401
    due_callbacks, missed_callbacks, _rate, satisfaction_stats, customer_callbacks, pending_callbacks_of,
)


def schedule_callback(
    desk: Desk,
    due: datetime,
    customer: str | None = None,
    phone: str | None = None,
    subject: str | None = None,
    purpose: str | None = None,
    assignee: str | None = None,
    note: str | None = None,
    every: str | None = None,
    count: int | None = None,
    until: date | None = None,
    rrule: str | None = None,
    exact: bool = False,
) -> Scheduled:
    """Schedule a callback, or a series of them (`every` + `count`/`until`, or an RFC 5545 `rrule`).

    A series' visits land on working days (one that falls on a Sunday or a holiday moves to the next
    working day, same time of day) unless `exact`."""
    actor = desk.require_actor()
    session = desk.session
    due = due.astimezone(UTC)
    kind, row = _subject(session, subject)
    subject_customer = None
    if kind == "complaint":
        subject_customer = row.customer_id
    elif kind in ("project", "call"):
        subject_customer = row.customer_id

    number = phones.normalize(phone) if phone else None
    if customer:
        cust = find_customer(session, customer)
    elif number:
        cust = customer_by_phone(session, number)
        if cust is None:
            raise NotFound(f"no customer with phone {phones.display(number)}",
                           hint="csdesk customer add NAME --phone … adds one, or name the customer with --customer")
    elif subject_customer:
        cust = session.get(Customer, subject_customer)
    else:
        raise InvalidValue(_("say who to call: --phone P, --customer CODE, or --for complaint:ID|project:CODE|call:ID"))
    if subject_customer and subject_customer != cust.id:
        other = session.get(Customer, subject_customer)
        raise InvalidValue(f"{kind} {_subject_ref(kind, row)} is about {other.code}, not {cust.code}")

    repeating = bool(every or rrule)
    purpose = _check_choice(purpose, PURPOSES, "purpose") if purpose else (
        "complaint-visit" if kind == "complaint" else "periodic" if repeating else "promise")
    if purpose == "complaint-visit" and kind != "complaint":
        raise InvalidValue(_("a complaint visit needs the complaint: --for complaint:ID"))
    pick = assignment.pick_for_callback(desk, cust.id, assignee)  # --assign auto: the [assignment] rules
    who = pick.staff if pick else find_staff(session, assignee) if assignee else session.get(Staff, actor.id)
    note = _text(note, "the note")
    if due < desk.now - timedelta(minutes=1):
        raise InvalidValue(_("the due time {due} is in the past (now is {now})").format(due=dates.fmt(due, desk.tz), now=dates.fmt(desk.now, desk.tz)),
                           hint=_("for back-dated work give --now"))
    fields = dict(
        customer_id=cust.id, phone=number, purpose=purpose,
        complaint_id=row.id if kind == "complaint" else None,
        project_id=row.id if kind == "project" else (row.project_id if kind in ("call", "complaint") else None),
        call_id=row.id if kind == "call" else None, assignee_id=who.id, note=note, **assignment.stored(pick, assignee),
    )

    if not (every or rrule):
        if count is not None or until is not None or exact:
            raise InvalidValue(_("--count, --until and --exact are for a repeating callback: give --every SPAN or --rrule RULE too"))
        cb = _new_callback(desk, due_at=due, **fields)
        audit(desk, "callback.schedule", cb)
        return Scheduled(_infos(session, [cb], desk.now))

    if every and rrule:
        raise InvalidValue(_("give either --every or --rrule, not both"))
    tz = desk.tz
    rule = vr.every_to_rrule(every) if every else vr.check_rrule(rrule, due, tz)
    rule = vr.month_end_safe(rule, due.astimezone(tz).date())
    if count is not None or until is not None:
        if count is not None and until is not None:
            raise InvalidValue(_("give either --count or --until, not both"))
        if until is not None and until < due.astimezone(tz).date():
            raise InvalidValue(_("--until {until} is before the first visit ({due})").format(until=until, due=dates.fmt(due, tz)))
        parts = vr._parts(rule)
        parts.pop("COUNT", None)
        parts.pop("UNTIL", None)
        rule = vr.with_end(vr._join(parts), count=count, until=until)
    finite = vr.is_finite(rule)
    planned = vr.occurrences(rule, due, tz, limit=vr.MAX_SERIES + 1 if finite else 1)
    if not planned:
        raise InvalidValue(_("{rule} gives no visit from {due} on").format(rule=rule, due=dates.fmt(due, tz)))
    if len(planned) > vr.MAX_SERIES:
        raise InvalidValue(_("that series makes more than {max} visits; use a smaller --count or an earlier --until").format(max=vr.MAX_SERIES))
    series = CallbackSeries(
        customer_id=cust.id, project_id=fields["project_id"], complaint_id=fields["complaint_id"], rule="manual",
        purpose=purpose, rrule=rule, start_at=due, assignee_id=who.id, note=note, active=True, exact=exact,
        created_at=desk.now, created_by_id=actor.id,
    )
    session.add(series)
    audit(desk, "callback_series.create", series)
    cal = vr.calendar(desk.settings)
    made = []
    for seq, when in planned:
        cb = _new_callback(desk, due_at=_rule_due(cal, series, when), series_id=series.id, seq=seq, **fields)
        made.append(cb)
    session.flush()
    for cb in made:
        audit(desk, "callback.schedule", cb, flush=False)
    return Scheduled(_infos(session, made, desk.now), series.id, rule, open_ended=not finite)


def list_callbacks(
    desk: Desk,
    due: str | None = None,
    assignee: str | None = None,
    customer: str | None = None,
    purpose: str | None = None,
    status: str = "pending",
    limit: int = 100,
) -> CallbackList:
    """Callbacks by due time, overdue first. `due`: today (incl. overdue) | tomorrow | week (to Sunday,
    incl. overdue) | overdue | all; default today for pending ones, all for the others."""
    session = desk.session
    status = (status or "pending").strip().lower()
    if status != "all" and status not in STATUSES:
        raise InvalidValue(_("unknown status {value!r} (use one of: {choices}, all)").format(value=status, choices=", ".join(STATUSES)))
    window = (due or ("today" if status == "pending" else "all")).strip().lower()
    window = DUE_WORDS.get(window, window)
    if window not in DUE_WINDOWS:
        raise InvalidValue(_("unknown --due {value!r} (use one of: {choices})").format(value=window, choices=", ".join(DUE_WINDOWS)))
    if window == "overdue" and status != "pending":
        raise InvalidValue(_("only pending callbacks can be overdue"))
    check_limit(limit)
    conds = []
    if status != "all":
        conds.append(Callback.status == status)
    today = desk.now.astimezone(desk.tz).date()
    if window == "today":
        conds.append(Callback.due_at < _day_start(desk, today + timedelta(days=1)))
    elif window == "tomorrow":
        conds.append(Callback.due_at >= _day_start(desk, today + timedelta(days=1)))
        conds.append(Callback.due_at < _day_start(desk, today + timedelta(days=2)))
    elif window == "week":
        conds.append(Callback.due_at < _day_start(desk, today + timedelta(days=7 - today.weekday())))
    elif window == "overdue":
        conds.append(Callback.due_at < desk.now)
    if assignee:
        if assignee.strip().lower() in ("me", "我"):
            conds.append(Callback.assignee_id == desk.require_actor().id)
        elif assignee.strip().lower() in ("nobody", "none", "-"):
            conds.append(Callback.assignee_id.is_(None))
        else:
            conds.append(Callback.assignee_id == find_staff(session, assignee, active_only=False).id)
    if customer:
        conds.append(Callback.customer_id == find_customer(session, customer).id)
    if purpose:
        conds.append(Callback.purpose == _check_choice(purpose, PURPOSES, "purpose"))
    where = and_(*conds) if conds else literal(True)
    total, overdue = session.exec(
        select(func.count(), func.coalesce(func.sum(case(
            (and_(Callback.status == "pending", Callback.due_at < desk.now), 1), else_=0)), 0))
        .select_from(Callback).where(where)
    ).one()
    rows = session.exec(select(Callback).where(where).order_by(Callback.due_at, Callback.id).limit(limit)).all()
    return CallbackList(_infos(session, list(rows), desk.now), total, overdue, window)


def callback_detail(desk: Desk, callback_id: int) -> CallbackDetail:
    session = desk.session
    cb = get_callback(session, callback_id)
    series = None
    if cb.series_id:
        s = session.get(CallbackSeries, cb.series_id)
        total = session.exec(select(func.count()).select_from(Callback).where(Callback.series_id == s.id)).one()
        series = {"id": s.id, "rule": s.rule, "rrule": s.rrule, "start_at": s.start_at, "active": s.active,
                  "ended_reason": s.ended_reason, "visits_made": total, "open_ended": not vr.is_finite(s.rrule)}
    entries = session.exec(
        select(AuditEntry).where(AuditEntry.entity == "callback", AuditEntry.entity_id == cb.id).order_by(AuditEntry.id)
    ).all()
    afters = [json.loads(e.after) if e.after else {} for e in entries]
    people = _names(session, [v for a in afters for k, v in a.items() if k.endswith("_by_id") or k == "assignee_id"])
    history = []
    for entry, changes in zip(entries, afters):
        if entry.action == "callback.schedule":
            changes = {k: changes.get(k) for k in ("due_at", "purpose", "assignee_id", "note") if changes.get(k) is not None}
        shown = {}
        for k, v in changes.items():
            if k in ("assignee_id", "closed_by_id", "created_by_id"):
                shown[k.removesuffix("_id")] = people.get(v, v)
            elif k not in ("id",):
                shown[k] = v
        history.append(HistoryEntry(entry.at, entry.actor, entry.action, shown))
    return CallbackDetail(_infos(session, [cb], desk.now)[0], series, history)


# --- outcomes -----------------------------------------------------------------------------------


def record_attempt(
    desk: Desk,
    callback_id: int,
    outcome: str,
    satisfied: bool | None = None,
    score: int | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> AttemptResult:
    """Record a try at a callback: reached (done), no_answer (retry later, or missed) or wrong_number."""
    actor = desk.require_actor()
    session = desk.session
    outcome = _check_choice(outcome, {"reached": "接通", "no-answer": "未接", "wrong-number": "错号"}, "outcome").replace("-", "_")
    cb = get_callback(session, callback_id, lock=True)
    if cb.status != "pending":
        raise InvalidTransition(
            _("callback #{id} is {status}; only a pending callback can be tried").format(id=cb.id, status=status_label(cb.status)),
            hint=_("csdesk callback schedule … makes a new one"))
    at = (at or desk.now).astimezone(UTC)
    if at > desk.now + timedelta(minutes=5):
        raise InvalidValue(_("--at {when} is in the future").format(when=dates.fmt(at, desk.tz)))
    if cb.last_attempt_at and at < cb.last_attempt_at:
        raise InvalidValue(_("--at {when} is before the last try ({last})").format(
            when=dates.fmt(at, desk.tz), last=dates.fmt(cb.last_attempt_at, desk.tz)))
    follows, what = _follows(session, cb)
    if follows is not None and at < follows - timedelta(minutes=1):
        raise InvalidValue(_("--at {when} is before {what} ({then})").format(
            when=dates.fmt(at, desk.tz), what=what, then=dates.fmt(follows, desk.tz)))
    if outcome != "reached" and (satisfied is not None or score is not None):
        raise InvalidValue(_("--satisfied, --unsatisfied and --score need --reached"))
    if score is not None and not 1 <= score <= 5:
        raise InvalidValue(_("--score {score}: a score is 1 to 5").format(score=score))
    note = _text(note, "the note")
    is_complaint_visit = cb.complaint_id is not None and cb.purpose == "complaint-visit"
    if outcome == "reached" and is_complaint_visit:
        if satisfied is None:
            raise InvalidValue(_(
                "callback #{id} is the return visit of complaint #{complaint}: say --satisfied or --unsatisfied "
                "(satisfied closes the complaint, unsatisfied reopens it)").format(id=cb.id, complaint=cb.complaint_id))
        if satisfied is False and not note:
            raise InvalidValue(_("an unsatisfied complaint visit needs --note: it becomes the reason the complaint is reopened"))
        if satisfied:
            _check_may_close(session, actor, cb)

    rules, cal = _settings(desk)
    before = snapshot(cb)
    cb.attempts += 1
    cb.last_attempt_at = at
    cb.outcome = outcome
    if note:
        cb.result_note = note
    result_next = None
    missed = False
    if outcome == "reached":
        cb.status = "done"
        cb.satisfied = satisfied
        cb.score = score
        action = "callback.done"
    elif outcome == "wrong_number":
        cb.status = "missed"
        missed = True
        action = "callback.wrong_number"
    elif cb.attempts >= rules.max_attempts:
        cb.status = "missed"
        missed = True
        action = "callback.missed"
    else:
        cb.due_at = result_next = vr.retry_due(cal, at, rules.retry_delay)
        action = "callback.no_answer"
    if cb.status != "pending":
        cb.closed_at = at
        cb.closed_by_id = actor.id
    session.add(cb)
    audit(desk, action, cb, before=before)

    follow_up: list[str] = []
    if outcome == "reached" and is_complaint_visit:
        line = hooks.ask("complaint_visit_reached", desk, cb)  # closes or reopens it: visit_loop.py
        if line:
            follow_up.append(line)
    if cb.status != "pending" and cb.series_id:
        follow_up.extend(_roll_series(desk, session.get(CallbackSeries, cb.series_id), rules, cal))
    supervisor = None
    if missed and cb.assignee_id:
        boss_id = _boss_of(desk, cb.assignee_id)
        supervisor = _names(session, [boss_id]).get(boss_id) if boss_id else None
    return AttemptResult(_infos(session, [cb], desk.now)[0], outcome, result_next, missed, rules.max_attempts, supervisor, follow_up)


def _follows(session, cb: Callback) -> tuple[datetime | None, str]:
    """The moment a callback follows, before which no try can have happened: a complaint visit follows
    the complaint's resolution, a promise made on a call follows that call, anything else its scheduling.
    (The callback row itself may have been written later, when the resolution or the call was entered
    after the fact.)"""
    if cb.complaint_id is not None and cb.purpose == "complaint-visit":
        model = _complaint_model()
        complaint = session.get(model, cb.complaint_id) if model is not None else None
        if complaint is not None and complaint.resolved_at is not None:
            return complaint.resolved_at, f"complaint #{complaint.id} was resolved"
    if cb.call_id is not None:
        call = session.get(Call, cb.call_id)
        if call is not None:
            return call.at, f"call #{call.id} that made the promise"
    if cb.rule in ("handover", "acceptance") and cb.project_id is not None:
        project = session.get(Project, cb.project_id)
        moment = project.handed_over_at if cb.rule == "handover" else project.accepted_at
        if moment is not None:
            return moment, f"project {project.code}'s {cb.rule}"
    if cb.created_at is not None:
        return cb.created_at, "the callback was scheduled"
    return None, ""


def _check_may_close(session, actor, cb: Callback) -> None:
    """Recording a satisfied return visit closes the complaint: only the visit's or the complaint's
    assignee or owner may, or someone who outranks them."""
    model = _complaint_model()
    complaint = session.get(model, cb.complaint_id) if model is not None else None
    people = {cb.assignee_id}
    if complaint is not None:
        people |= {complaint.assignee_id, complaint.owner_id}
    people.discard(None)
    if actor.id in people:
        return
    ranks = [ROLE_RANK.get(p.role, 1) for p in (session.get(Staff, i) for i in people) if p is not None]
    if ranks and actor.rank > max(ranks):
        return
    names = ", ".join(sorted(_names(session, people).values())) or "nobody"
    raise PermissionDenied(
        f"callback #{cb.id} is the return visit of complaint #{cb.complaint_id}: a satisfied visit closes the complaint, "
        f"so only its assignee or owner ({names}) or someone above them can record it; {actor.name} is a {actor.role}",
        hint="ask them to record it, or have it reassigned (callback reschedule --assign)",
    )


def reschedule_callback(
    desk: Desk, callback_id: int, due: datetime | None = None, reason: str | None = None, assignee: str | None = None,
) -> CallbackInfo:
    """Move a pending callback to another time and/or hand it to someone else."""
    desk.require_actor()
    session = desk.session
    cb = get_callback(session, callback_id, lock=True)
    if cb.status != "pending":
        raise InvalidTransition(_("callback #{id} is {status}; only a pending callback can be rescheduled").format(id=cb.id, status=status_label(cb.status)))
    if due is None and assignee is None:
        raise InvalidValue(_("give --due WHEN and/or --assign NAME"))
    before = {"due_at": cb.due_at.isoformat(), "assignee_id": cb.assignee_id}
    if due is not None:
        if due < desk.now - timedelta(minutes=1):
            raise InvalidValue(_("the new due time {due} is in the past (now is {now})").format(due=dates.fmt(due, desk.tz), now=dates.fmt(desk.now, desk.tz)))
        cb.due_at = due.astimezone(UTC)
    if assignee is not None:
        cb.assignee_id = find_staff(session, assignee).id
    after = {"due_at": cb.due_at.isoformat(), "assignee_id": cb.assignee_id}
    if after == before:
        raise InvalidValue(_("callback #{id} is already due {due} for that person: nothing to change").format(id=cb.id, due=dates.fmt(cb.due_at, desk.tz)))
    session.add(cb)
    audit(desk, "callback.reschedule", cb, before=before, after={**after, "reason": _text(reason, "the reason", 500)})
    return _infos(session, [cb], desk.now)[0]


def cancel_callback(desk: Desk, callback_id: int, reason: str, series: bool = False) -> list[CallbackInfo]:
    """Cancel a pending callback (with `series`, also the later ones of its series, and end the series).

    The assignee, whoever scheduled it, or a supervisor or above may cancel."""
    actor = desk.require_actor()
    session = desk.session
    cb = get_callback(session, callback_id, lock=True)
    reason = _text(reason, "the reason", 500)
    if not reason:
        raise InvalidValue(_("cancelling needs --reason"))
    if cb.status != "pending":
        raise InvalidTransition(_("callback #{id} is {status}; only a pending callback can be cancelled").format(id=cb.id, status=status_label(cb.status)))
    if actor.rank < ROLE_RANK["supervisor"] and actor.id not in (cb.assignee_id, cb.created_by_id):
        raise PermissionDenied(f"callback #{cb.id} is {_names(session, [cb.assignee_id]).get(cb.assignee_id) or 'unassigned'}'s; "
                               f"only its assignee, whoever scheduled it, or a supervisor or above can cancel it")
    if series and not cb.series_id:
        raise InvalidValue(_("callback #{id} is not part of a series").format(id=cb.id))
    rows = [cb]
    if series:
        rows += list(session.exec(select(Callback).where(
            Callback.series_id == cb.series_id, Callback.status == "pending", Callback.id != cb.id,
            Callback.due_at >= cb.due_at)).all())
    for row in rows:
        before = snapshot(row)
        row.status = "cancelled"
        row.result_note = reason
        row.closed_at = desk.now
        row.closed_by_id = actor.id
        session.add(row)
        audit(desk, "callback.cancel", row, before=before)
    if cb.series_id:
        s = session.get(CallbackSeries, cb.series_id)
        if series:
            _end_series(desk, s, f"cancelled: {reason}")
        else:
            rules, cal = _settings(desk)
            _roll_series(desk, s, rules, cal)
    return _infos(session, rows, desk.now)
