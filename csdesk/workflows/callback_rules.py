"""Visits the rules make: the next visit of a series, the visit after a resolved complaint, after handover
and acceptance, the warranty series, and the periodic visits of key accounts, VIPs and owners.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_
from sqlmodel import select

from csdesk import dates
from csdesk.i18n import _
from csdesk.models import Callback, CallbackSeries, Customer, Project, Staff
from csdesk.workflows import Desk, audit, hooks, snapshot
from csdesk.workflows import visit_rules as vr
from csdesk.workflows.callback_records import (
    UTC, VisitMade, _RULE_PURPOSE, _active_staff_id, _chunks, _complaint_model, _infos, _names, _new_callback,
    _settings,
)


# --- series -------------------------------------------------------------------------------------


def _end_series(desk: Desk, series: CallbackSeries, reason: str) -> None:
    if not series.active:
        return
    before = snapshot(series)
    series.active = False
    series.ended_reason = reason[:300]
    desk.session.add(series)
    audit(desk, "callback_series.end", series, before=before)


def _rule_due(cal, series: CallbackSeries, when: datetime) -> datetime:
    """A series' visit falls on a working day (same time of day); a hand-made one with --exact stays where asked."""
    if series.rule == "manual" and series.exact:
        return when
    local = when.astimezone(cal.zone)
    day = vr.workday_on_or_after(cal, local.date())
    return datetime.combine(day, local.time()).replace(tzinfo=cal.zone).astimezone(UTC)


def _next_occurrence(series: CallbackSeries, last_seq: int, tz, not_before: date) -> tuple[int, datetime] | None:
    """The series' next visit after `last_seq`, skipping those whose day has already passed."""
    after = last_seq
    for _ in range(50):
        batch = vr.occurrences(series.rrule, series.start_at, tz, limit=20, after_seq=after, skip_first=series.skip_first)
        if not batch:
            return None
        for seq, when in batch:
            if when.astimezone(tz).date() >= not_before:
                return seq, when
        after = batch[-1][0]
    return None


def _roll_series(desk: Desk, series: CallbackSeries | None, rules=None, cal=None) -> list[str]:
    """Keep a series going: when it has no pending visit, make its next one (or end it when none is left)."""
    if series is None or not series.active:
        return []
    session = desk.session
    pending = session.exec(select(func.count()).select_from(Callback).where(
        Callback.series_id == series.id, Callback.status == "pending")).one()
    if pending:
        return []
    if series.rule != "manual" and rules is not None and not rules.on(series.rule):
        return []  # the rule is switched off: its series are not extended
    last = session.exec(select(func.max(Callback.seq)).where(Callback.series_id == series.id)).one() or 0
    today = desk.now.astimezone(desk.tz).date()
    nxt = _next_occurrence(series, last, desk.tz, today)
    if nxt is None:
        _end_series(desk, series, "all visits made")
        return []
    seq, when = nxt
    cb = _new_callback(
        desk, customer_id=series.customer_id, purpose=series.purpose, project_id=series.project_id,
        complaint_id=series.complaint_id, series_id=series.id, seq=seq,
        rule=None if series.rule == "manual" else series.rule,
        due_at=_rule_due(cal if cal is not None else vr.calendar(desk.settings), series, when),
        assignee_id=_active_staff_id(session, series.assignee_id), note=series.note,
    )
    audit(desk, "callback.schedule", cb)
    return [_("next visit of the series: #{id}, due {due}").format(id=cb.id, due=dates.fmt(cb.due_at, desk.tz))]


# --- rules fired by other areas -----------------------------------------------------------------


def _made(session, cb: Callback, rule: str) -> VisitMade:
    cust = session.get(Customer, cb.customer_id)
    project = session.get(Project, cb.project_id) if cb.project_id else None
    return VisitMade(cb.id, rule, cb.purpose, cust.code, cust.name, cb.due_at,
                     _names(session, [cb.assignee_id]).get(cb.assignee_id), project.code if project else None,
                     cb.complaint_id, cb.series_id, cb.seq)


