"""csdesk audit."""

from __future__ import annotations

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, out, print_json, state, table, want_json


HIDDEN = {"id", "created_at", "updated_at"}


def describe_change(row) -> str:
    """One short line: `field: old → new` for edits, the non-empty values for a new row."""
    after = row.after or {}
    if row.before is not None:
        text = "; ".join(f"{k}: {row.before.get(k)} → {after.get(k)}" for k in sorted(after) if k not in HIDDEN)
    else:
        text = ", ".join(f"{k}={v}" for k, v in after.items() if v not in (None, "", [], False) and k not in HIDDEN)
    return text if len(text) <= 120 else text[:119] + "…"


def audit(
    ctx: typer.Context,
    entity: Annotated[str | None, typer.Option("--entity", help="customer:12, call:5, staff … (a table, optionally :id)")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only changes since this time (-7d, 2026-11-01 …).")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Who changed what and when (newest first).

    Example: csdesk audit --entity customer:12
    """
    from csdesk import dates
    from csdesk.workflows.audit_trail import list_audit

    st = state(ctx)
    tz = st.settings.tz
    since_at = dates.parse_when(since, tz=tz, future=False) if since else None
    rows = st.read(lambda desk: list_audit(desk, entity, since_at, limit))
    if want_json(ctx, json_):
        print_json(ctx, rows)
        return
    t = table("#", "when", "who", "action", "row", "change")
    for r in rows:
        who = f"{r.actor or ''} (by {r.admin})" if r.admin else r.actor or ""
        t.add_row(str(r.id), dates.fmt(r.at, tz), who, r.action, f"{r.entity}:{r.entity_id}", describe_change(r))
    out().print(t)


def register(root: typer.Typer) -> None:
    root.command("audit")(audit)
