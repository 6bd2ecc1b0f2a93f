"""csdesk today: the person's work for today on one screen."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, NowOpt, out, print_json, state, want_json


def today(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows in each part (the counts cover all).")] = 10,
    now: NowOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Your work for today: complaints by next deadline, callbacks due or overdue, adjustments and instalments of your projects that are due; a supervisor also sees the team.

    Example: csdesk --as 李娜 today
    """
    from csdesk.workflows.today import todays_work

    st = state(ctx)
    work = st.read(lambda desk: todays_work(desk, limit), now=st.now(now) if now else None)
    if want_json(ctx, json_):
        print_json(ctx, work)
        return
    _render(st, work)


def _render(st, work) -> None:
    from datetime import timedelta

    from rich.text import Text

    from csdesk import dates
    from csdesk.commands.common import table
    from csdesk.i18n import _
    from csdesk.money import fmt_money
    from csdesk.workflows.complaints import fmt_business
    from csdesk.workflows.staff import role_label

    tz = st.settings.tz
    console = out()

    def short(value):
        return dates.to_local(value, tz).strftime("%m-%d %H:%M") if value else ""

    def late(text: str) -> Text:
        return Text(text, style="bold red")

    def data(value) -> Text:  # text from people is shown as text, never as markup
        return Text(str(value) if value is not None else "")

    def heading(title: str, shown: int, total: int, extra: str = "") -> None:
        count = _("{shown} of {total}").format(shown=shown, total=total) if shown < total else str(total)
        console.print(Text(f"{title} ({count}){extra}", style="bold"))

    console.print(Text(_("Today {day} — {name} ({role})").format(
        day=work.day, name=work.person, role=role_label(work.role)), style="bold"))

    if work.handovers:  # a shift handed to me that I have not yet taken or refused comes first
        heading(_("Shift handovers waiting for you"), len(work.handovers), len(work.handovers))
        t = table("#", _("Time"), _("From"), _("Items"), _("Note"), text=(_("Note"),))
        for h in work.handovers:
            t.add_row(str(h.id), late(short(h.at) + " " + _("late")) if h.late else Text(short(h.at)), data(h.from_name),
                      str(h.items), data(" ".join((h.note or "").split())))
        console.print(t)

    heading(_("My complaints"), len(work.complaints), work.complaints_total)
    if work.complaints:
        h = (_("Status"), _("Level"), _("Customer"), _("Next deadline"), _("Left"), _("Summary"))
        t = table("#", *h, text=(h[5],), optional=(h[1], h[0]))
        for row in work.complaints:
            left = ""
            if row.business_left_s is not None:
                text = fmt_business(timedelta(seconds=abs(row.business_left_s)))
                left = late(_("overdue {time}").format(time=text)) if row.business_left_s < 0 else Text(text)
            t.add_row(str(row.id), row.status_label, f"L{row.level} {row.severity_label}", row.customer_code,
                      short(row.next_due), left, data(row.summary))
        console.print(t)

    overdue_calls = sum(1 for c in work.callbacks if c.overdue)
    heading(_("Callbacks due today"), len(work.callbacks), work.callbacks_total,
            _(", {n} overdue").format(n=overdue_calls) if overdue_calls else "")
    if work.callbacks:
        h = (_("Due"), _("Customer"), _("Phone"), _("Purpose"), _("Note"))
        t = table("#", *h, text=(h[4], h[1]), optional=(h[3],))
        for cb in work.callbacks:
            due = late(f"{short(cb.due_at)} " + _("overdue")) if cb.overdue else Text(short(cb.due_at))
            t.add_row(str(cb.id), due, data(f"{cb.customer_code} {cb.customer_name or ''}".strip()), cb.phone or "",
                      cb.purpose_label, data(cb.note or cb.subject or ""))
        console.print(t)

    heading(_("Adjustments due on my projects"), len(work.adjustments), work.adjustments_total)
    if work.adjustments:
        h = (_("Project"), _("Due"), _("Status"), _("Item"))
        t = table("#", *h, text=(h[3],), optional=(h[2],))
        for a in work.adjustments:
            due = a.due_on.strftime("%m-%d") if a.due_on else ""
            t.add_row(str(a.id), a.project_code, late(due + " " + _("overdue")) if a.overdue else Text(due),
                      a.status_label, data(a.item))
        console.print(t)

    heading(_("Instalments due on my projects"), len(work.instalments), work.instalments_total)
    if work.instalments:
        h = (_("Project"), _("Instalment"), _("Outstanding"), _("Due"), _("Customer"))
        t = table(*h, text=(h[4], h[1]), optional=(h[4],))
        for i in work.instalments:
            due = i.due_on.strftime("%m-%d") if i.due_on else ""
            days = _("{days} days overdue").format(days=i.days_overdue) if i.days_overdue > 0 else _("due today")
            t.add_row(i.project_code, data(i.name), fmt_money(i.outstanding), late(f"{due} {days}") if i.days_overdue > 0 else Text(f"{due} {days}"),
                      data(f"{i.customer_code or ''} {i.customer_name or ''}".strip()))
        console.print(t)

    if work.team:
        console.print(Text(_("My team"), style="bold"))
        h = (_("Name"), _("Role"), _("Complaints"), _("Past deadline"), _("Callbacks due"), _("Callbacks overdue"))
        t = table(*h, text=(h[0],), optional=(h[1],))
        for line in work.team:
            t.add_row(data(line.name), role_label(line.role),
                      str(line.complaints), late(str(line.complaints_overdue)) if line.complaints_overdue else "0",
                      str(line.callbacks_due), late(str(line.callbacks_overdue)) if line.callbacks_overdue else "0")
        console.print(t)


def register(root: typer.Typer) -> None:
    root.command("today")(today)
