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
