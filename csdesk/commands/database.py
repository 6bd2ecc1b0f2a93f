"""csdesk init, db upgrade, db check, db backup, db copy, db archive, db archives."""

from pathlib import Path
from typing import Annotated

import typer

from csdesk.commands.common import JsonOpt, NowOpt, note, print_json, state, want_json
from csdesk.i18n import N_, _

app = typer.Typer(help="The database: upgrade, check, backup, copy, archive.", no_args_is_help=True)


def init(ctx: typer.Context) -> None:
    """Create the database (schema from the migrations).

    Example: csdesk --db ~/desk.db init
    """
    from csdesk.migrations import upgrade

    from csdesk.db import refuse_newer

    st = state(ctx)
    database = st.database
    if database.exists() and database.schema_version() is not None:
        refuse_newer(database.schema_version())
        note(_("{database} is already a csdesk database (schema {schema}); nothing done.").format(
            database=database.target.label, schema=database.schema_version()))
        note(_("Use `csdesk db upgrade` to bring an older one to the current schema."))
        return
    database.create_file()
    _before, after = upgrade(database.engine)
    note(_("Created {database} (schema {schema}).").format(database=database.target.label, schema=after))
    note(_("Next: csdesk staff add YOUR-NAME --role supervisor"))


@app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database to the current schema (back it up first).

    Example: csdesk db backup before-upgrade.db && csdesk db upgrade
    """
    from csdesk.db import refuse_newer
    from csdesk.errors import DatabaseMissing
    from csdesk.migrations import upgrade

    database = state(ctx).database
    if not database.exists():
        raise DatabaseMissing(_("no database at {label}").format(label=database.target.label),
                              hint=_("create it with: csdesk init"))
    refuse_newer(database.schema_version())
    before, after = upgrade(database.engine)
    if before == after:
        note(_("Schema already current ({schema}).").format(schema=after))
    elif before:
        note(_("Upgraded {database} from {before} to {after}.").format(database=database.target.label, before=before, after=after))
    else:
        note(_("Upgraded the empty {database} to {after}.").format(database=database.target.label, after=after))


@app.command("check")
def db_check(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Run the integrity check, check that every stored value parses, and say whether the schema is current.

    Stored values: every time, date, amount, count, flag, code, phone number and choice is read the way
    csdesk reads it; each row that does not parse is listed (a row edited by hand, say).

    Example: csdesk db check
    """
    from csdesk.commands.staff import identity_line
    from csdesk.db import refuse_newer
    from csdesk.errors import CsdeskError, DatabaseMissing
    from csdesk.migrations import HEAD

    database = state(ctx).database
    if not database.exists():
        raise DatabaseMissing(_("no database at {label}").format(label=database.target.label),
                              hint=_("create it with: csdesk init"))
    version = database.schema_version()
    refuse_newer(version)
    problems = database.integrity()
    bad = []
    if not problems and version is not None:
        from csdesk.workflows.stored_values import bad_values

        bad = [b.line() for b in bad_values(database)]
    result = {"database": database.target.label, "integrity": "ok" if not problems else "failed", "problems": problems,
              "values": "ok" if not bad else "failed", "bad_values": bad,
              "schema": version, "schema_expected": HEAD, "schema_current": version == HEAD}
    if want_json(ctx, json_):
        print_json(ctx, result)
    else:
        from csdesk.commands.common import echo

        echo(_("database: {database}").format(database=result["database"]))
        echo(_("integrity: ok") if not problems else _("integrity: failed"))
        for p in problems:
            echo(f"  {p}")
        echo(_("values: not checked") if problems or version is None else
             _("values: ok") if not bad else _("values: failed"))
        for line in bad:
            echo(f"  {line}")
        echo(_("schema: {schema} (current)").format(schema=version) if version == HEAD else
             _("schema: {schema} (needs upgrade to {head}: csdesk db upgrade)").format(schema=version, head=HEAD))
        if identities := identity_line(state(ctx)):  # who may act as whom (csdesk/workflows/identity.py)
            echo(_("identities: {identities}").format(identities=identities))
    if problems:
        raise CsdeskError(_("integrity check failed"))
    if bad:
        raise CsdeskError(_("{count} stored values do not parse").format(count=len(bad)),
                          hint=_("correct or remove those rows; until then commands that read them fail, and remind run skips them"))
    if version != HEAD:
        raise CsdeskError(_("schema {schema} is not current ({head})").format(schema=version, head=HEAD), hint="csdesk db upgrade")
    from csdesk.commands.complaint import warn_calendar

    warn_calendar(state(ctx))  # on stderr: a year in use without its make-up workdays


