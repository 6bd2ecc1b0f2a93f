"""Callbacks and return visits (回访/回电): promises, repeating visits, phone outcomes, closing the loop.

A callback is due at a time, for a customer, assigned to one person, for a purpose, maybe about a
complaint, a project or a call. Trying it gives an outcome:
- reached: done, with satisfied/unsatisfied, a 1–5 score and a note. A reached complaint visit closes
  the loop: satisfied closes the complaint, unsatisfied reopens it (the note is the reason) one level up;
- no answer: the attempt is counted and the callback moves to the next business slot
  `callbacks.retry_delay` later, until `callbacks.max_attempts` tries, when it is missed;
- wrong number: missed at once.
Missed callbacks are reported to the assignee's supervisor by the reminder run (`missed_callbacks`).

Visits are also made by rules (csdesk/workflows/visit_rules.py has the arithmetic, [visit_rules] the
numbers): a resolved complaint, a handover, an acceptance (through hooks, in the same transaction),
the warranty series (at handover), and the periodic visits of key accounts, VIPs and owners of
handed-over projects (`generate_periodic_visits`, idempotent, run by `remind run` or by hand).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_
from sqlmodel import select

from csdesk import dates, phones
from csdesk.errors import InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import N_, _
from csdesk.models import AuditEntry, Call, Callback, CallbackSeries, Customer, CustomerPhone, Project, Staff
from csdesk.workflows import ROLE_RANK, Desk, audit, check_limit, hooks, snapshot
from csdesk.workflows import visit_rules as vr
from csdesk.workflows.customers import customer_by_phone, find_customer, register_section
from csdesk.workflows.staff import find_staff, register_open_work

UTC = timezone.utc

PURPOSES = {
    "promise": "承诺回电",
    "complaint-visit": "投诉回访",
    "handover-visit": "交付回访",
    "acceptance-visit": "验收回访",
    "warranty-visit": "保修回访",
    "periodic": "定期回访",
    "payment": "回款跟进",
    "other": "其他",
}
STATUSES = {"pending": "待回访", "done": "已完成", "missed": "未联系上", "cancelled": "已取消"}
OUTCOMES = {"reached": "已接通", "no_answer": "无人接听", "wrong_number": "号码错误"}
RULE_LABELS = {
    "manual": "手工", "complaint": "投诉解决后", "handover": "交付后", "acceptance": "验收后",
    "warranty": "保修期", "key": "重点客户", "vip": "VIP", "owner": "业主",
}
# What is shown (N_ here, _() when shown); the Chinese dicts above stay the words also accepted as input.
PURPOSE_LABELS = {
    "promise": N_("promised callback"), "complaint-visit": N_("complaint visit"), "handover-visit": N_("handover visit"),
    "acceptance-visit": N_("acceptance visit"), "warranty-visit": N_("warranty visit"), "periodic": N_("periodic visit"),
    "payment": N_("payment follow-up"), "other": N_("other"),
}
STATUS_LABELS = {"pending": N_("pending"), "done": N_("done"), "missed": N_("missed"), "cancelled": N_("cancelled")}
OUTCOME_LABELS = {"reached": N_("reached"), "no_answer": N_("no answer"), "wrong_number": N_("wrong number")}
RULE_WORDS = {
    "manual": N_("by hand"), "complaint": N_("after a resolved complaint"), "handover": N_("after handover"),
    "acceptance": N_("after acceptance"), "warranty": N_("warranty"), "key": N_("key account"), "vip": N_("VIP"),
    "owner": N_("owner"),
}
WINDOW_LABELS = {"today": N_("today"), "tomorrow": N_("tomorrow"), "week": N_("this week"), "overdue": N_("overdue"), "all": N_("all")}
BY_LABELS = {"agent": N_("Agent"), "customer": N_("Customer"), "purpose": N_("Purpose")}
DUE_WINDOWS = ("today", "tomorrow", "week", "overdue", "all")
DUE_WORDS = {"今天": "today", "明天": "tomorrow", "本周": "week", "这周": "week", "逾期": "overdue", "全部": "all"}
BY = ("agent", "customer", "purpose")
_RULE_PURPOSE = {
    "complaint": "complaint-visit", "handover": "handover-visit", "acceptance": "acceptance-visit",
    "warranty": "warranty-visit", "key": "periodic", "vip": "periodic", "owner": "periodic",
}


# --- results ------------------------------------------------------------------------------------


def purpose_label(purpose: str) -> str:
    return _(PURPOSE_LABELS[purpose]) if purpose in PURPOSE_LABELS else purpose


def status_label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def outcome_label(outcome: str) -> str:
    return _(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else outcome


def rule_label(rule: str) -> str:
    return _(RULE_WORDS[rule]) if rule in RULE_WORDS else rule


def window_label(window: str) -> str:
    return _(WINDOW_LABELS[window]) if window in WINDOW_LABELS else window


@dataclass
class CallbackInfo:
    id: int
    status: str
    due_at: datetime
    overdue: bool
    customer_code: str
    customer_name: str | None
    phone: str | None  # E.164: the number to call
    purpose: str
    purpose_label: str
    subject: str | None  # "complaint #12", "project P000003", "call #40"
    complaint_id: int | None
    project_code: str | None
    call_id: int | None
    assignee: str | None
    attempts: int
    last_attempt_at: datetime | None
    outcome: str | None
    satisfied: bool | None
    score: int | None
    note: str | None
    result_note: str | None
    rule: str | None
    series_id: int | None
    seq: int | None
    first_due_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    created_at: datetime | None
    created_by: str | None


@dataclass
class Scheduled:
    callbacks: list[CallbackInfo]
    series_id: int | None = None
    rrule: str | None = None
    open_ended: bool = False  # a series without an end: its next visit comes when one is over


@dataclass
class CallbackList:
    rows: list[CallbackInfo]
    total: int  # matching, before --limit
    overdue: int  # of those, past due
    window: str


@dataclass
class AttemptResult:
    callback: CallbackInfo
    outcome: str
    next_due: datetime | None = None  # no answer, tries left: when to try again
    missed: bool = False
    max_attempts: int = 3
    supervisor: str | None = None  # who the reminder run tells about a missed callback
    follow_up: list[str] = field(default_factory=list)  # what else happened (complaint closed, next visit …)


@dataclass
class HistoryEntry:
    at: datetime
    actor: str | None
    action: str
    changes: dict[str, Any]


@dataclass
class CallbackDetail:
    callback: CallbackInfo
    series: dict[str, Any] | None
    history: list[HistoryEntry]


@dataclass
class VisitMade:
    """A visit a rule created (or, in a dry run, would create)."""

    id: int | None
    rule: str
    purpose: str
    customer_code: str
    customer_name: str | None
    due_at: datetime
    assignee: str | None
    project_code: str | None = None
    complaint_id: int | None = None
    series_id: int | None = None
    seq: int | None = None

    def line(self, tz) -> str:
        what = f"{purpose_label(self.purpose)} ({rule_label(self.rule)})"
        ref = f"#{self.id} " if self.id else ""
        about = (f" {self.project_code}" if self.project_code else
                 " " + _("complaint #{id}").format(id=self.complaint_id) if self.complaint_id else "")
        who = f" → {self.assignee}" if self.assignee else ""
        name = f" {self.customer_name}" if self.customer_name else ""
        return _("visit {ref}{what} for {customer}{about}, due {due}{who}").format(
            ref=ref, what=what, customer=self.customer_code + name, about=about, due=dates.fmt(self.due_at, tz), who=who)


@dataclass
class SatisfactionRow:
    key: str  # staff name, customer code, or purpose
    label: str | None  # customer name, purpose label
    visits: int  # reached (done)
    satisfied: int
    unsatisfied: int
    satisfaction_rate: Decimal | None  # % of the visits that gave a verdict, one decimal
    scored: int
    average_score: Decimal | None  # one decimal
    missed: int
    wrong_number: int
    attempts: int
    score_sum: int = 0  # of the scored visits: what the rounded average came from (reports divide it themselves)


@dataclass
class SatisfactionStats:
    by: str
    since: datetime | None
    until: datetime | None
    rows: list[SatisfactionRow]
    total: SatisfactionRow


@dataclass
class DueCallback:
    id: int
    due_at: datetime
    overdue: bool
    customer_code: str
    customer_name: str | None
    phone: str | None
    purpose: str
    attempts: int
    assignee_id: int | None
    assignee: str | None


@dataclass
class MissedCallback:
    id: int
    closed_at: datetime
    outcome: str | None  # no_answer (tries used up) or wrong_number
    attempts: int
    customer_code: str
    customer_name: str | None
    phone: str | None
    purpose: str
    assignee_id: int | None
    assignee: str | None
    supervisor_id: int | None  # the assignee's reports_to: who the reminder run tells
    supervisor: str | None


# --- reading ------------------------------------------------------------------------------------


def _chunks(ids, n: int = 500):
    ids = list(ids)
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


def _names(session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    out: dict[int, str] = {}
    for part in _chunks(ids):
        out.update(dict(session.exec(select(Staff.id, Staff.name).where(Staff.id.in_(part))).all()))
    return out


def _infos(session, rows: list[Callback], now: datetime) -> list[CallbackInfo]:
    """CallbackInfos for rows, with a handful of queries whatever their number."""
    if not rows:
        return []
    cust_ids = {r.customer_id for r in rows}
    customers: dict[int, tuple[str, str | None]] = {}
    main_phone: dict[int, str] = {}
    for part in _chunks(cust_ids):
        customers.update({cid: (code, name) for cid, code, name in session.exec(
            select(Customer.id, Customer.code, Customer.name).where(Customer.id.in_(part))).all()})
        for cid, number in session.exec(
            select(CustomerPhone.customer_id, CustomerPhone.number).where(CustomerPhone.customer_id.in_(part))
            .order_by(CustomerPhone.customer_id, CustomerPhone.position.desc(), CustomerPhone.id.desc())
        ).all():
            main_phone[cid] = number  # the last one written per customer is position 0
    staff = _names(session, [x for r in rows for x in (r.assignee_id, r.closed_by_id, r.created_by_id)])
    project_codes: dict[int, str] = {}
    pids = {r.project_id for r in rows if r.project_id}
    for part in _chunks(pids):
        project_codes.update(dict(session.exec(select(Project.id, Project.code).where(Project.id.in_(part))).all()))
    out = []
    for r in rows:
        code, name = customers.get(r.customer_id, ("?", None))
        project_code = project_codes.get(r.project_id) if r.project_id else None
        subject = (
            _("complaint #{id}").format(id=r.complaint_id) if r.complaint_id else
            _("project {code}").format(code=project_code) if project_code else
            _("call #{id}").format(id=r.call_id) if r.call_id else None
        )
        out.append(CallbackInfo(
            id=r.id, status=r.status, due_at=r.due_at, overdue=r.status == "pending" and r.due_at < now,
            customer_code=code, customer_name=name, phone=r.phone or main_phone.get(r.customer_id),
            purpose=r.purpose, purpose_label=purpose_label(r.purpose), subject=subject,
            complaint_id=r.complaint_id, project_code=project_code, call_id=r.call_id,
            assignee=staff.get(r.assignee_id), attempts=r.attempts, last_attempt_at=r.last_attempt_at,
            outcome=r.outcome, satisfied=r.satisfied, score=r.score, note=r.note, result_note=r.result_note,
            rule=r.rule, series_id=r.series_id, seq=r.seq, first_due_at=r.first_due_at,
            closed_at=r.closed_at, closed_by=staff.get(r.closed_by_id), created_at=r.created_at,
            created_by=staff.get(r.created_by_id),
        ))
    return out


def get_callback(session, callback_id: int, lock: bool = False) -> Callback:
    """A callback by number; `lock` holds its row until the transaction ends (PostgreSQL: two agents
    recording tries at once are applied one after the other; SQLite's writes are serialised anyway)."""
    query = select(Callback).where(Callback.id == callback_id)
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(_("no callback #{id}").format(id=callback_id), hint=_("csdesk callback list --due all shows the pending ones"))
    return row


def _check_choice(value: str | None, choices: dict[str, str], what: str) -> str:
    from csdesk.workflows.calls import check_choice

    return check_choice((value or "").replace("_", "-"), choices, what)


def _text(value: str | None, what: str, limit: int = 2000) -> str | None:
    from csdesk.workflows.customers import clean_text

    return clean_text(value, what, limit)


def _complaint_model():
    try:
        from csdesk.models import Complaint  # issue 3
    except ImportError:
        return None
    return Complaint


def _find_project(session, code: str) -> Project:
    raw = (code or "").strip().upper()
    if re.fullmatch(r"P?\d{1,10}", raw):
        raw = f"P{int(raw.lstrip('P')):06d}"
    project = session.exec(select(Project).where(Project.code == raw)).first()
    if project is None:
        raise NotFound(_("no project with code {code}").format(code=raw))
    return project


def _active_staff_id(session, staff_id: int | None) -> int | None:
    if not staff_id:
        return None
    staff = session.get(Staff, staff_id)
    return staff.id if staff is not None and staff.active else None


def _settings(desk: Desk):
    return vr.load_rules(desk.settings), vr.calendar(desk.settings)


def due_text(text: str, tz, now: datetime, default_time: time) -> datetime:
    """A human WHEN for a due time; a date without a time of day means `callbacks.default_time`."""
    return dates.parse_when(text, tz=tz, at=now, default_time=default_time, future=True)


# --- scheduling ---------------------------------------------------------------------------------


def _subject(session, text: str | None) -> tuple[str | None, Any]:
    if not text:
        return None, None
    m = re.fullmatch(r"\s*(complaint|project|call)\s*[:#]\s*(\S+)\s*", text, re.I)
    if not m:
        raise InvalidValue(f"{text!r}: --for takes complaint:ID, project:CODE or call:ID")
    kind, ref = m.group(1).lower(), m.group(2)
    if kind == "project":
        return kind, _find_project(session, ref)
    if not ref.lstrip("#").isdigit():
        raise InvalidValue(f"{text!r}: a {kind} is named by its number, e.g. {kind}:12")
    number = int(ref.lstrip("#"))
    if kind == "call":
        call = session.get(Call, number)
        if call is None:
            raise NotFound(_("no call #{id}").format(id=number))
        return kind, call
    model = _complaint_model()
    row = session.get(model, number) if model is not None else None
    if row is None:
        raise NotFound(_("no complaint #{id}").format(id=number))
    return kind, row


def _new_callback(desk: Desk, **fields) -> Callback:
    cb = Callback(status="pending", attempts=0, created_at=desk.now,
                  created_by_id=desk.actor.id if desk.actor else None, **fields)
    cb.first_due_at = cb.due_at
    desk.session.add(cb)
    return cb


def schedule_callback(
    desk: Desk,
    due: datetime,
    customer: str | None = None,
    phone: str | None = None,
    subject: str | None = None,
    purpose: str | None = None,
    assignee: str | None = None,
    note: str | None = None,
    every: str | None = None,
    count: int | None = None,
    until: date | None = None,
    rrule: str | None = None,
    exact: bool = False,
) -> Scheduled:
    """Schedule a callback, or a series of them (`every` + `count`/`until`, or an RFC 5545 `rrule`).

    A series' visits land on working days (one that falls on a Sunday or a holiday moves to the next
    working day, same time of day) unless `exact`."""
    actor = desk.require_actor()
    session = desk.session
    due = due.astimezone(UTC)
    kind, row = _subject(session, subject)
    subject_customer = None
    if kind == "complaint":
        subject_customer = row.customer_id
    elif kind in ("project", "call"):
        subject_customer = row.customer_id

    number = phones.normalize(phone) if phone else None
    if customer:
        cust = find_customer(session, customer)
    elif number:
        cust = customer_by_phone(session, number)
        if cust is None:
            raise NotFound(f"no customer with phone {phones.display(number)}",
                           hint="csdesk customer add NAME --phone … adds one, or name the customer with --customer")
    elif subject_customer:
        cust = session.get(Customer, subject_customer)
    else:
        raise InvalidValue(_("say who to call: --phone P, --customer CODE, or --for complaint:ID|project:CODE|call:ID"))
    if subject_customer and subject_customer != cust.id:
        other = session.get(Customer, subject_customer)
        raise InvalidValue(f"{kind} {_subject_ref(kind, row)} is about {other.code}, not {cust.code}")

    repeating = bool(every or rrule)
    purpose = _check_choice(purpose, PURPOSES, "purpose") if purpose else (
        "complaint-visit" if kind == "complaint" else "periodic" if repeating else "promise")
    if purpose == "complaint-visit" and kind != "complaint":
        raise InvalidValue(_("a complaint visit needs the complaint: --for complaint:ID"))
    who = find_staff(session, assignee) if assignee else session.get(Staff, actor.id)
    note = _text(note, "the note")
    if due < desk.now - timedelta(minutes=1):
        raise InvalidValue(_("the due time {due} is in the past (now is {now})").format(due=dates.fmt(due, desk.tz), now=dates.fmt(desk.now, desk.tz)),
                           hint=_("for back-dated work give --now"))
    fields = dict(
        customer_id=cust.id, phone=number, purpose=purpose,
        complaint_id=row.id if kind == "complaint" else None,
        project_id=row.id if kind == "project" else (row.project_id if kind in ("call", "complaint") else None),
        call_id=row.id if kind == "call" else None, assignee_id=who.id, note=note,
    )

    if not (every or rrule):
        if count is not None or until is not None or exact:
            raise InvalidValue(_("--count, --until and --exact are for a repeating callback: give --every SPAN or --rrule RULE too"))
        cb = _new_callback(desk, due_at=due, **fields)
        audit(desk, "callback.schedule", cb)
        return Scheduled(_infos(session, [cb], desk.now))

    if every and rrule:
        raise InvalidValue(_("give either --every or --rrule, not both"))
    tz = desk.tz
    rule = vr.every_to_rrule(every) if every else vr.check_rrule(rrule, due, tz)
    rule = vr.month_end_safe(rule, due.astimezone(tz).date())
    if count is not None or until is not None:
        if count is not None and until is not None:
            raise InvalidValue(_("give either --count or --until, not both"))
        if until is not None and until < due.astimezone(tz).date():
            raise InvalidValue(_("--until {until} is before the first visit ({due})").format(until=until, due=dates.fmt(due, tz)))
        parts = vr._parts(rule)
        parts.pop("COUNT", None)
        parts.pop("UNTIL", None)
        rule = vr.with_end(vr._join(parts), count=count, until=until)
    finite = vr.is_finite(rule)
    planned = vr.occurrences(rule, due, tz, limit=vr.MAX_SERIES + 1 if finite else 1)
    if not planned:
        raise InvalidValue(_("{rule} gives no visit from {due} on").format(rule=rule, due=dates.fmt(due, tz)))
    if len(planned) > vr.MAX_SERIES:
        raise InvalidValue(_("that series makes more than {max} visits; use a smaller --count or an earlier --until").format(max=vr.MAX_SERIES))
    series = CallbackSeries(
        customer_id=cust.id, project_id=fields["project_id"], complaint_id=fields["complaint_id"], rule="manual",
        purpose=purpose, rrule=rule, start_at=due, assignee_id=who.id, note=note, active=True, exact=exact,
        created_at=desk.now, created_by_id=actor.id,
    )
    session.add(series)
    audit(desk, "callback_series.create", series)
    cal = vr.calendar(desk.settings)
    made = []
    for seq, when in planned:
        cb = _new_callback(desk, due_at=_rule_due(cal, series, when), series_id=series.id, seq=seq, **fields)
        made.append(cb)
    session.flush()
    for cb in made:
        audit(desk, "callback.schedule", cb, flush=False)
    return Scheduled(_infos(session, made, desk.now), series.id, rule, open_ended=not finite)


def _subject_ref(kind: str, row) -> str:
    return row.code if kind == "project" else f"#{row.id}"


# --- listing ------------------------------------------------------------------------------------


def _day_start(desk: Desk, day: date) -> datetime:
    return datetime.combine(day, time(0, 0)).replace(tzinfo=desk.tz).astimezone(UTC)


def list_callbacks(
    desk: Desk,
    due: str | None = None,
    assignee: str | None = None,
    customer: str | None = None,
    purpose: str | None = None,
    status: str = "pending",
    limit: int = 100,
) -> CallbackList:
    """Callbacks by due time, overdue first. `due`: today (incl. overdue) | tomorrow | week (to Sunday,
    incl. overdue) | overdue | all; default today for pending ones, all for the others."""
    session = desk.session
    status = (status or "pending").strip().lower()
    if status != "all" and status not in STATUSES:
        raise InvalidValue(_("unknown status {value!r} (use one of: {choices}, all)").format(value=status, choices=", ".join(STATUSES)))
    window = (due or ("today" if status == "pending" else "all")).strip().lower()
    window = DUE_WORDS.get(window, window)
    if window not in DUE_WINDOWS:
        raise InvalidValue(_("unknown --due {value!r} (use one of: {choices})").format(value=window, choices=", ".join(DUE_WINDOWS)))
    if window == "overdue" and status != "pending":
        raise InvalidValue(_("only pending callbacks can be overdue"))
    check_limit(limit)
    conds = []
    if status != "all":
        conds.append(Callback.status == status)
    today = desk.now.astimezone(desk.tz).date()
    if window == "today":
        conds.append(Callback.due_at < _day_start(desk, today + timedelta(days=1)))
    elif window == "tomorrow":
        conds.append(Callback.due_at >= _day_start(desk, today + timedelta(days=1)))
        conds.append(Callback.due_at < _day_start(desk, today + timedelta(days=2)))
    elif window == "week":
        conds.append(Callback.due_at < _day_start(desk, today + timedelta(days=7 - today.weekday())))
    elif window == "overdue":
        conds.append(Callback.due_at < desk.now)
    if assignee:
        if assignee.strip().lower() in ("me", "我"):
            conds.append(Callback.assignee_id == desk.require_actor().id)
        elif assignee.strip().lower() in ("nobody", "none", "-"):
            conds.append(Callback.assignee_id.is_(None))
        else:
            conds.append(Callback.assignee_id == find_staff(session, assignee, active_only=False).id)
    if customer:
        conds.append(Callback.customer_id == find_customer(session, customer).id)
    if purpose:
        conds.append(Callback.purpose == _check_choice(purpose, PURPOSES, "purpose"))
    where = and_(*conds) if conds else literal(True)
    total, overdue = session.exec(
        select(func.count(), func.coalesce(func.sum(case(
            (and_(Callback.status == "pending", Callback.due_at < desk.now), 1), else_=0)), 0))
        .select_from(Callback).where(where)
    ).one()
    rows = session.exec(select(Callback).where(where).order_by(Callback.due_at, Callback.id).limit(limit)).all()
    return CallbackList(_infos(session, list(rows), desk.now), total, overdue, window)


def callback_detail(desk: Desk, callback_id: int) -> CallbackDetail:
    session = desk.session
    cb = get_callback(session, callback_id)
    series = None
    if cb.series_id:
        s = session.get(CallbackSeries, cb.series_id)
        total = session.exec(select(func.count()).select_from(Callback).where(Callback.series_id == s.id)).one()
        series = {"id": s.id, "rule": s.rule, "rrule": s.rrule, "start_at": s.start_at, "active": s.active,
                  "ended_reason": s.ended_reason, "visits_made": total, "open_ended": not vr.is_finite(s.rrule)}
    entries = session.exec(
        select(AuditEntry).where(AuditEntry.entity == "callback", AuditEntry.entity_id == cb.id).order_by(AuditEntry.id)
    ).all()
    afters = [json.loads(e.after) if e.after else {} for e in entries]
    people = _names(session, [v for a in afters for k, v in a.items() if k.endswith("_by_id") or k == "assignee_id"])
    history = []
    for entry, changes in zip(entries, afters):
        if entry.action == "callback.schedule":
            changes = {k: changes.get(k) for k in ("due_at", "purpose", "assignee_id", "note") if changes.get(k) is not None}
        shown = {}
        for k, v in changes.items():
            if k in ("assignee_id", "closed_by_id", "created_by_id"):
                shown[k.removesuffix("_id")] = people.get(v, v)
            elif k not in ("id",):
                shown[k] = v
        history.append(HistoryEntry(entry.at, entry.actor, entry.action, shown))
    return CallbackDetail(_infos(session, [cb], desk.now)[0], series, history)


# --- outcomes -----------------------------------------------------------------------------------


def record_attempt(
    desk: Desk,
    callback_id: int,
    outcome: str,
    satisfied: bool | None = None,
    score: int | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> AttemptResult:
    """Record a try at a callback: reached (done), no_answer (retry later, or missed) or wrong_number."""
    actor = desk.require_actor()
    session = desk.session
    outcome = _check_choice(outcome, {"reached": "接通", "no-answer": "未接", "wrong-number": "错号"}, "outcome").replace("-", "_")
    cb = get_callback(session, callback_id, lock=True)
    if cb.status != "pending":
        raise InvalidTransition(
            _("callback #{id} is {status}; only a pending callback can be tried").format(id=cb.id, status=status_label(cb.status)),
            hint=_("csdesk callback schedule … makes a new one"))
    at = (at or desk.now).astimezone(UTC)
    if at > desk.now + timedelta(minutes=5):
        raise InvalidValue(_("--at {when} is in the future").format(when=dates.fmt(at, desk.tz)))
    if cb.last_attempt_at and at < cb.last_attempt_at:
        raise InvalidValue(_("--at {when} is before the last try ({last})").format(
            when=dates.fmt(at, desk.tz), last=dates.fmt(cb.last_attempt_at, desk.tz)))
    follows, what = _follows(session, cb)
    if follows is not None and at < follows - timedelta(minutes=1):
        raise InvalidValue(_("--at {when} is before {what} ({then})").format(
            when=dates.fmt(at, desk.tz), what=what, then=dates.fmt(follows, desk.tz)))
    if outcome != "reached" and (satisfied is not None or score is not None):
        raise InvalidValue(_("--satisfied, --unsatisfied and --score need --reached"))
    if score is not None and not 1 <= score <= 5:
        raise InvalidValue(_("--score {score}: a score is 1 to 5").format(score=score))
    note = _text(note, "the note")
    is_complaint_visit = cb.complaint_id is not None and cb.purpose == "complaint-visit"
    if outcome == "reached" and is_complaint_visit:
        if satisfied is None:
            raise InvalidValue(_(
                "callback #{id} is the return visit of complaint #{complaint}: say --satisfied or --unsatisfied "
                "(satisfied closes the complaint, unsatisfied reopens it)").format(id=cb.id, complaint=cb.complaint_id))
        if satisfied is False and not note:
            raise InvalidValue(_("an unsatisfied complaint visit needs --note: it becomes the reason the complaint is reopened"))
        if satisfied:
            _check_may_close(session, actor, cb)

    rules, cal = _settings(desk)
    before = snapshot(cb)
    cb.attempts += 1
    cb.last_attempt_at = at
    cb.outcome = outcome
    if note:
        cb.result_note = note
    result_next = None
    missed = False
    if outcome == "reached":
        cb.status = "done"
        cb.satisfied = satisfied
        cb.score = score
        action = "callback.done"
    elif outcome == "wrong_number":
        cb.status = "missed"
        missed = True
        action = "callback.wrong_number"
    elif cb.attempts >= rules.max_attempts:
        cb.status = "missed"
        missed = True
        action = "callback.missed"
    else:
        cb.due_at = result_next = vr.retry_due(cal, at, rules.retry_delay)
        action = "callback.no_answer"
    if cb.status != "pending":
        cb.closed_at = at
        cb.closed_by_id = actor.id
    session.add(cb)
    audit(desk, action, cb, before=before)

    follow_up: list[str] = []
    if outcome == "reached" and is_complaint_visit:
        line = _close_the_loop(desk, cb)
        if line:
            follow_up.append(line)
    if cb.status != "pending" and cb.series_id:
        follow_up.extend(_roll_series(desk, session.get(CallbackSeries, cb.series_id), rules, cal))
    supervisor = None
    if missed and cb.assignee_id:
        boss_id = _boss_of(desk, cb.assignee_id)
        supervisor = _names(session, [boss_id]).get(boss_id) if boss_id else None
    return AttemptResult(_infos(session, [cb], desk.now)[0], outcome, result_next, missed, rules.max_attempts, supervisor, follow_up)


def _follows(session, cb: Callback) -> tuple[datetime | None, str]:
    """The moment a callback follows, before which no try can have happened: a complaint visit follows
    the complaint's resolution, a promise made on a call follows that call, anything else its scheduling.
    (The callback row itself may have been written later, when the resolution or the call was entered
    after the fact.)"""
    if cb.complaint_id is not None and cb.purpose == "complaint-visit":
        model = _complaint_model()
        complaint = session.get(model, cb.complaint_id) if model is not None else None
        if complaint is not None and complaint.resolved_at is not None:
            return complaint.resolved_at, f"complaint #{complaint.id} was resolved"
    if cb.call_id is not None:
        call = session.get(Call, cb.call_id)
        if call is not None:
            return call.at, f"call #{call.id} that made the promise"
    if cb.rule in ("handover", "acceptance") and cb.project_id is not None:
        project = session.get(Project, cb.project_id)
        moment = project.handed_over_at if cb.rule == "handover" else project.accepted_at
        if moment is not None:
            return moment, f"project {project.code}'s {cb.rule}"
    if cb.created_at is not None:
        return cb.created_at, "the callback was scheduled"
    return None, ""


def _check_may_close(session, actor, cb: Callback) -> None:
    """Recording a satisfied return visit closes the complaint: only the visit's or the complaint's
    assignee or owner may, or someone who outranks them."""
    model = _complaint_model()
    complaint = session.get(model, cb.complaint_id) if model is not None else None
    people = {cb.assignee_id}
    if complaint is not None:
        people |= {complaint.assignee_id, complaint.owner_id}
    people.discard(None)
    if actor.id in people:
        return
    ranks = [ROLE_RANK.get(p.role, 1) for p in (session.get(Staff, i) for i in people) if p is not None]
    if ranks and actor.rank > max(ranks):
        return
    names = ", ".join(sorted(_names(session, people).values())) or "nobody"
    raise PermissionDenied(
        f"callback #{cb.id} is the return visit of complaint #{cb.complaint_id}: a satisfied visit closes the complaint, "
        f"so only its assignee or owner ({names}) or someone above them can record it; {actor.name} is a {actor.role}",
        hint="ask them to record it, or have it reassigned (callback reschedule --assign)",
    )


def _close_the_loop(desk: Desk, cb: Callback) -> str | None:
    """A reached complaint visit: satisfied closes the complaint, unsatisfied reopens it one level up."""
    model = _complaint_model()
    if model is None:
        return None
    try:
        from csdesk.workflows import complaints
    except ImportError:
        return None
    complaint = desk.session.get(model, cb.complaint_id)
    if complaint is None:
        return _("complaint #{id} no longer exists").format(id=cb.complaint_id)
    last = complaints.last_entry_at(desk.session, complaint.id)
    if last is not None and cb.last_attempt_at < last:
        return _("complaint #{id} changed after this visit was made (last entry {when}): left as it is").format(
            id=complaint.id, when=dates.fmt(last, desk.tz))
    if cb.satisfied:
        if complaint.status != "resolved":
            return _("complaint #{id} is {status}, not resolved: left as it is").format(id=complaint.id, status=complaint.status)
        complaints.close_complaint(desk, complaint.id, visit_id=cb.id, at=cb.last_attempt_at)
        return _("complaint #{id} closed (customer satisfied)").format(id=complaint.id)
    if complaint.status not in ("resolved", "closed"):
        return _("complaint #{id} is {status} (being worked on): left as it is").format(id=complaint.id, status=complaint.status)
    complaints.reopen_after_visit(desk, complaint.id, reason=cb.result_note, visit_id=cb.id, at=cb.last_attempt_at)
    complaint = desk.session.get(model, cb.complaint_id)
    return _("complaint #{id} reopened and escalated to level {level} (customer not satisfied)").format(id=complaint.id, level=complaint.level)


def reschedule_callback(
    desk: Desk, callback_id: int, due: datetime | None = None, reason: str | None = None, assignee: str | None = None,
) -> CallbackInfo:
    """Move a pending callback to another time and/or hand it to someone else."""
    desk.require_actor()
    session = desk.session
    cb = get_callback(session, callback_id, lock=True)
    if cb.status != "pending":
        raise InvalidTransition(_("callback #{id} is {status}; only a pending callback can be rescheduled").format(id=cb.id, status=status_label(cb.status)))
    if due is None and assignee is None:
        raise InvalidValue(_("give --due WHEN and/or --assign NAME"))
    before = {"due_at": cb.due_at.isoformat(), "assignee_id": cb.assignee_id}
    if due is not None:
        if due < desk.now - timedelta(minutes=1):
            raise InvalidValue(_("the new due time {due} is in the past (now is {now})").format(due=dates.fmt(due, desk.tz), now=dates.fmt(desk.now, desk.tz)))
        cb.due_at = due.astimezone(UTC)
    if assignee is not None:
        cb.assignee_id = find_staff(session, assignee).id
    after = {"due_at": cb.due_at.isoformat(), "assignee_id": cb.assignee_id}
    if after == before:
        raise InvalidValue(_("callback #{id} is already due {due} for that person: nothing to change").format(id=cb.id, due=dates.fmt(cb.due_at, desk.tz)))
    session.add(cb)
    audit(desk, "callback.reschedule", cb, before=before, after={**after, "reason": _text(reason, "the reason", 500)})
    return _infos(session, [cb], desk.now)[0]


def cancel_callback(desk: Desk, callback_id: int, reason: str, series: bool = False) -> list[CallbackInfo]:
    """Cancel a pending callback (with `series`, also the later ones of its series, and end the series).

    The assignee, whoever scheduled it, or a supervisor or above may cancel."""
    actor = desk.require_actor()
    session = desk.session
    cb = get_callback(session, callback_id, lock=True)
    reason = _text(reason, "the reason", 500)
    if not reason:
        raise InvalidValue(_("cancelling needs --reason"))
    if cb.status != "pending":
        raise InvalidTransition(_("callback #{id} is {status}; only a pending callback can be cancelled").format(id=cb.id, status=status_label(cb.status)))
    if actor.rank < ROLE_RANK["supervisor"] and actor.id not in (cb.assignee_id, cb.created_by_id):
        raise PermissionDenied(f"callback #{cb.id} is {_names(session, [cb.assignee_id]).get(cb.assignee_id) or 'unassigned'}'s; "
                               f"only its assignee, whoever scheduled it, or a supervisor or above can cancel it")
    if series and not cb.series_id:
        raise InvalidValue(_("callback #{id} is not part of a series").format(id=cb.id))
    rows = [cb]
    if series:
        rows += list(session.exec(select(Callback).where(
            Callback.series_id == cb.series_id, Callback.status == "pending", Callback.id != cb.id,
            Callback.due_at >= cb.due_at)).all())
    for row in rows:
        before = snapshot(row)
        row.status = "cancelled"
        row.result_note = reason
        row.closed_at = desk.now
        row.closed_by_id = actor.id
        session.add(row)
        audit(desk, "callback.cancel", row, before=before)
    if cb.series_id:
        s = session.get(CallbackSeries, cb.series_id)
        if series:
            _end_series(desk, s, f"cancelled: {reason}")
        else:
            rules, cal = _settings(desk)
            _roll_series(desk, s, rules, cal)
    return _infos(session, rows, desk.now)


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


@hooks.listen("complaint_resolved")
def _on_complaint_resolved(desk: Desk, complaint_id: int, **_: Any):
    return schedule_complaint_visit(desk, complaint_id)


def _cancel_for_complaint(desk: Desk, complaint_id: int, at: datetime, reason: str, purposes: tuple[str, ...] | None) -> list[int]:
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


@hooks.listen("complaint_reopened")
def _on_complaint_reopened(desk: Desk, complaint_id: int, at: datetime, reason: str, **_: Any):
    """Reopened by hand: its pending return visit is cancelled (resolving again schedules a new one)."""
    return _cancel_for_complaint(desk, complaint_id, at, reason, ("complaint-visit",))


@hooks.listen("complaint_voided")
def _on_complaint_voided(desk: Desk, complaint_id: int, at: datetime, reason: str, **_: Any):
    """Voided: every pending callback about it is cancelled."""
    return _cancel_for_complaint(desk, complaint_id, at, reason, None)


@hooks.listen("complaint_moved")
def _on_complaint_moved(desk: Desk, complaint_id: int, customer_id: int, project_id: int | None, **_: Any):
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


@hooks.listen("satisfied_visit")
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
    from csdesk.workflows.complaints import notice_boss

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


@register_section("回访 callbacks")
def _customer_section(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
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


@register_open_work("callbacks pending")
def _open_callbacks(session, staff_id: int) -> int:
    return session.exec(select(func.count()).select_from(Callback).where(
        Callback.assignee_id == staff_id, Callback.status == "pending")).one()


# --- demo ---------------------------------------------------------------------------------------

_DEMO_NOTES = {
    True: ["维修后无渗漏，客户满意", "客户表示处理及时", "客户对师傅态度很满意", "回访满意，无其他问题", "客户确认已修复"],
    False: ["客户反映问题仍未解决，裂缝又出现了", "客户不满意处理速度", "客户认为赔偿不到位"],
}


def demo_callbacks(desk: Desk, rng, made: dict[str, Any]) -> list[str]:
    """Visits in every state: the rule visits the complaints and projects steps left behind, worked
    through (satisfied, one unsatisfied → its complaint reopened); hand-made promises that were
    reached, not answered twice, missed, a wrong number; a month-end series; the periodic visits."""
    from collections import Counter

    session = desk.session
    now, tz = desk.now, desk.tz
    rules, cal = _settings(desk)
    staff = made.get("staff") or {}
    names = {a.id: a for a in staff.values()}
    fallback = staff.get("王芳") or desk.actor

    def as_(who_id, when):
        who = names.get(who_id) or fallback
        return dataclasses.replace(desk, now=when, actor=who)

    # 1. Rule visits that came due more than a day ago: mostly reached and satisfied.
    unsatisfied_done = False
    old = session.exec(select(Callback).where(Callback.status == "pending", Callback.due_at < now - timedelta(days=1))
                       .order_by(Callback.due_at, Callback.id)).all()
    for cb in old:
        when = min(max(cb.due_at, cb.created_at or cb.due_at) + timedelta(minutes=rng.randint(5, 90)), now - timedelta(minutes=1))
        d = as_(cb.assignee_id, when)
        if cb.purpose == "complaint-visit":
            model = _complaint_model()
            status = desk.session.get(model, cb.complaint_id).status if model else None
            if status == "resolved" and not unsatisfied_done:
                record_attempt(d, cb.id, "reached", satisfied=False, score=2, note=_DEMO_NOTES[False][0])
                unsatisfied_done = True
                continue
        happy = rng.random() < 0.85
        record_attempt(d, cb.id, "reached", satisfied=happy, score=rng.choice((4, 5, 5)) if happy else rng.choice((2, 3)),
                       note=rng.choice(_DEMO_NOTES[happy]))

    # 2. Hand-made promises on the last working days, in every state.
    customers = made.get("customers") or list(session.exec(select(Customer.id).order_by(Customer.id).limit(50)).all())
    if not customers:
        return ["  callbacks:  (no customers to call)"]
    picked = rng.sample(customers, min(6, len(customers)))
    workdays = []
    day = now.astimezone(tz).date() - timedelta(days=1)
    while len(workdays) < 3:
        if cal.is_workday(day):
            workdays.append(day)
        day -= timedelta(days=1)
    agent = staff.get("王芳") or fallback

    def moment(d, h, m=0):
        return datetime.combine(d, time(h, m)).replace(tzinfo=tz).astimezone(UTC)

    def promise(customer_id, day, note, due_h=10, due_m=30):
        d = dataclasses.replace(desk, now=moment(day, 9), actor=agent)
        cust = session.get(Customer, customer_id)
        return schedule_callback(d, moment(day, due_h, due_m), customer=cust.code, note=note).callbacks[0]

    reached = promise(picked[0], workdays[0], "报价确认后回电", 11, 0)
    record_attempt(dataclasses.replace(desk, now=moment(workdays[0], 11, 5), actor=agent), reached.id, "reached",
                   satisfied=True, score=5, note="客户接受报价，约周末上门")
    twice = promise(picked[1], workdays[0], "确认上门维修时间")
    r = record_attempt(dataclasses.replace(desk, now=moment(workdays[0], 10, 30), actor=agent), twice.id, "no_answer")
    record_attempt(dataclasses.replace(desk, now=r.next_due, actor=agent), twice.id, "no_answer", note="关机")
    missed = promise(picked[2], workdays[2], "通知验收时间")
    at = moment(workdays[2], 10, 30)
    for _ in range(rules.max_attempts):
        r = record_attempt(dataclasses.replace(desk, now=at, actor=agent), missed.id, "no_answer")
        at = r.next_due or at
    wrong = promise(picked[3], workdays[1], "核对发票抬头")
    record_attempt(dataclasses.replace(desk, now=moment(workdays[1], 10, 40), actor=agent), wrong.id, "wrong_number", note="空号")
    later = schedule_callback(dataclasses.replace(desk, actor=agent), vr.next_business_moment(cal, now + timedelta(hours=2)),
                              customer=session.get(Customer, picked[4]).code,
                              note="客户要求下午回电确认材料颜色")

    # 3. A quarterly series from the end of a month (month ends kept: 31st → 30th/28th …).
    month_end = now.astimezone(tz).date().replace(day=1)
    while True:  # the next 31st still ahead
        month_end = (month_end + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if month_end.day == 31 and moment(month_end, 10) > now:
            break
        month_end += timedelta(days=1)
    key_ids = made.get("key_customers") or customers
    series = schedule_callback(
        dataclasses.replace(desk, actor=staff.get("李娜") or desk.actor), moment(month_end, 10),
        customer=session.get(Customer, key_ids[0]).code, every="1 month", count=4, purpose="periodic",
        note="重点客户月度回访")

    # 4. The periodic visits the rules call for (key accounts, VIPs, owners).
    periodic = generate_periodic_visits(desk, now)

    statuses = dict(session.exec(select(Callback.status, func.count()).group_by(Callback.status)).all())
    overdue = session.exec(select(func.count()).select_from(Callback).where(
        Callback.status == "pending", Callback.due_at < now)).one()
    sat = session.exec(select(func.count()).select_from(Callback).where(Callback.satisfied == True)).one()  # noqa: E712
    unsat = session.exec(select(func.count()).select_from(Callback).where(Callback.satisfied == False)).one()  # noqa: E712
    by_rule = Counter(m.rule for m in periodic)
    made["callbacks"] = sum(statuses.values())
    return [
        f"  callbacks:  {sum(statuses.values())} — " + ", ".join(f"{statuses.get(s, 0)} {STATUSES[s]} {s}" for s in STATUSES)
        + f"; {overdue} overdue",
        f"              {sat} satisfied, {unsat} unsatisfied" + (" (one reopened its complaint)" if unsatisfied_done else "")
        + f"; #{twice.id} not answered twice, #{missed.id} missed, #{wrong.id} wrong number, #{later.callbacks[0].id} upcoming",
        f"              series #{series.series_id}: month-end visits "
        + ", ".join(dates.fmt(c.due_at, tz)[:10] for c in series.callbacks)
        + "; periodic: " + (", ".join(f"{n} {RULE_LABELS[r]}" for r, n in sorted(by_rule.items())) or "none"),
    ]
