"""Complaints: opened/resolved/closed, open at period end, escalations, SLA on-time rates and hours; detail rows."""

from __future__ import annotations

import json
from collections import namedtuple

from csdesk.i18n import N_, _
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterator

from csdesk.reporting.core import (
    AREA_CHARTS, DETAILS, HOURS_PLACES, ON_TIME_FIGURES, SHEET_BLOCKS, AreaData, Detail, Report, Window, _phone_shown,
    _staff_names, _streamed, local_time, local_wall_clock, rate,
)

COMPLAINT_LOOKBACK = timedelta(days=31)  # an earlier clock's deadline is looked for this far before the period


def _complaints_missing() -> str | None:
    try:
        from csdesk.workflows import complaints

        complaints.compute_sla, complaints.rules, complaints.calendar  # noqa: B018
    except (ImportError, AttributeError) as exc:
        return f"the complaints area (issue 3) is not installed yet ({exc})"
    return None


@dataclass(slots=True)
class ComplaintSla:
    """One complaint's SLA verdicts as they bear on a window."""

    id: int
    opened_at: datetime
    owner_id: int
    sla: Any  # the Sla computed from its events; None when read from the cached columns
    fr_counted: bool  # its first-response deadline fell in the window
    fr_on_time: bool
    clocks: list[bool]  # per resolution deadline in the window: met
    resolved_in: datetime | None  # its last resolution in the window
    hours: Decimal | None  # business hours to that resolution
    verdict: tuple  # (first-response due, its result, current resolution due, its result): see _clock_key


def _complaint_candidates(w: Window):
    """Ids of the complaints a window's figures or detail rows can involve (a superset, checked one by one)."""
    from sqlalchemy import and_, select, union

    from csdesk.models import Complaint, ComplaintEvent

    c, e = Complaint.__table__.c, ComplaintEvent.__table__.c
    # A deadline in the window is the cached one (the last clock's), or an earlier clock's — of a complaint
    # escalated or reopened since shortly before the window; resolutions in the window give the hours.
    return union(
        select(c.id).where(c.opened_at >= w.start, c.opened_at < w.as_of),
        select(c.id).where(c.first_response_due >= w.start, c.first_response_due < w.as_of),
        select(c.id).where(c.resolution_due >= w.start, c.resolution_due < w.as_of),
        select(e.complaint_id).where(and_(e.kind.in_(("escalated", "reopened")), e.at >= w.start - COMPLAINT_LOOKBACK, e.at < w.as_of)),
        select(e.complaint_id).where(and_(e.kind == "resolved", e.at >= w.start, e.at < w.as_of)),
    ).subquery()


def _candidate_rows(w: Window, columns):
    """`columns` of the window's candidate complaints, in opening order."""
    from sqlalchemy import select

    from csdesk.models import Complaint

    c = Complaint.__table__.c
    cand = _complaint_candidates(w)
    return (select(*columns)
            .where(c.id.in_(select(cand.c[0])), c.status != "void").order_by(c.opened_at, c.id))


def _clock_key(clock) -> str:
    """A deadline's result: met, missed, running (not yet due), paused (on hold: not known), or none."""
    if clock.due is None:
        return "paused" if clock.running else ""
    if clock.breached:
        return "missed"
    return "running" if clock.running else "met"


def _verdicts(session) -> dict:
    """Per window, each complaint's SLA results for the detail rows, kept while the report is made."""
    return session.info.setdefault("csdesk.reports.complaint_verdicts", {})


# The report reads the SLA columns Complaint caches where they are current, instead of recomputing the
# clocks from the events (`compute_sla`, a walk over the business calendar per clock). They are current for a
# complaint whose clocks have all ended — first response given, resolved — on a simple timeline (opened,
# assigned, acknowledged, resolved once, closed: no hold, escalation or reopening, so exactly the two clocks
# the columns describe), refreshed after its last event (updated_at not before it). A finished clock keeps the
# deadline computed when it ended (`compute_sla`'s kept verdicts, which the ending event carries and which the
# cache was refreshed with at that moment), so neither a later calendar change nor the passing of time moves
# it. Everything else — a clock still running (its verdict moves with now and today's calendar), holds,
# escalations, reopenings, a cache older than an event — is recomputed in full. tests/test_report_fastpath.py
# compares the two on generated stories, tests/test_sla_fast.py on the demo's escalated, reopened and held ones.
# Why not more from the cache: the columns hold the first-response and the last resolution deadline only, while
# an escalated or reopened complaint's earlier clocks count too (a missed level deadline), and a hold moves the
# business time used. Those complaints are recomputed, cheaply: their events are read in one query per 500,
# a finished clock with a kept verdict asks the calendar nothing, and the rest is a few table lookups.
USE_CACHE = True
_SIMPLE_KINDS = frozenset(("opened", "assigned", "acknowledged", "resolved", "closed"))


