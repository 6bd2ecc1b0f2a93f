"""A complaint's record: the results the complaint workflows return, loading a complaint and its events,
appending an event and committing it (SLA recomputed, cache refreshed, audit row), and who handles a level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import func, select

from csdesk import dates
from csdesk.errors import InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import N_, _
from csdesk.models import Complaint, ComplaintEvent, Customer, Project, Staff
from csdesk.workflows import ROLE_RANK, ROLES, Desk, audit, snapshot
from csdesk.workflows.complaint_rules import (
    ACTIVE, Rules, Sla, TOP_LEVEL, _CLOCKLESS, _FUTURE_SLACK, _ROLE_LABELS, _SUMMARY_LIMIT, calendar, compute_sla,
    rules, severity_label, status_label, verdicts_to_keep,
)
from csdesk.workflows.lookup import first_boss, notice_boss  # noqa: F401  (notice_boss importable from here as before)


def _refresh(c: Complaint, sla: Sla) -> None:
    """Write the computed SLA into the cached columns."""
    fr, current = sla.first_response, sla.current
    c.first_response_due = fr.due
    c.resolution_due = current.due
    running = [k.due for k in (fr, current) if k.running and k.due is not None]
    c.next_due = min(running) if running and c.status in ACTIVE else None
    c.escalate_at = current.due if (c.status in ACTIVE and current.running and current.due is not None and c.level < TOP_LEVEL) else None
    c.response_breached = fr.breached
    c.resolution_breached = current.breached
    c.breach_count = sum(1 for k in sla.resolution if k.breached)


# ---- results ----------------------------------------------------------------------------------------


@dataclass
class ComplaintInfo:
    id: int
    status: str
    status_label: str
    level: int
    level_name: str
    severity: str
    severity_label: str
    category: str
    category_label: str
    summary: str
    customer_code: str
    customer_name: str | None
    owner: str
    assignee: str
    project: str | None
    call_id: int | None
    opened_at: datetime
    acked_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    next_due: datetime | None
    response_breached: bool
    resolution_breached: bool
    breach_count: int
    assign_rule: str | None = None  # set by complaint open: the rule that chose the assignee (workflows/assignment.py)


@dataclass
class ListRow:
    id: int
    status: str
    status_label: str
    level: int
    level_name: str
    severity: str
    severity_label: str
    category: str
    category_label: str
    customer_code: str
    customer_name: str | None
    assignee: str
    owner: str
    opened_at: datetime
    next_due: datetime | None
    next_clock: str | None  # which deadline next_due is: first_response | resolution
    overdue: bool
    business_left_s: int | None  # business seconds to the next deadline; negative: overdue by
    business_left: str
    summary: str


@dataclass
class ComplaintList:
    rows: list[ListRow]
    total: int


@dataclass
class Deadline:
    clock: str  # first_response | resolution
    label: str
    level: int | None
    started_at: datetime
    allowance: str
    due: datetime | None
    state: str  # running | on hold | breached | met | late | escalated | escalated, was late
    state_label: str
    ended_at: datetime | None
    ended_by: str | None
    business_used: str
    business_left_s: int | None
    business_left: str


@dataclass
class EventInfo:
    id: int
    at: datetime
    recorded_at: datetime
    actor: str
    kind: str
    label: str
    text: str
    visit_id: int | None


@dataclass
class ComplaintView:
    complaint: ComplaintInfo
    deadlines: list[Deadline]
    events: list[EventInfo]
    on_hold_since: datetime | None


@dataclass
class SlaExplanation:
    complaint: ComplaintInfo
    calendar: str
    sections: list[tuple[str, list[str]]]
    warnings: list[str] = field(default_factory=list)  # e.g. a year in use without its make-up workdays


@dataclass
class EscalationResult:
    complaint_id: int
    from_level: int
    to_level: int
    from_assignee: str
    to_assignee: str
    at: datetime
    missed_due: datetime | None  # the resolution deadline that was missed (automatic escalations)
    note: str | None = None


@dataclass
class SlaAlert:
    complaint_id: int
    clock: str  # first_response | resolution
    level: int
    due: datetime
    used_percent: int
    business_left_s: int
    business_left: str
    breached: bool
    severity: str
    status: str
    customer_code: str
    assignee_id: int
    assignee: str
    owner_id: int
    owner: str
    summary: str


@dataclass
class SlaWatch:
    warnings: list[SlaAlert]  # past warn_ratio of an allowance, not yet breached
    breached: list[SlaAlert]


# ---- helpers ------------------------------------------------------------------------------------------


def _names(session) -> dict[int, str]:
    return {s.id: s.name for s in session.exec(select(Staff)).all()}


def _load(desk: Desk, complaint_id: int, lock: bool = False) -> Complaint:
    query = select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    c = desk.session.exec(query).first()
    if c is None:
        raise NotFound(_("no complaint #{id}").format(id=complaint_id), hint=_("csdesk complaint list shows the open ones"))
    return c


def _events(session, complaint_id: int) -> list[ComplaintEvent]:
    return list(session.exec(
        select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id).order_by(ComplaintEvent.at, ComplaintEvent.id)
    ).all())


def _info(session, c: Complaint, r: Rules, names: dict[int, str] | None = None, customer: Customer | None = None) -> ComplaintInfo:
    names = names if names is not None else _names(session)
    customer = customer or session.get(Customer, c.customer_id)
    project = session.get(Project, c.project_id).code if c.project_id else None
    return ComplaintInfo(
        c.id, c.status, status_label(c.status), c.level, r.level_label(c.level), c.severity, severity_label(c.severity),
        c.category, r.category_label(c.category), c.summary, customer.code, customer.name,
        names.get(c.owner_id, "?"), names.get(c.assignee_id, "?"), project, c.call_id, c.opened_at, c.acked_at,
        c.resolved_at, c.closed_at, c.resolution, c.first_response_due, c.resolution_due, c.next_due,
        c.response_breached, c.resolution_breached, c.breach_count,
    )


def _text(value: str | None, what: str, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidValue(_("{what} is empty").format(what=_(what)))
        return None
    if len(value) > _SUMMARY_LIMIT:
        raise InvalidValue(_("{what} is longer than {limit} characters").format(what=_(what), limit=_SUMMARY_LIMIT))
    from csdesk.text import check_text

    return check_text(value, _(what))


def _when(desk: Desk, c: Complaint | None, at: datetime | None, what: str) -> datetime:
    """The time an entry happened: now, or earlier (--at) but never before the complaint's last entry."""
    when = at or desk.now
    if when > desk.now + _FUTURE_SLACK:
        raise InvalidValue(_("{what} cannot be in the future (check --at)").format(what=_(what)))
    if c is not None:
        last = desk.session.exec(
            select(func.max(ComplaintEvent.at)).where(ComplaintEvent.complaint_id == c.id, ComplaintEvent.kind.not_in(_CLOCKLESS))
        ).one()
        if last is not None and when < last:
            raise InvalidValue(_(
                "{what} at {when} would come before complaint #{id}'s last entry ({last}); entries are made in order"
            ).format(what=_(what), when=dates.fmt(when, desk.tz), id=c.id, last=dates.fmt(last, desk.tz)))
    return when


