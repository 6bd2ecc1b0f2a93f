"""Reading complaints: the list by urgency, one complaint with its deadlines and timeline, the SLA explained
step by step, the SLA watch of the reminder run, and what other screens show (customer card, open work,
`project show`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import func, select

from csdesk import dates
from csdesk.errors import InvalidValue
from csdesk.i18n import N_, _
from csdesk.models import Complaint, ComplaintEvent, Customer
from csdesk.workflows import Desk, check_limit, hooks
from csdesk.workflows.complaint_records import (
    ComplaintList, ComplaintView, Deadline, EventInfo, ListRow, SlaAlert, SlaExplanation, SlaWatch, _events, _info,
    _load, _names,
)
from csdesk.workflows.complaint_rules import (
    ACTIVE, AUTO, Clock, DEADLINE_STATES, EVENT_LABELS, NOT_CLOSED, Rules, SEVERITIES, STATUSES, TOP_LEVEL,
    _calendar_text, calendar, calendar_gaps, check_category, check_severity, check_status, compute_sla, fmt_business,
    left_text, rules, severity_label, severity_word, status_label,
)
from csdesk.workflows.lookup import find_customer
from csdesk.workflows.lookup import find_staff


def sla_watch(desk: Desk, now: datetime | None = None, warn_ratio: float = 0.8) -> SlaWatch:
    """Running clocks past `warn_ratio` of their allowance (warnings) and past their deadline (breached).

    One indexed query bounds the candidates (next deadline within the largest allowance's remaining
    share), then each candidate's SLA is computed from its events.
    """
    now = now or desk.now
    if not 0 < warn_ratio <= 1:
        raise InvalidValue(_("warn_ratio must be more than 0 and at most 1"))
    session = desk.session
    r = rules(desk.settings)
    cal = calendar(desk.settings)
    bound = cal.add(now, r.max_allowance() * (1 - warn_ratio))
    rows = session.exec(
        select(Complaint, Customer.code).join(Customer, Customer.id == Complaint.customer_id)
        .where(Complaint.status.in_(ACTIVE), Complaint.next_due <= bound).order_by(Complaint.next_due, Complaint.id)
    ).all()
    watch = SlaWatch([], [])
    if not rows:
        return watch
    names = _names(session)
    by_complaint: dict[int, list[ComplaintEvent]] = {}
    ids = [c.id for c, _code in rows]
    for start in range(0, len(ids), 500):
        for e in session.exec(select(ComplaintEvent).where(ComplaintEvent.complaint_id.in_(ids[start:start + 500]))).all():
            by_complaint.setdefault(e.complaint_id, []).append(e)
    for c, code in rows:
        sla = compute_sla(by_complaint.get(c.id, []), c.severity, now, cal, r)
        for clock in (sla.first_response, sla.current):
            if not clock.running or clock.due is None:
                continue
            ratio = clock.used / clock.allowance
            if clock.due > now and ratio < warn_ratio:
                continue
            left = clock.left
            alert = SlaAlert(
                c.id, clock.name, c.level, clock.due, int(ratio * 100), int(left.total_seconds()), left_text(left),
                clock.due <= now, c.severity, c.status, code, c.assignee_id, names.get(c.assignee_id, "?"),
                c.owner_id, names.get(c.owner_id, "?"), c.summary,
            )
            (watch.breached if alert.breached else watch.warnings).append(alert)
    return watch


# ---- reading ------------------------------------------------------------------------------------------


def list_complaints(
    desk: Desk,
    status: str | None = None,
    overdue: bool = False,
    due_within: timedelta | None = None,
    level: int | None = None,
    assignee: str | None = None,
    severity: str | None = None,
    customer: str | None = None,
    category: str | None = None,
    limit: int = 50,
) -> ComplaintList:
    """Complaints by urgency: missed deadlines first (most overdue first), then the nearest deadline.

    Without `status`, the active ones (open, acknowledged, on hold). `overdue`: a running deadline has
    passed. `due_within`: the next deadline falls within that much *business* time from now (missed
    ones included). `assignee` may be "me" (the person acting).
    """
    session = desk.session
    r = rules(desk.settings)
    cal = calendar(desk.settings)
    now = desk.now
    check_limit(limit)
    conditions = [Complaint.status.in_(check_status(status) if status else ACTIVE)]
    if overdue:
        conditions.append(Complaint.next_due <= now)
    if due_within is not None:
        if due_within <= timedelta(0):
            raise InvalidValue(_("--due-within must be more than 0"))
        conditions.append(Complaint.next_due <= cal.add(now, due_within))
    if level is not None:
        if not 1 <= level <= TOP_LEVEL:
            raise InvalidValue(_("--level must be from 1 to {top}").format(top=TOP_LEVEL))
        conditions.append(Complaint.level == level)
    if assignee:
        if assignee.strip().lower() in ("me", "我"):
            person_id = desk.require_actor().id
        else:
            person_id = find_staff(session, assignee, active_only=False).id
        conditions.append(Complaint.assignee_id == person_id)
    if severity:
        conditions.append(Complaint.severity == check_severity(severity))
    if category:
        conditions.append(Complaint.category == check_category(r, category))
    if customer:
        conditions.append(Complaint.customer_id == find_customer(session, customer).id)
    total = session.exec(select(func.count()).select_from(Complaint).where(*conditions)).one()
    rows = session.exec(
        select(Complaint, Customer.code, Customer.name).join(Customer, Customer.id == Complaint.customer_id)
        .where(*conditions)
        .order_by(Complaint.next_due.is_(None), Complaint.next_due, Complaint.opened_at.desc(), Complaint.id.desc())
        .limit(limit)
    ).all()
    names = _names(session)
    out = []
    for c, code, name in rows:
        left = None
        if c.next_due is not None and c.status != "on_hold":
            left = cal.elapsed(now, c.next_due) if c.next_due > now else -cal.elapsed(c.next_due, now)
        text = left_text(left)
        if c.status == "on_hold":
            text = _("overdue (on hold)") if c.next_due is not None else _("paused (on hold)")
        out.append(ListRow(
            c.id, c.status, status_label(c.status), c.level, r.level_label(c.level), c.severity, severity_label(c.severity),
            c.category, r.category_label(c.category), code, name, names.get(c.assignee_id, "?"),
            names.get(c.owner_id, "?"), c.opened_at, c.next_due,
            None if c.next_due is None else ("first_response" if c.status == "open" and c.next_due == c.first_response_due else "resolution"),
            c.next_due is not None and c.next_due <= now,
            int(left.total_seconds()) if left is not None else None, text, c.summary,
        ))
    return ComplaintList(out, total)


def _deadline(clock: Clock, r: Rules, severity: str, now: datetime) -> Deadline:
    if clock.name == "first_response":
        label = _("first response ({severity})").format(severity=severity_label(severity))
    else:
        label = _("resolution at {level}").format(level=r.level_label(clock.level))
    if clock.running:
        if clock.due is None:
            state = "on hold"
        else:
            state = "breached" if clock.breached else "running"
    elif clock.ended_by == "escalated":
        state = "escalated, was late" if clock.breached else "escalated"
    else:
        state = "late" if clock.breached else "met"
    left = clock.left
    if clock.running:
        text = left_text(left) + (_(" (clock stopped)") if clock.due is None else "")
    elif clock.breached:
        text = _("{time} late").format(time=fmt_business(-left))
    else:
        text = _("{time} to spare").format(time=fmt_business(left))
    return Deadline(
        clock.name, label, clock.level, clock.start, fmt_business(clock.allowance), clock.due, state, _(DEADLINE_STATES.get(state, state)), clock.ended_at,
        clock.ended_by, fmt_business(clock.used), int(left.total_seconds()), text,
    )


_SYSTEM_NOTES = (N_("escalation"), N_("starts above the opener's level"))


def _event_text(e: ComplaintEvent, names: dict[int, str], r: Rules) -> str:
    def who(value):
        return names.get(int(value), f"#{value}") if value else "—"

    note = f": {e.note}" if e.note else ""
    if e.kind == "opened":
        return _("opened at {level}").format(level=r.level_label(int(e.to_value))) + note
    if e.kind in ("assigned", "owner"):
        if e.note in _SYSTEM_NOTES:  # written by csdesk itself (in English): shown in the interface language
            note = f": {_(e.note)}"
        return f"{who(e.from_value)} → {who(e.to_value)}{note}"
    if e.kind == "escalated":
        return f"{r.level_label(int(e.from_value))} → {r.level_label(int(e.to_value))}{note}"
    if e.kind == "reopened":
        return _("from {status}").format(status=status_label(e.from_value)) + note
    if e.kind == "severity":
        return _("{old} → {new}: deadlines follow the new severity from the opening").format(
            old=severity_word(e.from_value), new=severity_word(e.to_value)) + note
    if e.kind == "voided":
        return _("was {status}").format(status=status_label(e.from_value)) + note
    if e.kind == "closed" and e.visit_id:
        return e.note or _("satisfied return visit #{id}").format(id=e.visit_id)
    return e.note or ""


def complaint_view(desk: Desk, complaint_id: int) -> ComplaintView:
    """Everything about one complaint: details, every deadline with its state, the whole timeline."""
    session = desk.session
    r = rules(desk.settings)
    c = _load(desk, complaint_id)
    events = _events(session, c.id)
    sla = compute_sla(events, c.severity, desk.now, calendar(desk.settings), r)
    names = _names(session)
    deadlines = [_deadline(k, r, c.severity, desk.now) for k in (sla.first_response, *sla.resolution)]
    timeline = [
        EventInfo(e.id, e.at, e.recorded_at, names.get(e.actor_id, "?") if e.actor_id else _(AUTO), e.kind,
                  _(EVENT_LABELS.get(e.kind, e.kind)), _event_text(e, names, r), e.visit_id)
        for e in events
    ]
    hold = next((a for a, b in sla.holds if b is None), None)
    return ComplaintView(_info(session, c, r, names), deadlines, timeline, hold)


def explain_sla(desk: Desk, complaint_id: int) -> SlaExplanation:
    """The SLA arithmetic step by step, for each clock: every window counted, every day skipped and
    why, every hold, and how the deadline was reached — enough to settle an argument about a breach."""
    session = desk.session
    r = rules(desk.settings)
    cal = calendar(desk.settings)
    c = _load(desk, complaint_id)
    now = desk.now
    events = _events(session, c.id)
    sla = compute_sla(events, c.severity, now, cal, r)
    tz = desk.tz
    sections = []
    changes = [e for e in events if e.kind == "severity"]
    if changes:
        sections.append((_("Severity changes"), [
            f"{dates.fmt(e.at, tz)}: {severity_word(e.from_value)} → {severity_word(e.to_value)}"
            + (f" ({e.note})" if e.note else "") for e in changes
        ] + [_("The deadlines below are those of a {severity} complaint from the opening, as if it had been filed that way.").format(
            severity=severity_word(c.severity))]))
    for clock in (sla.first_response, *sla.resolution):
        d = _deadline(clock, r, c.severity, now)
        if clock.name == "first_response":
            origin = _("allowance {allowance} for a {severity} complaint ({key})").format(
                allowance=d.allowance, severity=severity_word(c.severity), key=f"sla.first_response.{c.severity}")
        elif clock.level == sla.initial_level:
            origin = _("allowance {allowance} for a {severity} complaint ({key})").format(
                allowance=d.allowance, severity=severity_word(c.severity), key=f"sla.resolution.{c.severity}")
        else:
            origin = _("allowance {allowance} on reaching level {level} ({key})").format(
                allowance=d.allowance, level=clock.level, key=f"escalation.resolution.{clock.level}")
        lines = [origin]
        end = clock.ended_at or now
        pauses = [(a, b if b is not None else (clock.ended_at or now)) for a, b in clock.pauses]
        steps = cal.explain(clock.start, clock.allowance, pauses)
        if clock.start != sla.first_response.start and steps[0].startswith("Opened "):
            steps[0] = "Clock starts " + steps[0][len("Opened "):]
        lines += steps
        if clock.frozen:
            lines.append(
                _("Deadline kept as computed when the clock ended: {due} (a later change of the calendar or of the holidays "
                  "package does not rewrite a finished clock)").format(due=dates.fmt(clock.due, tz))
            )
        if clock.running and clock.due is None:
            lines.append(
                _("On hold since {when}: the clock is stopped; the deadline above is where it would fall if resumed now").format(
                    when=dates.fmt(next(a for a, b in clock.pauses if b is None), tz))
            )
        if clock.running:
            if clock.due is None:
                lines.append(_("→ {used} used so far; {left}").format(used=d.business_used, left=d.business_left))
            elif clock.breached:
                lines.append(_("→ BREACHED: deadline {due} passed; {used} used of {allowance}, overdue {over} (business time)").format(
                    due=dates.fmt(clock.due, tz), used=d.business_used, allowance=d.allowance, over=fmt_business(-clock.left)))
            else:
                lines.append(_("→ running: {used} used of {allowance}; {left} (business time)").format(
                    used=d.business_used, allowance=d.allowance, left=d.business_left))
        else:
            how = {"acknowledged": _("acknowledged"), "resolved": _("resolved"), "escalated": _("ended by escalation")}[clock.ended_by]
            verdict = (_("LATE by {time}").format(time=fmt_business(-clock.left)) if clock.breached
                       else _("in time, {time} to spare").format(time=fmt_business(clock.left)))
            lines.append(_("→ {how} {when}: {used} used of {allowance} — {verdict}").format(
                how=how, when=dates.fmt(end, tz), used=d.business_used, allowance=d.allowance, verdict=verdict))
        sections.append((_("{clock}, from {when}").format(clock=d.label, when=dates.fmt(clock.start, tz)), lines))
    last = max([k.due for k in (sla.first_response, *sla.resolution) if k.due is not None] + [now, c.opened_at])
    years = range(c.opened_at.astimezone(tz).year, last.astimezone(tz).year + 1)
    return SlaExplanation(_info(session, c, r), _calendar_text(desk.settings), sections, calendar_gaps(desk.settings, years))


# ---- what other areas show -------------------------------------------------------------------------------


def customer_complaints(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
    """On `customer show` and after `log-call`: the customer's active complaints, then the latest others."""
    r = rules(desk.settings)
    active = session.exec(
        select(Complaint).where(Complaint.customer_id == customer_id, Complaint.status.in_(ACTIVE))
        .order_by(Complaint.next_due.is_(None), Complaint.next_due, Complaint.id).limit(20)
    ).all()
    others = session.exec(
        select(Complaint).where(Complaint.customer_id == customer_id, Complaint.status.not_in(ACTIVE + ("void",)))
        .order_by(Complaint.opened_at.desc(), Complaint.id.desc()).limit(5)
    ).all()
    if not active and not others:
        return []
    names = _names(session)
    tz = desk.tz
    return [
        {
            "#": c.id, "opened": dates.fmt(c.opened_at, tz), "status": status_label(c.status),
            "level": r.level_label(c.level), "severity": severity_label(c.severity),
            "category": r.category_label(c.category), "assignee": names.get(c.assignee_id, "?"),
            "due": (_("overdue") + " " if c.next_due <= desk.now else "") + dates.fmt(c.next_due, tz) if c.next_due else "",
            "summary": c.summary if len(c.summary) <= 40 else c.summary[:39] + "…",
        }
        for c in [*active, *others]
    ]


def assigned_open_complaints(session, staff_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Complaint).where(Complaint.assignee_id == staff_id, Complaint.status.in_(NOT_CLOSED))
    ).one()


def owned_open_complaints(session, staff_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Complaint).where(Complaint.owner_id == staff_id, Complaint.status.in_(NOT_CLOSED))
    ).one()


@hooks.listen("project_complaints")
def project_complaints(session, project_id: int, **_: Any) -> list[dict[str, Any]]:
    """For `project show`: every complaint about the project, newest first."""
    rows = session.exec(
        select(Complaint).where(Complaint.project_id == project_id, Complaint.status != "void").order_by(Complaint.opened_at.desc(), Complaint.id.desc()).limit(50)
    ).all()
    names = _names(session) if rows else {}
    return [
        {"#": c.id, "opened": c.opened_at, "status": f"{STATUSES[c.status]} {c.status}", "level": c.level,
         "severity": SEVERITIES[c.severity], "assignee": names.get(c.assignee_id, "?"), "summary": c.summary}
        for c in rows
    ]
