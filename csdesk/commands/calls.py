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
                                       open_complaint=open_complaint, severity=severity, category=category))
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


def register(root: typer.Typer) -> None:
    root.command("log-call")(log_call)
    app.command("list")(calls_list)
    root.add_typer(app, name="calls", help="Calls: list.")
