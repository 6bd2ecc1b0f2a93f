"""csdesk callback schedule|list|show|done|reschedule|cancel|stats|generate."""

from typing import Annotated, Optional

import typer

from csdesk.commands.common import JsonOpt, NowOpt, cut_note, note, out, print_json, print_list, state, table, want_json
from csdesk.i18n import N_, _

app = typer.Typer(no_args_is_help=True)

# What the history shows for each audited action of a callback (its code stays in --json and `audit`).
ACTIONS = {"schedule": N_("scheduled"), "done": N_("done"), "no_answer": N_("no answer"), "wrong_number": N_("wrong number"),
           "missed": N_("missed"), "reschedule": N_("rescheduled"), "cancel": N_("cancelled"), "move": N_("moved"),
           "handover": N_("handed over")}
WHEN_HELP = N_("WHEN: 2026-12-01 14:30, today 15:00, tomorrow, fri 10:00, +3d, +2h, next month, 下周一 (a date alone means by 18:00).")


def _when(st, text: str, now):
    from csdesk.workflows.callbacks import due_text
    from csdesk.workflows.visit_rules import load_rules

    return due_text(text, st.settings.tz, now, load_rules(st.settings).default_time)


def _who(c) -> str:
    return f"{c.customer_code} {c.customer_name or _('(no name on file)')}"


def _phone(number: str | None) -> str:
    from csdesk.phones import display

    return display(number) if number else ""


def _state(c) -> str:
    from csdesk.workflows.callbacks import status_label

    if c.status == "pending":
        return _("overdue") if c.overdue else ""
    return status_label(c.status)


def _short(when, tz, this_year: int) -> str:
    """A due time for a narrow list: `11-27 10:00` this year, `2027-01-31 10:00` in another."""
    from csdesk import dates

    text = dates.fmt(when, tz)
    return text[5:] if text.startswith(f"{this_year}-") else text


def _plain(value, tz) -> str:
    """An audit value for the terminal: ISO times in the configured zone."""
    from datetime import datetime

    from csdesk import dates

    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            return dates.fmt(datetime.fromisoformat(value), tz)
        except ValueError:
            pass
    return "-" if value is None else str(value)


