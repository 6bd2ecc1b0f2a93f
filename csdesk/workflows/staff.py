"""Staff: the people of the department, their roles and who they report to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import func, select

from csdesk.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import N_, _
from csdesk.models import Project, Staff
from csdesk.workflows import ROLE_LABELS, ROLE_RANK, ROLES, Actor, Desk, audit, snapshot
from csdesk.workflows.grades import check_grade, check_lowering, grade_label
from csdesk.workflows.lookup import find_staff, first_boss, resolve_actor, role_label  # noqa: F401  (importable from here as before)


@dataclass
class StaffInfo:
    id: int
    name: str
    role: str
    role_label: str
    reports_to: str | None
    email: str | None
    active: bool
    login: str | None = None
    grade: str = "intermediate"  # junior | intermediate | senior (workflows/grades.py)
    grade_label: str = ""


def _info(session, staff: Staff) -> StaffInfo:
    boss = session.get(Staff, staff.reports_to_id) if staff.reports_to_id else None
    return StaffInfo(staff.id, staff.name, staff.role, role_label(staff.role), boss.name if boss else None, staff.email,
                     staff.active, staff.login, staff.grade, grade_label(staff.grade))


def _check_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise InvalidValue(_("unknown role {role!r} (use one of: {choices})").format(role=role, choices=", ".join(ROLES)))
    return role


def _check_login(session, login: str | None, staff_id: int | None) -> str | None:
    """A login as the operating system or PostgreSQL spells it: no spaces or control characters, 1–60
    characters, bound to one staff member at most. '' means none."""
    if login is None:
        return None
    login = login.strip()
    if not login:
        return None
    if len(login) > 60 or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in login):
        raise InvalidValue(_("{login!r} is not a login name (1–60 characters, no spaces)").format(login=login[:60]))
    holder = session.exec(select(Staff).where(Staff.login == login)).first()
    if holder is not None and holder.id != staff_id:
        raise Conflict(_("the login {login!r} is already bound to {name}").format(login=login, name=holder.name))
    return login


def _check_first_login(session, staff: Staff) -> None:
    """The first login bound turns identities on for everyone; it must be a director's, or nobody
    could ever bind the others' logins, or act for anyone, again."""
    others = session.exec(select(Staff.id).where(Staff.login.is_not(None), Staff.id != staff.id).limit(1)).first()
    if others is None and staff.login and staff.role != "director":
        raise InvalidValue(_(
            "the first login bound must be a director's ({name} is a {role}): bind a director's login first, "
            "since from then on csdesk acts as the person bound to each login").format(name=staff.name, role=role_label(staff.role)))


def _check_email(email: str | None) -> str | None:
    if email is not None and email and ("@" not in email or " " in email.strip() or len(email) > 200):
        raise InvalidValue(_("{email!r} is not an email address").format(email=email[:200]))
    return email.strip() if email else None


def add_staff(desk: Desk, name: str, role: str, reports_to: str | None = None, email: str | None = None,
              login: str | None = None, grade: str | None = None) -> StaffInfo:
    session = desk.session
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidValue(_("a staff name must be 1–60 characters"))
    from csdesk.text import check_text, unsafe

    name = check_text(name, _("the staff name"), lines=False)
    role = _check_role(role)
    anyone = session.exec(select(func.count()).select_from(Staff)).one()
    if anyone:
        actor = desk.require_actor()
        if ROLE_RANK[role] > actor.rank:
            raise PermissionDenied(_("{name} ({role}) cannot add a {new_role}: nobody can create a role above their own").format(
                name=actor.name, role=role_label(actor.role), new_role=role_label(role)))
    if session.exec(select(Staff).where(Staff.name == name)).first():
        raise Conflict(_("there is already a staff member named {name!r}").format(name=name))
    boss_id = None
    if reports_to:
        boss = find_staff(session, reports_to)
        if ROLE_RANK[boss.role] <= ROLE_RANK[role]:
            raise InvalidValue(_("{name} ({role}) cannot report to {boss} ({boss_role}): reports_to must be a higher role").format(
                name=name, role=role_label(role), boss=boss.name, boss_role=role_label(boss.role)))
        boss_id = boss.id
    if email is not None and email and ("@" not in email or " " in email.strip() or unsafe(email, lines=False)):
        raise InvalidValue(_("{email!r} is not an email address").format(email=email))
    staff = Staff(name=name, role=role, reports_to_id=boss_id, email=(email or None), active=True, created_at=desk.now,
                  login=_check_login(session, login, None), grade=check_grade(grade))
    _check_first_login(session, staff)
    session.add(staff)
    audit(desk, "staff.add", staff)
    return _info(session, staff)


def list_staff(desk: Desk, include_inactive: bool = False) -> list[StaffInfo]:
    query = select(Staff).order_by(Staff.id)
    if not include_inactive:
        query = query.where(Staff.active == True)  # noqa: E712
    return [_info(desk.session, s) for s in desk.session.exec(query).all()]


