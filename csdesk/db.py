"""Engine, connection pragmas, transactions and URL resolution — the only place that knows SQLite.

A database is named by `--db`, else `CSDESK_DB`, else the platform's user data folder. A value with
`://` is an SQLAlchemy URL (`postgresql+psycopg://user@host/db`); anything else is a SQLite file path.

Writes run in `Database.write()`: on SQLite the transaction starts with `BEGIN IMMEDIATE`, so the
write lock is taken up front and a second writer waits (busy_timeout) instead of failing half way;
on any backend a transaction that lost a race (locked, serialization failure, deadlock) is retried
from the start a few times.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from csdesk.errors import CsdeskError, DatabaseMissing, InvalidValue
from csdesk.i18n import _

T = TypeVar("T")
BUSY_TIMEOUT_MS = 30_000
RETRIES = 8


def default_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("csdesk")) / "csdesk.db"


@dataclass(frozen=True)
class Target:
    """Where the database is: a SQLAlchemy URL, and the file path when it is SQLite."""

    url: str
    path: Path | None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def label(self) -> str:
        if self.path is not None:
            return str(self.path)
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:  # a malformed URL: show its scheme only, never a password
            return self.url.split("://", 1)[0] + "://…"


def expand_path(path: str | Path) -> Path:
    """A typed file name with `~` / `~user` expanded and made absolute; an unknown user is a bad value."""
    try:
        return Path(path).expanduser().resolve()
    except RuntimeError:  # pathlib: "Could not determine home directory."
        from csdesk.errors import InvalidValue

        raise InvalidValue(_("{path!r}: no such user's home folder to expand ~ in").format(path=str(path))) from None


def resolve(option: str | None) -> Target:
    value = option or os.environ.get("CSDESK_DB") or ""
    if "://" in value:
        if value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value[len("postgres://"):]
        elif value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://"):]
        if value.startswith("sqlite:///"):
            return Target(value, expand_path(value[len("sqlite:///"):]))
        return Target(value, None)
    path = expand_path(value) if value else default_path().resolve()
    return Target(f"sqlite:///{path}", path)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would otherwise defer it).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


ARCHIVE_APPLICATION_ID = 0x63736461  # "csda" in the SQLite header of an archive file (workflows/archive.py)


def _sqlite_pragmas_read_only(dbapi_connection, _record) -> None:
    # A read-only file, or an archive, keeps the journal mode it has: switching to WAL would be a write
    # (and would change an archive file, whose checksum is recorded).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


def read_only_file(path: Path | None) -> bool:
    """A SQLite file that this process may read but not write, or whose folder it cannot write (SQLite
    needs the folder for its journal): an archive on a read-only share, a `chattr +i` file, a file of
    another user. Such a file is opened with `mode=ro` and never switched to WAL."""
    if path is None or not path.exists():
        return False
    if not os.access(path, os.W_OK):
        return True
    if os.access(path.parent, os.W_OK):
        return False
    # A folder we cannot write is fine for a WAL file whose -wal and -shm are already there for us.
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    return not (wal.exists() and shm.exists() and os.access(wal, os.W_OK) and os.access(shm, os.W_OK))


def archive_file(path: Path | None) -> bool:
    """A csdesk archive file (its SQLite header carries ARCHIVE_APPLICATION_ID)."""
    try:
        with open(path, "rb") as f:
            header = f.read(72)
    except (OSError, TypeError):
        return False
    return len(header) == 72 and int.from_bytes(header[68:72], "big") == ARCHIVE_APPLICATION_ID


def _read_only_url(path: Path) -> str:
    """`mode=ro`; plus `immutable=1` for a WAL file with nothing in its -wal, whose -shm could not be
    created in a read-only folder (SQLite then cannot read it at all in mode=ro)."""
    from urllib.parse import quote

    uri = f"file:{quote(str(path))}?mode=ro"
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError:
        header = b""
    wal = Path(f"{path}-wal")
    shm = Path(f"{path}-shm")
    if len(header) == 20 and header[18] == 2 and not (wal.exists() and wal.stat().st_size > 0) and not shm.exists():
        uri += "&immutable=1"
    return f"sqlite:///{uri}&uri=true"


def _sqlite_begin(conn) -> None:
    if conn.get_execution_options().get("csdesk_write"):
        _begin_immediate(conn)
    else:
        conn.exec_driver_sql("BEGIN DEFERRED")


def _begin_immediate(conn) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock by asking again every few milliseconds.

    SQLite's own busy handler backs off: a writer that has waited a while asks only every 100 ms,
    one that just arrived every 1-10 ms, so under steady load the newcomers take the lock and the
    long waiters starve (16 writers: p99 wait 2-4 s, the worst ones near the 30 s timeout, where they
    fail). Asking at one steady, jittered rate gives every waiter the same chance at each release
    (same load: p99 0.6 s, max 1.3 s). Up to BUSY_TIMEOUT_MS in all, as before.
    """
    import random

    from sqlalchemy.exc import OperationalError

    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if not _retryable(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(random.uniform(0.002, 0.010))
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


# The PostgreSQL twin of BEGIN IMMEDIATE: every write transaction first takes this advisory lock
# (two int4 keys, a space apart from single-bigint locks such as db.run_lock's), so writers queue
# one behind the other exactly as on SQLite. Workflows written and tested on SQLite ("look, then
# insert") therefore stay correct on PostgreSQL without SERIALIZABLE and its retries.
# READ COMMITTED matters: each statement after the lock sees everything committed before it.
PG_WRITE_LOCK = (0x6373, 0x6B31)  # "cs", "k1"


def _postgres_begin(conn) -> None:
    if conn.get_execution_options().get("csdesk_write"):
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{BUSY_TIMEOUT_MS}ms'")
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK[0]}, {PG_WRITE_LOCK[1]})")