def schedule_complaint_visit(desk: Desk, complaint_id: int) -> VisitMade | None:
    """The return visit of a resolved complaint: within `visit_rules.complaint.within`, for its owner.

    Nothing is made when the rule is off or the complaint already has a pending return visit."""
    rules, cal = _settings(desk)
    if not rules.on("complaint"):
        return None
    session = desk.session
    model = _complaint_model()
    complaint = session.get(model, complaint_id) if model is not None else None
    if complaint is None:
        return None
    existing = session.exec(select(Callback.id).where(
        Callback.complaint_id == complaint_id, Callback.purpose == "complaint-visit", Callback.status == "pending")).first()
    if existing:
        return None
    assignee = (_active_staff_id(session, getattr(complaint, "owner_id", None))
                or _active_staff_id(session, getattr(complaint, "assignee_id", None)))
    cb = _new_callback(
        desk, customer_id=complaint.customer_id, purpose="complaint-visit", complaint_id=complaint.id,
        project_id=getattr(complaint, "project_id", None), rule="complaint",
        due_at=vr.deadline(cal, getattr(complaint, "resolved_at", None) or desk.now, rules.within["complaint"]),
        assignee_id=assignee,
    )
    audit(desk, "callback.schedule", cb)
    return _made(session, cb, "complaint")


def _project_assignee(session, project: Project) -> int | None:
    customer = session.get(Customer, project.customer_id)
    return _active_staff_id(session, project.owner_id) or _active_staff_id(session, customer.manager_id if customer else None)


def _project_visit(desk: Desk, project: Project, rule: str, start: datetime) -> VisitMade | None:
    rules, cal = _settings(desk)
    if not rules.on(rule):
        return None
    session = desk.session
    key = f"{rule}:{project.id}"
    if session.exec(select(Callback.id).where(Callback.key == key)).first():
        return None
    cb = _new_callback(
        desk, customer_id=project.customer_id, purpose=_RULE_PURPOSE[rule], project_id=project.id, rule=rule, key=key,
        due_at=vr.deadline(cal, start, rules.within[rule]), assignee_id=_project_assignee(session, project),
    )
    audit(desk, "callback.schedule", cb)
    return _made(session, cb, rule)


def _warranty_plan(desk: Desk, project: Project, rules, cal):
    """(series fields, [(seq, due)]) of a project's warranty visits from today on, or None."""
    tz = desk.tz
    if project.handed_over_at is None:
        return None
    start_day = project.handed_over_at.astimezone(tz).date()
    end = project.warranty_end
    if end is None:
        from dateutil.relativedelta import relativedelta

        end = start_day + relativedelta(months=project.warranty_months)
    rule, visits = vr.warranty_rule(rules.every["warranty"], start_day, end, rules.at_least)
    if not visits:
        return None
    start = datetime.combine(start_day, rules.default_time).replace(tzinfo=tz).astimezone(UTC)
    today = desk.now.astimezone(tz).date()
    planned = [(seq, when) for seq, when in vr.occurrences(rule, start, tz, skip_first=True) if when.astimezone(tz).date() >= today]
    return dict(rule=rule, start=start), planned


def create_warranty_series(desk: Desk, project: Project, rules=None, cal=None) -> list[VisitMade]:
    """The warranty visits of a handed-over project: every `visit_rules.warranty.every` from the
    handover while within the warranty, at least `at_least` of them, all created at once."""
    if rules is None:
        rules, cal = _settings(desk)
    if not rules.on("warranty"):
        return []
    session = desk.session
    key = f"warranty:{project.id}"
    if session.exec(select(CallbackSeries.id).where(CallbackSeries.key == key)).first():
        return []
    plan = _warranty_plan(desk, project, rules, cal)
    if plan is None or not plan[1]:
        return []
    fields, planned = plan
    assignee = _project_assignee(session, project)
    series = CallbackSeries(
        key=key, customer_id=project.customer_id, project_id=project.id, rule="warranty", purpose="warranty-visit",
        rrule=fields["rule"], start_at=fields["start"], skip_first=True, assignee_id=assignee, active=True,
        created_at=desk.now, created_by_id=desk.actor.id if desk.actor else None,
    )
    session.add(series)
    audit(desk, "callback_series.create", series)
    made = []
    for seq, when in planned:
        made.append(_new_callback(
            desk, customer_id=project.customer_id, purpose="warranty-visit", project_id=project.id, rule="warranty",
            series_id=series.id, seq=seq, due_at=_rule_due(cal, series, when), assignee_id=assignee,
        ))
    session.flush()
    for cb in made:
        audit(desk, "callback.schedule", cb, flush=False)
    return [_made(session, cb, "warranty") for cb in made]


