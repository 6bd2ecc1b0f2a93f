"""csdesk adjust add|list|edit|done|accept|reject — adjustments (调整/整改) after handover."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, cut_note, note, out, parse_at, print_json, print_list, state, table, want_json
from csdesk.i18n import N_, _

app = typer.Typer(no_args_is_help=True)

IdArg = Annotated[int, typer.Argument(help="Adjustment number.", metavar="ID")]
AtOpt = Annotated[str | None, typer.Option("--at", help="When it happened (default now): 2026-11-20 15:00, yesterday, -2d.")]


def _done(ctx, info, json_: bool, message: str) -> None:
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        note(message)


def _warranty(a) -> str:
    return _("in warranty") if a.in_warranty else _("out of warranty")


def adjustment_table(rows, title: str | None = None, with_project: bool = True):
    """Adjustments at 80 columns: id, project, due and cost are never cut; the item is shortened with …."""
    from rich.text import Text

    from csdesk.money import fmt_money
    from csdesk.workflows.projects import payer_label

    h = {k: _(v) for k, v in (("id", N_("#")), ("project", N_("Project")), ("item", N_("Item")), ("responsible", N_("Responsible")),
                               ("status", N_("Status")), ("reported", N_("Reported")), ("due", N_("Due")), ("warranty", N_("Warranty")),
                               ("cost", N_("Cost")), ("owner", N_("Owner")))}
    if not with_project:
        del h["project"], h["owner"]
    t = table(*h.values(), title=title, text=(h["item"],),
              optional=tuple(h[k] for k in ("owner", "reported", "responsible", "warranty") if k in h))
    for a in rows:
        status = a.status_label + (f" ×{a.rejections}" if a.rejections else "")
        due = Text(str(a.due_on or ""))
        if a.overdue:
            due = Text(f"{a.due_on} " + _("overdue"), style="bold red")
        cost = f"{fmt_money(a.cost)} {payer_label(a.payer)}".strip() if a.cost is not None else ""
        cells = {"id": str(a.id), "project": a.project_code, "item": a.item, "responsible": a.responsible_label, "status": status,
                 "reported": str(a.reported_on), "due": due, "warranty": _("in") if a.in_warranty else _("out"), "cost": cost,
                 "owner": a.owner or ""}
        t.add_row(*(cells[k] for k in h))
    return t


@app.command("add")
def add(
    ctx: typer.Context,
    project: Annotated[str, typer.Option("--project", help="Project code.")],
    item: Annotated[str, typer.Option("--item", help="What the customer wants adjusted.")],
    responsible: Annotated[str | None, typer.Option("--responsible", help="design | install | supplier | contractor | property | other")] = None,
    due: Annotated[str | None, typer.Option("--due", help="Due date (default: in projects.adjustment_days days): fri, +7d, 2026-12-01.")] = None,
    call: Annotated[int | None, typer.Option("--call", help="The call it came from (id).")] = None,
    on: Annotated[str | None, typer.Option("--on", help="The day the customer asked for it (default today): 2026-11-20, -3d.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Add an adjustment the customer asked for after handover; in/out of warranty is decided from the day
    it was asked for (--on, default today) and shown.

    Example: csdesk --as 王芳 adjust add --project P000012 --item "主卧衣柜门关不严" --responsible install --due +5d
    """
    from csdesk import dates
    from csdesk.workflows.adjustments import add_adjustment

    st = state(ctx)
    due_on = dates.parse_date(due, tz=st.settings.tz) if due else None
    reported = dates.parse_date(on, tz=st.settings.tz) if on else None
    info = st.write(lambda desk: add_adjustment(desk, project, item, responsible, due_on, call, reported))
    if want_json(ctx, json_):
        print_json(ctx, info)
        return
    typer.echo(info.id)
    if info.due_on:
        note(_("Added adjustment #{id} to {code}, {warranty}, due {due}.").format(
            id=info.id, code=info.project_code, warranty=_warranty(info), due=info.due_on))
    else:
        note(_("Added adjustment #{id} to {code}, {warranty}.").format(id=info.id, code=info.project_code, warranty=_warranty(info)))


