"""Complaints (投诉): owned by whoever took them (首问负责制), timed in business hours, escalated level by
level, resolved, and closed once a return visit finds the customer satisfied.

How time is kept
- Every change appends a ComplaintEvent. The SLA — each deadline, whether it was missed, how much
  business time is left — is recomputed from those events by `compute_sla` (pure: no database),
  never by patching a stored deadline. Changing the calendar or the allowances and recomputing gives
  the new answer. The due/breach columns of Complaint are a cache of that result, refreshed after
  every change, so that lists and the reminder run can use indexes.
- Clocks. The first-response clock runs from opening until the complaint is acknowledged (resolving
  counts as a first response too). A resolution clock runs from opening with the severity's
  allowance; each escalation ends the running clock and starts a new one with the new level's
  allowance; resolving ends it; reopening starts a new one at the current level (so time spent
  resolved never counts, and a reopened complaint is not instantly in breach).
- Holds (on_hold → resume) pause every clock: business time inside a hold never counts. While a hold
  is open the deadline is unknown (None), unless it had already passed before the hold began.
- Automatic escalation (`auto_escalate`) acts on each missed resolution deadline once: the event it
  writes carries a unique key (complaint, level, deadline), and the pass re-reads the events under the
  row lock, so a repeated or concurrent pass finds nothing left to do.

Modules: complaint_rules.py (settings, labels, the SLA computed from events), complaint_records.py (results,
loading, recording an event, who handles a level), this file (every action), complaint_queries.py (lists,
the view, the SLA explained, the watch) and complaint_demo.py. The complaint ↔ return-visit loop lives
above this area and the callbacks area, in visit_loop.py.

States: open (待响应) → acknowledged (处理中) → resolved (已解决) → closed (已关闭); open/acknowledged
⇄ on_hold (挂起); resolved/closed → reopened, back to acknowledged.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from csdesk import dates
from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import N_, _
from csdesk.models import Call, Complaint, ComplaintEvent, Customer, Project, Staff
from csdesk.workflows import ROLE_RANK, Desk, audit, hooks, snapshot
from csdesk.workflows import assignment
from csdesk.workflows.complaint_records import (
    ComplaintInfo, EscalationResult, _POSSIBLE, _commit, _events, _info, _load, _names, _record, _refresh, _refuse,
    _require_level, _start_level, _text, _when, handler_for_level,
)
from csdesk.workflows.complaint_rules import (
    ACTIVE, Rules, TOP_LEVEL, _FUTURE_SLACK, _PAST_LIMIT, calendar, check_category, check_severity, compute_sla,
    role_word, rules, status_label,
)
from csdesk.workflows.lookup import find_customer
from csdesk.workflows.lookup import find_staff

# Names of the complaint modules, importable from here as before (csdesk imports the area from here).
from csdesk.workflows.complaint_rules import (  # noqa: F401
    SEVERITIES, STATUSES, LISTED, NOT_CLOSED, SEVERITY_LABELS, STATUS_LABELS, EVENT_LABELS, DEADLINE_STATES,
    CLOCK_LABELS, _ROLE_LABELS, _DEFAULT_LEVEL_NAMES, _CLOCKLESS, AUTO, _SUMMARY_LIMIT, _allowance, _level_setting,
    _CALENDARS, fmt_business, left_text, severity_label, check_status, Clock, Sla, verdicts_to_keep, _finish,
    _calendar_text, calendar_gaps, severity_word,
)
from csdesk.workflows.complaint_records import (  # noqa: F401
    ListRow, ComplaintList, Deadline, EventInfo, ComplaintView, SlaExplanation, SlaAlert, SlaWatch, last_entry_at,
    _active_load, notice_boss,
)
from csdesk.workflows.complaint_queries import (  # noqa: F401
    sla_watch, list_complaints, _deadline, _event_text, complaint_view, explain_sla, customer_complaints,
    assigned_open_complaints, owned_open_complaints, project_complaints,
)


# ---- opening ------------------------------------------------------------------------------------------


def open_complaint(
    desk: Desk,
    customer: str | None = None,
    severity: str | None = None,
    category: str | None = None,
    summary: str | None = None,
    project: str | None = None,
    call_id: int | None = None,
    at: datetime | None = None,
    assign: str | None = None,
    customer_id: int | None = None,
) -> ComplaintInfo:
    """Open a complaint. The person acting owns it (首问负责制) and, unless `assign` names someone,
    handles it — or, when it starts above their level (major, key account), the first person of that
    level up their reports_to chain."""
    session = desk.session
    actor = desk.require_actor()
    r = rules(desk.settings)
    severity = check_severity(severity)
    category = check_category(r, category)
    call = None
    if call_id is not None:
        call = session.get(Call, call_id)
        if call is None:
            raise NotFound(_("no call #{id}").format(id=call_id))
        if call.complaint_id is not None:
            raise Conflict(_("call #{call} is already linked to complaint #{id}").format(call=call.id, id=call.complaint_id))
    if customer_id is not None:
        cust = session.get(Customer, customer_id)
    elif customer:
        cust = find_customer(session, customer)
    elif call is not None:
        cust = session.get(Customer, call.customer_id)
    else:
        raise InvalidValue(_("say whose complaint it is: --phone, --customer or --call"))
    if call is not None and call.customer_id != cust.id:
        raise InvalidValue(_("call #{call} was with another customer, not {code}").format(call=call.id, code=cust.code))
    summary = _text(summary if summary is not None or call is None else call.summary, N_("the summary (--summary)"))
    project_id = None
    if project:
        row = session.exec(select(Project).where(Project.code == project.strip().upper())).first()
        if row is None:
            raise NotFound(_("no project with code {code}").format(code=project.strip().upper()))
        if row.customer_id != cust.id:
            raise InvalidValue(_("project {project} belongs to another customer, not {code}").format(project=row.code, code=cust.code))
        project_id = row.id
    when = _when(desk, None, at or (call.at if call is not None else None), N_("opening the complaint"))
    if when < desk.now - _PAST_LIMIT:
        raise InvalidValue(_("opening the complaint at {when} is more than a year ago; check --at").format(when=dates.fmt(when, desk.tz)))
    level = _start_level(r, severity, cust)
    pick = assignment.pick_for_complaint(desk, cust, category, level, assign)  # the [assignment] rules
    if pick is not None:
        handler = pick.staff
    elif assign:
        handler = find_staff(session, assign)
        if ROLE_RANK[handler.role] < level:
            raise PermissionDenied(
                _("a complaint at {level} needs a {role} or above; {name} is a {their_role}").format(
                    level=r.level_label(level), role=role_word(level), name=handler.name, their_role=role_word(handler.role))
            )
    elif actor.rank >= level:
        handler = session.get(Staff, actor.id)
    else:
        handler = handler_for_level(session, desk.settings, actor.id, level, r)
        if handler is None:
            raise Conflict(
                _("this complaint starts at {level} and nobody active is a {role} or above").format(level=r.level_label(level), role=role_word(level)),
                hint=_("add one (staff add), set escalation.default_assignee.{level}, or use --assign").format(level=level),
            )
    c = Complaint(
        customer_id=cust.id, project_id=project_id, call_id=call.id if call is not None else None, severity=severity,
        category=category, summary=summary, status="open", level=level, owner_id=actor.id, assignee_id=handler.id,
        opened_at=when, created_at=desk.now, updated_at=desk.now, **assignment.stored(pick, assign),
    )
    session.add(c)
    session.flush()
    _record(desk, c, "opened", when, None, level, note=summary)
    if handler.id != actor.id:
        _record(desk, c, "assigned", when, actor.id, handler.id, note=f"assignment rule: {pick.rule}" if pick is not None and pick.rule != "opener" else
                "starts above the opener's level" if not assign else None)
    session.flush()
    _refresh(c, compute_sla(_events(session, c.id), severity, desk.now, calendar(desk.settings), r))
    session.add(c)
    audit(desk, "complaint.open", c)
    if call is not None:
        before = snapshot(call)
        call.complaint_id = c.id
        session.add(call)
        audit(desk, "call.complaint", call, before=before)
    return replace(_info(session, c, r, customer=cust), assign_rule=c.assign_rule)


# ---- actions ------------------------------------------------------------------------------------------


def ack_complaint(desk: Desk, complaint_id: int, at: datetime | None = None, note: str | None = None) -> ComplaintInfo:
    """The first response: someone has been in touch with the customer."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    if c.status != "open":
        if c.acked_at is not None and c.status in ACTIVE + ("resolved",):
            raise InvalidTransition(_(
                "complaint #{id} was already acknowledged at {when} (it is {status}); a complaint is acknowledged once"
            ).format(id=c.id, when=dates.fmt(c.acked_at, desk.tz), status=status_label(c.status)))
        raise _refuse(c, N_("acknowledge it"), _POSSIBLE[c.status])
    when = _when(desk, c, at, N_("the acknowledgement"))
    before = snapshot(c)
    c.status, c.acked_at = "acknowledged", when
    event = _record(desk, c, "acknowledged", when, note=_text(note, N_("the note"), required=False))
    _commit(desk, c, "ack", before, event, r)
    return _info(desk.session, c, r)