@app.command("backup")
def db_backup(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="The new backup file.")]) -> None:
    """Write a consistent copy with SQLite's online backup API, even while others are writing.

    The copy is written under a temporary name beside FILE and gets its name only once SQLite's
    integrity check and a schema check pass on it: FILE is either a whole, checked backup or absent.
    Works on a database of any csdesk schema (back up before `db upgrade`).

    Example: csdesk db backup ~/backups/desk-$(date +%F).db
    """
    database = state(ctx).database
    database.require(any_schema=True)
    pages = database.backup(file)
    note(_("Backed up {database} to {file} ({pages} pages).").format(
        database=database.target.label, file=file.expanduser().resolve(), pages=pages))


@app.command("copy")
def db_copy(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="The empty database to fill: a PostgreSQL URL (or a new SQLite file).", metavar="URL")],
    batch: Annotated[int, typer.Option("--batch", help="Rows per insert.")] = 2000,
    json_: JsonOpt = False,
) -> None:
    """Copy this whole database into an EMPTY one (e.g. SQLite → PostgreSQL), verified by row counts and money totals.

    The target is migrated to the current schema first; a target holding any rows is refused. The copy
    is one transaction: if anything fails, the target stays empty.

    Example: csdesk --db ~/desk.db db copy --to postgresql+psycopg://desk@dbserver/csdesk
    """
    from csdesk.db import Database, resolve
    from csdesk.workflows.dbcopy import copy_database

    st = state(ctx)
    source = st.database
    target = Database(resolve(to))
    if want_json(ctx, json_):
        result = copy_database(source, target, batch=batch)
    else:
        from rich.console import Console
        from rich.progress import Progress

        progress = Progress(transient=True, console=Console(stderr=True))
        tasks: dict[str, object] = {}

        def report(name: str, done: int, total: int) -> None:
            if not tasks:
                progress.start()  # only once the copy itself begins, not for a refusal
            if name not in tasks:
                tasks[name] = progress.add_task(_table_label(name), total=max(total, 1))
            progress.update(tasks[name], completed=done)

        try:
            result = copy_database(source, target, batch=batch, progress=report)
        finally:
            if tasks:
                progress.stop()
    if want_json(ctx, json_):
        print_json(ctx, result)
        return
    from csdesk.commands.common import out, table

    from csdesk.workflows.archive import table_label

    t = table(_("Table"), _("Rows"), _("Money (fen)"), text=(_("Money (fen)"),))
    for tc in result.tables:
        t.add_row(table_label(tc.table), str(tc.rows), ", ".join(f"{k} {v}" for k, v in tc.totals_fen.items()))
    out().print(t)
    note(_("Copied {rows} rows in {tables} tables from {source} to {target} (schema {schema}); row counts and money totals match.").format(
        rows=result.rows, tables=len(result.tables), source=result.source, target=result.target, schema=result.schema))
    note(_("Next: point every agent's --db / CSDESK_DB at {target}, and keep {source} as a backup.").format(
        target=result.target, source=result.source))


