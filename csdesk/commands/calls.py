"""csdesk log-call, csdesk calls list."""

from __future__ import annotations

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, note, out, print_json, state, want_json

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
    from csdesk.workflows.calls import log_call as log

    st = state(ctx)
    tz = st.settings.tz
    when = dates.parse_when(at, tz=tz, future=False) if at else None
    length = dates.parse_duration(duration) if duration else None
    result = st.write(lambda desk: log(desk, phone, kind, summary, name=name, channel=channel, direction=direction,
                                       at=when, duration=length, project=project, resolved=resolved,
                                       open_complaint=open_complaint, severity=severity, category=category,
                                       recording=recording))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    typer.echo(result.call.id)
    who = f"{result.customer_code} {result.customer_name or '(未登记姓名 unnamed)'}"
    note(f"Logged call #{result.call.id} for {who}" + (" — new customer" if result.new_customer else "") + ".")
    if result.complaint is not None:
        c = result.complaint
        note(f"Opened complaint #{c.id} ({c.severity_label} {c.category_label}, {c.level_name}), assigned to {c.assignee}.")
    if result.open_items:
        from csdesk.commands.customer import render_sections

        render_sections(out(), result.open_items)


def calls_list(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="From (today, -7d, 2026-11-01 …).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Before.")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Staff name.")] = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Code or phone.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    json_: JsonOpt = False,
) -> None:
    """List calls, newest first.

    Example: csdesk calls list --since -7d --kind complaint
    """
    from csdesk import dates
    from csdesk.commands.customer import render_calls
    from csdesk.workflows.calls import list_calls

    st = state(ctx)
    tz = st.settings.tz
    since_at = dates.parse_when(since, tz=tz, future=False) if since else None
    until_at = dates.parse_when(until, tz=tz, future=False) if until else None
    rows = st.read(lambda desk: list_calls(desk, since_at, until_at, agent, kind, customer, limit))
    if want_json(ctx, json_):
        print_json(ctx, rows)
        return
    out().print(render_calls(rows, tz))
    note(f"{len(rows)} calls.")


def _render_call(ctx, c) -> None:
    from rich.text import Text

    from csdesk import dates
    from csdesk.phones import display
    from csdesk.workflows.calls import CHANNELS, DIRECTIONS, KINDS

    tz = state(ctx).settings.tz
    console = out()
    head = Text(f"call #{c.id}  ", style="bold")
    if c.voided_at is not None:
        head.append("VOID 作废", style="bold red")
    console.print(head)
    rows = [
        ("when", dates.fmt(c.at, tz)), ("direction", f"{c.direction} {DIRECTIONS.get(c.direction, '')}"),
        ("channel", f"{c.channel} {CHANNELS.get(c.channel, '')}"), ("kind", f"{c.kind} {KINDS.get(c.kind, '')}"),
        ("customer", f"{c.customer_code} {c.customer_name or ''}".strip()), ("phone", display(c.phone) if c.phone else None),
        ("agent", c.agent), ("duration", f"{c.duration_s // 60}m{c.duration_s % 60:02d}s" if c.duration_s is not None else None),
        ("project", c.project), ("complaint", f"#{c.complaint_id}" if c.complaint_id else None),
        ("resolved", "yes (first contact)" if c.resolved else "no"), ("summary", c.summary),
        ("recording", c.recording),
    ]
    if c.voided_at is not None:
        rows += [("voided", f"{dates.fmt(c.voided_at, tz)} by {c.voided_by or '—'}"), ("reason", c.void_reason)]
    for label, value in rows:
        if value:
            console.print(Text(f"  {label:10} {value}"))


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
    summary: Annotated[str | None, typer.Option("--summary")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Move it to this customer (code or phone).")] = None,
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
    when = dates.parse_when(at, tz=st.settings.tz, future=False) if at else None
    length = dates.parse_duration(duration) if duration else None
    info = st.write(lambda desk: edit_call(desk, call_id, kind=kind, summary=summary, customer=customer, project=project,
                                           at=when, duration=length, channel=channel, direction=direction, resolved=resolved,
                                           recording=recording))
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        note(f"Updated call #{info.id}.")


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
        note(f"Voided call #{info.id}.")


def register(root: typer.Typer) -> None:
    root.command("log-call")(log_call)
    app.command("list")(calls_list)
    app.command("show")(calls_show)
    app.command("edit")(calls_edit)
    app.command("void")(calls_void)
    root.add_typer(app, name="calls", help="Calls: list, show, edit, void.")
