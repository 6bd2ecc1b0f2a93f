"""`csdesk db copy --to URL`: move a whole csdesk database into an empty one — typically a desk's SQLite
file into PostgreSQL when the department outgrows one machine — complete and verified.

This is maintenance, not desk work, so it takes two `Database`s rather than a Desk, and it adds no audit
row: the audit trail itself is among what it copies, row for row.

How: the target is checked to be empty (no csdesk rows, no foreign tables), migrated to the current
schema, then every table of the models is copied in foreign-key order, in batches, inside ONE target
transaction (a copy that fails or is killed leaves the target as empty as it was), reading the source in
one read transaction (a consistent snapshot even while agents keep writing). Id sequences are moved past
the copied ids so new rows continue the numbering. Before committing, the row count and the sum of every
money column (`*_fen`) of every table are compared between source and target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from csdesk.errors import Conflict, CsdeskError, InvalidValue
from csdesk.i18n import _

BATCH = 2000
BATCH_MAX = 100_000  # rows per insert; more only costs memory (and a huge number overflows the driver)


@dataclass
class TableCopy:
    table: str
    rows: int
    # Sum of each money column (integer fen), equal in source and target.
    totals_fen: dict[str, int] = field(default_factory=dict)


@dataclass
class CopyResult:
    source: str
    target: str
    schema: str
    tables: list[TableCopy]
    sequences_reset: list[str]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


class CopyMismatch(CsdeskError):
    """The copy does not add up (rows or money differ); it was rolled back."""


def _tables():
    from sqlalchemy.schema import sort_tables_and_constraints
    from sqlmodel import SQLModel

    import csdesk.models  # noqa: F401  (registers the tables)

    order = sort_tables_and_constraints(SQLModel.metadata.tables.values())
    cycles = {fkc for table, fkcs in order if table is None for fkc in fkcs}
    return [(table, fkcs, cycles) for table, fkcs in order if table is not None]


def _deferred(table, fkcs, cycles) -> list[tuple[str, bool]]:
    """Foreign-key columns filled in a second pass: (column, only_forward).

    A self-reference (staff.reports_to_id, payment.reverses_id) is deferred only for rows that point
    to a later id; a foreign key in a cycle between tables is deferred for every row.
    """
    out = []
    for fkc in list(fkcs) + [c for c in cycles if c.parent is table]:
        if len(fkc.columns) != 1:
            continue
        column = list(fkc.columns)[0]
        if not column.nullable:
            continue
        if fkc.referred_table is table:
            out.append((column.name, True))
        elif fkc in cycles:
            out.append((column.name, False))
    return out


def _money_columns(table) -> list[str]:
    return [c.name for c in table.columns if c.name.endswith("_fen")]


def _measure(conn, table) -> TableCopy:
    from sqlalchemy import func, select

    money = _money_columns(table)
    row = conn.execute(select(func.count(), *(func.coalesce(func.sum(table.c[m]), 0) for m in money)).select_from(table)).one()
    return TableCopy(table.name, int(row[0]), {m: int(v) for m, v in zip(money, row[1:])})


def check_empty(target) -> str | None:
    """Refuse a target that holds anything; returns its schema revision (None when it has no schema)."""
    from sqlalchemy import func, inspect, select

    if target.target.is_sqlite and not target.exists():
        return None  # a new file (connecting now would create it with the wrong mode)
    version = target.schema_version()  # also: can we reach it at all?
    tables = {t.name: t for t, _, _ in _tables()}
    with target.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        foreign = sorted(present - set(tables) - {"alembic_version"})
        if foreign:
            raise Conflict(
                _("{label} holds tables that are not csdesk's ({tables}); db copy only fills an empty database").format(
                    label=target.target.label, tables=", ".join(foreign[:5])),
                hint=_("create a new empty database for csdesk (createdb NAME)"),
            )
        full = []
        for name in [t.name for t, _, _ in _tables() if t.name in present]:
            count = conn.execute(select(func.count()).select_from(tables[name])).scalar()
            if count:
                full.append(f"{name} {count}")
        if full:
            raise Conflict(
                _("{label} is not empty (rows in: {tables}); db copy only fills an empty database").format(label=target.target.label, tables=', '.join(full)),
                hint=_("copy into a new empty database (createdb NAME), never over one in use"),
            )
    return version


def copy_database(source, target, batch: int = BATCH, progress: Callable[[str, int, int], None] | None = None) -> CopyResult:
    """Copy every table of `source` into the empty `target` (both `csdesk.db.Database`), verified."""
    from sqlalchemy import bindparam, select, text, update
    from sqlalchemy.exc import DBAPIError

    from csdesk.migrations import HEAD, upgrade

    if batch < 1:
        raise InvalidValue(_("--batch must be at least 1"))
    if batch > BATCH_MAX:
        raise InvalidValue(_("--batch must be at most {largest} rows").format(largest=BATCH_MAX))
    if source.target.url == target.target.url:
        raise InvalidValue(_("the target is the database being copied; name another one with --to"))
    source.require()
    check_empty(target)
    target.create_file()
    upgrade(target.engine)

    from sqlalchemy import inspect

    with source.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
    # Tables of the models that the migrations at this revision do not create hold nothing to copy.
    tables = [entry for entry in _tables() if entry[0].name in present]
    results: list[TableCopy] = []
    sequences: list[str] = []
    reader = source.engine.connect()
    if reader.dialect.name == "postgresql":
        reader = reader.execution_options(isolation_level="REPEATABLE READ")  # one snapshot for all tables
    try:
        with reader, reader.begin(), target.engine.execution_options(csdesk_write=True).begin() as writer:
            for table, fkcs, cycles in tables:
                expected = _measure(reader, table)
                later = _deferred(table, fkcs, cycles)
                pk = list(table.primary_key.columns)
                fixes: dict[str, list[dict]] = {name: [] for name, _ in later}
                done = 0
                if progress:
                    progress(table.name, 0, expected.rows)
                result = reader.execute(select(table).order_by(*pk).execution_options(yield_per=batch))
                for part in result.partitions(batch):
                    rows = [dict(r._mapping) for r in part]
                    for name, only_forward in later:
                        for row in rows:
                            value = row[name]
                            if value is None or (only_forward and len(pk) == 1 and value <= row[pk[0].name]):
                                continue
                            fixes[name].append({"_pk": row[pk[0].name], "_value": value})
                            row[name] = None
                    try:
                        writer.execute(table.insert(), rows)
                    except DBAPIError as exc:
                        raise _failed(table.name, done, exc) from None
                    done += len(rows)
                    if progress:
                        progress(table.name, done, expected.rows)
                for name, values in fixes.items():
                    if values:
                        stmt = update(table).where(pk[0] == bindparam("_pk")).values({name: bindparam("_value")})
                        try:
                            writer.execute(stmt, values)
                        except DBAPIError as exc:
                            raise _failed(table.name, done, exc) from None
                results.append(expected)
            if writer.dialect.name == "postgresql":
                for table, _k, _c in tables:
                    for column in table.primary_key.columns:
                        seq = writer.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": f'"{table.name}"', "c": column.name}).scalar()
                        if seq is None:
                            continue
                        writer.execute(text(
                            f'SELECT setval(:seq, COALESCE((SELECT max("{column.name}") FROM "{table.name}"), 1), '
                            f'(SELECT max("{column.name}") FROM "{table.name}") IS NOT NULL)'
                        ), {"seq": seq})
                        sequences.append(seq)
            # Verify inside the transaction: a copy that does not add up is never committed.
            problems = []
            for want, (table, _k, _c) in zip(results, tables):
                got = _measure(writer, table)
                if got.rows != want.rows:
                    problems.append(_("{table}: {want} rows in the source, {got} copied").format(table=table.name, want=want.rows, got=got.rows))
                for column, total in want.totals_fen.items():
                    if got.totals_fen.get(column) != total:
                        problems.append(_("{table}: total {want} in the source, {got} copied").format(
                            table=f"{table.name}.{column}", want=total, got=got.totals_fen.get(column)))
            if problems:
                raise CopyMismatch(_("the copy does not add up; nothing was copied"), details=problems)
    finally:
        source.engine.dispose()
        target.engine.dispose()
    return CopyResult(source.target.label, target.target.label, HEAD, results, sequences)


def _failed(table: str, done: int, exc) -> CsdeskError:
    orig = getattr(exc, "orig", exc)
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return CsdeskError(
        _("copying table {table} failed after {done} rows: {first}; nothing was copied").format(table=table, done=done, first=first),
        hint=_("correct that row in the source database, then run db copy again"),
    )