def _timeline_summary():
    """Aggregates over a complaint's events (notes left out), for a query grouped by complaint: whether its timeline
    is simple, and the times the cached path needs. A complaint without such events has other = 1, openings = 0:
    recomputed."""
    from sqlalchemy import case, func

    from csdesk.models import ComplaintEvent

    e = ComplaintEvent.__table__.c

    def when(kind, value, agg):
        return agg(case((e.kind == kind, value)))

    return (func.sum(case((e.kind.in_(_SIMPLE_KINDS), 0), else_=1)).label("other"),
            func.sum(case((e.kind == "opened", 1), else_=0)).label("openings"),
            func.sum(case((e.kind == "resolved", 1), else_=0)).label("resolutions"),
            func.max(e.at).label("last"),
            when("opened", e.at, func.min).label("opened"),
            when("acknowledged", e.at, func.min).label("ack"),
            when("resolved", e.at, func.max).label("resolved"),
            when("acknowledged", e.verdict, func.max).label("ack_verdict"),
            when("resolved", e.verdict, func.max).label("resolved_verdict"))


def _cached_clocks(row):
    """The two clocks of a finished, simple complaint from its cached columns and timeline summary (`row`, in the
    order iter_complaint_slas selects them): (first-response due, its end, resolution due, the resolution, the business
    time used if kept, the opening), or None to recompute it from its events."""
    (_id, severity, _owner_id, _opened_at, fr_due, res_due, updated, other, openings, resolutions, last, opened, ack,
     resolved, ack_verdict, resolved_verdict) = row  # a row's values by position: a tenth of the cost of by name
    if openings is None or fr_due is None or res_due is None or updated is None:
        return None
    if other or openings != 1 or resolutions != 1 or last > updated or resolved < opened:
        return None
    if ack is not None and ack == resolved:
        return None  # which came first is the events' order: recomputed
    used = None
    if resolved_verdict or ack_verdict:
        try:
            kept = {**json.loads(ack_verdict or "{}"), **json.loads(resolved_verdict or "{}")}
            fr_kept, r0_kept = kept.get("fr"), kept.get("r0")
            if fr_kept is not None:
                if fr_kept[2] != severity:  # kept for another severity: recomputed, as compute_sla does
                    return None
                fr_due = datetime.fromisoformat(fr_kept[0])
            if r0_kept is not None:
                if r0_kept[2] != severity:
                    return None
                res_due, used = datetime.fromisoformat(r0_kept[0]), timedelta(seconds=int(r0_kept[1]))
        except (ValueError, TypeError, IndexError, AttributeError):
            return None
    fr_end = ack if ack is not None and ack < resolved else resolved
    return fr_due, fr_end, res_due, resolved, used, opened


_HOURS: dict[int, Decimal] = {}  # tenths of an hour -> the Decimal of every whole number of seconds rounding to it


def _hours(used: timedelta) -> Decimal:
    """Business hours with one place, half up (the same Decimal for every number of seconds that rounds alike)."""
    seconds = int(used.total_seconds())
    if seconds < 0:
        return (Decimal(seconds) / 3600).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)
    tenths = (seconds * 10 + 1800) // 3600
    value = _HOURS.get(tenths)
    if value is None:
        value = _HOURS[tenths] = (Decimal(seconds) / 3600).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)
    return value


_Event = namedtuple("_Event", "complaint_id id at kind to_value verdict")  # compute_sla reads them by name


