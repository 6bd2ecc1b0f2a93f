"""Aging: outstanding amounts by days overdue (0–30, 31–60, 61–90, 90+) as of a day, optionally by group."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, or_
from sqlmodel import func, select

from csdesk.errors import InvalidValue
from csdesk.i18n import _
from csdesk.models import Customer, Instalment, Payment, PaymentAllocation, Project, Staff
from csdesk.money import from_fen
from csdesk.workflows import Desk, check_limit
from csdesk.workflows.lookup import today


BY = ("customer", "project", "owner")


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
    none = _("(none)")  # the label of a group whose key has no row: said once, not once a group
    rows = [row(*labels.get(k, (k, none)), cells) for k, cells in shown]
    return AgingReport(as_of, by, rows, row("total", _("total"), totals), len(groups) if by else 0)


def _aging_labels(session, by: str | None, keys: list) -> dict[Any, tuple[str, str]]:
    keys = [k for k in keys if k is not None]
    if not by or not keys:
        return {}
    if by == "project":
        # Plain columns of the table (not the ORM's): a report's receivables sheet labels every project.
        pr = Project.__table__.c
        rows = session.execute(select(pr.id, pr.code, pr.name).where(pr.id.in_(keys))).all()
        return {i: (code, name) for i, code, name in rows}
    if by == "customer":
        rows = session.exec(select(Customer.id, Customer.code, Customer.name).where(Customer.id.in_(keys))).all()
        return {i: (code, name or _("(no name on record)")) for i, code, name in rows}
    rows = session.exec(select(Staff.id, Staff.name).where(Staff.id.in_(keys))).all()
    return {i: (name, name) for i, name in rows}
