"""Projects (项目) and their lifecycle.

Stages: signed → handed_over → accepted → settled → archived, with shelved beside them.
- handover and acceptance set their dates, fix the due dates of the instalments that hang on them and
  fire the visit rules (hooks `project_handed_over`, `project_accepted`);
- acceptance is refused while adjustments are open, unless a supervisor or above accepts
  `with_open_adjustments` and gives a reason;
- a project is settled once it is accepted and every instalment of its plan is paid (see payments.py);
  a reversal that reopens an instalment takes it back to accepted;
- shelving pauses a project (and its dunning) from any stage before settled; resuming puts it back in
  the stage its dates say; archiving closes a settled or shelved project.

Warranty: from the handover date for `warranty_months`; a day is in warranty up to and including
`warranty_end`. An adjustment is in warranty when it is reported on or before that day; in warranty
the company pays for it by default, out of warranty the customer.

Direction of use. This module is the base of the projects-and-money area: adjustments.py, the money
modules (payment_plans.py, payments_received.py, dunning.py, aging.py, gathered by payments.py) and
project_screen.py import it; it imports none of them. A stage change moves money rules, so it fires
hooks that payment_plans.py answers: `project_dates_changed` (signing, handover, acceptance dates set
or moved: the instalments' due dates follow) and `project_stage_changed` (accepted or resumed: a paid-up
plan settles the project). Across areas it
uses the lookups below the areas (lookup.py: find_customer, find_staff); the customer card's
projects section and the open-work count are in project_screen.py; the visit rules hear of handovers and acceptances through
hooks.fire, and the one-screen view asks for visits and complaints through hooks (project_screen.py):
nothing here imports callbacks or complaints. Its words are in project_labels.py; the adjustments, the one-screen view and the demo have moved out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import func, select

from csdesk import dates
from csdesk.errors import InvalidTransition, InvalidValue, NotFound
from csdesk.i18n import N_, _
from csdesk.models import Adjustment, Customer, Instalment, Payment, PaymentAllocation, Project, Staff
from csdesk.money import from_fen, to_fen
from csdesk.workflows import Desk, audit, check_limit, snapshot
from csdesk.workflows.lookup import find_customer
from csdesk.workflows.lookup import (  # noqa: F401  (the project lookups live below the areas; importable from here as before)
    find_project, local_date, project_text as _text, staff_filter, today,
)
from csdesk.workflows.project_labels import (  # noqa: F401  (all importable from here, as before the split)
    ADJUSTMENT_STATUSES, ADJUSTMENT_STATUSES_EN, OPEN_ADJUSTMENT, OPEN_STAGES, PAYERS, PAYERS_EN, RESPONSIBLE_EN, RESPONSIBLE_LABELS,
    STAGE_ALIASES, STAGES, STAGES_EN, adjustment_status_label, payer_label, responsible_label, role_label, stage_label,
)




# --- results ----------------------------------------------------------------------------------


@dataclass
class ProjectInfo:
    id: int
    code: str
    name: str
    customer_code: str
    customer_name: str | None
    site: str | None
    owner: str | None
    stage: str
    stage_label: str
    contract: Decimal
    signed_on: date | None
    handed_over_at: datetime | None
    accepted_at: datetime | None
    warranty_months: int
    warranty_end: date | None
    in_warranty: bool | None  # None: not handed over yet
    has_plan: bool = False
    paid: Decimal = Decimal("0.00")
    outstanding: Decimal = Decimal("0.00")
    overdue: Decimal = Decimal("0.00")
    credit: Decimal = Decimal("0.00")  # received beyond the plan (allowed overpayments)
    open_adjustments: int = 0


# --- lookups and helpers ----------------------------------------------------------------------


def warranty_end(project: Project, tz) -> date | None:
    from dateutil.relativedelta import relativedelta

    handed = local_date(project.handed_over_at, tz)
    return handed + relativedelta(months=project.warranty_months) if handed else None


def in_warranty(project: Project, on: date) -> bool | None:
    """Whether `on` falls in the project's warranty (None before handover)."""
    if project.warranty_end is None:
        return None
    return on <= project.warranty_end


