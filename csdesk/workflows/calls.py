"""Calls (来电/去电): every contact, logged in seconds while the customer is still on the line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from csdesk import phones
from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import N_, _
from csdesk.models import Call, Customer, Project, Staff
from csdesk.workflows import ROLE_RANK, Desk, audit, check_limit, snapshot
from csdesk.workflows.lookup import CHOICE_NAMES, check_choice, choice_label  # noqa: F401  (importable from here as before)
from csdesk.workflows.lookup import find_customer

KINDS = {
    "inquiry": "咨询", "complaint": "投诉", "repair": "报修", "suggestion": "建议",
    "followup": "回访", "payment": "催款", "other": "其他",
}
CHANNELS = {"hotline": "热线", "phone": "电话", "wechat": "微信", "visit": "到访", "email": "邮件", "other": "其他"}
DIRECTIONS = {"in": "来电", "out": "去电"}


@dataclass
class CallInfo:
    id: int
    at: datetime
    direction: str
    channel: str
    kind: str
    summary: str
    customer_code: str
    customer_name: str | None
    phone: str | None
    agent: str | None
    duration_s: int | None
    project: str | None = None
    complaint_id: int | None = None
    resolved: bool = False  # settled on first contact
    voided_at: datetime | None = None  # calls void: out of lists, counts and reports, still readable
    voided_by: str | None = None
    void_reason: str | None = None
    recording: str | None = None  # the phone system's reference to the call's recording (quality checks)


def check_recording(value: str) -> str | None:
    """A recording reference from the phone system (file name, URL, id): one line, at most 500; '' is none."""
    from csdesk.i18n import _
    from csdesk.text import check_text

    value = check_text(value.strip(), _("the recording reference"), lines=False)
    if len(value) > 500:
        raise InvalidValue(_("The recording reference is longer than 500 characters."))
    return value or None


def check_call(desk: Desk, kind: str, summary: str, channel: str, direction: str,
               at: datetime | None) -> tuple[str, str, str, str, datetime]:
    """The call's kind, summary, channel, direction and time, checked before anything is written."""
    kind = check_choice(kind, KINDS, "kind")
    channel = check_choice(channel, CHANNELS, "channel")
    direction = check_choice(direction, DIRECTIONS, "direction")
    summary = (summary or "").strip()
    if not summary:
        raise InvalidValue(_("a call needs a summary (--summary)"))
    if len(summary) > 4000:
        raise InvalidValue(_("the summary is longer than 4000 characters"))
    from csdesk.text import check_text

    summary = check_text(summary, _("the summary"))
    at = at or desk.now
    if at > desk.now + timedelta(minutes=5):
        raise InvalidValue(_("a call cannot be logged in the future (check --at)"))
    return kind, summary, channel, direction, at


def record_call(
    desk: Desk,
    customer: Customer,
    phone: str,
    number: str,
    kind: str,
    summary: str,
    channel: str,
    direction: str,
    at: datetime,
    duration: timedelta | None = None,
    project: str | None = None,
    resolved: bool = False,
    recording: str | None = None,
) -> Call:
    """Write one call of a known customer (values checked by check_call), audited. Logging a call from
    the command line (finding or creating the caller, opening a complaint) is call_intake.log_call."""
    session = desk.session
    actor = desk.require_actor()
    project_id = None
    if project:
        row = session.exec(select(Project).where(Project.code == project.strip().upper())).first()
        if row is None:
            raise InvalidValue(_("no project with code {code}").format(code=project.strip().upper()))
        if row.customer_id != customer.id:
            raise InvalidValue(_("project {code} belongs to another customer").format(code=row.code))
        project_id = row.id
    call = Call(
        at=at, direction=direction, channel=channel, customer_id=customer.id, phone=number,
        phone_raw=phone.strip()[:40], agent_id=actor.id, kind=kind, summary=summary,
        duration_s=int(duration.total_seconds()) if duration is not None else None,
        project_id=project_id, first_contact_resolved=resolved, created_at=desk.now,
        recording=check_recording(recording) if recording is not None else None,
    )
    session.add(call)
    audit(desk, "call.log", call)
    return call