def add_note(desk: Desk, complaint_id: int, text: str, at: datetime | None = None) -> ComplaintInfo:
    """A line in the timeline; allowed in every state (a closed complaint can still be annotated)."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    text = _text(text, N_("the note"))
    when = at or desk.now
    if when > desk.now + _FUTURE_SLACK:
        raise InvalidValue(_("a note cannot be in the future (check --at)"))
    if when < c.opened_at:
        raise InvalidValue(_("a note cannot come before the complaint was opened ({when})").format(when=dates.fmt(c.opened_at, desk.tz)))
    before = snapshot(c)
    event = _record(desk, c, "note", when, note=text)
    _commit(desk, c, "note", before, event, r)
    return _info(desk.session, c, r)


def assign_complaint(desk: Desk, complaint_id: int, name: str, at: datetime | None = None, owner: bool = False) -> ComplaintInfo:
    """Hand the complaint to someone of its level or above (the current assignee, its owner or a
    supervisor may do this). With `owner`, transfer the first-contact ownership instead (supervisor+)."""
    actor = desk.require_actor()
    r = rules(desk.settings)
    session = desk.session
    c = _load(desk, complaint_id, lock=True)
    if c.status == "closed":
        raise _refuse(c, N_("reassign it"), _POSSIBLE["closed"])
    person = find_staff(session, name)
    if owner:
        desk.require_rank("supervisor", _("transferring a complaint's ownership (首问负责)"))
        if person.id == c.owner_id:
            raise InvalidValue(_("{name} already owns complaint #{id}").format(name=person.name, id=c.id))
    else:
        if actor.id not in (c.assignee_id, c.owner_id) and actor.rank < ROLE_RANK["supervisor"]:
            raise PermissionDenied(
                _("only complaint #{id}'s assignee, its owner or a supervisor or above can reassign it; {name} is a {role}").format(
                    id=c.id, name=actor.name, role=role_word(actor.role))
            )
        if person.id == c.assignee_id:
            raise InvalidValue(_("complaint #{id} is already assigned to {name}").format(id=c.id, name=person.name))
        if ROLE_RANK[person.role] < c.level:
            raise PermissionDenied(
                _("complaint #{id} is at {level}: it can only be assigned to a {role} or above; {name} is a {their_role}").format(
                    id=c.id, level=r.level_label(c.level), role=role_word(c.level), name=person.name, their_role=role_word(person.role))
            )
    when = _when(desk, c, at, N_("the assignment"))
    before = snapshot(c)
    if owner:
        event = _record(desk, c, "owner", when, c.owner_id, person.id)
        c.owner_id = person.id
    else:
        event = _record(desk, c, "assigned", when, c.assignee_id, person.id)
        c.assignee_id = person.id
    _commit(desk, c, "owner" if owner else "assign", before, event, r)
    return _info(session, c, r)


def hold_complaint(desk: Desk, complaint_id: int, reason: str, at: datetime | None = None) -> ComplaintInfo:
    """Stop the clocks while waiting for the customer or a supplier."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    reason = _text(reason, N_("the reason (--reason)"))
    if c.status == "on_hold":
        raise InvalidTransition(_("complaint #{id} is already on hold; resume it first (complaint resume)").format(id=c.id))
    if c.status not in ("open", "acknowledged"):
        raise _refuse(c, N_("put it on hold"), _POSSIBLE[c.status])
    when = _when(desk, c, at, N_("the hold"))
    before = snapshot(c)
    c.status = "on_hold"
    event = _record(desk, c, "held", when, note=reason)
    _commit(desk, c, "hold", before, event, r)
    return _info(desk.session, c, r)


