"""csdesk customer add|edit|list|show|import."""

from pathlib import Path
from typing import Annotated

import typer

from csdesk.i18n import N_
from csdesk.commands.common import JsonOpt, cut_note, note, out, print_json, print_list, state, table, want_json

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
    company: Annotated[str | None, typer.Option("--company", help="The customer's company.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="The customer's address.")] = None,
    manager: Annotated[str | None, typer.Option("--manager", help="Account manager (staff name).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Where the customer came from.")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Notes on the customer.")] = None,
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
        from csdesk.i18n import _

        typer.echo(info.code)
        note(_("Added {code} {name} ({phones}).").format(code=info.code, name=info.display_name, phones=_phones(info.phones)))


@app.command("edit")
def edit(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="The customer's code, any of their numbers, or their name.")],
    name: Annotated[str | None, typer.Option("--name", help="The customer's name, corrected.")] = None,
    phone: Annotated[list[str] | None, typer.Option("--add-phone", help="Add a number (repeatable).")] = None,
    remove_phone: Annotated[list[str] | None, typer.Option("--remove-phone", help="Remove a number (repeatable).")] = None,
    tier: Annotated[str | None, typer.Option("--tier", help="standard | vip | key (a key account's manager must be intermediate or senior).")] = None,
    company: Annotated[str | None, typer.Option("--company", help="The customer's company.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="The customer's address.")] = None,
    manager: Annotated[str | None, typer.Option("--manager", help="Account manager; '' to clear.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Where the customer came from (展会, 转介绍 …).")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Notes on the customer.")] = None,
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
        from csdesk.i18n import _

        note(_("Updated {code} {name}.").format(code=info.code, name=info.display_name))


@app.command("list")
def list_(
    ctx: typer.Context,
    tier: Annotated[str | None, typer.Option("--tier", help="standard | vip | key")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Part of a name, company, code, address or number.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows (the count of all is on stderr).")] = 50,
    unmanaged: Annotated[bool, typer.Option("--unmanaged", help="Only key accounts without a qualified manager (active, intermediate or senior).")] = False,
    json_: JsonOpt = False,
) -> None:
    """List customers, newest first.

    Example: csdesk customer list --tier key --search 装饰
    """
    if unmanaged:  # csdesk customer list --tier key --unmanaged (commands/assign.py)
        from csdesk.commands.assign import list_unmanaged

        return list_unmanaged(ctx, tier, search, limit, json_)
    from csdesk.i18n import _
    from csdesk.workflows.customers import list_customers, tier_label

    rows, total = state(ctx).read(lambda desk: list_customers(desk, tier, search, limit))
    if want_json(ctx, json_):
        print_list(ctx, rows, total)
        return
    headers = (_("Code"), _("Name"), _("Phones"), _("Tier"), _("Company"), _("Account manager"))
    t = table(*headers, text=(headers[1], headers[4]), optional=(headers[5], headers[4]))
    for c in rows:
        t.add_row(c.code, c.display_name, _phones(c.phones), tier_label(c.tier), c.company or "", c.manager or "")
    out().print(t)
    cut_note(len(rows), total)


def render_calls(calls, tz, title: str | None = None):
    from csdesk import dates
    from csdesk.i18n import _
    from csdesk.phones import display
    from csdesk.workflows.calls import CHANNELS, DIRECTIONS, KINDS, choice_label

    h = {k: _(v) for k, v in (("when", N_("When")), ("channel", N_("Via")), ("kind", N_("Kind")),
                               ("customer", N_("Customer")), ("phone", N_("Phone")), ("agent", N_("Agent")),
                               ("summary", N_("Summary")))}
    t = table("#", h["when"], h["channel"], h["kind"], h["customer"], h["phone"], h["agent"], h["summary"], title=title,
              text=(h["summary"], h["customer"]), optional=(h["channel"], h["agent"], h["phone"]))
    for c in calls:
        # The channel, and the direction when the call went out (most calls come in).
        via = choice_label(c.channel, CHANNELS) + (" " + choice_label(c.direction, DIRECTIONS) if c.direction == "out" else "")
        t.add_row(
            str(c.id), dates.fmt(c.at, tz), via,
            choice_label(c.kind, KINDS), f"{c.customer_code} {c.customer_name or ''}".strip(), display(c.phone) if c.phone else "",
            c.agent or "", c.summary if len(c.summary) <= 60 else c.summary[:59] + "…",
        )
    return t


# The columns of the card's sections (their row keys stay English: JSON, the desk), shown through _().
SECTION_COLUMNS = {
    "#": "#", "id": "#", "code": N_("Code"), "opened": N_("Opened"), "status": N_("Status"), "level": N_("Level"),
    "severity": N_("Severity"), "category": N_("Category"), "assignee": N_("Assignee"), "due": N_("Due"),
    "summary": N_("Summary"), "when": N_("When"), "purpose": N_("Purpose"), "about": N_("About"), "tries": N_("Tries"),
    "outcome": N_("Outcome"), "score": N_("Score"), "note": N_("Note"), "name": N_("Name or site"), "stage": N_("Stage"),
    "owner": N_("Owner"), "contract": N_("Contract"), "paid": N_("Paid"), "outstanding": N_("Outstanding"),
    "overdue": N_("Overdue"), "open adjustments": N_("Open adjustments"), "warranty": N_("Warranty"),
    "project": N_("Project"), "instalment": N_("Instalment"), "days overdue": N_("Days overdue"),
    "last step": N_("Last step"), "next step": N_("Next step"),
}
SECTION_TEXT = ("summary", "note", "name", "about", "outcome", "category")  # free text: shortened with … when short of room
SECTION_OPTIONAL = ("about", "tries", "score", "outcome", "opened", "category", "warranty", "open adjustments", "contract",
                    "paid", "owner", "assignee", "last step", "next step", "level")  # left out first, in this order


def render_sections(console, sections) -> None:
    """The card's sections (customer_card.py): {key: rows}, each titled in the interface language."""
    from csdesk.i18n import _
    from csdesk.workflows.customer_card import section_title

    for key, rows in sections.items():
        if not rows:
            continue
        columns = list(rows[0].keys())
        header = {c: _(SECTION_COLUMNS[c]) if c in SECTION_COLUMNS else c for c in columns}
        t = table(*header.values(), title=section_title(key), text=tuple(header[c] for c in SECTION_TEXT if c in header),
                  optional=tuple(header[c] for c in SECTION_OPTIONAL if c in header))
        for row in rows:
            t.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        console.print(t)


def fields(console, rows) -> None:
    """A card's label/value lines, aligned whatever the width of the labels (Chinese ones are wide);
    empty values are left out, and values are data (never markup)."""
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if value:
            grid.add_row(label, Text(str(value)))
    console.print(Padding(grid, (0, 0, 0, 2), expand=False))


@app.command("show")
def show(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="The customer's code, any of their numbers, or their name.")],
    calls: Annotated[int, typer.Option("--calls", help="How many recent calls to show.")] = 10,
    json_: JsonOpt = False,
) -> None:
    """Everything about one customer: details, numbers, latest calls and what is open.

    Example: csdesk customer show 138-1234-5678
    """
    from csdesk.commands.common import heading
    from csdesk.i18n import _
    from csdesk.workflows.customer_card import customer_view, section_title
    from csdesk.workflows.customers import source_label, tier_label

    st = state(ctx)
    view = st.read(lambda desk: customer_view(desk, customer, max(calls, 0)))
    if want_json(ctx, json_):
        print_json(ctx, view)
        return
    c = view.customer
    console = out()
    console.print(heading(f"{c.code} {c.display_name}", f"  {tier_label(c.tier)}"))
    fields(console, ((_("Phones"), _phones(c.phones)), (_("Company"), c.company), (_("Address"), c.address),
                     (_("Account manager"), c.manager), (_("Source"), source_label(c.source)), (_("Notes"), c.notes)))
    render_sections(console, view.sections)
    if view.calls:
        shown = len(view.calls)
        count = _("{shown} of {total}").format(shown=shown, total=view.call_count) if shown < view.call_count else str(shown)
        console.print(render_calls(view.calls, st.settings.tz, title=f"{section_title('calls')} ({count})"))
    else:
        console.print("  " + _("No calls yet."))


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
            from csdesk.i18n import _

            task = progress.add_task(_("Importing"), total=len(rows))
            result = st.write(lambda desk: import_customers(desk, rows, file.name, dry_run, lambda n: progress.update(task, completed=n)))
    else:
        result = st.write(lambda desk: import_customers(desk, rows, file.name, dry_run))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    from csdesk.i18n import _

    message = (_("Would import {rows} rows from {file}: {created} new customers, {updated} updated, {unchanged} unchanged.")
               if dry_run else
               _("Imported {rows} rows from {file}: {created} new customers, {updated} updated, {unchanged} unchanged."))
    note(message.format(rows=result.rows, file=file.name, created=result.created, updated=result.updated, unchanged=result.unchanged))


@app.command("merge")
def merge(
    ctx: typer.Context,
    duplicate: Annotated[str, typer.Argument(help="The duplicate (code, phone or name): it goes away.")],
    into: Annotated[str, typer.Option("--into", help="The customer to keep (code, phone or name).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would move; change nothing.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Merge a duplicate customer into the one to keep (supervisor or above): numbers, calls, complaints,
    callbacks, projects and money move; the duplicate's code keeps working and leads to the kept customer.

    Example: csdesk --as 李娜 customer merge C000057 --into C000012 --dry-run
    """
    from csdesk.i18n import _
    from csdesk.workflows.merge import MOVED_LABELS, merge_customers

    result = state(ctx).write(lambda desk: merge_customers(desk, duplicate, into, dry_run=dry_run))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    what_h, count_h, items_h = _("What"), _("Count"), _("Items")
    t = table(what_h, count_h, items_h, text=(items_h,))
    for what, refs in result.moved.items():
        shown = ", ".join(refs[:12]) + (f" … (+{len(refs) - 12})" if len(refs) > 12 else "")
        t.add_row(_(MOVED_LABELS.get(what, what)), str(len(refs)), shown)
    for name, value in result.filled.items():
        t.add_row(_("filled in: {field}").format(field=_(MOVED_LABELS.get(name, name))), "", value)
    for line in result.ended:
        t.add_row(_("ended"), "", line)
    out().print(t)
    kept = f"{result.kept} {result.kept_name or ''}".rstrip()
    message = _("Would merge {duplicate} into {kept}.") if dry_run else _("Merged {duplicate} into {kept}.")
    note(message.format(duplicate=result.duplicate, kept=kept))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="customer", help="Customers: add, edit, list, show, import, merge.")
