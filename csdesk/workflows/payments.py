"""Money: payment plans (instalments), payments and their reversals, the dunning ladder (催收), aging.

Rules kept here:
- a plan's parts add up to the contract exactly, or the plan is refused: percentages add up to exactly
  100 % (with fixed sums: fixed + percentages of the contract is the contract, not a fraction of a fen
  off); percentages are shares of the contract, rounded half up to the fen, and the last percentage part
  takes the remainder;
- no instalment falls due before its project's signing date (a fixed date before it is refused, and so
  is moving the signing after one);
- an instalment's due date is known once its event has happened (sign, handover, accept, + a span) or
  is a fixed date; due dates are local calendar dates; an instalment is overdue from the day after;
- a payment goes to the named instalment, or else to the unpaid instalments in plan order (oldest first);
  more than is owed is refused unless overpayment is allowed, and then the rest is kept as a credit;
- a mistake is corrected by a reversal (a negative payment with a reason, mirroring the original's
  allocations), never by deleting; `paid_fen` of every instalment always equals the sum of its
  allocations, is never below zero and never above its amount;
- a project that is accepted and fully paid is settled; a reversal that reopens an instalment takes a
  settled project back to accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import case, or_
from sqlmodel import func, select

from csdesk import dates
from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import N_, _, label
from csdesk.models import CollectionStep, Customer, Instalment, Payment, PaymentAllocation, Project, Staff
from csdesk.money import from_fen, parse_amount, round_fen, split_exact, to_fen
from csdesk.workflows import ROLE_RANK, ROLES, Desk, audit, check_limit, snapshot
from csdesk.workflows.projects import (
    ProjectInfo, _text, find_project, local_date, project_info, role_label, stage_label, staff_filter, today,
)

EVENTS = {"sign": "签约", "handover": "交付", "accept": "验收", "date": "固定日期"}
EVENT_ALIASES = {
    "sign": "sign", "signed": "sign", "signing": "sign", "签约": "sign", "签订": "sign",
    "handover": "handover", "handed_over": "handover", "handed-over": "handover", "交付": "handover", "交房": "handover",
    "摆场": "handover", "accept": "accept", "accepted": "accept", "acceptance": "accept", "验收": "accept",
}
STEPS = {"reminder": "提醒", "call": "电话催收", "notice": "催款函", "lawyer": "律师函"}
METHODS = {"transfer": "转账", "cash": "现金", "cheque": "支票", "other": "其他"}
INSTALMENT_STATUSES = {"paid": "已付清", "overdue": "逾期", "due": "今日到期", "not_due": "未到期", "pending": "到期日待定"}
# The Chinese names above are also Chinese input and what the reports show; in English (label()):
# In English a step is called by its code (what --step takes).
STEPS_EN = {"reminder": "reminder", "call": "call", "notice": "notice", "lawyer": "lawyer"}
METHODS_EN = {"transfer": "transfer", "cash": "cash", "cheque": "cheque", "other": "other"}
INSTALMENT_STATUSES_EN = {"paid": "paid", "overdue": "overdue", "due": "due today", "not_due": "not due", "pending": "due date pending"}


def step_label(step: str) -> str:
    return label(STEPS_EN.get(step, step), STEPS.get(step, step))


def method_label(method: str) -> str:
    return label(METHODS_EN.get(method, method), METHODS.get(method, method))


def instalment_status_label(status: str) -> str:
    return label(INSTALMENT_STATUSES_EN.get(status, status), INSTALMENT_STATUSES.get(status, status))


BY = ("customer", "project", "owner")
INACTIVE_STAGES = ("shelved", "archived")


# --- results ----------------------------------------------------------------------------------


@dataclass
class PlanPart:
    name: str
    percent: Decimal | None  # a share of the contract, or
    amount: Decimal | None  # an exact sum
    due_event: str  # sign | handover | accept | date
    due_after: str | None = None  # 30d, 2w, 1m
    due_on: date | None = None  # a fixed date

    @property
    def rule(self) -> str:
        return due_rule(self.due_event, self.due_after, self.due_on)


@dataclass
class InstalmentInfo:
    id: int
    project_code: str
    seq: int
    name: str
    amount: Decimal
    due_rule: str
    due_on: date | None
    paid: Decimal
    outstanding: Decimal
    status: str
    status_label: str
    days_overdue: int
    paid_on: date | None = None
    last_step: str | None = None
    last_step_at: datetime | None = None
    customer_code: str | None = None
    customer_name: str | None = None
    owner: str | None = None
    owner_id: int | None = None
    project_id: int | None = None


@dataclass
class PlanView:
    project: ProjectInfo
    instalments: list[InstalmentInfo]
    planned: Decimal
    paid: Decimal
    outstanding: Decimal


@dataclass
class Allocation:
    instalment: str
    amount: Decimal


@dataclass
class PaymentInfo:
    id: int
    project_code: str
    kind: str
    amount: Decimal
    received_at: datetime
    method: str
    ref: str | None
    note: str | None
    recorded_by: str | None
    allocations: list[Allocation]
    credit: Decimal  # the part not allocated to an instalment (an allowed overpayment)
    reverses_id: int | None = None
    reversed_by_id: int | None = None
    project_stage: str | None = None


@dataclass
class StepInfo:
    id: int
    project_code: str
    instalment: str
    step: str
    step_label: str
    at: datetime
    by: str | None
    note: str | None
    skipped: list[str] = field(default_factory=list)  # earlier steps a manager left out (--skip)
    skip_reason: str | None = None


@dataclass
class DueStep:
    """A dunning step whose day has come for an unpaid instalment and that has not been recorded."""

    instalment_id: int
    project_id: int
    project_code: str
    customer_code: str
    customer_name: str | None
    instalment: str
    step: str
    step_label: str
    step_due_on: date
    due_on: date
    days_overdue: int
    outstanding: Decimal
    owner: str | None
    owner_id: int | None
    min_role: str
    # When the owner's role is below min_role: the first active person up the owner's reports_to chain
    # who may record the step (the "step due" notice goes to them too); None when the owner may.
    recorder_id: int | None = None


def first_able_up_the_chain(chain: dict[int, tuple[str, int | None, bool]], owner_id: int | None, role: str) -> int | None:
    """The first active person above `owner_id` (following reports_to) whose role is `role` or higher.

    `chain` maps staff id → (role, reports_to id, active), read once. None when nobody up the chain may.
    """
    seen = {owner_id}
    boss = chain.get(owner_id, (None, None, None))[1] if owner_id is not None else None
    while boss is not None and boss not in seen:
        seen.add(boss)
        boss_role, above, active = chain.get(boss, (None, None, False))
        if active and boss_role in ROLE_RANK and ROLE_RANK[boss_role] >= ROLE_RANK[role]:
            return boss
        boss = above
    return None


def _staff_chain(session) -> dict[int, tuple[str, int | None, bool]]:
    return {i: (r, up, bool(a)) for i, r, up, a in session.exec(select(Staff.id, Staff.role, Staff.reports_to_id, Staff.active)).all()}


@dataclass
class AgingRow:
    key: str
    label: str
    not_due: Decimal
    days_0_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    days_90_plus: Decimal
    overdue: Decimal
    outstanding: Decimal


@dataclass
class AgingReport:
    as_of: date
    by: str | None
    rows: list[AgingRow]
    total: AgingRow
    groups: int
    buckets: list[str] = field(default_factory=lambda: ["not_due", "0-30", "31-60", "61-90", "90+"])


# --- plans ------------------------------------------------------------------------------------


def due_rule(event: str, after: str | None, on: date | None) -> str:
    if event == "date":
        return on.isoformat() if on else "date"
    return event + (f"+{after}" if after else "")


def _split_parts(text: str) -> list[str]:
    # Parts are separated by ; or a comma that is not a thousands separator (12,000.50 stays whole).
    text = text.replace("；", ";").replace("，", ",").replace("：", ":")
    pieces = re.split(r";|,(?!\d{3}(?:\D|$))", text)
    return [p.strip() for p in pieces if p.strip()]


def parse_due(text: str, tz, at: datetime | None = None) -> tuple[str, str | None, date | None]:
    """When an instalment falls due: `sign`, `handover`, `accept`, `accept+30d`, `handover+2w`, or a date."""
    raw = text
    value = (text or "").strip().lower().replace(" ", "")
    if not value:
        raise InvalidValue(_("say when each instalment falls due (sign, handover, accept, accept+30d or a date)"))
    m = re.fullmatch(r"([^+]+?)(?:\+(.+))?", value)
    event = EVENT_ALIASES.get(m.group(1)) if m else None
    if event:
        after = None
        if m.group(2):
            span = m.group(2)
            dates.parse_span(span)  # refuses what it cannot read
            after = span
        return event, after, None
    try:
        return "date", None, dates.parse_date(raw, tz=tz, at=at)
    except InvalidValue:
        raise InvalidValue(_("{text} is not a due rule (use sign, handover, accept, accept+30d, handover+2w or a date)").format(
            text=repr(raw))) from None


def parse_split(text: str, tz, at: datetime | None = None) -> list[PlanPart]:
    """`"首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d"` → the parts of a plan."""
    pieces = _split_parts(text or "")
    if not pieces:
        raise InvalidValue(_('an empty plan (try --split "首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d")'))
    parts: list[PlanPart] = []
    for piece in pieces:
        fields = [f.strip() for f in piece.split(":")]
        if len(fields) != 3:
            raise InvalidValue(_("{part}: each part is NAME:AMOUNT:WHEN, e.g. 尾款:30%:accept+30d").format(part=repr(piece)))
        name, amount, when = fields
        name = _text(name, N_("an instalment name"), 40, required=True, lines=False)
        if any(p.name == name for p in parts):
            raise InvalidValue(_("two instalments are named {name}").format(name=repr(name)))
        percent = value = None
        if amount.endswith("%"):
            try:
                percent = Decimal(amount[:-1].strip())
            except InvalidOperation:
                raise InvalidValue(_("{amount} is not a percentage").format(amount=repr(amount))) from None
            if not percent.is_finite() or not 0 < percent <= 100:
                raise InvalidValue(_("{amount}: a percentage must be more than 0 and at most 100").format(amount=repr(amount)))
        else:
            value = parse_amount(amount)
        event, after, on = parse_due(when, tz, at)
        parts.append(PlanPart(name, percent, value, event, after, on))
    return parts


def plan_amounts(contract_fen: int, parts: list[PlanPart]) -> list[int]:
    """Each part's amount in fen, adding up to the contract exactly, or InvalidValue saying by how much not."""
    from csdesk.money import fmt_money

    fixed = sum(to_fen(p.amount) for p in parts if p.amount is not None)
    percents = [p.percent for p in parts if p.percent is not None]
    if not percents:
        if fixed != contract_fen:
            diff = contract_fen - fixed
            gap = (_("{amount} short") if diff > 0 else _("{amount} too much")).format(amount=fmt_money(abs(diff)))
            raise InvalidValue(_("the plan adds up to {plan} but the contract is {contract} ({gap})").format(
                plan=fmt_money(fixed), contract=fmt_money(contract_fen), gap=gap))
        return [to_fen(p.amount) for p in parts]
    exact = Decimal(fixed) + sum(Decimal(contract_fen) * q / 100 for q in percents)
    if abs(exact - contract_fen) >= 1:
        diff = Decimal(contract_fen) - exact
        total = sum(percents)
        gap = (_("{amount} short") if diff > 0 else _("{amount} too much")).format(amount=fmt_money(abs(round_fen(diff))))
        raise InvalidValue(_("the plan adds up to {plan} ({percent}% + {fixed} fixed) but the contract is {contract} ({gap})").format(
            plan=fmt_money(round_fen(exact)), percent=total, fixed=fmt_money(fixed), contract=fmt_money(contract_fen), gap=gap))
    if exact != contract_fen:
        # Less than a fen off: the rounding would hide it, but the plan is still not the whole contract.
        share = (exact * 100 / contract_fen).normalize()
        raise InvalidValue(
            _("the plan's parts add up to {share}% of the contract, not exactly 100% ({percent}% + {fixed} fixed)").format(
                share=f"{share:f}", percent=sum(percents), fixed=fmt_money(fixed)),
            hint=_("percentages must add up to exactly 100 (e.g. 33.33%, 33.33%, 33.34%); or give exact amounts"))
    if fixed == 0:
        shares = split_exact(contract_fen, percents)
    else:
        shares = [round_fen(Decimal(contract_fen) * q / 100) for q in percents[:-1]]
        shares.append(contract_fen - fixed - sum(shares))
    out, i = [], 0
    for p in parts:
        if p.amount is not None:
            out.append(to_fen(p.amount))
        else:
            out.append(shares[i])
            i += 1
    for p, fen in zip(parts, out):
        if fen <= 0:
            raise InvalidValue(_("instalment {name} would be {amount}; every instalment must be more than zero").format(
                name=repr(p.name), amount=fmt_money(fen)))
    return out


