"""csdesk shift hand|take|refuse|review|list|show — the shift handover log (交接班)."""

from typing import Annotated, Optional

import typer

from csdesk.commands.common import JsonOpt, NowOpt, note, out, parse_at, print_json, print_list, state, want_json

app = typer.Typer(no_args_is_help=True)

AtOpt = Annotated[Optional[str], typer.Option("--at", help="When it happened, if not now (back-dated entries): today 19:55, -1h, 2026-11-24 20:05.")]


def _hm(value, tz) -> str:
    from csdesk import dates

    return dates.fmt(value, tz) if value else ""


@app.command("hand")
def hand(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="Who takes the shift over (a staff name).")],
    note_: Annotated[Optional[str], typer.Option("--note", help="How the shift went and what the next shift must know.")] = None,
    check: Annotated[Optional[list[str]], typer.Option("--check", help="A checklist answer, once per item of the settings: ITEM=ok or ITEM=no, a note after a colon (设备正常=ok, 工单已派=否:还有两张).")] = None,
    at: AtOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Hand your shift over: a note, the checklist answered, and your open items of the moment attached.

    Example: csdesk --as 王芳 shift hand --to 刘洋 --note "3号线路有杂音" --check 设备正常=ok --check 工单已派=ok --check 待办已交代=ok
    """
    from csdesk.i18n import _
    from csdesk.workflows.shift import hand_shift

    st = state(ctx)
    when = parse_at(st, at)
    result = st.write(lambda desk: hand_shift(desk, to, note_, check or [], at=when))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    typer.echo(result.id)
    bad = sum(1 for c in result.checks if not c.ok)
    note(_("Handed the shift over to {to}: handover #{id}, {items} open items attached, {bad} checklist items not ok.").format(
        to=result.to_name, id=result.id, items=len(result.items), bad=bad))


@app.command("take")
def take(
    ctx: typer.Context,
    handover_id: Annotated[int, typer.Argument(metavar="ID", help="Handover number.")],
    note_: Annotated[Optional[str], typer.Option("--note", help="What you noted when taking it over.")] = None,
    at: AtOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Take the shift over: sign the handover made to you (read it with shift show ID first).

    Example: csdesk --as 刘洋 shift take 12 --note "已核对待办"
    """
    from csdesk.i18n import _
    from csdesk.workflows.shift import take_shift

    st = state(ctx)
    when = parse_at(st, at)
    result = st.write(lambda desk: take_shift(desk, handover_id, note_, at=when))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    note(_("Took over the shift from {giver}: handover #{id} signed at {at}.").format(
        giver=result.from_name, id=result.id, at=_hm(result.taken_at, st.settings.tz)))