def _outcome(c) -> str:
    from csdesk.workflows.callbacks import outcome_label

    parts = [outcome_label(c.outcome)] if c.outcome else []
    if c.satisfied is not None:
        parts.append(_("satisfied") if c.satisfied else _("unsatisfied"))
    if c.score is not None:
        parts.append(f"{c.score}/5")
    return ", ".join(parts)


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    due: Annotated[str, typer.Option("--due", help=WHEN_HELP)],
    phone: Annotated[Optional[str], typer.Option("--phone", help="The number to call (finds the customer).")] = None,
    customer: Annotated[Optional[str], typer.Option("--customer", help="Customer code or phone.")] = None,
    for_: Annotated[Optional[str], typer.Option("--for", help="What it is about: complaint:ID, project:CODE or call:ID.")] = None,
    purpose: Annotated[Optional[str], typer.Option("--purpose", help="promise | complaint-visit | handover-visit | acceptance-visit | warranty-visit | periodic | payment | other")] = None,
    assign: Annotated[Optional[str], typer.Option("--assign", help="Who calls (staff name, or auto for the assignment rules; default: you).")] = None,
    note_: Annotated[Optional[str], typer.Option("--note", help="What the call is for.")] = None,
    every: Annotated[Optional[str], typer.Option("--every", help="Repeat: '3 months', 2w, 90d, 1y.")] = None,
    count: Annotated[Optional[int], typer.Option("--count", help="How many visits in the series.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Last day of the series (a date).")] = None,
    rrule: Annotated[Optional[str], typer.Option("--rrule", help="An RFC 5545 rule, e.g. 'FREQ=MONTHLY;INTERVAL=3;COUNT=3'.")] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Keep each repeating visit on its exact date, even a Sunday or a holiday (default: the next working day).")] = False,
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Schedule a callback or return visit (回访), once or as a repeating series (on working days unless --exact).

    Example: csdesk callback schedule --phone 13812345678 --due "today 15:00" --note "报价确认后回电"
    """
    from csdesk import dates
    from csdesk.workflows.callbacks import schedule_callback

    st = state(ctx)
    at = st.now(now)
    due_at = _when(st, due, at)
    until_day = dates.parse_date(until, tz=st.settings.tz, at=at) if until else None
    result = st.write(lambda desk: schedule_callback(
        desk, due_at, customer=customer, phone=phone, subject=for_, purpose=purpose, assignee=assign, note=note_,
        every=every, count=count, until=until_day, rrule=rrule, exact=exact), now=at)
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    tz = st.settings.tz
    for c in result.callbacks:
        typer.echo(c.id)
    first = result.callbacks[0]
    about = " " + _("about {subject}").format(subject=first.subject) if first.subject else ""
    if result.series_id is None:
        note(_("Scheduled callback #{id} ({purpose}) for {customer}{about}, due {due}, assigned to {assignee}.").format(
            id=first.id, purpose=first.purpose_label, customer=_who(first), about=about, due=dates.fmt(first.due_at, tz),
            assignee=first.assignee or _("nobody")))
        return
    shown = ", ".join(dates.fmt(c.due_at, tz) for c in result.callbacks[:6]) + (" …" if len(result.callbacks) > 6 else "")
    if result.open_ended:
        note(_("Scheduled series #{series} ({rule}) for {customer}{about}: first visit #{id} due {due}; each next visit is made "
               "when the one before is over.").format(series=result.series_id, rule=result.rrule, customer=_who(first), about=about,
                                                        id=first.id, due=dates.fmt(first.due_at, tz)))
    else:
        note(_("Scheduled series #{series} of {n} visits ({purpose}) for {customer}{about}: {dues}.").format(
            series=result.series_id, n=len(result.callbacks), purpose=first.purpose_label, customer=_who(first), about=about,
            dues=shown))


@app.command("list")
def list_(
    ctx: typer.Context,
    due: Annotated[Optional[str], typer.Option("--due", help="today (with overdue) | tomorrow | week (with overdue) | overdue | all")] = None,
    assignee: Annotated[Optional[str], typer.Option("--assignee", help="A staff name, or me.")] = None,
    customer: Annotated[Optional[str], typer.Option("--customer", help="Customer code or phone.")] = None,
    purpose: Annotated[Optional[str], typer.Option("--purpose", help="Only this purpose (promise, complaint-visit, periodic …).")] = None,
    status: Annotated[str, typer.Option("--status", help="pending | done | missed | cancelled | all")] = "pending",
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows (the count of all is on stderr).")] = 50,
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List callbacks by due time, overdue first (default: pending ones due today, overdue included).

    Example: csdesk callback list --due week --assignee me
    """
    from csdesk.workflows.callbacks import list_callbacks

    st = state(ctx)
    result = st.read(lambda desk: list_callbacks(desk, due, assignee, customer, purpose, status, limit), now=st.now(now))
    if want_json(ctx, json_):
        print_list(ctx, result.rows, result.total)
        return
    tz = st.settings.tz
    this_year = st.now(now).astimezone(tz).year
    h = {k: _(v) for k, v in (("due", N_("Due")), ("customer", N_("Customer")), ("phone", N_("Phone")), ("why", N_("Purpose")),
                               ("who", N_("Assignee")), ("try", N_("Tries")), ("notes", N_("Notes")))}
    t = table("#", h["due"], h["customer"], h["phone"], h["why"], h["who"], h["try"], h["notes"],
              text=(h["customer"], h["why"], h["notes"]), optional=(h["notes"], h["try"], h["who"]))
    for c in result.rows:
        due_cell = _short(c.due_at, tz, this_year) + (f"\n{_state(c)}" if _state(c) else "")
        t.add_row(str(c.id), due_cell, f"{c.customer_code}\n{c.customer_name or _('(no name on file)')}", _phone(c.phone),
                  c.purpose_label + (f"\n{c.subject}" if c.subject else ""),
                  c.assignee or "", str(c.attempts), c.result_note or c.note or "", style="red" if c.overdue else None)
    if result.rows:
        out().print(t)
    cut_note(len(result.rows), result.total)
    from csdesk.workflows.callbacks import status_label, window_label

    shown_status = window_label("all") if status.strip().lower() == "all" else status_label(status.strip().lower())
    note(_("{n} callbacks ({window}, {status}){overdue}.").format(
        n=result.total, window=window_label(result.window), status=shown_status,
        overdue=_(", {n} overdue").format(n=result.overdue) if result.overdue else ""))


