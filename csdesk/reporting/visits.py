"""Return visits and callbacks: due, on time, late, missed, overdue at period end, reach and satisfaction."""

from __future__ import annotations

from csdesk.i18n import N_, _
from decimal import ROUND_HALF_UP, Decimal

from csdesk.reporting.core import (
    DETAILS, ON_TIME_FIGURES, SCORE_PLACES, SHEET_BLOCKS, AreaData, Detail, Report, Window, _batches, _phone_shown,
    _staff_names, customer_cards, local_time, main_phone_map, rate,
)

SHEET_BLOCKS["visits"] = [("visits.done_by_agent", None), ("visits.score_by_agent", None)]
ON_TIME_FIGURES.extend(["visits.reach_rate", "visits.satisfied_rate"])


def _visits_missing() -> str | None:
    try:
        from csdesk.workflows import callbacks

        callbacks.satisfaction_stats, callbacks.STATUSES  # noqa: B018
    except (ImportError, AttributeError) as exc:
        return f"the callbacks and return visits area (issue 4) is not installed yet ({exc})"
    return None


def overdue_visits_query(w: Window, *columns):
    """Callbacks pending at the window's end and past their due time by then."""
    from sqlalchemy import and_, func, or_, select

    from csdesk.models import Callback
    from csdesk.workflows.callbacks import STATUSES

    cb = Callback.__table__.c
    # Each side of the OR names its statuses, so that each runs on its own index: pending ones on (status,
    # due_at), the ones finished since on (status, closed_at) — their due time is checked row by row
    # (coalesce() keeps the planner off the due_at index, which would walk every finished callback).
    finished = [s for s in STATUSES if s != "pending"]
    return select(*columns).where(cb.created_at < w.as_of,
                                  or_(and_(cb.status == "pending", cb.due_at < w.as_of),
                                      and_(cb.status.in_(finished), cb.closed_at >= w.as_of,
                                           func.coalesce(cb.due_at, cb.due_at) < w.as_of)))


def compute_visits(desk, w: Window, _done) -> AreaData:
    from sqlalchemy import and_, case, func, select

    from csdesk.models import Callback
    from csdesk.workflows.callbacks import satisfaction_stats

    session = desk.session
    cb = Callback.__table__.c
    data = AreaData()

    def count_if(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    done = cb.status == "done"
    due, on_time, late, missed = session.execute(
        select(func.count(), count_if(and_(done, cb.closed_at <= cb.due_at)), count_if(and_(done, cb.closed_at > cb.due_at)),
               count_if(cb.status == "missed"))
        .where(cb.first_due_at >= w.start, cb.first_due_at < w.end, cb.status != "cancelled")
    ).one()
    stats = satisfaction_stats(desk, "agent", w.start, w.end)
    t = stats.total
    finished = t.visits + t.missed + t.wrong_number
    data.values.update({
        "visits.due": int(due), "visits.on_time": int(on_time), "visits.late": int(late), "visits.missed": int(missed),
        "visits.overdue_at_end": session.execute(overdue_visits_query(w, func.count())).scalar_one(),
        "visits.reach_rate": rate(t.visits, finished),
        # From the counts, not the callbacks area's rounded percentages (96.0%, 4.6): to the report's own places.
        "visits.satisfied_rate": rate(t.satisfied, t.satisfied + t.unsatisfied),
        "visits.avg_score": _average_score(t),
    })
    data.items["visits.done_by_agent"] = {r.key: r.visits for r in stats.rows if r.visits}
    data.items["visits.score_by_agent"] = {r.key: _average_score(r) for r in stats.rows if r.visits}
    for r in stats.rows:
        data.labels[r.key] = (r.key, r.key)
    return data


def _average_score(row) -> Decimal | None:
    """A satisfaction row's mean score to the report's places (the row's own average is rounded to 0.1)."""
    if not row.scored:
        return None
    return (Decimal(row.score_sum) / row.scored).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


compute_visits.missing = _visits_missing


def visit_details(desk, report: Report, w: Window) -> Detail:
    """Every callback first due in the period, with its outcome."""
    from sqlalchemy import select

    from csdesk.models import Callback
    from csdesk.workflows.callbacks import OUTCOMES, PURPOSES, STATUSES

    session, tz = desk.session, desk.tz
    zh = report.lang == "zh"
    cb = Callback.__table__.c
    names = _staff_names(session)
    columns = [(N_("No."), "int"), (N_("Customer code"), "text"), (N_("Customer"), "text"), (N_("Phone"), "text"),
               (N_("Purpose"), "text"), (N_("First due"), "datetime"), (N_("Due now"), "datetime"),
               (N_("Assigned to"), "text"), (N_("Status"), "text"), (N_("Tries"), "int"),
               (N_("Outcome"), "text"), (N_("Finished"), "datetime"), (N_("On time"), "text"),
               (N_("Satisfied"), "text"), (N_("Score"), "int"), (N_("Visit notes"), "text")]
    yes_no = {True: N_("yes"), False: N_("no")}

    def rows():
        # Only the columns shown, each word translated once. The customer's code, name and main number are looked
        # up a batch of rows at a time, each customer once (customer_cards, main_phones): joining every row to its
        # customer and reading its number in a subquery cost 0.7 s on a year of callbacks.
        # Times come as local wall-clock time (local_time); whether it was on time is compared in UTC, in the query.
        query = (select(cb.id, cb.customer_id, cb.phone, cb.purpose, local_time(cb.first_due_at, tz), local_time(cb.due_at, tz),
                        cb.assignee_id, cb.status, cb.attempts, cb.outcome, local_time(cb.closed_at, tz),
                        (cb.closed_at <= cb.due_at).label("in_time"), cb.satisfied, cb.score, cb.result_note)
                 .where(cb.first_due_at >= w.start, cb.first_due_at < w.end, cb.status != "cancelled")
                 .order_by(cb.first_due_at, cb.id))
        masked = report.masked
        said = {True: _(yes_no[True]), False: _(yes_no[False]), None: ""}
        purposes = PURPOSES if zh else {}
        statuses = STATUSES if zh else {}
        outcomes = OUTCOMES if zh else {}
        agent = names.get
        for batch in _batches(session, query, 4000):
            cards = customer_cards(session, [r[1] for r in batch])
            numbers = main_phone_map(session, [r[1] for r in batch if not r[2]])
            for (cid, customer_id, phone, purpose, first_due, due, assignee, status, attempts, outcome, closed, in_time,
                 satisfied, score, note) in batch:
                card = cards[customer_id]
                if card is None:  # as the join to the customer left it out
                    continue
                yield (cid, card[0], card[1] or "", _phone_shown(phone or numbers[customer_id], masked),
                       purposes.get(purpose, purpose), first_due, due, agent(assignee, ""), statuses.get(status, status), attempts,
                       outcomes.get(outcome, outcome) if outcome else "", closed, said[bool(in_time)] if status == "done" else "",
                       said[satisfied], score, note or "")

    return Detail("visits", columns, rows, N_("No visits due in this period"))


DETAILS["visits"] = visit_details
