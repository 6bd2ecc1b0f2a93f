"""Complaints (投诉): owned by whoever took them (首问负责制), timed in business hours, escalated level by
level, resolved, and closed once a return visit finds the customer satisfied.

How time is kept
- Every change appends a ComplaintEvent. The SLA — each deadline, whether it was missed, how much
  business time is left — is recomputed from those events by `compute_sla` (pure: no database),
  never by patching a stored deadline. Changing the calendar or the allowances and recomputing gives
  the new answer. The due/breach columns of Complaint are a cache of that result, refreshed after
  every change, so that lists and the reminder run can use indexes.
- Clocks. The first-response clock runs from opening until the complaint is acknowledged (resolving
  counts as a first response too). A resolution clock runs from opening with the severity's
  allowance; each escalation ends the running clock and starts a new one with the new level's
  allowance; resolving ends it; reopening starts a new one at the current level (so time spent
  resolved never counts, and a reopened complaint is not instantly in breach).
- Holds (on_hold → resume) pause every clock: business time inside a hold never counts. While a hold
  is open the deadline is unknown (None), unless it had already passed before the hold began.
- Automatic escalation (`auto_escalate`) acts on each missed resolution deadline once: the event it
  writes carries a unique key (complaint, level, deadline), and the pass re-reads the events under the
  row lock, so a repeated or concurrent pass finds nothing left to do.

States: open (待响应) → acknowledged (处理中) → resolved (已解决) → closed (已关闭); open/acknowledged
⇄ on_hold (挂起); resolved/closed → reopened, back to acknowledged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from csdesk import dates
from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import N_, _, is_english
from csdesk.models import Call, Complaint, ComplaintEvent, Customer, Project, Staff
from csdesk.workflows import ROLE_RANK, ROLES, Desk, audit, check_limit, hooks, snapshot
from csdesk.workflows.customers import find_customer, register_section
from csdesk.workflows.staff import find_staff, first_boss, register_open_work

SEVERITIES = {"normal": "一般", "serious": "较重", "major": "重大"}
STATUSES = {"open": "待响应", "acknowledged": "处理中", "on_hold": "挂起", "resolved": "已解决", "closed": "已关闭", "void": "作废"}
LISTED = ("open", "acknowledged", "on_hold", "resolved", "closed")  # `--status all`: every status but void
ACTIVE = ("open", "acknowledged", "on_hold")  # the complaint still needs work; its clocks may run
NOT_CLOSED = ACTIVE + ("resolved",)
TOP_LEVEL = len(ROLES)
# What is shown (N_ here, _() when shown); SEVERITIES and STATUSES above are the Chinese words also accepted as input.
SEVERITY_LABELS = {"normal": N_("normal"), "serious": N_("serious"), "major": N_("major")}
STATUS_LABELS = {"open": N_("open"), "acknowledged": N_("acknowledged"), "on_hold": N_("on hold"),
                 "resolved": N_("resolved"), "closed": N_("closed"), "void": N_("void")}
EVENT_LABELS = {
    "opened": N_("opened"), "acknowledged": N_("first response"), "note": N_("note"), "assigned": N_("assigned"),
    "owner": N_("owner changed"), "held": N_("put on hold"), "resumed": N_("resumed"), "escalated": N_("escalated"),
    "resolved": N_("resolved"), "closed": N_("closed"), "reopened": N_("reopened"),
    "severity": N_("severity changed"), "edited": N_("edited"), "voided": N_("voided"),
}
DEADLINE_STATES = {"running": N_("running"), "on hold": N_("on hold"), "breached": N_("breached"), "met": N_("met"),
                   "late": N_("late"), "escalated": N_("escalated"), "escalated, was late": N_("escalated, was late")}
CLOCK_LABELS = {"first_response": N_("first response"), "resolution": N_("resolution")}
_ROLE_LABELS = (N_("specialist"), N_("supervisor"), N_("manager"), N_("director"))
_DEFAULT_LEVEL_NAMES = ("客服专员", "客服主管", "客服经理", "分管副总")
# Entries that change no clock: they may be entered after later-dated entries (the order check skips them).
_CLOCKLESS = ("note", "edited", "severity")
AUTO = N_("automatic")
_FUTURE_SLACK = timedelta(minutes=5)
_PAST_LIMIT = timedelta(days=366)  # how far back a complaint may be entered after the fact
_SUMMARY_LIMIT = 4000


# ---- rules from the settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """The complaint settings, parsed and checked once per use."""

    first_response: dict[str, timedelta]
    resolution: dict[str, timedelta]
    level_resolution: dict[int, timedelta]
    level_names: dict[int, str]
    categories: dict[str, str]
    default_assignee: dict[int, str]
    major_level: int
    key_account_level: int

    def level_label(self, level: int) -> str:
        name = self.level_names.get(level, ROLES[level - 1])
        if is_english() and name == _DEFAULT_LEVEL_NAMES[level - 1]:
            name = _ROLE_LABELS[level - 1]  # the default (Chinese) name of the level: its role in English
        return f"L{level} {name}"

    def category_label(self, key: str) -> str:
        """A category as configured (`quality=产品质量`): its label, or its key in English."""
        return key if is_english() else self.categories.get(key, key)

    def max_allowance(self) -> timedelta:
        return max([*self.first_response.values(), *self.resolution.values(), *self.level_resolution.values()])


def _allowance(key: str, text: Any) -> timedelta:
    if not isinstance(text, str):
        raise InvalidValue(f"config: {key} must be a duration like \"4h\" or \"1h30m\"")
    try:
        value = dates.parse_duration(text)
    except InvalidValue as exc:
        raise InvalidValue(f"config: {key}: {exc.message}") from None
    if value <= timedelta(0):
        raise InvalidValue(f"config: {key} must be more than 0")
    return value


def _level_setting(key: str, value: Any) -> int:
    if not isinstance(value, int) or not 1 <= value <= TOP_LEVEL:
        raise InvalidValue(f"config: {key} must be a level from 1 to {TOP_LEVEL}")
    return value


def rules(settings) -> Rules:
    sla, esc = settings["sla"], settings["escalation"]
    categories: dict[str, str] = {}
    for item in settings["complaint_categories"]:
        key, _, label = str(item).partition("=")
        key = key.strip().lower()
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,19}", key):
            raise InvalidValue(f"config: complaint_categories: {item!r} is not \"key=标签\" (key: a-z, 0-9, _ -, up to 20)")
        categories[key] = label.strip() or key
    if not categories:
        raise InvalidValue("config: complaint_categories is empty")
    return Rules(
        first_response={s: _allowance(f"sla.first_response.{s}", sla["first_response"][s]) for s in SEVERITIES},
        resolution={s: _allowance(f"sla.resolution.{s}", sla["resolution"][s]) for s in SEVERITIES},
        level_resolution={n: _allowance(f"escalation.resolution.{n}", esc["resolution"][str(n)]) for n in range(2, TOP_LEVEL + 1)},
        level_names={n: str(settings["levels"][str(n)]).strip() or ROLES[n - 1] for n in range(1, TOP_LEVEL + 1)},
        categories=categories,
        default_assignee={n: str(esc["default_assignee"][str(n)]).strip() for n in range(2, TOP_LEVEL + 1)},
        major_level=_level_setting("escalation.major_level", esc["major_level"]),
        key_account_level=_level_setting("escalation.key_account_level", esc["key_account_level"]),
    )


_CALENDARS: dict[tuple, Any] = {}


def calendar(settings):
    """The business calendar of these settings (cached: it caches its days itself)."""
    from csdesk.businesstime import BusinessCalendar

    business = settings["business"]
    key = (settings["timezone"], repr(sorted((k, repr(v)) for k, v in business.items())))
    cal = _CALENDARS.get(key)
    if cal is None:
        try:
            cal = BusinessCalendar(settings["timezone"], business)
        except ValueError as exc:
            raise InvalidValue(f"config: {exc}") from None
        _CALENDARS[key] = cal
    return cal


def fmt_business(td: timedelta) -> str:
    """Business time as hours and minutes (never days: a business day is not 24 hours): 26h30m."""
    seconds = int(td.total_seconds())
    sign = "-" if seconds < 0 else ""
    h, m = divmod(abs(seconds) // 60, 60)
    return f"{sign}{h}h{m:02d}m"


def left_text(left: timedelta | None) -> str:
    if left is None:
        return ""
    if left >= timedelta(0):
        return _("{time} left").format(time=fmt_business(left))
    return _("overdue {time}").format(time=fmt_business(-left))


def role_word(role: str | int) -> str:
    """A role (code, or the level that needs it) in the interface language: 客服主管 / supervisor."""
    rank = role if isinstance(role, int) else ROLE_RANK.get(role, 0)
    return _(_ROLE_LABELS[rank - 1]) if 1 <= rank <= len(_ROLE_LABELS) else str(role)


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def severity_label(severity: str) -> str:
    return _(SEVERITY_LABELS.get(severity, severity))


def check_severity(value: str | None) -> str:
    v = (value or "").strip().lower()
    for key, label in SEVERITIES.items():
        if v in (key, label, _(SEVERITY_LABELS[key])):
            return key
    raise InvalidValue(_("unknown severity {value!r} (use one of: {choices})").format(value=value, choices=", ".join(SEVERITIES)))


def check_category(r: Rules, value: str | None) -> str:
    v = (value or "").strip().lower()
    for key, label in r.categories.items():
        if v in (key, label.lower()):
            return key
    raise InvalidValue(_("unknown category {value!r} (use one of: {choices})").format(value=value, choices=", ".join(r.categories)),
                       hint=_("categories are set in the config: complaint_categories"))


def check_status(value: str) -> tuple[str, ...]:
    """One status, `active` (open, acknowledged, on hold) or `all`; Chinese labels work too."""
    v = value.strip().lower().replace("-", "_")
    if v in ("all", "全部"):
        return LISTED
    if v in ("active", "未结"):
        return ACTIVE
    if v in ("hold", "held"):
        v = "on_hold"
    for key, label in STATUSES.items():
        if v in (key, label, _(STATUS_LABELS[key])):
            return (key,)
    raise InvalidValue(_("unknown status {value!r} (use one of: {choices}, active, all)").format(value=value, choices=", ".join(STATUSES)),
                       hint=_("'all' means every status but void; --status void lists the voided ones"))


# ---- the SLA, computed from the events ------------------------------------------------------------


@dataclass
class Clock:
    """One SLA clock: from `start`, `allowance` of business time outside holds."""

    name: str  # first_response | resolution
    level: int | None
    start: datetime
    allowance: timedelta
    ended_at: datetime | None = None
    ended_by: str | None = None  # acknowledged | resolved | escalated
    due: datetime | None = None  # None: on hold with time still left, so not known yet
    breached: bool = False
    used: timedelta = timedelta(0)  # business time counted up to its end (or now)
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)  # holds touching it
    key: str = ""  # fr, r0, r1 …: which clock of the complaint (a finished clock's verdict is kept under it)
    by_severity: bool = False  # its allowance comes from the severity (a severity change recomputes it)
    frozen: bool = False  # its deadline and verdict were fixed when it ended (kept whatever the calendar says now)

    @property
    def running(self) -> bool:
        return self.ended_at is None

    @property
    def left(self) -> timedelta:
        return self.allowance - self.used


@dataclass
class Sla:
    first_response: Clock
    resolution: list[Clock]  # in order; the last one is the current one
    holds: list[tuple[datetime, datetime | None]]
    initial_level: int
    level: int

    @property
    def current(self) -> Clock:
        return self.resolution[-1]


def compute_sla(events: Iterable[Any], severity: str, now: datetime, cal, r: Rules, frozen: bool = True) -> Sla:
    """The SLA of one complaint from its events (anything with at, id, kind, from_value, to_value and,
    optionally, verdict).

    A clock that has ended keeps the deadline and verdict computed when it ended (the event that ended
    it, or a later severity change, carries them in `verdict`), so that a new holidays release or a
    changed calendar never rewrites history; running clocks follow the calendar of today. A kept verdict
    of a severity-timed clock applies only while the severity is the one it was computed for.
    With `frozen=False` every clock is recomputed with today's calendar."""
    ordered = sorted(events, key=lambda e: (e.at, e.id or 0))
    holds: list[list] = []
    fr: Clock | None = None
    res: list[Clock] = []
    kept: dict[str, list] = {}
    initial = level = 1
    for e in ordered:
        kind = e.kind
        verdict = getattr(e, "verdict", None)
        if verdict and frozen:
            try:
                kept.update(json.loads(verdict))
            except (ValueError, TypeError):
                pass  # a damaged verdict: the clock is simply recomputed
        if kind == "opened":
            initial = level = int(e.to_value)
            fr = Clock("first_response", None, e.at, r.first_response[severity], key="fr", by_severity=True)
            res = [Clock("resolution", level, e.at, r.resolution[severity], key="r0", by_severity=True)]
        elif fr is None:
            continue  # nothing counts before the opening
        elif kind == "acknowledged" and fr.running:
            fr.ended_at, fr.ended_by = e.at, "acknowledged"
        elif kind == "held":
            holds.append([e.at, None])
        elif kind == "resumed":
            if holds and holds[-1][1] is None:
                holds[-1][1] = e.at
        elif kind == "escalated":
            level = int(e.to_value)
            current = res[-1]
            if current.running and current.start == e.at:
                res.pop()  # started and ended at the same instant (reopened by a visit, then escalated)
            elif current.running:
                current.ended_at, current.ended_by = e.at, "escalated"
            res.append(Clock("resolution", level, e.at, r.level_resolution[level], key=f"r{len(res)}"))
        elif kind == "resolved":
            if fr.running:
                fr.ended_at, fr.ended_by = e.at, "resolved"
            if res[-1].running:
                res[-1].ended_at, res[-1].ended_by = e.at, "resolved"
            if holds and holds[-1][1] is None:
                holds[-1][1] = e.at
        elif kind == "reopened":
            allowance = r.resolution[severity] if level == initial else r.level_resolution[level]
            res.append(Clock("resolution", level, e.at, allowance, key=f"r{len(res)}", by_severity=level == initial))
    if fr is None:
        raise InvalidValue("this complaint has no opening event")
    spans = [(a, b) for a, b in holds]
    for clock in (fr, *res):
        _finish(clock, spans, now, cal)
        kept_one = kept.get(clock.key)
        if clock.ended_at is not None and kept_one and (not clock.by_severity or kept_one[2] == severity):
            try:
                due, used = datetime.fromisoformat(kept_one[0]), timedelta(seconds=int(kept_one[1]))
            except (ValueError, TypeError, IndexError):
                continue
            clock.due, clock.used, clock.frozen = due, used, True
            clock.breached = clock.ended_at > due
    return Sla(fr, res, spans, initial, level)


