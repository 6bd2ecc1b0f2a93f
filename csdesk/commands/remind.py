"""csdesk remind run|list."""

from __future__ import annotations

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, NowOpt, note, out, print_json, state, table, want_json

app = typer.Typer(no_args_is_help=True)


@app.command("run")
def run(
    ctx: typer.Context,
    now: NowOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")] = False,
    mail: Annotated[bool, typer.Option("--mail", "--send", help="Send pending notices through the notify channels: mail (one digest per person), WeCom, DingTalk ([notify] in config).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing when there is nothing new.")] = False,
    fail_on_breach: Annotated[bool, typer.Option("--fail-on-breach", help="Exit 3 when anything is in breach.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Announce everything due or overdue exactly once, and run the rules that act on time. Safe to run from cron.

    Example (crontab, every 5 minutes): */5 * * * * csdesk --db /srv/desk.db remind run --mail --quiet >> /var/log/csdesk-remind.log 2>&1
    """
    from csdesk import dates
    from csdesk.workflows.reminders import remind_run

    st = state(ctx)
    st.database.require()
    when = st.now(now, write=not dry_run)
    st.database.go_past_bad_rows = True  # a corrupted row is left out and reported, not a stop for everyone
    result = remind_run(st.database, st.settings, when, dry_run=dry_run, mail=mail)
    bad = st.database.went_past
    tz = st.settings.tz
    if result.skipped:
        note(f"another remind run is in progress on {st.database.target.label}; nothing done")
        return
    if want_json(ctx, json_):
        data = {
            "run_id": result.run_id, "now": result.now, "dry_run": dry_run, "announced": len(result.notices),
            "already_announced": result.already, "breaches": result.breaches, "actions": result.actions,
            "by_person": {k: [{"kind": n.kind, "entity": f"{n.entity}:{n.entity_id}", "message": n.message} for n in v]
                          for k, v in result.by_person().items()},
            "mail": result.mail, "skipped_rows": [b.line() for b in bad],
        }
        print_json(ctx, data)
    elif result.notices or result.actions or not quiet:
        console = out()
        head = "Would announce" if dry_run else "Announced"
        console.print(f"remind run {dates.fmt(result.now, tz)}: {head.lower()} {len(result.notices)}, "
                      f"already announced before {result.already}, in breach {result.breaches}", markup=False)
        for line in result.actions:
            console.print(f"  {'would: ' if dry_run else ''}{line}", markup=False)
        from csdesk.commands.common import heading

        for person, notices in sorted(result.by_person().items()):
            console.print(heading(f"\n{person}", f" ({len(notices)})"))
            for n in notices:
                console.print(f"  - {n.message}", markup=False)
    if result.mail:
        m = result.mail
        if m.get("sent") or not quiet:
            note(f"notify: {m['sent']} messages sent ({m['notices_mailed']} notices), {m['pending']} deliveries still pending")
        for failure in m.get("failed", []):
            note(f"{failure['channel']}: sending to {failure['recipient']} failed, kept for the next run: {failure['error']}")
        for unknown in m.get("unknown", []):
            if unknown["next_try"] is None:
                note(f"{unknown['channel']}: no answer for {unknown['message_id']}; it may have arrived, so it is sent again "
                     f"(the same message) only after notify.resend_unknown_after: {unknown['error']}")
            else:
                note(f"{unknown['channel']}: {unknown['message_id']} (fate unknown) is sent again from "
                     f"{dates.fmt(unknown['next_try'], tz)}")
        for warning in m.get("warnings", []):
            note(f"notify: {warning}")
    if bad:
        from csdesk.errors import CsdeskError

        raise CsdeskError(f"remind run skipped the rows it could not read ({len(bad)} stored values do not parse); everything else was done",
                          hint="csdesk db check lists them", details=[b.line() for b in bad])
    if fail_on_breach and result.breaches:
        raise typer.Exit(3)


@app.command("list")
def list_(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="Only announcements since (today, -7d …).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Only those for this staff member.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    json_: JsonOpt = False,
) -> None:
    """The announcements already made, newest first.

    Example: csdesk remind list --since today --to 王芳
    """
    from csdesk import dates
    from csdesk.workflows.reminders import list_notices

    st = state(ctx)
    tz = st.settings.tz
    since_at = dates.parse_when(since, tz=tz, future=False) if since else None
    rows = st.read(lambda desk: list_notices(desk, since_at, to, limit))
    if want_json(ctx, json_):
        print_json(ctx, rows)
        return
    t = table("#", "when", "to", "kind", "mail", "message")
    for r in rows:
        t.add_row(str(r.id), dates.fmt(r.created_at, tz), r.recipient or "", r.kind, r.mail_status, r.message)
    out().print(t)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="remind", help="Reminders: run from cron, list what was announced.")