def cancel_for_complaint(desk: Desk, complaint_id: int, at: datetime, reason: str, purposes: tuple[str, ...] | None) -> list[int]:
    """Cancel a complaint's pending callbacks (of these purposes; None: all) and end its series."""
    query = select(Callback).where(Callback.complaint_id == complaint_id, Callback.status == "pending")
    if purposes is not None:
        query = query.where(Callback.purpose.in_(purposes))
    done = []
    for cb in desk.session.exec(query.order_by(Callback.id)).all():
        before = snapshot(cb)
        cb.status, cb.result_note, cb.closed_at = "cancelled", reason[:500], at
        cb.closed_by_id = desk.actor.id if desk.actor else None
        desk.session.add(cb)
        audit(desk, "callback.cancel", cb, before=before)
        done.append(cb.id)
    for series in desk.session.exec(select(CallbackSeries).where(
            CallbackSeries.complaint_id == complaint_id, CallbackSeries.active == True)).all():  # noqa: E712
        if purposes is None or series.purpose in purposes:
            _end_series(desk, series, reason)
    return done


def move_complaint_callbacks(desk: Desk, complaint_id: int, customer_id: int, project_id: int | None) -> list[int]:
    """The complaint moved to another customer or project: its pending callbacks (and their series) follow."""
    moved = []
    for cb in desk.session.exec(select(Callback).where(Callback.complaint_id == complaint_id, Callback.status == "pending")).all():
        if cb.customer_id == customer_id and cb.project_id == project_id:
            continue
        before = snapshot(cb)
        if cb.customer_id != customer_id:
            cb.phone = None  # the number was the old customer's; call the new one's main number
        cb.customer_id, cb.project_id = customer_id, project_id
        desk.session.add(cb)
        audit(desk, "callback.move", cb, before=before)
        moved.append(cb.id)
    for series in desk.session.exec(select(CallbackSeries).where(CallbackSeries.complaint_id == complaint_id)).all():
        if series.customer_id != customer_id or series.project_id != project_id:
            before = snapshot(series)
            series.customer_id, series.project_id = customer_id, project_id
            desk.session.add(series)
            audit(desk, "callback_series.move", series, before=before)
    return moved


@hooks.listen("project_handed_over")
def _on_project_handed_over(desk: Desk, project_id: int, **_: Any):
    project = desk.session.get(Project, project_id)
    if project is None:
        return []
    made = [m for m in [_project_visit(desk, project, "handover", project.handed_over_at or desk.now)] if m]
    return made + create_warranty_series(desk, project)


@hooks.listen("project_accepted")
def _on_project_accepted(desk: Desk, project_id: int, **_: Any):
    project = desk.session.get(Project, project_id)
    if project is None:
        return None
    return _project_visit(desk, project, "acceptance", project.accepted_at or desk.now)


def satisfied_visit(session, complaint_id: int, **_: Any) -> int | None:
    """The id of the reached-and-satisfied return visit that settles a complaint, or None.

    Only the latest finished complaint visit counts, and only while no newer one is pending (a
    complaint reopened and resolved again needs a new visit)."""
    latest = session.exec(
        select(Callback).where(Callback.complaint_id == complaint_id, Callback.purpose == "complaint-visit",
                               Callback.status == "done")
        .order_by(Callback.closed_at.desc(), Callback.id.desc())
    ).first()
    if latest is None or latest.outcome != "reached" or not latest.satisfied:
        return None
    newer = session.exec(select(Callback.id).where(
        Callback.complaint_id == complaint_id, Callback.purpose == "complaint-visit", Callback.status == "pending",
        Callback.id > latest.id)).first()
    return None if newer else latest.id