def last_entry_at(session, complaint_id: int) -> datetime | None:
    """When the complaint's last entry that moves a clock or its state happened (notes and edits aside)."""
    return session.exec(
        select(func.max(ComplaintEvent.at)).where(ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.kind.not_in(_CLOCKLESS))
    ).one()


def _record(desk: Desk, c: Complaint, kind: str, at: datetime, from_value: Any = None, to_value: Any = None,
            note: str | None = None, visit_id: int | None = None, key: str | None = None, actor_id: Any = ...) -> ComplaintEvent:
    event = ComplaintEvent(
        complaint_id=c.id, at=at, recorded_at=desk.now,
        actor_id=(desk.actor.id if desk.actor else None) if actor_id is ... else actor_id,
        kind=kind, from_value=None if from_value is None else str(from_value),
        to_value=None if to_value is None else str(to_value), note=note, visit_id=visit_id, key=key,
    )
    desk.session.add(event)
    return event


def _commit(desk: Desk, c: Complaint, action: str, before: dict[str, Any], event: ComplaintEvent, r: Rules) -> None:
    """After a change: recompute the SLA from all events, refresh the cache, write the audit row."""
    session = desk.session
    session.add(c)
    session.flush()
    sla = compute_sla(_events(session, c.id), c.severity, desk.now, calendar(desk.settings), r)
    keep = verdicts_to_keep(sla, c.severity) if event.kind != "note" else None  # (reports skip notes)
    if keep is not None:
        event.verdict = keep
        session.add(event)
        session.flush()
        sla = compute_sla(_events(session, c.id), c.severity, desk.now, calendar(desk.settings), r)
    _refresh(c, sla)
    c.updated_at = desk.now
    session.add(c)
    session.flush()
    after = snapshot(c)
    changed = sorted(k for k in after if before.get(k) != after[k] and k != "updated_at")
    audit(desk, f"complaint.{action}", c, before={k: before.get(k) for k in changed}, after={
        **{k: after[k] for k in changed},
        "event": {"kind": event.kind, "at": event.at.isoformat(), "from": event.from_value, "to": event.to_value,
                  "note": event.note, "visit_id": event.visit_id},
    })


