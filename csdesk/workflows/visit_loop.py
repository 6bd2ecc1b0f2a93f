"""The complaint ↔ return-visit loop, above both areas: what one area's change means for the other.

- A resolved complaint gets its return visit (回访); reopening it by hand cancels that visit, voiding it
  cancels every callback about it, moving it to another customer or project moves its pending callbacks.
- A reached return visit closes the complaint (satisfied) or reopens it one level up (unsatisfied), at
  the visit's time.
- Closing a complaint asks whether a satisfied visit settles it.

Neither complaints.py nor callbacks.py imports the other for this: each raises its events or asks its
questions through `hooks`, and this module, which imports both, answers them by calling each area
directly (hooks.LISTENER_MODULES loads it before the first event).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csdesk import dates
from csdesk.i18n import _
from csdesk.models import Callback, Complaint
from csdesk.workflows import Desk, complaints, hooks
from csdesk.workflows.callback_rules import (
    cancel_for_complaint, move_complaint_callbacks, satisfied_visit, schedule_complaint_visit,
)


@hooks.listen("complaint_resolved")
def visit_after_resolution(desk: Desk, complaint_id: int, **_kw: Any):
    return schedule_complaint_visit(desk, complaint_id)


@hooks.listen("complaint_reopened")
def cancel_visit_after_reopening(desk: Desk, complaint_id: int, at: datetime, reason: str, **_kw: Any):
    """Reopened by hand: its pending return visit is cancelled (resolving again schedules a new one)."""
    return cancel_for_complaint(desk, complaint_id, at, reason, ("complaint-visit",))


@hooks.listen("complaint_voided")
def cancel_callbacks_of_void(desk: Desk, complaint_id: int, at: datetime, reason: str, **_kw: Any):
    """Voided: every pending callback about it is cancelled."""
    return cancel_for_complaint(desk, complaint_id, at, reason, None)


@hooks.listen("complaint_moved")
def move_callbacks_with_complaint(desk: Desk, complaint_id: int, customer_id: int, project_id: int | None, **_kw: Any):
    """The complaint moved to another customer or project: its pending callbacks (and their series) follow."""
    return move_complaint_callbacks(desk, complaint_id, customer_id, project_id)


@hooks.listen("satisfied_visit")
def settling_visit(session, complaint_id: int, **_kw: Any) -> int | None:
    return satisfied_visit(session, complaint_id)


@hooks.listen("complaint_visit_reached")
def close_the_loop(desk: Desk, cb: Callback) -> str | None:
    """A reached complaint visit: satisfied closes the complaint, unsatisfied reopens it one level up."""
    complaint = desk.session.get(Complaint, cb.complaint_id)
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
    complaint = desk.session.get(Complaint, cb.complaint_id)
    return _("complaint #{id} reopened and escalated to level {level} (customer not satisfied)").format(
        id=complaint.id, level=complaint.level)
