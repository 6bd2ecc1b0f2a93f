"""Logging a call as the agent does it, above the calls, customers and complaints areas.

A call from an unknown number creates its customer (customers), an unnamed caller who says who they are
gets their name, the call is written (calls), a complaint call may open its complaint in the same
transaction (complaints), and the agent gets the caller's brief (caller_brief). calls.py itself writes
calls of known customers and imports neither customers nor complaints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from csdesk import phones
from csdesk.errors import InvalidValue
from csdesk.i18n import _
from csdesk.workflows import Desk, audit, snapshot
from csdesk.workflows.calls import CallInfo, call_info, check_call, record_call
from csdesk.workflows.customers import _text, create_customer, customer_by_phone


@dataclass
class CallLogged:
    call: CallInfo
    customer_code: str
    customer_name: str | None
    new_customer: bool
    brief: Any = None  # what the agent needs while the customer is on the line (caller_brief.CallerBrief)
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
    recording: str | None = None,
    brief: bool = True,
) -> CallLogged:
    """Log a call. A known number finds its customer; an unknown one creates one (named, or unnamed).

    `open_complaint` (complaint calls only) also opens a complaint from the call, at the call's time,
    with `severity` (default normal) and `category` (default other), and links the call to it.
    `brief=False`: no caller's brief (the desk shows the customer's card instead).
    """
    session = desk.session
    actor = desk.require_actor()
    kind, summary, channel, direction, at = _checked(desk, kind, summary, channel, direction, at,
                                                     open_complaint, severity, category)
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
    call = record_call(desk, customer, phone, number, kind, summary, channel, direction, at,
                       duration=duration, project=project, resolved=resolved, recording=recording)
    complaint = None
    if open_complaint:
        from csdesk.workflows.complaints import open_complaint as open_from_call

        complaint = open_from_call(desk, severity=severity or "normal", category=category or "other",
                                   call_id=call.id, customer_id=customer.id, project=project)
    from csdesk.workflows.caller_brief import caller_brief

    return CallLogged(
        call_info(session, call, customer, actor.name), customer.code, customer.name, new,
        caller_brief(desk, customer.id, exclude_call=call.id) if brief else None, complaint,
    )


def _checked(desk, kind, summary, channel, direction, at, open_complaint, severity, category):
    """check_call's values, with the --open-complaint options checked where the original order had them."""
    from csdesk.workflows.lookup import check_choice
    from csdesk.workflows.calls import KINDS

    kind = check_choice(kind, KINDS, "kind")
    if open_complaint and kind != "complaint":
        raise InvalidValue(_("--open-complaint is for complaint calls (--kind complaint)"))
    if not open_complaint and (severity or category):
        raise InvalidValue(_("--severity and --category go with --open-complaint"))
    return check_call(desk, kind, summary, channel, direction, at)
