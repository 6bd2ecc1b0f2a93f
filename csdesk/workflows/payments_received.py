"""Money received: payments to the named instalment or to the unpaid ones oldest first, and their
reversals (a negative payment with a reason, never a deletion). `paid_fen` of every instalment always
equals the sum of its allocations, is never below zero and never above its amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlmodel import select

from csdesk.errors import InvalidTransition, InvalidValue, NotFound
from csdesk.i18n import N_, _
from csdesk.models import Instalment, Payment, PaymentAllocation, Project, Staff
from csdesk.money import from_fen, to_fen
from csdesk.workflows import Desk, audit, snapshot
from csdesk.workflows.lookup import find_project, local_date, project_text as _text
from csdesk.workflows.payment_plans import METHODS, _instalments, find_instalment, settle_if_paid, _unsettle_if_open


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


def check_method(value: str | None) -> str:
    value = (value or "transfer").strip().lower()
    aliases = {"bank": "transfer", "wire": "transfer", "check": "cheque"}
    value = aliases.get(value, value)
    for key, chinese in METHODS.items():
        if value in (key, chinese):
            return key
    raise InvalidValue(_("unknown payment method {value} (use one of: {choices})").format(value=repr(value), choices=", ".join(METHODS)))


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
