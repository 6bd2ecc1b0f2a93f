"""What the desk's screens call: the same workflows as the commands, each in its own short transaction,
as the person acting. No rule lives here or in a screen."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

T = TypeVar("T")


class Backend:
    """The database, the settings and who is acting, for one desk session."""

    def __init__(self, database, settings, acting: str | None, default: str | None = None):
        self.database = database
        self.settings = settings
        self.acting = acting  # --as / CSDESK_AGENT
        self.default = default  # the settings' `agent`
        self._held = None

    def hold(self) -> None:
        """For as long as the desk is open, one idle connection to a SQLite file stays open. Every read and
        write opens its own short connection; when the last connection to a WAL database closes, SQLite
        copies the log back into the file and syncs it to disk, which cost 10–25 ms after each write (and the
        log was rebuilt by the next one). With this one held, closing a transaction's connection is cheap."""
        if self._held is None and self.database.target.is_sqlite:
            self._held = self.database.engine.raw_connection()

    def release(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.close()

    def _desk(self, session):
        from csdesk import dates
        from csdesk.workflows import Desk
        from csdesk.workflows.identity import resolve_acting

        # Who acts is decided as for every command (once logins are bound, the login decides), and
        # "now" is read inside the transaction: for a write, after the write lock is held.
        actor = resolve_acting(session, self.acting, self.default)
        return Desk(session=session, settings=self.settings, now=dates.now(), actor=actor)

    def read(self, fn: Callable[[Any], T]) -> T:
        return self.database.read(lambda session: fn(self._desk(session)))

    def write(self, fn: Callable[[Any], T]) -> T:
        return self.database.write(lambda session: fn(self._desk(session)))

    def who(self):
        """The person acting (refused clearly when nobody or an unknown name is acting)."""
        return self.read(lambda desk: desk.require_actor())

    def parse_when(self, text: str | None, future: bool = False):
        from csdesk import dates

        return dates.parse_when(text, tz=self.settings.tz, future=future) if text and text.strip() else None
