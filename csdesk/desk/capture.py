"""A text capture of the desk's main screens, drawn by the app itself headless (the README's pictures):

    python -m csdesk.desk.capture --db /tmp/demo.db --as 王芳 --type 1370 --card C000001 [--lang zh] [--size 80x24]

Prints the caller box with what was typed and its matches, the customer card and my queue, one after
the other, each as the terminal would show it (Textual's screenshot read back as text).
"""

from __future__ import annotations

import argparse
import asyncio


def screen_text(app) -> str:
    """The screen on top as text, line by line, as Textual's screenshot draws it (without the colours)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, color_system=None,
                      record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return "\n".join(line.rstrip() for line in console.export_text(styles=False).splitlines())


async def capture(backend, typed: str, code: str, size: tuple[int, int]) -> list[str]:
    from csdesk.desk.app import DeskApp

    app = DeskApp(backend, refresh=3600)
    shots = []
    async with app.run_test(size=size) as pilot:

        async def settle() -> None:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.pause()

        await settle()
        await pilot.press(*typed)
        await settle()
        shots.append(screen_text(app))
        app.open_customer(code)
        await settle()
        shots.append(screen_text(app))
        app.pop_screen()
        await pilot.press("f2")
        await settle()
        shots.append(screen_text(app))
    return shots


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True)
    p.add_argument("--as", dest="who", default="王芳")
    p.add_argument("--type", dest="typed", default="1370", help="what is typed in the caller box")
    p.add_argument("--card", default="C000001", help="the customer whose card is shown")
    p.add_argument("--lang", default="zh")
    p.add_argument("--size", default="80x24")
    args = p.parse_args()

    from csdesk import config, i18n

    i18n.set_language(args.lang)  # before the app's module is imported: its key labels are read then
    from csdesk.db import Database, resolve
    from csdesk.desk.backend import Backend

    database = Database(resolve(args.db))
    width, height = (int(n) for n in args.size.lower().split("x"))
    shots = asyncio.run(capture(Backend(database, config.load(database.target.path), args.who), args.typed, args.card,
                                (width, height)))
    print(("\n" + "─" * width + "\n").join(shots))


if __name__ == "__main__":
    main()