@hooks.listen("project_visits")
def project_visits(session, project_id: int, **_: Any) -> list[dict[str, Any]]:
    """A project's visits for `project show`: id, due, purpose, status, outcome, score (oldest first)."""
    rows = session.exec(select(Callback).where(Callback.project_id == project_id).order_by(Callback.due_at, Callback.id)).all()
    return [
        {"id": r.id, "due": r.due_at, "purpose": r.purpose, "status": r.status, "outcome": r.outcome, "score": r.score}
        for r in rows
    ]


# --- periodic visits ----------------------------------------------------------------------------


@dataclass
class _NewSeries:
    customer_id: int
    rule: str
    rrule: str
    start_at: datetime
    skip_first: bool
    assignee_id: int | None
    first: tuple[int, datetime]
    project_id: int | None = None
    key: str | None = None  # unique: two generating runs at once cannot both start the same series


def _wanted_rule(rules):
    """SQL: the periodic rule that applies to a customer now: key or vip by tier; else owner, for a
    customer with a handed-over project once its warranty visits are over (they cover the owner until then)."""
    from sqlalchemy.orm import aliased

    warranty = aliased(CallbackSeries)
    owner = and_(
        exists().where(Project.customer_id == Customer.id, Project.handed_over_at.is_not(None)).correlate(Customer),
        ~exists().where(warranty.customer_id == Customer.id, warranty.rule == "warranty",
                        warranty.active == True).correlate(Customer),  # noqa: E712
    )
    whens = []
    if rules.on("key"):
        whens.append((Customer.tier == "key", "key"))
    if rules.on("vip"):
        whens.append((Customer.tier == "vip", "vip"))
    if rules.on("owner"):
        whens.append((owner, "owner"))
    return case(*whens, else_=None) if whens else literal(None)


def generate_periodic_visits(desk: Desk, now: datetime | None = None, dry_run: bool = False) -> list[VisitMade]:
    """Everything the rules call for, in one transaction (see `periodic_visits_batch` for the batched form)."""
    return periodic_visits_batch(desk, now, dry_run)[0]


