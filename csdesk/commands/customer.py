"""csdesk customer add|edit|list|show|import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, note, out, print_json, state, table, want_json

app = typer.Typer(no_args_is_help=True)

PhoneOpt = Annotated[list[str] | None, typer.Option("--phone", help="A phone number (repeat for several).")]


def _phones(numbers: list[str]) -> str:
    from csdesk.phones import display

    return ", ".join(display(n) for n in numbers)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Customer name (person or contact).")],
    phone: PhoneOpt = None,
    tier: Annotated[str, typer.Option("--tier", help="standard | vip | key")] = "standard",
    company: Annotated[str | None, typer.Option("--company")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    manager: Annotated[str | None, typer.Option("--manager", help="Account manager (staff name).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Where the customer came from.")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a customer with one or more phone numbers.

    Example: csdesk customer add 张伟 --phone 138-1234-5678 --phone 010-62345678 --tier vip --company 华府装饰
    """
    from csdesk.workflows.customers import add_customer

    info = state(ctx).write(lambda desk: add_customer(
        desk, name, phone or [], tier=tier, company=company, address=address, manager=manager, source=source, notes=notes))
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        typer.echo(info.code)
        note(f"Added {info.code} {info.display_name} ({_phones(info.phones)}).")


@app.command("edit")
def edit(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="Code or any phone number of the customer.")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    phone: Annotated[list[str] | None, typer.Option("--add-phone", help="Add a number (repeatable).")] = None,
    remove_phone: Annotated[list[str] | None, typer.Option("--remove-phone", help="Remove a number (repeatable).")] = None,
    tier: Annotated[str | None, typer.Option("--tier")] = None,
    company: Annotated[str | None, typer.Option("--company")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    manager: Annotated[str | None, typer.Option("--manager", help="Account manager; '' to clear.")] = None,
    source: Annotated[str | None, typer.Option("--source")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    json_: JsonOpt = False,
) -> None:
    """Change a customer's details or numbers.

    Example: csdesk customer edit 13812345678 --name 张伟 --tier key --add-phone 13900001111
    """
    from csdesk.workflows.customers import edit_customer

    info = state(ctx).write(lambda desk: edit_customer(
        desk, customer, name=name, add_phones=phone, remove_phones=remove_phone, tier=tier, company=company,
        address=address, manager=manager, source=source, notes=notes))
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        note(f"Updated {info.code} {info.display_name}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    tier: Annotated[str | None, typer.Option("--tier", help="standard | vip | key")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Part of a name, company, code, address or number.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    unmanaged: Annotated[bool, typer.Option("--unmanaged", help="Only key accounts without a qualified manager (active, intermediate or senior).")] = False,
    json_: JsonOpt = False,
) -> None:
    """List customers, newest first.

    Example: csdesk customer list --tier key --search 装饰
    """
    if unmanaged:  # csdesk customer list --tier key --unmanaged (commands/assign.py)
        from csdesk.commands.assign import list_unmanaged

        return list_unmanaged(ctx, tier, search, limit, json_)
    from csdesk.workflows.customers import TIER_LABELS, list_customers

    rows, total = state(ctx).read(lambda desk: list_customers(desk, tier, search, limit))
    if want_json(ctx, json_):
        print_json(ctx, {"total": total, "customers": rows})
        return
    t = table("code", "name", "phones", "tier", "company", "manager")
    for c in rows:
        t.add_row(c.code, c.display_name, _phones(c.phones), TIER_LABELS[c.tier], c.company or "", c.manager or "")
    out().print(t)
    note(f"{len(rows)} of {total} customers shown.")


def render_calls(calls, tz, title: str | None = None):
    from csdesk import dates
    from csdesk.phones import display
    from csdesk.workflows.calls import CHANNELS, DIRECTIONS, KINDS

    t = table("#", "when", "dir", "channel", "kind", "customer", "phone", "agent", "summary", title=title)
    for c in calls:
        t.add_row(
            str(c.id), dates.fmt(c.at, tz), DIRECTIONS.get(c.direction, c.direction), CHANNELS.get(c.channel, c.channel),
            KINDS.get(c.kind, c.kind), f"{c.customer_code} {c.customer_name or ''}".strip(), display(c.phone) if c.phone else "",
            c.agent or "", c.summary if len(c.summary) <= 60 else c.summary[:59] + "…",
        )
    return t


def render_sections(console, sections) -> None:
    for title, rows in sections:
        if not rows:
            continue
        columns = list(rows[0].keys())
        t = table(*columns, title=title)
        for row in rows:
            t.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        console.print(t)


@app.command("show")
def show(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="Code or any phone number.")],
    calls: Annotated[int, typer.Option("--calls", help="How many recent calls to show.")] = 10,
    json_: JsonOpt = False,
) -> None:
    """Everything about one customer: details, numbers, latest calls and what is open.

    Example: csdesk customer show 138-1234-5678
    """
    from csdesk.workflows.customers import TIER_LABELS, customer_view

    st = state(ctx)
    view = st.read(lambda desk: customer_view(desk, customer, max(calls, 0)))
    if want_json(ctx, json_):
        print_json(ctx, view)
        return
    c = view.customer
    console = out()
    from csdesk.commands.common import heading

    console.print(heading(f"{c.code} {c.display_name}", f"  {TIER_LABELS[c.tier]}"))
    for label, value in (("phones", _phones(c.phones)), ("company", c.company), ("address", c.address),
                         ("manager", c.manager), ("source", c.source), ("notes", c.notes)):
        if value:
            console.print(f"  {label:8} {value}", markup=False)
    render_sections(console, view.sections)
    if view.calls:
        console.print(render_calls(view.calls, st.settings.tz, title=f"最近通话 latest calls ({len(view.calls)} of {view.call_count})"))
    else:
        console.print("  no calls yet")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An .xlsx or .csv file with a header row (姓名/name, 电话/phone, …).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and say what would happen; write nothing.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Import customers from a spreadsheet: all rows or none; re-importing updates instead of duplicating.

    Headers may be Chinese or English: 姓名/name, 电话/手机/phone (several numbers separated by / , ; or
    spaces), 公司/company, 地址/address, 等级/tier, 来源/source, 备注/notes, 客户经理/manager.

    Example: csdesk customer import 客户名单.xlsx --dry-run
    """
    from csdesk.workflows.imports import import_customers, read_table

    st = state(ctx)
    rows = read_table(file)
    progress_cm = None
    if len(rows) >= 500 and not want_json(ctx, json_):
        from rich.console import Console
        from rich.progress import Progress

        progress_cm = Progress(transient=True, console=Console(stderr=True))
    if progress_cm is not None:
        with progress_cm as progress:
            task = progress.add_task("importing", total=len(rows))
            result = st.write(lambda desk: import_customers(desk, rows, file.name, dry_run, lambda n: progress.update(task, completed=n)))
    else:
        result = st.write(lambda desk: import_customers(desk, rows, file.name, dry_run))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    verb = "Would import" if dry_run else "Imported"
    note(f"{verb} {result.rows} rows from {file.name}: {result.created} new customers, {result.updated} updated, {result.unchanged} unchanged.")


@app.command("merge")
def merge(
    ctx: typer.Context,
    duplicate: Annotated[str, typer.Argument(help="The duplicate (code or phone): it goes away.")],
    into: Annotated[str, typer.Option("--into", help="The customer to keep (code or phone).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would move; change nothing.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Merge a duplicate customer into the one to keep (supervisor or above): numbers, calls, complaints,
    callbacks, projects and money move; the duplicate's code keeps working and leads to the kept customer.

    Example: csdesk --as 李娜 customer merge C000057 --into C000012 --dry-run
    """
    from csdesk.workflows.merge import merge_customers

    result = state(ctx).write(lambda desk: merge_customers(desk, duplicate, into, dry_run=dry_run))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    t = table("what", "count", "items")
    for what, refs in result.moved.items():
        shown = ", ".join(refs[:12]) + (f" … (+{len(refs) - 12})" if len(refs) > 12 else "")
        t.add_row(what, str(len(refs)), shown)
    for name, value in result.filled.items():
        t.add_row(f"filled {name}", "", value)
    for line in result.ended:
        t.add_row("ended", "", line)
    out().print(t)
    verb = "Would merge" if dry_run else "Merged"
    note(f"{verb} {result.duplicate} into {result.kept} {result.kept_name or ''}".rstrip() + ".")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="customer", help="Customers: add, edit, list, show, import, merge.")
