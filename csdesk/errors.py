"""The one error channel: workflows raise these, cli.py turns them into `Error: …` and exit 1."""

from __future__ import annotations


class CsdeskError(Exception):
    """A refused action or a bad value; the message is one line a user can act on."""

    def __init__(self, message: str, hint: str | None = None, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details or []  # further lines (e.g. every bad row of an import)


class NotFound(CsdeskError):
    """The named customer, staff member, call, … does not exist."""


class InvalidValue(CsdeskError):
    """A value the user typed cannot be understood (bad phone, date, amount, kind …)."""


class InvalidTransition(CsdeskError):
    """The action does not fit the current state of the thing acted on."""


class Conflict(CsdeskError):
    """The action would clash with data already there (duplicate phone, open work …)."""


class PermissionDenied(CsdeskError):
    """The person acting may not do this."""


class DatabaseMissing(CsdeskError):
    """There is no database (or no schema) where the command looked."""


class ReadOnlyDatabase(CsdeskError):
    """The database is an archive file, or a file this process may only read: writes are refused."""