def event_date(project: Project, event: str, tz) -> date | None:
    if event == "sign":
        return project.signed_on
    if event == "handover":
        return local_date(project.handed_over_at, tz)
    if event == "accept":
        return local_date(project.accepted_at, tz)
    return None


def compute_due(project: Project, inst: Instalment, tz) -> date | None:
    if inst.due_event == "date":
        return inst.due_on
    base = event_date(project, inst.due_event, tz)
    if base is None:
        return None
    return base + dates.parse_span(inst.due_after) if inst.due_after else base


def refresh_due_dates(desk: Desk, project: Project) -> None:
    """Fix the due dates of the instalments whose event has now happened (or moved)."""
    rows = desk.session.exec(select(Instalment).where(Instalment.project_id == project.id).order_by(Instalment.seq)).all()
    for inst in rows:
        due = compute_due(project, inst, desk.tz)
        if due != inst.due_on:
            before = snapshot(inst)
            inst.due_on = due
            desk.session.add(inst)
            audit(desk, "instalment.due", inst, before=before)


def _instalments(session, project_id: int) -> list[Instalment]:
    return list(session.exec(select(Instalment).where(Instalment.project_id == project_id).order_by(Instalment.seq)).all())


def make_plan(desk: Desk, code: str, split: str, replace: bool = False) -> PlanView:
    """Split the contract into instalments; refused unless they add up to it exactly."""
    desk.require_actor()
    session = desk.session
    project = find_project(session, code)
    if project.stage in ("archived", "settled"):
        raise InvalidTransition(_("{code} is {stage}; its plan cannot change").format(code=project.code, stage=stage_label(project.stage)))
    parts = parse_split(split, desk.tz, desk.now)
    amounts = plan_amounts(project.contract_fen, parts)
    for part in parts:
        # A part of the contract cannot fall due before the contract is signed: history as of any day
        # before the signing would otherwise show money owed on a project that did not exist yet.
        if part.due_on is not None and project.signed_on is not None and part.due_on < project.signed_on:
            raise InvalidValue(_("{name} would fall due on {due}, before {code} was signed ({signed})").format(
                name=part.name, due=part.due_on, code=project.code, signed=project.signed_on))
    existing = _instalments(session, project.id)
    if existing:
        if not replace:
            raise Conflict(_("{code} already has a payment plan of {n} instalments").format(code=project.code, n=len(existing)),
                           hint=_("csdesk payment plan {code} shows it; --replace makes a new one while nothing is paid").format(code=project.code))
        paid = session.exec(
            select(func.count()).select_from(PaymentAllocation).where(PaymentAllocation.instalment_id.in_([i.id for i in existing]))
        ).one()
        if paid:
            raise InvalidTransition(_("payments are recorded against {code}'s plan; it cannot be replaced").format(code=project.code))
        for inst in existing:
            audit(desk, "instalment.remove", inst, before=snapshot(inst), after={})
            session.delete(inst)
        session.flush()
    for seq, (part, fen) in enumerate(zip(parts, amounts), start=1):
        inst = Instalment(project_id=project.id, seq=seq, name=part.name, amount_fen=fen, due_event=part.due_event,
                          due_after=part.due_after, due_on=part.due_on, paid_fen=0, created_at=desk.now)
        inst.due_on = compute_due(project, inst, desk.tz)
        session.add(inst)
        audit(desk, "instalment.add", inst)
    return plan_view(desk, project.code)


