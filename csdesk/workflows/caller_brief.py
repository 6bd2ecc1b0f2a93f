"""What an agent needs while the customer is still on the line (shown by `log-call`): who it is and their
tier, open complaints with their next deadline, callbacks due within a week (overdue ones included),
money overdue, and the last calls. Crosses areas, so it lives here and asks each area explicitly; nothing
that is further away than a week (the periodic visits of the coming years) is in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case
from sqlmodel import func, select

from csdesk.models import Call, Callback, Customer, Instalment, Project
from csdesk.workflows import Desk

CALLBACK_DAYS = 7  # callbacks due within this many days (and every overdue one)


@dataclass
class CallerBrief:
    code: str
    name: str | None
    tier: str
    tier_label: str
    complaints: list[Any] = field(default_factory=list)  # active, by next deadline (complaints.ListRow)
    complaints_total: int = 0
    callbacks: list[Any] = field(default_factory=list)  # pending, due within CALLBACK_DAYS (callbacks.CallbackInfo)
    callbacks_total: int = 0
    callbacks_overdue: int = 0
    money_overdue: Decimal = Decimal("0.00")  # outstanding on instalments past their due day
    instalments: list[Any] = field(default_factory=list)  # the oldest overdue ones (payments.InstalmentInfo)
    instalments_total: int = 0
    calls: list[Any] = field(default_factory=list)  # the latest calls before this one (calls.CallInfo)
    calls_total: int = 0


def caller_brief(desk: Desk, customer_id: int, exclude_call: int | None = None, rows: int = 3) -> CallerBrief:
    """The brief for one customer; `rows` at most in each part (the totals count them all)."""
    from csdesk.money import from_fen
    from csdesk.workflows.callbacks import list_callbacks
    from csdesk.workflows.complaints import list_complaints
    from csdesk.workflows.calls import call_info
    from csdesk.workflows.customers import tier_label
    from csdesk.workflows.payments import list_instalments

    session = desk.session
    customer = session.get(Customer, customer_id)
    code = customer.code
    brief = CallerBrief(code, customer.name, customer.tier, tier_label(customer.tier))

    complaints = list_complaints(desk, customer=code, limit=rows)
    brief.complaints, brief.complaints_total = complaints.rows, complaints.total

    horizon = desk.now + timedelta(days=CALLBACK_DAYS)
    soon = (Callback.customer_id == customer_id, Callback.status == "pending", Callback.due_at < horizon)
    brief.callbacks_total, brief.callbacks_overdue = session.exec(
        select(func.count(), func.coalesce(func.sum(case((Callback.due_at < desk.now, 1), else_=0)), 0))
        .select_from(Callback).where(*soon)).one()
    if brief.callbacks_total:
        pending = list_callbacks(desk, due="all", customer=code, limit=rows)
        brief.callbacks = [cb for cb in pending.rows if cb.due_at < horizon]

    on = desk.now.astimezone(desk.tz).date()
    late = (Project.customer_id == customer_id, Instalment.paid_fen < Instalment.amount_fen, Instalment.due_on < on)
    count, owed = session.exec(
        select(func.count(), func.coalesce(func.sum(Instalment.amount_fen - Instalment.paid_fen), 0))
        .select_from(Instalment).join(Project, Project.id == Instalment.project_id).where(*late)).one()
    if count:
        brief.instalments, brief.instalments_total = list_instalments(desk, overdue=True, customer=code, limit=rows)
        brief.money_overdue = from_fen(int(owed))  # int(): PostgreSQL sums a bigint as numeric

    live = [Call.customer_id == customer_id, Call.voided_at.is_(None)]
    if exclude_call is not None:
        live.append(Call.id != exclude_call)
    brief.calls_total = session.exec(select(func.count()).select_from(Call).where(*live)).one()
    if brief.calls_total:
        recent = session.exec(select(Call).where(*live).order_by(Call.at.desc(), Call.id.desc()).limit(rows)).all()
        brief.calls = [call_info(session, c, customer) for c in recent]
    return brief
