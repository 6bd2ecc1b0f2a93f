"""The root command: global options, the one error handler, and the sub-apps mounted on it."""

import gc
from typing import Annotated

# Start-up imports build a few hundred thousand objects (SQLAlchemy, pydantic, typer); the cyclic GC
# would walk them again and again while they load. A command is short: collect rarely.
gc.set_threshold(100_000, 50, 100)

import typer
from typer.core import TyperGroup

from csdesk.commands.common import State


class CsdeskGroup(TyperGroup):
    """Turns every CsdeskError into `Error: …` (+ `Hint: …`) on stderr and exit 1 — never a traceback."""

    def main(self, args=None, *rest, **kwargs):
        """Choose the interface language before anything is shown (help included), from --lang,
        CSDESK_LANG or the settings; Chinese by default."""
        import sys

        from csdesk import i18n

        from csdesk.commands import common

        common.WIDE = False  # per invocation (tests run many in one process)
        i18n.choose(list(sys.argv[1:] if args is None else args))
        i18n.translate_cli(self)
        _add_wide(self)
        return super().main(args, *rest, **kwargs)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as exc:  # noqa: BLE001 — sorted below; anything unknown is re-raised
            from typer._click.exceptions import ClickException

            from csdesk.errors import CsdeskError
            from csdesk.i18n import _
            from csdesk.text import visible

            # Messages often quote what was typed: each line is shown with its control characters
            # visible (ESC as \x1b, a newline as \x0a), so a value can neither drive the terminal
            # nor forge a line of output.
            if isinstance(exc, CsdeskError):
                typer.echo(_("Error: {message}").format(message=visible(exc.message, lines=False)), err=True)
                for line in getattr(exc, "details", None) or []:
                    typer.echo(f"  {visible(line, lines=False)}", err=True)
                if exc.hint:
                    typer.echo(_("Hint: {hint}").format(hint=visible(exc.hint, lines=False)), err=True)
                raise typer.Exit(1) from None
            if type(exc).__module__.startswith("sqlalchemy"):
                orig = getattr(exc, "orig", None) or exc
                first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
                typer.echo(_("Error: database: {problem}").format(problem=visible(first, lines=False)), err=True)
                raise typer.Exit(1) from None
            if isinstance(exc, BrokenPipeError):
                # `csdesk … | head`: the reader has all it wanted; a closed pipe is not an error.
                _silence_stdout()
                raise typer.Exit(0) from None
            if isinstance(exc, (OSError, UnicodeError)):
                typer.echo(_("Error: {message}").format(message=visible(exc, lines=False)), err=True)
                raise typer.Exit(1) from None
            if isinstance(exc, ClickException):
                # Usage errors (exit 2) quote the typed value too ("Invalid value for '--kind': …").
                exc.message = visible(exc.message, lines=False)
            raise


def _add_wide(group) -> None:
    """`--wide` on every command that prints data (those with `--json`): its tables at full width, no
    column left out, no text shortened (`commands/common.py` fit)."""
    import copy

    from csdesk.i18n import _

    def walk(cmd) -> None:
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)
        params = {p.name: p for p in getattr(cmd, "params", [])}
        if "json_" not in params or "wide" in params or cmd.callback is None:
            return
        # A switch like the command's own --json, named --wide (typer's parameters carry typing details
        # that a hand-made click option would lack).
        wide = copy.copy(params["json_"])
        wide.name, wide.opts, wide.secondary_opts = "wide", ["--wide"], []
        wide.help = _("Show tables at full width: no column left out, no text shortened.")
        cmd.params.append(wide)
        inner = cmd.callback

        def callback(*args, wide: bool = False, _inner=inner, **kwargs):
            if wide:
                from csdesk.commands import common

                common.WIDE = True
            return _inner(*args, **kwargs)

        cmd.callback = callback

    walk(group)

def _silence_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone, so that nothing left to flush fails again."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _stdout_is_null() -> bool:
    import os
    import sys

    try:
        here, null = os.fstat(sys.stdout.fileno()), os.stat(os.devnull)
    except (OSError, ValueError, AttributeError):
        return False
    return (here.st_dev, here.st_ino) == (null.st_dev, null.st_ino)