def plan_view(desk: Desk, code: str) -> PlanView:
    project = find_project(desk.session, code)
    insts = instalment_infos(desk, project)
    planned = sum((i.amount for i in insts), Decimal("0.00"))
    paid = sum((i.paid for i in insts), Decimal("0.00"))
    return PlanView(project_info(desk.session, project, desk.tz, today(desk)), insts, planned, paid, planned - paid)


def _status(inst: Instalment, on: date) -> tuple[str, int]:
    if inst.paid_fen >= inst.amount_fen:
        return "paid", 0
    if inst.due_on is None:
        return "pending", 0
    if inst.due_on < on:
        return "overdue", (on - inst.due_on).days
    if inst.due_on == on:
        return "due", 0
    return "not_due", 0


def _instalment_info(inst: Instalment, project: Project, on: date, customer: Customer | None = None,
                     owner: str | None = None, last: tuple[str, datetime] | None = None) -> InstalmentInfo:
    status, late = _status(inst, on)
    return InstalmentInfo(
        id=inst.id, project_code=project.code, seq=inst.seq, name=inst.name, amount=from_fen(inst.amount_fen),
        due_rule=due_rule(inst.due_event, inst.due_after, inst.due_on), due_on=inst.due_on, paid=from_fen(inst.paid_fen),
        outstanding=from_fen(inst.amount_fen - inst.paid_fen), status=status, status_label=instalment_status_label(status),
        days_overdue=late, paid_on=inst.paid_on, last_step=last[0] if last else None, last_step_at=last[1] if last else None,
        customer_code=customer.code if customer else None, customer_name=customer.name if customer else None,
        owner=owner, owner_id=project.owner_id, project_id=project.id,
    )


def _last_steps(session, instalment_ids: list[int]) -> dict[int, tuple[str, datetime]]:
    out: dict[int, tuple[str, datetime]] = {}
    for chunk in _chunks(instalment_ids):
        rows = session.exec(
            select(CollectionStep.instalment_id, CollectionStep.step, CollectionStep.at)
            .where(CollectionStep.instalment_id.in_(chunk)).order_by(CollectionStep.at, CollectionStep.id)
        ).all()
        for iid, step, at in rows:
            out[iid] = (step, at)
    return out


def _chunks(ids: list[int], size: int = 500):
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def instalment_infos(desk: Desk, project: Project) -> list[InstalmentInfo]:
    rows = _instalments(desk.session, project.id)
    last = _last_steps(desk.session, [i.id for i in rows])
    on = today(desk)
    return [_instalment_info(i, project, on, last=last.get(i.id)) for i in rows]


# --- payments ---------------------------------------------------------------------------------


