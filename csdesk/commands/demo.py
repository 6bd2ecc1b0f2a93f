"""csdesk demo."""

from pathlib import Path
from typing import Annotated

import typer

from csdesk.commands.common import state


def demo(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", help="The new demo file (default: csdesk-demo.db here).", metavar="PATH")] = None,
) -> None:
    """Build a realistic sample department in a new file (csdesk-demo.db here, or --db), then show it.

    Never writes into a database that holds real work: an existing file is refused unless it was made
    by `csdesk demo` itself, in which case it is rebuilt.

    Example: csdesk demo && csdesk --db csdesk-demo.db customer list
    """
    from csdesk.workflows.demo import build_demo

    st = state(ctx)
    if db is not None:
        st.db_option = db
    if st.db_option is None:
        st.db_option = str(Path("csdesk-demo.db").resolve())
    summary = build_demo(st.database, st.settings)
    from csdesk.commands.common import echo

    for line in summary:
        echo(line)


def register(root: typer.Typer) -> None:
    root.command("demo")(demo)