def _call_filters(desk: Desk, since, until, agent, kind, customer) -> list:
    session = desk.session
    where = [Call.voided_at.is_(None)]  # a voided call is out of every list (calls show still reads it)
    if since:
        where.append(Call.at >= since)
    if until:
        where.append(Call.at < until)
    if agent:
        if agent.strip().lower() in ("me", "我"):
            where.append(Call.agent_id == desk.require_actor().id)
        else:
            from csdesk.workflows.lookup import find_staff

            where.append(Call.agent_id == find_staff(session, agent, active_only=False).id)
    if kind:
        where.append(Call.kind == check_choice(kind, KINDS, "kind"))
    if customer:
        where.append(Call.customer_id == find_customer(session, customer).id)
    return where


def list_calls(
    desk: Desk,
    since: datetime | None = None,
    until: datetime | None = None,
    agent: str | None = None,
    kind: str | None = None,
    customer: str | None = None,
    limit: int = 50,
) -> list[CallInfo]:
    """Calls, newest first; `agent` may be "me" (the person acting). count_calls counts them all."""
    session = desk.session
    check_limit(limit)
    where = _call_filters(desk, since, until, agent, kind, customer)
    query = select(Call, Customer, Staff.name).join(Customer, Customer.id == Call.customer_id).outerjoin(Staff, Staff.id == Call.agent_id)
    rows = session.exec(query.where(*where).order_by(Call.at.desc(), Call.id.desc()).limit(limit)).all()
    return [call_info(session, call, cust, agent_name) for call, cust, agent_name in rows]


def count_calls(desk: Desk, since=None, until=None, agent=None, kind=None, customer=None) -> int:
    """How many calls list_calls would list without its limit."""
    from sqlmodel import func

    where = _call_filters(desk, since, until, agent, kind, customer)
    return desk.session.exec(select(func.count()).select_from(Call).where(*where)).one()


def get_call(session, call_id: int) -> Call:
    call = session.get(Call, call_id) if isinstance(call_id, int) and 0 < call_id < 2**63 else None
    if call is None:
        raise NotFound(_("no call #{id}").format(id=call_id), hint=_("csdesk calls list shows recent calls"))
    return call


def show_call(desk: Desk, call_id: int) -> CallInfo:
    """One call, voided or not (a voided one says when, by whom and why)."""
    return call_info(desk.session, get_call(desk.session, call_id))


def _may_change(desk: Desk, call: Call, doing: str):
    actor = desk.require_actor()
    if actor.id != call.agent_id and actor.rank < ROLE_RANK["supervisor"]:
        from csdesk.workflows.lookup import role_label

        message = (_("only the agent who logged call #{id} or a supervisor or above can correct it; {name} is a {role}")
                   if doing == "correct" else
                   _("only the agent who logged call #{id} or a supervisor or above can void it; {name} is a {role}"))
        raise PermissionDenied(message.format(id=call.id, name=actor.name, role=role_label(actor.role)))
    if call.voided_at is not None:
        raise InvalidTransition(_("call #{id} is void ({reason}); a voided call cannot be changed").format(
            id=call.id, reason=call.void_reason))
    return actor


def _linked_elsewhere(session, call: Call) -> list[str]:
    """What points at this call from other areas (and so ties it to its customer)."""
    from csdesk.models import Adjustment, Callback, Complaint

    links = []
    if call.complaint_id:
        links.append(_("complaint #{id}").format(id=call.complaint_id))
    for model, label in ((Complaint, N_("complaint #{id}")), (Callback, N_("callback #{id}")), (Adjustment, N_("adjustment #{id}"))):
        ids = session.exec(select(model.id).where(model.call_id == call.id)).all()
        links += [_(label).format(id=i) for i in ids if _(label).format(id=i) not in links]
    return links


