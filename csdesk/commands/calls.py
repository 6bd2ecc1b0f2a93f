"""csdesk log-call, csdesk calls list."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, cut_note, note, out, parse_at, print_json, print_list, state, want_json

app = typer.Typer(no_args_is_help=True)


def log_call(
    ctx: typer.Context,
    phone: Annotated[str, typer.Option("--phone", help="The caller's number, any common format.")],
    kind: Annotated[str, typer.Option("--kind", help="inquiry | complaint | repair | suggestion | followup | payment | other")],
    summary: Annotated[str, typer.Option("--summary", help="What was said.")],
    name: Annotated[str | None, typer.Option("--name", help="Caller's name: names a new number, or completes an unnamed customer.")] = None,
    channel: Annotated[str, typer.Option("--channel", help="hotline | phone | wechat | visit | email | other")] = "phone",
    direction: Annotated[str, typer.Option("--direction", help="in | out")] = "in",
    at: Annotated[str | None, typer.Option("--at", help="When (default now): 2026-11-24 14:30, today 14:30, yesterday, -2h.")] = None,
    duration: Annotated[str | None, typer.Option("--duration", help="How long: 5m30s, 2m, 1h.")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Project code the call is about.")] = None,
    resolved: Annotated[bool, typer.Option("--resolved", help="Settled on this first contact.")] = False,
    open_complaint: Annotated[bool, typer.Option("--open-complaint", help="Also open a complaint from this call (--kind complaint); you own it.")] = False,
    severity: Annotated[str | None, typer.Option("--severity", help="With --open-complaint: normal (default) | serious | major.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="With --open-complaint: quality | installation | attitude | delay | billing | other (default).")] = None,
    recording: Annotated[str | None, typer.Option("--recording", help="The phone system's reference to the call's recording (file, URL or id), for quality checks.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Log a call; a known number finds the customer, an unknown one creates one.

    Example: csdesk log-call --phone 138-1234-5678 --kind repair --summary "卫生间漏水" --at "today 14:30"
    """
    from csdesk import dates
    from csdesk.workflows.call_intake import log_call as log

    st = state(ctx)
    tz = st.settings.tz
    when = parse_at(st, at)
    length = dates.parse_duration(duration) if duration else None
    result = st.write(lambda desk: log(desk, phone, kind, summary, name=name, channel=channel, direction=direction,
                                       at=when, duration=length, project=project, resolved=resolved,
                                       open_complaint=open_complaint, severity=severity, category=category,
                                       recording=recording))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    typer.echo(result.call.id)
    render_brief(result, tz)