def parse_warranty(text: str) -> int:
    """A warranty length in months: `24m`, `2y`, `18 months`, `2年`."""
    span = dates.parse_span(text)
    if span.days or getattr(span, "weeks", 0):
        raise InvalidValue(_("{text}: a warranty is given in months or years (24m, 2y)").format(text=repr(text)))
    months = span.years * 12 + span.months
    if not 0 < months <= 600:
        raise InvalidValue(_("{text}: a warranty must be between 1 month and 50 years").format(text=repr(text)))
    return months


def _not_future(desk: Desk, at: datetime, what: str) -> datetime:
    if at > desk.now + timedelta(minutes=5):
        raise InvalidValue(_("{what} cannot be in the future (check --at)").format(what=_(what)))
    return at


def _owner_name(session, owner_id: int | None) -> str | None:
    return session.get(Staff, owner_id).name if owner_id else None


def money_by_project(session, project_ids: list[int], on: date) -> dict[int, dict[str, int]]:
    """Plan, paid, outstanding, overdue (due before `on`) and credit in fen, per project, in 3 queries."""
    if not project_ids:
        return {}
    out = {pid: {"count": 0, "planned": 0, "paid": 0, "overdue": 0, "credit": 0} for pid in project_ids}
    overdue = func.sum(func.coalesce(
        sa_case((Instalment.due_on < on, Instalment.amount_fen - Instalment.paid_fen), else_=0), 0))
    rows = session.exec(
        select(Instalment.project_id, func.count(), func.sum(Instalment.amount_fen), func.sum(Instalment.paid_fen), overdue)
        .where(Instalment.project_id.in_(project_ids)).group_by(Instalment.project_id)
    ).all()
    for pid, count, planned, paid, late in rows:
        out[pid].update(count=count, planned=int(planned or 0), paid=int(paid or 0), overdue=int(late or 0))
    received = session.exec(
        select(Payment.project_id, func.sum(Payment.amount_fen)).where(Payment.project_id.in_(project_ids)).group_by(Payment.project_id)
    ).all()
    allocated = dict(session.exec(
        select(Payment.project_id, func.sum(PaymentAllocation.amount_fen))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.project_id.in_(project_ids)).group_by(Payment.project_id)
    ).all())
    for pid, total in received:
        out[pid]["credit"] = int(total or 0) - int(allocated.get(pid) or 0)
    return out


def sa_case(*whens, else_=None):
    from sqlalchemy import case

    return case(*whens, else_=else_)


def project_info(session, project: Project, tz, on: date, money: dict[str, int] | None = None,
                 customer: Customer | None = None, owner: str | None = None, open_adjustments: int | None = None) -> ProjectInfo:
    customer = customer or session.get(Customer, project.customer_id)
    if money is None:
        money = money_by_project(session, [project.id], on)[project.id]
    if open_adjustments is None:
        open_adjustments = session.exec(
            select(func.count()).select_from(Adjustment)
            .where(Adjustment.project_id == project.id, Adjustment.status.in_(OPEN_ADJUSTMENT))
        ).one()
    paid = money["paid"]
    return ProjectInfo(
        id=project.id, code=project.code, name=project.name, customer_code=customer.code, customer_name=customer.name,
        site=project.site, owner=owner if owner is not None else _owner_name(session, project.owner_id),
        stage=project.stage, stage_label=stage_label(project.stage), contract=from_fen(project.contract_fen),
        signed_on=project.signed_on, handed_over_at=project.handed_over_at, accepted_at=project.accepted_at,
        warranty_months=project.warranty_months, warranty_end=project.warranty_end, in_warranty=in_warranty(project, on),
        has_plan=money["count"] > 0, paid=from_fen(paid), outstanding=from_fen(project.contract_fen - paid),
        overdue=from_fen(money["overdue"]), credit=from_fen(money["credit"]), open_adjustments=open_adjustments,
    )


