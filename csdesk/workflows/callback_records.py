"""A callback's record: purposes, statuses and their labels, the results the callback workflows return, and
the shared steps (loading a callback, naming its subject, reading many at once with a handful of queries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

from sqlmodel import select

from csdesk import dates
from csdesk.errors import InvalidValue, NotFound
from csdesk.i18n import N_, _
from csdesk.models import Call, Callback, Customer, CustomerPhone, Project, Staff
from csdesk.workflows import Desk
from csdesk.workflows import visit_rules as vr

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
    from csdesk.workflows.lookup import check_choice

    return check_choice((value or "").replace("_", "-"), choices, what)


def _text(value: str | None, what: str, limit: int = 2000) -> str | None:
    from csdesk.workflows.lookup import clean_text

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
    if cb.assignee_id is None:  # a rule's visit whose own person has left: the [assignment] rules choose
        from csdesk.workflows import assignment

        assignment.assign_new_callback(desk, cb)
    desk.session.add(cb)
    return cb


def _subject_ref(kind: str, row) -> str:
    return row.code if kind == "project" else f"#{row.id}"


# --- listing ------------------------------------------------------------------------------------


def _day_start(desk: Desk, day: date) -> datetime:
    return datetime.combine(day, time(0, 0)).replace(tzinfo=desk.tz).astimezone(UTC)
