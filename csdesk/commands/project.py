"""csdesk project add|list|show|edit|assign|handover|accept|shelve|resume|archive."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, cut_note, note, out, parse_at, print_json, print_list, state, table, want_json
from csdesk.i18n import N_, _

app = typer.Typer(no_args_is_help=True)

CodeArg = Annotated[str, typer.Argument(help="Project code, e.g. P000012.", metavar="CODE")]
AtOpt = Annotated[str | None, typer.Option("--at", help="When it happened (default now): 2026-11-20 15:00, yesterday, -2d.")]


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
        return _("{months} months from handover").format(months=p.warranty_months)
    if p.in_warranty:
        return _("until {day} (in warranty)").format(day=p.warranty_end)
    return _("until {day} (out of warranty)").format(day=p.warranty_end)


def late(text: str):
    """What is overdue: a word and a colour, so that it survives NO_COLOR and a pipe."""
    from rich.text import Text

    return Text(text, style="bold red")


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
    note(_("Added {code} {name} for {customer}, contract {contract}, owner {owner}.").format(
        code=info.code, name=info.name, customer=f"{info.customer_code} {info.customer_name or ''}".strip(),
        contract=fmt_money(info.contract), owner=info.owner))


@app.command("list")
def list_(
    ctx: typer.Context,
    stage: Annotated[str | None, typer.Option("--stage", help="signed | handed_over | accepted | settled | archived | shelved")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Owner (staff name, or me).")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Customer code or phone.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """List projects, newest first, with what is paid, owed and overdue.

    Example: csdesk project list --stage accepted --owner 王芳
    """
    from csdesk.money import fmt_money
    from csdesk.workflows.projects import list_projects

    st = state(ctx)
    rows, total = st.read(lambda desk: list_projects(desk, stage, owner, customer, limit))
    if want_json(ctx, json_):
        print_list(ctx, rows, total)
        return
    h = {k: _(v) for k, v in (("code", N_("Code")), ("name", N_("Project")), ("customer", N_("Customer")), ("stage", N_("Stage")), ("owner", N_("Owner")),
                               ("contract", N_("Contract")), ("paid", N_("Paid")), ("outstanding", N_("Outstanding")), ("overdue", N_("Overdue")),
                               ("adj", N_("Open adj.")))}
    t = table(*h.values(), text=(h["name"], h["customer"]), optional=(h["adj"], h["paid"], h["owner"], h["stage"], h["customer"]))
    for p in rows:
        t.add_row(p.code, p.name, f"{p.customer_code} {p.customer_name or ''}".strip(), p.stage_label, p.owner or "",
                  fmt_money(p.contract), fmt_money(p.paid), fmt_money(p.outstanding), late(fmt_money(p.overdue)) if p.overdue else "",
                  str(p.open_adjustments or ""))
    out().print(t)
    cut_note(len(rows), total)


def render_project(view, tz) -> None:
    from csdesk import dates
    from csdesk.commands.common import heading
    from csdesk.commands.adjust import adjustment_table
    from csdesk.commands.payment import render_instalments
    from csdesk.money import fmt_money
    from csdesk.workflows.payment_plans import method_label, step_label
    from csdesk.workflows.projects import role_label

    p = view.project
    console = out()
    console.print(heading(f"{p.code} {p.name}", f"  {p.stage_label}"))
    money = _("contract {contract} · paid {paid} · outstanding {outstanding}").format(
        contract=fmt_money(p.contract), paid=fmt_money(p.paid), outstanding=fmt_money(p.outstanding))
    for label, value in (
        (_("Customer"), f"{p.customer_code} {p.customer_name or ''}".strip()), (_("Owner"), p.owner), (_("Site"), p.site),
        (_("Signed"), str(p.signed_on) if p.signed_on else None), (_("Handover"), dates.fmt(p.handed_over_at, tz) or None),
        (_("Accepted"), dates.fmt(p.accepted_at, tz) or None), (_("Warranty"), warranty_text(p)), (_("Money"), money),
        (_("Credit"), fmt_money(p.credit) if p.credit else None),
    ):
        if value:
            console.print(f"  {label}: {value}", markup=False, highlight=False)
    if p.overdue:  # on its own line, in words and red: it stands out, and the money line fits 80 columns
        from rich.text import Text

        console.print(Text.assemble(f"  {_('Overdue')}: ", (fmt_money(p.overdue), "bold red")))

    if view.adjustments:
        console.print(adjustment_table(view.adjustments, title=_("Adjustments"), with_project=False))
    if view.instalments:
        console.print(render_instalments(view.instalments, title=_("Instalments"), with_project=False))
    else:
        console.print("  " + _("No payment plan yet (csdesk payment plan {code} --split …).").format(code=p.code), markup=False)
    if view.payments:
        h = [_("#"), _("Received"), _("Amount"), _("Method"), _("Ref."), _("Paid to"), _("Note")]
        t = table(*h, title=_("Payments"), text=(h[5], h[6]), optional=(h[6], h[4], h[3]))
        for pay in view.payments:
            to = ", ".join(f"{a.instalment} {fmt_money(a.amount)}" for a in pay.allocations)
            if pay.credit:
                to += (", " if to else "") + _("credit {amount}").format(amount=fmt_money(pay.credit))
            remark = pay.note or ""
            if pay.kind == "reversal":
                remark = _("reverses #{id}: {note}").format(id=pay.reverses_id, note=remark)
            elif pay.reversed_by_id:
                remark = _("reversed by #{id}").format(id=pay.reversed_by_id)
            t.add_row(str(pay.id), dates.fmt(pay.received_at, tz), fmt_money(pay.amount), method_label(pay.method),
                      pay.ref or "", to, remark)
        console.print(t)
    if view.dunning:
        h = [_("When"), _("Instalment"), _("Step"), _("By"), _("Note")]
        t = table(*h, title=_("Dunning history"), text=(h[4],), optional=(h[4], h[3]))
        for s in view.dunning:
            remark = s.note or ""
            if s.skipped:
                skipped = _("skipped {steps}: {reason}").format(steps=", ".join(step_label(x) for x in s.skipped), reason=s.skip_reason or "")
                remark = f"{remark} ({skipped})" if remark else skipped
            t.add_row(dates.fmt(s.at, tz), s.instalment, s.step_label, s.by or "", remark)
        console.print(t)
    if view.next_steps:
        h = [_("Instalment"), _("Step due"), _("Since"), _("Days overdue"), _("Outstanding"), _("Needs")]
        t = table(*h, title=_("Dunning due now"), optional=(h[5],))
        for d in view.next_steps:
            t.add_row(d.instalment, d.step_label, str(d.step_due_on), late(_("{days} days").format(days=d.days_overdue)),
                      fmt_money(d.outstanding), role_label(d.min_role))
        console.print(t)
    for title, rows in ((_("Visits"), view.visits), (_("Complaints"), view.complaints)):
        if not rows:
            continue
        columns = list(rows[0].keys())
        t = table(*(_(c) for c in columns), title=title)
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
    from csdesk.workflows.project_screen import project_view

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
    name: Annotated[str | None, typer.Option("--name", help="New project name.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Where the work is.")] = None,
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
    _done(ctx, info, json_, _("Updated {code} {name} (owner {owner}).").format(code=info.code, name=info.name, owner=info.owner))


@app.command("assign")
def assign(ctx: typer.Context, code: CodeArg, owner: Annotated[str, typer.Argument(help="The new owner (staff name).")], json_: JsonOpt = False) -> None:
    """Give a project to another accountable owner (recorded in the audit trail).

    Example: csdesk --as 李娜 project assign P000012 刘洋
    """
    from csdesk.workflows.projects import assign_project

    info = state(ctx).write(lambda desk: assign_project(desk, code, owner))
    _done(ctx, info, json_, _("{code} is now owned by {owner}.").format(code=info.code, owner=info.owner))


@app.command("handover")
def handover(ctx: typer.Context, code: CodeArg, at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Record the handover: the warranty starts and the handover visit is scheduled.

    Example: csdesk --as 王芳 project handover P000012 --at "yesterday 16:00"
    """
    from csdesk.workflows.projects import handover_project

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: handover_project(desk, code, when))
    _done(ctx, info, json_, _("{code} handed over; warranty until {day}.").format(code=info.code, day=info.warranty_end))


