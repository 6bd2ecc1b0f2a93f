"""What every command shares: the global state, running a workflow in a transaction, and output."""

import json
import os
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Callable, TypeVar

import typer

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
NowOpt = Annotated[str | None, typer.Option("--now", help="Act as if it were this time (back-dated work, tests).")]


class State:
    """Global options (`csdesk [--db] [--as] [--json] COMMAND`), and lazily the database and settings."""

    def __init__(self, db: str | None = None, acting: str | None = None, json_output: bool = False):
        self.db_option = db
        self.acting = acting
        self.json = json_output
        self._database = None
        self._settings = None
        self._clock_reads: list[datetime] = []  # what now() returned without --now (re-read under the lock)

    @property
    def database(self):
        if self._database is None:
            from csdesk.db import Database, file_mode, resolve

            file_mode()  # a bad CSDESK_DB_MODE is refused by every command, not only by the one creating a file
            self._database = Database(resolve(self.db_option))
        return self._database

    @property
    def settings(self):
        if self._settings is None:
            from csdesk import config

            self._settings = config.load(self.database.target.path)
        return self._settings

    def acting_name(self) -> str | None:
        return self.acting or os.environ.get("CSDESK_AGENT") or self.settings["agent"] or None

    def now(self, now_text: str | None = None, write: bool = False) -> datetime:
        """The command's time: --now if given (`write`: never in the future), else the clock."""
        from csdesk import dates

        if now_text:
            value = dates.parse_when(now_text, tz=self.settings.tz)
            return dates.refuse_future(value, self.settings.tz) if write else value
        value = dates.now()
        self._clock_reads.append(value)
        return value

    def _desk(self, session, now: datetime | None):
        from csdesk.workflows import Desk
        from csdesk.workflows.identity import resolve_acting

        # Once logins are bound, the login decides who acts (csdesk/workflows/identity.py).
        actor = resolve_acting(session, self.acting or os.environ.get("CSDESK_AGENT"), self.settings["agent"])
        return Desk(session=session, settings=self.settings, now=now or self.now(), actor=actor)

    def write(self, fn: Callable[[Any], T], now: datetime | None = None) -> T:
        """Run fn(desk) in one write transaction (with its audit rows), on an existing database.

        The desk's time is --now (`now`, refused in the future), else the clock read once the write
        lock is held — a `now` that is only an earlier reading of the clock is read again then.
        """
        from csdesk import dates

        self.database.require()
        if now is not None and any(now is read for read in self._clock_reads):
            now = None
        elif now is not None:
            dates.refuse_future(now, self.settings.tz)
        return self.database.write(lambda session: fn(self._desk(session, now)))

    def read(self, fn: Callable[[Any], T], now: datetime | None = None, shareable: bool = False) -> T:
        """Run fn(desk) in one read transaction (`shareable`: see Database.read)."""
        self.database.require()
        return self.database.read(lambda session: fn(self._desk(session, now)), shareable=shareable)


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = State()
    return root.obj


def parse_at(st: State, text: str | None) -> datetime | None:
    """`--at` (when it happened): a time now or in the past, in the configured zone; None when not given
    (the workflow then takes now). The one parser of --at for every command that takes it."""
    if not text:
        return None
    from csdesk import dates

    return dates.parse_when(text, tz=st.settings.tz, future=False)


def want_json(ctx: typer.Context, local: bool) -> bool:
    return local or state(ctx).json


