"""The domain. Workflows take a Desk (session, who is acting, settings, now) and plain values, return
plain dataclasses, and raise CsdeskError subclasses. They never print and never import typer or rich.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from csdesk.config import Settings
from csdesk.errors import InvalidValue, PermissionDenied
from csdesk.i18n import _

ROLES = ("specialist", "supervisor", "manager", "director")
ROLE_RANK = {role: i + 1 for i, role in enumerate(ROLES)}
ROLE_LABELS = {"specialist": "客服专员", "supervisor": "客服主管", "manager": "客服经理", "director": "分管副总"}


def check_limit(limit: int) -> int:
    """How many rows a list shows (--limit): at least one."""
    if limit < 1:
        raise InvalidValue(_("--limit must be at least 1"))
    return limit


@dataclass(frozen=True)
class Actor:
    id: int
    name: str
    role: str
    # A director acting for this person (`--as` while logins are bound): recorded in every audit entry.
    admin_id: int | None = None
    admin: str | None = None

    @property
    def rank(self) -> int:
        return ROLE_RANK[self.role]


@dataclass
class Desk:
    """Everything a workflow needs besides its own arguments."""

    session: Any
    settings: Settings
    now: datetime
    actor: Actor | None = None
    via: str | None = None  # who acts when no person does ("remind run"), for the audit trail

    @property
    def tz(self):
        return self.settings.tz

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise PermissionDenied(
                _("nobody is acting: say who you are with --as NAME or CSDESK_AGENT"),
                hint=_("csdesk staff list shows the names"),
            )
        return self.actor

    def require_rank(self, role: str, doing: str) -> Actor:
        actor = self.require_actor()
        if actor.rank < ROLE_RANK[role]:
            from csdesk.workflows.lookup import role_label

            # `doing` is the caller's words (marked for the catalogue there, or English as given).
            raise PermissionDenied(_("{doing} needs a {role} or above; {name} is a {their_role}").format(
                doing=_(doing), role=role_label(role), name=actor.name, their_role=role_label(actor.role)))
        return actor


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def snapshot(row: Any) -> dict[str, Any]:
    """A row's columns as a JSON-ready dict, for the audit trail."""
    return {c.key: _plain(getattr(row, c.key)) for c in row.__table__.columns}


def audit(
    desk: Desk, action: str, row: Any, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
    flush: bool = True,
) -> None:
    """Append the audit row in the same transaction as the change it records.

    `flush=False` is for bulk work that has already flushed the rows (so they have ids).
    """
    from csdesk.models import AuditEntry

    if flush:
        desk.session.flush()
    after_state = after if after is not None else snapshot(row)
    if before is not None and after is None:
        # Keep only what changed, so the trail reads as a diff.
        changed = {k for k in after_state if before.get(k) != after_state.get(k)}
        before = {k: before.get(k) for k in changed}
        after_state = {k: after_state[k] for k in changed}
    desk.session.add(
        AuditEntry(
            at=desk.now,
            actor_id=desk.actor.id if desk.actor else None,
            actor=desk.actor.name if desk.actor else desk.via,
            action=action,
            entity=row.__tablename__,
            entity_id=row.id,
            before=json.dumps(before, ensure_ascii=False, sort_keys=True) if before is not None else None,
            after=json.dumps(after_state, ensure_ascii=False, sort_keys=True),
            admin_id=desk.actor.admin_id if desk.actor else None,
            admin=desk.actor.admin if desk.actor else None,
        )
    )
