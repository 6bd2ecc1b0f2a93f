"""csdesk complaint open|list|show|sla|ack|note|assign|hold|resume|escalate|resolve|close|reopen|edit|void."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, cut_note, note, out, parse_at, print_json, print_list, state, table, want_json
from csdesk.i18n import N_, _

app = typer.Typer(no_args_is_help=True)

IdArg = Annotated[int, typer.Argument(help="The complaint number (complaint list shows them).", metavar="ID")]
LIST_CLOCKS = {"first_response": N_("resp."), "resolution": N_("res.")}  # the list's deadline column stays narrow
AtOpt = Annotated[str | None, typer.Option("--at", help="When it happened, if not now: 2026-11-24 14:30, today 9:30, -2h.")]


def _done(ctx, info, json_: bool, message: str) -> None:
    """After an action: the complaint as JSON, or one line for the person on stderr."""
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        note(message)


def _due(st, info) -> str:
    from csdesk import dates

    tz = st.settings.tz
    parts = []
    if info.status == "open" and info.first_response_due:
        parts.append(_("first response due {when}").format(when=dates.fmt(info.first_response_due, tz)))
    if info.status in ("open", "acknowledged") and info.resolution_due:
        parts.append(_("resolution due {when}").format(when=dates.fmt(info.resolution_due, tz)))
    if info.status == "on_hold":
        parts.append(_("clocks stopped"))
    return _("; ").join(parts)


def _then(st, info) -> str:
    """`; <deadlines>` after a confirmation, or nothing when no clock runs."""
    due = _due(st, info)
    return _("; {deadlines}").format(deadlines=due) if due else ""


@app.command("open")
def open_(
    ctx: typer.Context,
    phone: Annotated[str | None, typer.Option("--phone", help="The customer's phone number, any common format.")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="The customer's code (C000123) or phone.")] = None,
    severity: Annotated[str | None, typer.Option("--severity", help="How serious: normal, serious or major.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="quality | installation | attitude | delay | billing | other (config: complaint_categories)")] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="What the customer complains about.")] = None,
    project: Annotated[str | None, typer.Option("--project", help="The project code it is about.")] = None,
    call: Annotated[int | None, typer.Option("--call", help="The call it came in on (links the call; its customer, time and summary are the defaults).")] = None,
    assign: Annotated[str | None, typer.Option("--assign", help="Who handles it: a name, or auto for the assignment rules (default: the rules in [assignment]; without any, you or the first person of its level above you).")] = None,
    at: AtOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Open a complaint; you own it (首问负责制). Major and key-account complaints start at the manager level.

    Example: csdesk --as 王芳 complaint open --phone 13812345678 --severity serious --category installation --summary "安装师傅迟到两小时"
    """
    from csdesk.errors import InvalidValue
    from csdesk.workflows.complaints import open_complaint

    if phone and customer:
        raise InvalidValue(_("give --phone or --customer, not both"))
    if severity is None:
        raise InvalidValue(_("say how serious it is: --severity normal|serious|major"))
    if category is None:
        raise InvalidValue(_("say what it is about: --category (e.g. quality, installation, attitude, delay, billing, other)"))
    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: open_complaint(desk, phone or customer, severity, category, summary, project, call, when, assign))
    if want_json(ctx, json_):
        print_json(ctx, info)
        return
    typer.echo(info.id)
    who = f"{info.customer_code} {info.customer_name or ''}".rstrip()
    note(_("Opened complaint #{id} for {customer}: {severity}, {category}, {level}, assigned to {assignee}{then}.").format(
        id=info.id, customer=who, severity=info.severity_label, category=info.category_label, level=info.level_name,
        assignee=info.assignee, then=_then(st, info)))
    if info.assign_rule not in (None, "opener", "named"):  # chosen by the [assignment] rules (csdesk assign explain ID)
        from csdesk.workflows.assignment import rule_label

        note(_("{name} was chosen by the assignment rule: {rule}.").format(name=info.assignee, rule=rule_label(info.assign_rule)))


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="open | acknowledged | on_hold | resolved | closed | void | active | all (default: active; all leaves void out).")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past a running deadline.")] = False,
    due_within: Annotated[str | None, typer.Option("--due-within", help="Next deadline within this much BUSINESS time (2h, 1h30m); overdue ones included.")] = None,
    level: Annotated[int | None, typer.Option("--level", help="1 specialist … 4 director.")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", help="A staff name, or 'me'.")] = None,
    severity: Annotated[str | None, typer.Option("--severity", help="Only this severity: normal, serious or major.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Only this category (config: complaint_categories).")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Code or phone.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows (the count of all is on stderr).")] = 50,
    json_: JsonOpt = False,
) -> None:
    """List complaints by urgency: missed deadlines first, then the nearest deadline.

    Example: csdesk --as 李娜 complaint list --assignee me --due-within 2h
    """
    from datetime import timedelta

    from rich.cells import cell_len

    from csdesk import dates
    from csdesk.workflows.complaints import fmt_business, list_complaints

    st = state(ctx)
    within = dates.parse_duration(due_within) if due_within else None
    result = st.read(lambda desk: list_complaints(desk, status, overdue, within, level, assignee, severity, customer, category, limit))
    if want_json(ctx, json_):
        print_list(ctx, result.rows, result.total)
        return
    tz = st.settings.tz
    # Compact cells (Chinese labels, month-day times) so that the list reads in an 80-column terminal;
    # `complaint show` and --json carry the full values (opening time, customer name).
    def short(value):
        return dates.to_local(value, tz).strftime("%m-%d %H:%M") if value else ""

    def left(seconds):  # business time to the deadline, or past it (minutes only when they matter)
        if seconds is None:
            return ""
        text = fmt_business(timedelta(seconds=abs(seconds)))
        text = text.split("h")[0] + "h" if abs(seconds) >= 10 * 3600 else text
        return _("late {time}").format(time=text) if seconds < 0 else text

    console = out()
    with_category = console.width >= 100  # below that the summary needs the room; --category still filters
    heads = ["#", _("Status"), _("Level"), *([_("Category")] if with_category else []), _("Customer"), _("Assignee"),
             _("Next due"), _("Left")]
    rows = [
        (str(row.id), row.status_label, f"{row.level_name.split()[0]} {row.severity_label}",
         *([row.category_label] if with_category else []),
         row.customer_code, row.assignee, f"{short(row.next_due)} {_(LIST_CLOCKS[row.next_clock]) if row.next_clock else ''}".strip(),
         left(row.business_left_s), row.summary)
        for row in result.rows
    ]
    t = table(*heads, _("Summary"), text=(_("Summary"),), optional=(_("Level"), _("Assignee")))
    # The summary takes the room the other columns leave (each with the space after it, and the table's two
    # edge spaces), one line each, cut with …
    used = sum(max([cell_len(h)] + [cell_len(r[i]) for r in rows]) + 1 for i, h in enumerate(heads)) + 2
    summary = t.columns[-1]
    summary.no_wrap, summary.overflow, summary.max_width = True, "ellipsis", max(console.width - used, 8)
    for row, r in zip(result.rows, rows):
        t.add_row(*r, style="red" if row.overdue else None)
    console.print(t)
    if result.total > len(result.rows):
        cut_note(len(result.rows), result.total)
    else:
        note(_("{n} complaints.").format(n=result.total))


@app.command("show")
def show(ctx: typer.Context, complaint_id: IdArg, json_: JsonOpt = False) -> None:
    """One complaint: details, each deadline with the business time left (or overdue), and the whole timeline.

    Example: csdesk complaint show 12
    """
    from csdesk import dates
    from csdesk.workflows.complaints import complaint_view

    st = state(ctx)
    view = st.read(lambda desk: complaint_view(desk, complaint_id))
    if want_json(ctx, json_):
        print_json(ctx, view)
        return
    tz = st.settings.tz
    c = view.complaint
    console = out()
    from csdesk.commands.common import heading

    console.print(heading(_("Complaint #{id}").format(id=c.id), f"  {c.status_label}  {c.level_name}  {c.severity_label}  {c.category_label}"))
    from rich.cells import cell_len

    fields = (
        (_("Customer"), f"{c.customer_code} {c.customer_name or _('(no name on file)')}"), (_("Project"), c.project),
        (_("Call"), f"#{c.call_id}" if c.call_id else None), (_("Owner"), _("{name} (first contact)").format(name=c.owner)),
        (_("Assignee"), c.assignee), (_("Opened"), dates.fmt(c.opened_at, tz)), (_("Summary"), c.summary),
        (_("Resolution"), c.resolution),
        (_("On hold"), _("since {when}").format(when=dates.fmt(view.on_hold_since, tz)) if view.on_hold_since else None),
    )
    width = max(cell_len(label) for label, _value in fields) + 2
    for label, value in fields:
        if value:
            console.print(f"  {label}{' ' * (width - cell_len(label))}{value}", markup=False)
    t = table(_("Deadline"), _("From"), _("Allowed"), _("Due"), _("State"), _("Used"), _("Left"),
              title=_("SLA (business time)"), text=(_("Deadline"),), optional=(_("Used"), _("Allowed"), _("From")))
    for d in view.deadlines:
        late = d.state in ("breached", "late", "escalated, was late")
        # Short names here (the severity and the level's name are in the heading above): 首次响应, 解决 L2.
        name = _("first response") if d.clock == "first_response" else _("resolution L{level}").format(level=d.level)
        t.add_row(name, dates.fmt(d.started_at, tz), d.allowance, dates.fmt(d.due, tz) if d.due else _("(stopped)"),
                  d.state_label, d.business_used, d.business_left, style="red" if late else None)
    console.print(t)
    t = table(_("When"), _("Who"), _("What"), _("Details"), title=_("Timeline"), text=(_("Details"),))
    for e in view.events:
        when = dates.fmt(e.at, tz)
        if abs((e.recorded_at - e.at).total_seconds()) > 300:
            when += " " + _("(entered {when})").format(when=dates.fmt(e.recorded_at, tz))
        t.add_row(when, e.actor, e.label, e.text)
    console.print(t)


@app.command("sla")
def sla(ctx: typer.Context, complaint_id: IdArg, json_: JsonOpt = False) -> None:
    """Explain the SLA arithmetic step by step: windows counted, days skipped, holds, each deadline.

    Example: csdesk complaint sla 12
    """
    from csdesk import dates
    from csdesk.workflows.complaints import explain_sla

    st = state(ctx)
    result = st.read(lambda desk: explain_sla(desk, complaint_id))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    c = result.complaint
    tz = st.settings.tz
    lines = [
        _("Complaint #{id}: {severity}, {level}, {status}; opened {when}").format(
            id=c.id, severity=c.severity_label, level=c.level_name, status=c.status_label, when=dates.fmt(c.opened_at, tz)),
        _("Business hours: {calendar}").format(calendar=result.calendar),
    ]
    for title, body in result.sections:
        lines.append("")
        lines.append(title)
        lines.extend(f"  {line}" for line in body)
    from csdesk.commands.common import echo

    echo("\n".join(lines))
    for warning in result.warnings:
        note(_("Warning: {message}").format(message=warning))


@app.command("ack")
def ack(ctx: typer.Context, complaint_id: IdArg, note_: Annotated[str | None, typer.Option("--note", help="What was said.")] = None,
        at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Acknowledge: the first response to the customer (stops the first-response clock).

    Example: csdesk --as 王芳 complaint ack 12 --note "已致电客户，约明早上门"
    """
    from csdesk.workflows.complaints import ack_complaint

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: ack_complaint(desk, complaint_id, when, note_))
    _done(ctx, info, json_, _("Complaint #{id} acknowledged{then}.").format(id=info.id, then=_then(st, info)))


@app.command("note")
def note_cmd(ctx: typer.Context, complaint_id: IdArg, text: Annotated[str, typer.Argument(help="The note.")],
             at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Add a note to a complaint's timeline.

    Example: csdesk --as 王芳 complaint note 12 "供应商确认周五到货"
    """
    from csdesk.workflows.complaints import add_note

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: add_note(desk, complaint_id, text, when))
    _done(ctx, info, json_, _("Note added to complaint #{id}.").format(id=info.id))


@app.command("assign")
def assign(ctx: typer.Context, complaint_id: IdArg, name: Annotated[str, typer.Argument(help="Staff name.")],
           owner: Annotated[bool, typer.Option("--owner", help="Transfer the ownership (首问负责) instead; supervisor or above.")] = False,
           at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Hand a complaint to someone of its level or above (or, with --owner, transfer its ownership).

    Example: csdesk --as 李娜 complaint assign 12 刘洋
    """
    from csdesk.workflows.complaints import assign_complaint

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: assign_complaint(desk, complaint_id, name, when, owner))
    message = _("Complaint #{id} is now owned by {name}.") if owner else _("Complaint #{id} is now assigned to {name}.")
    _done(ctx, info, json_, message.format(id=info.id, name=info.owner if owner else info.assignee))


@app.command("hold")
def hold(ctx: typer.Context, complaint_id: IdArg, reason: Annotated[str, typer.Option("--reason", help="Waiting for what.")],
         at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Put a complaint on hold (waiting for the customer or a supplier): its clocks stop.

    Example: csdesk --as 王芳 complaint hold 12 --reason "等待厂家补发配件"
    """
    from csdesk.workflows.complaints import hold_complaint

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: hold_complaint(desk, complaint_id, reason, when))
    _done(ctx, info, json_, _("Complaint #{id} is on hold; its clocks are stopped until it is resumed.").format(id=info.id))


@app.command("resume")
def resume(ctx: typer.Context, complaint_id: IdArg, note_: Annotated[str | None, typer.Option("--note", help="What was said.")] = None,
           at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Resume a complaint on hold: its clocks run again, deadlines moved by the business time held.

    Example: csdesk --as 王芳 complaint resume 12 --note "配件已到"
    """
    from csdesk.workflows.complaints import resume_complaint

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: resume_complaint(desk, complaint_id, when, note_))
    _done(ctx, info, json_, _("Complaint #{id} resumed ({status}){then}.").format(id=info.id, status=info.status_label, then=_then(st, info)))


@app.command("escalate")
def escalate(ctx: typer.Context, complaint_id: IdArg, reason: Annotated[str, typer.Option("--reason", help="Why.")],
             to: Annotated[int | None, typer.Option("--to", help="The level to go to (default: one up).", metavar="LEVEL")] = None,
             at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Escalate one level up (or --to LEVEL): the next person up takes it, with the new level's deadline.

    Example: csdesk --as 王芳 complaint escalate 12 --reason "客户要求主管处理"
    """
    from csdesk.workflows.complaints import escalate_complaint

    st = state(ctx)
    when = parse_at(st, at)
    result = st.write(lambda desk: escalate_complaint(desk, complaint_id, reason, to, when))
    _done(ctx, result, json_, _("Complaint #{id} escalated from level {old} to {new}: {before} → {after}.").format(
        id=result.complaint_id, old=result.from_level, new=result.to_level, before=result.from_assignee, after=result.to_assignee)
        + (f" ({result.note})" if result.note else ""))


@app.command("resolve")
def resolve(ctx: typer.Context, complaint_id: IdArg, resolution: Annotated[str, typer.Option("--resolution", help="What was done.")],
            at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Resolve a complaint (needs someone of its level or above); its return visit is scheduled.

    Example: csdesk --as 王芳 complaint resolve 12 --resolution "已更换门板，客户现场确认"
    """
    from csdesk.workflows.complaints import resolve_complaint

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: resolve_complaint(desk, complaint_id, resolution, when))
    _done(ctx, info, json_, _("Complaint #{id} resolved; it closes after a satisfied return visit.").format(id=info.id))


@app.command("close")
def close(ctx: typer.Context, complaint_id: IdArg,
          without_visit: Annotated[bool, typer.Option("--without-visit", help="Close without a satisfied return visit (supervisor or above, with --reason).")] = False,
          reason: Annotated[str | None, typer.Option("--reason", help="Why it is closed without a visit.")] = None,
          at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Close a resolved complaint: after a satisfied return visit, or by a supervisor with --without-visit --reason.

    Example: csdesk --as 李娜 complaint close 12 --without-visit --reason "客户出国，无法回访"
    """
    from csdesk.workflows.complaints import close_complaint

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: close_complaint(desk, complaint_id, without_visit, reason, when))
    _done(ctx, info, json_, _("Complaint #{id} closed.").format(id=info.id))


@app.command("reopen")
def reopen(ctx: typer.Context, complaint_id: IdArg, reason: Annotated[str, typer.Option("--reason", help="Why.")],
           at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Reopen a resolved or closed complaint: a new resolution clock starts at its current level.

    Example: csdesk --as 王芳 complaint reopen 12 --reason "客户反映问题复发"
    """
    from csdesk.workflows.complaints import reopen_complaint

    st = state(ctx)
    when = parse_at(st, at)
    info = st.write(lambda desk: reopen_complaint(desk, complaint_id, reason, when))
    _done(ctx, info, json_, _("Complaint #{id} reopened at {level}{then}.").format(id=info.id, level=info.level_name, then=_then(st, info)))


def warn_calendar(st) -> None:
    """On stderr: the years in use (this one and the next) whose make-up workdays (调休) the installed
    holidays package lacks (`db check` and `config show` call this too)."""
    from csdesk.workflows.complaints import calendar_gaps

    year = st.now().astimezone(st.settings.tz).year
    for warning in calendar_gaps(st.settings, [year, year + 1]):
        note(_("Warning: {message}").format(message=warning))


@app.command("edit")
def edit(ctx: typer.Context, complaint_id: IdArg,
         severity: Annotated[str | None, typer.Option("--severity", help="normal, serious or major: deadlines follow it from the opening.")] = None,
         category: Annotated[str | None, typer.Option("--category", help="The category (config: complaint_categories).")] = None,
         summary: Annotated[str | None, typer.Option("--summary", help="What the customer complains about.")] = None,
         customer: Annotated[str | None, typer.Option("--customer", help="Move it to this customer (code or phone); its pending visits follow.")] = None,
         project: Annotated[str | None, typer.Option("--project", help="The project code it is about (one of its customer's), or - for none.")] = None,
         json_: JsonOpt = False) -> None:
    """Correct a complaint (its assignee, owner, or a supervisor or above); every change is in the timeline and the audit.

    Example: csdesk --as 李娜 complaint edit 12 --severity serious --category quality
    """
    from csdesk.workflows.complaints import edit_complaint

    st = state(ctx)
    info = st.write(lambda desk: edit_complaint(desk, complaint_id, severity, category, summary, customer, project))
    _done(ctx, info, json_, _("Complaint #{id} edited: {severity}, {category}, {customer}{then}.").format(
        id=info.id, severity=info.severity_label, category=info.category_label,
        customer=info.customer_code + (" " + info.project if info.project else ""), then=_then(st, info)))


@app.command("void")
def void(ctx: typer.Context, complaint_id: IdArg,
         reason: Annotated[str, typer.Option("--reason", help="Why: a duplicate of #N, opened by mistake …")],
         json_: JsonOpt = False) -> None:
    """Void a duplicate or mistaken complaint (supervisor or above): out of lists, SLAs, reminders and reports; its pending visits are cancelled.

    Example: csdesk --as 李娜 complaint void 13 --reason "重复立案，同 #12"
    """
    from csdesk.workflows.complaints import void_complaint

    st = state(ctx)
    info = st.write(lambda desk: void_complaint(desk, complaint_id, reason))
    _done(ctx, info, json_, _("Complaint #{id} voided; it no longer counts anywhere, and its pending visits are cancelled.").format(id=info.id))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="complaint", help="Complaints: open, list, show, sla, ack, note, assign, hold, resume, escalate, resolve, close, reopen, edit, void.")