def _refuse(c: Complaint, doing: str, possible: str) -> InvalidTransition:
    return InvalidTransition(_("complaint #{id} is {status}: cannot {doing}; {possible}").format(
        id=c.id, status=status_label(c.status), doing=_(doing), possible=_(possible)))


_POSSIBLE = {
    "open": N_("it can be acknowledged, put on hold, escalated, assigned or resolved"),
    "acknowledged": N_("it can be put on hold, escalated, assigned or resolved"),
    "on_hold": N_("resume it (complaint resume), escalate, assign or resolve it"),
    "resolved": N_("it is closed by a satisfied return visit (or by a supervisor), or reopened"),
    "closed": N_("it can only be reopened (complaint reopen --reason)"),
    "void": N_("it was voided and stays out of every list, deadline and report"),
}


def _require_level(desk: Desk, c: Complaint, doing: str, r: Rules):
    actor = desk.require_actor()
    if actor.rank < c.level:
        raise PermissionDenied(
            _("complaint #{id} is at {level}: {doing} it needs a {role} or above; {name} is a {actor_role}").format(
                id=c.id, level=r.level_label(c.level), doing=_(doing), role=_(_ROLE_LABELS[c.level - 1]), name=actor.name,
                actor_role=_(_ROLE_LABELS[actor.rank - 1])),
            hint=_("a complaint is resolved and closed by someone of its level or above (complaint assign, or escalate)"),
        )
    return actor


def _active_load(session, staff_ids: list[int]) -> dict[int, int]:
    rows = session.exec(
        select(Complaint.assignee_id, func.count()).where(Complaint.assignee_id.in_(staff_ids), Complaint.status.in_(ACTIVE))
        .group_by(Complaint.assignee_id)
    ).all()
    return dict(rows)


def handler_for_level(session, settings, start_id: int | None, level: int, r: Rules | None = None) -> Staff | None:
    """Who takes a complaint at `level`: the first active person of that level or above up the
    reports_to chain from `start_id` (not `start_id` itself), else the configured default for the
    level, else the active staff member of that level's role with the fewest active complaints."""
    r = r or rules(settings)
    boss = first_boss(session, start_id, level)
    if boss is not None:
        return boss
    name = r.default_assignee.get(level)
    if name:
        staff = session.exec(select(Staff).where(Staff.name == name)).first()
        if staff is None or not staff.active or ROLE_RANK[staff.role] < level:
            raise InvalidValue(
                f"config: escalation.default_assignee.{level} names {name!r}, who is not an active {ROLES[level - 1]} or above"
            )
        return staff
    candidates = list(session.exec(select(Staff).where(Staff.role == ROLES[level - 1], Staff.active == True).order_by(Staff.id)).all())  # noqa: E712
    if not candidates:
        return None
    load = _active_load(session, [s.id for s in candidates])
    return min(candidates, key=lambda s: (load.get(s.id, 0), s.id))


def _start_level(r: Rules, severity: str, customer: Customer) -> int:
    level = 1
    if severity == "major":
        level = max(level, r.major_level)
    if customer.tier == "key":
        level = max(level, r.key_account_level)
    return level
