"""csdesk desk: the full-screen desk for a whole shift."""

from typing import Annotated

import typer

from csdesk.commands.common import state


def desk(
    ctx: typer.Context,
    refresh: Annotated[float | None, typer.Option("--refresh", help="Seconds between refreshes of the screen (default: desk.refresh in the settings, 5).", metavar="SECONDS")] = None,
) -> None:
    """Open the desk: find the caller as you type, their card, your queue and the team board, in one screen.

    Keys are listed at the bottom of each screen; Ctrl+Q quits.

    Example: csdesk --as 王芳 desk
    """
    from csdesk.errors import InvalidValue

    st = state(ctx)
    st.database.require()
    every = refresh if refresh is not None else float(st.settings["desk"]["refresh"])
    if not 1 <= every <= 3600:
        raise InvalidValue("--refresh must be between 1 and 3600 seconds")
    from csdesk.desk.app import run
    from csdesk.desk.backend import Backend

    import os

    backend = Backend(st.database, st.settings, st.acting or os.environ.get("CSDESK_AGENT"), st.settings["agent"])
    backend.who()  # refused here, in one line, when nobody (or an unknown name) is acting
    code = run(backend, every)
    if code:
        raise typer.Exit(code)


def register(root: typer.Typer) -> None:
    root.command("desk")(desk)