def edit_call(
    desk: Desk,
    call_id: int,
    kind: str | None = None,
    summary: str | None = None,
    customer: str | None = None,
    project: str | None = None,
    at: datetime | None = None,
    duration: timedelta | None = None,
    channel: str | None = None,
    direction: str | None = None,
    resolved: bool | None = None,
    recording: str | None = None,
) -> CallInfo:
    """Correct a call (the agent who logged it, or a supervisor+); the change is its own audit entry.

    `project=''` takes the project off. A call moved to another customer must not keep (or get) a project of
    someone else, and cannot move while a complaint, callback or adjustment hangs on it.
    """
    session = desk.session
    call = get_call(session, call_id)
    _may_change(desk, call, "correct")
    before = snapshot(call)
    if kind is not None:
        call.kind = check_choice(kind, KINDS, "kind")
    if summary is not None:
        summary = summary.strip()
        if not summary:
            raise InvalidValue(_("a call needs a summary (--summary)"))
        if len(summary) > 4000:
            raise InvalidValue(_("the summary is longer than 4000 characters"))
        call.summary = summary
    if channel is not None:
        call.channel = check_choice(channel, CHANNELS, "channel")
    if direction is not None:
        call.direction = check_choice(direction, DIRECTIONS, "direction")
    if at is not None:
        if at > desk.now + timedelta(minutes=5):
            raise InvalidValue(_("a call cannot be in the future (check --at)"))
        call.at = at
    if duration is not None:
        seconds = int(duration.total_seconds())
        if seconds < 0 or seconds > 24 * 3600:
            raise InvalidValue(_("a call lasts between 0 seconds and 24 hours (check --duration)"))
        call.duration_s = seconds
    if resolved is not None:
        call.first_contact_resolved = resolved
    if recording is not None:
        call.recording = check_recording(recording)
    if customer is not None:
        target = find_customer(session, customer)
        if target.id != call.customer_id:
            links = _linked_elsewhere(session, call)
            if links:
                raise Conflict(_("call #{id} cannot move to another customer: {links} hangs on it").format(id=call.id, links=", ".join(links)))
            call.customer_id = target.id
            call.phone = None  # the number was the old customer's
    if project is not None:
        if project.strip():
            row = session.exec(select(Project).where(Project.code == project.strip().upper())).first()
            if row is None:
                raise NotFound(_("no project with code {code}").format(code=project.strip().upper()))
            call.project_id = row.id
        else:
            call.project_id = None
    if call.project_id is not None:
        row = session.get(Project, call.project_id)
        if row.customer_id != call.customer_id:
            owner = session.get(Customer, call.customer_id)
            raise InvalidValue(_("project {code} belongs to another customer, not to {customer}").format(code=row.code, customer=owner.code))
    after = snapshot(call)
    if all(before.get(k) == after.get(k) for k in after):
        raise InvalidValue(_("nothing to change (give at least one new value)"))
    session.add(call)
    audit(desk, "call.edit", call, before=before)
    return call_info(session, call)


def void_call(desk: Desk, call_id: int, reason: str) -> CallInfo:
    """Void a call logged by mistake: it leaves lists, counts and reports, and stays readable (calls show, audit)."""
    session = desk.session
    call = get_call(session, call_id)
    if call.voided_at is not None:
        raise InvalidTransition(_("call #{id} is already void ({reason})").format(id=call.id, reason=call.void_reason))
    actor = _may_change(desk, call, "void")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValue(_("voiding a call needs a reason (--reason)"))
    if len(reason) > 500:
        raise InvalidValue(_("the reason is longer than 500 characters"))
    if any(ord(ch) < 32 and ch not in "\t" for ch in reason):
        raise InvalidValue(_("the reason contains control characters"))
    before = snapshot(call)
    call.voided_at = desk.now
    call.voided_by_id = actor.id
    call.void_reason = reason
    session.add(call)
    audit(desk, "call.void", call, before=before)
    return call_info(session, call)


def move_calls(desk: Desk, from_customer_id: int, to_customer_id: int) -> list[Call]:
    """Every call of one customer (voided ones too) to another: the calls' part of customer merge."""
    session = desk.session
    rows = session.exec(select(Call).where(Call.customer_id == from_customer_id).order_by(Call.id)).all()
    for call in rows:
        before = snapshot(call)
        call.customer_id = to_customer_id
        session.add(call)
        audit(desk, "call.merge", call, before=before)
    return list(rows)


def call_info(session, call: Call, customer: Customer | None = None, agent_name: str | None = None) -> CallInfo:
    from csdesk.models import Project

    customer = customer or session.get(Customer, call.customer_id)
    if agent_name is None and call.agent_id:
        agent_name = session.get(Staff, call.agent_id).name
    project = session.get(Project, call.project_id).code if call.project_id else None
    voided_by = session.get(Staff, call.voided_by_id).name if call.voided_by_id else None
    return CallInfo(
        call.id, call.at, call.direction, call.channel, call.kind, call.summary, customer.code, customer.name,
        call.phone, agent_name, call.duration_s, project, call.complaint_id, call.first_contact_resolved,
        call.voided_at, voided_by, call.void_reason, call.recording,
    )