INT64 = 2**63 - 1


def _check_integers(conn, cursor, statement, parameters, context, executemany) -> None:
    """A number a user typed that no database column can hold is a bad value, not a crash.

    SQLite's driver raises a bare OverflowError past 64 bits (PostgreSQL a "bigint out of range");
    both become the same one-line refusal here, before the statement runs.
    """
    stack = [parameters]
    while stack:
        item = stack.pop()
        if type(item) is int:
            if not -INT64 - 1 <= item <= INT64:
                raise InvalidValue(_("{item} is too large a number (the largest is {largest})").format(item=item, largest=INT64))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def make_engine(target: Target):
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    if target.is_sqlite:
        url, pragmas = target.url, _sqlite_pragmas
        if read_only_file(target.path):
            url, pragmas = _read_only_url(target.path), _sqlite_pragmas_read_only
        elif archive_file(target.path):
            pragmas = _sqlite_pragmas_read_only
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", _check_integers)
        return engine
    try:
        from sqlalchemy.engine import make_url

        url = make_url(target.url)
        postgres = url.get_backend_name() == "postgresql"
        if not postgres:
            raise InvalidValue(
                _("cannot use {label}: csdesk works with a SQLite file or a PostgreSQL URL").format(label=target.label),
                hint=_("e.g. --db ~/desk.db or --db postgresql+psycopg://user@host/dbname"),
            )
        # jit=off: PostgreSQL's JIT compiles the visit-rules query for 1.5 s to save nothing (measured 35×
        # slower than without; csdesk's queries are short).
        args = ({"connect_timeout": 10, "application_name": "csdesk", "options": "-c jit=off"}
                if postgres and url.get_driver_name().startswith("psycopg") else {})
        # A small pool: a command's schema check and its transaction share one server connection, and a
        # process doing many transactions (a worker, the reminder run) keeps its backend's caches warm —
        # a new PostgreSQL connection costs a process start and a cold catalog cache every time.
        engine = create_engine(url, pool_size=1, max_overflow=4, pool_recycle=600, connect_args=args)
        if postgres:
            event.listen(engine, "begin", _postgres_begin)
        event.listen(engine, "before_cursor_execute", _check_integers)
        return engine
    except ModuleNotFoundError as exc:
        raise InvalidValue(
            _("cannot use {label}: driver {driver} is not installed").format(label=target.label, driver=exc.name),
            hint=_("pip install 'csdesk[postgres]'"),
        ) from None
    except InvalidValue:
        raise
    except Exception as exc:  # a malformed URL
        raise InvalidValue(_("cannot use database URL {label}: {exc}").format(label=target.label, exc=exc)) from None


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def _retryable(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return (
        "database is locked" in text
        or "database is busy" in text
        # serialization failure, deadlock detected, lock_timeout on the write lock
        or _sqlstate(exc) in ("40001", "40P01", "55P03")
    )


def _no_such_table(exc: BaseException) -> bool:
    msg = str(getattr(exc, "orig", exc)).lower()
    return _sqlstate(exc) == "42P01" or "no such table" in msg


def _cannot_open(target: Target, exc: BaseException) -> CsdeskError:
    """A database that cannot be reached, said in one line with what to do about it."""
    orig = getattr(exc, "orig", exc)
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    reason = lines[0] if lines else type(orig).__name__
    if "FATAL:" in reason:
        reason = reason.rsplit("FATAL:", 1)[1].strip()
    elif reason.startswith("connection failed:"):
        reason = reason[len("connection failed:"):].strip()
    hint = None
    if not target.is_sqlite:
        if "does not exist" in reason and "database" in reason:
            hint = _("create the empty database first (createdb NAME, or CREATE DATABASE NAME), then: csdesk --db {label} init").format(label=target.label)
        else:
            hint = _("check the server, the user and the password (PGPASSWORD or ~/.pgpass keeps it out of the URL)")
    return DatabaseMissing(_("cannot open database {label}: {reason}").format(label=target.label, reason=reason), hint=hint)


class Database:
    def __init__(self, target: Target):
        self.target = target
        self._engine = None
        # go_past_bad_rows: a transaction that fails on a stored value that does not parse (a row
        # edited by hand) is run again with every such row left out, instead of stopping the command.
        # For work that must go on for everyone (the reminder run); off everywhere else.
        self.go_past_bad_rows = False
        self.went_past: list = []            # the BadValues left out so far (workflows/stored_values.py)
        self.skipped: dict[str, set] = {}    # the rows every session leaves out, by table: {"complaint": {12}}

    @property
    def engine(self):
        if self._engine is None:
            self._engine = make_engine(self.target)
        return self._engine

    # -- existence and schema ---------------------------------------------------------------
    def exists(self) -> bool:
        """A SQLite file that is there and not empty; on a server, a database that has the csdesk schema.

        A server that cannot be reached is refused (DatabaseMissing with the reason), not "absent".
        """
        if self.target.is_sqlite:
            return self.target.path is not None and self.target.path.exists() and self.target.path.stat().st_size > 0
        return self.schema_version() is not None

    def schema_version(self) -> str | None:
        """The Alembic revision the database is at; None when it has no csdesk schema (yet)."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        try:
            conn = self.engine.connect()
        except DBAPIError as exc:
            raise _cannot_open(self.target, exc) from None
        try:
            with conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError as exc:
            if _no_such_table(exc):
                return None
            raise _cannot_open(self.target, exc) from None

    def require(self, any_schema: bool = False) -> str:
        """Refuse clearly when there is no database, or its schema is not the one this csdesk needs.

        `any_schema`: an older or newer csdesk schema is fine too (db backup copies any of them).
        Returns the schema revision.
        """
        from csdesk.migrations import HEAD

        hint = _("create it with: csdesk --db {label} init").format(label=self.target.label)
        if self.target.is_sqlite and not self.exists():
            raise DatabaseMissing(_("no database at {label}").format(label=self.target.label), hint=hint)
        version = self.schema_version()
        if version is None:
            raise DatabaseMissing(_("{label} is not a csdesk database (no schema)").format(label=self.target.label), hint=hint)
        if any_schema:
            return version
        refuse_newer(version)
        if version != HEAD:
            backup = "csdesk db backup FILE" if self.target.is_sqlite else "pg_dump"
            raise DatabaseMissing(
                _("database schema is at revision {version}, this csdesk needs {head}").format(version=version, head=HEAD),
                hint=_("back it up ({backup}), then run: csdesk db upgrade").format(backup=backup),
            )
        return version

    def create_file(self) -> None:
        """Create an empty SQLite file readable by its owner only, before SQLite creates it 0644. An empty
        file already there (`touch desk.db`) gets the same mode: it is about to hold the database."""
        if self.target.is_sqlite and self.target.path is not None and self.target.path.is_file() and self.target.path.stat().st_size == 0:
            os.chmod(self.target.path, file_mode())
        if self.target.is_sqlite and self.target.path is not None and not self.target.path.exists():
            self.target.path.parent.mkdir(parents=True, exist_ok=True)
            mode = file_mode()
            fd = os.open(self.target.path, os.O_CREAT | os.O_WRONLY, mode)
            os.close(fd)
            os.chmod(self.target.path, mode)

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def session(self, write: bool = False) -> Iterator[Any]:
        from sqlmodel import Session

        bind = self.engine.execution_options(csdesk_write=True) if write else self.engine
        with Session(bind, expire_on_commit=False) as session:
            if self.skipped:
                from sqlalchemy import event

                event.listen(session, "do_orm_execute", self._leave_out_skipped)
            with session.begin():
                yield session

    def refuse_writes(self) -> None:
        """Refuse to write into an archive file or a file this process cannot write (checked once)."""
        if not self.target.is_sqlite or getattr(self, "_writable", False):
            return
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        from csdesk.errors import ReadOnlyDatabase

        label = self.target.label
        if read_only_file(self.target.path):
            raise ReadOnlyDatabase(_("{label} is read-only here (the file or its folder cannot be written): "
                                     "read commands work, changes are refused").format(label=label))
        try:
            with self.engine.connect() as conn:
                marker = conn.execute(text('SELECT "before", source FROM archive_marker LIMIT 1')).first()
        except DBAPIError:
            marker = None  # no such table: a schema from before archives, or not a csdesk database yet
        if marker is not None:
            raise ReadOnlyDatabase(_("{label} is an archive of the work finished before {before} (moved out of "
                                     "{source}); archives are read-only: record changes in the live database").format(
                label=label, before=marker[0], source=marker[1]))
        self._writable = True

    def _leave_out_skipped(self, state) -> None:
        """Every ORM query of a session leaves out the rows in self.skipped, as if they were not there."""
        if not state.is_select or state.is_column_load or state.is_relationship_load:
            return
        from sqlalchemy.orm import with_loader_criteria
        from sqlmodel import SQLModel

        import csdesk.models  # noqa: F401

        by_table = {m.class_.__tablename__: m.class_ for m in SQLModel._sa_registry.mappers}
        options = [with_loader_criteria(by_table[name], by_table[name].id.not_in(sorted(ids)), include_aliases=True)
                   for name, ids in self.skipped.items() if name in by_table]
        state.statement = state.statement.options(*options)

    def write(self, fn: Callable[[Any], T]) -> T:
        """Run fn(session) in one write transaction, retrying from scratch if it lost a race."""
        from sqlalchemy.exc import DBAPIError

        self.refuse_writes()
        attempt = 0
        while True:
            try:
                with self.session(write=True) as session:
                    # Take the write lock (BEGIN IMMEDIATE, or the advisory lock) before fn runs, so
                    # that whatever fn reads — the clock above all — is read in commit order: an
                    # entry made after another one never carries an earlier time.
                    session.connection()
                    return fn(session)
            except DBAPIError as exc:
                if not _retryable(exc) or attempt == RETRIES - 1:
                    if self._leave_out_bad_rows(exc):
                        continue
                    raise
                time.sleep(0.05 * (2**attempt))
                attempt += 1
            except Exception as exc:
                if not self._leave_out_bad_rows(exc):
                    raise

    def read(self, fn: Callable[[Any], T], shareable: bool = False) -> T:
        """Run fn(session) in one read transaction.

        `shareable`: a process forked while fn runs may read the very same snapshot (`SharedSnapshot`, in
        session.info[SNAPSHOT]), so that a report made by two processes is as of one moment."""
        while True:
            snapshot = SharedSnapshot(self) if shareable else None
            try:
                with self.session(write=False) as session:
                    if snapshot is not None:
                        snapshot.begin(session)
                    return fn(session)
            except Exception as exc:
                if not self._leave_out_bad_rows(exc):
                    raise
            finally:
                if snapshot is not None:
                    snapshot.close()

    def _leave_out_bad_rows(self, exc: BaseException) -> bool:
        """With go_past_bad_rows: after a failed (rolled back) transaction, look for stored values that
        do not parse; True when new ones were found and left out, so the transaction is worth running
        again. A failure they do not explain stays a failure."""
        if not self.go_past_bad_rows or isinstance(exc, CsdeskError):
            return False
        from csdesk.workflows.stored_values import bad_values

        new = [b for b in bad_values(self) if b.row_id not in self.skipped.get(b.table, ())]
        if not new:
            return False
        for bad in new:
            self.skipped.setdefault(bad.table, set()).add(bad.row_id)
        self.went_past.extend(new)
        return True

    # -- maintenance --------------------------------------------------------------------------
    def integrity(self) -> list[str]:
        """What is wrong with the stored data; [] when all is well.

        SQLite: its integrity check and foreign key check. PostgreSQL enforces foreign keys and checks
        its pages itself, so here: no id sequence is behind the rows already stored (which would make
        the next insert fail, e.g. after a bulk copy that did not move the sequences on).
        """
        from sqlalchemy import text

        if not self.target.is_sqlite:
            return self._server_problems()
        with self.engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
            problems = [] if rows == ["ok"] else rows
            for row in conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall():
                problems.append(_("foreign key: {table} row {row} points to a missing {parent}").format(table=row[0], row=row[1], parent=row[2]))
            conn.execute(text("SELECT 1"))
        return problems

    def backup(self, dest: Path) -> int:
        """A consistent copy through SQLite's online backup API, safe while others write; returns pages.

        The copy is made under a temporary name beside `dest` and renamed to `dest` only after SQLite's
        integrity check and a schema check pass on it, so that a kill, a full disk or a bad copy never
        leaves a file under the name asked for (the temporary file is removed on any failure it sees).
        """
        import sqlite3

        if not self.target.is_sqlite:
            raise InvalidValue(
                _("db backup copies SQLite files; a PostgreSQL database is backed up with the server's own tools"),
                hint=_("pg_dump --format=custom --file {dump} '{label}'").format(dump=dest.name or 'desk.dump', label=self.target.label),
            )
        dest = expand_path(dest)
        source = self.target.path
        if dest == source:
            raise InvalidValue(_("the backup file must not be the database itself"))
        if dest in {source.with_name(source.name + s) for s in ("-wal", "-shm", "-journal")}:
            raise InvalidValue(_("{name} is the database's own {suffix} file; choose a new file name").format(name=dest.name, suffix=dest.name[len(source.name):]))
        if dest.exists() or dest.is_symlink():
            raise InvalidValue(_("{dest} already exists; choose a new file name").format(dest=dest))
        version = self.schema_version()
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidValue(_("cannot make the folder {parent}: {problem}").format(parent=dest.parent, problem=exc.strerror or exc)) from None
        _remove_stale_partials(dest)
        partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
        try:
            try:
                fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, file_mode())
                os.close(fd)
                src = sqlite3.connect(str(source), timeout=BUSY_TIMEOUT_MS / 1000)
                dst = sqlite3.connect(str(partial))
                try:
                    # One step: a single read snapshot. Stepping (pages=N) restarts whenever another
                    # connection writes between steps, and could go on forever under steady writes.
                    src.backup(dst, pages=-1)
                    pages = dst.execute("PRAGMA page_count").fetchone()[0]
                    # The copy must be usable on its own, not tied to a -wal file.
                    dst.execute("PRAGMA journal_mode=DELETE")
                    _check_copy(dst, version)
                finally:
                    dst.close()
                    src.close()
                fd = os.open(partial, os.O_RDONLY)
                try:
                    os.fsync(fd)  # the bytes are on disk before the name says "backup"
                finally:
                    os.close(fd)
            except sqlite3.Error as exc:
                raise _backup_failed(dest, exc) from None
            except OSError as exc:
                raise _backup_failed(dest, exc) from None
            try:
                os.link(partial, dest)  # never over a file that appeared meanwhile
            except FileExistsError:
                raise InvalidValue(_("{dest} already exists; choose a new file name").format(dest=dest)) from None
            except OSError:
                os.rename(partial, dest)  # a file system without hard links
            _fsync_folder(dest.parent)
        finally:
            for leftover in (partial, partial.with_name(partial.name + "-journal")):
                try:
                    leftover.unlink()
                except FileNotFoundError:
                    pass
                except OSError:
                    pass
        return pages

    def _server_problems(self) -> list[str]:
        from sqlalchemy import inspect, text
        from sqlmodel import SQLModel

        import csdesk.models  # noqa: F401  (registers the tables)

        problems: list[str] = []
        with self.engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            for table in SQLModel.metadata.sorted_tables:
                if table.name not in present:
                    continue  # not created by the migrations this database is at
                for column in table.primary_key.columns:
                    seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": f'"{table.name}"', "c": column.name}).scalar()
                    if seq is None:
                        continue
                    top = conn.execute(text(f'SELECT max("{column.name}") FROM "{table.name}"')).scalar()
                    last, called = conn.execute(text(f"SELECT last_value, is_called FROM {seq}")).one()
                    nxt = last + 1 if called else last
                    if top is not None and nxt <= top:
                        problems.append(_("sequence {seq} would give {column} {next}, but {top} is taken").format(
                            seq=seq, column=f"{table.name}.{column.name}", next=nxt, top=top))
        return problems


SNAPSHOT = "csdesk.db.snapshot"  # session.info key of a shareable read's SharedSnapshot


class SharedSnapshot:
    """A read transaction that a forked child process can read too, as of the same moment.

    PostgreSQL says so itself: the parent's transaction is REPEATABLE READ and exports its snapshot
    (pg_export_snapshot), the child's imports it (SET TRANSACTION SNAPSHOT) — the same data, exactly.
    SQLite cannot hand a snapshot to another connection, so it is checked instead: a third connection reads
    PRAGMA data_version before the parent's snapshot begins and again after the child's has begun; the
    number changes when any other connection committed in between. Unchanged, the two snapshots are the
    same; changed, `same()` says no and the parent does the child's part itself.

    In the child: `child_session()` gives a session of its own (the parent's connections, inherited by fork,
    are never used: the engine forgets them without closing them)."""

    def __init__(self, database: "Database"):
        self.database = database
        self.sqlite = database.target.is_sqlite
        self.token: str | None = None
        self._monitor = None
        self._version = None
        if self.sqlite and database.target.path is not None:
            # The driver's own connection, outside any transaction (SQLAlchemy's would begin one, and a
            # connection inside a transaction sees no other's commits).
            self._monitor = database.engine.raw_connection()
            self._version = self._data_version()

    def _data_version(self):
        return self._monitor.cursor().execute("PRAGMA data_version").fetchone()[0]

    def begin(self, session) -> None:
        """Start the parent's snapshot now (before fn reads anything)."""
        from sqlalchemy import text

        if self.sqlite:
            session.execute(text("SELECT count(*) FROM sqlite_master"))  # reads the file: the snapshot begins
        else:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            # A standby server refuses to export a snapshot (and an error would end the transaction; a
            # subtransaction cannot export one): there, nothing is shared.
            if not session.execute(text("SELECT pg_is_in_recovery()")).scalar():
                self.token = session.execute(text("SELECT pg_export_snapshot()")).scalar()
        session.info[SNAPSHOT] = self

    @property
    def shareable(self) -> bool:
        """A child can read this snapshot (not an in-memory SQLite database, which no other connection sees)."""
        return self._monitor is not None or self.token is not None

    def same(self) -> bool:
        """In the parent, once the child's snapshot has begun: the child reads what the parent reads."""
        if not self.sqlite:
            return True
        return self._monitor is not None and self._data_version() == self._version

    @contextmanager
    def child_session(self) -> Iterator[Any]:
        """In a forked child: a read transaction on the parent's snapshot (see `same()` for SQLite)."""
        import re

        from sqlalchemy import text
        from sqlmodel import Session

        engine = self.database.engine
        engine.dispose(close=False)  # the parent's pooled connections are the parent's: forget, never close
        with Session(engine, expire_on_commit=False) as session:
            with session.begin():
                if self.sqlite:
                    session.execute(text("SELECT count(*) FROM sqlite_master"))
                else:
                    if not re.fullmatch(r"[0-9A-Fa-f-]+", self.token or ""):
                        raise RuntimeError(f"not a snapshot id: {self.token!r}")
                    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                    session.execute(text(f"SET TRANSACTION SNAPSHOT '{self.token}'"))
                yield session

    def close(self) -> None:
        if self._monitor is not None:
            self._monitor.close()
            self._monitor = None


def _check_copy(dst, version: str | None) -> None:
    """A backup copy is whole (SQLite's integrity check) and holds the schema it was copied at."""
    rows = [r[0] for r in dst.execute("PRAGMA integrity_check").fetchall()]
    if rows != ["ok"]:
        raise CsdeskError(_("the backup copy failed SQLite's integrity check ({problem}); nothing was written").format(problem=rows[0]))
    try:
        copied = dst.execute("SELECT version_num FROM alembic_version").fetchone()
    except Exception:  # noqa: BLE001 — no such table: not a csdesk schema
        copied = None
    if copied is None or copied[0] != version:
        raise CsdeskError(_("the backup copy is not at the database's schema {version}; nothing was written").format(version=version))
    if version in known_revisions():
        tables = {r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "audit_entry" not in tables or "staff" not in tables:
            raise CsdeskError(_("the backup copy lacks csdesk's tables; nothing was written"))


def _backup_failed(dest: Path, exc: BaseException) -> CsdeskError:
    """A backup that could not be written, in one line: a full disk, no permission, a lost folder …"""
    import errno

    text = str(exc).strip() or type(exc).__name__
    if getattr(exc, "errno", None) == errno.ENOSPC or "disk is full" in text or "database or disk is full" in text:
        return CsdeskError(_("cannot write the backup {dest}: the disk is full; nothing was written").format(dest=dest),
                           hint=_("free some space, or back up to another disk"))
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    return CsdeskError(_("cannot write the backup {dest}: {text}; nothing was written").format(dest=dest, text=text))


def _remove_stale_partials(dest: Path) -> None:
    """What an earlier backup to the same name left when it was killed: its process is gone."""
    for leftover in dest.parent.glob(f".{dest.name}.*.partial"):
        try:
            pid = int(leftover.name[len(dest.name) + 2:].split(".", 1)[0])
            os.kill(pid, 0)
            continue  # that backup is still running
        except ProcessLookupError:
            pass
        except (ValueError, OSError):
            continue  # not ours to judge (another user's process, or not a pid)
        for path in (leftover, leftover.with_name(leftover.name + "-journal")):
            try:
                path.unlink()
            except OSError:
                pass


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (best effort: not every system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def known_revisions() -> set[str]:
    """The schema revisions this csdesk has migrations for (from the file names; no Alembic import)."""
    from csdesk.migrations import HERE

    return {p.name.split("_", 1)[0] for p in (HERE / "versions").glob("*.py") if not p.name.startswith("_")}


def refuse_newer(version: str | None) -> None:
    """A schema written by a newer csdesk is refused in one line by every command (db backup excepted)."""
    from csdesk.migrations import HEAD

    if version is not None and version not in known_revisions():
        raise SchemaTooNew(
            _("this database is at schema {version}, newer than this csdesk ({head}): install a newer csdesk").format(version=version, head=HEAD)
        )


class SchemaTooNew(DatabaseMissing):
    """The database was written by a newer csdesk, whose schema this one does not know."""


def file_mode() -> int:
    """Mode of a new SQLite file (and backups): 0600 unless CSDESK_DB_MODE says otherwise (e.g. 640)."""
    raw = os.environ.get("CSDESK_DB_MODE", "").strip() or "600"
    try:
        mode = int(raw, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777 or not mode & 0o600 == 0o600:
        raise InvalidValue(_("CSDESK_DB_MODE={raw!r} is not a file mode the owner can read and write (e.g. 600 or 640)").format(raw=raw))
    if mode & 0o007:
        raise InvalidValue(_("CSDESK_DB_MODE={raw!r} would let every user of this machine at customer data; use 600, 640 or 660").format(raw=raw))
    return mode


@contextmanager
def run_lock(database: "Database", name: str) -> Iterator[bool]:
    """A lock that only one process holds at a time, released by the OS/server if the holder dies.

    Yields True when this process holds it, False when another does (the caller then does nothing).
    SQLite: an flock on `<db>.<name>.lock` beside the file. PostgreSQL: a session advisory lock.
    """
    database.refuse_writes()
    if database.target.is_sqlite:
        import fcntl

        lock_path = database.target.path.with_name(f"{database.target.path.name}.{name}.lock")
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return
    from sqlalchemy import text

    key = int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "big", signed=True)
    with database.engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()
        try:
            yield bool(got)
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