def to_plain(value: Any, tz) -> Any:
    """Dataclasses, datetimes and Decimals made JSON-ready: times as ISO 8601 with their offset."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_plain(v, tz) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_plain(v, tz) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, tz) for v in value]
    if isinstance(value, datetime):
        from csdesk.dates import iso

        return iso(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def print_json(ctx: typer.Context, value: Any) -> None:
    from csdesk.text import json_safe

    data = to_plain(value, state(ctx).settings.tz)
    sys.stdout.write(json_safe(json.dumps(data, ensure_ascii=False, indent=2)) + "\n")


def out():
    """The stdout console (data). Markup, emoji codes and highlighting are off, and every string it
    renders has its control characters made visible (`csdesk.text.visible`): text from people and the
    database is shown as typed, never as styling, links or terminal control. csdesk's own styling is
    given as `style=` or `rich.text.Text` (see `heading`), never as `[bold]` inside an f-string."""
    import sys

    # Piped into a file or cron's log, lines should not be cut at 80 columns.
    wide = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    if WIDE:
        wide = 1000
    return _data_console_class()(highlight=False, soft_wrap=False, width=wide)


_DATA_CONSOLE = None


def _data_console_class():
    global _DATA_CONSOLE
    if _DATA_CONSOLE is not None:
        return _DATA_CONSOLE
    from rich.console import Console, RenderHook
    from rich.segment import Segment

    from csdesk.text import unsafe, visible

    class Visible:
        """The last guard: a segment about to be written holds no control character (a `Text` built
        from data, or a renderable that does not go through render_str)."""

        def __init__(self, renderable):
            self.renderable = renderable

        def __rich_console__(self, console, options):
            for seg in console.render(self.renderable, options):
                yield seg if seg.control or not unsafe(seg.text) else Segment(visible(seg.text), seg.style)

    class ShowControls(RenderHook):
        def __init__(self, console):
            self.console = console

        def process_renderables(self, renderables):
            return [Visible(fit(r, self.console)) for r in renderables]

    class DataConsole(Console):
        def __init__(self, **kwargs):
            kwargs.setdefault("markup", False)
            kwargs.setdefault("emoji", False)
            super().__init__(**kwargs)
            # One command, one size: the terminal is asked once, not at every measurement (a card asked
            # it ~1,200 times).
            size = self.size
            if self._width is None:
                self._width = size.width + self.legacy_windows
            self._height = size.height
            self.push_render_hook(ShowControls(self))

        def render_str(self, text, **kwargs):
            # Every str cell, title, header and printed line: visible before it is measured and laid out.
            return super().render_str(visible(text), **kwargs)

    _DATA_CONSOLE = DataConsole
    return DataConsole


WIDE = False  # `--wide` on a command: tables at their full width, nothing left out or shortened
_TEXT_MIN = 8  # a free-text column keeps at least this many cells (or its whole text, if shorter)


def fit(renderable, console):
    """A table from `table()` made to fit the console's width, before Rich lays it out: the columns
    marked optional are left out (the first listed first) until every other column fits whole, then the
    free-text columns share what is left and end in `…`. Ids, codes, phones, amounts and times are never
    cut. What was left out is named on stderr, with `--wide`/`--json` to see it. Anything else: as is."""
    optional = getattr(renderable, "csdesk_optional", None)
    if optional is None or WIDE or console.width >= 1000:
        return renderable
    t = renderable
    if getattr(t, "csdesk_fitted", False):
        return t
    t.csdesk_fitted = True
    # Free text: declared, or a column the caller already set to end in … (it has found its own width).
    text = set(t.csdesk_text) | {c.header for c in t.columns if c.overflow == "ellipsis"}

    def natural(col) -> int:
        widths = [console.measure(col.header).maximum if col.header else 0]
        widths += [console.measure(cell).maximum for cell in col._cells]
        return max(widths)

    sizes = {id(c): natural(c) for c in t.columns}

    def need() -> int:
        return t._extra_width + sum(min(sizes[id(c)], _TEXT_MIN) if c.header in text else sizes[id(c)] for c in t.columns)

    dropped = []
    for header in optional:
        if need() <= console.width:
            break
        for col in list(t.columns):
            if col.header == header:
                t.columns.remove(col)
                dropped.append(str(header))
    # Still too wide (a table that declares too little as optional): rather than let Rich crop every
    # column, leave out whole columns from the right, never the first one (the row's id) — and say so.
    while need() > console.width and len(t.columns) > 1:
        candidates = [c for c in t.columns[1:] if c.header not in text] or t.columns[1:]
        col = candidates[-1]
        t.columns.remove(col)
        dropped.append(str(col.header))
    fixed = t._extra_width + sum(sizes[id(c)] for c in t.columns if c.header not in text)
    free = [c for c in t.columns if c.header in text]
    room = console.width - fixed
    wanted = sum(sizes[id(c)] for c in free)
    if free and wanted > room:
        # Each free-text column keeps its minimum; what room is left goes in proportion to the text.
        least = {id(c): min(sizes[id(c)], _TEXT_MIN) for c in free}
        spare = max(room - sum(least.values()), 0)
        extra = sum(sizes[id(c)] - least[id(c)] for c in free) or 1
        for col in free:
            share = least[id(col)] + spare * (sizes[id(col)] - least[id(col)]) // extra
            col.max_width, col.min_width, col.no_wrap, col.overflow = share, None, True, "ellipsis"
    if dropped:
        from csdesk.i18n import _, is_english

        note(_("Left out to fit {width} columns: {columns}; --wide or --json shows everything.").format(
            width=console.width, columns=(", " if is_english() else "、").join(dropped)))
    return t


def heading(bold: str, rest: str = ""):
    """A line with a bold start (`C000123 王芳  VIP`), built as Text: the values in it stay data."""
    from rich.text import Text

    from csdesk.text import visible

    return Text.assemble((visible(bold), "bold"), visible(rest))


def note(message: str) -> None:
    """A message for the person (stderr), never mixed into data on stdout; control characters visible."""
    from csdesk.text import visible

    typer.echo(visible(message), err=True)


def echo(line: Any) -> None:
    """A plain line of data on stdout (an id, a timeline line), control characters visible."""
    from csdesk.text import visible

    typer.echo(visible(line))


WRAPPING = {"summary", "change", "notes", "address", "company", "item", "reason", "name", "customer", "message", "note"}


def table(*columns: str, title: str | None = None, text: tuple[str, ...] = (), optional: tuple[str, ...] = ()):
    """A terminal table: short columns never wrap or get cut (ids, codes, times, phones, amounts).

    `text`: the headers of free-text columns (summary, note…), shortened with … when space is short.
    `optional`: headers of columns that may be left out when the table does not fit the terminal, the
    first listed going first; a line under the table then names them and points to `--wide`/`--json`.
    """
    from rich import box
    from rich.table import Column, Table

    # Free text: as declared; a table that declares none falls back to the English names in WRAPPING.
    free = set(text) if text else {c for c in columns if c in WRAPPING}
    cols = [Column(c, no_wrap=c not in free, overflow="fold") for c in columns]
    # One space between columns (no padding besides the box's own): a nine-column call list then
    # fits an 80-column terminal; with more, Rich would crop ids, times and phones to fit.
    t = Table(*cols, title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, padding=(0, 0))
    t.csdesk_text, t.csdesk_optional = tuple(free), tuple(optional)
    return t


def print_list(ctx: typer.Context, items: list, total: int | None = None) -> None:
    # The one JSON shape of every list command: {"items": [...], "total": N} (N: all that match,
    # however many --limit let through).
    print_json(ctx, {"items": items, "total": len(items) if total is None else total})


def cut_note(shown: int, total: int) -> None:
    """Under a list cut by --limit, on stderr: "显示 50 / 共 926 条" (nothing when all are shown)."""
    if total > shown:
        from csdesk.i18n import _

        note(_("Showing {shown} of {total}; use --limit to see more.").format(shown=shown, total=total))