def iter_complaint_slas(desk, w: Window) -> Iterator[ComplaintSla]:
    """Each candidate complaint (in opening order) with its SLA: read from the cached columns where they are
    current, else computed by the complaints area from its events."""
    from sqlalchemy import and_, select

    from csdesk.businesstime import micro
    from csdesk.models import Complaint, ComplaintEvent
    from csdesk.workflows.complaints import calendar, compute_sla, rules

    session = desk.session
    r, cal = rules(desk.settings), calendar(desk.settings)
    e = ComplaintEvent.__table__.c
    c = Complaint.__table__.c
    use_cache = USE_CACHE
    query = _candidate_rows(w, (c.id, c.severity, c.owner_id, c.opened_at))
    if use_cache:
        # The cached columns and each complaint's timeline summary, in the same row (see _cached_clocks): the
        # complaints joined to their events and grouped, so that the candidates are found once (a summary grouped
        # apart and joined to them needed them twice: 0.2 s more on a year).
        query = (query.add_columns(c.first_response_due, c.resolution_due, c.updated_at, *_timeline_summary())
                 .outerjoin_from(Complaint.__table__, ComplaintEvent.__table__, and_(e.complaint_id == c.id, e.kind != "note"))
                 .group_by(c.id))
    start, as_of, now = w.start, w.as_of, desk.now
    elapsed, make_event = cal.elapsed_micro, _Event._make

    def batch(rows):
        """The SLAs of a batch of rows, in their order; the events of those not taken from the cache in one query."""
        cached = [_cached_clocks(row) for row in rows] if use_cache else [None] * len(rows)
        events: dict[int, list] = {}
        rest = [row[0] for row, clocks in zip(rows, cached) if clocks is None]
        if rest:
            for ev in session.execute(select(e.complaint_id, e.id, e.at, e.kind, e.to_value, e.verdict)
                                      .where(e.complaint_id.in_(rest), e.kind != "note")).all():
                events.setdefault(ev[0], []).append(make_event(ev))
        for row, clocks in zip(rows, cached):
            cid, severity, owner_id, opened_at = row[0], row[1], row[2], row[3]
            if clocks is not None:
                # Finished and simple: the first-response clock and one resolution clock, both ended.
                fr_due, fr_end, res_due, resolved, used, opened = clocks
                fr_met, res_met = not fr_end > fr_due, not resolved > res_due
                fr_counted = start <= fr_due < as_of
                resolved_in = resolved if start <= resolved < as_of else None
                hours = None
                if resolved_in is not None:
                    if used is None:
                        used = timedelta(microseconds=elapsed(micro(opened), micro(resolved)))
                    hours = _hours(used)
                yield ComplaintSla(cid, opened_at, owner_id, None, fr_counted, fr_counted and fr_met,
                                   [res_met] if start <= res_due < as_of else [], resolved_in, hours,
                                   (fr_due, "met" if fr_met else "missed", res_due, "met" if res_met else "missed"))
                continue
            mine = events.get(cid, [])
            sla = compute_sla(mine, severity, now, cal, r)
            resolves = [ev.at for ev in mine if ev.kind == "resolved" and start <= ev.at < as_of]
            fr = sla.first_response
            fr_counted = fr.due is not None and start <= fr.due < as_of
            clocks = [not k.breached for k in sla.resolution
                      if k.due is not None and start <= k.due < as_of and not (k.ended_by == "escalated" and not k.breached)]
            resolved_in = max(resolves) if resolves else None
            hours = None
            if resolved_in is not None:
                hours = _hours(sum((k.used for k in sla.resolution if k.ended_at is not None and k.ended_at <= resolved_in), timedelta(0)))
            current = sla.current
            yield ComplaintSla(cid, opened_at, owner_id, sla, fr_counted, fr_counted and not fr.breached, clocks, resolved_in,
                               hours, (fr.due, _clock_key(fr), current.due, _clock_key(current)))

    rows: list = []
    for row in _streamed(session, query):
        rows.append(row)
        if len(rows) == 500:
            yield from batch(rows)
            rows = []
    if rows:
        yield from batch(rows)


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    value = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return value.quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)


def _mean(values: list[Decimal], places: Decimal = HOURS_PLACES) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(places, rounding=ROUND_HALF_UP)


def open_complaints_at(session, at: datetime) -> int:
    """Complaints open, acknowledged or on hold at the instant `at`, from their status-changing events."""
    from sqlalchemy import func, select

    return session.execute(select(func.count()).select_from(_open_at_query(at).subquery())).scalar_one()


def _open_at_query(at: datetime):
    from sqlalchemy import func, select, union_all

    from csdesk.models import Complaint, ComplaintEvent
    from csdesk.workflows.complaints import ACTIVE

    c, e = Complaint.__table__.c, ComplaintEvent.__table__.c
    last_kind = (
        select(e.kind).where(e.complaint_id == c.id, e.kind.in_(("opened", "resolved", "closed", "reopened")), e.at < at)
        .order_by(e.at.desc(), e.id.desc()).limit(1).scalar_subquery()
    )
    # Open at `at` means: active now, or resolved since (a later resolution); checked exactly by its last event before `at`.
    # The two are read apart, each through its own index (status; resolved_at), so that the time it takes grows with the
    # complaints open then, not with every complaint ever opened; in opening order, as one scan by opened_at gave them.
    columns = (c.id, c.severity, c.customer_id, c.owner_id, c.assignee_id, c.summary, c.opened_at)
    still_open = last_kind.in_(("opened", "reopened"))
    # coalesce(x, x): the same value, but no index on opened_at for it — else SQLite walks that one (nearly every
    # complaint) instead of the status index (the few active).
    active = select(*columns).where(c.status.in_(ACTIVE), func.coalesce(c.opened_at, c.opened_at) < at, still_open)
    resolved_since = select(*columns).where(c.resolved_at >= at, c.status.not_in((*ACTIVE, "void")), c.opened_at < at, still_open)
    u = union_all(active, resolved_since).subquery()
    return (select(u.c.id, u.c.severity, u.c.customer_id, u.c.owner_id, u.c.assignee_id, u.c.summary)
            .order_by(u.c.opened_at, u.c.id))


