"""csdesk payment plan|record|reverse|chase|list|aging — instalments, payments and tail-payment collection."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, cut_note, note, out, parse_at, print_json, print_list, state, table, want_json
from csdesk.i18n import N_, _

app = typer.Typer(no_args_is_help=True)

CodeArg = Annotated[str, typer.Argument(help="Project code, e.g. P000012.", metavar="CODE")]


def _days(st, text: str) -> int:
    """`30d`, `2w`, `1m`, or a bare number of days → days from today."""
    from csdesk import dates
    from csdesk.errors import InvalidValue

    text = (text or "").strip()
    if text.isdigit():
        if int(text) > 36600:
            raise InvalidValue(_("{text}: at most 36600 days (100 years)").format(text=repr(text)))
        return int(text)
    span = dates.parse_span(text)
    start = dates.now().astimezone(st.settings.tz).date()
    days = (start + span - start).days
    if days < 0:
        raise InvalidValue(_("{text}: give a span ahead (30d, 2w, 1m)").format(text=repr(text)))
    return days


def instalment_status(i):
    """An instalment's status as a word, with colour for what is overdue (red) or due today (yellow)."""
    from rich.text import Text

    if i.status == "overdue":
        return Text(_("{status} {days} days").format(status=i.status_label, days=i.days_overdue), style="bold red")
    if i.status == "due":
        return Text(i.status_label, style="bold yellow")
    return Text(i.status_label)


def render_instalments(rows, title: str | None = None, with_project: bool = True):
    """Instalments at 80 columns: project, amounts and dates are never cut; the least useful columns go first."""
    from csdesk.money import fmt_money
    from csdesk.workflows.payment_plans import due_rule_label, step_label

    keys = (["project", "customer", "owner"] if with_project else []) + [
        "seq", "name", "amount", "rule", "due", "paid", "outstanding", "status", "last"]
    words = {"project": N_("Project"), "customer": N_("Customer"), "owner": N_("Owner"), "seq": N_("#"), "name": N_("Instalment"), "amount": N_("Amount"),
             "rule": N_("Due rule"), "due": N_("Due"), "paid": N_("Paid"), "outstanding": N_("Outstanding"), "status": N_("Status"), "last": N_("Last step")}
    h = {k: _(words[k]) for k in keys}
    t = table(*h.values(), title=title, text=tuple(h[k] for k in ("customer", "name") if k in h),
              optional=tuple(h[k] for k in ("last", "rule", "owner", "seq", "customer", "paid", "amount") if k in h))
    for i in rows:
        cells = {"project": i.project_code, "customer": f"{i.customer_code or ''} {i.customer_name or ''}".strip(), "owner": i.owner or "",
                 "seq": str(i.seq), "name": i.name, "amount": fmt_money(i.amount), "rule": due_rule_label(i.due_rule), "due": str(i.due_on or "—"),
                 "paid": fmt_money(i.paid), "outstanding": fmt_money(i.outstanding), "status": instalment_status(i),
                 "last": step_label(i.last_step) if i.last_step else ""}
        t.add_row(*(cells[k] for k in keys))
    return t


@app.command("plan")
def plan(
    ctx: typer.Context,
    code: CodeArg,
    split: Annotated[str | None, typer.Option("--split", help='Parts NAME:AMOUNT:WHEN, comma-separated. AMOUNT: 30% or an exact sum; WHEN: sign, handover, accept, accept+30d, or a date.')] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace the existing plan (only while nothing is paid).")] = False,
    json_: JsonOpt = False,
) -> None:
    """Make a project's payment plan (it must add up to the contract to the fen), or show it.

    Example: csdesk --as 王芳 payment plan P000012 --split "首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d"
    """
    from csdesk.money import fmt_money
    from csdesk.workflows.payment_plans import make_plan, plan_view

    st = state(ctx)
    if split is None:
        if replace:
            from csdesk.errors import InvalidValue

            raise InvalidValue(_("--replace needs --split with the new plan"))
        view = st.read(lambda desk: plan_view(desk, code))
    else:
        view = st.write(lambda desk: make_plan(desk, code, split, replace))
    if want_json(ctx, json_):
        print_json(ctx, view)
        return
    p = view.project
    if not view.instalments:
        note(_("{code} has no payment plan yet.").format(code=p.code))
        return
    title = _("{code} {name} · contract {contract}").format(code=p.code, name=p.name, contract=fmt_money(p.contract))
    out().print(render_instalments(view.instalments, title=title, with_project=False))
    note(_("Planned {planned} · paid {paid} · outstanding {outstanding}.").format(
        planned=fmt_money(view.planned), paid=fmt_money(view.paid), outstanding=fmt_money(view.outstanding)))