def check_method(value: str | None) -> str:
    value = (value or "transfer").strip().lower()
    aliases = {"bank": "transfer", "wire": "transfer", "check": "cheque"}
    value = aliases.get(value, value)
    for key, chinese in METHODS.items():
        if value in (key, chinese):
            return key
    raise InvalidValue(_("unknown payment method {value} (use one of: {choices})").format(value=repr(value), choices=", ".join(METHODS)))


def find_instalment(insts: list[Instalment], ref: str, project: Project) -> Instalment:
    ref = (ref or "").strip()
    for inst in insts:
        if inst.name == ref:
            return inst
    if ref.lstrip("#").isdigit():
        seq = int(ref.lstrip("#"))
        for inst in insts:
            if inst.seq == seq:
                return inst
    names = ", ".join(i.name for i in insts)
    raise NotFound(_("{code} has no instalment {ref} (its instalments: {names})").format(code=project.code, ref=repr(ref), names=names))


def settle_if_paid(desk: Desk, project: Project) -> bool:
    """An accepted project whose every instalment is paid becomes settled."""
    if project.stage != "accepted":
        return False
    insts = _instalments(desk.session, project.id)
    if insts and all(i.paid_fen >= i.amount_fen for i in insts):
        before = snapshot(project)
        project.stage = "settled"
        desk.session.add(project)
        audit(desk, "project.settle", project, before=before)
        return True
    return False


def _unsettle_if_open(desk: Desk, project: Project) -> None:
    if project.stage != "settled":
        return
    if any(i.paid_fen < i.amount_fen for i in _instalments(desk.session, project.id)):
        before = snapshot(project)
        project.stage = "accepted"
        desk.session.add(project)
        audit(desk, "project.unsettle", project, before=before)


def _set_paid(inst: Instalment, paid_fen: int, on: date) -> None:
    if paid_fen < 0 or paid_fen > inst.amount_fen:  # the invariant every write keeps
        raise AssertionError(f"instalment {inst.id} would have {paid_fen} of {inst.amount_fen} paid")
    was_paid = inst.paid_fen >= inst.amount_fen
    inst.paid_fen = paid_fen
    if paid_fen >= inst.amount_fen:
        inst.paid_on = inst.paid_on if was_paid else on
    else:
        inst.paid_on = None


def record_payment(
    desk: Desk,
    code: str,
    amount: Decimal,
    instalment: str | None = None,
    at: datetime | None = None,
    method: str | None = "transfer",
    ref: str | None = None,
    allow_overpay: bool = False,
) -> PaymentInfo:
    """Money received: to the named instalment, or to the unpaid ones oldest first."""
    from csdesk.money import fmt_money

    actor = desk.require_actor()
    session = desk.session
    project = find_project(session, code)
    if project.stage == "archived":
        raise InvalidTransition(_("{code} is archived; no payments can be recorded").format(code=project.code))
    amount_fen = to_fen(amount)
    if amount_fen <= 0:
        raise InvalidValue(_("a payment must be more than zero (a correction is payment reverse ID --reason)"))
    at = at or desk.now
    if at > desk.now + timedelta(minutes=5):
        raise InvalidValue(_("a payment cannot be received in the future (check --at)"))
    method = check_method(method)
    ref = _text(ref, N_("the reference"), 100)
    insts = _instalments(session, project.id)
    if not insts:
        raise InvalidTransition(_("{code} has no payment plan yet").format(code=project.code),
                                hint=_('csdesk payment plan {code} --split "首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d"').format(
                                    code=project.code))
    targets = [find_instalment(insts, instalment, project)] if instalment else [i for i in insts if i.paid_fen < i.amount_fen]
    owed = sum(i.amount_fen - i.paid_fen for i in targets)
    if amount_fen > owed and not allow_overpay:
        raise InvalidValue(_("{amount} is more than the {owed} still owed on {what}").format(
            amount=fmt_money(amount_fen), owed=fmt_money(owed), what=targets[0].name if instalment else project.code),
                           hint=_("--allow-overpay records the rest as a credit"))
    payment = Payment(project_id=project.id, kind="payment", amount_fen=amount_fen, received_at=at, method=method, ref=ref,
                      recorded_by_id=actor.id, created_at=desk.now)
    session.add(payment)
    session.flush()
    left = amount_fen
    on = local_date(at, desk.tz)
    parts = []
    for inst in targets:
        if left <= 0:
            break
        take = min(left, inst.amount_fen - inst.paid_fen)
        if take <= 0:
            continue
        session.add(PaymentAllocation(payment_id=payment.id, instalment_id=inst.id, amount_fen=take))
        _set_paid(inst, inst.paid_fen + take, on)
        session.add(inst)
        parts.append({"instalment": inst.name, "amount_fen": take})
        left -= take
    audit(desk, "payment.record", payment, after={**snapshot(payment), "allocations": parts, "credit_fen": left})
    settle_if_paid(desk, project)
    return _payment_info(desk, payment, project)


def find_payment(session, ident: int | str) -> Payment:
    try:
        number = int(str(ident).strip().lstrip("#"))
    except ValueError:
        raise InvalidValue(_("{ident} is not a payment number").format(ident=repr(ident))) from None
    payment = session.get(Payment, number)
    if payment is None:
        raise NotFound(_("no payment #{id}").format(id=number), hint=_("csdesk project show CODE lists a project's payments"))
    return payment


def reverse_payment(desk: Desk, ident: int | str, reason: str, at: datetime | None = None) -> PaymentInfo:
    """Correct a payment recorded by mistake: a reversal with a reason, never a deletion (supervisor+)."""
    desk.require_rank("supervisor", _("reversing a payment"))
    session = desk.session
    reason = _text(reason, N_("the reason"), 500)
    if not reason:
        raise InvalidValue(_("a reversal needs --reason"))
    original = find_payment(session, ident)
    if original.kind != "payment":
        raise InvalidTransition(_("#{id} is itself a reversal; record the payment again instead").format(id=original.id))
    done = session.exec(select(Payment.id).where(Payment.reverses_id == original.id)).first()
    if done is not None:
        raise InvalidTransition(_("payment #{id} was already reversed by #{by}").format(id=original.id, by=done))
    project = session.get(Project, original.project_id)
    if project.stage == "archived":
        raise InvalidTransition(_("{code} is archived; its payments cannot be reversed").format(code=project.code))
    at = at or desk.now
    if at > desk.now + timedelta(minutes=5):
        raise InvalidValue(_("a reversal cannot be in the future (check --at)"))
    if at < original.received_at:
        raise InvalidValue(_("a reversal cannot be dated before the payment it reverses"))
    reversal = Payment(project_id=project.id, kind="reversal", amount_fen=-original.amount_fen, received_at=at,
                       method=original.method, ref=original.ref, note=reason, reverses_id=original.id,
                       recorded_by_id=desk.actor.id, created_at=desk.now)
    session.add(reversal)
    session.flush()
    allocations = session.exec(select(PaymentAllocation).where(PaymentAllocation.payment_id == original.id)).all()
    on = local_date(at, desk.tz)
    parts = []
    for alloc in allocations:
        inst = session.get(Instalment, alloc.instalment_id)
        session.add(PaymentAllocation(payment_id=reversal.id, instalment_id=inst.id, amount_fen=-alloc.amount_fen))
        _set_paid(inst, inst.paid_fen - alloc.amount_fen, on)
        session.add(inst)
        parts.append({"instalment": inst.name, "amount_fen": -alloc.amount_fen})
    audit(desk, "payment.reverse", reversal, after={**snapshot(reversal), "allocations": parts})
    _unsettle_if_open(desk, project)
    return _payment_info(desk, reversal, project)