def verdicts_to_keep(sla: Sla, severity: str) -> str | None:
    """JSON of the finished clocks that keep no verdict yet (for the event that has just ended them)."""
    out = {
        k.key: [k.due.astimezone(dates.UTC).isoformat(), int(k.used.total_seconds()), severity if k.by_severity else None]
        for k in (sla.first_response, *sla.resolution)
        if k.ended_at is not None and not k.frozen and k.due is not None
    }
    return json.dumps(out, sort_keys=True) if out else None


def _finish(clock: Clock, holds: list[tuple[datetime, datetime | None]], now: datetime, cal) -> None:
    horizon = clock.ended_at
    closed: list[tuple[datetime, datetime]] = []
    open_from = None
    if horizon is not None:
        # A finished clock is only moved by the holds it lived through, and only up to its end: a hold
        # that begins after it ended (first response given, level ended by an escalation) never moves it.
        holds = [(a, horizon if b is None else min(b, horizon)) for a, b in holds if a < horizon]
    for a, b in holds:
        end = b if b is not None else horizon
        if end is None:
            open_from = a
        elif end > a:
            closed.append((a, end))
    end_of_count = horizon or now
    clock.pauses = [(a, b) for a, b in holds if (b is None or b > clock.start) and a < end_of_count]
    due = cal.add(clock.start, clock.allowance, closed)
    if open_from is not None and due > open_from:
        due = None  # the clock stopped before its deadline; the deadline moves on when resumed
    clock.due = due
    counted = closed + ([(open_from, max(open_from, end_of_count))] if open_from is not None else [])
    clock.used = cal.elapsed(clock.start, end_of_count, counted)
    if clock.ended_at is not None:
        clock.breached = due is not None and clock.ended_at > due
    else:
        clock.breached = due is not None and due <= now


def _refresh(c: Complaint, sla: Sla) -> None:
    """Write the computed SLA into the cached columns."""
    fr, current = sla.first_response, sla.current
    c.first_response_due = fr.due
    c.resolution_due = current.due
    running = [k.due for k in (fr, current) if k.running and k.due is not None]
    c.next_due = min(running) if running and c.status in ACTIVE else None
    c.escalate_at = current.due if (c.status in ACTIVE and current.running and current.due is not None and c.level < TOP_LEVEL) else None
    c.response_breached = fr.breached
    c.resolution_breached = current.breached
    c.breach_count = sum(1 for k in sla.resolution if k.breached)