@app.command("record")
def record(
    ctx: typer.Context,
    code: CodeArg,
    amount: Annotated[str, typer.Option("--amount", help="How much: 86000, 86,000.00, ¥86000, 8.6万.")],
    instalment: Annotated[str | None, typer.Option("--instalment", help="Instalment name or number (default: the oldest unpaid first).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When it was received (default now).")] = None,
    method: Annotated[str, typer.Option("--method", help="transfer | cash | cheque | other")] = "transfer",
    ref: Annotated[str | None, typer.Option("--ref", help="Bank reference, receipt number …")] = None,
    allow_overpay: Annotated[bool, typer.Option("--allow-overpay", help="Accept more than is owed; the rest is kept as a credit.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Record money received for a project.

    Example: csdesk --as 王芳 payment record P000012 --amount 8.58万 --instalment 首款 --ref 银行流水20261124
    """
    from csdesk.money import fmt_money, parse_amount
    from csdesk.workflows.payments_received import record_payment

    st = state(ctx)
    value = parse_amount(amount)
    when = parse_at(st, at)
    info = st.write(lambda desk: record_payment(desk, code, value, instalment, when, method, ref, allow_overpay))
    if want_json(ctx, json_):
        print_json(ctx, info)
        return
    typer.echo(info.id)
    to = ", ".join(f"{a.instalment} {fmt_money(a.amount)}" for a in info.allocations)
    if info.credit:
        to += (", " if to else "") + _("credit {amount}").format(amount=fmt_money(info.credit))
    values = dict(id=info.id, amount=fmt_money(info.amount), code=info.project_code, to=to)
    if info.project_stage == "settled":
        note(_("Recorded payment #{id} of {amount} for {code}: {to} — the project is settled.").format(**values))
    else:
        note(_("Recorded payment #{id} of {amount} for {code}: {to}.").format(**values))


@app.command("reverse")
def reverse(
    ctx: typer.Context,
    ident: Annotated[int, typer.Argument(help="The payment number to reverse.", metavar="PAYMENT_ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with the reversal).")],
    at: Annotated[str | None, typer.Option("--at", help="When (default now).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Correct a payment recorded by mistake with a reversal (supervisor or above); nothing is deleted.

    Example: csdesk --as 李娜 payment reverse 41 --reason "金额录错，应为85800"
    """
    from csdesk.money import fmt_money
    from csdesk.workflows.payments_received import reverse_payment

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: reverse_payment(desk, ident, reason, when))
    if want_json(ctx, json_):
        print_json(ctx, info)
        return
    typer.echo(info.id)
    note(_("Reversed payment #{id} with #{reversal} ({amount}) on {code}.").format(
        id=info.reverses_id, reversal=info.id, amount=fmt_money(info.amount), code=info.project_code))


@app.command("chase")
def chase(
    ctx: typer.Context,
    code: CodeArg,
    step: Annotated[str, typer.Option("--step", help="reminder | call | notice (demand letter) | lawyer (lawyer's letter, manager or above)")],
    note_: Annotated[str | None, typer.Option("--note", help="What was said or sent.")] = None,
    instalment: Annotated[str | None, typer.Option("--instalment", help="Only this instalment (default: every due and unpaid one).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When (default now).")] = None,
    skip: Annotated[bool, typer.Option("--skip", help="Leave out earlier steps of the ladder not taken (manager or above, with --reason).")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why earlier steps are skipped (with --skip).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Record a dunning step for a project's due and unpaid instalments; the ladder goes in order
    (reminder → call → notice → lawyer) unless a manager records a step with --skip --reason.

    Example: csdesk --as 王芳 payment chase P000012 --step call --note "客户答应周五前付尾款"
    """
    from csdesk.workflows.dunning import chase as record_step

    st = state(ctx)
    when = parse_at(st, at)
    rows = st.write(lambda desk: record_step(desk, code, step, note_, instalment, when, skip, reason))
    if want_json(ctx, json_):
        print_json(ctx, rows)
        return
    from csdesk.workflows.payment_plans import step_label

    names = ", ".join(r.instalment for r in rows)
    skipped = sorted({s for r in rows for s in r.skipped}, key=list(("reminder", "call", "notice", "lawyer")).index)
    values = dict(step=rows[0].step_label, code=rows[0].project_code, names=names)
    if skipped:
        note(_("Recorded {step} on {code} for {names}, skipping {skipped}.").format(
            skipped=", ".join(step_label(s) for s in skipped), **values))
    else:
        note(_("Recorded {step} on {code} for {names}.").format(**values))


@app.command("list")
def list_(
    ctx: typer.Context,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only instalments past their due date.")] = False,
    due_within: Annotated[str | None, typer.Option("--due-within", help="Only those falling due within this span: 30d, 2w, 1m.")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Project code.")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Customer code or phone.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Project owner (staff name, or me).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include paid instalments.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows.")] = 100,
    json_: JsonOpt = False,
) -> None:
    """List instalments still owed, soonest due first.

    Example: csdesk payment list --overdue --owner 王芳
    """
    from csdesk.money import fmt_money
    from csdesk.workflows.payment_plans import list_instalments

    st = state(ctx)
    days = _days(st, due_within) if due_within else None
    rows, total = st.read(lambda desk: list_instalments(desk, overdue, days, project, customer, owner, all_, limit))
    if want_json(ctx, json_):
        print_list(ctx, rows, total)
        return
    out().print(render_instalments(rows))
    from decimal import Decimal

    owed = sum((r.outstanding for r in rows), Decimal("0.00"))
    note(_("{amount} outstanding on the instalments shown.").format(amount=fmt_money(owed)))
    cut_note(len(rows), total)


@app.command("aging")
def aging_(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The day to age at (default today): 2026-10-31, -1m.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="customer | project | owner")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown (largest overdue first).")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Receivables by days overdue (0–30, 31–60, 61–90, 90+), with totals.

    Example: csdesk payment aging --by customer --as-of 2026-10-31
    """
    from csdesk import dates
    from csdesk.money import fmt_money
    from csdesk.workflows.aging import aging

    st = state(ctx)
    day = dates.parse_date(as_of, tz=st.settings.tz) if as_of else None
    group = by.strip().lower() if by else None
    report = st.read(lambda desk: aging(desk, day, group, limit))
    if want_json(ctx, json_):
        print_json(ctx, report)
        return
    groups = {"customer": _("Customer"), "project": _("Project"), "owner": _("Owner")}
    head = [groups.get(group, group)] if group else []
    buckets = [_("Not due"), _("1–30 days"), _("31–60 days"), _("61–90 days"), _("90+ days")]
    title = (_("Aging as of {day}, by {group}").format(day=report.as_of, group=groups.get(group, group)) if group
             else _("Aging as of {day}").format(day=report.as_of))
    t = table(*head, *buckets, _("Overdue"), _("Outstanding"), title=title, text=tuple(head),
              optional=(buckets[0], buckets[3], buckets[2], buckets[1], buckets[4]))

    def cells(r):
        return [fmt_money(x) if x else "" for x in (r.not_due, r.days_0_30, r.days_31_60, r.days_61_90, r.days_90_plus)] + [
            fmt_money(r.overdue), fmt_money(r.outstanding)]

    for r in report.rows:
        label = r.key if r.key == r.label else f"{r.key} {r.label}"
        t.add_row(label, *cells(r))
    if report.rows:
        t.add_section()
    t.add_row(*([_("Total")] if group else []), *cells(report.total))
    out().print(t)
    if group:
        cut_note(len(report.rows), report.groups)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="payment", help="Payments: plan, record, reverse, chase (dunning), list, aging.")