def resume_complaint(desk: Desk, complaint_id: int, at: datetime | None = None, note: str | None = None) -> ComplaintInfo:
    """End a hold: the clocks run again, their deadlines moved by the business time spent on hold."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    if c.status != "on_hold":
        raise _refuse(c, N_("resume it (it is not on hold)"), _POSSIBLE[c.status])
    when = _when(desk, c, at, N_("the resumption"))
    before = snapshot(c)
    c.status = "acknowledged" if c.acked_at is not None else "open"
    event = _record(desk, c, "resumed", when, note=_text(note, N_("the note"), required=False))
    _commit(desk, c, "resume", before, event, r)
    return _info(desk.session, c, r)


def _escalate(desk: Desk, c: Complaint, to_level: int, at: datetime, reason: str, r: Rules, key: str | None = None,
              missed_due: datetime | None = None, strict: bool = True,
              visit_id: int | None = None) -> tuple[EscalationResult, ComplaintEvent]:
    """Raise the level, hand it one level up, give it the new level's resolution clock (the caller commits)."""
    session = desk.session
    names = _names(session)
    handler = handler_for_level(session, desk.settings, c.assignee_id, to_level, r)
    note = None
    if handler is None:
        if strict:
            raise Conflict(
                _("nobody active can take complaint #{id} at {level}").format(id=c.id, level=r.level_label(to_level)),
                hint=_("add a {role} (staff add), or set escalation.default_assignee.{level} in the config").format(
                    role=role_word(to_level), level=to_level),
            )
        note = _("nobody active at {level}: assignee unchanged").format(level=r.level_label(to_level))
    from_level, from_assignee = c.level, c.assignee_id
    actor_id = None if key else (desk.actor.id if desk.actor else None)
    event = _record(desk, c, "escalated", at, from_level, to_level, note=reason, key=key, actor_id=actor_id, visit_id=visit_id)
    c.level = to_level
    if handler is not None and handler.id != c.assignee_id:
        _record(desk, c, "assigned", at, c.assignee_id, handler.id, note="escalation", actor_id=actor_id)
        c.assignee_id = handler.id
    result = EscalationResult(c.id, from_level, to_level, names.get(from_assignee, "?"), names.get(c.assignee_id, "?"), at, missed_due, note)
    return result, event


