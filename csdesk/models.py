"""The tables: one SQLModel class per table.

Rules for every table: money is integer fen (`*_fen`, BigInteger), times are UTC (`UTCDateTime`, naive
UTC in the column, aware UTC in Python), dates are local calendar dates. Status-like columns are short
strings checked by the workflows.
"""

from datetime import date, datetime, timezone
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

# Stable constraint names, so Alembic batch migrations on SQLite can find them again.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, stored as naive UTC, aware UTC out — the same on SQLite and PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)

    def result_processor(self, dialect, coltype):
        # SQLite keeps the text SQLAlchemy wrote ("2026-11-30 16:00:00.000000"): read it with
        # datetime.fromisoformat instead of SQLAlchemy's regular expression and a second step (a report
        # reads hundreds of thousands of them).
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLAlchemy's own text gets its zone in the parse ("+00:00" parses to timezone.utc): datetime.replace()
        # costs eight times the parse. Other text (one that says a zone of its own, read as UTC whatever it
        # says; a date alone) the way it always was read.
        parse, utc = datetime.fromisoformat, timezone.utc

        def process(value):
            if value is None:
                return None
            if value.__class__ is not str:
                return value.replace(tzinfo=utc)
            if len(value) == 26 and value[19] == ".":
                # SQLAlchemy's own text: parsed as UTC at once, without a second datetime from replace()
                # (~0.1 µs instead of ~1 µs a value; fromisoformat returns timezone.utc itself for +00:00).
                return parse(value + "+00:00")
            return parse(value).replace(tzinfo=utc)

        return process


class Table(SQLModel):
    """The base of every table class. Pydantic's validation schema is built the first time something
    validates a row, not at import: the tables are built on every command's start-up, and table classes
    are never validated on the way in (SQLModel constructs them), so this takes ~15 ms off every command.
    The annotations are real objects (no `from __future__ import annotations`) for the same reason: no
    string to evaluate per column."""

    model_config = ConfigDict(defer_build=True)


def utc_column(index: bool = False, nullable: bool = True):
    return Field(default=None, sa_type=UTCDateTime, index=index, nullable=nullable)


class Staff(Table, table=True):
    __tablename__ = "staff"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(sa_column_kwargs={"unique": True}, max_length=60)
    role: str = Field(max_length=20)  # specialist | supervisor | manager | director
    reports_to_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    email: Optional[str] = Field(default=None, max_length=200)
    active: bool = Field(default=True)
    created_at: Optional[datetime] = utc_column()
    # The operating-system login (SQLite) or database role (PostgreSQL) this person works under; once
    # anyone has one, csdesk acts as the person bound to the current login (migration 0007).
    login: Optional[str] = Field(default=None, unique=True, index=True, max_length=60)  # a unique index: no table rebuild
    # junior 初级 | intermediate 中级 | senior 高级: only intermediate and senior manage key accounts (0012).
    grade: str = Field(default="intermediate", max_length=12, sa_column_kwargs={"server_default": "intermediate"})


class Customer(Table, table=True):
    __tablename__ = "customer"
    id: Optional[int] = Field(default=None, primary_key=True)
    code: Optional[str] = Field(default=None, sa_column_kwargs={"unique": True}, max_length=20)
    name: Optional[str] = Field(default=None, max_length=100)  # None: unnamed caller, to be completed
    company: Optional[str] = Field(default=None, max_length=200)
    tier: str = Field(default="standard", max_length=10)  # standard | vip | key
    manager_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    address: Optional[str] = Field(default=None, max_length=300)
    source: Optional[str] = Field(default=None, max_length=60)
    notes: Optional[str] = Field(default=None)
    created_at: Optional[datetime] = utc_column()
    updated_at: Optional[datetime] = utc_column()
    # Set when this customer was a duplicate merged into another (migration 0007): its code still
    # resolves to the kept customer, and it leaves lists and searches.
    merged_into_id: Optional[int] = Field(default=None, index=True)
    merged_at: Optional[datetime] = utc_column()


