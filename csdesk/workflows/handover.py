"""Hand-over (交接): everything a person still has open moves to a colleague, in one transaction.

Crosses areas, so it lives here and calls each area explicitly: complaints (assignee and owner, through
complaints.assign_complaint, so each move is a timeline event too), callbacks (reschedule_callback with a
new assignee) and their visit series, projects (assign_project; their adjustments and money follow the
project), customers managed (customers.set_manager). The plan is made first, so `--dry-run` lists exactly
what a real run moves, and a refusal (a complaint above the new person's level) changes nothing.

Deactivating a person (`staff deactivate`) is here too: it is refused while they still own open work,
which each area counts (OPEN_WORK below); staff.py does not import the areas.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from csdesk.errors import Conflict, InvalidValue, PermissionDenied
from csdesk.i18n import N_, _
from csdesk.models import Adjustment, Callback, CallbackSeries, Complaint, Customer, Project
from csdesk.workflows import ROLE_RANK, ROLES, Desk, audit, snapshot
from csdesk.workflows.lookup import find_staff
from csdesk.workflows.staff import StaffInfo, role_label
from csdesk.workflows.staff import _info as staff_info


# What moves, as `staff handover` shows it (HandoverItem.what stays English: JSON, the desk).
WHAT_LABELS = {"complaint (assigned)": N_("complaint (assigned)"), "complaint (owned)": N_("complaint (owned)"),
               "callback": N_("callback"), "visit series": N_("visit series"), "project": N_("project"),
               "adjustment": N_("adjustment"), "customer": N_("customer")}


@dataclass
class HandoverItem:
    what: str  # complaint (assigned) | complaint (owned) | callback | visit series | project | adjustment | customer
    ref: str  # #12, P0003, C000004
    text: str


@dataclass
class HandoverResult:
    name: str
    to: str
    dry_run: bool
    items: list[HandoverItem] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # open work the hand-over does not know how to move


def _short(text: str | None, n: int = 40) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


def hand_over(desk: Desk, name: str, to: str, dry_run: bool = False) -> HandoverResult:
    from csdesk.workflows.complaints import NOT_CLOSED

    session = desk.session
    actor = desk.require_rank("supervisor", _("handing over someone's work"))
    person = find_staff(session, name, active_only=False)
    other = find_staff(session, to, active_only=False)
    if other.id == person.id:
        raise InvalidValue(_("{name} cannot hand over to themselves").format(name=person.name))
    if not other.active:
        raise InvalidValue(_("{name} is no longer active: hand over to an active colleague").format(name=other.name))
    if actor.role != "director" and ROLE_RANK[person.role] >= actor.rank:
        raise PermissionDenied(_(
            "{name} ({role}) cannot hand over the work of {other} ({other_role}): only someone who outranks them can").format(
            name=actor.name, role=role_label(actor.role), other=person.name, other_role=role_label(person.role)))

    assigned = session.exec(select(Complaint).where(Complaint.assignee_id == person.id, Complaint.status.in_(NOT_CLOSED))
                            .order_by(Complaint.id)).all()
    too_high = [c for c in assigned if c.level > ROLE_RANK[other.role]]
    if too_high:
        raise PermissionDenied(
            _("{name} ({role}) cannot take over {n} of {other}'s complaints: "
              "a complaint may only be assigned to someone of its level or above; hand over to someone higher").format(
                name=other.name, role=role_label(other.role), n=len(too_high), other=person.name),
            details=[_("complaint #{id} at level {level} ({role}): {summary}").format(
                id=c.id, level=c.level, role=role_label(ROLES[c.level - 1]), summary=_short(c.summary)) for c in too_high],
        )
    owned = session.exec(select(Complaint).where(Complaint.owner_id == person.id, Complaint.status.in_(NOT_CLOSED))
                         .order_by(Complaint.id)).all()
    callbacks = session.exec(select(Callback).where(Callback.assignee_id == person.id, Callback.status == "pending")
                             .order_by(Callback.due_at, Callback.id)).all()
    series = session.exec(select(CallbackSeries).where(CallbackSeries.assignee_id == person.id, CallbackSeries.active == True)  # noqa: E712
                          .order_by(CallbackSeries.id)).all()
    projects = session.exec(select(Project).where(Project.owner_id == person.id, Project.stage.not_in(("settled", "archived")))
                            .order_by(Project.id)).all()
    adjustments = session.exec(select(Adjustment).where(
        Adjustment.project_id.in_([p.id for p in projects]), Adjustment.status.in_(("open", "done", "rejected")))
        .order_by(Adjustment.id)).all() if projects else []
    customers = session.exec(select(Customer).where(Customer.manager_id == person.id, Customer.merged_into_id.is_(None))
                             .order_by(Customer.id)).all()

    from csdesk.workflows.callbacks import PURPOSES
    from csdesk.workflows.calls import choice_label

    result = HandoverResult(person.name, other.name, dry_run)
    add = result.items.append
    for c in assigned:
        add(HandoverItem("complaint (assigned)", f"#{c.id}", _short(c.summary)))
    for c in owned:
        add(HandoverItem("complaint (owned)", f"#{c.id}", _short(c.summary)))
    for cb in callbacks:
        add(HandoverItem("callback", f"#{cb.id}", f"{choice_label(cb.purpose, PURPOSES)} {_short(cb.note, 30)}".strip()))
    for s in series:
        add(HandoverItem("visit series", f"#{s.id}", f"{choice_label(s.purpose, PURPOSES)} ({s.rule})"))
    for p in projects:
        add(HandoverItem("project", p.code or f"#{p.id}", _short(p.name)))
    codes = {p.id: p.code for p in projects}
    for a in adjustments:
        add(HandoverItem("adjustment", f"#{a.id}", _("{item} (with {project})").format(item=_short(a.item, 30), project=codes[a.project_id])))
    for cu in customers:
        add(HandoverItem("customer", cu.code, cu.name or ""))
    if dry_run:
        return result

    # Each area moves its own rows (and writes its own audit entries and timeline events).
    from csdesk.workflows.callbacks import reschedule_callback
    from csdesk.workflows.complaints import assign_complaint
    from csdesk.workflows.customers import set_manager
    from csdesk.workflows.projects import assign_project

    for c in assigned:
        assign_complaint(desk, c.id, other.name)
    for c in owned:
        assign_complaint(desk, c.id, other.name, owner=True)
    for cb in callbacks:
        reschedule_callback(desk, cb.id, assignee=other.name, reason=_("hand-over from {name}").format(name=person.name))
    for s in series:  # the callbacks area has no command for a series' assignee: recorded here
        before = snapshot(s)
        s.assignee_id = other.id
        session.add(s)
        audit(desk, "callback_series.handover", s, before=before)
    for p in projects:
        assign_project(desk, p.code, other.name)
    for cu in customers:
        set_manager(desk, cu, other)
    # Adjustments have no person of their own: they follow their project's owner.
    result.left = [f"{n} {label}" for label, n in open_work(session, person.id)]
    return result


def _open_complaints_assigned(session, staff_id: int) -> int:
    from csdesk.workflows.complaint_queries import assigned_open_complaints

    return assigned_open_complaints(session, staff_id)


def _open_complaints_owned(session, staff_id: int) -> int:
    from csdesk.workflows.complaint_queries import owned_open_complaints

    return owned_open_complaints(session, staff_id)


def _pending_callbacks(session, staff_id: int) -> int:
    from csdesk.workflows.callback_stats import pending_callbacks_of

    return pending_callbacks_of(session, staff_id)


def _open_projects(session, staff_id: int) -> int:
    from csdesk.workflows.project_screen import open_projects_of

    return open_projects_of(session, staff_id)


# Open work that blocks deactivation, as (label, function(session, staff_id) -> count), in the order shown.
OPEN_WORK = (
    (N_("projects not yet settled"), _open_projects),
    (N_("callbacks pending"), _pending_callbacks),
    (N_("complaints assigned to them, not yet closed"), _open_complaints_assigned),
    (N_("complaints they own (首问负责), not yet closed"), _open_complaints_owned),
)


def open_work(session, staff_id: int) -> list[tuple[str, int]]:
    """What the person still owns, area by area: (label in the interface language, count), counts > 0."""
    return [(_(label), n) for label, fn in OPEN_WORK if (n := fn(session, staff_id))]


def deactivate_staff(desk: Desk, name: str) -> StaffInfo:
    session = desk.session
    actor = desk.require_rank("supervisor", _("deactivating staff"))
    staff = find_staff(session, name, active_only=False)
    if not staff.active:
        raise InvalidValue(_("{name} is already inactive").format(name=staff.name))
    if staff.id == actor.id:
        raise PermissionDenied(_("{name} cannot deactivate themselves: someone who outranks them does it").format(name=actor.name))
    # One must outrank the person; directors, whom nobody outranks, may deactivate one another.
    if ROLE_RANK[staff.role] >= actor.rank and actor.role != "director":
        raise PermissionDenied(_("{name} ({role}) cannot deactivate a {other_role} ({other}): only someone who outranks them can").format(
            name=actor.name, role=role_label(actor.role), other_role=role_label(staff.role), other=staff.name))
    work = open_work(session, staff.id)
    if work:
        what = ", ".join(f"{n} {label}" for label, n in work)
        raise Conflict(_("{name} still owns open work: {what}").format(name=staff.name, what=what),
                       hint=_("hand it over first: csdesk staff handover {name} --to NAME").format(name=staff.name))
    before = snapshot(staff)
    staff.active = False
    session.add(staff)
    audit(desk, "staff.deactivate", staff, before=before)
    return staff_info(session, staff)