def _project_header(desk: Desk, project: Project) -> ProjectInfo:
    """The plan view's project header (hooks "project_header", asked by payment_plans.py)."""
    return project_info(desk.session, project, desk.tz, today(desk))


def _listen() -> None:
    from csdesk.workflows import hooks

    hooks.listen("project_header")(_project_header)


_listen()


def _info(desk: Desk, project: Project) -> ProjectInfo:
    return project_info(desk.session, project, desk.tz, today(desk))


def _fire(event: str, desk: Desk, project: Project) -> None:
    from csdesk.workflows import hooks

    hooks.fire(event, desk, project_id=project.id)


# --- projects ---------------------------------------------------------------------------------


def add_project(
    desk: Desk,
    name: str,
    customer: str,
    contract: Decimal,
    owner: str | None = None,
    signed: date | None = None,
    site: str | None = None,
    warranty: str | None = None,
) -> ProjectInfo:
    """A new project in stage signed; its owner is the person acting unless another is named."""
    from csdesk.workflows.lookup import find_staff

    actor = desk.require_actor()
    session = desk.session
    name = _text(name, N_("the project name"), 200, required=True, lines=False)
    client = find_customer(session, customer)
    contract_fen = to_fen(contract)
    if contract_fen <= 0:
        raise InvalidValue(_("the contract amount must be more than zero"))
    owner_id = find_staff(session, owner).id if owner else actor.id
    months = parse_warranty(warranty or desk.settings["projects"]["warranty"])
    signed_on = signed or today(desk)
    if signed_on > today(desk):
        raise InvalidValue(_("the signing date {day} is in the future").format(day=signed_on))
    project = Project(
        customer_id=client.id, name=name, site=_text(site, N_("the site"), 300), owner_id=owner_id,
        contract_fen=contract_fen, signed_on=signed_on, warranty_months=months, stage="signed", created_at=desk.now,
    )
    session.add(project)
    session.flush()
    project.code = f"P{project.id:06d}"
    audit(desk, "project.add", project)
    return _info(desk, project)