@app.command("archive")
def db_archive(
    ctx: typer.Context,
    before: Annotated[str, typer.Option("--before", help="The cut-off: finished work before this local date moves (e.g. 2026-07-01).", metavar="DATE")],
    to: Annotated[Path, typer.Option("--to", help="The new archive file (SQLite), e.g. archive-2026H1.db.", metavar="FILE", dir_okay=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would move; write nothing.")] = False,
    vacuum: Annotated[bool, typer.Option("--vacuum", help="Afterwards, VACUUM the live SQLite file so that it shrinks on disk.")] = False,
    json_: JsonOpt = False,
    now: NowOpt = None,
) -> None:
    """Move finished work older than --before into a new archive file (归档; manager or above).

    Calls, closed complaints with their timelines, finished callbacks and series, settled projects with
    their adjustments, instalments, payments and dunning, and the notices and audit rows of all of it.
    Open work and everything it still refers to stays. The file is written and verified first; then the
    rows leave the live database in one transaction. Read the archive with --db FILE (it refuses writes).

    Example: csdesk --as 张强 db archive --before 2026-07-01 --to ~/archives/archive-2026H1.db
    """
    from csdesk import dates
    from csdesk.workflows.archive import archive_database

    st = state(ctx)
    when = st.now(now)
    day = dates.parse_date(before, tz=st.settings.tz, at=when)
    use_json = want_json(ctx, json_)
    progress, tasks = None, {}
    if not use_json and not dry_run:
        from rich.console import Console
        from rich.progress import Progress

        bar = Progress(transient=True, console=Console(stderr=True))

        def progress(name: str, done: int, total: int) -> None:
            if not tasks:
                bar.start()
            if name not in tasks:
                tasks[name] = bar.add_task(_table_label(name), total=max(total, 1))
            bar.update(tasks[name], completed=done)
    try:
        result = archive_database(st.database, st.settings, st.acting_name(), day, to, when, dry_run=dry_run,
                                  vacuum=vacuum, progress=progress)
    finally:
        if tasks:
            bar.stop()
    if use_json:
        print_json(ctx, result)
        return
    from csdesk.commands.common import out, table

    from csdesk.workflows.archive import table_label

    t = table(_("Table"), _("Rows"))
    for name, count in result.counts.items():
        t.add_row(table_label(name), str(count))
    out().print(t)
    copies = _(", ").join(f"{table_label(k)} {n}" for k, n in result.references.items() if n)
    if result.dry_run:
        note(_("Dry run: {rows} rows finished before {before} would move to {file} (with reference copies of {copies}); nothing was written.").format(
            rows=result.rows, before=result.before, file=result.file, copies=copies or "-"))
        return
    note(_("Archived {rows} rows finished before {before} to {file} ({size} bytes, sha256 {sha}…); row counts, money totals and integrity verified.").format(
        rows=result.rows, before=result.before, file=result.file, size=result.size_bytes, sha=result.sha256[:12]))
    if result.vacuumed:
        note(_("Live database: {before} bytes before, {after} after VACUUM.").format(
            before=result.live_bytes_before, after=result.live_bytes_after))
    else:
        note(_("The live file shrinks on disk after VACUUM: csdesk db archive … --vacuum next time, or sqlite3 FILE 'VACUUM' when nobody works."))
    note(_("Read it with: csdesk --db {file} report annual …").format(file=result.file))


@app.command("archives")
def db_archives(
    ctx: typer.Context,
    check: Annotated[bool, typer.Option("--check", help="Also compare each file's SHA-256 with the one recorded.")] = False,
    json_: JsonOpt = False,
) -> None:
    """List the archives made from this database: file, period, rows, checksum.

    Example: csdesk db archives --check
    """
    from datetime import timedelta

    from csdesk import dates
    from csdesk.workflows.archive import finish_pending, list_archives

    st = state(ctx)
    st.database.require()
    finish_pending(st.database)
    rows = st.read(lambda desk: list_archives(desk, check=check))
    if want_json(ctx, json_):
        from csdesk.commands.common import print_list

        print_list(ctx, rows, len(rows))
        return
    from rich.text import Text

    from csdesk.commands.common import out, table

    from csdesk.workflows.archive import table_label

    tz = st.settings.tz
    t = table("#", _("File"), _("Period"), _("Rows"), "sha256", _("Made"), _("State"), text=(_("File"),), optional=(_("Made"), "sha256"))
    for a in rows:
        first = dates.to_local(a.first_at, tz).date().isoformat() if a.first_at else "…"
        last = (a.before - timedelta(days=1)).isoformat()
        state_ = ARCHIVE_STATES["missing" if not a.present else ("ok" if a.intact else "changed" if a.intact is False else "present")]
        t.add_row(str(a.id), Text(a.file), f"{first} ~ {last}", str(a.rows), a.sha256[:12],
                  f"{dates.fmt(a.created_at, tz)} {a.created_by or ''}".strip(),
                  Text(_(state_), style="bold red" if a.intact is False or not a.present else ""))
    if not rows:
        note(_("No archives yet: csdesk db archive --before DATE --to FILE makes one."))
        return
    console = out()
    console.print(t)
    for a in rows:
        counts = _(", ").join(f"{table_label(name)} {n}" for name, n in a.counts.items() if n)
        console.print(Text(_("#{id} rows: {counts}").format(id=a.id, counts=counts)))
        console.print(Text(f"#{a.id} sha256: {a.sha256}"))


def _table_label(name: str) -> str:
    from csdesk.workflows.archive import table_label

    return table_label(name)


ARCHIVE_STATES = {"missing": N_("MISSING"), "ok": N_("ok"), "changed": N_("CHANGED"), "present": N_("present")}


def register(root: typer.Typer) -> None:
    root.command("init")(init)
    root.add_typer(app, name="db")
