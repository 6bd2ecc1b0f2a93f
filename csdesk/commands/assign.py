"""csdesk assign explain; and `customer list --unmanaged` (key accounts without a qualified manager)."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, note, out, print_json, print_list, state, table, want_json
from csdesk.i18n import _

app = typer.Typer(no_args_is_help=True)


@app.command("explain")
def explain(
    ctx: typer.Context,
    complaint_id: Annotated[int, typer.Argument(metavar="ID", help="Complaint number (or callback number with --callback).")],
    callback: Annotated[bool, typer.Option("--callback", help="ID is a callback, not a complaint.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Show who the assignment rules gave a complaint (or callback) to, by which rule, and who was passed over and why.

    Example: csdesk assign explain 12
    """
    from csdesk.workflows.assignment import explain as explain_decision

    entity = "callback" if callback else "complaint"
    result = state(ctx).read(lambda desk: explain_decision(desk, entity, complaint_id))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    what = _("Complaint #{id}").format(id=result.id) if entity == "complaint" else _("Callback #{id}").format(id=result.id)
    console = out()
    if result.rule is None:
        console.print(_("{what} ({code}) is assigned to {name}; no assignment rule chose it (a visit rule's own choice, "
                        "or made before the rules).").format(what=what, code=result.customer_code, name=result.assignee or "-"))
        return
    console.print(_("{what} ({code}): given to {name} by the rule: {rule}.").format(
        what=what, code=result.customer_code, name=result.chosen or "-", rule=result.rule_label))
    if result.assignee and result.assignee != result.chosen:
        console.print(_("Assigned now to {name} (reassigned or escalated since).").format(name=result.assignee))
    if result.steps:
        t = table(_("rule"), _("candidate"), _("outcome"), _("why"), text=(_("why"),))
        for s in result.steps:
            outcome = _("chosen") if s.outcome == "chosen" else _("skipped")
            t.add_row(s.rule_label, s.candidate or "", outcome, "" if s.outcome == "chosen" and not s.via else s.text)
        console.print(t)


def list_unmanaged(ctx: typer.Context, tier: str | None, search: str | None, limit: int, json_: bool) -> None:
    """`customer list --tier key --unmanaged`: key accounts without an active intermediate or senior manager."""
    from csdesk.errors import InvalidValue
    from csdesk.workflows import check_limit
    from csdesk.workflows.customers import _check_tier
    from csdesk.workflows.grades import unmanaged_key_accounts

    if tier is not None and _check_tier(tier) != "key":
        raise InvalidValue(_("--unmanaged lists key accounts: leave --tier out or give --tier key."))
    if search:
        raise InvalidValue(_("--unmanaged does not take --search."))
    check_limit(limit)
    rows, total = state(ctx).read(lambda desk: unmanaged_key_accounts(desk.session, limit))
    if want_json(ctx, json_):
        print_list(ctx, rows, total)
        return
    if rows:
        t = table(_("code"), _("name"), _("company"), _("manager"), _("grade"), _("why"), text=(_("company"),))
        for r in rows:
            t.add_row(r.code, r.name or "", r.company or "", r.manager or "", r.manager_grade_label or "", r.reason_label)
        out().print(t)
    note(_("{n} key accounts without a qualified manager (active, intermediate or senior).").format(n=total)
         if total else _("Every key account has a qualified manager."))
    from csdesk.commands.common import cut_note

    cut_note(len(rows), total)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="assign", help="Assignment rules: explain who got a complaint and why.")