class CustomerPhone(Table, table=True):
    """One row per number; a number belongs to one customer, so a lookup by number is one index probe."""

    __tablename__ = "customer_phone"
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    number: str = Field(sa_column_kwargs={"unique": True}, max_length=20)  # E.164
    position: int = Field(default=0)  # 0 = the customer's main number


class Project(Table, table=True):
    __tablename__ = "project"
    id: Optional[int] = Field(default=None, primary_key=True)
    code: Optional[str] = Field(default=None, sa_column_kwargs={"unique": True}, max_length=30)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    name: str = Field(max_length=200)
    site: Optional[str] = Field(default=None, max_length=300)
    owner_id: Optional[int] = Field(default=None, foreign_key="staff.id", index=True)
    contract_fen: int = Field(default=0, sa_type=sa.BigInteger)
    signed_on: Optional[date] = None
    handed_over_at: Optional[datetime] = utc_column()
    accepted_at: Optional[datetime] = utc_column()
    warranty_months: int = Field(default=24)
    warranty_end: Optional[date] = None
    stage: str = Field(default="signed", max_length=20, index=True)
    created_at: Optional[datetime] = utc_column()


class Call(Table, table=True):
    __tablename__ = "call"
    __table_args__ = (
        sa.Index("ix_call_customer_at", "customer_id", "at", "voided_at"),  # covering: live calls counted from the index (0015)
        sa.Index("ix_call_agent_at", "agent_id", "at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    direction: str = Field(default="in", max_length=3)  # in | out
    channel: str = Field(default="phone", max_length=10)
    customer_id: int = Field(foreign_key="customer.id")
    phone: Optional[str] = Field(default=None, max_length=20)  # E.164 of the number used
    phone_raw: Optional[str] = Field(default=None, max_length=40)  # as typed
    agent_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    kind: str = Field(max_length=12)
    summary: str = Field(default="")
    duration_s: Optional[int] = None
    project_id: Optional[int] = Field(default=None, foreign_key="project.id", index=True)
    complaint_id: Optional[int] = Field(default=None, index=True)
    first_contact_resolved: bool = Field(default=False)
    created_at: Optional[datetime] = utc_column()
    # A voided call (logged by mistake, twice …) stays readable in `calls show` and the audit trail but
    # leaves lists, counts and reports (migration 0007).
    voided_at: Optional[datetime] = utc_column()
    voided_by_id: Optional[int] = Field(default=None)
    void_reason: Optional[str] = Field(default=None, max_length=500)
    # Where the phone system keeps the call's recording (a file name, URL or id), for quality checks (0011).
    recording: Optional[str] = Field(default=None, max_length=500)


class AuditEntry(Table, table=True):
    """Append-only: who did what to which row, when, with the row before and after (JSON)."""

    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entity", "entity", "entity_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    actor: Optional[str] = Field(default=None, max_length=60)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=30)
    entity_id: int
    before: Optional[str] = None
    after: Optional[str] = None
    # A director acting for `actor` (`--as` someone else while logins are bound): who really typed it (0007).
    admin_id: Optional[int] = Field(default=None)
    admin: Optional[str] = Field(default=None, max_length=60)


# --- complaints (issue 3): Complaint, ComplaintEvent -----------------------------------------


class Complaint(Table, table=True):
    """投诉: the current state of one complaint. Every change also appends a ComplaintEvent; the SLA
    (deadlines, breaches) is recomputed from those events, and the due/breach columns here are only a
    cache of that computation, kept for indexed lookups (lists, the reminder run, reports).

    status: open → acknowledged → resolved → closed; open/acknowledged ⇄ on_hold; resolved/closed →
    reopened (acknowledged). level: 1 specialist … 4 director.
    """

    __tablename__ = "complaint"
    __table_args__ = (
        sa.Index("ix_complaint_status_next_due", "status", "next_due"),
        sa.Index("ix_complaint_assignee_status", "assignee_id", "status"),
        sa.Index("ix_complaint_owner_status", "owner_id", "status"),
        sa.Index("ix_complaint_customer_opened", "customer_id", "opened_at"),
        # Reports count the deadlines that fell in a period (migration 0006):
        sa.Index("ix_complaint_first_response_due", "first_response_due"),
        sa.Index("ix_complaint_resolution_due", "resolution_due"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    project_id: Optional[int] = Field(default=None, foreign_key="project.id", index=True)
    call_id: Optional[int] = Field(default=None, foreign_key="call.id", index=True)
    severity: str = Field(max_length=8)  # normal | serious | major
    category: str = Field(max_length=20)
    summary: str
    status: str = Field(default="open", max_length=12)
    level: int = Field(default=1)
    owner_id: int = Field(foreign_key="staff.id")  # who opened it and stays on it (首问负责制)
    assignee_id: int = Field(foreign_key="staff.id")
    resolution: Optional[str] = None
    opened_at: datetime = Field(sa_type=UTCDateTime, index=True)
    acked_at: Optional[datetime] = utc_column()
    resolved_at: Optional[datetime] = utc_column(index=True)
    closed_at: Optional[datetime] = utc_column()
    # Cache of the SLA computed from the events (see csdesk/workflows/complaints.py):
    first_response_due: Optional[datetime] = utc_column()
    resolution_due: Optional[datetime] = utc_column()  # of the current (or, once resolved, the last) clock
    next_due: Optional[datetime] = utc_column()  # earliest running deadline; None unless a clock is running
    escalate_at: Optional[datetime] = utc_column(index=True)  # when auto-escalation will act; None: never
    response_breached: bool = Field(default=False)
    resolution_breached: bool = Field(default=False)  # the current (or last) resolution deadline
    breach_count: int = Field(default=0)  # resolution deadlines missed over the complaint's life
    created_at: Optional[datetime] = utc_column()
    updated_at: Optional[datetime] = utc_column()
    # The assignment rule that chose the assignee, and the decision as JSON (workflows/assignment.py, 0012).
    assign_rule: Optional[str] = Field(default=None, max_length=20)
    assign_detail: Optional[str] = Field(default=None)


class ComplaintEvent(Table, table=True):
    """One entry of a complaint's timeline: who did what, when (`at`, possibly entered later, at
    `recorded_at`). `key` is set on automatic escalations: one per (complaint, level, deadline), so a
    breach is acted on once however often and however concurrently the escalation pass runs."""

    __tablename__ = "complaint_event"
    __table_args__ = (
        sa.Index("ix_complaint_event_complaint_at", "complaint_id", "at"),
        # reports: resolutions, escalations … in a period, and of which complaints, from the index alone (0006, 0016)
        sa.Index("ix_complaint_event_kind_at", "kind", "at", "complaint_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id")
    at: datetime = Field(sa_type=UTCDateTime)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    actor_id: Optional[int] = Field(default=None, foreign_key="staff.id")  # None: automatic
    kind: str = Field(max_length=16)
    from_value: Optional[str] = Field(default=None, max_length=40)
    to_value: Optional[str] = Field(default=None, max_length=40)
    note: Optional[str] = None
    visit_id: Optional[int] = None  # the return visit (callback) that closed or reopened it
    key: Optional[str] = Field(default=None, sa_column_kwargs={"unique": True}, max_length=120)
    # JSON: the deadline and business time used of each clock this event ended, as computed then, so
    # that a later calendar change never rewrites a finished clock's verdict (migration 0008).
    verdict: Optional[str] = None


# --- callbacks and return visits (issue 4): Callback ------------------------------------------


class CallbackSeries(Table, table=True):
    """A repeating visit: an RFC 5545 RRULE from `start_at` (local wall clock of the configured zone).

    Made by hand (`callback schedule --every/--rrule`, rule "manual": every occurrence is created at
    once) or by a visit rule (warranty: all at once; key/vip/owner: open-ended, the next visit is
    created when the previous one is over). `key` names a rule's series ("periodic:C12",
    "warranty:P3"), so a rule never makes the same series twice.
    """

    __tablename__ = "callback_series"
    __table_args__ = (
        sa.Index("ix_callback_series_customer_rule", "customer_id", "rule"),
        sa.Index("ix_callback_series_active_rule", "active", "rule"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    key: Optional[str] = Field(default=None, sa_column_kwargs={"unique": True}, max_length=60)
    customer_id: int = Field(foreign_key="customer.id")
    project_id: Optional[int] = Field(default=None, foreign_key="project.id", index=True)
    complaint_id: Optional[int] = None
    rule: str = Field(max_length=12)  # manual | warranty | key | vip | owner
    purpose: str = Field(max_length=20)
    rrule: str = Field(max_length=300)  # RRULE body, without DTSTART
    start_at: datetime = Field(sa_type=UTCDateTime)  # DTSTART
    skip_first: bool = Field(default=False)  # DTSTART is an anchor (handover, acceptance), not a visit
    assignee_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    note: Optional[str] = None
    active: bool = Field(default=True)  # False once ended (tier changed, cancelled, last visit made)
    exact: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})  # hand-made: keep the typed times, even off working days
    ended_reason: Optional[str] = Field(default=None, max_length=300)
    created_at: Optional[datetime] = utc_column()
    created_by_id: Optional[int] = Field(default=None, foreign_key="staff.id")


class Callback(Table, table=True):
    """A promised call-back or a return visit (回访) by phone: due when, to whom, why, and how it went.

    status: pending → done (reached) | missed (no answer `max_attempts` times, or a wrong number) |
    cancelled. Every attempt, outcome and reschedule is also an audit entry.
    """

    __tablename__ = "callback"
    __table_args__ = (
        sa.Index("ix_callback_status_due", "status", "due_at"),
        sa.Index("ix_callback_assignee_status_due", "assignee_id", "status", "due_at"),
        sa.Index("ix_callback_customer_status", "customer_id", "status"),
        sa.Index("ix_callback_status_closed", "status", "closed_at"),
        sa.Index("ux_callback_series_seq", "series_id", "seq", unique=True),
        sa.Index("ix_callback_first_due_at", "first_due_at"),  # reports: the visits first due in a period (0014)
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    phone: Optional[str] = Field(default=None, max_length=20)  # E.164: the number to call, if not the main one
    purpose: str = Field(max_length=20)
    complaint_id: Optional[int] = Field(default=None, index=True)
    project_id: Optional[int] = Field(default=None, foreign_key="project.id", index=True)
    call_id: Optional[int] = Field(default=None, foreign_key="call.id", index=True)
    series_id: Optional[int] = Field(default=None, foreign_key="callback_series.id")
    seq: Optional[int] = None  # occurrence number within the series, from 1
    rule: Optional[str] = Field(default=None, max_length=12)  # the visit rule that made it; None: by hand
    key: Optional[str] = Field(default=None, sa_column_kwargs={"unique": True}, max_length=60)
    due_at: datetime = Field(sa_type=UTCDateTime)
    first_due_at: datetime = Field(sa_type=UTCDateTime)  # as first promised, before any retry or reschedule
    assignee_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    status: str = Field(default="pending", max_length=10)  # pending | done | missed | cancelled
    attempts: int = Field(default=0)
    last_attempt_at: Optional[datetime] = utc_column()
    outcome: Optional[str] = Field(default=None, max_length=12)  # reached | no_answer | wrong_number
    satisfied: Optional[bool] = None
    score: Optional[int] = None  # 1–5
    note: Optional[str] = None  # what the call is for (given when scheduling)
    result_note: Optional[str] = None  # what the customer said; or why it was cancelled
    closed_at: Optional[datetime] = utc_column()
    closed_by_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    created_at: Optional[datetime] = utc_column()
    created_by_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    # The assignment rule that chose the assignee, and the decision as JSON (workflows/assignment.py, 0012).
    assign_rule: Optional[str] = Field(default=None, max_length=20)
    assign_detail: Optional[str] = Field(default=None)


# --- projects, adjustments and money (issue 5): Adjustment, Instalment, Payment, CollectionStep --


class Adjustment(Table, table=True):
    """调整/整改: an item the customer asked for after handover, tracked to done and to their verdict.

    status: open → done → accepted; done → rejected (the customer's "no": open again, done again later).
    """

    __tablename__ = "adjustment"
    __table_args__ = (sa.Index("ix_adjustment_status_due", "status", "due_on"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    item: str = Field(max_length=500)
    responsible: str = Field(default="other", max_length=20)
    status: str = Field(default="open", max_length=10)  # open | done | accepted | rejected
    reported_on: date
    due_on: Optional[date] = None
    in_warranty: bool = Field(default=False)
    cost_fen: Optional[int] = Field(default=None, sa_type=sa.BigInteger)
    payer: Optional[str] = Field(default=None, max_length=12)  # company | customer | contractor
    call_id: Optional[int] = Field(default=None, foreign_key="call.id", index=True)
    created_by_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    created_at: Optional[datetime] = utc_column()
    done_at: Optional[datetime] = utc_column()
    verdict_at: Optional[datetime] = utc_column()
    rejections: int = Field(default=0)
    reason: Optional[str] = Field(default=None, max_length=500)  # why it was last rejected


class Instalment(Table, table=True):
    """One part of a project's payment plan. `due_on` is known once its event (sign, handover,
    acceptance) has happened; `paid_fen` is the sum of its payment allocations, kept with every write."""

    __tablename__ = "instalment"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "seq"),
        # Only unpaid instalments have a dunning/reminder life: index just those, by due date. Migration
        # 0004 makes it partial on PostgreSQL too (postgresql_where); naming that here would import the
        # PostgreSQL dialect into every command on SQLite (~20 ms of start-up).
        sa.Index("ix_instalment_open_due", "due_on", sqlite_where=sa.text("paid_fen < amount_fen")),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    seq: int
    name: str = Field(max_length=40)
    amount_fen: int = Field(sa_type=sa.BigInteger)
    due_event: str = Field(max_length=10)  # sign | handover | accept | date
    due_after: Optional[str] = Field(default=None, max_length=10)  # a span after the event: 30d, 2w, 1m
    due_on: Optional[date] = None
    paid_fen: int = Field(default=0, sa_type=sa.BigInteger)
    paid_on: Optional[date] = None  # the day it became fully paid
    created_at: Optional[datetime] = utc_column()


class Payment(Table, table=True):
    """Money received for a project (kind payment), or the recorded correction of one (kind reversal,
    negative, pointing at what it reverses). Never deleted. Whatever is not allocated is a credit."""

    __tablename__ = "payment"
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    kind: str = Field(default="payment", max_length=10)  # payment | reversal
    amount_fen: int = Field(sa_type=sa.BigInteger)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
    method: str = Field(default="transfer", max_length=10)  # transfer | cash | cheque | other
    ref: Optional[str] = Field(default=None, max_length=100)
    note: Optional[str] = Field(default=None, max_length=500)  # a reversal's reason
    reverses_id: Optional[int] = Field(default=None, foreign_key="payment.id", sa_column_kwargs={"unique": True})
    recorded_by_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    created_at: Optional[datetime] = utc_column()


class PaymentAllocation(Table, table=True):
    """How much of one payment (or reversal) went to one instalment."""

    __tablename__ = "payment_allocation"
    # The aging as of a past day sums the allocations per instalment from this index alone (0014).
    __table_args__ = (sa.Index("ix_payment_allocation_instalment_payment", "instalment_id", "payment_id", "amount_fen"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    instalment_id: int = Field(foreign_key="instalment.id", index=True)
    amount_fen: int = Field(sa_type=sa.BigInteger)


class CollectionStep(Table, table=True):
    """One rung of the dunning ladder (催收) taken for an instalment: reminder, call, notice, lawyer."""

    __tablename__ = "collection_step"
    id: Optional[int] = Field(default=None, primary_key=True)
    instalment_id: int = Field(foreign_key="instalment.id", index=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    step: str = Field(max_length=10)  # reminder | call | notice | lawyer
    at: datetime = Field(sa_type=UTCDateTime)
    by_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    note: Optional[str] = Field(default=None, max_length=500)


# --- reminders (issue 6): Notice -------------------------------------------------------------


class Notice(Table, table=True):
    """One announcement made by a reminder run. The unique key (what, which row, which deadline or step,
    which repeat) is what makes runs idempotent: a key is announced once, ever."""

    __tablename__ = "notice"
    __table_args__ = (sa.Index("ix_notice_mail", "mail_status", "recipient_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(sa_column_kwargs={"unique": True}, max_length=200)
    kind: str = Field(max_length=40)
    entity: str = Field(max_length=30)
    entity_id: int
    recipient_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    message: str
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    run_id: str = Field(max_length=40)
    mail_status: str = Field(default="none", max_length=10)  # none | pending | sent
    mail_attempts: int = Field(default=0)
    mail_error: Optional[str] = None
    mailed_at: Optional[datetime] = utc_column()


class Digest(Table, table=True):
    """One message a reminder run sends through a notify channel (a mail digest, a WeCom or DingTalk
    post). Recorded with its Message-ID and text before it is sent; status `sending` until the service
    answers: `sent` when it accepted it, `failed` when it refused it (its notices go into a later
    digest). A digest left `sending` (the run was killed, or the service answered too late) has an
    unknown fate: it is sent again, the same text with the same Message-ID, at most once per
    `notify.resend_unknown_after`."""

    __tablename__ = "digest"
    __table_args__ = (sa.Index("ix_digest_channel_status", "channel", "status"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    channel: str = Field(max_length=40)
    kind: str = Field(max_length=10)  # email | wecom | dingtalk
    recipient_id: Optional[int] = Field(default=None, foreign_key="staff.id")  # mail: the person; chat: None
    address: Optional[str] = Field(default=None, max_length=300)  # mail: the To address
    message_id: str = Field(sa_column_kwargs={"unique": True}, max_length=200)
    subject: str = Field(max_length=300)
    body: str
    notices: int = Field(default=0)
    status: str = Field(default="sending", max_length=10)  # sending | sent | failed
    attempts: int = Field(default=0)
    error: Optional[str] = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    tried_at: Optional[datetime] = utc_column()
    sent_at: Optional[datetime] = utc_column()


class Delivery(Table, table=True):
    """One notice on one notify channel: pending until a digest carrying it is accepted; then sent.
    Made with the notice, for every channel that serves its recipient, so a run without --mail leaves
    them for the next run that sends."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.UniqueConstraint("notice_id", "channel", name="uq_delivery_notice_channel"),
        sa.Index("ix_delivery_channel_status", "channel", "status", "digest_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id")
    channel: str = Field(max_length=40)
    status: str = Field(default="pending", max_length=10)  # pending | sent
    digest_id: Optional[int] = Field(default=None, foreign_key="digest.id")
    attempts: int = Field(default=0)
    error: Optional[str] = None
    sent_at: Optional[datetime] = utc_column()


# --- archives (issue 18): Archive, ArchiveMarker ---------------------------------------------------


class Archive(Table, table=True):
    """One half-yearly archive made from this database (`db archive`): where its file is, which finished
    work it holds (moved before `cutoff_at`, the local midnight starting `before`), how many rows of each
    table (JSON), the money totals it carries (JSON, fen) and the file's SHA-256."""

    __tablename__ = "archive"
    id: Optional[int] = Field(default=None, primary_key=True)
    file: str = Field(max_length=1000)
    before: date
    cutoff_at: datetime = Field(sa_type=UTCDateTime)
    first_at: Optional[datetime] = utc_column()  # the earliest time of the work it holds
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    rows: int = Field(default=0)
    counts: str = Field(default="{}")
    money: str = Field(default="{}")
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(default=0, sa_type=sa.BigInteger)


class ArchiveMarker(Table, table=True):
    """Present (one row) only in an archive file: csdesk opens it for reading and refuses every write."""

    __tablename__ = "archive_marker"
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(max_length=1000)  # the live database it was moved out of
    before: date
    cutoff_at: datetime = Field(sa_type=UTCDateTime)
    first_at: Optional[datetime] = utc_column()
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: Optional[str] = Field(default=None, max_length=60)


# --- shift handovers (issue 17): ShiftHandover, ShiftCheck, ShiftItem ----------------------------------


class ShiftHandover(Table, table=True):
    """交接班: the outgoing person (`from_id`) hands the shift to the incoming one (`to_id`) at `at`.

    status: handed → taken | refused. `shift_start`/`shift_end` bound the shift handed over and
    `next_end` ends the next one (from the [shift] settings at the time). A supervisor's review of the
    day sets reviewed_by/reviewed_at. Its checklist answers and the open items of the moment are kept
    beside it (ShiftCheck, ShiftItem) and never change.
    """

    __tablename__ = "shift_handover"
    __table_args__ = (
        sa.Index("ix_shift_handover_status_at", "status", "at"),
        sa.Index("ix_shift_handover_to_status", "to_id", "status"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    from_id: int = Field(foreign_key="staff.id", index=True)
    to_id: int = Field(foreign_key="staff.id")
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    shift_start: datetime = Field(sa_type=UTCDateTime)
    shift_end: datetime = Field(sa_type=UTCDateTime)
    next_end: datetime = Field(sa_type=UTCDateTime)
    note: Optional[str] = None
    status: str = Field(default="handed", max_length=10)  # handed | taken | refused
    taken_at: Optional[datetime] = utc_column()
    taker_note: Optional[str] = None
    refused_at: Optional[datetime] = utc_column()
    refuse_reason: Optional[str] = Field(default=None, max_length=500)
    reviewed_by_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    reviewed_at: Optional[datetime] = utc_column()


class ShiftCheck(Table, table=True):
    """One checklist item of a handover ([shift] checklist) and its answer."""

    __tablename__ = "shift_check"
    id: Optional[int] = Field(default=None, primary_key=True)
    handover_id: int = Field(foreign_key="shift_handover.id", index=True)
    item: str = Field(max_length=60)
    ok: bool
    note: Optional[str] = Field(default=None, max_length=500)


class ShiftItem(Table, table=True):
    """One open item at the moment of a handover: a complaint, a callback or a promise made in the shift.

    `ref_id` names the complaint or callback by id without a foreign key: the log is the department's
    record and stays when `db archive` moves the complaint or callback; `text` keeps what it was then.
    """

    __tablename__ = "shift_item"
    id: Optional[int] = Field(default=None, primary_key=True)
    handover_id: int = Field(foreign_key="shift_handover.id", index=True)
    kind: str = Field(max_length=10)  # complaint | callback | promise
    ref_id: int
    text: str = Field(max_length=200)
    due_at: Optional[datetime] = utc_column()


# --- call quality checks (issue 17, 质检): QaSample, QaScore ------------------------------------------


class QaSample(Table, table=True):
    """A call drawn for a quality check (`qa sample`): which, for which period, by which draw (seed), and
    who listens to it. A call is drawn once, ever."""

    __tablename__ = "qa_sample"
    __table_args__ = (sa.Index("ix_qa_sample_period_assigned", "period", "assigned_to_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", sa_column_kwargs={"unique": True})
    period: str = Field(max_length=7)  # YYYY-MM: the month whose calls the draw was over
    seed: int = Field(sa_type=sa.BigInteger)
    assigned_to_id: int = Field(foreign_key="staff.id")
    sampled_by_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    sampled_at: datetime = Field(sa_type=UTCDateTime)


class QaScore(Table, table=True):
    """One scoring of a sampled call against the checklist (`qa score`). A rescore is a new row; the
    newest row is the call's score. `items` is JSON {item: 1–5}; `weighted` is the weighted mean × 100
    (an integer: 4.35 is 435), judged against the pass mark in force when it was scored."""

    __tablename__ = "qa_score"
    __table_args__ = (sa.Index("ix_qa_score_call_scored", "call_id", "scored_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id")
    scorer_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    items: str
    weighted: int
    pass_mark: int  # × 100, as in force when scored
    passed: bool
    note: Optional[str] = None
    scored_at: datetime = Field(sa_type=UTCDateTime, index=True)