# ---- results ----------------------------------------------------------------------------------------


@dataclass
class ComplaintInfo:
    id: int
    status: str
    status_label: str
    level: int
    level_name: str
    severity: str
    severity_label: str
    category: str
    category_label: str
    summary: str
    customer_code: str
    customer_name: str | None
    owner: str
    assignee: str
    project: str | None
    call_id: int | None
    opened_at: datetime
    acked_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    next_due: datetime | None
    response_breached: bool
    resolution_breached: bool
    breach_count: int


@dataclass
class ListRow:
    id: int
    status: str
    status_label: str
    level: int
    level_name: str
    severity: str
    severity_label: str
    category: str
    category_label: str
    customer_code: str
    customer_name: str | None
    assignee: str
    owner: str
    opened_at: datetime
    next_due: datetime | None
    next_clock: str | None  # which deadline next_due is: first_response | resolution
    overdue: bool
    business_left_s: int | None  # business seconds to the next deadline; negative: overdue by
    business_left: str
    summary: str


@dataclass
class ComplaintList:
    rows: list[ListRow]
    total: int


@dataclass
class Deadline:
    clock: str  # first_response | resolution
    label: str
    level: int | None
    started_at: datetime
    allowance: str
    due: datetime | None
    state: str  # running | on hold | breached | met | late | escalated | escalated, was late
    state_label: str
    ended_at: datetime | None
    ended_by: str | None
    business_used: str
    business_left_s: int | None
    business_left: str


@dataclass
class EventInfo:
    id: int
    at: datetime
    recorded_at: datetime
    actor: str
    kind: str
    label: str
    text: str
    visit_id: int | None


@dataclass
class ComplaintView:
    complaint: ComplaintInfo
    deadlines: list[Deadline]
    events: list[EventInfo]
    on_hold_since: datetime | None


@dataclass
class SlaExplanation:
    complaint: ComplaintInfo
    calendar: str
    sections: list[tuple[str, list[str]]]
    warnings: list[str] = field(default_factory=list)  # e.g. a year in use without its make-up workdays


@dataclass
class EscalationResult:
    complaint_id: int
    from_level: int
    to_level: int
    from_assignee: str
    to_assignee: str
    at: datetime
    missed_due: datetime | None  # the resolution deadline that was missed (automatic escalations)
    note: str | None = None


@dataclass
class SlaAlert:
    complaint_id: int
    clock: str  # first_response | resolution
    level: int
    due: datetime
    used_percent: int
    business_left_s: int
    business_left: str
    breached: bool
    severity: str
    status: str
    customer_code: str
    assignee_id: int
    assignee: str
    owner_id: int
    owner: str
    summary: str


@dataclass
class SlaWatch:
    warnings: list[SlaAlert]  # past warn_ratio of an allowance, not yet breached
    breached: list[SlaAlert]


# ---- helpers ------------------------------------------------------------------------------------------


def _names(session) -> dict[int, str]:
    return {s.id: s.name for s in session.exec(select(Staff)).all()}


def _load(desk: Desk, complaint_id: int, lock: bool = False) -> Complaint:
    query = select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    c = desk.session.exec(query).first()
    if c is None:
        raise NotFound(_("no complaint #{id}").format(id=complaint_id), hint=_("csdesk complaint list shows the open ones"))
    return c


def _events(session, complaint_id: int) -> list[ComplaintEvent]:
    return list(session.exec(
        select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id).order_by(ComplaintEvent.at, ComplaintEvent.id)
    ).all())


def _info(session, c: Complaint, r: Rules, names: dict[int, str] | None = None, customer: Customer | None = None) -> ComplaintInfo:
    names = names if names is not None else _names(session)
    customer = customer or session.get(Customer, c.customer_id)
    project = session.get(Project, c.project_id).code if c.project_id else None
    return ComplaintInfo(
        c.id, c.status, status_label(c.status), c.level, r.level_label(c.level), c.severity, severity_label(c.severity),
        c.category, r.category_label(c.category), c.summary, customer.code, customer.name,
        names.get(c.owner_id, "?"), names.get(c.assignee_id, "?"), project, c.call_id, c.opened_at, c.acked_at,
        c.resolved_at, c.closed_at, c.resolution, c.first_response_due, c.resolution_due, c.next_due,
        c.response_breached, c.resolution_breached, c.breach_count,
    )