def escalate_complaint(desk: Desk, complaint_id: int, reason: str, to_level: int | None = None, at: datetime | None = None) -> EscalationResult:
    """Escalate by hand: one level up, or straight to `to_level`. Anyone may escalate."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    reason = _text(reason, N_("the reason (--reason)"))
    if c.status not in ACTIVE:
        raise _refuse(c, N_("escalate it"), _POSSIBLE[c.status])
    if c.level >= TOP_LEVEL:
        raise InvalidTransition(_("complaint #{id} is already at the top level ({level}); there is nobody above to escalate to").format(
            id=c.id, level=r.level_label(c.level)))
    target = c.level + 1 if to_level is None else to_level
    if not isinstance(target, int) or target <= c.level or target > TOP_LEVEL:
        raise InvalidValue(_("complaint #{id} is at level {level}: --to must be a level from {low} to {high}").format(
            id=c.id, level=c.level, low=c.level + 1, high=TOP_LEVEL))
    when = _when(desk, c, at, N_("the escalation"))
    before = snapshot(c)
    result, event = _escalate(desk, c, target, when, reason, r)
    _commit(desk, c, "escalate", before, event, r)
    return result


def resolve_complaint(desk: Desk, complaint_id: int, resolution: str, at: datetime | None = None) -> ComplaintInfo:
    """Resolved: stops the clocks (and counts as the first response if there was none). Needs someone
    of the complaint's level or above. Fires `complaint_resolved` (the return visit is scheduled from it)."""
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    resolution = _text(resolution, N_("the resolution (--resolution)"))
    if c.status not in ACTIVE:
        raise _refuse(c, N_("resolve it"), _POSSIBLE[c.status])
    _require_level(desk, c, N_("resolving"), r)
    when = _when(desk, c, at, N_("the resolution"))
    before = snapshot(c)
    c.status, c.resolved_at, c.resolution = "resolved", when, resolution
    if c.acked_at is None:
        c.acked_at = when
    event = _record(desk, c, "resolved", when, note=resolution)
    _commit(desk, c, "resolve", before, event, r)
    hooks.fire("complaint_resolved", desk, complaint_id=c.id)
    return _info(desk.session, c, r)