def compute_complaints(desk, w: Window, _done) -> AreaData:
    from sqlalchemy import and_, func, select

    from csdesk.models import Complaint, ComplaintEvent
    from csdesk.workflows.complaints import SEVERITIES, rules

    session = desk.session
    r = rules(desk.settings)
    c, e = Complaint.__table__.c, ComplaintEvent.__table__.c
    data = AreaData()
    by_category = {k: 0 for k in r.categories}
    by_severity = {k: 0 for k in SEVERITIES}
    opened = 0
    owned: dict[int, int] = {}
    for category, severity, owner_id, count in session.execute(
        select(c.category, c.severity, c.owner_id, func.count()).where(c.opened_at >= w.start, c.opened_at < w.end, c.status != "void")
        .group_by(c.category, c.severity, c.owner_id)
    ):
        opened += count
        by_category[category] = by_category.get(category, 0) + count
        by_severity[severity] = by_severity.get(severity, 0) + count
        owned[owner_id] = owned.get(owner_id, 0) + count
    in_period = and_(e.at >= w.start, e.at < w.end, e.complaint_id.not_in(select(c.id).where(c.status == "void")))
    counts = dict(session.execute(
        select(e.kind, func.count(func.distinct(e.complaint_id))).where(in_period, e.kind.in_(("resolved", "closed", "reopened")))
        .group_by(e.kind)
    ).all())
    levels = {str(n): 0 for n in range(2, len(r.level_names) + 1)}
    for level, count in session.execute(select(e.to_value, func.count()).where(in_period, e.kind == "escalated").group_by(e.to_value)):
        levels[str(level)] = levels.get(str(level), 0) + count
    data.values.update({
        "complaints.opened": opened,
        "complaints.resolved": counts.get("resolved", 0),
        "complaints.closed": counts.get("closed", 0),
        "complaints.reopened": counts.get("reopened", 0),
        "complaints.open_at_end": open_complaints_at(session, w.as_of),
        "complaints.escalations": sum(levels.values()),
    })
    fr_total = fr_met = res_total = res_met = 0
    hours: list[Decimal] = []
    agent_clocks: dict[int, list[int]] = {}
    agent_resolved: dict[int, int] = {}
    verdicts = _verdicts(session)[(w.start, w.as_of)] = {}
    start, end = w.start, w.end  # once: properties, read for every complaint otherwise
    for item in iter_complaint_slas(desk, w):
        if start <= item.opened_at < end or item.fr_counted or item.clocks or item.resolved_in is not None:
            verdicts[item.id] = (*item.verdict, item.hours)
        if item.fr_counted:
            fr_total += 1
            fr_met += item.fr_on_time
        for met in item.clocks:
            res_total += 1
            res_met += met
            mine = agent_clocks.setdefault(item.owner_id, [0, 0])
            mine[0] += 1
            mine[1] += met
        if item.resolved_in is not None and item.resolved_in < end:
            hours.append(item.hours)
            agent_resolved[item.owner_id] = agent_resolved.get(item.owner_id, 0) + 1
    data.values["complaints.first_response_on_time"] = rate(fr_met, fr_total)
    data.values["complaints.resolution_on_time"] = rate(res_met, res_total)
    data.values["complaints.resolution_hours_avg"] = _mean(hours)
    data.values["complaints.resolution_hours_median"] = _median(hours)
    data.items["complaints.by_category"] = by_category
    data.items["complaints.by_severity"] = by_severity
    data.items["complaints.escalations_by_level"] = {k: levels[k] for k in sorted(levels, key=int)}
    for key, label in r.categories.items():
        data.labels[key] = (label, key)
    for key, label in SEVERITIES.items():
        data.labels[key] = (label, key)
    for n in range(1, len(r.level_names) + 1):
        data.labels[str(n)] = (r.level_label(n), f"L{n}")
    names = _staff_names(session)
    data.items["complaints.owned_by_agent"] = {names.get(k, "—"): v for k, v in owned.items()}
    data.items["complaints.resolved_by_agent"] = {names.get(k, "—"): v for k, v in agent_resolved.items()}
    data.items["complaints.on_time_by_agent"] = {names.get(k, "—"): rate(met, total) for k, (total, met) in agent_clocks.items()}
    for name in names.values():
        data.labels[name] = (name, name)
    return data