@app.command("refuse")
def refuse(
    ctx: typer.Context,
    handover_id: Annotated[int, typer.Argument(metavar="ID", help="Handover number.")],
    reason: Annotated[str, typer.Option("--reason", help="Why you do not take it over (your supervisor is told).")],
    at: AtOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Refuse a handover made to you, with the reason; the reminder run refers it to your supervisor.

    Example: csdesk --as 刘洋 shift refuse 12 --reason "投诉 #8 未说明进展"
    """
    from csdesk.i18n import _
    from csdesk.workflows.shift import refuse_shift

    st = state(ctx)
    when = parse_at(st, at)
    result = st.write(lambda desk: refuse_shift(desk, handover_id, reason, at=when))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    note(_("Refused handover #{id} from {giver}; the next reminder run tells your supervisor.").format(
        id=result.id, giver=result.from_name))


@app.command("review")
def review(
    ctx: typer.Context,
    day: Annotated[str, typer.Argument(metavar="DATE", help="The day to sign off: 2026-11-24, today, yesterday, 昨天.")],
    json_: JsonOpt = False,
) -> None:
    """Sign off a day's handover log (a supervisor or above); refused while a handover of that day still waits to be taken.

    Example: csdesk --as 李娜 shift review yesterday
    """
    from csdesk import dates
    from csdesk.i18n import _
    from csdesk.workflows.shift import review_day

    st = state(ctx)
    the_day = dates.parse_date(day, tz=st.settings.tz)
    result = st.write(lambda desk: review_day(desk, the_day))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    note(_("Reviewed {day}: {n} handovers signed off ({taken} taken, {refused} refused, {late} late).").format(
        day=result.day, n=len(result.reviewed), taken=result.taken, refused=result.refused, late=result.late))


@app.command("list")
def list_(
    ctx: typer.Context,
    day: Annotated[Optional[str], typer.Option("--date", help="Only the handovers made on this day (today, yesterday, 2026-11-24).")] = None,
    pending: Annotated[bool, typer.Option("--pending", help="Only those still waiting to be taken.")] = False,
    person: Annotated[Optional[str], typer.Option("--person", help="Only those handed by or to this person.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows (the count of all is on stderr).")] = 50,
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List shift handovers, newest first.

    Example: csdesk shift list --date today --pending
    """
    from rich.text import Text

    from csdesk import dates
    from csdesk.commands.common import cut_note, table
    from csdesk.i18n import _
    from csdesk.workflows.shift import list_handovers

    st = state(ctx)
    tz = st.settings.tz
    the_day = dates.parse_date(day, tz=tz) if day else None
    result = st.read(lambda desk: list_handovers(desk, the_day, pending, person, limit), now=st.now(now) if now else None)
    if want_json(ctx, json_):
        print_list(ctx, result.rows, result.total)
        return
    if not result.rows:
        note(_("No handovers."))
        return
    t = table("#", _("Time"), _("Handed by"), _("To"), _("Status"), _("Checks"), _("Items"), _("Reviewed"), _("Note"),
              text=(_("Note"),), optional=(_("Note"), _("Reviewed")))
    for r in result.rows:
        status = Text(r.status_label + (" " + _("late") if r.late else ""), style="bold red" if r.late else "")
        checks = f"{r.checks_ok}/{r.checks_total}" if r.checks_total else "-"
        t.add_row(str(r.id), dates.to_local(r.at, tz).strftime("%m-%d %H:%M"), Text(r.from_name), Text(r.to_name), status,
                  checks, str(r.items), _("yes") if r.reviewed else "", Text(" ".join((r.note or "").split())))
    out().print(t)
    cut_note(len(result.rows), result.total)


@app.command("show")
def show(
    ctx: typer.Context,
    handover_id: Annotated[int, typer.Argument(metavar="ID", help="Handover number.")],
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """One handover: who, when, the note, the checklist, the open items of the moment, who signed and reviewed.

    Example: csdesk shift show 12
    """
    from rich.text import Text

    from csdesk.commands.common import heading, table
    from csdesk.i18n import _
    from csdesk.workflows.shift import handover_detail

    st = state(ctx)
    d = st.read(lambda desk: handover_detail(desk, handover_id), now=st.now(now) if now else None)
    if want_json(ctx, json_):
        print_json(ctx, d)
        return
    tz = st.settings.tz
    console = out()
    console.print(heading(_("Handover #{id}").format(id=d.id), "  " + _("{giver} → {taker}").format(giver=d.from_name, taker=d.to_name)))
    lines = [
        (_("Status"), d.status_label + (" " + _("late") if d.late else "")),
        (_("Handed over"), _hm(d.at, tz)),
        (_("Shift"), f"{_hm(d.shift_start, tz)} – {_hm(d.shift_end, tz)}"),
        (_("Next shift ends"), _hm(d.next_end, tz)),
        (_("Note"), d.note or ""),
    ]
    if d.taken_at:
        lines.append((_("Taken"), _hm(d.taken_at, tz) + (f"  {d.taker_note}" if d.taker_note else "")))
    if d.refused_at:
        lines.append((_("Refused"), f"{_hm(d.refused_at, tz)}  {d.refuse_reason or ''}"))
    if d.reviewed_at:
        lines.append((_("Reviewed"), f"{_hm(d.reviewed_at, tz)}  {d.reviewed_by or ''}"))
    for label, value in lines:
        console.print(Text.assemble((f"{label}: ", "bold"), value))
    if d.checks:
        t = table(_("Checklist"), _("OK"), _("Note"), text=(_("Note"),))
        for c in d.checks:
            t.add_row(Text(c.item), _("ok") if c.ok else Text(_("not ok"), style="bold red"), Text(c.note or ""))
        console.print(t)
    console.print(Text(_("Open items at the handover ({n})").format(n=len(d.items)), style="bold"))
    if d.items:
        t = table(_("Kind"), "#", _("Due"), _("What"), text=(_("What"),))
        for i in d.items:
            t.add_row(i.kind_label, str(i.ref_id), _hm(i.due_at, tz), Text(i.text))
        console.print(t)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="shift", help="Shift handovers (交接班): hand over, take or refuse, review the day.")