def render_brief(result, tz) -> None:
    """On stderr, in about 15 lines that fit the terminal (80 columns): who is calling and what is open
    for them — so that stdout carries only the new call's id."""
    from datetime import timedelta

    from rich.text import Text

    from csdesk import dates
    from csdesk.commands.common import _data_console_class
    from csdesk.i18n import _
    from csdesk.money import fmt_money
    from csdesk.workflows.calls import KINDS, choice_label
    from csdesk.workflows.complaints import fmt_business

    b = result.brief
    console = _data_console_class()(stderr=True, highlight=False, soft_wrap=False)
    year = dates.to_local(result.call.at, tz).year

    def show(*parts) -> None:
        console.print(Text.assemble(*parts), no_wrap=True, overflow="ellipsis")

    def short(value) -> str:
        local = dates.to_local(value, tz)
        return local.strftime("%m-%d %H:%M") if local.year == year else local.strftime("%Y-%m-%d")

    def late(text: str):
        return (text, "bold red")

    def part(title: str, shown: int, total: int) -> str:
        count = _("{shown} of {total}").format(shown=shown, total=total) if shown < total else str(total)
        return f"{title} ({count})"

    who = f"{b.code} {b.name or _('(no name yet)')}"
    if result.new_customer:
        show((_("Call #{id} logged for {who}, a new customer.").format(id=result.call.id, who=who), "bold"))
    else:
        show((_("Call #{id} logged for {who} ({tier}).").format(id=result.call.id, who=who, tier=b.tier_label), "bold"))
    if result.complaint is not None:
        c = result.complaint
        show(_("Opened complaint #{id} ({severity}, {category}), assigned to {assignee}.").format(
            id=c.id, severity=c.severity_label, category=c.category_label, assignee=c.assignee))
    if b.complaints:
        show((part(_("Open complaints"), len(b.complaints), b.complaints_total), "bold"))
        for row in b.complaints:
            left = ""
            if row.business_left_s is not None:
                text = fmt_business(timedelta(seconds=abs(row.business_left_s)))
                if row.business_left_s < 0:
                    left = late(_("overdue {time}").format(time=text))
                elif row.business_left_s <= 2 * 3600:
                    left = (_("due soon, {time} left").format(time=text), "bold yellow")
                else:
                    left = _("{time} left").format(time=text)
            due = _("next deadline {time}").format(time=short(row.next_due)) if row.next_due else ""
            show(f"  #{row.id} {row.status_label} L{row.level} {row.severity_label}  {due} ", left, f"  {row.summary}")
    if b.callbacks:
        title = part(_("Callbacks due within 7 days"), len(b.callbacks), b.callbacks_total)
        if b.callbacks_overdue:
            title += " " + _("{n} overdue").format(n=b.callbacks_overdue)
        show((title, "bold"))
        for cb in b.callbacks:
            due = late(f"{short(cb.due_at)} " + _("overdue")) if cb.overdue else short(cb.due_at)
            show(f"  #{cb.id} ", due, f" {cb.purpose_label} {cb.assignee or _('(nobody)')}  {cb.note or cb.subject or ''}")
    if b.instalments:
        show(late(_("Money overdue: {amount} (instalments: {n})").format(amount=fmt_money(b.money_overdue), n=b.instalments_total)))
        for i in b.instalments[:2]:
            show(f"  {i.project_code} {i.name} {fmt_money(i.outstanding)} ",
                 late(_("{days} days overdue").format(days=i.days_overdue)))
    if b.calls:
        show((part(_("Latest calls"), len(b.calls), b.calls_total), "bold"))
        for c in b.calls:
            show(f"  #{c.id} {short(c.at)} {choice_label(c.kind, KINDS)} {c.agent or ''}  {c.summary}")