@app.command("show")
def show(
    ctx: typer.Context,
    callback_id: Annotated[int, typer.Argument(metavar="ID", help="Callback number.")],
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """One callback with its whole history: every try, outcome and reschedule.

    Example: csdesk callback show 12
    """
    from csdesk import dates
    from csdesk.workflows.audit_labels import field_label
    from csdesk.workflows.callback_records import purpose_label
    from csdesk.workflows.callbacks import callback_detail

    st = state(ctx)
    detail = st.read(lambda desk: callback_detail(desk, callback_id), now=st.now(now))
    if want_json(ctx, json_):
        print_json(ctx, detail)
        return
    tz = st.settings.tz
    c = detail.callback
    console = out()
    from csdesk.commands.common import heading

    from rich.cells import cell_len

    from csdesk.workflows.callbacks import rule_label, status_label

    console.print(heading(_("Callback #{id}").format(id=c.id), f"  {c.purpose_label}  {_state(c) or status_label('pending')}"))
    by = "{when} " + _("by {name}")
    lines = [
        (_("Customer"), _who(c)), (_("Phone"), _phone(c.phone)), (_("About"), c.subject), (_("Due"), dates.fmt(c.due_at, tz)),
        (_("First due"), dates.fmt(c.first_due_at, tz) if c.first_due_at != c.due_at else None),
        (_("Assignee"), c.assignee), (_("Tries"), str(c.attempts)), (_("Outcome"), _outcome(c)), (_("Note"), c.note),
        (_("Result"), c.result_note),
        (_("Closed"), by.format(when=dates.fmt(c.closed_at, tz), name=c.closed_by or "-") if c.closed_at else None),
        (_("Made"), by.format(when=dates.fmt(c.created_at, tz), name=c.created_by or (rule_label(c.rule) if c.rule else "-"))
         + (" " + _("(rule: {rule})").format(rule=rule_label(c.rule)) if c.rule else "")),
    ]
    if detail.series:
        s = detail.series
        lines.append((_("Series"), _("#{id} {rule}, visit {seq}").format(id=s["id"], rule=s["rrule"], seq=c.seq)
                      + ("" if s["active"] else " " + _("(ended: {reason})").format(reason=s["ended_reason"]))))
    width = max(cell_len(label) for label, _value in lines) + 2
    for label, value in lines:
        if value:
            console.print(f"  {label}{' ' * (width - cell_len(label))}{value}", markup=False)
    t = table(_("When"), _("Who"), _("What"), _("Change"), title=_("History"), text=(_("Change"),))
    for h in detail.history:
        change = ", ".join(f"{field_label(k)}: {purpose_label(v) if k == 'purpose' else _plain(v, tz)}" for k, v in h.changes.items())
        action = h.action.removeprefix("callback.")
        t.add_row(dates.fmt(h.at, tz), h.actor or "", _(ACTIONS[action]) if action in ACTIONS else action, change[:200])
    console.print(t)


@app.command("done")
def done(
    ctx: typer.Context,
    callback_id: Annotated[int, typer.Argument(metavar="ID", help="Callback number.")],
    reached: Annotated[bool, typer.Option("--reached", help="Got through to the customer.")] = False,
    no_answer: Annotated[bool, typer.Option("--no-answer", help="Nobody answered: try again later.")] = False,
    wrong_number: Annotated[bool, typer.Option("--wrong-number", help="The number is wrong: missed.")] = False,
    satisfied: Annotated[Optional[bool], typer.Option("--satisfied/--unsatisfied", help="Was the customer satisfied?")] = None,
    score: Annotated[Optional[int], typer.Option("--score", help="Satisfaction 1–5.")] = None,
    note_: Annotated[Optional[str], typer.Option("--note", help="What the customer said.")] = None,
    at: Annotated[Optional[str], typer.Option("--at", help="When the call was made (default now): today 14:30, -1h; any moment after what the callback follows (the resolution, the call that made the promise).")] = None,
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Record a try at a callback: reached (with satisfaction), no answer (retried later) or wrong number.

    Example: csdesk callback done 12 --reached --satisfied --score 5 --note "维修后无渗漏"
    """
    from csdesk import dates
    from csdesk.errors import InvalidValue
    from csdesk.workflows.callbacks import record_attempt

    chosen = [name for name, flag in (("reached", reached), ("no-answer", no_answer), ("wrong-number", wrong_number)) if flag]
    if len(chosen) != 1:
        raise InvalidValue(_("say how the call went: exactly one of --reached, --no-answer, --wrong-number"))
    st = state(ctx)
    current = st.now(now)
    when = dates.parse_when(at, tz=st.settings.tz, at=current, future=False) if at else None
    result = st.write(lambda desk: record_attempt(desk, callback_id, chosen[0], satisfied, score, note_, when), now=current)
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    tz = st.settings.tz
    c = result.callback
    told = _("; {name} will be told.").format(name=result.supervisor) if result.supervisor else "."
    if result.outcome == "reached":
        note(_("Callback #{id} done: {outcome}.").format(id=c.id, outcome=_outcome(c)))
    elif result.outcome == "wrong_number":
        note(_("Callback #{id}: wrong number — marked missed").format(id=c.id) + told)
    elif result.missed:
        note(_("Callback #{id}: no answer (try {n} of {max}) — marked missed").format(id=c.id, n=c.attempts, max=result.max_attempts) + told)
    else:
        note(_("Callback #{id}: no answer (try {n} of {max}); next try {when}.").format(
            id=c.id, n=c.attempts, max=result.max_attempts, when=dates.fmt(result.next_due, tz)))
    for line in result.follow_up:
        note(f"  {line}")


@app.command("reschedule")
def reschedule(
    ctx: typer.Context,
    callback_id: Annotated[int, typer.Argument(metavar="ID", help="Callback number.")],
    due: Annotated[Optional[str], typer.Option("--due", help=WHEN_HELP)] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Why (kept in the audit trail).")] = None,
    assign: Annotated[Optional[str], typer.Option("--assign", help="Hand it to someone else.")] = None,
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Move a pending callback to another time, or hand it to someone else.

    Example: csdesk callback reschedule 12 --due "fri 10:00" --reason "客户出差，周五再打"
    """
    from csdesk import dates
    from csdesk.workflows.callbacks import reschedule_callback

    st = state(ctx)
    current = st.now(now)
    due_at = _when(st, due, current) if due else None
    c = st.write(lambda desk: reschedule_callback(desk, callback_id, due_at, reason, assign), now=current)
    if want_json(ctx, json_):
        print_json(ctx, c)
        return
    note(_("Callback #{id} is now due {due}, assigned to {assignee}.").format(
        id=c.id, due=dates.fmt(c.due_at, st.settings.tz), assignee=c.assignee or _("nobody")))


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    callback_id: Annotated[int, typer.Argument(metavar="ID", help="Callback number.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is no longer needed.")],
    series: Annotated[bool, typer.Option("--series", help="Also cancel the later visits of its series, and end it.")] = False,
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Cancel a pending callback, with the reason.

    Example: csdesk callback cancel 12 --reason "客户已来电，问题已解决"
    """
    st = state(ctx)
    from csdesk.workflows.callbacks import cancel_callback

    rows = st.write(lambda desk: cancel_callback(desk, callback_id, reason, series), now=st.now(now))
    if want_json(ctx, json_):
        print_json(ctx, rows)
        return
    ids = ", ".join(f"#{c.id}" for c in rows)
    note((_("Cancelled callbacks {ids}.") if len(rows) > 1 else _("Cancelled callback {ids}.")).format(ids=ids))


@app.command("stats")
def stats(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help="agent | customer | purpose")] = "agent",
    since: Annotated[Optional[str], typer.Option("--since", help="From (2026-11-01, -30d, …).")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Before.")] = None,
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Satisfaction of finished visits per agent, customer or purpose: reached, satisfied, scores, missed.

    Example: csdesk callback stats --by agent --since 2026-11-01 --json
    """
    from csdesk import dates
    from csdesk.workflows.callbacks import satisfaction_stats

    st = state(ctx)
    current = st.now(now)
    tz = st.settings.tz
    since_at = dates.parse_when(since, tz=tz, at=current, future=False) if since else None
    until_at = dates.parse_when(until, tz=tz, at=current, future=False) if until else None
    result = st.read(lambda desk: satisfaction_stats(desk, by, since_at, until_at), now=current)
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    from csdesk.workflows.callbacks import BY_LABELS

    first = _(BY_LABELS.get(result.by, result.by))
    heads = [_(h) for h in (N_("Reached"), N_("Satisfied"), N_("Unsatisfied"), N_("Rate %"), N_("Average"), N_("Missed"),
                            N_("Wrong no."), N_("Tries"))]
    t = table(first, *heads, text=(first,), optional=(heads[7], heads[6]))
    for r in result.rows + [result.total]:
        label = f"{r.key} {r.label}" if r.label else r.key
        if r is result.total:
            label = _("total")
        t.add_row(label, str(r.visits), str(r.satisfied), str(r.unsatisfied),
                  "" if r.satisfaction_rate is None else str(r.satisfaction_rate),
                  "" if r.average_score is None else str(r.average_score), str(r.missed), str(r.wrong_number), str(r.attempts))
    out().print(t)


@app.command("generate")
def generate(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be made; write nothing.")] = False,
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Make the periodic visits the rules call for (key accounts, VIPs, owners, warranty); safe to repeat.

    `csdesk remind run` does this too; running it twice makes nothing new.

    Example: csdesk callback generate --dry-run
    """
    from csdesk.workflows.callbacks import generate_periodic_visits

    st = state(ctx)
    current = st.now(now)
    if dry_run:
        made = st.read(lambda desk: generate_periodic_visits(desk, current, dry_run=True), now=current)
    else:
        # In short transactions (as `remind run` does), so that other writers never wait long.
        import time

        from csdesk.workflows.callbacks import periodic_visits_batch
        from csdesk.workflows.reminders import MAX_BATCHES, STEP_BATCH, STEP_PAUSE

        made = []
        for n in range(MAX_BATCHES):
            if n:
                time.sleep(STEP_PAUSE)
            part, more = st.write(lambda desk: periodic_visits_batch(desk, current, limit=STEP_BATCH), now=current)
            made.extend(part)
            if not more:
                break
    if want_json(ctx, json_):
        print_json(ctx, made)
        return
    tz = st.settings.tz
    from csdesk.commands.common import echo

    for m in made[:200]:
        echo(m.line(tz))
    if len(made) > 200:
        echo(_("… and {n} more").format(n=len(made) - 200))
    if not made:
        note(_("Nothing new: every visit the rules call for exists."))
    else:
        from csdesk.i18n import ngettext

        message = (ngettext("Would make {n} visit.", "Would make {n} visits.", len(made)) if dry_run
                   else ngettext("Made {n} visit.", "Made {n} visits.", len(made)))
        note(message.format(n=len(made)))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="callback", help="Callbacks and return visits: schedule, list, show, done, reschedule, cancel, stats, generate.")