@app.command("accept")
def accept(
    ctx: typer.Context,
    code: CodeArg,
    at: AtOpt = None,
    with_open_adjustments: Annotated[bool, typer.Option("--with-open-adjustments", help="Accept although adjustments are open (supervisor or above, with --reason).")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (needed with --with-open-adjustments).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Record the customer's acceptance; refused while adjustments are open.

    Example: csdesk --as 王芳 project accept P000012 --at "today 10:00"
    """
    from csdesk.workflows.projects import accept_project

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: accept_project(desk, code, when, with_open_adjustments, reason))
    _done(ctx, info, json_, _("{code} accepted; stage {stage}.").format(code=info.code, stage=info.stage_label))


@app.command("shelve")
def shelve(ctx: typer.Context, code: CodeArg, reason: Annotated[str, typer.Option("--reason", help="Why it is paused.")], json_: JsonOpt = False) -> None:
    """Shelve a project: pause it and its dunning (supervisor or above).

    Example: csdesk --as 李娜 project shelve P000012 --reason "业主出国，暂停施工"
    """
    from csdesk.workflows.projects import shelve_project

    info = state(ctx).write(lambda desk: shelve_project(desk, code, reason))
    _done(ctx, info, json_, _("{code} shelved.").format(code=info.code))


@app.command("resume")
def resume(ctx: typer.Context, code: CodeArg, json_: JsonOpt = False) -> None:
    """Take a shelved project back to the stage its dates say (supervisor or above).

    Example: csdesk --as 李娜 project resume P000012
    """
    from csdesk.workflows.projects import resume_project

    info = state(ctx).write(lambda desk: resume_project(desk, code))
    _done(ctx, info, json_, _("{code} resumed; stage {stage}.").format(code=info.code, stage=info.stage_label))


@app.command("archive")
def archive(ctx: typer.Context, code: CodeArg, json_: JsonOpt = False) -> None:
    """Archive a settled project (or a shelved one, supervisor or above).

    Example: csdesk --as 王芳 project archive P000012
    """
    from csdesk.workflows.projects import archive_project

    info = state(ctx).write(lambda desk: archive_project(desk, code))
    _done(ctx, info, json_, _("{code} archived.").format(code=info.code))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="project", help="Projects: add, list, show, edit, assign, handover, accept, shelve, resume, archive.")