def periodic_visits_batch(
    desk: Desk, now: datetime | None = None, dry_run: bool = False, limit: int | None = None,
) -> tuple[list[VisitMade], bool]:
    """Make the visits the rules call for and that do not exist yet; running it twice makes nothing.

    - key accounts every `visit_rules.key.every`, VIPs every `vip.every`, other customers who own a
      handed-over project every `owner.every` (from their first handover): one open-ended series per
      customer, its next visit made when the previous one is over;
    - a customer whose tier changed (or whose rule was switched off) has that series ended and its
      pending visit cancelled, then gets the series of the rule that applies now;
    - handed-over projects still in warranty that have no warranty series get one;
    - an active series with no pending visit gets its next one.
    Set-based: when nothing is new it costs a few indexed queries, whatever the number of customers.

    With `limit`, at most that many series are ended, started or rolled on (each kind), so that a
    caller can commit in short transactions and call again while the second value (more to do) is
    True; every call is idempotent, so a process killed between calls loses nothing.
    """
    more = False

    def cut(rows: list) -> list:
        nonlocal more
        if limit is not None and len(rows) > limit:
            more = True
            return rows[:limit]
        return rows

    if now is not None and now != desk.now:
        desk = dataclasses.replace(desk, now=now)
    rules, cal = _settings(desk)
    session = desk.session
    tz = desk.tz
    today = desk.now.astimezone(tz).date()
    periodic = list(vr.PERIODIC_RULES)
    wanted = _wanted_rule(rules)
    made: list[VisitMade] = []

    # 1. Series whose rule no longer applies (tier changed, rule switched off): end them.
    stale = session.exec(
        select(CallbackSeries, wanted).join(Customer, Customer.id == CallbackSeries.customer_id)
        .where(CallbackSeries.active == True, CallbackSeries.rule.in_(periodic))  # noqa: E712
        .where(or_(wanted.is_(None), wanted != CallbackSeries.rule))
    ).all()
    stale_ids = {s.id for s, _ in stale}
    if not dry_run:
        stale = cut(stale)
        for series, now_rule in stale:
            if not rules.on(series.rule):
                why = f"rule {series.rule} switched off"
            elif now_rule is not None:
                why = f"rule {now_rule} applies now, not {series.rule}"
            else:
                why = f"rule {series.rule} no longer applies"
            for cb in session.exec(select(Callback).where(Callback.series_id == series.id, Callback.status == "pending")).all():
                before = snapshot(cb)
                cb.status, cb.result_note, cb.closed_at = "cancelled", why, desk.now
                session.add(cb)
                audit(desk, "callback.cancel", cb, before=before)
            _end_series(desk, series, why)

    # 2. Handed-over projects in warranty without a warranty series (first: the owner rule waits for them).
    warranty_projects = []
    if rules.on("warranty"):
        has_warranty = exists().where(CallbackSeries.project_id == Project.id, CallbackSeries.rule == "warranty")
        warranty_projects = session.exec(select(Project).where(
            Project.handed_over_at.is_not(None), Project.stage != "shelved",
            or_(Project.warranty_end.is_(None), Project.warranty_end >= today), ~has_warranty)
            .order_by(Project.id).limit(None if dry_run or limit is None else limit + 1)).all()

    if not dry_run:
        warranty_projects = cut(warranty_projects)
        for project in warranty_projects:
            made.extend(create_warranty_series(desk, project, rules, cal))
    in_warranty = {p.customer_id for p in warranty_projects}

    # 3. Live series without a pending visit (normally none: closing a visit makes the next one). Rolled
    # on before the periodic rules are asked (4): a warranty series that ends here hands its customer
    # to the owner rule in this same pass.
    no_pending = ~exists().where(Callback.series_id == CallbackSeries.id, Callback.status == "pending")
    idle = [s for s in session.exec(select(CallbackSeries).where(CallbackSeries.active == True, no_pending)  # noqa: E712
                                    .order_by(CallbackSeries.id)).all()
            if s.id not in stale_ids and (s.rule == "manual" or rules.on(s.rule))]
    if not dry_run:
        for series in cut(idle):
            before = session.exec(select(func.max(Callback.id))).one() or 0
            _roll_series(desk, series, rules, cal)
            made.extend(_made_many(session, list(session.exec(select(Callback).where(
                Callback.series_id == series.id, Callback.id > before)).all())))
        session.flush()
    if more:
        return made, True  # the owner rule waits for what is left of the warranty and stale series

    # 4. Customers a periodic rule applies to without a live series of it.
    has_series = exists().where(
        CallbackSeries.customer_id == Customer.id, CallbackSeries.active == True,  # noqa: E712
        CallbackSeries.rule.in_(periodic), CallbackSeries.id.not_in(stale_ids) if stale_ids else literal(True))
    first_handover = (select(func.min(Project.handed_over_at)).where(Project.customer_id == Customer.id)
                      .correlate(Customer).scalar_subquery())
    first_owner = (select(Project.owner_id).where(Project.customer_id == Customer.id, Project.handed_over_at.is_not(None))
                   .order_by(Project.handed_over_at, Project.id).limit(1).correlate(Customer).scalar_subquery())
    candidates = session.exec(
        select(Customer.id, wanted, Customer.manager_id, first_handover, first_owner).where(wanted.is_not(None), ~has_series)
        .order_by(Customer.id).limit(None if dry_run or limit is None else limit + 1)  # one more: is there more?
    ).all()
    if not dry_run:
        candidates = cut(candidates)
    active_staff = set(session.exec(select(Staff.id).where(Staff.active == True)).all()) if candidates else set()  # noqa: E712
    planned: list[_NewSeries] = []
    for customer_id, rule, manager_id, handed, project_owner in candidates:
        if rule == "owner" and customer_id in in_warranty:
            continue  # (dry run) its warranty series would come first
        every = rules.every[rule]
        base = vr.every_to_rrule(every)
        if rule == "owner":
            anchor_day = handed.replace(tzinfo=UTC).astimezone(tz).date() if handed.tzinfo is None else handed.astimezone(tz).date()
            skip = True
        else:
            anchor_day = vr.first_visit_day(customer_id, today, every)
            skip = False
        rrule = vr.month_end_safe(base, anchor_day)
        start = datetime.combine(anchor_day, rules.default_time).replace(tzinfo=tz).astimezone(UTC)
        probe = CallbackSeries(rrule=rrule, start_at=start, skip_first=skip, rule=rule)
        first = _next_occurrence(probe, 0, tz, today)
        if first is None:
            continue
        # The account manager calls; an owner without one is called by the owner of their project.
        assignee = next((s for s in (manager_id, project_owner if rule == "owner" else None) if s in active_staff), None)
        key = f"{rule}:C{customer_id}:{anchor_day:%Y%m%d}"
        planned.append(_NewSeries(customer_id, rule, rrule, start, skip, assignee, first, key=key))

    if dry_run:
        wanted_ids = [p.customer_id for p in planned] + [p.customer_id for p in warranty_projects]
        codes = {cid: (code, name) for cid, code, name in session.exec(
            select(Customer.id, Customer.code, Customer.name).where(Customer.id.in_(wanted_ids))).all()} if wanted_ids else {}
        for p in planned:
            made.append(VisitMade(None, p.rule, "periodic", *codes.get(p.customer_id, ("?", None)),
                                  _rule_due(cal, CallbackSeries(rule=p.rule), p.first[1]), None, seq=p.first[0]))
        for project in warranty_projects:
            plan = _warranty_plan(desk, project, rules, cal)
            if plan:
                for seq, when in plan[1]:
                    made.append(VisitMade(None, "warranty", "warranty-visit", *codes.get(project.customer_id, ("?", None)),
                                          _rule_due(cal, CallbackSeries(rule="warranty"), when), None, project.code, seq=seq))
        return made, False

    if planned:
        taken = set()
        for part in _chunks([p.key for p in planned]):
            taken.update(session.exec(select(CallbackSeries.key).where(CallbackSeries.key.in_(part))).all())
        series_rows = [CallbackSeries(
            key=None if p.key in taken else p.key, customer_id=p.customer_id, rule=p.rule, purpose="periodic",
            rrule=p.rrule, start_at=p.start_at, skip_first=p.skip_first, assignee_id=p.assignee_id, active=True, created_at=desk.now,
            created_by_id=desk.actor.id if desk.actor else None,
        ) for p in planned]
        session.add_all(series_rows)
        session.flush()
        new_rows = []
        for p, series in zip(planned, series_rows):
            seq, when = p.first
            cb = Callback(
                customer_id=p.customer_id, purpose="periodic", rule=p.rule, series_id=series.id, seq=seq,
                due_at=_rule_due(cal, series, when), assignee_id=p.assignee_id, status="pending", attempts=0,
                created_at=desk.now, created_by_id=desk.actor.id if desk.actor else None,
            )
            cb.first_due_at = cb.due_at
            new_rows.append(cb)
        session.add_all(new_rows)
        session.flush()
        for series, cb in zip(series_rows, new_rows):
            audit(desk, "callback_series.create", series, flush=False)
            audit(desk, "callback.schedule", cb, flush=False)
        made.extend(_made_many(session, new_rows))
    return made, more


def _made_many(session, rows: list[Callback]) -> list[VisitMade]:
    infos = _infos(session, rows, datetime.now(UTC))
    return [VisitMade(i.id, r.rule or "manual", r.purpose, i.customer_code, i.customer_name, r.due_at, i.assignee,
                      i.project_code, r.complaint_id, r.series_id, r.seq) for i, r in zip(infos, rows)]
