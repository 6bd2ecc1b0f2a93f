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

        return make_url(self.url).render_as_string(hide_password=True)


def resolve(option: str | None) -> Target:
    value = option or os.environ.get("CSDESK_DB") or ""
    if "://" in value:
        if value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value[len("postgres://"):]
        elif value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://"):]
        if value.startswith("sqlite:///"):
            return Target(value, Path(value[len("sqlite:///"):]).expanduser().resolve())
        return Target(value, None)
    path = Path(value).expanduser() if value else default_path()
    path = path.resolve()
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


def _sqlite_begin(conn) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("csdesk_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(target: Target):
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    if target.is_sqlite:
        engine = create_engine(target.url, poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(target.url, pool_pre_ping=False)
    except ModuleNotFoundError as exc:
        raise InvalidValue(
            f"cannot use {target.label}: driver {exc.name} is not installed",
            hint="pip install 'csdesk[postgres]'",
        ) from None
    except Exception as exc:  # a malformed URL
        raise InvalidValue(f"cannot use database URL {target.label}: {exc}") from None


def _retryable(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return (
        "database is locked" in text
        or "database is busy" in text
        or code in ("40001", "40P01")  # serialization failure, deadlock detected
    )


class Database:
    def __init__(self, target: Target):
        self.target = target
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            self._engine = make_engine(self.target)
        return self._engine

    # -- existence and schema ---------------------------------------------------------------
    def exists(self) -> bool:
        if self.target.is_sqlite:
            return self.target.path is not None and self.target.path.exists() and self.target.path.stat().st_size > 0
        return self.schema_version() is not None

    def schema_version(self) -> str | None:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError as exc:
            msg = str(exc.orig).lower()
            if "alembic_version" in msg or "no such table" in msg or "does not exist" in msg:
                return None
            raise CsdeskError(f"cannot open database {self.target.label}: {exc.orig}") from None

    def require(self) -> None:
        """Refuse clearly when there is no database, or its schema is not the one this csdesk needs."""
        from csdesk.migrations import HEAD

        hint = f"create it with: csdesk --db {self.target.label} init" if self.target.path else "create it with: csdesk --db URL init"
        if self.target.is_sqlite and not self.exists():
            raise DatabaseMissing(f"no database at {self.target.label}", hint=hint)
        version = self.schema_version()
        if version is None:
            raise DatabaseMissing(f"{self.target.label} is not a csdesk database (no schema)", hint=hint)
        if version != HEAD:
            raise DatabaseMissing(
                f"database schema is at revision {version}, this csdesk needs {HEAD}",
                hint="back it up (csdesk db backup FILE), then run: csdesk db upgrade",
            )

    def create_file(self) -> None:
        """Create an empty SQLite file readable by its owner only, before SQLite creates it 0644."""
        if self.target.is_sqlite and self.target.path is not None and not self.target.path.exists():
            self.target.path.parent.mkdir(parents=True, exist_ok=True)
            mode = int(os.environ.get("CSDESK_DB_MODE", "600"), 8)
            fd = os.open(self.target.path, os.O_CREAT | os.O_WRONLY, mode)
            os.close(fd)
            os.chmod(self.target.path, mode)

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def session(self, write: bool = False) -> Iterator[Any]:
        from sqlmodel import Session

        bind = self.engine.execution_options(csdesk_write=True) if write else self.engine
        with Session(bind, expire_on_commit=False) as session:
            with session.begin():
                yield session

    def write(self, fn: Callable[[Any], T]) -> T:
        """Run fn(session) in one write transaction, retrying from scratch if it lost a race."""
        from sqlalchemy.exc import DBAPIError

        for attempt in range(RETRIES):
            try:
                with self.session(write=True) as session:
                    return fn(session)
            except DBAPIError as exc:
                if not _retryable(exc) or attempt == RETRIES - 1:
                    raise
                time.sleep(0.05 * (2**attempt))
        raise AssertionError("unreachable")

    def read(self, fn: Callable[[Any], T]) -> T:
        with self.session(write=False) as session:
            return fn(session)

    # -- maintenance --------------------------------------------------------------------------
    def integrity(self) -> list[str]:
        """SQLite's integrity check (and foreign keys); [] when all is well."""
        from sqlalchemy import text

        if not self.target.is_sqlite:
            return []
        with self.engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
            problems = [] if rows == ["ok"] else rows
            for row in conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall():
                problems.append(f"foreign key: {row[0]} row {row[1]} points to a missing {row[2]}")
            conn.execute(text("SELECT 1"))
        return problems

    def backup(self, dest: Path) -> int:
        """A consistent copy through SQLite's online backup API, safe while others write; returns pages."""
        import sqlite3

        if not self.target.is_sqlite:
            raise InvalidValue("db backup copies SQLite files; for PostgreSQL use pg_dump")
        dest = dest.expanduser().resolve()
        if dest == self.target.path:
            raise InvalidValue("the backup file must not be the database itself")
        if dest.exists():
            raise InvalidValue(f"{dest} already exists; choose a new file name")
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(dest, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
        src = sqlite3.connect(str(self.target.path), timeout=BUSY_TIMEOUT_MS / 1000)
        dst = sqlite3.connect(str(dest))
        try:
            src.backup(dst, pages=1024)
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
            # The copy must be usable on its own, not tied to a -wal file.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
            src.close()
        return pages
