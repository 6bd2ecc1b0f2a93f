"""csdesk staff add|list|deactivate."""

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, note, out, print_json, print_list, state, table, want_json
from csdesk.i18n import N_

app = typer.Typer(no_args_is_help=True)
GRADE_HELP = N_("junior | intermediate | senior (default: intermediate); only intermediate and senior staff may manage key accounts.")


def _render(ctx, rows, json_: bool) -> None:
    from csdesk.i18n import _

    if want_json(ctx, json_):
        print_list(ctx, rows, len(rows))
        return
    headers = (_("Name"), _("Role"), _("Grade"), _("Reports to"), _("Email"), _("Login"), _("Active"))
    t = table(*headers, text=(headers[0],), optional=(headers[5], headers[4], headers[3]))
    for s in rows:
        t.add_row(s.name, s.role_label, s.grade_label, s.reports_to or "", s.email or "", s.login or "", _("yes") if s.active else _("no"))
    out().print(t)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Full name, as colleagues know it.")],
    role: Annotated[str, typer.Option("--role", help="specialist | supervisor | manager | director")],
    reports_to: Annotated[str | None, typer.Option("--reports-to", help="Name of their superior (escalations go there).")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Their email address (for the reminder digests).")] = None,
    login: Annotated[str | None, typer.Option("--login", help="Their operating-system login (PostgreSQL: database role); once anyone has one, csdesk acts as the login's person.")] = None,
    grade: Annotated[str | None, typer.Option("--grade", help=GRADE_HELP)] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a staff member. The first one needs nobody acting; after that, --as someone of that role or above.

    Example: csdesk --as 李主管 staff add 王芳 --role specialist --reports-to 李主管
    """
    from csdesk.workflows.staff import add_staff

    info = state(ctx).write(lambda desk: add_staff(desk, name, role, reports_to, email, login=login, grade=grade))
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        from csdesk.i18n import _

        note(_("Added {name} ({role}).").format(name=info.name, role=info.role_label))


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include inactive staff.")] = False,
    json_: JsonOpt = False,
) -> None:
    """List staff.

    Example: csdesk staff list --all
    """
    from csdesk.workflows.staff import list_staff

    _render(ctx, state(ctx).read(lambda desk: list_staff(desk, all_)), json_)


@app.command("deactivate")
def deactivate(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The staff member's name.")], json_: JsonOpt = False) -> None:
    """Deactivate someone who left; refused while they still own open work.

    Example: csdesk --as 李主管 staff deactivate 王芳
    """
    from csdesk.workflows.handover import deactivate_staff

    info = state(ctx).write(lambda desk: deactivate_staff(desk, name))
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        from csdesk.i18n import _

        note(_("Deactivated {name}.").format(name=info.name))


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The staff member's current name.")],
    role: Annotated[str | None, typer.Option("--role", help="specialist | supervisor | manager | director")] = None,
    reports_to: Annotated[str | None, typer.Option("--reports-to", help="Their superior; '' for none.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="'' clears it.")] = None,
    rename: Annotated[str | None, typer.Option("--rename", help="A new name.")] = None,
    login: Annotated[str | None, typer.Option("--login", help="Bind their OS login (PostgreSQL: database role); '' unbinds.")] = None,
    grade: Annotated[str | None, typer.Option("--grade", help=GRADE_HELP)] = None,
    json_: JsonOpt = False,
) -> None:
    """Change someone's role, superior, email, name or login. You edit people you outrank (directors: anyone);
    anybody may change their own email.

    Example: csdesk --as 张强 staff edit 王芳 --role supervisor --reports-to 张强 --login wangfang
    """
    from csdesk.workflows.staff import edit_staff

    info = state(ctx).write(lambda desk: edit_staff(desk, name, role=role, reports_to=reports_to, email=email, rename=rename, login=login,
                                                                grade=grade))
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        from csdesk.i18n import _

        note(_("Updated {name} ({role}).").format(name=info.name, role=info.role_label))


@app.command("handover")
def handover(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who leaves (or moves on): their open work goes to --to.")],
    to: Annotated[str, typer.Option("--to", help="Who takes it over (active, of a high enough role for the complaints).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would move; change nothing.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Hand everything someone still has open to a colleague, in one go: complaints assigned and owned,
    pending callbacks and visit series, projects owned (with their adjustments), customers managed.

    Example: csdesk --as 李娜 staff handover 王芳 --to 赵敏 --dry-run
    """
    from csdesk.i18n import _
    from csdesk.workflows.handover import WHAT_LABELS, hand_over

    result = state(ctx).write(lambda desk: hand_over(desk, name, to, dry_run=dry_run))
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    what_h, item_h = _("What"), _("Item")
    t = table(what_h, "#", item_h, text=(item_h,))
    for item in result.items:
        t.add_row(_(WHAT_LABELS.get(item.what, item.what)), item.ref, item.text)
    if result.items:
        out().print(t)
    message = (_("Would hand over {n} open items from {name} to {to}.") if dry_run
               else _("Handed over {n} open items from {name} to {to}."))
    note(message.format(n=len(result.items), name=result.name, to=result.to))
    for line in result.left:
        note(_("Still open, not moved: {what}.").format(what=line))


def identity_line(st) -> str | None:
    """'identities are not enforced …' for `config show` and `db check` while no staff member has a login;
    None once they are, or when there is no current database to ask."""
    from csdesk.errors import CsdeskError
    from csdesk.migrations import HEAD

    try:
        if not st.database.exists() or st.database.schema_version() != HEAD:
            return None
        from csdesk.workflows.identity import identity_note

        return st.database.read(identity_note)
    except CsdeskError:
        return None


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="staff", help="Staff: add, list, edit, hand over, deactivate.")
