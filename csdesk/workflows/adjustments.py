"""Adjustments (调整/整改) asked for after a project's handover: reported, done, accepted or rejected
by the customer, corrected with an audit entry. In warranty when reported on or before the project's
warranty end; in warranty the company pays by default, out of it the customer. Builds on projects.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlmodel import func, select

from csdesk import dates
from csdesk.errors import InvalidTransition, InvalidValue, NotFound
from csdesk.i18n import N_, _
from csdesk.models import Adjustment, Call, Customer, Project, Staff
from csdesk.money import from_fen, to_fen
from csdesk.workflows import Desk, audit, check_limit, snapshot
from csdesk.workflows.project_labels import (
    OPEN_ADJUSTMENT, PAYERS, RESPONSIBLE_EN, RESPONSIBLE_LABELS, adjustment_status_label, responsible_label, stage_label,
)
from csdesk.workflows.projects import _not_future, _owner_name, _text, find_project, in_warranty, local_date, today


@dataclass
class AdjustmentInfo:
    id: int
    project_code: str
    project_name: str
    customer_code: str
    item: str
    responsible: str
    responsible_label: str
    status: str
    status_label: str
    reported_on: date
    due_on: date | None
    overdue: bool
    in_warranty: bool
    cost: Decimal | None
    payer: str | None
    call_id: int | None
    created_at: datetime | None
    done_at: datetime | None
    verdict_at: datetime | None
    rejections: int
    reason: str | None
    owner: str | None = None
    owner_id: int | None = None


def check_responsible(desk: Desk, value: str | None) -> str:
    allowed = list(desk.settings["projects"]["responsible"]) or list(RESPONSIBLE_LABELS)
    value = (value or "other").strip().lower()
    for key in allowed:
        if value in (key, RESPONSIBLE_LABELS.get(key), RESPONSIBLE_EN.get(key)):
            return key
    raise InvalidValue(_("unknown responsible party {value} (use one of: {choices})").format(value=repr(value), choices=", ".join(allowed)))


def check_payer(value: str) -> str:
    value = (value or "").strip().lower()
    for key, chinese in PAYERS.items():
        if value in (key, chinese):
            return key
    raise InvalidValue(_("unknown payer {value} (use one of: {choices})").format(value=repr(value), choices=", ".join(PAYERS)))


def _adjustment_info(desk: Desk, a: Adjustment, project: Project | None = None, customer_code: str | None = None,
                     owner: str | None = None) -> AdjustmentInfo:
    session = desk.session
    project = project or session.get(Project, a.project_id)
    if customer_code is None:
        customer_code = session.get(Customer, project.customer_id).code
    return AdjustmentInfo(
        id=a.id, project_code=project.code, project_name=project.name, customer_code=customer_code, item=a.item,
        responsible=a.responsible, responsible_label=responsible_label(a.responsible),
        status=a.status, status_label=adjustment_status_label(a.status), reported_on=a.reported_on,
        due_on=a.due_on, overdue=a.status in OPEN_ADJUSTMENT and a.due_on is not None and a.due_on < today(desk),
        in_warranty=a.in_warranty, cost=from_fen(a.cost_fen) if a.cost_fen is not None else None, payer=a.payer,
        call_id=a.call_id, created_at=a.created_at, done_at=a.done_at, verdict_at=a.verdict_at, rejections=a.rejections,
        reason=a.reason, owner=owner if owner is not None else _owner_name(session, project.owner_id), owner_id=project.owner_id,
    )


def find_adjustment(session, ident: int | str) -> Adjustment:
    try:
        number = int(str(ident).strip().lstrip("#"))
    except ValueError:
        raise InvalidValue(_("{ident} is not an adjustment number").format(ident=repr(ident))) from None
    row = session.get(Adjustment, number)
    if row is None:
        raise NotFound(_("no adjustment #{id}").format(id=number), hint=_("csdesk adjust list shows them"))
    return row


def add_adjustment(
    desk: Desk, project: str, item: str, responsible: str | None = None, due: date | None = None, call: int | None = None,
    reported: date | None = None,
) -> AdjustmentInfo:
    """An adjustment the customer asked for after handover, on `reported` (default today); in or out of
    warranty and the default due date are decided from that day, not from the day it is typed in."""
    desk.require_actor()
    session = desk.session
    row = find_project(session, project)
    if row.stage in ("signed",):
        raise InvalidTransition(_("{code} is not handed over yet; adjustments are asked for after handover").format(code=row.code))
    if row.stage in ("archived", "shelved"):
        raise InvalidTransition(_("{code} is {stage}; resume it before adding adjustments").format(code=row.code, stage=stage_label(row.stage)))
    item = _text(item, N_("the item"), 500, required=True)
    if reported is None:
        reported = today(desk)
    else:
        handed = local_date(row.handed_over_at, desk.tz)
        if reported > today(desk):
            raise InvalidValue(_("the day it was reported, {day}, is in the future (check --on)").format(day=reported))
        if handed and reported < handed:
            raise InvalidValue(_("the day it was reported, {day}, is before {code}'s handover ({handover})").format(
                day=reported, code=row.code, handover=handed))
    if due is None and desk.settings["projects"]["adjustment_days"] > 0:
        due = reported + timedelta(days=desk.settings["projects"]["adjustment_days"])
    if due is not None and due < reported:
        raise InvalidValue(_("the due date {due} is before the day it was reported ({day})").format(due=due, day=reported)
                           if reported != today(desk) else _("the due date {due} is already past").format(due=due))
    call_id = None
    if call is not None:
        linked = session.get(Call, call)
        if linked is None:
            raise NotFound(_("no call #{id}").format(id=call))
        if linked.customer_id != row.customer_id:
            raise InvalidValue(_("call #{id} is from another customer than {code}'s").format(id=call, code=row.code))
        call_id = linked.id
    adjustment = Adjustment(
        project_id=row.id, item=item, responsible=check_responsible(desk, responsible), status="open", reported_on=reported,
        due_on=due, in_warranty=bool(in_warranty(row, reported)), call_id=call_id,
        created_by_id=desk.actor.id, created_at=desk.now,
    )
    session.add(adjustment)
    audit(desk, "adjustment.add", adjustment)
    return _adjustment_info(desk, adjustment, row)


def _event_at(desk: Desk, a: Adjustment, at: datetime | None, what: str) -> datetime:
    """When something happened to an adjustment (`--at`, default now): not in the future, not before it
    was reported, not before its last step."""
    at = _not_future(desk, at or desk.now, what)
    if local_date(at, desk.tz) < a.reported_on:
        raise InvalidValue(_("{what} ({at}) cannot be before adjustment #{id} was reported ({day})").format(
            what=_(what), at=dates.fmt(at, desk.tz), id=a.id, day=a.reported_on))
    last = max((t for t in (a.done_at, a.verdict_at) if t is not None), default=None)
    if last is not None and at < last:
        raise InvalidValue(_("{what} ({at}) cannot be before adjustment #{id}'s last step ({last})").format(
            what=_(what), at=dates.fmt(at, desk.tz), id=a.id, last=dates.fmt(last, desk.tz)))
    return at


def finish_adjustment(desk: Desk, ident: int | str, cost: Decimal | None = None, payer: str | None = None,
                      at: datetime | None = None) -> AdjustmentInfo:
    """The work is done (at `at`, default now); it waits for the customer's verdict. A cost is paid by the
    company in warranty, by the customer out of it, unless --payer says otherwise."""
    desk.require_actor()
    session = desk.session
    a = find_adjustment(session, ident)
    if a.status not in OPEN_ADJUSTMENT:
        raise InvalidTransition(_("adjustment #{id} is {status}; only an open or rejected one can be done").format(
            id=a.id, status=adjustment_status_label(a.status)))
    if payer is not None and cost is None:
        raise InvalidValue(_("--payer goes with --cost"))
    at = _event_at(desk, a, at, N_("the work"))
    before = snapshot(a)
    if cost is not None:
        cost_fen = to_fen(cost)
        if cost_fen < 0:
            raise InvalidValue(_("a cost cannot be negative"))
        a.cost_fen = cost_fen
        a.payer = check_payer(payer) if payer else ("company" if a.in_warranty else "customer")
    a.status = "done"
    a.done_at = at
    session.add(a)
    audit(desk, "adjustment.done", a, before=before)
    return _adjustment_info(desk, a)


def accept_adjustment(desk: Desk, ident: int | str, at: datetime | None = None) -> AdjustmentInfo:
    """The customer accepts the done work (验收, at `at`, default now); the adjustment is closed."""
    desk.require_actor()
    a = find_adjustment(desk.session, ident)
    if a.status != "done":
        raise InvalidTransition(_("adjustment #{id} is {status}; only a done one can be accepted").format(
            id=a.id, status=adjustment_status_label(a.status)))
    at = _event_at(desk, a, at, N_("the acceptance"))
    before = snapshot(a)
    a.status = "accepted"
    a.verdict_at = at
    desk.session.add(a)
    audit(desk, "adjustment.accept", a, before=before)
    return _adjustment_info(desk, a)


def reject_adjustment(desk: Desk, ident: int | str, reason: str, at: datetime | None = None) -> AdjustmentInfo:
    """The customer rejects the done work (at `at`, default now): the adjustment is open again, with the reason kept."""
    desk.require_actor()
    a = find_adjustment(desk.session, ident)
    reason = _text(reason, N_("the reason"), 500)
    if not reason:
        raise InvalidValue(_("rejecting an adjustment needs --reason"))
    if a.status != "done":
        raise InvalidTransition(_("adjustment #{id} is {status}; only a done one can be rejected").format(
            id=a.id, status=adjustment_status_label(a.status)))
    at = _event_at(desk, a, at, N_("the rejection"))
    before = snapshot(a)
    a.status = "rejected"
    a.verdict_at = at
    a.rejections += 1
    a.reason = reason
    desk.session.add(a)
    audit(desk, "adjustment.reject", a, before=before)
    return _adjustment_info(desk, a)


def edit_adjustment(
    desk: Desk, ident: int | str, item: str | None = None, due: date | None = None, responsible: str | None = None,
    cost: Decimal | None = None, payer: str | None = None,
) -> AdjustmentInfo:
    """Correct an adjustment's item, due date, responsible party or cost (and payer): an audited change
    (adjustment.edit) with the values before and after; nothing is overwritten silently."""
    desk.require_actor()
    session = desk.session
    a = find_adjustment(session, ident)
    project = session.get(Project, a.project_id)
    if project.stage == "archived":
        raise InvalidTransition(_("{code} is archived; its adjustments cannot be changed").format(code=project.code))
    # Every value is checked before anything changes.
    item = _text(item, N_("the item"), 500, required=True) if item is not None else None
    responsible = check_responsible(desk, responsible) if responsible is not None else None
    if due is not None and due < a.reported_on:
        raise InvalidValue(_("the due date {due} is before adjustment #{id} was reported ({day})").format(due=due, id=a.id, day=a.reported_on))
    cost_fen = to_fen(cost) if cost is not None else None
    if cost_fen is not None and cost_fen < 0:
        raise InvalidValue(_("a cost cannot be negative"))
    if payer is not None:
        if cost_fen is None and a.cost_fen is None:
            raise InvalidValue(_("--payer goes with a cost (give --cost too)"))
        payer = check_payer(payer)
    before = snapshot(a)
    for name, value in (("item", item), ("responsible", responsible), ("due_on", due), ("cost_fen", cost_fen), ("payer", payer)):
        if value is not None:
            setattr(a, name, value)
    if a.cost_fen is not None and a.payer is None:
        a.payer = "company" if a.in_warranty else "customer"
    after = snapshot(a)
    if all(before.get(k) == after.get(k) for k in after):
        raise InvalidValue(_("nothing to change (give at least one new value)"))
    session.add(a)
    audit(desk, "adjustment.edit", a, before=before)
    return _adjustment_info(desk, a)


def list_adjustments(
    desk: Desk, project: str | None = None, open_only: bool = False, overdue: bool = False, limit: int = 100,
    owner_id: int | None = None, due_by: date | None = None,
) -> tuple[list[AdjustmentInfo], int]:
    """Adjustments, newest first (overdue: oldest due first). `owner_id`: on that person's projects;
    `due_by`: open ones due on or before that day, soonest first."""
    check_limit(limit)
    session = desk.session
    query = select(Adjustment, Project, Customer.code, Staff.name).join(Project, Project.id == Adjustment.project_id) \
        .join(Customer, Customer.id == Project.customer_id).outerjoin(Staff, Staff.id == Project.owner_id)
    if project:
        query = query.where(Adjustment.project_id == find_project(session, project).id)
    if owner_id is not None:
        # With due_by (open ones due by a day: few), `+ 0` keeps the planner on the status/due index rather
        # than walking every project of the owner (an agent owns ~900 on the benchmark: 13 ms → 0.1 ms).
        query = query.where((Project.owner_id + 0 if due_by is not None else Project.owner_id) == owner_id)
    if due_by is not None:
        query = query.where(Adjustment.status.in_(OPEN_ADJUSTMENT), Adjustment.due_on <= due_by)
        overdue_order = True
    else:
        overdue_order = overdue
    if open_only or overdue:
        query = query.where(Adjustment.status.in_(OPEN_ADJUSTMENT))
    if overdue:
        query = query.where(Adjustment.due_on < today(desk))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    order = (Adjustment.due_on, Adjustment.id) if overdue_order else (Adjustment.id.desc(),)
    rows = session.exec(query.order_by(*order).limit(limit)).all()
    return [_adjustment_info(desk, a, p, code, name or "") for a, p, code, name in rows], total


def overdue_adjustments(desk: Desk, now: datetime) -> list[AdjustmentInfo]:
    """Open (or rejected) adjustments whose due date is before `now`'s local date — for reminder runs."""
    on = now.astimezone(desk.tz).date()
    session = desk.session
    rows = session.exec(
        select(Adjustment, Project, Customer.code, Staff.name).join(Project, Project.id == Adjustment.project_id)
        .join(Customer, Customer.id == Project.customer_id).outerjoin(Staff, Staff.id == Project.owner_id)
        .where(Adjustment.status.in_(OPEN_ADJUSTMENT), Adjustment.due_on < on, Project.stage.not_in(("shelved", "archived")))
        .order_by(Adjustment.due_on, Adjustment.id)
    ).all()
    out = []
    for a, p, code, name in rows:
        info = _adjustment_info(desk, a, p, code, name or "")
        info.overdue = True
        out.append(info)
    return out
