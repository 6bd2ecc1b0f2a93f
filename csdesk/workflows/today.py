"""The person's work for today on one screen (`csdesk today`, the desk's queue): what crosses areas,
called explicitly from here — their complaints by next deadline, callbacks due or overdue, adjustments
and instalments on the projects they own that are due — and, for a supervisor or above, the same counts
for each person who reports to them (directly or further down)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from csdesk.i18n import _
from csdesk.workflows import ROLE_RANK, Desk


@dataclass
class TeamLine:
    name: str
    role: str
    complaints: int  # active complaints assigned to them
    complaints_overdue: int  # of which past a running deadline
    callbacks_due: int  # pending callbacks due by the end of today (overdue included)
    callbacks_overdue: int


@dataclass
class Today:
    person: str
    role: str
    day: str
    complaints: list[Any]
    complaints_total: int
    callbacks: list[Any]
    callbacks_total: int
    adjustments: list[Any]
    adjustments_total: int
    instalments: list[Any]
    instalments_total: int
    team: list[TeamLine] = field(default_factory=list)
    handovers: list[Any] = field(default_factory=list)  # shift handovers waiting for this person to take (csdesk/workflows/shift.py)


def _team(session, me_id: int) -> list[Any]:
    """Everyone active below `me_id` in the reports_to tree, in the order they are met."""
    from csdesk.models import Staff

    staff = session.exec(select(Staff).where(Staff.active == True)).all()  # noqa: E712
    below: dict[int | None, list[Any]] = {}
    for person in staff:
        below.setdefault(person.reports_to_id, []).append(person)
    found, queue = [], [me_id]
    while queue:
        for person in sorted(below.get(queue.pop(0), []), key=lambda p: (-ROLE_RANK[p.role], p.name)):
            if person.id != me_id and person not in found:
                found.append(person)
                queue.append(person.id)
    return found


def _team_lines(desk: Desk, people: list[Any]) -> list[TeamLine]:
    from csdesk.models import Callback, Complaint
    from csdesk.workflows.complaints import ACTIVE

    if not people:
        return []
    session, now = desk.session, desk.now
    ids = [p.id for p in people]
    end_of_day = _end_of_today(desk)
    complaints = dict(session.exec(
        select(Complaint.assignee_id, func.count()).where(Complaint.status.in_(ACTIVE), Complaint.assignee_id.in_(ids))
        .group_by(Complaint.assignee_id)).all())
    late = dict(session.exec(
        select(Complaint.assignee_id, func.count()).where(
            Complaint.status.in_(ACTIVE), Complaint.assignee_id.in_(ids), Complaint.next_due <= now)
        .group_by(Complaint.assignee_id)).all())
    due = dict(session.exec(
        select(Callback.assignee_id, func.count()).where(
            Callback.status == "pending", Callback.assignee_id.in_(ids), Callback.due_at < end_of_day)
        .group_by(Callback.assignee_id)).all())
    overdue = dict(session.exec(
        select(Callback.assignee_id, func.count()).where(
            Callback.status == "pending", Callback.assignee_id.in_(ids), Callback.due_at < now)
        .group_by(Callback.assignee_id)).all())
    return [TeamLine(p.name, p.role, complaints.get(p.id, 0), late.get(p.id, 0), due.get(p.id, 0), overdue.get(p.id, 0))
            for p in people]


def _end_of_today(desk: Desk):
    from datetime import datetime, time

    day = desk.now.astimezone(desk.tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0)).replace(tzinfo=desk.tz)


def todays_work(desk: Desk, limit: int = 20) -> Today:
    """What the person acting has to do today, most urgent first in each part; `limit` rows a part (the
    totals count them all)."""
    from csdesk.workflows import check_limit
    from csdesk.workflows.callbacks import list_callbacks
    from csdesk.workflows.complaints import list_complaints
    from csdesk.workflows.payments import list_instalments
    from csdesk.workflows.projects import list_adjustments

    check_limit(limit)
    actor = desk.require_actor()
    day = desk.now.astimezone(desk.tz).date()
    complaints = list_complaints(desk, assignee="me", limit=limit)
    callbacks = list_callbacks(desk, due="today", assignee="me", limit=limit)
    adjustments, adjustments_total = list_adjustments(desk, owner_id=actor.id, due_by=day, limit=limit)
    instalments, instalments_total = list_instalments(desk, overdue=True, due_within=0, owner=actor.name, limit=limit)
    team = _team_lines(desk, _team(desk.session, actor.id)) if actor.rank >= ROLE_RANK["supervisor"] else []
    from csdesk.workflows.shift import waiting_for

    return Today(
        actor.name, actor.role, day.isoformat(),
        complaints.rows, complaints.total, callbacks.rows, callbacks.total,
        adjustments, adjustments_total, instalments, instalments_total, team, waiting_for(desk, actor.id),
    )


@dataclass
class Escalation:
    complaint_id: int
    at: Any
    from_level: int | None
    to_level: int | None
    assignee: str | None
    summary: str


@dataclass
class TeamBoard:
    """What a supervisor watches: deadlines near or past (by assignee), missed callbacks, today's
    escalations, work nobody has."""

    near: list[Any]  # complaints whose next deadline is within `within` business time, or past it
    near_total: int
    missed: list[Any]  # callbacks marked missed in the last 7 days
    escalations: list[Escalation]  # escalations since local midnight
    unassigned: list[Any]  # pending callbacks with nobody to make them
    unassigned_total: int


def team_board(desk: Desk, within: timedelta = timedelta(hours=2), limit: int = 50) -> TeamBoard:
    from datetime import datetime, time

    from csdesk.models import Complaint, ComplaintEvent
    from csdesk.workflows import check_limit
    from csdesk.workflows.callbacks import list_callbacks, missed_callbacks
    from csdesk.workflows.complaints import list_complaints

    check_limit(limit)
    desk.require_rank("supervisor", _("the team board"))
    near = list_complaints(desk, due_within=within, limit=limit)
    missed = missed_callbacks(desk, since=desk.now - timedelta(days=7))
    midnight = datetime.combine(desk.now.astimezone(desk.tz).date(), time(0)).replace(tzinfo=desk.tz)
    rows = desk.session.exec(
        select(ComplaintEvent, Complaint).join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
        .where(ComplaintEvent.kind == "escalated", ComplaintEvent.at >= midnight)
        .order_by(ComplaintEvent.at.desc())
    ).all()
    from csdesk.models import Staff

    names = dict(desk.session.exec(select(Staff.id, Staff.name)).all())
    escalations = [
        Escalation(c.id, e.at, _int(e.from_value), _int(e.to_value), names.get(c.assignee_id), c.summary)
        for e, c in rows
    ]
    nobody = list_callbacks(desk, due="all", assignee="nobody", limit=limit)
    return TeamBoard(near.rows, near.total, missed, escalations, nobody.rows, nobody.total)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
