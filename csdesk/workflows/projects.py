"""Projects (项目), their lifecycle, and the adjustments (调整/整改) asked for after handover.

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import func, select

from csdesk import dates
from csdesk.errors import InvalidTransition, InvalidValue, NotFound
from csdesk.i18n import N_, _, label
from csdesk.models import Adjustment, Call, Customer, Instalment, Payment, PaymentAllocation, Project, Staff
from csdesk.money import from_fen, to_fen
from csdesk.workflows import Desk, audit, check_limit, snapshot
from csdesk.workflows.customers import find_customer, register_section

STAGES = {
    "signed": "已签约", "handed_over": "已交付", "accepted": "已验收",
    "settled": "已结清", "archived": "已归档", "shelved": "已搁置",
}
STAGE_ALIASES = {"handover": "handed_over", "handed-over": "handed_over", "accept": "accepted", "sign": "signed"}
OPEN_STAGES = ("signed", "handed_over", "accepted")
RESPONSIBLE_LABELS = {
    "design": "设计", "install": "安装", "supplier": "供应商", "contractor": "施工方", "property": "物业", "other": "其他",
}
ADJUSTMENT_STATUSES = {"open": "待处理", "done": "已完成待验收", "accepted": "客户已验收", "rejected": "被驳回·重开"}
OPEN_ADJUSTMENT = ("open", "rejected")
PAYERS = {"company": "公司", "customer": "客户", "contractor": "施工方"}
# The Chinese names above are also the Chinese words accepted as input and what the reports show; the
# English names below are the labels in English (`label(english, chinese)`, i18n.py).
STAGES_EN = {
    "signed": "signed", "handed_over": "handed over", "accepted": "accepted",
    "settled": "settled", "archived": "archived", "shelved": "shelved",
}
RESPONSIBLE_EN = {
    "design": "design", "install": "installation", "supplier": "supplier", "contractor": "contractor",
    "property": "property management", "other": "other",
}
ADJUSTMENT_STATUSES_EN = {"open": "open", "done": "done, awaiting verdict", "accepted": "accepted by customer", "rejected": "rejected, reopened"}
PAYERS_EN = {"company": "company", "customer": "customer", "contractor": "contractor"}


def role_label(role: str | None) -> str:
    """A staff role in the interface language (the code in English, as --role takes it)."""
    from csdesk.workflows import ROLE_LABELS

    return label(role or "", ROLE_LABELS.get(role, role or ""))


def stage_label(stage: str) -> str:
    return label(STAGES_EN.get(stage, stage), STAGES.get(stage, stage))


def responsible_label(key: str) -> str:
    return label(RESPONSIBLE_EN.get(key, key), RESPONSIBLE_LABELS.get(key, key))


def adjustment_status_label(status: str) -> str:
    return label(ADJUSTMENT_STATUSES_EN.get(status, status), ADJUSTMENT_STATUSES.get(status, status))


def payer_label(payer: str | None) -> str:
    return label(PAYERS_EN.get(payer, payer), PAYERS.get(payer, payer)) if payer else ""


_PROJECT_CODE = re.compile(r"^P?\d{1,10}$", re.I)


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


@dataclass
class ProjectView:
    project: ProjectInfo
    adjustments: list[AdjustmentInfo]
    instalments: list[Any]  # payments.InstalmentInfo
    payments: list[Any]  # payments.PaymentInfo
    dunning: list[Any]  # payments.StepInfo
    next_steps: list[Any]  # payments.DueStep: dunning steps due now
    visits: list[dict[str, Any]] = field(default_factory=list)
    complaints: list[dict[str, Any]] = field(default_factory=list)


# --- lookups and helpers ----------------------------------------------------------------------


def find_project(session, code: str) -> Project:
    """A project by its code (P000012); a bare number is read as that code."""
    raw = (code or "").strip()
    if not raw:
        raise InvalidValue(_("no project given (use a code like P000012)"))
    if not _PROJECT_CODE.match(raw):
        raise NotFound(_("no project with code {code} (codes look like P000012)").format(code=repr(raw)))
    digits = raw.upper().lstrip("P")
    code = f"P{int(digits):06d}"
    project = session.exec(select(Project).where(Project.code == code)).first()
    if project is None:
        raise NotFound(_("no project with code {code}").format(code=code), hint=_("csdesk project list shows the projects"))
    return project


def today(desk: Desk) -> date:
    return desk.now.astimezone(desk.tz).date()


def local_date(value: datetime | None, tz) -> date | None:
    return value.astimezone(tz).date() if value is not None else None


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


def _text(value: str | None, what: str, limit: int, required: bool = False, lines: bool = True) -> str | None:
    from csdesk.text import check_text

    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidValue(_("{what} cannot be empty").format(what=_(what)))
        return None
    if len(value) > limit:
        raise InvalidValue(_("{what} is longer than {limit} characters").format(what=_(what), limit=limit))
    return check_text(value, _(what), lines)


def _not_future(desk: Desk, at: datetime, what: str) -> datetime:
    if at > desk.now + timedelta(minutes=5):
        raise InvalidValue(_("{what} cannot be in the future (check --at)").format(what=_(what)))
    return at


def staff_filter(desk: Desk, name: str) -> int:
    """The staff id a list is filtered on: `me` (or 我) is the person acting, as `complaint list --assignee me`."""
    from csdesk.workflows.staff import find_staff

    if name.strip().lower() in ("me", "我"):
        return desk.require_actor().id
    return find_staff(desk.session, name, active_only=False).id


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
    from csdesk.workflows.staff import find_staff

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
    from csdesk.workflows.payments import refresh_due_dates
    from csdesk.workflows.staff import find_staff

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
        refresh_due_dates(desk, project)
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
    from csdesk.workflows.payments import refresh_due_dates

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
    refresh_due_dates(desk, project)
    _fire("project_handed_over", desk, project)
    return _info(desk, project)


def accept_project(
    desk: Desk, code: str, at: datetime | None = None, with_open_adjustments: bool = False, reason: str | None = None,
) -> ProjectInfo:
    """验收: the customer accepts the project. Refused while adjustments are open, unless a supervisor or
    above overrides with a reason. Settles at once if the plan is already paid in full."""
    from csdesk.workflows.payments import refresh_due_dates, settle_if_paid

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
    refresh_due_dates(desk, project)
    _fire("project_accepted", desk, project)
    settle_if_paid(desk, project)
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
    from csdesk.workflows.payments import settle_if_paid

    desk.require_rank("supervisor", _("resuming a shelved project"))
    project = find_project(desk.session, code)
    if project.stage != "shelved":
        raise InvalidTransition(_("{code} is {stage}, not shelved").format(code=project.code, stage=stage_label(project.stage)))
    before = snapshot(project)
    project.stage = "accepted" if project.accepted_at else "handed_over" if project.handed_over_at else "signed"
    desk.session.add(project)
    audit(desk, "project.resume", project, before=before)
    if project.stage == "accepted":
        settle_if_paid(desk, project)
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


def project_view(desk: Desk, code: str) -> ProjectView:
    """Everything about one project on one screen: a handful of indexed queries."""
    from csdesk.workflows import hooks
    from csdesk.workflows.payments import collection_history, instalment_infos, payment_infos, project_due_steps

    session = desk.session
    project = find_project(session, code)
    info = _info(desk, project)
    adjustments = [_adjustment_info(desk, a, project) for a in session.exec(
        select(Adjustment).where(Adjustment.project_id == project.id).order_by(Adjustment.id)).all()]
    visits = hooks.ask("project_visits", session, project.id) or []
    complaints = hooks.ask("project_complaints", session, project.id) or []
    return ProjectView(
        info, adjustments, instalment_infos(desk, project), payment_infos(desk, project), collection_history(desk, project),
        project_due_steps(desk, project), list(visits), list(complaints),
    )


# --- adjustments ------------------------------------------------------------------------------


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
        query = query.where(Project.owner_id == owner_id)
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


# --- what other areas show --------------------------------------------------------------------


@register_section(N_("Projects"))
def _customer_projects(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
    rows = session.exec(select(Project).where(Project.customer_id == customer_id).order_by(Project.id.desc()).limit(20)).all()
    out = []
    for p in _infos(desk, rows):
        out.append({
            # Keys are the JSON contract; N_ puts them in the catalogue for the card's column headers.
            N_("code"): p.code, N_("name"): p.name, N_("stage"): p.stage_label, N_("owner"): p.owner,
            N_("contract"): p.contract, N_("paid"): p.paid, N_("outstanding"): p.outstanding, N_("overdue"): p.overdue,
            N_("open adjustments"): p.open_adjustments,
            N_("warranty"): "" if p.in_warranty is None else (
                _("in warranty to {day}").format(day=p.warranty_end) if p.in_warranty else _("ended {day}").format(day=p.warranty_end)),
        })
    return out


@register_section(N_("Money owed"))
def _customer_money_owed(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
    from csdesk.workflows.payments import owed_by_customer

    return owed_by_customer(desk, customer_id)


# --- demo -------------------------------------------------------------------------------------

DEMO_KINDS = ["全屋精装", "样板间摆场", "别墅软装", "办公室装修", "商铺改造", "中央空调安装", "厨房翻新", "交房整改"]
DEMO_ITEMS = [
    ("主卧衣柜门关不严", "install"), ("客厅墙面有细裂纹", "contractor"), ("卫生间地漏返味", "contractor"),
    ("厨房吊柜不水平", "install"), ("踢脚线局部脱落", "install"), ("窗帘轨道松动", "supplier"),
    ("木地板有划痕", "supplier"), ("吊顶灯带不亮", "install"), ("入户门锁安装歪斜", "install"),
    ("阳台瓷砖空鼓", "contractor"), ("软装配色与方案不符", "design"), ("物业要求补办装修备案", "property"),
]
# stage, days ago: signed, handed over, accepted; how the money went; how far dunning got; adjustments
DEMO_PROJECTS = [
    ("signed", 3, None, None, "on_time", None, 0),
    ("signed", 12, None, None, "late_last", "reminder", 0),
    ("signed", 30, None, None, "on_time", None, 0),
    ("handed_over", 60, 10, None, "on_time", None, 3),
    ("handed_over", 90, 25, None, "late_last", "call", 2),
    ("handed_over", 50, 5, None, "late_last", None, 1),
    ("handed_over", 120, 40, None, "partial_last", "notice", 2),
    ("accepted", 200, 120, 100, "late_last", "lawyer", 2),
    ("accepted", 150, 90, 60, "late_last", "call", 1),
    ("accepted", 100, 50, 20, "on_time", None, 1),
    ("accepted", 130, 70, 35, "late_last", "reminder", 0),
    ("accepted", 400, 300, 250, "partial_last", "lawyer", 1),
    ("accepted", 90, 40, 30, "late_last", None, 0),
    ("accepted", 100, 60, 45, "late_last", None, -1),  # accepted over an open adjustment
    ("settled", 240, 150, 120, "on_time", None, 2),
    ("settled", 180, 100, 80, "on_time", None, 1),
    ("settled", 300, 200, 160, "corrected", None, 1),
    ("settled", 160, 90, 70, "overpaid", None, 0),
    ("archived", 500, 400, 380, "on_time", None, 1),
    ("archived", 420, 330, 300, "on_time", None, 0),
    ("shelved", 110, 45, None, "late_last", "call", 1),
    ("shelved", 40, None, None, "on_time", None, 0),
]
DEMO_PLANS = [
    "首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d",
    "首付款:50%:sign+3d, 尾款:50%:accept+15d",
    "定金:{a}:sign, 进度款:{b}:handover+7d, 尾款:{c}:accept+30d",
]


def demo_projects(desk: Desk, rng, made: dict[str, Any]) -> list[str]:
    """Projects in every stage with adjustments and money in every state, dated back from the real now."""
    from dataclasses import replace

    from csdesk.workflows import payments
    from csdesk.workflows.payments import STEPS, chase, ladder, make_plan, record_payment, reverse_payment

    staff = made["staff"]
    owners = [s for s in staff.values() if s.role in ("specialist", "supervisor")]
    manager = next(s for s in staff.values() if s.role == "manager")
    supervisor = next(s for s in staff.values() if s.role == "supervisor")
    session = desk.session
    now = desk.now
    tz = desk.tz
    steps = dict(ladder(desk))
    order = list(STEPS)
    picked = rng.sample(made["customers"], len(DEMO_PROJECTS))
    made_codes: dict[str, list[str]] = {}
    counts = {"adjustments": 0, "payments": 0, "steps": 0, "reversals": 0}

    def moment(days_ago: float, hour: int = 10) -> datetime:
        day = now.astimezone(tz).date() - timedelta(days=int(days_ago))
        when = datetime.combine(day, datetime.min.time()).replace(tzinfo=tz) + timedelta(hours=hour, minutes=rng.randint(0, 50))
        return min(when, now - timedelta(minutes=5))

    def on(day: date, hour: int = 11) -> datetime:
        when = datetime.combine(day, datetime.min.time()).replace(tzinfo=tz) + timedelta(hours=hour, minutes=rng.randint(0, 50))
        return min(when, now - timedelta(minutes=5))

    def as_(who, when):
        return replace(desk, now=when, actor=who)

    for (stage, signed_ago, handed_ago, accepted_ago, money, dunning, n_adj), customer_id in zip(DEMO_PROJECTS, picked):
        owner = rng.choice(owners)
        customer = session.get(Customer, customer_id)
        contract = Decimal(rng.randrange(60_000, 900_000, 100))
        if rng.random() < 0.3:
            contract += Decimal(rng.randint(1, 99)) / 100  # cents, to show exact splitting
        signed_at = moment(signed_ago, 9)
        project = add_project(as_(owner, signed_at), f"{rng.choice(DISTRICT_NAMES)}{rng.choice(DEMO_KINDS)}", customer.code, contract,
                              signed=signed_at.astimezone(tz).date(), site=customer.address, warranty=rng.choice(["12m", "24m", "24m", "36m"]))
        plan = rng.choice(DEMO_PLANS)
        if "{a}" in plan:
            fen = to_fen(contract)
            a = fen // 10 // 100 * 100
            c = fen // 5 // 100 * 100
            plan = plan.format(a=from_fen(a), b=from_fen(fen - a - c), c=from_fen(c))
        make_plan(as_(owner, signed_at), project.code, plan)
        row = session.get(Project, project.id)

        def settle_due(until: datetime, skip_last: bool, partial_last: bool = False):
            """Pay what has fallen due by `until`, a few days after each due date."""
            insts = session.exec(select(Instalment).where(Instalment.project_id == row.id).order_by(Instalment.seq)).all()
            due = [i for i in insts if i.due_on and i.paid_fen < i.amount_fen and on(i.due_on) <= until]
            for k, inst in enumerate(due):
                last = k == len(due) - 1
                if last and skip_last:
                    continue
                amount = inst.amount_fen - inst.paid_fen
                if last and partial_last:
                    amount = amount // 2
                when = min(on(inst.due_on + timedelta(days=rng.randint(0, 4)), 15), until)
                method = rng.choice(["transfer", "transfer", "transfer", "cheque", "cash"])
                ref = {"transfer": f"银行流水{when:%Y%m%d}{rng.randint(100, 999)}", "cheque": f"支票{rng.randint(10**7, 10**8 - 1)}"}.get(method)
                record_payment(as_(owner, when), row.code, from_fen(amount), inst.name, when, method, ref)
                counts["payments"] += 1

        handed_at = moment(handed_ago, 16) if handed_ago is not None else None
        accepted_at = moment(accepted_ago, 14) if accepted_ago is not None else None
        final = money in ("late_last", "partial_last")
        if handed_at is None:
            settle_due(now - timedelta(minutes=5), final and stage != "shelved", money == "partial_last")
        else:
            settle_due(handed_at - timedelta(hours=1), False)
            handover_project(as_(owner, handed_at), row.code, handed_at)
            items = rng.sample(DEMO_ITEMS, abs(n_adj))
            end = accepted_at or now
            for k, (item, who) in enumerate(items):
                reported = min(handed_at + timedelta(days=1 + k * 2, hours=1), end - timedelta(hours=3))
                adj = add_adjustment(as_(owner, reported), row.code, item, who)
                counts["adjustments"] += 1
                closes = accepted_at is not None and n_adj >= 0
                if not closes and k == 0 and n_adj > 1:
                    continue  # left open (overdue if its week has passed)
                done_at = min(reported + timedelta(days=3), end - timedelta(hours=2))
                if done_at <= reported:
                    continue
                cost = Decimal(rng.choice([300, 800, 1500, 2600])) if rng.random() < 0.4 else None
                finish_adjustment(as_(owner, done_at), adj.id, cost)
                if not closes and k == 1:
                    reject_adjustment(as_(owner, done_at + timedelta(hours=1)), adj.id, "客户认为仍未达到标准")
                    continue
                if not closes and k == 2:
                    continue  # done, waiting for the customer's verdict
                accept_adjustment(as_(owner, done_at + timedelta(hours=1)), adj.id)
            if accepted_at is None:
                settle_due(now - timedelta(minutes=5), final, money == "partial_last")
            else:
                settle_due(accepted_at - timedelta(hours=1), False)
                if n_adj < 0:
                    accept_project(as_(supervisor, accepted_at), row.code, accepted_at, True, "客户同意先验收，整改项另行跟进")
                else:
                    accept_project(as_(owner, accepted_at), row.code, accepted_at)
                settle_due(now - timedelta(minutes=5), final, money == "partial_last")
        if money == "corrected":
            paid = session.exec(select(Payment).where(Payment.project_id == row.id, Payment.kind == "payment").order_by(Payment.id.desc())).first()
            when = min(paid.received_at + timedelta(days=1), now - timedelta(minutes=5))
            reverse_payment(as_(supervisor, when), paid.id, "银行退票，客户重新转账")
            record_payment(as_(owner, when), row.code, from_fen(paid.amount_fen), None, when, "transfer", "重新转账")
            counts["reversals"] += 1
        if money == "overpaid":
            when = now - timedelta(days=2)
            record_payment(as_(owner, when), row.code, Decimal("200.00"), None, when, "transfer", "多付", allow_overpay=True)
        if dunning:
            for inst in session.exec(select(Instalment).where(Instalment.project_id == row.id, Instalment.paid_fen < Instalment.amount_fen)).all():
                if not inst.due_on or inst.due_on >= now.astimezone(tz).date():
                    continue
                for step in order[: order.index(dunning) + 1]:
                    when = on(inst.due_on + timedelta(days=steps.get(step, 0)), 10)
                    if when >= now:
                        break
                    who = manager if step in ("lawyer", "notice") else owner
                    note = {"reminder": "短信提醒付款", "call": "电话联系，客户称月底前付", "notice": "寄出催款函（EMS）", "lawyer": "委托律师发函"}[step]
                    chase(as_(who, when), row.code, step, note, inst.name, when)
                    counts["steps"] += 1
        if stage == "archived":
            archive_project(as_(owner, now - timedelta(days=rng.randint(1, 20))), row.code)
        if stage == "shelved":
            shelve_project(as_(supervisor, now - timedelta(days=rng.randint(1, 5))), row.code, "业主资金问题，暂停推进")
        made_codes.setdefault(stage, []).append(row.code)
        session.flush()

    made["projects"] = made_codes
    due_steps = payments.due_collection_steps(desk, now)
    stages = ", ".join(f"{len(v)} {stage_label(k)}" for k, v in made_codes.items())
    return [
        "  " + _("projects: {n} ({stages})").format(n=sum(len(v) for v in made_codes.values()), stages=stages),
        "  " + _("money: {payments} payments, {reversals} reversal, {overdue} overdue instalments, {steps} dunning steps taken, "
                 "{due} due now").format(payments=counts["payments"], reversals=counts["reversals"],
                                         overdue=len(payments.overdue_instalments(desk, now)), steps=counts["steps"], due=len(due_steps)),
        "  " + _("adjustments: {n} (open, done, rejected and accepted)").format(n=counts["adjustments"]),
    ]


DISTRICT_NAMES = ["朝阳", "海淀", "浦东", "天河", "南山", "西湖", "锦江", "鼓楼", "江汉", "雁塔"]