@app.command("list")
def list_(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option("--project", help="Project code.")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Only open ones (open or rejected).")] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open ones past their due date.")] = False,
    owner: Annotated[str | None, typer.Option("--owner", help="Only on this person's projects (staff name, or me).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows.")] = 100,
    json_: JsonOpt = False,
) -> None:
    """List adjustments (newest first; --overdue: oldest due first).

    Example: csdesk adjust list --open --project P000012
    """
    from csdesk.workflows.adjustments import list_adjustments
    from csdesk.workflows.projects import staff_filter

    def run(desk):
        owner_id = staff_filter(desk, owner) if owner else None
        return list_adjustments(desk, project, open_, overdue, limit, owner_id=owner_id)

    rows, total = state(ctx).read(run)
    if want_json(ctx, json_):
        print_list(ctx, rows, total)
        return
    out().print(adjustment_table(rows))
    cut_note(len(rows), total)


@app.command("done")
def done(
    ctx: typer.Context,
    ident: IdArg,
    cost: Annotated[str | None, typer.Option("--cost", help="What it cost: 800, ¥1,200.50.")] = None,
    payer: Annotated[str | None, typer.Option("--payer", help="company | customer | contractor (default: company in warranty, customer out of it).")] = None,
    at: AtOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Mark an adjustment done; it then waits for the customer's verdict (adjust accept / reject).

    Example: csdesk --as 王芳 adjust done 7 --cost 800 --payer contractor --at "yesterday 17:00"
    """
    from csdesk.money import fmt_money, parse_amount
    from csdesk.workflows.adjustments import finish_adjustment
    from csdesk.workflows.projects import payer_label

    amount = parse_amount(cost, allow_zero=True) if cost is not None else None
    when = parse_at(state(ctx), at)
    info = state(ctx).write(lambda desk: finish_adjustment(desk, ident, amount, payer, when))
    if info.cost is not None:
        message = _("Adjustment #{id} done, cost {cost} paid by {payer}; waiting for the customer's verdict.").format(
            id=info.id, cost=fmt_money(info.cost), payer=payer_label(info.payer))
    else:
        message = _("Adjustment #{id} done; waiting for the customer's verdict.").format(id=info.id)
    _done(ctx, info, json_, message)


@app.command("accept")
def accept(ctx: typer.Context, ident: IdArg, at: AtOpt = None, json_: JsonOpt = False) -> None:
    """The customer accepts the adjustment: it is closed.

    Example: csdesk --as 王芳 adjust accept 7 --at "today 09:30"
    """
    from csdesk.workflows.adjustments import accept_adjustment

    when = parse_at(state(ctx), at)
    info = state(ctx).write(lambda desk: accept_adjustment(desk, ident, when))
    _done(ctx, info, json_, _("Adjustment #{id} accepted by the customer.").format(id=info.id))


@app.command("reject")
def reject(ctx: typer.Context, ident: IdArg, reason: Annotated[str, typer.Option("--reason", help="What the customer is not happy with.")],
           at: AtOpt = None, json_: JsonOpt = False) -> None:
    """The customer rejects the adjustment: it is open again, with the reason kept.

    Example: csdesk --as 王芳 adjust reject 7 --reason "门缝仍然过大"
    """
    from csdesk.workflows.adjustments import reject_adjustment

    when = parse_at(state(ctx), at)
    info = state(ctx).write(lambda desk: reject_adjustment(desk, ident, reason, when))
    _done(ctx, info, json_, _("Adjustment #{id} rejected ({n}×); it is open again.").format(id=info.id, n=info.rejections))


@app.command("edit")
def edit(
    ctx: typer.Context,
    ident: IdArg,
    item: Annotated[str | None, typer.Option("--item", help="What the customer wants adjusted.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="New due date: fri, +7d, 2026-12-01 (not before it was reported).")] = None,
    responsible: Annotated[str | None, typer.Option("--responsible", help="design | install | supplier | contractor | property | other")] = None,
    cost: Annotated[str | None, typer.Option("--cost", help="What it cost: 800, ¥1,200.50.")] = None,
    payer: Annotated[str | None, typer.Option("--payer", help="company | customer | contractor (with a cost).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Correct an adjustment's item, due date, responsible party or cost; recorded in the audit trail.

    Example: csdesk --as 王芳 adjust edit 7 --due 2026-12-05 --responsible supplier --cost 1200
    """
    from csdesk import dates
    from csdesk.money import parse_amount
    from csdesk.workflows.adjustments import edit_adjustment

    st = state(ctx)
    due_on = dates.parse_date(due, tz=st.settings.tz) if due is not None else None
    amount = parse_amount(cost, allow_zero=True) if cost is not None else None
    info = st.write(lambda desk: edit_adjustment(desk, ident, item, due_on, responsible, amount, payer))
    _done(ctx, info, json_, _("Updated adjustment #{id} of {code}.").format(id=info.id, code=info.project_code))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="adjust", help="Adjustments after handover: add, list, edit, done, accept, reject.")