def calls_list(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="From (today, -7d, 2026-11-01 …).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Before.")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Staff name, or me.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="inquiry | complaint | repair | suggestion | followup | payment | other")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="The customer's code, any of their numbers, or their name.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """List calls, newest first.

    Example: csdesk calls list --since -7d --kind complaint
    """
    from csdesk import dates
    from csdesk.commands.customer import render_calls
    from csdesk.workflows.calls import count_calls, list_calls

    st = state(ctx)
    tz = st.settings.tz
    since_at = dates.parse_when(since, tz=tz, future=False) if since else None
    until_at = dates.parse_when(until, tz=tz, future=False) if until else None
    rows, total = st.read(lambda desk: (list_calls(desk, since_at, until_at, agent, kind, customer, limit),
                                        count_calls(desk, since_at, until_at, agent, kind, customer)))
    if want_json(ctx, json_):
        print_list(ctx, rows, total)
        return
    out().print(render_calls(rows, tz))
    cut_note(len(rows), total)


def _render_call(ctx, c) -> None:
    from rich.text import Text

    from csdesk import dates
    from csdesk.commands.customer import fields
    from csdesk.i18n import _
    from csdesk.phones import display
    from csdesk.workflows.calls import CHANNELS, DIRECTIONS, KINDS, choice_label

    tz = state(ctx).settings.tz
    console = out()
    head = Text(_("Call #{id}").format(id=c.id) + "  ", style="bold")
    if c.voided_at is not None:
        head.append(_("VOID"), style="bold red")
    console.print(head)
    rows = [
        (_("When"), dates.fmt(c.at, tz)), (_("Direction"), choice_label(c.direction, DIRECTIONS)),
        (_("Channel"), choice_label(c.channel, CHANNELS)), (_("Kind"), choice_label(c.kind, KINDS)),
        (_("Customer"), f"{c.customer_code} {c.customer_name or ''}".strip()), (_("Phone"), display(c.phone) if c.phone else None),
        (_("Agent"), c.agent), (_("Duration"), dates_duration(c.duration_s)),
        (_("Project"), c.project), (_("Complaint"), f"#{c.complaint_id}" if c.complaint_id else None),
        (_("Resolved"), _("yes, on first contact") if c.resolved else _("no")), (_("Summary"), c.summary),
        (_("Recording"), c.recording),
    ]
    if c.voided_at is not None:
        rows += [(_("Voided"), _("{time} by {name}").format(time=dates.fmt(c.voided_at, tz), name=c.voided_by or "—")),
                 (_("Reason"), c.void_reason)]
    fields(console, rows)


def dates_duration(seconds: int | None) -> str | None:
    """5m30s: how long a call lasted."""
    if seconds is None:
        return None
    return f"{seconds // 60}m{seconds % 60:02d}s"


CallId = Annotated[int, typer.Argument(help="The call's number (# in calls list).", metavar="ID")]


def calls_show(ctx: typer.Context, call_id: CallId, json_: JsonOpt = False) -> None:
    """Show one call, voided or not.

    Example: csdesk calls show 12
    """
    from csdesk.workflows.calls import show_call

    info = state(ctx).read(lambda desk: show_call(desk, call_id))
    if want_json(ctx, json_):
        print_json(ctx, info)
        return
    _render_call(ctx, info)


def calls_edit(
    ctx: typer.Context,
    call_id: CallId,
    kind: Annotated[str | None, typer.Option("--kind", help="inquiry | complaint | repair | suggestion | followup | payment | other")] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="The call's summary, corrected.")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Move it to this customer (code, phone or name).")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Project code ('' takes it off); must be the customer's.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When it really happened (not in the future).")] = None,
    duration: Annotated[str | None, typer.Option("--duration", help="How long: 5m30s, 2m, 1h.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="hotline | phone | wechat | visit | email | other")] = None,
    direction: Annotated[str | None, typer.Option("--direction", help="in | out")] = None,
    resolved: Annotated[bool | None, typer.Option("--resolved/--not-resolved", help="Settled on first contact, or not.", show_default=False)] = None,
    recording: Annotated[str | None, typer.Option("--recording", help="The recording's reference in the phone system ('' takes it off).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Correct a call (the agent who logged it, or a supervisor or above); recorded in the audit trail.

    Example: csdesk calls edit 12 --kind complaint --project P0003 --at "today 9:40" --resolved
    """
    from csdesk import dates
    from csdesk.workflows.calls import edit_call

    st = state(ctx)
    when = parse_at(st, at)
    length = dates.parse_duration(duration) if duration else None
    info = st.write(lambda desk: edit_call(desk, call_id, kind=kind, summary=summary, customer=customer, project=project,
                                           at=when, duration=length, channel=channel, direction=direction, resolved=resolved,
                                           recording=recording))
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        from csdesk.i18n import _

        note(_("Updated call #{id}.").format(id=info.id))


def calls_void(
    ctx: typer.Context,
    call_id: CallId,
    reason: Annotated[str, typer.Option("--reason", help="Why it should not count (logged twice, wrong desk …).")],
    json_: JsonOpt = False,
) -> None:
    """Void a call logged by mistake: it leaves lists, counts and reports, and stays readable (calls show, audit).

    Example: csdesk calls void 12 --reason "logged twice (see #11)"
    """
    from csdesk.workflows.calls import void_call

    info = state(ctx).write(lambda desk: void_call(desk, call_id, reason))
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        from csdesk.i18n import _

        note(_("Voided call #{id}.").format(id=info.id))


def register(root: typer.Typer) -> None:
    root.command("log-call")(log_call)
    app.command("list")(calls_list)
    app.command("show")(calls_show)
    app.command("edit")(calls_edit)
    app.command("void")(calls_void)
    root.add_typer(app, name="calls", help="Calls: list, show, edit, void.")
