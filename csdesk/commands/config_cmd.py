"""csdesk config show."""

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
    if isinstance(value, dict):  # a TOML inline table, as it would be written in the file
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _toml_key(key: str) -> str:
    import re

    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


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
    from csdesk.commands.common import echo
    from csdesk.config import describe
    from csdesk.i18n import _

    # TOML a person can paste into the settings file: the keys as they are written there, the words
    # about them (comments) in the interface language.
    echo(_("# from {file}").format(file=settings.source) if settings.source else _("# no settings file: all defaults"))
    if identities := identity_line(state(ctx)):  # who may act as whom (csdesk/workflows/identity.py)
        echo(_("# identities {identities}").format(identities=identities))

    def key_lines(path: str, key: str, value) -> None:
        if words := describe(path):
            echo(f"# {words}")
        echo(f"{key} = {_toml_value(value)}")

    for key, value in data.items():
        if not isinstance(value, dict):
            key_lines(key, key, value)
    for section, values in data.items():
        if isinstance(values, dict):
            echo("")
            if words := describe(section):
                echo(f"# {words}")
            echo(f"[{section}]")
            for key, value in values.items():
                key_lines(f"{section}.{key}", key, value)

def register(root: typer.Typer) -> None:
    root.add_typer(app, name="config", help="Settings: show the effective configuration.")
