"""Reading the audit trail: who changed what, and when."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import select

from csdesk.errors import InvalidValue
from csdesk.i18n import _
from csdesk.models import AuditEntry
from csdesk.workflows import Desk, check_limit
from csdesk.workflows.audit_labels import action_label, field_label


@dataclass
class AuditRow:
    id: int
    at: datetime
    actor: str | None
    action: str
    entity: str
    entity_id: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    admin: str | None = None  # the director who acted for `actor`, if any
    action_label: str = ""  # the action in the interface language (the code as stored if it has none)
    changes: list[dict[str, Any]] = field(default_factory=list)  # {field, field_label, before, after}


def _audit_filters(entity: str | None, since: datetime | None) -> list:
    where = []
    if entity:
        m = re.fullmatch(r"([a-z_]+)(?::(\d+))?", entity.strip().lower())
        if not m:
            raise InvalidValue(_("{entity!r} is not an entity (use e.g. customer:12 or call)").format(entity=entity))
        where.append(AuditEntry.entity == m.group(1))
        if m.group(2):
            where.append(AuditEntry.entity_id == int(m.group(2)))
    if since:
        where.append(AuditEntry.at >= since)
    return where


def count_audit(desk: Desk, entity: str | None = None, since: datetime | None = None) -> int:
    """How many entries list_audit would list without its limit."""
    from sqlmodel import func

    return desk.session.exec(select(func.count()).select_from(AuditEntry).where(*_audit_filters(entity, since))).one()


def list_audit(desk: Desk, entity: str | None = None, since: datetime | None = None, limit: int = 50) -> list[AuditRow]:
    where = _audit_filters(entity, since)
    check_limit(limit)
    rows = desk.session.exec(select(AuditEntry).where(*where).order_by(AuditEntry.id.desc()).limit(limit)).all()
    out = []
    for r in rows:
        before = _local_times(json.loads(r.before), desk.tz) if r.before else None
        after = _local_times(json.loads(r.after), desk.tz) if r.after else None
        out.append(AuditRow(r.id, r.at, r.actor, r.action, r.entity, r.entity_id, before, after, r.admin,
                            action_label(r.action), _changes(before, after)))
    return out


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each field of the entry with its label: an edit's changed fields (sorted), a new row's in its order."""
    after = after or {}
    names = sorted({*before, *after}) if before is not None else list(after)
    return [{"field": name, "field_label": field_label(name),
             "before": before.get(name) if before is not None else None, "after": after.get(name)} for name in names]


_AWARE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)")


def _local_times(values: dict[str, Any], tz) -> dict[str, Any]:
    """Times in a snapshot are stored in UTC; show them in the configured zone, like every other time."""
    out = {}
    for key, value in values.items():
        if isinstance(value, str) and _AWARE_TIME.fullmatch(value):
            value = datetime.fromisoformat(value).astimezone(tz).isoformat()
        out[key] = value
    return out