compute_complaints.missing = _complaints_missing


def complaint_details(desk, report: Report, w: Window) -> Detail:
    """Every complaint of the period: opened, resolved or with a deadline in it, with its times and SLA result."""
    from sqlalchemy import select

    from csdesk.models import Complaint, Customer, CustomerPhone
    from csdesk.workflows.complaints import SEVERITIES, STATUSES, rules

    session, tz = desk.session, desk.tz
    r = rules(desk.settings)
    names = _staff_names(session)
    zh = report.lang == "zh"
    c = Complaint.__table__.c
    cust, cp = Customer.__table__.c, CustomerPhone.__table__.c
    columns = [
        (N_("No."), "int"), (N_("Opened"), "datetime"), (N_("Customer code"), "text"), (N_("Customer"), "text"),
        (N_("Phone"), "text"), (N_("Category"), "text"), (N_("Severity"), "text"), (N_("Level"), "int"),
        (N_("Status now"), "text"), (N_("Owner"), "text"), (N_("Assignee"), "text"),
        (N_("First response"), "datetime"), (N_("Response due"), "datetime"), (N_("Response SLA"), "text"),
        (N_("Resolved"), "datetime"), (N_("Resolution due"), "datetime"), (N_("Resolution SLA"), "text"),
        (N_("Business hours to resolve"), "hours"), (N_("Deadlines missed"), "int"),
        (N_("Closed at"), "datetime"), (N_("Summary"), "text"),
    ]
    words = {"met": N_("on time"), "missed": N_("past the deadline"), "running": N_("not yet due"),
             "paused": N_("on hold"), "": ""}

    def rows():
        window = Window(w.period, w.as_of)
        verdicts = _verdicts(session).get((window.start, window.as_of))
        if verdicts is None:  # the figures were not computed in this session: compute the SLAs here
            compute_complaints(desk, window, {})
            verdicts = _verdicts(session)[(window.start, window.as_of)]
        said = {key: _(word) or None for key, word in words.items()}
        masked = report.masked
        # Codes shown as they are in English, as their Chinese labels in Chinese.
        categories, severities, statuses = (r.categories, SEVERITIES, STATUSES) if zh else ({}, {}, {})
        local = local_wall_clock(tz)  # for the deadlines, aware UTC times from the figures' pass
        # The customer's code and name, and its main number (position 0, else the lowest; as main_phones), in the row;
        # the stored times read straight as local wall-clock time.
        phone = (select(cp.number).where(cp.customer_id == c.customer_id).order_by(cp.position, cp.id).limit(1)
                 .scalar_subquery())
        query = (_candidate_rows(window, (c.id, local_time(c.opened_at, tz), cust.code, cust.name, phone, c.category,
                                          c.severity, c.level, c.status, c.owner_id, c.assignee_id, local_time(c.acked_at, tz),
                                          local_time(c.resolved_at, tz), c.breach_count, local_time(c.closed_at, tz), c.summary))
                 .outerjoin_from(Complaint.__table__, Customer.__table__, cust.id == c.customer_id))
        for (cid, opened, code, name, number, category, severity, level, status, owner_id, assignee_id, acked, resolved,
             breaches, closed, summary) in _streamed(session, query):
            verdict = verdicts.get(cid)
            if verdict is None:
                continue
            fr_due, fr_key, cur_due, cur_key, hours = verdict
            yield (
                cid, opened, code if code is not None else "", name or "", _phone_shown(number, masked),
                categories.get(category, category), severities.get(severity, severity), level, statuses.get(status, status),
                names.get(owner_id, ""), names.get(assignee_id, ""),
                acked, local(fr_due), said[fr_key], resolved, local(cur_due), said[cur_key],
                hours, breaches, closed, summary,
            )

    return Detail("complaints", columns, rows, N_("No complaints in this period"))


DETAILS["complaints"] = complaint_details
ON_TIME_FIGURES.extend(["complaints.first_response_on_time", "complaints.resolution_on_time"])
SHEET_BLOCKS["complaints"] = [("complaints.by_category", None), ("complaints.by_severity", None), ("complaints.escalations_by_level", None)]
AREA_CHARTS["complaints"] = [("complaints.by_category", "bar", N_("Complaints per category"), [1, 2], False)]
