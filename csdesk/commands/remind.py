"""csdesk remind run|list."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, NowOpt, note, out, print_json, state, table, to_plain, want_json
from csdesk.i18n import N_, _

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
    from csdesk.workflows.reminders import LATE_KINDS, kind_label, remind_run

    st = state(ctx)
    st.database.require()
    when = st.now(now, write=not dry_run)
    st.database.go_past_bad_rows = True  # a corrupted row is left out and reported, not a stop for everyone
    result = remind_run(st.database, st.settings, when, dry_run=dry_run, mail=mail)
    bad = st.database.went_past
    tz = st.settings.tz
    if result.skipped:
        note(_("another remind run is in progress on {database}; nothing done").format(database=st.database.target.label))
        return
    if want_json(ctx, json_):
        data = {
            "run_id": result.run_id, "now": result.now, "dry_run": dry_run, "announced": len(result.notices),
            "already_announced": result.already, "breaches": result.breaches, "actions": result.actions,
            "by_person": {k: [{"kind": n.kind, "kind_label": kind_label(n.kind), "entity": f"{n.entity}:{n.entity_id}",
                               "message": n.message} for n in v]
                          for k, v in result.by_person().items()},
            "mail": result.mail, "skipped_rows": [b.line() for b in bad],
        }
        print_json(ctx, data)
    elif result.notices or result.actions or not quiet:
        from rich.text import Text

        from csdesk.commands.common import heading

        console = out()
        when = dates.fmt(result.now, tz)
        summary = (_("Reminder run {time} (dry run): would announce {count}, announced before {already}, in breach {breaches}.")
                   if dry_run else _("Reminder run {time}: announced {count}, announced before {already}, in breach {breaches}."))
        # "in breach N" is the word; red besides when N > 0.
        console.print(Text(summary.format(time=when, count=len(result.notices), already=result.already, breaches=result.breaches),
                           style="bold red" if result.breaches else ""))
        for action in result.actions:
            console.print(Text("  " + (_("would: {action}").format(action=action) if dry_run else action)))
        for person, notices in sorted(result.by_person().items()):
            console.print(heading(f"\n{person}", f" ({len(notices)})"))
            for n in notices:
                row = Text("  - ")
                if n.kind in LATE_KINDS:
                    row.append(f"[{kind_label(n.kind)}] ", style="bold red")
                console.print(row.append(n.message))
    if result.mail:
        m = result.mail
        if m.get("sent") or not quiet:
            note(_("Notify: {sent} messages sent ({notices} notices), {pending} deliveries still pending.").format(
                sent=m["sent"], notices=m["notices_mailed"], pending=m["pending"]))
        for failure in m.get("failed", []):
            recipient = failure["recipient"] or _("the group")
            note(_("{channel}: sending to {recipient} failed, kept for the next run: {error}").format(
                channel=failure["channel"], recipient=recipient, error=failure["error"]))
        for unknown in m.get("unknown", []):
            if unknown["next_try"] is None:
                note(_("{channel}: no answer for {message_id}; it may have arrived, so it is sent again (the same message) "
                       "only after notify.resend_unknown_after: {error}").format(
                    channel=unknown["channel"], message_id=unknown["message_id"], error=unknown["error"]))
            else:
                note(_("{channel}: {message_id} (fate unknown) is sent again from {time}.").format(
                    channel=unknown["channel"], message_id=unknown["message_id"], time=dates.fmt(unknown["next_try"], tz)))
        for warning in m.get("warnings", []):
            note(_("Notify: {warning}").format(warning=warning))
    if bad:
        from csdesk.errors import CsdeskError

        raise CsdeskError(_("remind run skipped the rows it could not read ({count} stored values do not parse); everything else was done").format(count=len(bad)),
                          hint=_("csdesk db check lists them"), details=[b.line() for b in bad])
    if fail_on_breach and result.breaches:
        raise typer.Exit(3)


@app.command("list")
def list_(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="Only announcements since (today, -7d …).", metavar="WHEN")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Only those for this staff member (me: yourself).", metavar="NAME")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many (newest first).")] = 100,
    json_: JsonOpt = False,
) -> None:
    """The announcements already made, newest first.

    Example: csdesk remind list --since today --to 王芳
    """
    from rich.text import Text

    from csdesk import dates
    from csdesk.commands.common import cut_note, print_list
    from csdesk.workflows.reminders import LATE_KINDS, count_notices, kind_label, list_notices

    st = state(ctx)
    tz = st.settings.tz
    since_at = dates.parse_when(since, tz=tz, future=False) if since else None
    rows, total = st.read(lambda desk: (list_notices(desk, since_at, to, limit), count_notices(desk, since_at, to)))
    if want_json(ctx, json_):
        items = [dict(to_plain(r, tz), kind_label=kind_label(r.kind), mail_label=_(MAIL_STATES.get(r.mail_status, r.mail_status)))
                 for r in rows]
        print_list(ctx, items, total)
        return
    t = table("#", _("When"), _("To"), _("Kind"), _("Sent"), _("Message"), text=(_("Message"),), optional=(_("Sent"), _("Kind")))
    for r in rows:
        kind = Text(kind_label(r.kind), style="bold red" if r.kind in LATE_KINDS else "")
        t.add_row(str(r.id), dates.fmt(r.created_at, tz), r.recipient or "", kind,
                  _(MAIL_STATES.get(r.mail_status, r.mail_status)), r.message)
    if rows:
        out().print(t)
    else:
        note(_("No announcements."))
    cut_note(len(rows), total)


# What a notice's mail_status is called on screen.
MAIL_STATES = {"none": N_("no channel"), "pending": N_("waiting"), "sent": N_("sent"), "failed": N_("failed")}


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="remind", help="Reminders: run from cron, list what was announced.")
