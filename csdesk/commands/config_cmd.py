"""csdesk config show."""

from __future__ import annotations

import typer

from csdesk.commands.common import JsonOpt, print_json, state, want_json
from csdesk.commands.staff import identity_line

app = typer.Typer(no_args_is_help=True)


def _toml_value(value) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


@app.command("show")
def show(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Print the effective settings: the config file's values over the documented defaults (secrets hidden).

    Example: csdesk config show
    """
    from csdesk.commands.complaint import warn_calendar

    settings = state(ctx).settings
    data = settings.public()
    warn_calendar(state(ctx))  # on stderr: a year in use without its make-up workdays
    if want_json(ctx, json_):
        print_json(ctx, {"source": str(settings.source) if settings.source else None, "settings": data})
        return
    typer.echo(f"# from {settings.source}" if settings.source else "# no config file: all defaults")
    if identities := identity_line(state(ctx)):  # who may act as whom (csdesk/workflows/identity.py)
        typer.echo(f"# identities {identities}")
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for key, value in scalars.items():
        typer.echo(f"{key} = {_toml_value(value)}")
    for section, values in data.items():
        if isinstance(values, dict):
            typer.echo(f"\n[{section}]")
            for key, value in values.items():
                typer.echo(f"{key} = {_toml_value(value)}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="config", help="Settings: show the effective configuration.")