def _check_may_edit(actor: Actor, staff: Staff, changes: set[str]) -> None:
    """The rank rules of `staff edit`: you edit people you outrank; directors edit anyone, themselves
    included; anybody may change their own email."""
    if actor.role == "director":
        return
    if staff.id == actor.id:
        if changes - {"email"}:
            raise PermissionDenied(_("{name} may change only their own email; someone who outranks them changes the rest").format(name=actor.name))
        return
    if ROLE_RANK[staff.role] >= actor.rank:
        raise PermissionDenied(_("{name} ({role}) cannot edit {other} ({other_role}): only someone who outranks them can").format(
            name=actor.name, role=role_label(actor.role), other=staff.name, other_role=role_label(staff.role)))


def _chain_to(session, start: Staff, target_id: int) -> list[str] | None:
    """The names from `start` up its reports_to chain until `target_id` (a loop), or None."""
    names, seen, row = [start.name], set(), start
    while row is not None and row.id not in seen:
        if row.id == target_id:
            return names
        seen.add(row.id)
        row = session.get(Staff, row.reports_to_id) if row.reports_to_id else None
        if row is not None:
            names.append(row.name)
    return None


def edit_staff(
    desk: Desk,
    name: str,
    role: str | None = None,
    reports_to: str | None = None,
    email: str | None = None,
    rename: str | None = None,
    login: str | None = None,
    grade: str | None = None,
) -> StaffInfo:
    """Change a staff member's role, superior ('' for none), email ('' clears), name, login ('' unbinds) or grade."""
    session = desk.session
    actor = desk.require_actor()
    staff = find_staff(session, name, active_only=False)
    before = snapshot(staff)
    asked = {k for k, v in (("name", rename), ("role", role), ("reports_to_id", reports_to), ("email", email), ("login", login),
                                          ("grade", grade))
             if v is not None}
    _check_may_edit(actor, staff, asked)
    if rename is not None:
        new_name = rename.strip()
        if not new_name or len(new_name) > 60:
            raise InvalidValue(_("a staff name must be 1–60 characters"))
        if any(ord(ch) < 32 for ch in new_name):
            raise InvalidValue(_("a staff name cannot hold control characters"))
        other = session.exec(select(Staff).where(Staff.name == new_name)).first()
        if other is not None and other.id != staff.id:
            raise Conflict(_("there is already a staff member named {name!r}").format(name=new_name))
        staff.name = new_name
    if role is not None:
        staff.role = _check_role(role)
        if ROLE_RANK[staff.role] > actor.rank:
            raise PermissionDenied(_("{name} ({role}) cannot make anyone a {new_role}: nobody can give a role above their own").format(
                name=actor.name, role=role_label(actor.role), new_role=role_label(staff.role)))
    if reports_to is not None:
        if reports_to.strip():
            boss = find_staff(session, reports_to)
            if boss.id == staff.id:
                raise InvalidValue(_("{name} cannot report to themselves").format(name=staff.name))
            loop = _chain_to(session, boss, staff.id)
            if loop:
                raise InvalidValue(_("{name} cannot report to {boss}: that makes a loop ({loop})").format(
                    name=staff.name, boss=boss.name, loop=" → ".join([staff.name, *loop])))
            staff.reports_to_id = boss.id
        else:
            staff.reports_to_id = None
    if email is not None:
        staff.email = _check_email(email)
    if login is not None:
        staff.login = _check_login(session, login, staff.id)
        _check_first_login(session, staff)
    if grade is not None:
        staff.grade = check_grade(grade)
        check_lowering(session, staff, staff.grade)
    after = snapshot(staff)
    changes = {k for k in after if before.get(k) != after.get(k)}
    if not changes:
        raise InvalidValue(_("nothing to change (give at least one new value)"))
    # The ladder must still hold: a superior is a higher role, for this person and for those reporting to them.
    if staff.reports_to_id:
        boss = session.get(Staff, staff.reports_to_id)
        if ROLE_RANK[boss.role] <= ROLE_RANK[staff.role]:
            raise InvalidValue(_("{name} ({role}) cannot report to {boss} ({boss_role}): reports_to must be a higher role").format(
                name=staff.name, role=role_label(staff.role), boss=boss.name, boss_role=role_label(boss.role)))
    below = session.exec(select(Staff).where(Staff.reports_to_id == staff.id, Staff.active == True)).all()  # noqa: E712
    lower = [s.name for s in below if ROLE_RANK[s.role] >= ROLE_RANK[staff.role]]
    if lower:
        raise InvalidValue(_("{names} report to {name} and would no longer report to a higher role; change them first").format(
            names=", ".join(lower), name=staff.name))
    session.add(staff)
    audit(desk, "staff.edit", staff, before=before)
    return _info(session, staff)