def close_complaint(desk: Desk, complaint_id: int, without_visit: bool = False, reason: str | None = None,
                    at: datetime | None = None, visit_id: int | None = None) -> ComplaintInfo:
    """Close a resolved complaint: because a return visit found the customer satisfied (`visit_id`,
    given by the callbacks area; or found through the `satisfied_visit` query), or — without a visit —
    by a supervisor or above giving a reason."""
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    if c.status != "resolved":
        if c.status == "closed":
            raise InvalidTransition(_("complaint #{id} is already closed; it can only be reopened").format(id=c.id))
        raise _refuse(c, N_("close it before it is resolved"), N_("resolve it first (complaint resolve --resolution)"))
    note = None
    if visit_id is None:
        _require_level(desk, c, N_("closing"), r)
        visit_id = hooks.ask("satisfied_visit", desk.session, c.id)
        if visit_id is None:
            if not without_visit:
                raise InvalidTransition(_(
                    "complaint #{id} is resolved but no return visit has found the customer satisfied: it is closed by a "
                    "satisfied return visit, or by a supervisor with --without-visit --reason"
                ).format(id=c.id))
            desk.require_rank("supervisor", _("closing a complaint without a satisfied return visit"))
            note = _text(reason, N_("the reason (--reason)"))
    when = _when(desk, c, at, N_("the closing"))
    before = snapshot(c)
    c.status, c.closed_at = "closed", when
    event = _record(desk, c, "closed", when, note=note, visit_id=visit_id)
    _commit(desk, c, "close", before, event, r)
    return _info(desk.session, c, r)


