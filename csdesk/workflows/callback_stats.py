"""What the reminder run and the reports read about callbacks: those due and those missed, who hears of a
missed one, satisfaction per agent, customer or purpose, and the customer card's visits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func
from sqlmodel import select

from csdesk import dates
from csdesk.errors import InvalidValue
from csdesk.i18n import _
from csdesk.models import Callback, Customer
from csdesk.workflows import Desk
from csdesk.workflows.callback_records import (
    BY, DueCallback, MissedCallback, SatisfactionRow, SatisfactionStats, _chunks, _infos, _names, outcome_label,
    purpose_label, status_label,
)


# --- for the reminder run and the reports -------------------------------------------------------


def due_callbacks(desk: Desk, now: datetime, lead: timedelta) -> list[DueCallback]:
    """Pending callbacks due by `now + lead` (the overdue ones included), oldest first."""
    rows = desk.session.exec(select(Callback).where(
        Callback.status == "pending", Callback.due_at <= now + lead).order_by(Callback.due_at, Callback.id)).all()
    return [DueCallback(i.id, i.due_at, i.due_at < now, i.customer_code, i.customer_name, i.phone, i.purpose, i.attempts,
                        r.assignee_id, i.assignee) for r, i in zip(rows, _infos(desk.session, list(rows), now))]


def missed_callbacks(desk: Desk, since: datetime | None = None) -> list[MissedCallback]:
    """Callbacks marked missed (tries used up, or a wrong number) since `since`, with the supervisor to tell."""
    query = select(Callback).where(Callback.status == "missed")
    if since is not None:
        query = query.where(Callback.closed_at >= since)
    rows = list(desk.session.exec(query.order_by(Callback.closed_at, Callback.id)).all())
    infos = _infos(desk.session, rows, desk.now)
    assignees = {r.assignee_id for r in rows if r.assignee_id}
    bosses = {a: _boss_of(desk, a) for a in assignees}
    names = _names(desk.session, bosses.values())
    return [
        MissedCallback(r.id, r.closed_at, r.outcome, r.attempts, i.customer_code, i.customer_name, i.phone, r.purpose,
                       r.assignee_id, i.assignee, bosses.get(r.assignee_id), names.get(bosses.get(r.assignee_id)))
        for r, i in zip(rows, infos)
    ]


def _boss_of(desk: Desk, staff_id: int | None) -> int | None:
    """Who hears of a missed callback: the first active person up the assignee's reports_to chain,
    else the supervisor level's default assignee (escalation.default_assignee.2)."""
    from csdesk.workflows.lookup import notice_boss

    return notice_boss(desk.session, desk.settings, staff_id, 2)


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def satisfaction_stats(desk: Desk, by: str = "agent", since: datetime | None = None, until: datetime | None = None) -> SatisfactionStats:
    """Satisfaction of the visits finished in [since, until): per agent (who made the call), customer or purpose."""
    by = (by or "agent").strip().lower()
    if by not in BY:
        raise InvalidValue(_("unknown --by {value!r} (use one of: {choices})").format(value=by, choices=", ".join(BY)))
    if since and until and until <= since:
        raise InvalidValue(_("--until must be after --since"))
    session = desk.session
    group = {"agent": func.coalesce(Callback.closed_by_id, Callback.assignee_id), "customer": Callback.customer_id,
             "purpose": Callback.purpose}[by]
    done = Callback.status == "done"

    def count_if(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    cols = [
        count_if(done), count_if(and_(done, Callback.satisfied == True)),  # noqa: E712
        count_if(and_(done, Callback.satisfied == False)), count_if(and_(done, Callback.score.is_not(None))),  # noqa: E712
        func.coalesce(func.sum(case((done, Callback.score), else_=None)), 0),
        count_if(and_(Callback.status == "missed", Callback.outcome == "no_answer")),
        count_if(Callback.outcome == "wrong_number"), func.coalesce(func.sum(Callback.attempts), 0),
    ]
    query = select(group, *cols).where(Callback.status.in_(("done", "missed")))
    if since:
        query = query.where(Callback.closed_at >= since)
    if until:
        query = query.where(Callback.closed_at < until)
    raw = session.exec(query.group_by(group)).all()
    labels: dict[Any, tuple[str, str | None]] = {}
    if by == "agent":
        labels = {k: (v, None) for k, v in _names(session, [r[0] for r in raw]).items()}
    elif by == "customer":
        for part in _chunks([r[0] for r in raw]):
            labels.update({cid: (code, name) for cid, code, name in session.exec(
                select(Customer.id, Customer.code, Customer.name).where(Customer.id.in_(part))).all()})
    else:
        labels = {r[0]: (r[0], purpose_label(r[0])) for r in raw}

    def row(key, label, visits, sat, unsat, scored, score_sum, missed, wrong, attempts) -> SatisfactionRow:
        avg = (Decimal(score_sum) / Decimal(scored)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if scored else None
        return SatisfactionRow(key, label, int(visits), int(sat), int(unsat), _rate(sat, sat + unsat), int(scored), avg,
                               int(missed), int(wrong), int(attempts), int(score_sum))

    rows = []
    for r in raw:
        key, label = labels.get(r[0], ("(nobody)" if r[0] is None else str(r[0]), None))
        rows.append(row(key, label, *[int(x or 0) for x in r[1:]]))
    rows.sort(key=lambda x: (-x.visits, x.key))
    sums = [sum(int(r[i] or 0) for r in raw) for i in range(1, 9)]
    return SatisfactionStats(by, since, until, rows, row("total", None, *sums))


# --- what other screens show --------------------------------------------------------------------


def customer_callbacks(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
    """Pending visits (all, up to 10) then the 5 latest finished ones, with their outcomes."""
    pending = list(session.exec(select(Callback).where(Callback.customer_id == customer_id, Callback.status == "pending")
                                .order_by(Callback.due_at, Callback.id).limit(10)).all())
    recent = list(session.exec(select(Callback).where(Callback.customer_id == customer_id, Callback.status != "pending")
                               .order_by(Callback.closed_at.desc(), Callback.id.desc()).limit(5)).all())
    rows = []
    for i in _infos(session, pending + recent, desk.now):
        if i.status == "pending":
            state = _("overdue") if i.overdue else status_label("pending")
            when = dates.fmt(i.due_at, desk.tz)
        else:
            state = status_label(i.status)
            when = dates.fmt(i.closed_at, desk.tz)
        outcome = outcome_label(i.outcome) if i.outcome else ""
        if i.satisfied is not None:
            outcome += " " + (_("satisfied") if i.satisfied else _("unsatisfied"))
        rows.append({
            "id": i.id, "when": when, "purpose": i.purpose_label, "status": state, "about": i.subject or "",
            "assignee": i.assignee or "", "tries": i.attempts, "outcome": outcome.strip(),
            "score": i.score if i.score is not None else "", "note": i.result_note or i.note or "",
        })
    return rows


def pending_callbacks_of(session, staff_id: int) -> int:
    return session.exec(select(func.count()).select_from(Callback).where(
        Callback.assignee_id == staff_id, Callback.status == "pending")).one()