def _payment_info(desk: Desk, payment: Payment, project: Project, allocations: list[Allocation] | None = None,
                  recorded_by: str | None = None, reversed_by: int | None = None) -> PaymentInfo:
    session = desk.session
    if allocations is None:
        allocations = [
            Allocation(name, from_fen(fen)) for name, fen in session.exec(
                select(Instalment.name, PaymentAllocation.amount_fen).join(Instalment, Instalment.id == PaymentAllocation.instalment_id)
                .where(PaymentAllocation.payment_id == payment.id).order_by(Instalment.seq))
        ]
        reversed_by = session.exec(select(Payment.id).where(Payment.reverses_id == payment.id)).first()
    if recorded_by is None and payment.recorded_by_id:
        recorded_by = session.get(Staff, payment.recorded_by_id).name
    allocated = sum((a.amount for a in allocations), Decimal("0.00"))
    return PaymentInfo(
        id=payment.id, project_code=project.code, kind=payment.kind, amount=from_fen(payment.amount_fen),
        received_at=payment.received_at, method=payment.method, ref=payment.ref, note=payment.note, recorded_by=recorded_by,
        allocations=allocations, credit=from_fen(payment.amount_fen) - allocated, reverses_id=payment.reverses_id,
        reversed_by_id=reversed_by, project_stage=project.stage,
    )


def payment_infos(desk: Desk, project: Project) -> list[PaymentInfo]:
    session = desk.session
    payments = session.exec(select(Payment).where(Payment.project_id == project.id).order_by(Payment.received_at, Payment.id)).all()
    if not payments:
        return []
    allocs: dict[int, list[Allocation]] = {p.id: [] for p in payments}
    for pid, name, fen in session.exec(
        select(PaymentAllocation.payment_id, Instalment.name, PaymentAllocation.amount_fen)
        .join(Instalment, Instalment.id == PaymentAllocation.instalment_id)
        .where(Instalment.project_id == project.id).order_by(PaymentAllocation.payment_id, Instalment.seq)
    ):
        allocs[pid].append(Allocation(name, from_fen(fen)))
    reversed_by = {p.reverses_id: p.id for p in payments if p.reverses_id}
    names = dict(session.exec(select(Staff.id, Staff.name).where(Staff.id.in_({p.recorded_by_id for p in payments if p.recorded_by_id}))).all())
    return [_payment_info(desk, p, project, allocs[p.id], names.get(p.recorded_by_id, ""), reversed_by.get(p.id)) for p in payments]


# --- collection (催收) -------------------------------------------------------------------------


def ladder(desk: Desk) -> list[tuple[str, int]]:
    """The configured dunning ladder as (step, days after due), in ladder order, switched-off steps left out."""
    conf = desk.settings["collection"]["ladder"]
    out = []
    for step in STEPS:
        days = conf.get(step, -1)
        if not isinstance(days, int) or isinstance(days, bool) or days < -1:
            raise InvalidValue(_("config: collection.ladder.{step} must be a whole number of days (or -1 for off)").format(step=step))
        if days >= 0:
            out.append((step, days))
    return out


def step_role(desk: Desk, step: str) -> str:
    role = desk.settings["collection"]["roles"].get(step, "specialist")
    if role not in ROLES:
        raise InvalidValue(_("config: collection.roles.{step} must be one of: {choices}").format(step=step, choices=", ".join(ROLES)))
    return role


def check_step(value: str) -> str:
    value = (value or "").strip().lower()
    aliases = {"phone": "call", "letter": "notice", "催款函": "notice", "律师函": "lawyer", "提醒": "reminder", "电话": "call"}
    value = aliases.get(value, value)
    for key, chinese in STEPS.items():
        if value in (key, chinese):
            return key
    raise InvalidValue(_("unknown dunning step {value} (use one of: {choices})").format(value=repr(value), choices=", ".join(STEPS)))


def _paid_by(session, instalment_ids: list[int], at: datetime) -> dict[int, int]:
    """What had been received for each instalment by `at` (payments and reversals), in fen."""
    if not instalment_ids:
        return {}
    rows = session.exec(
        select(PaymentAllocation.instalment_id, func.sum(PaymentAllocation.amount_fen))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.instalment_id.in_(instalment_ids), Payment.received_at <= at)
        .group_by(PaymentAllocation.instalment_id)
    ).all()
    return {iid: int(fen or 0) for iid, fen in rows}