def reopen_complaint(desk: Desk, complaint_id: int, reason: str, at: datetime | None = None) -> ComplaintInfo:
    """Reopen a resolved or closed complaint: a new resolution clock at its current level."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    reason = _text(reason, N_("the reason (--reason)"))
    if c.status not in ("resolved", "closed"):
        raise _refuse(c, N_("reopen it (only resolved or closed complaints are reopened)"), _POSSIBLE[c.status])
    when = _when(desk, c, at, N_("the reopening"))
    before = snapshot(c)
    event = _reopen(desk, c, when, reason)
    _commit(desk, c, "reopen", before, event, r)
    # Its pending return visit asks about a resolution that no longer stands; resolving again makes a new one.
    hooks.fire("complaint_reopened", desk, complaint_id=c.id, at=when, reason=f"complaint #{c.id} reopened: {reason}")
    return _info(desk.session, c, r)


def _reopen(desk: Desk, c: Complaint, when: datetime, reason: str, visit_id: int | None = None) -> ComplaintEvent:
    from_status = c.status
    c.status, c.resolved_at, c.closed_at, c.resolution = "acknowledged", None, None, None
    return _record(desk, c, "reopened", when, from_status, "acknowledged", note=reason, visit_id=visit_id)


def reopen_after_visit(desk: Desk, complaint_id: int, reason: str, visit_id: int, at: datetime | None = None) -> ComplaintInfo:
    """A return visit found the customer unsatisfied: reopen (a new resolution clock, no instant
    breach) and escalate one level unless already at the top, both at the visit's time `at` (the new
    clock starts there, not when the visit was typed in). Called by the callbacks area."""
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    reason = _text(reason, N_("the reason"))
    if c.status not in ("resolved", "closed"):
        raise _refuse(c, N_("reopen it after a return visit"), _POSSIBLE[c.status])
    when = _when(desk, c, at, N_("the unsatisfied return visit"))
    before = snapshot(c)
    event = _reopen(desk, c, when, reason, visit_id)
    if c.level < TOP_LEVEL:
        _escalate(desk, c, c.level + 1, when, _("unsatisfied return visit #{id}").format(id=visit_id), r, strict=False, visit_id=visit_id)
    _commit(desk, c, "reopen", before, event, r)
    return _info(desk.session, c, r)


# ---- corrections: edit, void ---------------------------------------------------------------------------


def edit_complaint(desk: Desk, complaint_id: int, severity: str | None = None, category: str | None = None,
                   summary: str | None = None, customer: str | None = None, project: str | None = None) -> ComplaintInfo:
    """Correct what a complaint is about (its assignee, owner, a supervisor or above).

    A severity change is a timeline entry; the deadlines follow the new severity from the opening, as if
    it had been filed that way (the level stays: escalate if it needs more). Moving it to another customer
    drops its project unless `project` names one of the new customer's, and moves its pending return visits
    with it (hook `complaint_moved`). `project` "-" or "none" removes the project."""
    actor = desk.require_actor()
    session = desk.session
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    if c.status == "void":
        raise _refuse(c, N_("edit it"), _POSSIBLE["void"])
    if actor.id not in (c.assignee_id, c.owner_id) and actor.rank < ROLE_RANK["supervisor"]:
        raise PermissionDenied(
            _("only complaint #{id}'s assignee, its owner or a supervisor or above can edit it; {name} is a {role}").format(
                id=c.id, name=actor.name, role=role_word(actor.role))
        )
    if all(v is None for v in (severity, category, summary, customer, project)):
        raise InvalidValue(_("say what to change: --severity, --category, --summary, --customer or --project"))
    changes: dict[str, tuple[Any, Any]] = {}
    new_severity = check_severity(severity) if severity is not None else c.severity
    if new_severity != c.severity:
        changes["severity"] = (c.severity, new_severity)
    if category is not None:
        value = check_category(r, category)
        if value != c.category:
            changes["category"] = (c.category, value)
    if summary is not None:
        value = _text(summary, N_("the summary (--summary)"))
        if value != c.summary:
            changes["summary"] = (c.summary, value)
    customer_id = c.customer_id
    if customer is not None:
        customer_id = find_customer(session, customer).id
        if customer_id != c.customer_id:
            changes["customer_id"] = (c.customer_id, customer_id)
    project_id = c.project_id
    if project is not None:
        code = project.strip().upper()
        if code in ("-", "NONE", "无"):
            project_id = None
        else:
            row = session.exec(select(Project).where(Project.code == code)).first()
            if row is None:
                raise NotFound(_("no project with code {code}").format(code=code))
            project_id = row.id
    elif customer_id != c.customer_id:
        project_id = None  # the old customer's project cannot stay
    if project_id is not None:
        row = session.get(Project, project_id)
        if row.customer_id != customer_id:
            owner = session.get(Customer, customer_id)
            raise InvalidValue(_("project {project} belongs to another customer, not {code}").format(project=row.code, code=owner.code))
    if project_id != c.project_id:
        changes["project_id"] = (c.project_id, project_id)
    if customer_id != c.customer_id and c.call_id is not None:
        call = session.get(Call, c.call_id)
        if call is not None and call.customer_id != customer_id:
            raise InvalidValue(_(
                "complaint #{id} came in on call #{call} with {code}: move the call first, or open a new complaint for the other customer"
            ).format(id=c.id, call=call.id, code=session.get(Customer, call.customer_id).code))
    if not changes:
        raise InvalidValue(_("complaint #{id} already says that: nothing to change").format(id=c.id))
    when = _when(desk, c, None, N_("the edit"))
    before = snapshot(c)
    events = []
    if "severity" in changes:  # its own entry: the deadlines change with it
        events.append(_record(desk, c, "severity", when, *changes["severity"]))
        c.severity = new_severity
    others = [k for k in changes if k != "severity"]
    if others:
        words = {"category": "category", "summary": "summary", "customer_id": "customer", "project_id": "project"}
        text = "; ".join(f"{words[k]}: {_edit_value(session, k, changes[k][0])} → {_edit_value(session, k, changes[k][1])}" for k in others)
        events.append(_record(desk, c, "edited", when, note=text))
        for k in others:
            setattr(c, k, changes[k][1])
    _commit(desk, c, "edit", before, events[0], r)
    if "customer_id" in changes or "project_id" in changes:
        hooks.fire("complaint_moved", desk, complaint_id=c.id, customer_id=c.customer_id, project_id=c.project_id)
    return _info(session, c, r)


def _edit_value(session, key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key == "customer_id":
        return session.get(Customer, value).code
    if key == "project_id":
        return session.get(Project, value).code
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def void_complaint(desk: Desk, complaint_id: int, reason: str) -> ComplaintInfo:
    """Void a complaint opened by mistake or twice (supervisor or above): it leaves every list, SLA,
    reminder and report, and its pending visits are cancelled. The row and its timeline stay, for the audit."""
    desk.require_actor()
    desk.require_rank("supervisor", _("voiding a complaint"))
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    reason = _text(reason, N_("the reason (--reason)"))
    if c.status == "void":
        raise InvalidTransition(_("complaint #{id} is already void").format(id=c.id))
    when = _when(desk, c, None, N_("voiding"))
    before = snapshot(c)
    event = _record(desk, c, "voided", when, c.status, "void", note=reason)
    c.status = "void"
    _commit(desk, c, "void", before, event, r)
    hooks.fire("complaint_voided", desk, complaint_id=c.id, at=when, reason=f"complaint #{c.id} voided: {reason}")
    return _info(desk.session, c, r)


# ---- automatic escalation and the SLA watch -------------------------------------------------------------


def auto_escalate(desk: Desk, now: datetime | None = None, dry_run: bool = False) -> list[EscalationResult]:
    """Escalate every complaint whose resolution deadline has passed, one level per missed deadline.

    Each missed deadline is acted on once: the escalation event carries the unique key
    (complaint, level, deadline), and each candidate is re-checked from its events under its row lock,
    so a repeated or concurrent pass does nothing more. The new level's clock starts at `now` (the
    moment it is handed over). With nothing to do this is one indexed query (escalate_at <= now).
    """
    now = now or desk.now
    session = desk.session
    ids = session.exec(
        select(Complaint.id).where(Complaint.escalate_at <= now).order_by(Complaint.escalate_at, Complaint.id)
    ).all()
    if not ids:
        return []
    r = rules(desk.settings)
    cal = calendar(desk.settings)
    results = []
    for complaint_id in ids:
        c = _load(desk, complaint_id, lock=True)
        if c.status not in ACTIVE or c.level >= TOP_LEVEL:
            continue
        sla = compute_sla(_events(session, c.id), c.severity, now, cal, r)
        current = sla.current
        if not current.running or current.due is None or current.due > now:
            if not dry_run:  # a stale cache (e.g. the calendar changed): put it right
                _refresh(c, sla)
                session.add(c)
            continue
        reason = _("resolution deadline {due} passed at {level}").format(due=dates.fmt(current.due, desk.tz), level=r.level_label(c.level))
        key = f"auto-escalate:{c.id}:L{c.level}:{current.due.astimezone(dates.UTC).strftime('%Y-%m-%dT%H:%M:%S')}"
        if dry_run:
            handler = handler_for_level(session, desk.settings, c.assignee_id, c.level + 1, r)
            names = _names(session)
            results.append(EscalationResult(c.id, c.level, c.level + 1, names.get(c.assignee_id, "?"),
                                            handler.name if handler else names.get(c.assignee_id, "?"), now, current.due,
                                            None if handler else _("nobody active at that level: assignee unchanged")))
            continue
        at = max(now, _last_at(session, c.id))
        try:
            with session.begin_nested():
                before = snapshot(c)
                saved_now, desk.now = desk.now, now
                try:
                    result, event = _escalate(desk, c, c.level + 1, at, reason, r, key=key, missed_due=current.due, strict=False)
                    _commit(desk, c, "auto_escalate", before, event, r)
                finally:
                    desk.now = saved_now
        except IntegrityError:
            continue  # another pass escalated this very breach a moment ago
        results.append(result)
    return results


def _last_at(session, complaint_id: int) -> datetime:
    return session.exec(select(func.max(ComplaintEvent.at)).where(ComplaintEvent.complaint_id == complaint_id)).one()
