"""csdesk adjust add|list|edit|done|accept|reject — adjustments (调整/整改) after handover."""

from __future__ import annotations

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, note, out, print_json, state, table, want_json

app = typer.Typer(no_args_is_help=True)

IdArg = Annotated[int, typer.Argument(help="Adjustment number.", metavar="ID")]
AtOpt = Annotated[str | None, typer.Option("--at", help="When it happened (default now): 2026-11-20 15:00, yesterday, -2d.")]


def _when(ctx, text: str | None):
    from csdesk import dates

    return dates.parse_when(text, tz=state(ctx).settings.tz, future=False) if text else None


def _done(ctx, info, json_: bool, message: str) -> None:
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        note(message)


def _warranty(a) -> str:
    return "in warranty 保修期内" if a.in_warranty else "out of warranty 保修期外"


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
    from csdesk.workflows.projects import add_adjustment

    st = state(ctx)
    due_on = dates.parse_date(due, tz=st.settings.tz) if due else None
    reported = dates.parse_date(on, tz=st.settings.tz) if on else None
    info = st.write(lambda desk: add_adjustment(desk, project, item, responsible, due_on, call, reported))
    if want_json(ctx, json_):
        print_json(ctx, info)
        return
    typer.echo(info.id)
    note(f"Added adjustment #{info.id} to {info.project_code}, {_warranty(info)}" + (f", due {info.due_on}." if info.due_on else "."))


@app.command("list")
def list_(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option("--project", help="Project code.")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Only open ones (open or rejected).")] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open ones past their due date.")] = False,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    json_: JsonOpt = False,
) -> None:
    """List adjustments (newest first; --overdue: oldest due first).

    Example: csdesk adjust list --open --project P000012
    """
    from csdesk.money import fmt_money
    from csdesk.workflows.projects import list_adjustments

    rows, total = state(ctx).read(lambda desk: list_adjustments(desk, project, open_, overdue, limit))
    if want_json(ctx, json_):
        print_json(ctx, {"total": total, "adjustments": rows})
        return
    t = table("#", "project", "item", "responsible", "status", "reported", "due", "warranty", "cost", "owner")
    for a in rows:
        status = f"{a.status} {a.status_label}" + (f" ×{a.rejections}" if a.rejections else "")
        t.add_row(str(a.id), a.project_code, a.item, f"{a.responsible} {a.responsible_label}", status, str(a.reported_on),
                  f"{a.due_on or ''}" + (" OVERDUE" if a.overdue else ""), "in 保内" if a.in_warranty else "out 保外",
                  f"{fmt_money(a.cost)} {a.payer}" if a.cost is not None else "", a.owner or "")
    out().print(t)
    note(f"{len(rows)} of {total} adjustments shown.")


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
    from csdesk.workflows.projects import finish_adjustment

    amount = parse_amount(cost, allow_zero=True) if cost is not None else None
    when = _when(ctx, at)
    info = state(ctx).write(lambda desk: finish_adjustment(desk, ident, amount, payer, when))
    paid = f", cost {fmt_money(info.cost)} paid by {info.payer}" if info.cost is not None else ""
    _done(ctx, info, json_, f"Adjustment #{info.id} done{paid}; waiting for the customer's verdict.")


@app.command("accept")
def accept(ctx: typer.Context, ident: IdArg, at: AtOpt = None, json_: JsonOpt = False) -> None:
    """The customer accepts the adjustment (验收): it is closed.

    Example: csdesk --as 王芳 adjust accept 7 --at "today 09:30"
    """
    from csdesk.workflows.projects import accept_adjustment

    when = _when(ctx, at)
    info = state(ctx).write(lambda desk: accept_adjustment(desk, ident, when))
    _done(ctx, info, json_, f"Adjustment #{info.id} accepted by the customer.")


@app.command("reject")
def reject(ctx: typer.Context, ident: IdArg, reason: Annotated[str, typer.Option("--reason", help="What the customer is not happy with.")],
           at: AtOpt = None, json_: JsonOpt = False) -> None:
    """The customer rejects the adjustment: it is open again, with the reason kept.

    Example: csdesk --as 王芳 adjust reject 7 --reason "门缝仍然过大"
    """
    from csdesk.workflows.projects import reject_adjustment

    when = _when(ctx, at)
    info = state(ctx).write(lambda desk: reject_adjustment(desk, ident, reason, when))
    _done(ctx, info, json_, f"Adjustment #{info.id} rejected ({info.rejections}×); it is open again.")


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
    from csdesk.workflows.projects import edit_adjustment

    st = state(ctx)
    due_on = dates.parse_date(due, tz=st.settings.tz) if due is not None else None
    amount = parse_amount(cost, allow_zero=True) if cost is not None else None
    info = st.write(lambda desk: edit_adjustment(desk, ident, item, due_on, responsible, amount, payer))
    _done(ctx, info, json_, f"Updated adjustment #{info.id} of {info.project_code}.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="adjust", help="Adjustments (调整/整改) after handover: add, list, edit, done, accept, reject.")