def chase(desk: Desk, code: str, step: str, note: str | None = None, instalment: str | None = None,
          at: datetime | None = None, skip: bool = False, reason: str | None = None) -> list[StepInfo]:
    """Record a dunning step for every instalment of the project (or the one named) that was due and unpaid at `at`.

    The ladder goes in order: a step is refused while an earlier step of the configured ladder has not
    been recorded for the instalment at or before `at`, unless a manager or above records it with
    `skip` and a reason (kept in the audit trail). Whether an instalment was due and unpaid is judged as
    of `at`, so a step typed in late is checked against the money received by then, not by today.
    """
    step = check_step(step)
    role = step_role(desk, step)
    actor = desk.require_actor()
    if actor.rank < ROLE_RANK[role]:
        raise PermissionDenied(_("a {step} step needs a {role} or above; {actor} is a {actor_role}").format(
            step=step_label(step), role=role_label(role), actor=actor.name, actor_role=role_label(actor.role)))
    reason = _text(reason, N_("the reason"), 500)
    if skip:
        desk.require_rank("manager", _("skipping dunning steps"))
        if not reason:
            raise InvalidValue(_("--skip needs --reason (why the earlier steps are left out)"))
    elif reason:
        raise InvalidValue(_("--reason goes with --skip"))
    session = desk.session
    project = find_project(session, code)
    if project.stage in INACTIVE_STAGES:
        raise InvalidTransition(_("{code} is {stage}; dunning is paused").format(code=project.code, stage=stage_label(project.stage)))
    at = at or desk.now
    if at > desk.now + timedelta(minutes=5):
        raise InvalidValue(_("a dunning step cannot be recorded in the future (check --at)"))
    note = _text(note, N_("the note"), 500)
    on = local_date(at, desk.tz)
    insts = _instalments(session, project.id)
    paid = _paid_by(session, [i.id for i in insts], at)

    def unpaid(inst: Instalment) -> bool:
        return paid.get(inst.id, 0) < inst.amount_fen

    if instalment:
        inst = find_instalment(insts, instalment, project)
        if not unpaid(inst):
            if at >= desk.now - timedelta(minutes=5):
                raise InvalidTransition(_("{name} of {code} is paid; there is nothing to chase").format(name=inst.name, code=project.code))
            raise InvalidTransition(_("{name} of {code} was paid by {at}; there is nothing to chase").format(
                name=inst.name, code=project.code, at=dates.fmt(at, desk.tz)))
        if inst.due_on is None or inst.due_on > on:
            raise InvalidTransition(_("{name} of {code} is not due yet ({due})").format(
                name=inst.name, code=project.code, due=inst.due_on or _("due date not known yet")))
        targets = [inst]
    else:
        targets = [i for i in insts if unpaid(i) and i.due_on is not None and i.due_on <= on]
        if not targets:
            raise InvalidTransition(_("nothing is due and unpaid on {code}; there is nothing to chase").format(code=project.code))
    order = list(STEPS)
    earlier = [s for s, _ in ladder(desk) if order.index(s) < order.index(step)]
    taken: dict[int, set[str]] = {}
    if earlier:
        for iid, s in session.exec(
            select(CollectionStep.instalment_id, CollectionStep.step)
            .where(CollectionStep.instalment_id.in_([i.id for i in targets]), CollectionStep.at <= at)
        ).all():
            taken.setdefault(iid, set()).add(s)
    missing = {i.id: [s for s in earlier if s not in taken.get(i.id, set())] for i in targets}
    if not skip:
        for inst in targets:
            if missing[inst.id]:
                names = ", ".join(step_label(s) for s in missing[inst.id])
                raise InvalidTransition(
                    _("{name} of {code} has had no {missing} by {at}; the dunning ladder goes in order, so a {step} cannot come first").format(
                        name=inst.name, code=project.code, missing=names, at=dates.fmt(at, desk.tz), step=step_label(step)),
                    hint=_("record the earlier steps first (with --at when they happened), or a manager skips them with --skip --reason TEXT"))
    elif not any(missing.values()):
        raise InvalidValue(_("--skip: no earlier step is missing before this {step}; record it without --skip").format(
            step=step_label(step)))
    out = []
    for inst in targets:
        row = CollectionStep(instalment_id=inst.id, project_id=project.id, step=step, at=at, by_id=actor.id, note=note)
        session.add(row)
        skipped = missing[inst.id] if skip else []
        if skipped:
            session.flush()
            audit(desk, "payment.chase", row, after={**snapshot(row), "skipped": skipped, "reason": reason})
        else:
            audit(desk, "payment.chase", row)
        out.append(StepInfo(row.id, project.code, inst.name, step, step_label(step), at, actor.name, note, skipped,
                            reason if skipped else None))
    return out


def collection_history(desk: Desk, project: Project) -> list[StepInfo]:
    rows = desk.session.exec(
        select(CollectionStep, Instalment.name, Staff.name).join(Instalment, Instalment.id == CollectionStep.instalment_id)
        .outerjoin(Staff, Staff.id == CollectionStep.by_id)
        .where(CollectionStep.project_id == project.id).order_by(CollectionStep.at, CollectionStep.id)
    ).all()
    out = [StepInfo(s.id, project.code, name, s.step, step_label(s.step), s.at, who, s.note) for s, name, who in rows]
    _add_skips(desk.session, out)
    return out


def _add_skips(session, steps: list[StepInfo]) -> None:
    """The steps a manager skipped (--skip) and why, from the steps' audit entries."""
    import json

    from csdesk.models import AuditEntry

    if not steps:
        return
    by_id = {s.id: s for s in steps}
    for chunk in _chunks(list(by_id)):
        for entity_id, after in session.exec(
            select(AuditEntry.entity_id, AuditEntry.after).where(
                AuditEntry.entity == "collection_step", AuditEntry.action == "payment.chase", AuditEntry.entity_id.in_(chunk),
                AuditEntry.after.contains('"skipped"'))
        ).all():
            try:
                data = json.loads(after or "{}")
            except ValueError:
                continue
            step = by_id.get(entity_id)
            if step is not None and isinstance(data.get("skipped"), list):
                step.skipped = [str(x) for x in data["skipped"]]
                step.skip_reason = data.get("reason")


_ROW_COLUMNS = (
    Instalment.id, Instalment.project_id, Instalment.seq, Instalment.name, Instalment.amount_fen, Instalment.due_event,
    Instalment.due_after, Instalment.due_on, Instalment.paid_fen, Instalment.paid_on, Project.code.label("project_code"),
    Project.owner_id, Customer.code.label("customer_code"), Customer.name.label("customer_name"), Staff.name.label("owner"),
)


def _rows(*conditions):
    """Instalments as plain rows (no ORM objects: reminder runs read thousands) with project, customer, owner."""
    return (
        select(*_ROW_COLUMNS).select_from(Instalment)
        .join(Project, Project.id == Instalment.project_id).join(Customer, Customer.id == Project.customer_id)
        .outerjoin(Staff, Staff.id == Project.owner_id).where(*conditions)
    )


def _open_instalments(desk: Desk, on: date, *conditions):
    """Unpaid instalments on active projects."""
    return desk.session.execute(
        _rows(Instalment.paid_fen < Instalment.amount_fen, Project.stage.not_in(INACTIVE_STAGES), *conditions)
        .order_by(Instalment.due_on, Instalment.id)
    ).all()