app = typer.Typer(
    cls=CsdeskGroup,
    name="csdesk",
    help="csdesk — the customer-service desk (客服部) in a terminal.\n\nExample: csdesk log-call --phone 13812345678 --kind inquiry --summary '问保修期'",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("csdesk")
        except PackageNotFoundError:
            number = "unknown"
        typer.echo(f"csdesk {number}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", help="SQLite file or database URL (default: CSDESK_DB, else the user data folder).", metavar="PATH|URL")] = None,
    acting: Annotated[str | None, typer.Option("--as", help="Who is acting (a staff name; default: CSDESK_AGENT, else the config file).", metavar="NAME")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="Interface language: zh (Chinese, the default) or en (default: CSDESK_LANG, else lang in the settings).", metavar="zh|en")] = None,
    version: Annotated[bool, typer.Option("--version", help="Show the version of csdesk and exit.", is_eager=True, callback=_show_version)] = False,
) -> None:
    if lang is not None:
        from csdesk.i18n import _, normalise

        if normalise(lang) is None:
            raise typer.BadParameter(_("{value!r} is not a language (use zh or en)").format(value=lang), param_hint="--lang")
    ctx.obj = State(db, acting, json_output)


# Each module in csdesk/commands/ mounts itself with register(app); one line per area, in help order.
COMMAND_MODULES = [
    "database",
    "desk",
    "today",
    "calls",
    "customer",
    "staff",
    "complaint",
    "callback",
    "project",
    "adjust",
    "payment",
    "shift",
    # areas added by later issues go here
    "qa",
    "assign",
    "report",
    "remind",
    "notify_cmd",
    "config_cmd",
    "audit",
    "demo",
]


def _mount() -> None:
    from importlib import import_module

    for name in COMMAND_MODULES:
        import_module(f"csdesk.commands.{name}").register(app)


_mount()

_VALUED_ROOT_OPTIONS = ("--db", "--as", "--lang")


def _named_command(args: list[str]) -> str | None:
    """The root's command named in `args` (after the root's own options), or None (help, nothing, an option)."""
    it = iter(args)
    for arg in it:
        if arg in _VALUED_ROOT_OPTIONS:
            next(it, None)
        elif arg == "--json" or arg.startswith(tuple(o + "=" for o in _VALUED_ROOT_OPTIONS)):
            continue
        else:
            return None if arg.startswith("-") else arg
    return None


def _build_only(name: str | None) -> None:
    """Keep only the command `name` in the root before typer turns the app into click commands: building
    every area's commands costs ~50 ms that one command does not need. Unknown names keep everything, so
    that help and "No such command" (with its suggestions) see them all."""
    from typer.main import get_command_name

    if name is None:
        return
    groups = [g for g in app.registered_groups if g.name == name]
    commands = [c for c in app.registered_commands if (c.name or get_command_name(c.callback.__name__)) == name]
    if groups or commands:
        app.registered_groups, app.registered_commands = groups, commands


_SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def _completion_for_named_shell(argv: list[str]) -> None:
    """`csdesk --show-completion zsh` (or `--install-completion fish`): the shell named, not the one typer
    detects from the parent process — so a script for another shell can be written from this one."""
    import os

    if os.environ.get("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"):
        return  # typer's options then take the shell's name themselves
    for i, arg in enumerate(argv[1:], 1):
        option, _, named = arg.partition("=")
        if option not in ("--show-completion", "--install-completion"):
            continue
        if not named and i + 1 < len(argv) and argv[i + 1] in _SHELLS:
            named = argv.pop(i + 1)
        if named in _SHELLS:
            argv[i] = option
            from typer import _completion_shared, completion

            completion._get_shell_name = _completion_shared._get_shell_name = lambda: named
        return


_LONG_RUNNING = {"desk", "demo", "report", "db", "remind"}  # minutes, or a whole shift: memory matters there


def main() -> None:
    """The `csdesk` command. Leaves through os._exit once the output is flushed: tearing down the
    interpreter (every module and object of SQLAlchemy, pydantic, typer, rich …) would add ~0.1 s to
    every command and has nothing left to do — transactions are committed and connections closed
    (NullPool) before this point, files are written and closed. A crash still raises as usual."""
    import os
    import sys

    _completion_for_named_shell(sys.argv)
    name = _named_command(sys.argv[1:])
    if name not in _LONG_RUNNING:
        # A command of a second or less: no cyclic garbage collection. The collector would walk every
        # object SQLAlchemy, pydantic and the tables just built, several times, to free next to nothing
        # before os._exit below (~20 ms of every command). Long-running commands keep it.
        import gc

        gc.disable()
    _build_only(name)
    was_null = _stdout_is_null()
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
        if code == 1 and (type(sys.stdout).__name__ == "PacifyFlushWrapper" or (not was_null and _stdout_is_null())):
            # A closed pipe (`csdesk report monthly | head -1`): click and rich both exit 1 on it (rich
            # after pointing stdout at /dev/null). The reader had what it wanted: not an error.
            code = 0
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)
