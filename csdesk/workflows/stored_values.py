"""Stored values that do not parse: what `db check` lists, and what `remind run` skips.

A row edited by hand (or by a tool that bypasses csdesk) can hold a time that is no time
(`2026-13-45`), an amount that is text, a code or a choice that csdesk never writes. SQLite stores
whatever it is given; such a row then breaks every command that loads it. `bad_values` reads every
row of every csdesk table, raw, and tries each value the way csdesk reads it: times and dates through
the column's own type, amounts and counts as integers, flags as 0/1, codes and phone numbers by their
shape, choices against the workflows' own lists.

It reads the whole database, so it is for `db check` and for the rare run that has already failed,
not for every command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from csdesk.i18n import N_, _

SHOWN = 60  # characters of a bad value shown


@dataclass(frozen=True)
class BadValue:
    table: str
    row_id: Any
    column: str
    value: str      # repr of the stored value, cut to SHOWN characters
    reason: str

    def line(self) -> str:
        return f"{self.table} #{self.row_id} {self.column} = {self.value}: {_(self.reason)}"


_SHAPES = {
    # csdesk gives C000123 and P000123; any capital letter and digits, as codes from elsewhere may be.
    ("customer", "code"): (re.compile(r"[A-Z]\d+"), N_("not a customer code (C000123)")),
    ("project", "code"): (re.compile(r"[A-Z]\d+"), N_("not a project code (P000123)")),
    ("customer_phone", "number"): (re.compile(r"\+\d{5,15}"), N_("not a phone number in E.164 (+8613812345678)")),
    ("call", "phone"): (re.compile(r"\+\d{5,15}"), N_("not a phone number in E.164 (+8613812345678)")),
    ("callback", "phone"): (re.compile(r"\+\d{5,15}"), N_("not a phone number in E.164 (+8613812345678)")),
}


def _choices() -> dict[tuple[str, str], set[str]]:
    """Each choice column and the values csdesk writes into it, from the workflows' own lists.

    A list a workflow no longer has (renamed by a later change) is simply not checked.
    """
    import importlib

    wanted = [
        ("staff", "role", "csdesk.workflows", "ROLES"),
        ("customer", "tier", "csdesk.workflows.customers", "TIERS"),
        ("call", "kind", "csdesk.workflows.calls", "KINDS"),
        ("call", "channel", "csdesk.workflows.calls", "CHANNELS"),
        ("call", "direction", "csdesk.workflows.calls", "DIRECTIONS"),
        ("complaint", "severity", "csdesk.workflows.complaints", "SEVERITIES"),
        ("complaint", "status", "csdesk.workflows.complaints", "STATUSES"),
        ("callback", "status", "csdesk.workflows.callbacks", "STATUSES"),
        ("callback", "outcome", "csdesk.workflows.callbacks", "OUTCOMES"),
        ("callback", "purpose", "csdesk.workflows.callbacks", "PURPOSES"),
        ("callback_series", "purpose", "csdesk.workflows.callbacks", "PURPOSES"),
        ("project", "stage", "csdesk.workflows.projects", "STAGES"),
        ("adjustment", "status", "csdesk.workflows.projects", "ADJUSTMENT_STATUSES"),
        ("adjustment", "payer", "csdesk.workflows.projects", "PAYERS"),
        ("adjustment", "responsible", "csdesk.workflows.projects", "RESPONSIBLE_LABELS"),
        ("instalment", "due_event", "csdesk.workflows.payments", "EVENTS"),
        ("payment", "method", "csdesk.workflows.payments", "METHODS"),
        ("shift_handover", "status", "csdesk.workflows.shift", "STATUSES"),
        ("shift_item", "kind", "csdesk.workflows.shift", "KINDS"),
    ]
    out: dict[tuple[str, str], set[str]] = {}
    for table, column, module, name in wanted:
        try:
            values = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        out[(table, column)] = {str(v) for v in values}
    out[("payment", "kind")] = {"payment", "reversal"}
    return out


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _checker(table, column, dialect, choices):
    """A function value -> reason (None when the value is fine) for one column."""
    import sqlalchemy as sa

    kind = column.type
    impl = kind.impl if isinstance(kind, sa.types.TypeDecorator) else kind
    shape = _SHAPES.get((table.name, column.name))
    allowed = choices.get((table.name, column.name))

    if isinstance(impl, (sa.DateTime, sa.Date)):
        process = kind._cached_result_processor(dialect, None)  # exactly what loading a row runs
        what = _("not a time ({problem})") if isinstance(impl, sa.DateTime) else _("not a date ({problem})")

        def check(value):
            if process is None:
                return None
            try:
                process(value)
            except Exception as exc:  # noqa: BLE001 — any failure to read is the finding
                return what.format(problem=exc)
            return None

        return check
    if isinstance(impl, sa.Boolean):
        return lambda value: None if value in (0, 1, True, False) else _("not a yes/no flag (0 or 1)")
    if isinstance(impl, sa.Integer):
        if column.name.endswith("_fen"):
            return lambda value: None if type(value) is int else _("not an amount in fen (a whole number)")
        return lambda value: None if type(value) is int else _("not a whole number")
    if isinstance(impl, sa.String):
        def check(value):
            if not isinstance(value, str):
                return _("not text")
            if shape is not None and not shape[0].fullmatch(value):
                return shape[1]
            if allowed is not None and value not in allowed:
                return _("not one of {choices}").format(choices=", ".join(sorted(allowed)))
            return None

        return check
    return None


def bad_values(database) -> list[BadValue]:
    """Every stored value of every csdesk table that csdesk could not read back; [] when all parse."""
    from sqlalchemy import inspect
    from sqlmodel import SQLModel

    import csdesk.models  # noqa: F401  (registers the tables)

    found: list[BadValue] = []
    choices = _choices()
    with database.engine.connect() as conn:
        dialect = conn.dialect
        present = set(inspect(conn).get_table_names())
        columns_present = {}
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in present:
                continue
            columns_present[table.name] = {c["name"] for c in inspect(conn).get_columns(table.name)}
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in present or "id" not in table.c:
                continue
            checks = []
            for column in table.columns:
                if column.name == "id" or column.name not in columns_present[table.name]:
                    continue
                check = _checker(table, column, dialect, choices)
                if check is not None:
                    checks.append((column.name, check))
            if not checks:
                continue
            names = ", ".join(f'"{name}"' for name, _ in checks)
            result = conn.exec_driver_sql(f'SELECT id, {names} FROM "{table.name}" ORDER BY id')
            for row in result:
                for (name, check), value in zip(checks, row[1:]):
                    if value is None:  # NOT NULL is the database's own rule, kept by it
                        continue
                    reason = check(value)
                    if reason is not None:
                        found.append(BadValue(table.name, row[0], name, _shown(value), reason))
    return found