def edit_project(
    desk: Desk,
    code: str,
    name: str | None = None,
    site: str | None = None,
    owner: str | None = None,
    warranty: str | None = None,
    signed: date | None = None,
    contract: Decimal | None = None,
) -> ProjectInfo:
    """Change a project's details; a new owner is recorded as its own audit entry (project.assign)."""
    from csdesk.workflows.lookup import find_staff

    desk.require_actor()
    session = desk.session
    project = find_project(session, code)
    before = snapshot(project)
    if project.stage == "archived":
        raise InvalidTransition(_("{code} is archived; it cannot be changed").format(code=project.code))
    if name is not None:
        project.name = _text(name, N_("the project name"), 200, required=True, lines=False)
    if site is not None:
        project.site = _text(site, N_("the site"), 300)
    if warranty is not None:
        project.warranty_months = parse_warranty(warranty)
        project.warranty_end = warranty_end(project, desk.tz)
    if signed is not None:
        handed = local_date(project.handed_over_at, desk.tz)
        if handed and signed > handed:
            raise InvalidValue(_("the signing date {day} is after the handover ({handover})").format(day=signed, handover=handed))
        if signed > today(desk):
            raise InvalidValue(_("the signing date {day} is in the future").format(day=signed))
        first_fixed = session.exec(select(func.min(Instalment.due_on)).where(
            Instalment.project_id == project.id, Instalment.due_event == "date")).one()
        if first_fixed is not None and signed > first_fixed:
            raise InvalidValue(_("the signing date {day} is after an instalment of {code} falls due ({due})").format(
                day=signed, code=project.code, due=first_fixed))
        project.signed_on = signed
    if contract is not None:
        contract_fen = to_fen(contract)
        if contract_fen <= 0:
            raise InvalidValue(_("the contract amount must be more than zero"))
        if contract_fen != project.contract_fen:
            planned = session.exec(select(func.count()).select_from(Instalment).where(Instalment.project_id == project.id)).one()
            if planned:
                raise InvalidTransition(
                    _("{code} has a payment plan that adds up to the current contract; the contract cannot change under it").format(
                        code=project.code),
                    hint=_("csdesk payment plan {code} --replace --split … (only while nothing is paid)").format(code=project.code))
            project.contract_fen = contract_fen
    owner_changed = False
    if owner is not None:
        new_owner = find_staff(session, owner)
        owner_changed = new_owner.id != project.owner_id
        if owner_changed:
            _check_may_reassign(desk, project, new_owner)
        project.owner_id = new_owner.id
    session.add(project)
    after = snapshot(project)
    changed = {k for k in after if before.get(k) != after.get(k)}
    if not changed:
        raise InvalidValue(_("nothing to change (give at least one new value)"))
    if signed is not None:
        _fire("project_dates_changed", desk, project)
    if owner_changed:
        audit(desk, "project.assign", project,
              before={"owner_id": before["owner_id"], "owner": _owner_name(session, before["owner_id"])},
              after={"owner_id": project.owner_id, "owner": _owner_name(session, project.owner_id)})
        changed.discard("owner_id")
    if changed:
        audit(desk, "project.edit", project, before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return _info(desk, project)


def _check_may_reassign(desk: Desk, project: Project, new_owner: Staff) -> None:
    """Only the project's owner, or someone who outranks both the owner and the new owner, hands a project on."""
    from csdesk.errors import PermissionDenied
    from csdesk.workflows import ROLE_RANK

    actor = desk.require_actor()
    current = desk.session.get(Staff, project.owner_id) if project.owner_id else None
    if current is not None and current.id == actor.id:
        return
    if current is not None and actor.rank <= ROLE_RANK.get(current.role, 0):
        raise PermissionDenied(
            _("{code} is owned by {owner} ({role}); only the owner or someone above a {role} can give it to another owner, "
              "and {actor} is a {actor_role}").format(code=project.code, owner=current.name, role=role_label(current.role),
                                                      actor=actor.name, actor_role=role_label(actor.role)))
    if new_owner.id != actor.id and actor.rank <= ROLE_RANK.get(new_owner.role, 0):
        raise PermissionDenied(
            _("giving {code} to {name} ({role}) needs its owner or someone above a {role}; {actor} is a {actor_role}").format(
                code=project.code, name=new_owner.name, role=role_label(new_owner.role), actor=actor.name,
                actor_role=role_label(actor.role)))


def assign_project(desk: Desk, code: str, owner: str) -> ProjectInfo:
    """Make someone else the project's one accountable owner (recorded). Only the owner may, or someone who
    outranks both the owner and the new owner."""
    return edit_project(desk, code, owner=owner)


def handover_project(desk: Desk, code: str, at: datetime | None = None) -> ProjectInfo:
    """摆场完成/交房/交付: the project is handed over; the warranty starts and the visit rules fire."""
    desk.require_actor()
    session = desk.session
    project = find_project(session, code)
    if project.stage != "signed":
        raise InvalidTransition(
            _("{code} is {stage}; only a signed project can be handed over").format(code=project.code, stage=stage_label(project.stage)))
    at = _not_future(desk, at or desk.now, N_("a handover"))
    if project.signed_on and local_date(at, desk.tz) < project.signed_on:
        raise InvalidValue(_("the handover ({day}) cannot be before the signing ({signed})").format(
            day=local_date(at, desk.tz), signed=project.signed_on))
    before = snapshot(project)
    project.handed_over_at = at
    project.warranty_end = warranty_end(project, desk.tz)
    project.stage = "handed_over"
    session.add(project)
    audit(desk, "project.handover", project, before=before)
    _fire("project_dates_changed", desk, project)
    _fire("project_handed_over", desk, project)
    return _info(desk, project)


def accept_project(
    desk: Desk, code: str, at: datetime | None = None, with_open_adjustments: bool = False, reason: str | None = None,
) -> ProjectInfo:
    """验收: the customer accepts the project. Refused while adjustments are open, unless a supervisor or
    above overrides with a reason. Settles at once if the plan is already paid in full."""
    actor = desk.require_actor()
    session = desk.session
    project = find_project(session, code)
    if project.stage != "handed_over":
        raise InvalidTransition(
            _("{code} is {stage}; only a handed-over project can be accepted").format(code=project.code, stage=stage_label(project.stage)))
    at = _not_future(desk, at or desk.now, N_("an acceptance"))
    if at < project.handed_over_at:
        raise InvalidValue(_("the acceptance ({at}) cannot be before the handover ({handover})").format(
            at=dates.fmt(at, desk.tz), handover=dates.fmt(project.handed_over_at, desk.tz)))
    # Open at the moment of the acceptance, not at the moment of typing: an adjustment reported after it
    # does not hold back an acceptance typed in late, and one done by then does not either.
    still_open = [a for a in session.exec(
        select(Adjustment).where(Adjustment.project_id == project.id, Adjustment.reported_on <= local_date(at, desk.tz))
        .order_by(Adjustment.id)
    ).all() if _open_at(a, at)]
    reason = _text(reason, N_("the reason"), 500)
    if still_open:
        listed = ", ".join(f"#{a.id} {a.item[:20]}" for a in still_open[:5]) + (" …" if len(still_open) > 5 else "")
        if not with_open_adjustments:
            raise InvalidTransition(
                _("{code} has {n} open adjustment(s): {listed}; it cannot be accepted yet").format(
                    code=project.code, n=len(still_open), listed=listed),
                hint=_("finish them (adjust done ID, adjust accept ID), or a supervisor accepts with --with-open-adjustments --reason TEXT"))
        desk.require_rank("supervisor", _("accepting a project with open adjustments"))
        if not reason:
            raise InvalidValue(_("accepting with open adjustments needs --reason"))
    elif with_open_adjustments and not reason:
        raise InvalidValue(_("--with-open-adjustments needs --reason"))
    before = snapshot(project)
    project.accepted_at = at
    project.stage = "accepted"
    session.add(project)
    after = snapshot(project)
    if still_open:
        after["override"] = {"open_adjustments": [a.id for a in still_open], "reason": reason, "by": actor.name}
        audit(desk, "project.accept", project, before={k: before[k] for k in ("accepted_at", "stage")},
              after={"accepted_at": after["accepted_at"], "stage": after["stage"], "override": after["override"]})
    else:
        audit(desk, "project.accept", project, before=before)
    _fire("project_dates_changed", desk, project)
    _fire("project_accepted", desk, project)
    _fire("project_stage_changed", desk, project)
    return _info(desk, project)


def _open_at(a: Adjustment, at: datetime) -> bool:
    """Whether an adjustment was open (or rejected, open again) at `at`, from what its row keeps: done at
    `done_at`, and a rejection at `verdict_at` opens it again."""
    if a.status == "open":
        return True
    if a.status == "rejected":
        return not (a.done_at is not None and a.done_at <= at < (a.verdict_at or at))
    return a.done_at is None or a.done_at > at  # done or accepted: open until the work was done


def shelve_project(desk: Desk, code: str, reason: str) -> ProjectInfo:
    """搁置: pause a project (its dunning stops) until it is resumed; a supervisor or above."""
    desk.require_rank("supervisor", _("shelving a project"))
    project = find_project(desk.session, code)
    reason = _text(reason, N_("the reason"), 500)
    if not reason:
        raise InvalidValue(_("shelving a project needs --reason"))
    if project.stage not in OPEN_STAGES:
        raise InvalidTransition(_("{code} is {stage}; only signed, handed-over or accepted projects can be shelved").format(
            code=project.code, stage=stage_label(project.stage)))
    before = snapshot(project)
    project.stage = "shelved"
    desk.session.add(project)
    audit(desk, "project.shelve", project, before={"stage": before["stage"]}, after={"stage": "shelved", "reason": reason})
    return _info(desk, project)


def resume_project(desk: Desk, code: str) -> ProjectInfo:
    """Take a shelved project back to the stage its dates say (signed, handed over or accepted)."""
    desk.require_rank("supervisor", _("resuming a shelved project"))
    project = find_project(desk.session, code)
    if project.stage != "shelved":
        raise InvalidTransition(_("{code} is {stage}, not shelved").format(code=project.code, stage=stage_label(project.stage)))
    before = snapshot(project)
    project.stage = "accepted" if project.accepted_at else "handed_over" if project.handed_over_at else "signed"
    desk.session.add(project)
    audit(desk, "project.resume", project, before=before)
    if project.stage == "accepted":
        _fire("project_stage_changed", desk, project)
    return _info(desk, project)


def archive_project(desk: Desk, code: str) -> ProjectInfo:
    """归档: close a settled project (or a shelved one, by a supervisor or above)."""
    desk.require_actor()
    project = find_project(desk.session, code)
    if project.stage == "shelved":
        desk.require_rank("supervisor", _("archiving a shelved project"))
    elif project.stage != "settled":
        raise InvalidTransition(
            _("{code} is {stage}; only a settled or shelved project can be archived").format(code=project.code, stage=stage_label(project.stage)))
    before = snapshot(project)
    project.stage = "archived"
    desk.session.add(project)
    audit(desk, "project.archive", project, before=before)
    return _info(desk, project)


def check_stage(stage: str) -> str:
    value = (stage or "").strip().lower()
    value = STAGE_ALIASES.get(value, value)
    for key, chinese in STAGES.items():
        if value in (key, chinese, STAGES_EN[key]):
            return key
    raise InvalidValue(_("unknown stage {stage} (use one of: {choices})").format(stage=repr(stage), choices=", ".join(STAGES)))


def list_projects(
    desk: Desk, stage: str | None = None, owner: str | None = None, customer: str | None = None, limit: int = 50,
) -> tuple[list[ProjectInfo], int]:
    """Projects matching the filters, newest first, with their money figures; and how many match."""

    check_limit(limit)
    session = desk.session
    query = select(Project)
    if stage:
        query = query.where(Project.stage == check_stage(stage))
    if owner:
        query = query.where(Project.owner_id == staff_filter(desk, owner))
    if customer:
        query = query.where(Project.customer_id == find_customer(session, customer).id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Project.id.desc()).limit(limit)).all()
    return _infos(desk, rows), total