def _row_info(r, on: date, last: tuple[str, datetime] | None) -> InstalmentInfo:
    status, late = _status(r, on)
    return InstalmentInfo(
        id=r.id, project_code=r.project_code, seq=r.seq, name=r.name, amount=from_fen(r.amount_fen),
        due_rule=due_rule(r.due_event, r.due_after, r.due_on), due_on=r.due_on, paid=from_fen(r.paid_fen),
        outstanding=from_fen(r.amount_fen - r.paid_fen), status=status, status_label=instalment_status_label(status),
        days_overdue=late, paid_on=r.paid_on, last_step=last[0] if last else None, last_step_at=last[1] if last else None,
        customer_code=r.customer_code, customer_name=r.customer_name, owner=r.owner or "", owner_id=r.owner_id,
        project_id=r.project_id,
    )


def due_collection_steps(desk: Desk, now: datetime, project_id: int | None = None) -> list[DueStep]:
    """Which dunning step is due for which instalment at `now`.

    A step is due when its day has come (the instalment's due date + the step's days, local dates), the
    instalment is still unpaid, its project is active (not shelved or archived), the step has not been
    recorded for it, and no later step of the ladder has been recorded either.
    """
    on = now.astimezone(desk.tz).date()
    steps = ladder(desk)
    if not steps:
        return []
    first = min(days for _, days in steps)
    cond = [Instalment.due_on <= on - timedelta(days=first)]
    if project_id is not None:
        cond.append(Instalment.project_id == project_id)
    rows = _open_instalments(desk, on, *cond)
    if not rows:
        return []
    done: dict[int, set[str]] = {}
    recorded = desk.session.exec(
        select(CollectionStep.instalment_id, CollectionStep.step).join(Instalment, Instalment.id == CollectionStep.instalment_id)
        .join(Project, Project.id == Instalment.project_id)
        .where(Instalment.paid_fen < Instalment.amount_fen, Project.stage.not_in(INACTIVE_STAGES), *cond)
    ).all()
    for iid, step in recorded:
        done.setdefault(iid, set()).add(step)
    rank = {step: i for i, step in enumerate(STEPS)}
    roles = {step: step_role(desk, step) for step, _ in steps}
    ladder_steps = [(step, days, rank[step], timedelta(days=days)) for step, days in steps]
    chain: dict[int, tuple[str, int | None, bool]] | None = None
    recorders: dict[tuple[int | None, str], int | None] = {}
    out = []
    for r in rows:
        taken = done.get(r.id)
        highest = max(rank.get(s, -1) for s in taken) if taken else -1
        late = (on - r.due_on).days
        owed = None
        for step, days, position, delta in ladder_steps:
            if late >= days and position > highest:
                owed = owed if owed is not None else from_fen(r.amount_fen - r.paid_fen)
                key = (r.owner_id, roles[step])
                if key not in recorders:
                    if chain is None:
                        chain = _staff_chain(desk.session)
                    owner_role = chain.get(r.owner_id, (None,))[0] if r.owner_id is not None else None
                    able = owner_role in ROLE_RANK and ROLE_RANK[owner_role] >= ROLE_RANK[roles[step]]
                    recorders[key] = None if able else first_able_up_the_chain(chain, r.owner_id, roles[step])
                out.append(DueStep(
                    r.id, r.project_id, r.project_code, r.customer_code, r.customer_name, r.name, step, step_label(step),
                    r.due_on + delta, r.due_on, max(late, 0), owed, r.owner, r.owner_id, roles[step], recorders[key],
                ))
    return out


def project_due_steps(desk: Desk, project: Project) -> list[DueStep]:
    return due_collection_steps(desk, desk.now, project.id)


def _infos_from_rows(desk: Desk, rows, on: date, last_steps: bool = True) -> list[InstalmentInfo]:
    last = _last_steps(desk.session, [r.id for r in rows]) if last_steps else {}
    return [_row_info(r, on, last.get(r.id)) for r in rows]


def instalments_due_within(desk: Desk, now: datetime, days: int, last_steps: bool = True) -> list[InstalmentInfo]:
    """Unpaid instalments (active projects) falling due from `now`'s local date to `days` days later.
    `last_steps=False` leaves out the last dunning step of each (a query fewer, for the reminder run)."""
    on = now.astimezone(desk.tz).date()
    rows = _open_instalments(desk, on, Instalment.due_on >= on, Instalment.due_on <= on + timedelta(days=days))
    return _infos_from_rows(desk, rows, on, last_steps)


def overdue_instalments(desk: Desk, now: datetime, last_steps: bool = True) -> list[InstalmentInfo]:
    """Unpaid instalments (active projects) whose due date is before `now`'s local date (`last_steps` as above)."""
    on = now.astimezone(desk.tz).date()
    rows = _open_instalments(desk, on, Instalment.due_on < on)
    return _infos_from_rows(desk, rows, on, last_steps)


def list_instalments(
    desk: Desk,
    overdue: bool = False,
    due_within: int | None = None,
    project: str | None = None,
    customer: str | None = None,
    owner: str | None = None,
    include_paid: bool = False,
    limit: int = 100,
) -> tuple[list[InstalmentInfo], int]:
    """Instalments, soonest due first: by default everything still owed (any project stage)."""
    from csdesk.workflows.customers import find_customer

    check_limit(limit)
    session = desk.session
    on = today(desk)
    conditions = []
    if not include_paid or overdue or due_within is not None:
        conditions.append(Instalment.paid_fen < Instalment.amount_fen)
    if overdue and due_within is not None:
        conditions.append(Instalment.due_on <= on + timedelta(days=due_within))
    elif overdue:
        conditions.append(Instalment.due_on < on)
    elif due_within is not None:
        conditions += [Instalment.due_on >= on, Instalment.due_on <= on + timedelta(days=due_within)]
    if project:
        conditions.append(Instalment.project_id == find_project(session, project).id)
    if customer:
        conditions.append(Project.customer_id == find_customer(session, customer).id)
    if owner:
        conditions.append(Project.owner_id == staff_filter(desk, owner))
    total = session.exec(
        select(func.count()).select_from(Instalment).join(Project, Project.id == Instalment.project_id).where(*conditions)
    ).one()
    # Instalments whose due date is not known yet come last; with a due-date filter there are none.
    order = (Instalment.due_on, Instalment.id) if (overdue or due_within is not None) else (
        Instalment.due_on.is_(None), Instalment.due_on, Instalment.id)
    rows = session.execute(_rows(*conditions).order_by(*order).limit(limit)).all()
    return _infos_from_rows(desk, rows, on), total


