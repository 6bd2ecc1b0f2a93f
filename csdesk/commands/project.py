"""csdesk project add|list|show|edit|assign|handover|accept|shelve|resume|archive."""

from __future__ import annotations

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, note, out, print_json, state, table, want_json

app = typer.Typer(no_args_is_help=True)

CodeArg = Annotated[str, typer.Argument(help="Project code, e.g. P000012.", metavar="CODE")]
AtOpt = Annotated[str | None, typer.Option("--at", help="When it happened (default now): 2026-11-20 15:00, yesterday, -2d.")]


def _when(st, text: str | None):
    from csdesk import dates

    return dates.parse_when(text, tz=st.settings.tz, future=False) if text else None


def _day(st, text: str | None):
    from csdesk import dates

    return dates.parse_date(text, tz=st.settings.tz) if text else None


def _amount(text: str | None):
    from csdesk.money import parse_amount

    return parse_amount(text) if text is not None else None


def _done(ctx, info, json_: bool, message: str) -> None:
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        note(message)


def warranty_text(p) -> str:
    if p.in_warranty is None:
        return f"{p.warranty_months} months from handover"
    return f"until {p.warranty_end} ({'in warranty 保修期内' if p.in_warranty else 'out of warranty 已过保'})"


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Project name.")],
    customer: Annotated[str, typer.Option("--customer", help="Customer code or phone number.")],
    contract: Annotated[str, typer.Option("--contract", help="Contract amount: 120000, 120,000.00, ¥120000, 12万.")],
    owner: Annotated[str | None, typer.Option("--owner", help="The accountable owner (staff name; default: you).")] = None,
    signed: Annotated[str | None, typer.Option("--signed", help="Signing date (default today).")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Where the work is.")] = None,
    warranty: Annotated[str | None, typer.Option("--warranty", help="Warranty length from handover: 24m, 2y (default from config).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a project (stage signed) for a customer, with its contract amount and owner.

    Example: csdesk --as 王芳 project add "望京SOHO 12层精装" --customer C000012 --contract 28.6万 --warranty 24m
    """
    from csdesk.workflows.projects import add_project

    st = state(ctx)
    amount = _amount(contract)
    signed_on = _day(st, signed)
    info = st.write(lambda desk: add_project(desk, name, customer, amount, owner=owner, signed=signed_on, site=site, warranty=warranty))
    if want_json(ctx, json_):
        print_json(ctx, info)
        return
    from csdesk.money import fmt_money

    typer.echo(info.code)
    note(f"Added {info.code} {info.name} for {info.customer_code} {info.customer_name or ''}, contract {fmt_money(info.contract)}, owner {info.owner}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    stage: Annotated[str | None, typer.Option("--stage", help="signed | handed_over | accepted | settled | archived | shelved")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Owner (staff name).")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Customer code or phone.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    json_: JsonOpt = False,
) -> None:
    """List projects, newest first, with what is paid, owed and overdue.

    Example: csdesk project list --stage accepted --owner 王芳
    """
    from csdesk.money import fmt_money
    from csdesk.workflows.projects import list_projects

    rows, total = state(ctx).read(lambda desk: list_projects(desk, stage, owner, customer, limit))
    if want_json(ctx, json_):
        print_json(ctx, {"total": total, "projects": rows})
        return
    t = table("code", "name", "customer", "stage", "owner", "contract", "paid", "outstanding", "overdue", "adj")
    for p in rows:
        t.add_row(p.code, p.name, f"{p.customer_code} {p.customer_name or ''}".strip(), f"{p.stage} {p.stage_label}", p.owner or "",
                  fmt_money(p.contract), fmt_money(p.paid), fmt_money(p.outstanding), fmt_money(p.overdue) if p.overdue else "",
                  str(p.open_adjustments or ""))
    out().print(t)
    note(f"{len(rows)} of {total} projects shown.")


def render_project(view, tz) -> None:
    from csdesk import dates
    from csdesk.money import fmt_money
    from csdesk.workflows.payments import METHODS

    p = view.project
    console = out()
    from csdesk.commands.common import heading

    console.print(heading(f"{p.code} {p.name}", f"  {p.stage} {p.stage_label}"))
    money = f"contract {fmt_money(p.contract)} · paid {fmt_money(p.paid)} · outstanding {fmt_money(p.outstanding)}"
    if p.overdue:
        money += f" · overdue {fmt_money(p.overdue)}"
    if p.credit:
        money += f" · credit {fmt_money(p.credit)}"
    for label, value in (
        ("customer", f"{p.customer_code} {p.customer_name or ''}".strip()), ("owner", p.owner), ("site", p.site),
        ("signed", str(p.signed_on) if p.signed_on else None), ("handover", dates.fmt(p.handed_over_at, tz) or None),
        ("accepted", dates.fmt(p.accepted_at, tz) or None), ("warranty", warranty_text(p)), ("money", money),
    ):
        if value:
            console.print(f"  {label:9} {value}", markup=False, highlight=False)

    if view.adjustments:
        t = table("#", "item", "responsible", "status", "due", "warranty", "cost", "payer", title="调整/整改 adjustments")
        for a in view.adjustments:
            status = f"{a.status} {a.status_label}" + (f" ×{a.rejections}" if a.rejections else "")
            due = f"{a.due_on or ''}" + (" OVERDUE" if a.overdue else "")
            t.add_row(str(a.id), a.item, f"{a.responsible} {a.responsible_label}", status, due, "in 保内" if a.in_warranty else "out 保外",
                      fmt_money(a.cost) if a.cost is not None else "", a.payer or "")
        console.print(t)
    if view.instalments:
        t = table("#", "instalment", "amount", "due rule", "due", "paid", "outstanding", "status", "last step", title="款项 instalments")
        for i in view.instalments:
            status = f"{i.status} {i.status_label}" + (f" {i.days_overdue}d" if i.days_overdue else "")
            t.add_row(str(i.seq), i.name, fmt_money(i.amount), i.due_rule, str(i.due_on or "—"), fmt_money(i.paid),
                      fmt_money(i.outstanding), status, i.last_step or "")
        console.print(t)
    else:
        console.print(f"  no payment plan yet (csdesk payment plan {p.code} --split …)", markup=False)
    if view.payments:
        t = table("#", "received", "amount", "method", "ref", "to", "note", title="收款 payments")
        for pay in view.payments:
            to = ", ".join(f"{a.instalment} {fmt_money(a.amount)}" for a in pay.allocations)
            if pay.credit:
                to += (", " if to else "") + f"credit {fmt_money(pay.credit)}"
            remark = pay.note or ""
            if pay.kind == "reversal":
                remark = f"reverses #{pay.reverses_id}: {remark}"
            elif pay.reversed_by_id:
                remark = f"reversed by #{pay.reversed_by_id}"
            t.add_row(str(pay.id), dates.fmt(pay.received_at, tz), fmt_money(pay.amount), METHODS.get(pay.method, pay.method),
                      pay.ref or "", to, remark)
        console.print(t)
    if view.dunning:
        t = table("when", "instalment", "step", "by", "note", title="催收 dunning history")
        for s in view.dunning:
            remark = s.note or ""
            if s.skipped:
                skipped = f"skipped {', '.join(s.skipped)}: {s.skip_reason or ''}"
                remark = f"{remark} ({skipped})" if remark else skipped
            t.add_row(dates.fmt(s.at, tz), s.instalment, f"{s.step} {s.step_label}", s.by or "", remark)
        console.print(t)
    if view.next_steps:
        t = table("instalment", "step due", "since", "days overdue", "outstanding", "needs", title="催收 dunning due now")
        for d in view.next_steps:
            t.add_row(d.instalment, f"{d.step} {d.step_label}", str(d.step_due_on), str(d.days_overdue), fmt_money(d.outstanding), d.min_role)
        console.print(t)
    for title, rows in (("回访 visits", view.visits), ("投诉 complaints", view.complaints)):
        if not rows:
            continue
        columns = list(rows[0].keys())
        t = table(*columns, title=title)
        for row in rows:
            t.add_row(*(_cell(row.get(c), tz) for c in columns))
        console.print(t)


def _cell(value, tz) -> str:
    from datetime import datetime

    from csdesk import dates

    if value is None:
        return ""
    if isinstance(value, datetime):
        return dates.fmt(value, tz)
    return str(value)


@app.command("show")
def show(ctx: typer.Context, code: CodeArg, json_: JsonOpt = False) -> None:
    """Everything about a project: stage, dates, warranty, adjustments, instalments, payments, dunning, visits, complaints.

    Example: csdesk project show P000012
    """
    from csdesk.workflows.projects import project_view

    st = state(ctx)
    view = st.read(lambda desk: project_view(desk, code))
    if want_json(ctx, json_):
        print_json(ctx, view)
        return
    render_project(view, st.settings.tz)


@app.command("edit")
def edit(
    ctx: typer.Context,
    code: CodeArg,
    name: Annotated[str | None, typer.Option("--name")] = None,
    site: Annotated[str | None, typer.Option("--site")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="New accountable owner (recorded).")] = None,
    warranty: Annotated[str | None, typer.Option("--warranty", help="Warranty length: 24m, 2y.")] = None,
    signed: Annotated[str | None, typer.Option("--signed", help="Signing date.")] = None,
    contract: Annotated[str | None, typer.Option("--contract", help="Contract amount (only while there is no payment plan).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Change a project's details or owner.

    Example: csdesk --as 李娜 project edit P000012 --owner 刘洋 --site "望京SOHO T3 12层"
    """
    from csdesk.workflows.projects import edit_project

    st = state(ctx)
    signed_on = _day(st, signed)
    amount = _amount(contract)
    info = st.write(lambda desk: edit_project(desk, code, name=name, site=site, owner=owner, warranty=warranty, signed=signed_on, contract=amount))
    _done(ctx, info, json_, f"Updated {info.code} {info.name} (owner {info.owner}).")


@app.command("assign")
def assign(ctx: typer.Context, code: CodeArg, owner: Annotated[str, typer.Argument(help="The new owner (staff name).")], json_: JsonOpt = False) -> None:
    """Give a project to another accountable owner (recorded in the audit trail).

    Example: csdesk --as 李娜 project assign P000012 刘洋
    """
    from csdesk.workflows.projects import assign_project

    info = state(ctx).write(lambda desk: assign_project(desk, code, owner))
    _done(ctx, info, json_, f"{info.code} is now owned by {info.owner}.")


@app.command("handover")
def handover(ctx: typer.Context, code: CodeArg, at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Record the handover (摆场完成/交房/交付): the warranty starts and the handover visit is scheduled.

    Example: csdesk --as 王芳 project handover P000012 --at "yesterday 16:00"
    """
    from csdesk.workflows.projects import handover_project

    st = state(ctx)
    when = _when(st, at)
    info = st.write(lambda desk: handover_project(desk, code, when))
    _done(ctx, info, json_, f"{info.code} handed over; warranty until {info.warranty_end}.")


@app.command("accept")
def accept(
    ctx: typer.Context,
    code: CodeArg,
    at: AtOpt = None,
    with_open_adjustments: Annotated[bool, typer.Option("--with-open-adjustments", help="Accept although adjustments are open (supervisor or above, with --reason).")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (needed with --with-open-adjustments).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Record the customer's acceptance (验收); refused while adjustments are open.

    Example: csdesk --as 王芳 project accept P000012 --at "today 10:00"
    """
    from csdesk.workflows.projects import accept_project

    st = state(ctx)
    when = _when(st, at)
    info = st.write(lambda desk: accept_project(desk, code, when, with_open_adjustments, reason))
    _done(ctx, info, json_, f"{info.code} accepted; stage {info.stage} {info.stage_label}.")


@app.command("shelve")
def shelve(ctx: typer.Context, code: CodeArg, reason: Annotated[str, typer.Option("--reason", help="Why it is paused.")], json_: JsonOpt = False) -> None:
    """Shelve (搁置) a project: pause it and its dunning (supervisor or above).

    Example: csdesk --as 李娜 project shelve P000012 --reason "业主出国，暂停施工"
    """
    from csdesk.workflows.projects import shelve_project

    info = state(ctx).write(lambda desk: shelve_project(desk, code, reason))
    _done(ctx, info, json_, f"{info.code} shelved.")


@app.command("resume")
def resume(ctx: typer.Context, code: CodeArg, json_: JsonOpt = False) -> None:
    """Take a shelved project back to the stage its dates say (supervisor or above).

    Example: csdesk --as 李娜 project resume P000012
    """
    from csdesk.workflows.projects import resume_project

    info = state(ctx).write(lambda desk: resume_project(desk, code))
    _done(ctx, info, json_, f"{info.code} resumed; stage {info.stage} {info.stage_label}.")


@app.command("archive")
def archive(ctx: typer.Context, code: CodeArg, json_: JsonOpt = False) -> None:
    """Archive (归档) a settled project (or a shelved one, supervisor or above).

    Example: csdesk --as 王芳 project archive P000012
    """
    from csdesk.workflows.projects import archive_project

    info = state(ctx).write(lambda desk: archive_project(desk, code))
    _done(ctx, info, json_, f"{info.code} archived.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="project", help="Projects: add, list, show, edit, assign, handover, accept, shelve, resume, archive.")
