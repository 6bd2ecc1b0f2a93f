"""csdesk staff add|list|deactivate."""

from __future__ import annotations

from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, note, out, print_json, state, table, want_json

app = typer.Typer(no_args_is_help=True)


def _render(ctx, rows, json_: bool) -> None:
    if want_json(ctx, json_):
        print_json(ctx, rows)
        return
    t = table("name", "role", "reports to", "email", "active")
    for s in rows:
        t.add_row(s.name, f"{s.role} {s.role_label}", s.reports_to or "", s.email or "", "yes" if s.active else "no")
    out().print(t)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Full name, as colleagues know it.")],
    role: Annotated[str, typer.Option("--role", help="specialist | supervisor | manager | director")],
    reports_to: Annotated[str | None, typer.Option("--reports-to", help="Name of their superior (escalations go there).")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a staff member. The first one needs nobody acting; after that, --as someone of that role or above.

    Example: csdesk --as 李主管 staff add 王芳 --role specialist --reports-to 李主管
    """
    from csdesk.workflows.staff import add_staff

    info = state(ctx).write(lambda desk: add_staff(desk, name, role, reports_to, email))
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        note(f"Added {info.name} ({info.role} {info.role_label}).")


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
def deactivate(ctx: typer.Context, name: Annotated[str, typer.Argument()], json_: JsonOpt = False) -> None:
    """Deactivate someone who left; refused while they still own open work.

    Example: csdesk --as 李主管 staff deactivate 王芳
    """
    from csdesk.workflows.staff import deactivate_staff

    info = state(ctx).write(lambda desk: deactivate_staff(desk, name))
    if want_json(ctx, json_):
        print_json(ctx, info)
    else:
        note(f"Deactivated {info.name}.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="staff", help="Staff: add, list, deactivate.")