def _infos(desk: Desk, rows: list[Project]) -> list[ProjectInfo]:
    session = desk.session
    on = today(desk)
    ids = [p.id for p in rows]
    money = money_by_project(session, ids, on)
    customers = {c.id: c for c in session.exec(select(Customer).where(Customer.id.in_({p.customer_id for p in rows}))).all()} if rows else {}
    owners = dict(session.exec(select(Staff.id, Staff.name).where(Staff.id.in_({p.owner_id for p in rows if p.owner_id}))).all()) if rows else {}
    open_adj = dict(session.exec(
        select(Adjustment.project_id, func.count()).where(Adjustment.project_id.in_(ids), Adjustment.status.in_(OPEN_ADJUSTMENT))
        .group_by(Adjustment.project_id)
    ).all()) if rows else {}
    return [
        project_info(session, p, desk.tz, on, money[p.id], customers[p.customer_id], owners.get(p.owner_id) or "", open_adj.get(p.id, 0))
        for p in rows
    ]


# Adjustments, the one-screen project view and the demo's projects live in their own modules, which
# build on this one (adjustments.py, project_screen.py, demo_projects.py). Their names stay importable from
# here, loaded when first asked for, so that this module never imports them.
_MOVED = {name: module for module, names in {
    "adjustments": (
        "AdjustmentInfo", "check_responsible", "check_payer", "find_adjustment", "add_adjustment",
        "finish_adjustment", "accept_adjustment", "reject_adjustment", "edit_adjustment", "list_adjustments",
        "overdue_adjustments",
    ),
    "project_screen": (
        "ProjectView", "project_view", "customer_projects", "open_projects_of",
    ),
    "demo_projects": (
        "DEMO_KINDS", "DEMO_ITEMS", "DEMO_PROJECTS", "DEMO_PLANS", "demo_projects", "DISTRICT_NAMES",
    ),
}.items() for name in names}


def __getattr__(name: str):
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f"csdesk.workflows.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
