"""Who is acting: the staff member bound to the current login, once logins are bound.

A desk where no staff member has a `login` keeps the old, trusting behaviour: whoever runs csdesk acts
as the name given by `--as`, else CSDESK_AGENT, else `agent` in the settings. As soon as one staff
member has a login, identities are enforced:

- the login is the operating-system user running csdesk (SQLite), or the database role the
  connection logged in as (`current_user`, PostgreSQL — give each person their own role);
- csdesk acts as the staff member bound to that login (`agent` in the settings is ignored);
- `--as` / CSDESK_AGENT naming someone else is refused, unless the login's staff member is a director:
  an administrator acting for someone, which every audit entry records (AuditEntry.admin);
- a login bound to nobody acts as nobody (reading works; anything that needs a person is refused).
"""

from __future__ import annotations

import os

from sqlmodel import select

from csdesk.errors import PermissionDenied
from csdesk.i18n import N_, _
from csdesk.models import Staff
from csdesk.workflows import Actor

NOT_ENFORCED = N_("not enforced: no staff member has a login, so anyone may act as anyone with --as")


def os_login() -> str | None:
    """The operating-system user running this process, from the real user id (not $USER, which anyone can set)."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, AttributeError):  # Windows, or a uid without a passwd entry
        return None


def current_login(session) -> str | None:
    """The login csdesk binds to a staff member: the database role on PostgreSQL, else the OS user."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        from sqlalchemy import text

        return session.execute(text("SELECT current_user")).scalar()
    return os_login()


def enforced(session) -> bool:
    """True once any staff member (active or not) has a login bound."""
    return session.exec(select(Staff.id).where(Staff.login.is_not(None)).limit(1)).first() is not None


def identity_note(session) -> str | None:
    """One line for `config show` and `db check`: None when identities are enforced."""
    return None if enforced(session) else _(NOT_ENFORCED)


def resolve_acting(session, requested: str | None, default: str | None = None) -> Actor | None:
    """The Actor for this command. `requested`: --as or CSDESK_AGENT; `default`: the settings' `agent`."""
    from csdesk.workflows.staff import resolve_actor

    requested = (requested or "").strip() or None
    if not enforced(session):
        return resolve_actor(session, requested or default)
    login = current_login(session)
    me = session.exec(select(Staff).where(Staff.login == login)).first() if login else None
    if me is None:
        if requested:
            raise PermissionDenied(
                _("the login {login!r} is bound to no staff member, so it cannot act as {name!r}").format(login=login, name=requested),
                hint=_("a director binds it: csdesk staff edit NAME --login LOGIN"),
            )
        return None
    if not me.active:
        raise PermissionDenied(_("{name} (login {login!r}) is no longer active and cannot act").format(name=me.name, login=login))
    if requested is None or requested == me.name:
        return Actor(me.id, me.name, me.role)
    other = resolve_actor(session, requested)
    if me.role != "director":
        raise PermissionDenied(
            _("the login {login!r} is {name}, who cannot act as {other}: only a director may act for someone else").format(
                login=login, name=me.name, other=other.name)
        )
    return Actor(other.id, other.name, other.role, admin_id=me.id, admin=me.name)