def owed_by_customer(desk: Desk, customer_id: int) -> list[dict[str, Any]]:
    """A customer's instalments that are due or overdue and unpaid, with the dunning so far and next."""
    on = today(desk)
    rows = desk.session.exec(
        select(Instalment, Project).join(Project, Project.id == Instalment.project_id)
        .where(Project.customer_id == customer_id, Instalment.paid_fen < Instalment.amount_fen, Instalment.due_on <= on)
        .order_by(Instalment.due_on, Instalment.id)
    ).all()
    if not rows:
        return []
    last = _last_steps(desk.session, [i.id for i, _ in rows])
    upcoming: dict[int, str] = {}
    for project_id in {p.id for _, p in rows}:
        for due in due_collection_steps(desk, desk.now, project_id):
            upcoming.setdefault(due.instalment_id, due.step)
    out = []
    for inst, project in rows:
        status, late = _status(inst, on)
        step = last.get(inst.id)
        out.append({
            # Keys are the JSON contract; N_ puts them in the catalogue for the card's column headers.
            N_("project"): project.code, N_("instalment"): inst.name, N_("due"): inst.due_on,
            N_("outstanding"): from_fen(inst.amount_fen - inst.paid_fen), N_("days overdue"): late,
            N_("last step"): f"{step_label(step[0])} {dates.fmt(step[1], desk.tz)[:10]}" if step else "",
            N_("next step"): step_label(upcoming[inst.id]) if inst.id in upcoming else "",
        })
    return out


# --- aging ------------------------------------------------------------------------------------


def aging(desk: Desk, as_of: date | None = None, by: str | None = None, limit: int = 50) -> AgingReport:
    """Outstanding amounts by days overdue (0–30, 31–60, 61–90, 90+) as of a day, optionally by group.

    One aggregate query. As of today the instalments' running `paid_fen` is used; as of an earlier day,
    the payments (and reversals) received up to the end of that day. Every instalment of a project signed
    on or before the day counts, whenever its plan was typed in: a department that enters its existing
    projects today sees the right history for last July. A due date that hangs on an event after the day
    (a later handover or acceptance) was not known then; it falls after the day, so the instalment is "not
    due" then. "0–30" holds what is 1 to 30 days overdue (an instalment due today is not overdue yet).
    """
    check_limit(limit)
    session = desk.session
    current = today(desk)
    as_of = as_of or current
    if by is not None and by not in BY:
        raise InvalidValue(_("unknown grouping {by} (use one of: {choices})").format(by=repr(by), choices=", ".join(BY)))
    if as_of >= current:
        paid = Instalment.paid_fen
        query_from = select(Instalment)
        extra = []
    else:
        end = datetime.combine(as_of + timedelta(days=1), time(0, 0)).replace(tzinfo=desk.tz)
        received = (
            select(PaymentAllocation.instalment_id.label("iid"), func.sum(PaymentAllocation.amount_fen).label("paid"))
            .join(Payment, Payment.id == PaymentAllocation.payment_id).where(Payment.received_at < end)
            .group_by(PaymentAllocation.instalment_id).subquery()
        )
        paid = func.coalesce(received.c.paid, 0)
        query_from = select(Instalment).outerjoin(received, received.c.iid == Instalment.id)
        extra = [Instalment.project_id.in_(select(Project.id).where(Project.signed_on <= as_of))]
    owed = Instalment.amount_fen - paid
    bucket = case(
        (or_(Instalment.due_on.is_(None), Instalment.due_on >= as_of), 0),
        (Instalment.due_on >= as_of - timedelta(days=30), 1),
        (Instalment.due_on >= as_of - timedelta(days=60), 2),
        (Instalment.due_on >= as_of - timedelta(days=90), 3),
        else_=4,
    ).label("bucket")
    # The bucket and the group key are computed in a subquery and grouped outside it, so that no
    # backend has to match a parameterised CASE in GROUP BY with the one in the select list.
    columns = [bucket, owed.label("owed")]
    if by == "project":
        columns.append(Instalment.project_id.label("k"))
    elif by == "customer":
        columns.append(Project.customer_id.label("k"))
    elif by == "owner":
        columns.append(Project.owner_id.label("k"))
    inner = query_from.with_only_columns(*columns).where(owed > 0, *extra)
    if by in ("customer", "owner"):
        inner = inner.join(Project, Project.id == Instalment.project_id)
    sub = inner.subquery()
    keys = [sub.c.k] if by else []
    query = select(*keys, sub.c.bucket, func.sum(sub.c.owed)).group_by(*keys, sub.c.bucket)
    groups: dict[Any, list[int]] = {}
    for *k, b, total in session.execute(query).all():
        groups.setdefault(k[0] if k else 0, [0, 0, 0, 0, 0])[int(b)] += int(total or 0)

    def row(k, label, cells) -> AgingRow:
        overdue = sum(cells[1:])
        return AgingRow(str(k) if k is not None else "", label, *(from_fen(c) for c in cells), from_fen(overdue), from_fen(overdue + cells[0]))

    totals = [sum(c[i] for c in groups.values()) for i in range(5)]
    ranked = sorted(groups.items(), key=lambda kv: (-sum(kv[1][1:]), -sum(kv[1]), str(kv[0])))
    shown = ranked[:limit] if by else []
    labels = _aging_labels(session, by, [k for k, _ in shown])
    rows = [row(*labels.get(k, (k, _("(none)"))), cells) for k, cells in shown]
    return AgingReport(as_of, by, rows, row("total", _("total"), totals), len(groups) if by else 0)


def _aging_labels(session, by: str | None, keys: list) -> dict[Any, tuple[str, str]]:
    keys = [k for k in keys if k is not None]
    if not by or not keys:
        return {}
    if by == "project":
        rows = session.exec(select(Project.id, Project.code, Project.name).where(Project.id.in_(keys))).all()
        return {i: (code, name) for i, code, name in rows}
    if by == "customer":
        rows = session.exec(select(Customer.id, Customer.code, Customer.name).where(Customer.id.in_(keys))).all()
        return {i: (code, name or _("(no name on record)")) for i, code, name in rows}
    rows = session.exec(select(Staff.id, Staff.name).where(Staff.id.in_(keys))).all()
    return {i: (name, name) for i, name in rows}
