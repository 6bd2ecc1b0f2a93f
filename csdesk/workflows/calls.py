"""Calls (来电/去电): every contact, logged in seconds while the customer is still on the line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from csdesk import phones
from csdesk.errors import InvalidValue
from csdesk.models import Call, Customer, Project, Staff
from csdesk.workflows import Desk, audit, check_limit, snapshot
from csdesk.workflows.customers import (
    CallInfo, _text, call_info, create_customer, customer_by_phone, find_customer, open_items,
)

KINDS = {
    "inquiry": "咨询", "complaint": "投诉", "repair": "报修", "suggestion": "建议",
    "followup": "回访", "payment": "催款", "other": "其他",
}
CHANNELS = {"hotline": "热线", "phone": "电话", "wechat": "微信", "visit": "到访", "email": "邮件", "other": "其他"}
DIRECTIONS = {"in": "来电", "out": "去电"}


def check_choice(value: str | None, choices: dict[str, str], what: str) -> str:
    value = (value or "").strip().lower()
    if value in choices:
        return value
    for key, label in choices.items():
        if value == label:
            return key
    raise InvalidValue(f"unknown {what} {value!r} (use one of: {', '.join(choices)})")


@dataclass
class CallLogged:
    call: CallInfo
    customer_code: str
    customer_name: str | None
    new_customer: bool
    open_items: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    complaint: Any = None  # the complaint opened from this call (log-call --open-complaint): a ComplaintInfo


def log_call(
    desk: Desk,
    phone: str,
    kind: str,
    summary: str,
    name: str | None = None,
    channel: str = "phone",
    direction: str = "in",
    at: datetime | None = None,
    duration: timedelta | None = None,
    project: str | None = None,
    resolved: bool = False,
    open_complaint: bool = False,
    severity: str | None = None,
    category: str | None = None,
) -> CallLogged:
    """Log a call. A known number finds its customer; an unknown one creates one (named, or unnamed).

    `open_complaint` (complaint calls only) also opens a complaint from the call, at the call's time,
    with `severity` (default normal) and `category` (default other), and links the call to it.
    """
    session = desk.session
    actor = desk.require_actor()
    kind = check_choice(kind, KINDS, "kind")
    if open_complaint and kind != "complaint":
        raise InvalidValue("--open-complaint is for complaint calls (--kind complaint)")
    if not open_complaint and (severity or category):
        raise InvalidValue("--severity and --category go with --open-complaint")
    channel = check_choice(channel, CHANNELS, "channel")
    direction = check_choice(direction, DIRECTIONS, "direction")
    summary = (summary or "").strip()
    if not summary:
        raise InvalidValue("a call needs a summary (--summary)")
    if len(summary) > 4000:
        raise InvalidValue("the summary is longer than 4000 characters")
    from csdesk.text import check_text

    summary = check_text(summary, "the summary")
    at = at or desk.now
    if at > desk.now + timedelta(minutes=5):
        raise InvalidValue("a call cannot be logged in the future (check --at)")
    number = phones.normalize(phone)
    customer = customer_by_phone(session, number)
    new = customer is None
    if new:
        customer = create_customer(desk, name, [number], source="call")
    elif name and name.strip() and not customer.name:
        # The unnamed caller of an earlier call says who they are: complete the record.
        before = snapshot(customer)
        customer.name = _text(name, "name", 100, lines=False)
        customer.updated_at = desk.now
        session.add(customer)
        audit(desk, "customer.edit", customer, before=before)
    project_id = None
    if project:
        row = session.exec(select(Project).where(Project.code == project.strip().upper())).first()
        if row is None:
            raise InvalidValue(f"no project with code {project.strip().upper()}")
        if row.customer_id != customer.id:
            raise InvalidValue(f"project {row.code} belongs to another customer")
        project_id = row.id
    call = Call(
        at=at, direction=direction, channel=channel, customer_id=customer.id, phone=number,
        phone_raw=phone.strip()[:40], agent_id=actor.id, kind=kind, summary=summary,
        duration_s=int(duration.total_seconds()) if duration is not None else None,
        project_id=project_id, first_contact_resolved=resolved, created_at=desk.now,
    )
    session.add(call)
    audit(desk, "call.log", call)
    complaint = None
    if open_complaint:
        from csdesk.workflows.complaints import open_complaint as open_from_call

        complaint = open_from_call(desk, severity=severity or "normal", category=category or "other",
                                   call_id=call.id, customer_id=customer.id, project=project)
    return CallLogged(
        call_info(session, call, customer, actor.name), customer.code, customer.name, new,
        open_items(desk, customer.id), complaint,
    )


def list_calls(
    desk: Desk,
    since: datetime | None = None,
    until: datetime | None = None,
    agent: str | None = None,
    kind: str | None = None,
    customer: str | None = None,
    limit: int = 50,
) -> list[CallInfo]:
    session = desk.session
    query = select(Call, Customer, Staff.name).join(Customer, Customer.id == Call.customer_id).outerjoin(Staff, Staff.id == Call.agent_id)
    if since:
        query = query.where(Call.at >= since)
    if until:
        query = query.where(Call.at < until)
    if agent:
        from csdesk.workflows.staff import find_staff

        query = query.where(Call.agent_id == find_staff(session, agent, active_only=False).id)
    if kind:
        query = query.where(Call.kind == check_choice(kind, KINDS, "kind"))
    if customer:
        query = query.where(Call.customer_id == find_customer(session, customer).id)
    check_limit(limit)
    rows = session.exec(query.order_by(Call.at.desc(), Call.id.desc()).limit(limit)).all()
    return [call_info(session, call, cust, agent_name) for call, cust, agent_name in rows]
