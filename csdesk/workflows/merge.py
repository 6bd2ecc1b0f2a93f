"""Customer merge (合并重复客户): a duplicate's numbers, calls, complaints, callbacks, projects and money
move to the kept customer in one transaction; the duplicate stays as a row that points at the kept one,
so its code keeps resolving (find_customer follows it) while it leaves lists and searches.

Crosses areas, so it lives here and moves each area's rows explicitly, one step per area, each row with
its own audit entry: numbers (customers), calls (calls.move_calls), complaints, callbacks and visit
series, projects — the money (instalments, payments, dunning steps) hangs on the projects and follows
them. The plan is made first, so `--dry-run` lists exactly what a real run moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import func, select

from csdesk.errors import InvalidTransition, InvalidValue, NotFound
from csdesk.i18n import N_, _
from csdesk.models import (
    Call, Callback, CallbackSeries, Complaint, Customer, CustomerPhone, Instalment, Payment, Project, Staff,
)
from csdesk.workflows import Desk, audit, snapshot
from csdesk.workflows.customers import _CODE, find_customer

# Visit series a customer has at most one of while active (by tier or ownership); two after a merge
# would mean two visits each time, so the duplicate's is ended.
ONE_PER_CUSTOMER = ("key", "vip", "owner")
FILLED = ("name", "company", "address", "manager_id", "source")  # the kept customer's blanks taken from the duplicate
# What moves, as `customer merge` shows it (the keys of MergeResult.moved and .filled stay English).
MOVED_LABELS = {"numbers": N_("numbers"), "calls": N_("calls"), "complaints": N_("complaints"),
                "callbacks": N_("callbacks"), "visit series": N_("visit series"), "projects": N_("projects"),
                "money": N_("money"), "name": N_("name"), "company": N_("company"), "address": N_("address"),
                "manager_id": N_("account manager"), "source": N_("source")}


@dataclass
class MergeResult:
    duplicate: str
    kept: str
    kept_name: str | None
    dry_run: bool
    moved: dict[str, list[str]] = field(default_factory=dict)  # what → refs (numbers, call ids, codes …)
    filled: dict[str, str] = field(default_factory=dict)  # the kept customer's blank fields filled in
    ended: list[str] = field(default_factory=list)  # duplicate visit series ended (and their pending visits)


def _duplicate(session, ref: str) -> Customer:
    """The customer named, without following merges: a code already merged is refused by name."""
    text = (ref or "").strip()
    if _CODE.match(text):
        row = session.exec(select(Customer).where(Customer.code == text.upper())).first()
        if row is None:
            raise NotFound(_("no customer with code {code}").format(code=text.upper()))
        if row.merged_into_id is not None:
            kept = session.get(Customer, row.merged_into_id)
            raise InvalidTransition(_("{code} was already merged into {kept}").format(code=row.code, kept=kept.code))
        return row
    return find_customer(session, text)


def merge_customers(desk: Desk, duplicate: str, into: str, dry_run: bool = False) -> MergeResult:
    session = desk.session
    desk.require_rank("supervisor", _("merging customers"))
    dup = _duplicate(session, duplicate)
    keep = find_customer(session, into)
    if keep.id == dup.id:
        raise InvalidValue(_("cannot merge {code} into itself").format(code=dup.code))

    numbers = session.exec(select(CustomerPhone).where(CustomerPhone.customer_id == dup.id)
                           .order_by(CustomerPhone.position, CustomerPhone.id)).all()
    calls = session.exec(select(Call.id).where(Call.customer_id == dup.id).order_by(Call.id)).all()
    complaints = session.exec(select(Complaint).where(Complaint.customer_id == dup.id).order_by(Complaint.id)).all()
    callbacks = session.exec(select(Callback).where(Callback.customer_id == dup.id).order_by(Callback.id)).all()
    series = session.exec(select(CallbackSeries).where(CallbackSeries.customer_id == dup.id).order_by(CallbackSeries.id)).all()
    projects = session.exec(select(Project).where(Project.customer_id == dup.id).order_by(Project.id)).all()
    kept_rules = set(session.exec(select(CallbackSeries.rule).where(
        CallbackSeries.customer_id == keep.id, CallbackSeries.active == True)).all())  # noqa: E712
    doubled = [s for s in series if s.active and s.rule in ONE_PER_CUSTOMER and s.rule in kept_rules]

    from csdesk.phones import display

    result = MergeResult(dup.code, keep.code, keep.name, dry_run)
    moved = result.moved
    moved["numbers"] = [display(p.number) for p in numbers]
    moved["calls"] = [f"#{i}" for i in calls]
    moved["complaints"] = [f"#{c.id}" for c in complaints]
    moved["callbacks"] = [f"#{c.id}" for c in callbacks]
    moved["visit series"] = [f"#{s.id}" for s in series]
    moved["projects"] = [p.code or f"#{p.id}" for p in projects]
    if projects:
        ids = [p.id for p in projects]
        instalments, planned = session.exec(select(func.count(), func.coalesce(func.sum(Instalment.amount_fen), 0))
                                            .where(Instalment.project_id.in_(ids))).one()
        payments, received = session.exec(select(func.count(), func.coalesce(func.sum(Payment.amount_fen), 0))
                                          .where(Payment.project_id.in_(ids))).one()
        if instalments or payments:
            from csdesk.money import fmt_money

            # int(): PostgreSQL sums a bigint column as numeric (a Decimal, which fmt_money reads as yuan)
            moved["money"] = [_("{n} instalments ({amount})").format(n=instalments, amount=fmt_money(int(planned))),
                              _("{n} payments ({amount})").format(n=payments, amount=fmt_money(int(received)))]
    for name in FILLED:
        if getattr(keep, name) in (None, "") and getattr(dup, name) not in (None, ""):
            value = getattr(dup, name)
            result.filled[name] = session.get(Staff, value).name if name == "manager_id" else str(value)
    result.ended = [_("visit series #{id} ({rule}), {code} has its own").format(id=s.id, rule=s.rule, code=keep.code) for s in doubled]
    result.moved = {k: v for k, v in moved.items() if v}
    if dry_run:
        return result

    # numbers (customers area): after the kept customer's own, in the duplicate's order
    last = session.exec(select(func.max(CustomerPhone.position)).where(CustomerPhone.customer_id == keep.id)).one()
    start = (last if last is not None else -1) + 1
    for offset, phone in enumerate(numbers):
        before = snapshot(phone)
        phone.customer_id, phone.position = keep.id, start + offset
        session.add(phone)
        audit(desk, "customer_phone.merge", phone, before=before)
    # calls (calls area)
    from csdesk.workflows.calls import move_calls

    move_calls(desk, dup.id, keep.id)
    # complaints, callbacks and their series, projects (with their money): each row re-pointed and recorded
    for row in [*complaints, *callbacks, *series, *projects]:
        before = snapshot(row)
        row.customer_id = keep.id
        session.add(row)
        audit(desk, f"{row.__tablename__}.merge", row, before=before)
    for s in doubled:
        before = snapshot(s)
        s.active, s.ended_reason = False, f"customer {dup.code} merged into {keep.code}, which has its own {s.rule} visits"
        session.add(s)
        audit(desk, "callback_series.end", s, before=before)
        for cb in session.exec(select(Callback).where(Callback.series_id == s.id, Callback.status == "pending")).all():
            before = snapshot(cb)
            cb.status, cb.closed_at, cb.result_note = "cancelled", desk.now, s.ended_reason
            cb.closed_by_id = desk.actor.id
            session.add(cb)
            audit(desk, "callback.cancel", cb, before=before)
    # the customers themselves
    before = snapshot(keep)
    for name in FILLED:
        if name in result.filled:
            setattr(keep, name, getattr(dup, name))
    if result.filled:
        keep.updated_at = desk.now
        session.add(keep)
        audit(desk, "customer.edit", keep, before=before)
    before = snapshot(dup)
    dup.merged_into_id, dup.merged_at, dup.updated_at = keep.id, desk.now, desk.now
    # The shell keeps no tier of its own, or the visit rules (which pick customers by tier) would give it
    # key/VIP visits again; the kept customer's tier is the one that counts.
    dup.tier = "standard"
    session.add(dup)
    audit(desk, "customer.merge", dup, before=before, after={
        **{k: v for k, v in snapshot(dup).items() if k in ("merged_into_id", "merged_at")},
        "into": keep.code, "moved": result.moved})
    return result
