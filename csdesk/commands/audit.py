"""csdesk audit."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, cut_note, out, print_list, state, table, want_json


HIDDEN = {"id", "created_at", "updated_at"}


def describe_change(row) -> str:
    """One short line in the interface language: `状态: open → acknowledged` for edits, the non-empty values
    for a new row (field names through their labels; values are data, shown as stored)."""
    from csdesk.workflows.audit_labels import field_label

    after = row.after or {}
    if row.before is not None:
        text = "; ".join(f"{field_label(k)}: {row.before.get(k)} → {after.get(k)}" for k in sorted(after) if k not in HIDDEN)
    else:
        text = ", ".join(f"{field_label(k)}={v}" for k, v in after.items() if v not in (None, "", [], False) and k not in HIDDEN)
    return text if len(text) <= 120 else text[:119] + "…"


def audit(
    ctx: typer.Context,
    entity: Annotated[str | None, typer.Option("--entity", help="customer:12, call:5, staff … (a table, optionally :id)")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only changes since this time (-7d, 2026-11-01 …).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Who changed what and when (newest first).

    Example: csdesk audit --entity customer:12
    """
    from csdesk import dates
    from csdesk.i18n import _
    from csdesk.workflows.audit_trail import count_audit, list_audit

    st = state(ctx)
    tz = st.settings.tz
    since_at = dates.parse_when(since, tz=tz, future=False) if since else None
    rows, total = st.read(lambda desk: (list_audit(desk, entity, since_at, limit), count_audit(desk, entity, since_at)))
    if want_json(ctx, json_):
        print_list(ctx, rows, total)
        return
    h = (_("When"), _("Who"), _("Action"), _("Row"), _("Change"))
    t = table("#", *h, text=(h[4], h[1]), optional=(h[3],))
    for r in rows:
        who = _("{name} (by {admin})").format(name=r.actor or "", admin=r.admin) if r.admin else r.actor or ""
        t.add_row(str(r.id), dates.fmt(r.at, tz), who, r.action_label or r.action, f"{r.entity}:{r.entity_id}", describe_change(r))
    out().print(t)
    cut_note(len(rows), total)


def register(root: typer.Typer) -> None:
    root.command("audit")(audit)
