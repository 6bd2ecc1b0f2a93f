"""The tables: one SQLModel class per table.

Rules for every table: money is integer fen (`*_fen`, BigInteger), times are UTC (`UTCDateTime`, naive
UTC in the column, aware UTC in Python), dates are local calendar dates. Status-like columns are short
strings checked by the workflows.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
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


def utc_column(index: bool = False, nullable: bool = True):
    return Field(default=None, sa_type=UTCDateTime, index=index, nullable=nullable)


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(sa_column_kwargs={"unique": True}, max_length=60)
    role: str = Field(max_length=20)  # specialist | supervisor | manager | director
    reports_to_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    email: Optional[str] = Field(default=None, max_length=200)
    active: bool = Field(default=True)
    created_at: Optional[datetime] = utc_column()


class Customer(SQLModel, table=True):
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


class CustomerPhone(SQLModel, table=True):
    """One row per number; a number belongs to one customer, so a lookup by number is one index probe."""

    __tablename__ = "customer_phone"
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    number: str = Field(sa_column_kwargs={"unique": True}, max_length=20)  # E.164
    position: int = Field(default=0)  # 0 = the customer's main number


class Project(SQLModel, table=True):
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


class Call(SQLModel, table=True):
    __tablename__ = "call"
    __table_args__ = (
        sa.Index("ix_call_customer_at", "customer_id", "at"),
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


class AuditEntry(SQLModel, table=True):
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


# --- complaints (issue 3): Complaint, ComplaintEvent -----------------------------------------


# --- callbacks and return visits (issue 4): Callback ------------------------------------------


# --- projects, adjustments and money (issue 5): Adjustment, Instalment, Payment, CollectionStep --


# --- reminders (issue 6): Notice -------------------------------------------------------------