def _text(value: str | None, what: str, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidValue(_("{what} is empty").format(what=_(what)))
        return None
    if len(value) > _SUMMARY_LIMIT:
        raise InvalidValue(_("{what} is longer than {limit} characters").format(what=_(what), limit=_SUMMARY_LIMIT))
    from csdesk.text import check_text

    return check_text(value, _(what))


def _when(desk: Desk, c: Complaint | None, at: datetime | None, what: str) -> datetime:
    """The time an entry happened: now, or earlier (--at) but never before the complaint's last entry."""
    when = at or desk.now
    if when > desk.now + _FUTURE_SLACK:
        raise InvalidValue(_("{what} cannot be in the future (check --at)").format(what=_(what)))
    if c is not None:
        last = desk.session.exec(
            select(func.max(ComplaintEvent.at)).where(ComplaintEvent.complaint_id == c.id, ComplaintEvent.kind.not_in(_CLOCKLESS))
        ).one()
        if last is not None and when < last:
            raise InvalidValue(_(
                "{what} at {when} would come before complaint #{id}'s last entry ({last}); entries are made in order"
            ).format(what=_(what), when=dates.fmt(when, desk.tz), id=c.id, last=dates.fmt(last, desk.tz)))
    return when


def last_entry_at(session, complaint_id: int) -> datetime | None:
    """When the complaint's last entry that moves a clock or its state happened (notes and edits aside)."""
    return session.exec(
        select(func.max(ComplaintEvent.at)).where(ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.kind.not_in(_CLOCKLESS))
    ).one()


def _record(desk: Desk, c: Complaint, kind: str, at: datetime, from_value: Any = None, to_value: Any = None,
            note: str | None = None, visit_id: int | None = None, key: str | None = None, actor_id: Any = ...) -> ComplaintEvent:
    event = ComplaintEvent(
        complaint_id=c.id, at=at, recorded_at=desk.now,
        actor_id=(desk.actor.id if desk.actor else None) if actor_id is ... else actor_id,
        kind=kind, from_value=None if from_value is None else str(from_value),
        to_value=None if to_value is None else str(to_value), note=note, visit_id=visit_id, key=key,
    )
    desk.session.add(event)
    return event


def _commit(desk: Desk, c: Complaint, action: str, before: dict[str, Any], event: ComplaintEvent, r: Rules) -> None:
    """After a change: recompute the SLA from all events, refresh the cache, write the audit row."""
    session = desk.session
    session.add(c)
    session.flush()
    sla = compute_sla(_events(session, c.id), c.severity, desk.now, calendar(desk.settings), r)
    keep = verdicts_to_keep(sla, c.severity) if event.kind != "note" else None  # (reports skip notes)
    if keep is not None:
        event.verdict = keep
        session.add(event)
        session.flush()
        sla = compute_sla(_events(session, c.id), c.severity, desk.now, calendar(desk.settings), r)
    _refresh(c, sla)
    c.updated_at = desk.now
    session.add(c)
    session.flush()
    after = snapshot(c)
    changed = sorted(k for k in after if before.get(k) != after[k] and k != "updated_at")
    audit(desk, f"complaint.{action}", c, before={k: before.get(k) for k in changed}, after={
        **{k: after[k] for k in changed},
        "event": {"kind": event.kind, "at": event.at.isoformat(), "from": event.from_value, "to": event.to_value,
                  "note": event.note, "visit_id": event.visit_id},
    })


def _refuse(c: Complaint, doing: str, possible: str) -> InvalidTransition:
    return InvalidTransition(_("complaint #{id} is {status}: cannot {doing}; {possible}").format(
        id=c.id, status=status_label(c.status), doing=_(doing), possible=_(possible)))


_POSSIBLE = {
    "open": N_("it can be acknowledged, put on hold, escalated, assigned or resolved"),
    "acknowledged": N_("it can be put on hold, escalated, assigned or resolved"),
    "on_hold": N_("resume it (complaint resume), escalate, assign or resolve it"),
    "resolved": N_("it is closed by a satisfied return visit (or by a supervisor), or reopened"),
    "closed": N_("it can only be reopened (complaint reopen --reason)"),
    "void": N_("it was voided and stays out of every list, deadline and report"),
}


def _require_level(desk: Desk, c: Complaint, doing: str, r: Rules):
    actor = desk.require_actor()
    if actor.rank < c.level:
        raise PermissionDenied(
            _("complaint #{id} is at {level}: {doing} it needs a {role} or above; {name} is a {actor_role}").format(
                id=c.id, level=r.level_label(c.level), doing=_(doing), role=_(_ROLE_LABELS[c.level - 1]), name=actor.name,
                actor_role=_(_ROLE_LABELS[actor.rank - 1])),
            hint=_("a complaint is resolved and closed by someone of its level or above (complaint assign, or escalate)"),
        )
    return actor


def _active_load(session, staff_ids: list[int]) -> dict[int, int]:
    rows = session.exec(
        select(Complaint.assignee_id, func.count()).where(Complaint.assignee_id.in_(staff_ids), Complaint.status.in_(ACTIVE))
        .group_by(Complaint.assignee_id)
    ).all()
    return dict(rows)


def handler_for_level(session, settings, start_id: int | None, level: int, r: Rules | None = None) -> Staff | None:
    """Who takes a complaint at `level`: the first active person of that level or above up the
    reports_to chain from `start_id` (not `start_id` itself), else the configured default for the
    level, else the active staff member of that level's role with the fewest active complaints."""
    r = r or rules(settings)
    boss = first_boss(session, start_id, level)
    if boss is not None:
        return boss
    name = r.default_assignee.get(level)
    if name:
        staff = session.exec(select(Staff).where(Staff.name == name)).first()
        if staff is None or not staff.active or ROLE_RANK[staff.role] < level:
            raise InvalidValue(
                f"config: escalation.default_assignee.{level} names {name!r}, who is not an active {ROLES[level - 1]} or above"
            )
        return staff
    candidates = list(session.exec(select(Staff).where(Staff.role == ROLES[level - 1], Staff.active == True).order_by(Staff.id)).all())  # noqa: E712
    if not candidates:
        return None
    load = _active_load(session, [s.id for s in candidates])
    return min(candidates, key=lambda s: (load.get(s.id, 0), s.id))


def notice_boss(session, settings, staff_id: int | None, level: int = 2) -> int | None:
    """Whom a notice about `staff_id`'s work goes to (a breach, a missed callback): the first *active*
    person up the reports_to chain, as escalation does; when nobody active is left there, the default
    assignee of `level` (escalation.default_assignee), if set and active; else nobody (None)."""
    boss = first_boss(session, staff_id)
    if boss is not None:
        return boss.id
    level = min(max(level, 2), TOP_LEVEL)
    name = str(settings["escalation"]["default_assignee"].get(str(level)) or "").strip()
    if name:
        staff = session.exec(select(Staff).where(Staff.name == name)).first()
        if staff is not None and staff.active and staff.id != staff_id:
            return staff.id
    return None


def _start_level(r: Rules, severity: str, customer: Customer) -> int:
    level = 1
    if severity == "major":
        level = max(level, r.major_level)
    if customer.tier == "key":
        level = max(level, r.key_account_level)
    return level


# ---- opening ------------------------------------------------------------------------------------------


def open_complaint(
    desk: Desk,
    customer: str | None = None,
    severity: str | None = None,
    category: str | None = None,
    summary: str | None = None,
    project: str | None = None,
    call_id: int | None = None,
    at: datetime | None = None,
    assign: str | None = None,
    customer_id: int | None = None,
) -> ComplaintInfo:
    """Open a complaint. The person acting owns it (首问负责制) and, unless `assign` names someone,
    handles it — or, when it starts above their level (major, key account), the first person of that
    level up their reports_to chain."""
    session = desk.session
    actor = desk.require_actor()
    r = rules(desk.settings)
    severity = check_severity(severity)
    category = check_category(r, category)
    call = None
    if call_id is not None:
        call = session.get(Call, call_id)
        if call is None:
            raise NotFound(_("no call #{id}").format(id=call_id))
        if call.complaint_id is not None:
            raise Conflict(_("call #{call} is already linked to complaint #{id}").format(call=call.id, id=call.complaint_id))
    if customer_id is not None:
        cust = session.get(Customer, customer_id)
    elif customer:
        cust = find_customer(session, customer)
    elif call is not None:
        cust = session.get(Customer, call.customer_id)
    else:
        raise InvalidValue(_("say whose complaint it is: --phone, --customer or --call"))
    if call is not None and call.customer_id != cust.id:
        raise InvalidValue(_("call #{call} was with another customer, not {code}").format(call=call.id, code=cust.code))
    summary = _text(summary if summary is not None or call is None else call.summary, N_("the summary (--summary)"))
    project_id = None
    if project:
        row = session.exec(select(Project).where(Project.code == project.strip().upper())).first()
        if row is None:
            raise NotFound(_("no project with code {code}").format(code=project.strip().upper()))
        if row.customer_id != cust.id:
            raise InvalidValue(_("project {project} belongs to another customer, not {code}").format(project=row.code, code=cust.code))
        project_id = row.id
    when = _when(desk, None, at or (call.at if call is not None else None), N_("opening the complaint"))
    if when < desk.now - _PAST_LIMIT:
        raise InvalidValue(_("opening the complaint at {when} is more than a year ago; check --at").format(when=dates.fmt(when, desk.tz)))
    level = _start_level(r, severity, cust)
    if assign:
        handler = find_staff(session, assign)
        if ROLE_RANK[handler.role] < level:
            raise PermissionDenied(
                _("a complaint at {level} needs a {role} or above; {name} is a {their_role}").format(
                    level=r.level_label(level), role=role_word(level), name=handler.name, their_role=role_word(handler.role))
            )
    elif actor.rank >= level:
        handler = session.get(Staff, actor.id)
    else:
        handler = handler_for_level(session, desk.settings, actor.id, level, r)
        if handler is None:
            raise Conflict(
                _("this complaint starts at {level} and nobody active is a {role} or above").format(level=r.level_label(level), role=role_word(level)),
                hint=_("add one (staff add), set escalation.default_assignee.{level}, or use --assign").format(level=level),
            )
    c = Complaint(
        customer_id=cust.id, project_id=project_id, call_id=call.id if call is not None else None, severity=severity,
        category=category, summary=summary, status="open", level=level, owner_id=actor.id, assignee_id=handler.id,
        opened_at=when, created_at=desk.now, updated_at=desk.now,
    )
    session.add(c)
    session.flush()
    _record(desk, c, "opened", when, None, level, note=summary)
    if handler.id != actor.id:
        _record(desk, c, "assigned", when, actor.id, handler.id, note="starts above the opener's level" if not assign else None)
    session.flush()
    _refresh(c, compute_sla(_events(session, c.id), severity, desk.now, calendar(desk.settings), r))
    session.add(c)
    audit(desk, "complaint.open", c)
    if call is not None:
        before = snapshot(call)
        call.complaint_id = c.id
        session.add(call)
        audit(desk, "call.complaint", call, before=before)
    return _info(session, c, r, customer=cust)


# ---- actions ------------------------------------------------------------------------------------------


def ack_complaint(desk: Desk, complaint_id: int, at: datetime | None = None, note: str | None = None) -> ComplaintInfo:
    """The first response: someone has been in touch with the customer."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    if c.status != "open":
        if c.acked_at is not None and c.status in ACTIVE + ("resolved",):
            raise InvalidTransition(_(
                "complaint #{id} was already acknowledged at {when} (it is {status}); a complaint is acknowledged once"
            ).format(id=c.id, when=dates.fmt(c.acked_at, desk.tz), status=status_label(c.status)))
        raise _refuse(c, N_("acknowledge it"), _POSSIBLE[c.status])
    when = _when(desk, c, at, N_("the acknowledgement"))
    before = snapshot(c)
    c.status, c.acked_at = "acknowledged", when
    event = _record(desk, c, "acknowledged", when, note=_text(note, N_("the note"), required=False))
    _commit(desk, c, "ack", before, event, r)
    return _info(desk.session, c, r)


def add_note(desk: Desk, complaint_id: int, text: str, at: datetime | None = None) -> ComplaintInfo:
    """A line in the timeline; allowed in every state (a closed complaint can still be annotated)."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    text = _text(text, N_("the note"))
    when = at or desk.now
    if when > desk.now + _FUTURE_SLACK:
        raise InvalidValue(_("a note cannot be in the future (check --at)"))
    if when < c.opened_at:
        raise InvalidValue(_("a note cannot come before the complaint was opened ({when})").format(when=dates.fmt(c.opened_at, desk.tz)))
    before = snapshot(c)
    event = _record(desk, c, "note", when, note=text)
    _commit(desk, c, "note", before, event, r)
    return _info(desk.session, c, r)


def assign_complaint(desk: Desk, complaint_id: int, name: str, at: datetime | None = None, owner: bool = False) -> ComplaintInfo:
    """Hand the complaint to someone of its level or above (the current assignee, its owner or a
    supervisor may do this). With `owner`, transfer the first-contact ownership instead (supervisor+)."""
    actor = desk.require_actor()
    r = rules(desk.settings)
    session = desk.session
    c = _load(desk, complaint_id, lock=True)
    if c.status == "closed":
        raise _refuse(c, N_("reassign it"), _POSSIBLE["closed"])
    person = find_staff(session, name)
    if owner:
        desk.require_rank("supervisor", "transferring a complaint's ownership (首问负责)")
        if person.id == c.owner_id:
            raise InvalidValue(_("{name} already owns complaint #{id}").format(name=person.name, id=c.id))
    else:
        if actor.id not in (c.assignee_id, c.owner_id) and actor.rank < ROLE_RANK["supervisor"]:
            raise PermissionDenied(
                _("only complaint #{id}'s assignee, its owner or a supervisor or above can reassign it; {name} is a {role}").format(
                    id=c.id, name=actor.name, role=role_word(actor.role))
            )
        if person.id == c.assignee_id:
            raise InvalidValue(_("complaint #{id} is already assigned to {name}").format(id=c.id, name=person.name))
        if ROLE_RANK[person.role] < c.level:
            raise PermissionDenied(
                _("complaint #{id} is at {level}: it can only be assigned to a {role} or above; {name} is a {their_role}").format(
                    id=c.id, level=r.level_label(c.level), role=role_word(c.level), name=person.name, their_role=role_word(person.role))
            )
    when = _when(desk, c, at, N_("the assignment"))
    before = snapshot(c)
    if owner:
        event = _record(desk, c, "owner", when, c.owner_id, person.id)
        c.owner_id = person.id
    else:
        event = _record(desk, c, "assigned", when, c.assignee_id, person.id)
        c.assignee_id = person.id
    _commit(desk, c, "owner" if owner else "assign", before, event, r)
    return _info(session, c, r)


def hold_complaint(desk: Desk, complaint_id: int, reason: str, at: datetime | None = None) -> ComplaintInfo:
    """Stop the clocks while waiting for the customer or a supplier."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    reason = _text(reason, N_("the reason (--reason)"))
    if c.status == "on_hold":
        raise InvalidTransition(_("complaint #{id} is already on hold; resume it first (complaint resume)").format(id=c.id))
    if c.status not in ("open", "acknowledged"):
        raise _refuse(c, N_("put it on hold"), _POSSIBLE[c.status])
    when = _when(desk, c, at, N_("the hold"))
    before = snapshot(c)
    c.status = "on_hold"
    event = _record(desk, c, "held", when, note=reason)
    _commit(desk, c, "hold", before, event, r)
    return _info(desk.session, c, r)


def resume_complaint(desk: Desk, complaint_id: int, at: datetime | None = None, note: str | None = None) -> ComplaintInfo:
    """End a hold: the clocks run again, their deadlines moved by the business time spent on hold."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    if c.status != "on_hold":
        raise _refuse(c, N_("resume it (it is not on hold)"), _POSSIBLE[c.status])
    when = _when(desk, c, at, N_("the resumption"))
    before = snapshot(c)
    c.status = "acknowledged" if c.acked_at is not None else "open"
    event = _record(desk, c, "resumed", when, note=_text(note, N_("the note"), required=False))
    _commit(desk, c, "resume", before, event, r)
    return _info(desk.session, c, r)


def _escalate(desk: Desk, c: Complaint, to_level: int, at: datetime, reason: str, r: Rules, key: str | None = None,
              missed_due: datetime | None = None, strict: bool = True,
              visit_id: int | None = None) -> tuple[EscalationResult, ComplaintEvent]:
    """Raise the level, hand it one level up, give it the new level's resolution clock (the caller commits)."""
    session = desk.session
    names = _names(session)
    handler = handler_for_level(session, desk.settings, c.assignee_id, to_level, r)
    note = None
    if handler is None:
        if strict:
            raise Conflict(
                _("nobody active can take complaint #{id} at {level}").format(id=c.id, level=r.level_label(to_level)),
                hint=_("add a {role} (staff add), or set escalation.default_assignee.{level} in the config").format(
                    role=role_word(to_level), level=to_level),
            )
        note = _("nobody active at {level}: assignee unchanged").format(level=r.level_label(to_level))
    from_level, from_assignee = c.level, c.assignee_id
    actor_id = None if key else (desk.actor.id if desk.actor else None)
    event = _record(desk, c, "escalated", at, from_level, to_level, note=reason, key=key, actor_id=actor_id, visit_id=visit_id)
    c.level = to_level
    if handler is not None and handler.id != c.assignee_id:
        _record(desk, c, "assigned", at, c.assignee_id, handler.id, note="escalation", actor_id=actor_id)
        c.assignee_id = handler.id
    result = EscalationResult(c.id, from_level, to_level, names.get(from_assignee, "?"), names.get(c.assignee_id, "?"), at, missed_due, note)
    return result, event


def escalate_complaint(desk: Desk, complaint_id: int, reason: str, to_level: int | None = None, at: datetime | None = None) -> EscalationResult:
    """Escalate by hand: one level up, or straight to `to_level`. Anyone may escalate."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    reason = _text(reason, N_("the reason (--reason)"))
    if c.status not in ACTIVE:
        raise _refuse(c, N_("escalate it"), _POSSIBLE[c.status])
    if c.level >= TOP_LEVEL:
        raise InvalidTransition(_("complaint #{id} is already at the top level ({level}); there is nobody above to escalate to").format(
            id=c.id, level=r.level_label(c.level)))
    target = c.level + 1 if to_level is None else to_level
    if not isinstance(target, int) or target <= c.level or target > TOP_LEVEL:
        raise InvalidValue(_("complaint #{id} is at level {level}: --to must be a level from {low} to {high}").format(
            id=c.id, level=c.level, low=c.level + 1, high=TOP_LEVEL))
    when = _when(desk, c, at, N_("the escalation"))
    before = snapshot(c)
    result, event = _escalate(desk, c, target, when, reason, r)
    _commit(desk, c, "escalate", before, event, r)
    return result


def resolve_complaint(desk: Desk, complaint_id: int, resolution: str, at: datetime | None = None) -> ComplaintInfo:
    """Resolved: stops the clocks (and counts as the first response if there was none). Needs someone
    of the complaint's level or above. Fires `complaint_resolved` (the return visit is scheduled from it)."""
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    resolution = _text(resolution, N_("the resolution (--resolution)"))
    if c.status not in ACTIVE:
        raise _refuse(c, N_("resolve it"), _POSSIBLE[c.status])
    _require_level(desk, c, N_("resolving"), r)
    when = _when(desk, c, at, N_("the resolution"))
    before = snapshot(c)
    c.status, c.resolved_at, c.resolution = "resolved", when, resolution
    if c.acked_at is None:
        c.acked_at = when
    event = _record(desk, c, "resolved", when, note=resolution)
    _commit(desk, c, "resolve", before, event, r)
    hooks.fire("complaint_resolved", desk, complaint_id=c.id)
    return _info(desk.session, c, r)


def close_complaint(desk: Desk, complaint_id: int, without_visit: bool = False, reason: str | None = None,
                    at: datetime | None = None, visit_id: int | None = None) -> ComplaintInfo:
    """Close a resolved complaint: because a return visit found the customer satisfied (`visit_id`,
    given by the callbacks area; or found through the `satisfied_visit` query), or — without a visit —
    by a supervisor or above giving a reason."""
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    if c.status != "resolved":
        if c.status == "closed":
            raise InvalidTransition(_("complaint #{id} is already closed; it can only be reopened").format(id=c.id))
        raise _refuse(c, N_("close it before it is resolved"), N_("resolve it first (complaint resolve --resolution)"))
    note = None
    if visit_id is None:
        _require_level(desk, c, N_("closing"), r)
        visit_id = hooks.ask("satisfied_visit", desk.session, c.id)
        if visit_id is None:
            if not without_visit:
                raise InvalidTransition(_(
                    "complaint #{id} is resolved but no return visit has found the customer satisfied: it is closed by a "
                    "satisfied return visit, or by a supervisor with --without-visit --reason"
                ).format(id=c.id))
            desk.require_rank("supervisor", "closing a complaint without a satisfied return visit")
            note = _text(reason, N_("the reason (--reason)"))
    when = _when(desk, c, at, N_("the closing"))
    before = snapshot(c)
    c.status, c.closed_at = "closed", when
    event = _record(desk, c, "closed", when, note=note, visit_id=visit_id)
    _commit(desk, c, "close", before, event, r)
    return _info(desk.session, c, r)


def reopen_complaint(desk: Desk, complaint_id: int, reason: str, at: datetime | None = None) -> ComplaintInfo:
    """Reopen a resolved or closed complaint: a new resolution clock at its current level."""
    desk.require_actor()
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    reason = _text(reason, N_("the reason (--reason)"))
    if c.status not in ("resolved", "closed"):
        raise _refuse(c, N_("reopen it (only resolved or closed complaints are reopened)"), _POSSIBLE[c.status])
    when = _when(desk, c, at, N_("the reopening"))
    before = snapshot(c)
    event = _reopen(desk, c, when, reason)
    _commit(desk, c, "reopen", before, event, r)
    # Its pending return visit asks about a resolution that no longer stands; resolving again makes a new one.
    hooks.fire("complaint_reopened", desk, complaint_id=c.id, at=when, reason=f"complaint #{c.id} reopened: {reason}")
    return _info(desk.session, c, r)


def _reopen(desk: Desk, c: Complaint, when: datetime, reason: str, visit_id: int | None = None) -> ComplaintEvent:
    from_status = c.status
    c.status, c.resolved_at, c.closed_at, c.resolution = "acknowledged", None, None, None
    return _record(desk, c, "reopened", when, from_status, "acknowledged", note=reason, visit_id=visit_id)


def reopen_after_visit(desk: Desk, complaint_id: int, reason: str, visit_id: int, at: datetime | None = None) -> ComplaintInfo:
    """A return visit found the customer unsatisfied: reopen (a new resolution clock, no instant
    breach) and escalate one level unless already at the top, both at the visit's time `at` (the new
    clock starts there, not when the visit was typed in). Called by the callbacks area."""
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    reason = _text(reason, N_("the reason"))
    if c.status not in ("resolved", "closed"):
        raise _refuse(c, N_("reopen it after a return visit"), _POSSIBLE[c.status])
    when = _when(desk, c, at, N_("the unsatisfied return visit"))
    before = snapshot(c)
    event = _reopen(desk, c, when, reason, visit_id)
    if c.level < TOP_LEVEL:
        _escalate(desk, c, c.level + 1, when, _("unsatisfied return visit #{id}").format(id=visit_id), r, strict=False, visit_id=visit_id)
    _commit(desk, c, "reopen", before, event, r)
    return _info(desk.session, c, r)


# ---- corrections: edit, void ---------------------------------------------------------------------------


def edit_complaint(desk: Desk, complaint_id: int, severity: str | None = None, category: str | None = None,
                   summary: str | None = None, customer: str | None = None, project: str | None = None) -> ComplaintInfo:
    """Correct what a complaint is about (its assignee, owner, a supervisor or above).

    A severity change is a timeline entry; the deadlines follow the new severity from the opening, as if
    it had been filed that way (the level stays: escalate if it needs more). Moving it to another customer
    drops its project unless `project` names one of the new customer's, and moves its pending return visits
    with it (hook `complaint_moved`). `project` "-" or "none" removes the project."""
    actor = desk.require_actor()
    session = desk.session
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    if c.status == "void":
        raise _refuse(c, N_("edit it"), _POSSIBLE["void"])
    if actor.id not in (c.assignee_id, c.owner_id) and actor.rank < ROLE_RANK["supervisor"]:
        raise PermissionDenied(
            _("only complaint #{id}'s assignee, its owner or a supervisor or above can edit it; {name} is a {role}").format(
                id=c.id, name=actor.name, role=role_word(actor.role))
        )
    if all(v is None for v in (severity, category, summary, customer, project)):
        raise InvalidValue(_("say what to change: --severity, --category, --summary, --customer or --project"))
    changes: dict[str, tuple[Any, Any]] = {}
    new_severity = check_severity(severity) if severity is not None else c.severity
    if new_severity != c.severity:
        changes["severity"] = (c.severity, new_severity)
    if category is not None:
        value = check_category(r, category)
        if value != c.category:
            changes["category"] = (c.category, value)
    if summary is not None:
        value = _text(summary, N_("the summary (--summary)"))
        if value != c.summary:
            changes["summary"] = (c.summary, value)
    customer_id = c.customer_id
    if customer is not None:
        customer_id = find_customer(session, customer).id
        if customer_id != c.customer_id:
            changes["customer_id"] = (c.customer_id, customer_id)
    project_id = c.project_id
    if project is not None:
        code = project.strip().upper()
        if code in ("-", "NONE", "无"):
            project_id = None
        else:
            row = session.exec(select(Project).where(Project.code == code)).first()
            if row is None:
                raise NotFound(_("no project with code {code}").format(code=code))
            project_id = row.id
    elif customer_id != c.customer_id:
        project_id = None  # the old customer's project cannot stay
    if project_id is not None:
        row = session.get(Project, project_id)
        if row.customer_id != customer_id:
            owner = session.get(Customer, customer_id)
            raise InvalidValue(_("project {project} belongs to another customer, not {code}").format(project=row.code, code=owner.code))
    if project_id != c.project_id:
        changes["project_id"] = (c.project_id, project_id)
    if customer_id != c.customer_id and c.call_id is not None:
        call = session.get(Call, c.call_id)
        if call is not None and call.customer_id != customer_id:
            raise InvalidValue(_(
                "complaint #{id} came in on call #{call} with {code}: move the call first, or open a new complaint for the other customer"
            ).format(id=c.id, call=call.id, code=session.get(Customer, call.customer_id).code))
    if not changes:
        raise InvalidValue(_("complaint #{id} already says that: nothing to change").format(id=c.id))
    when = _when(desk, c, None, N_("the edit"))
    before = snapshot(c)
    events = []
    if "severity" in changes:  # its own entry: the deadlines change with it
        events.append(_record(desk, c, "severity", when, *changes["severity"]))
        c.severity = new_severity
    others = [k for k in changes if k != "severity"]
    if others:
        words = {"category": "category", "summary": "summary", "customer_id": "customer", "project_id": "project"}
        text = "; ".join(f"{words[k]}: {_edit_value(session, k, changes[k][0])} → {_edit_value(session, k, changes[k][1])}" for k in others)
        events.append(_record(desk, c, "edited", when, note=text))
        for k in others:
            setattr(c, k, changes[k][1])
    _commit(desk, c, "edit", before, events[0], r)
    if "customer_id" in changes or "project_id" in changes:
        hooks.fire("complaint_moved", desk, complaint_id=c.id, customer_id=c.customer_id, project_id=c.project_id)
    return _info(session, c, r)


def _edit_value(session, key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key == "customer_id":
        return session.get(Customer, value).code
    if key == "project_id":
        return session.get(Project, value).code
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def void_complaint(desk: Desk, complaint_id: int, reason: str) -> ComplaintInfo:
    """Void a complaint opened by mistake or twice (supervisor or above): it leaves every list, SLA,
    reminder and report, and its pending visits are cancelled. The row and its timeline stay, for the audit."""
    desk.require_actor()
    desk.require_rank("supervisor", "voiding a complaint")
    r = rules(desk.settings)
    c = _load(desk, complaint_id, lock=True)
    reason = _text(reason, N_("the reason (--reason)"))
    if c.status == "void":
        raise InvalidTransition(_("complaint #{id} is already void").format(id=c.id))
    when = _when(desk, c, None, N_("voiding"))
    before = snapshot(c)
    event = _record(desk, c, "voided", when, c.status, "void", note=reason)
    c.status = "void"
    _commit(desk, c, "void", before, event, r)
    hooks.fire("complaint_voided", desk, complaint_id=c.id, at=when, reason=f"complaint #{c.id} voided: {reason}")
    return _info(desk.session, c, r)


# ---- automatic escalation and the SLA watch -------------------------------------------------------------


def auto_escalate(desk: Desk, now: datetime | None = None, dry_run: bool = False) -> list[EscalationResult]:
    """Escalate every complaint whose resolution deadline has passed, one level per missed deadline.

    Each missed deadline is acted on once: the escalation event carries the unique key
    (complaint, level, deadline), and each candidate is re-checked from its events under its row lock,
    so a repeated or concurrent pass does nothing more. The new level's clock starts at `now` (the
    moment it is handed over). With nothing to do this is one indexed query (escalate_at <= now).
    """
    now = now or desk.now
    session = desk.session
    ids = session.exec(
        select(Complaint.id).where(Complaint.escalate_at <= now).order_by(Complaint.escalate_at, Complaint.id)
    ).all()
    if not ids:
        return []
    r = rules(desk.settings)
    cal = calendar(desk.settings)
    results = []
    for complaint_id in ids:
        c = _load(desk, complaint_id, lock=True)
        if c.status not in ACTIVE or c.level >= TOP_LEVEL:
            continue
        sla = compute_sla(_events(session, c.id), c.severity, now, cal, r)
        current = sla.current
        if not current.running or current.due is None or current.due > now:
            if not dry_run:  # a stale cache (e.g. the calendar changed): put it right
                _refresh(c, sla)
                session.add(c)
            continue
        reason = _("resolution deadline {due} passed at {level}").format(due=dates.fmt(current.due, desk.tz), level=r.level_label(c.level))
        key = f"auto-escalate:{c.id}:L{c.level}:{current.due.astimezone(dates.UTC).strftime('%Y-%m-%dT%H:%M:%S')}"
        if dry_run:
            handler = handler_for_level(session, desk.settings, c.assignee_id, c.level + 1, r)
            names = _names(session)
            results.append(EscalationResult(c.id, c.level, c.level + 1, names.get(c.assignee_id, "?"),
                                            handler.name if handler else names.get(c.assignee_id, "?"), now, current.due,
                                            None if handler else _("nobody active at that level: assignee unchanged")))
            continue
        at = max(now, _last_at(session, c.id))
        try:
            with session.begin_nested():
                before = snapshot(c)
                saved_now, desk.now = desk.now, now
                try:
                    result, event = _escalate(desk, c, c.level + 1, at, reason, r, key=key, missed_due=current.due, strict=False)
                    _commit(desk, c, "auto_escalate", before, event, r)
                finally:
                    desk.now = saved_now
        except IntegrityError:
            continue  # another pass escalated this very breach a moment ago
        results.append(result)
    return results


def _last_at(session, complaint_id: int) -> datetime:
    return session.exec(select(func.max(ComplaintEvent.at)).where(ComplaintEvent.complaint_id == complaint_id)).one()


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
    ids = [c.id for c, _ in rows]
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


def _event_text(e: ComplaintEvent, names: dict[int, str], r: Rules) -> str:
    def who(value):
        return names.get(int(value), f"#{value}") if value else "—"

    note = f": {e.note}" if e.note else ""
    if e.kind == "opened":
        return _("opened at {level}").format(level=r.level_label(int(e.to_value))) + note
    if e.kind in ("assigned", "owner"):
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


def _calendar_text(settings) -> str:
    b = settings["business"]
    runs: list[list] = []  # consecutive weekdays with the same windows: [first, last, windows]
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        if runs and runs[-1][2] == list(b[day]):
            runs[-1][1] = day
        else:
            runs.append([day, day, list(b[day])])
    hours = "; ".join(
        (a.title() if a == z else f"{a.title()}–{z.title()}") + " " + ", ".join(w) for a, z, w in runs if w
    ) or "no working hours"
    extra = []
    if b["country"]:
        extra.append(f"public holidays and make-up workdays (调休) of {b['country']}")
    if b["closures"]:
        extra.append(f"closures {', '.join(map(str, b['closures']))}")
    if b["extra_workdays"]:
        extra.append(f"extra workdays {', '.join(map(str, b['extra_workdays']))}")
    return f"{settings['timezone']}; {hours}" + (f"; {'; '.join(extra)}" if extra else "")


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
        sections.append(("Severity changes (严重程度)", [
            f"{dates.fmt(e.at, tz)}: {severity_word(e.from_value)} → {severity_word(e.to_value)}"
            + (f" ({e.note})" if e.note else "") for e in changes
        ] + [f"The deadlines below are those of a {severity_word(c.severity)} complaint from the opening, as if it had been filed that way."]))
    for clock in (sla.first_response, *sla.resolution):
        d = _deadline(clock, r, c.severity, now)
        if clock.name == "first_response":
            origin = f"allowance {d.allowance} for a {severity_word(c.severity)} complaint (sla.first_response.{c.severity})"
        elif clock.level == sla.initial_level:
            origin = f"allowance {d.allowance} for a {severity_word(c.severity)} complaint (sla.resolution.{c.severity})"
        else:
            origin = f"allowance {d.allowance} on reaching level {clock.level} (escalation.resolution.{clock.level})"
        lines = [origin]
        end = clock.ended_at or now
        pauses = [(a, b if b is not None else (clock.ended_at or now)) for a, b in clock.pauses]
        steps = cal.explain(clock.start, clock.allowance, pauses)
        if clock.start != sla.first_response.start and steps[0].startswith("Opened "):
            steps[0] = "Clock starts " + steps[0][len("Opened "):]
        lines += steps
        if clock.frozen:
            lines.append(
                f"Deadline kept as computed when the clock ended: {dates.fmt(clock.due, tz)} "
                "(a later change of the calendar or of the holidays package does not rewrite a finished clock)"
            )
        if clock.running and clock.due is None:
            lines.append(
                f"On hold since {dates.fmt(next(a for a, b in clock.pauses if b is None), tz)}: the clock is stopped; "
                f"the deadline above is where it would fall if resumed now"
            )
        if clock.running:
            if clock.due is None:
                lines.append(f"→ {d.business_used} used so far; {d.business_left}")
            elif clock.breached:
                lines.append(f"→ BREACHED: deadline {dates.fmt(clock.due, tz)} passed; {d.business_used} used of {d.allowance}, overdue {fmt_business(-clock.left)} (business time)")
            else:
                lines.append(f"→ running: {d.business_used} used of {d.allowance}; {d.business_left} (business time)")
        else:
            how = {"acknowledged": "acknowledged", "resolved": "resolved", "escalated": "ended by escalation"}[clock.ended_by]
            verdict = f"LATE by {fmt_business(-clock.left)}" if clock.breached else f"in time, {fmt_business(clock.left)} to spare"
            lines.append(f"→ {how} {dates.fmt(end, tz)}: {d.business_used} used of {d.allowance} — {verdict}")
        sections.append((f"{d.label}, from {dates.fmt(clock.start, tz)}", lines))
    last = max([k.due for k in (sla.first_response, *sla.resolution) if k.due is not None] + [now, c.opened_at])
    years = range(c.opened_at.astimezone(tz).year, last.astimezone(tz).year + 1)
    return SlaExplanation(_info(session, c, r), _calendar_text(desk.settings), sections, calendar_gaps(desk.settings, years))


def calendar_gaps(settings, years: Iterable[int]) -> list[str]:
    """Warnings for the years whose make-up workdays (调休) the installed holidays package does not know.

    China publishes each year's schedule late in the year before; until a holidays release carries it,
    its make-up Saturdays and Sundays would count as days off. A year counts as missing when the
    country has make-up workdays in other years but none in it; dates added to `business.extra_workdays`
    (or `closures`) for that year silence the warning."""
    business = settings["business"]
    country = business.get("country")
    if not country:
        return []
    try:
        import holidays
    except ImportError:  # pragma: no cover - a dependency
        return []
    configured = {str(d)[:4] for d in [*business.get("extra_workdays", []), *business.get("closures", [])]}
    out = []
    known_elsewhere = None
    for year in sorted(set(years)):
        try:
            hol = holidays.country_holidays(country, years=year)
        except (NotImplementedError, KeyError):
            return []
        if any(d.year == year for d in getattr(hol, "weekend_workdays", ())):
            continue
        if known_elsewhere is None:
            probe = holidays.country_holidays(country, years=2026)
            known_elsewhere = any(d.year == 2026 for d in getattr(probe, "weekend_workdays", ()))
        if not known_elsewhere or str(year) in configured:
            continue
        version = getattr(holidays, "__version__", "?")
        out.append(
            f"the installed holidays package ({version}) has no make-up workdays (调休) for {country} {year}: deadlines in "
            f"{year} count the official make-up Saturdays and Sundays as days off. Upgrade holidays when a release carries "
            f"{year}, or add the dates to [business] extra_workdays (and any extra days off to closures) in the config."
        )
    return out


def severity_word(severity: str) -> str:
    return severity_label(severity)


# ---- what other areas show -------------------------------------------------------------------------------


@register_section("投诉 complaints")
def _customer_complaints(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
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


@register_open_work("complaints assigned to them, not yet closed")
def _assigned_work(session, staff_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Complaint).where(Complaint.assignee_id == staff_id, Complaint.status.in_(NOT_CLOSED))
    ).one()


@register_open_work("complaints they own (首问负责), not yet closed")
def _owned_work(session, staff_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Complaint).where(Complaint.owner_id == staff_id, Complaint.status.in_(NOT_CLOSED))
    ).one()


# ---- the demo ----------------------------------------------------------------------------------------------

_WALL = "墙面开裂，要求尽快处理", "quality"
_LATE = "安装工人迟到两小时，且未提前通知", "installation"
_FLOOR = "地板起拱，影响行走", "quality"
_CALLBACK = "客服承诺回电但一直未回", "attitude"
_WINDOW = "窗户密封不严，下雨渗水", "installation"
_DELAY = "交付比合同约定晚了一周", "delay"
_BILL = "尾款金额与合同不符", "billing"
_DOOR = "橱柜门板色差明显", "quality"
_NOISE = "施工噪音大，被物业警告", "other"
_RUDE = "上门人员态度生硬", "attitude"
_LEAK = "卫生间防水没做好，楼下漏水", "installation"
_LAMP = "灯具安装位置与图纸不符", "installation"
# Each story: (days ago opened, hour (negative: that many half-hours ago), severity, key account?, (summary,
# category), steps). A step: (business hours after opening, or "due": just after the resolution deadline,
# action, text). Actions are taken by whoever would take them (the assignee, a supervisor …) at that time.
DEMO_STORIES = [
    # #1: missed deadline after missed deadline, escalated automatically each time (the reminder run's job)
    (9, 10, "normal", False, _WALL, [(1, "ack", "已致电客户，约好上门查看"), ("due", "auto", None), ("due", "auto", None)]),
    # at the top level already and past its deadline: overdue, with nowhere left to escalate
    (4, 9, "major", True, _LEAK, [(0.5, "ack", "经理已致电客户"), (1, "escalate_top", "客户表示将投诉至消协")]),
    (0, -1, "normal", False, _LATE, []),
    (0, -1, "serious", False, _FLOOR, []),
    (0, -2, "normal", False, _CALLBACK, []),
    (2, 11, "serious", False, _DELAY, []),  # its first response is late
    (1, 9, "normal", False, _WINDOW, [(1, "ack", "已回电，客户同意周末上门")]),
    (1, 14, "serious", False, _BILL, [(0.5, "ack", "已转财务核对"), (2, "note", "财务确认多收了安装费")]),
    (0, 9, "normal", False, _DOOR, [(0.5, "ack", None)]),
    (3, 10, "normal", False, _NOISE, [(1, "ack", None), (6, "hold", "等待物业出具整改要求")]),
    (4, 15, "serious", False, _RUDE, [(0.5, "ack", None), (5, "hold", "客户出差，下周再约")]),
    (2, 10, "serious", False, _LATE, [(1, "ack", None), (3, "escalate", "客户要求主管出面")]),
    (1, 10, "major", True, _WALL, [(0.5, "ack", "经理已致电客户致歉")]),  # key account, major: manager level
    (3, 9, "normal", True, _LAMP, [(1, "ack", None), (4, "note", "已安排设计师复尺")]),  # key account
    (6, 10, "normal", False, _DOOR, [(1, "ack", None), (20, "resolve", "已更换门板，客户现场确认")]),
    (5, 14, "serious", False, _FLOOR, [(1, "ack", None), (5, "escalate", "涉及赔偿，需主管决定"), (12, "resolve", "重新铺设并补偿500元，客户接受")]),
    (4, 9, "normal", False, _WINDOW, [(2, "ack", None), (14, "resolve", "已重新打胶密封")]),
    (3, 16, "normal", False, _CALLBACK, [(0.5, "ack", None), (8, "resolve", "已回电说明并致歉")]),
    (2, 10, "serious", False, _LATE, [(1, "ack", None), (6, "resolve", "重新安排安装，客户认可")]),
    (20, 10, "normal", False, _WALL, [(1, "ack", None), (20, "resolve", "已修补裂缝"), (40, "close", "客户来电表示满意，无需回访")]),
    (18, 11, "serious", False, _BILL, [(1, "ack", None), (8, "resolve", "已退还多收费用"), (30, "close", "财务已确认退款到账，客户书面确认")]),
    (15, 9, "normal", False, _LAMP, [(3, "ack", None), (20, "resolve", "已调整灯具位置"), (45, "close", "客户在验收单上签字确认")]),
    (14, 10, "normal", False, _FLOOR, [(1, "ack", None), (15, "resolve", "已处理地板起拱"), (40, "reopen", "客户反映地板再次起拱"),
                                      (42, "note", "已安排师傅复查")]),
]


def demo_complaints(desk: Desk, rng, made: dict[str, Any]) -> list[str]:
    """Complaints in every state, with escalations by hand, automatic ones after missed deadlines, and a
    breach showing now — all dated back from the real now (each action taken at its own time)."""
    from dataclasses import replace

    staff = made["staff"]  # name → Actor
    specialists = [s for s in staff.values() if s.role == "specialist"]
    by_id = {s.id: s for s in staff.values()}
    session = desk.session
    now, tz = desk.now, desk.tz
    standard = session.exec(select(Customer.id).where(Customer.tier != "key").order_by(Customer.id)).all()
    keys = made.get("key_customers") or standard
    counts = {"escalate": 0, "auto": 0}

    def boss_of(staff_id: int):
        row = session.get(Staff, staff_id)
        return by_id.get(row.reports_to_id) if row.reports_to_id else None

    cal = calendar(desk.settings)
    for days, hour, severity, key, (summary, category), steps in DEMO_STORIES:
        if hour < 0:
            opened_at = now - timedelta(minutes=rng.randint(20, 50) * -hour)
        else:
            day = now.astimezone(tz).date() - timedelta(days=days)
            opened_at = datetime.combine(day, datetime.min.time()).replace(tzinfo=tz) + timedelta(hours=hour, minutes=rng.randint(0, 40))
            opened_at = min(opened_at.astimezone(dates.UTC), now - timedelta(hours=2))
        opener = rng.choice(specialists)
        customer_id = rng.choice(keys if key else standard)
        c = open_complaint(replace(desk, now=opened_at, actor=opener), severity=severity, category=category,
                           summary=summary, customer_id=customer_id)
        last = opened_at
        for offset, action, arg in steps:
            row = session.get(Complaint, c.id)
            if offset == "due":  # the reminder run, a few minutes after the deadline
                if row.escalate_at is None or row.escalate_at + timedelta(minutes=5) >= now:
                    continue
                when = row.escalate_at + timedelta(minutes=5)
            else:
                when = cal.add(opened_at, timedelta(hours=offset))
            when = min(max(when, last), now - timedelta(minutes=1))
            last = when
            handler = by_id.get(row.assignee_id, opener)
            d = replace(desk, now=when, actor=handler)
            if action == "ack":
                ack_complaint(d, c.id, note=arg)
            elif action == "note":
                add_note(d, c.id, arg)
            elif action == "hold":
                hold_complaint(d, c.id, arg)
            elif action in ("escalate", "escalate_top"):
                escalate_complaint(d, c.id, arg, TOP_LEVEL if action == "escalate_top" else None)
                counts["escalate"] += 1
            elif action == "auto":
                counts["auto"] += len(auto_escalate(d, when))
            elif action == "resolve":
                resolve_complaint(d, c.id, arg)
            elif action == "close":
                boss = handler if handler.rank >= ROLE_RANK["supervisor"] else (boss_of(handler.id) or handler)
                close_complaint(replace(d, actor=boss), c.id, without_visit=True, reason=arg)
            elif action == "reopen":
                reopen_complaint(replace(d, actor=opener), c.id, arg)
    counts["auto"] += len(auto_escalate(desk, now))
    statuses = dict(session.exec(select(Complaint.status, func.count()).group_by(Complaint.status)).all())
    overdue = session.exec(select(func.count()).select_from(Complaint).where(Complaint.status.in_(ACTIVE), Complaint.next_due <= now)).one()
    made["complaints"] = len(DEMO_STORIES)
    return [
        f"  complaints: {len(DEMO_STORIES)} — " + ", ".join(f"{statuses.get(s, 0)} {STATUSES[s]} {s}" for s in LISTED),
        f"              {counts['escalate']} escalated by hand, {counts['auto']} automatically after a missed deadline; "
        f"{overdue} past a deadline now (complaint list --overdue)",
    ]


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
