"""A function run in a second process made by fork(), talking to this one in pickles over a socket pair.

A report is two halves that need not wait for each other (this period and the one before; the workbook's
biggest sheets): on a machine with two cores they take half the time side by side. fork() gives the child
everything this process already has (settings, the language, the report so far) without pickling it; what
the child sends back is plain data. The child never touches what it inherited from the parent's database
connection — it opens its own (csdesk.db.SharedSnapshot) — and ends with os._exit, so nothing the parent
set up (atexit handlers, buffered output, open transactions) runs or is flushed twice.

Where fork() does not exist (Windows) `available()` is False and the caller does the work itself.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, Callable


class ChildFailed(Exception):
    """The child process stopped without its answer (an error in it, or it was killed)."""


def available() -> bool:
    return hasattr(os, "fork")


class Child:
    """`fn(channel)` running in a forked child. `send`/`recv` talk to it; `close()` ends it (always call it)."""

    def __init__(self, fn: Callable[[Any], None]):
        from multiprocessing import Pipe

        mine, theirs = Pipe(duplex=True)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                mine.close()
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it at once, quietly: the parent reports
                # (a parent started with SIGINT ignored — a background job — has a child that ignores it too)
                fn(theirs)
                code = 0
            except BaseException as exc:  # noqa: BLE001 — told to the parent, which carries on without the child
                try:
                    theirs.send(("failed", f"{type(exc).__name__}: {exc}"))
                except BaseException:  # noqa: BLE001
                    pass
            finally:
                os._exit(code)
        theirs.close()
        self.pid: int | None = pid
        self._conn = mine

    def send(self, message: Any) -> None:
        try:
            self._conn.send(message)
        except (OSError, ValueError) as exc:
            raise ChildFailed(f"cannot reach the child: {exc}") from None

    def recv(self) -> Any:
        """The child's next message; ChildFailed when it failed or ended before sending one."""
        try:
            message = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise ChildFailed(f"the child ended without an answer ({type(exc).__name__})") from None
        if isinstance(message, tuple) and len(message) == 2 and message[0] == "failed":
            raise ChildFailed(message[1])
        return message

    def close(self) -> None:
        """End the child (if it still runs) and reap it. Safe to call twice."""
        self._end(kill=True)

    def wait(self) -> None:
        """Wait for the child to end by itself (after its last message), then reap it."""
        self._end(kill=False)

    def _end(self, kill: bool) -> None:
        if self.pid is None:
            return
        self._conn.close()
        pid, self.pid = self.pid, None
        try:
            if kill and os.waitpid(pid, os.WNOHANG)[0] == 0:
                os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
        except (ChildProcessError, ProcessLookupError):
            pass  # reaped already
