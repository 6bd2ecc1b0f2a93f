"""Staff: the people of the department, their roles and who they report to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import func, select

from csdesk.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from csdesk.models import Project, Staff
from csdesk.workflows import ROLE_LABELS, ROLE_RANK, ROLES, Actor, Desk, audit, snapshot


@dataclass
class StaffInfo:
    id: int
    name: str
    role: str
    role_label: str
    reports_to: str | None
    email: str | None
    active: bool


def _info(session, staff: Staff) -> StaffInfo:
    boss = session.get(Staff, staff.reports_to_id) if staff.reports_to_id else None
    return StaffInfo(staff.id, staff.name, staff.role, ROLE_LABELS[staff.role], boss.name if boss else None, staff.email, staff.active)


def find_staff(session, name: str, active_only: bool = True) -> Staff:
    name = (name or "").strip()
    staff = session.exec(select(Staff).where(Staff.name == name)).first()
    if staff is None:
        raise NotFound(f"no staff member named {name!r}", hint="csdesk staff list shows the names")
    if active_only and not staff.active:
        raise InvalidValue(f"{staff.name} is no longer active")
    return staff


def resolve_actor(session, name: str | None) -> Actor | None:
    """Who is acting; an unknown or inactive name is refused, no name means nobody."""
    if not name:
        return None
    staff = session.exec(select(Staff).where(Staff.name == name.strip())).first()
    if staff is None:
        raise PermissionDenied(f"unknown staff member {name!r} given as the person acting", hint="csdesk staff list shows the names")
    if not staff.active:
        raise PermissionDenied(f"{staff.name} is no longer active and cannot act")
    return Actor(staff.id, staff.name, staff.role)


def _check_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise InvalidValue(f"unknown role {role!r} (use one of: {', '.join(ROLES)})")
    return role


def add_staff(desk: Desk, name: str, role: str, reports_to: str | None = None, email: str | None = None) -> StaffInfo:
    session = desk.session
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidValue("a staff name must be 1–60 characters")
    from csdesk.text import check_text, unsafe

    name = check_text(name, "the staff name", lines=False)
    role = _check_role(role)
    anyone = session.exec(select(func.count()).select_from(Staff)).one()
    if anyone:
        actor = desk.require_actor()
        if ROLE_RANK[role] > actor.rank:
            raise PermissionDenied(f"{actor.name} ({actor.role}) cannot add a {role}: nobody can create a role above their own")
    if session.exec(select(Staff).where(Staff.name == name)).first():
        raise Conflict(f"there is already a staff member named {name!r}")
    boss_id = None
    if reports_to:
        boss = find_staff(session, reports_to)
        if ROLE_RANK[boss.role] <= ROLE_RANK[role]:
            raise InvalidValue(f"{name} ({role}) cannot report to {boss.name} ({boss.role}): reports_to must be a higher role")
        boss_id = boss.id
    if email is not None and email and ("@" not in email or " " in email.strip() or unsafe(email, lines=False)):
        raise InvalidValue(f"{email!r} is not an email address")
    staff = Staff(name=name, role=role, reports_to_id=boss_id, email=(email or None), active=True, created_at=desk.now)
    session.add(staff)
    audit(desk, "staff.add", staff)
    return _info(session, staff)


def list_staff(desk: Desk, include_inactive: bool = False) -> list[StaffInfo]:
    query = select(Staff).order_by(Staff.id)
    if not include_inactive:
        query = query.where(Staff.active == True)  # noqa: E712
    return [_info(desk.session, s) for s in desk.session.exec(query).all()]


# Checks of open work that block deactivation: (label, function(session, staff_id) -> count).
# Each area adds its own (complaints, callbacks …) through register_open_work.
OPEN_WORK_CHECKS: list = []


def register_open_work(label: str):
    def deco(fn):
        OPEN_WORK_CHECKS.append((label, fn))
        return fn

    return deco


@register_open_work("projects not yet settled")
def _open_projects(session, staff_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Project).where(
            Project.owner_id == staff_id, Project.stage.not_in(("settled", "archived"))
        )
    ).one()


def open_work(session, staff_id: int) -> list[tuple[str, int]]:
    import csdesk.workflows.callbacks  # noqa: F401
    import csdesk.workflows.projects  # noqa: F401  (projects area)
    import csdesk.workflows.complaints  # noqa: F401  (registers its open-work checks)

    return [(label, n) for label, fn in OPEN_WORK_CHECKS if (n := fn(session, staff_id))]


def deactivate_staff(desk: Desk, name: str) -> StaffInfo:
    session = desk.session
    actor = desk.require_rank("supervisor", "deactivating staff")
    staff = find_staff(session, name, active_only=False)
    if not staff.active:
        raise InvalidValue(f"{staff.name} is already inactive")
    if ROLE_RANK[staff.role] > actor.rank:
        raise PermissionDenied(f"{actor.name} ({actor.role}) cannot deactivate a {staff.role}")
    work = open_work(session, staff.id)
    if work:
        what = ", ".join(f"{n} {label}" for label, n in work)
        raise Conflict(f"{staff.name} still owns open work: {what}", hint="reassign it first")
    before = snapshot(staff)
    staff.active = False
    session.add(staff)
    audit(desk, "staff.deactivate", staff, before=before)
    return _info(session, staff)
