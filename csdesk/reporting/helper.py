"""A report's second process: the same desk, on the same snapshot of the database, in a forked child.

A report has halves that do not wait for each other — the previous period's figures beside this period's,
and the workbook's big sheets (visits, overdue items …) beside the complaints sheet. `ReportHelper.start`
forks a child that opens its own read transaction on the parent's snapshot (csdesk.db.SharedSnapshot) and
then runs, one after the other, the functions it is sent: `call(fn, *args)` runs `fn(context, *args)` there
(fn a module-level function: it is sent by name) and `result()` gives back its return value. `context.desk`
is the child's desk, `context.send(message)` a message to the parent before the result (`message()` reads
it), `context.scratch` a file the two share (unnamed, gone when both are done): the child writes its bigger
output there and says where; `context.queues` are two WorkQueues (`helper.queues` in the parent): pieces of
work both processes take from, so that neither waits while there is work left.

Nothing is lost when there is no helper: `start` gives None where fork() does not exist, for an in-memory
database, when CSDESK_REPORT_WORKER=0, or when SQLite was written to between the parent's snapshot and the
child's (they would not be the same) — and the caller then does everything itself, as it does when the
child fails later (HelperFailed). CSDESK_REPORT_WORKER=strict makes such a failure an error (fell_back).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable

from csdesk import forked

HelperFailed = forked.ChildFailed
_NONE = object()


def fell_back(exc: BaseException) -> None:
    """Said where the parent takes over the work of a helper that failed. With CSDESK_REPORT_WORKER=strict (the
    tests of the two-process report) the failure is raised instead: the report being the same either way, a
    helper that never works would otherwise pass for one that does."""
    if os.environ.get("CSDESK_REPORT_WORKER") == "strict":
        from csdesk.errors import CsdeskError
        from csdesk.i18n import _

        raise CsdeskError(_("the report's helper process failed ({problem}); with CSDESK_REPORT_WORKER=strict that is an "
                            "error instead of one process doing all the work").format(problem=exc)) from exc


@dataclasses.dataclass
class HelperContext:
    desk: Any
    scratch: Any
    send: Callable[[Any], None]
    queues: "tuple[WorkQueue, WorkQueue]"


class WorkQueue:
    """Numbered pieces of work shared out between the two processes as each becomes free: `deal(n)` puts
    0 … n-1 in a pipe both processes hold (made before the fork), `take()` gives the next one, or None when
    all are taken. A read of one byte from a pipe is one process's alone, so no piece is done twice."""

    def __init__(self):
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)

    def deal(self, n: int) -> None:
        if not 0 <= n < 256:
            raise ValueError(f"{n} pieces of work: at most 255")
        self.drain()
        if n:
            os.write(self._write, bytes(range(n)))  # under PIPE_BUF: written at once

    def take(self) -> int | None:
        try:
            got = os.read(self._read, 1)
        except BlockingIOError:
            return None
        return got[0] if got else None

    def drain(self) -> None:
        while self.take() is not None:
            pass

    def close(self) -> None:
        for fd in (self._read, self._write):
            try:
                os.close(fd)
            except OSError:
                pass


class ReportHelper:
    def __init__(self, child: forked.Child, scratch, queues: "tuple[WorkQueue, WorkQueue]", workbook: bool):
        self._child = child
        self.scratch = scratch
        self.queues = queues
        self.workbook = workbook  # the report is for a workbook: the helper may begin its sheets early
        self.shared_sheets: list[str] = []  # the sheets it may write (set when they are dealt)
        self._busy = False  # a call is running (its result not read yet)
        self._result: Any = _NONE  # a result that came at the end of messages()

    @classmethod
    def start(cls, desk, workbook: bool = False) -> "ReportHelper | None":
        """A helper on `desk`'s snapshot, or None (see the module's docstring). `workbook`: the report is
        for a workbook."""
        from csdesk.db import SNAPSHOT

        snapshot = desk.session.info.get(SNAPSHOT)
        if (snapshot is None or not snapshot.shareable or not forked.available()
                or os.environ.get("CSDESK_REPORT_WORKER", "1") == "0"):
            return None
        import tempfile

        if workbook:
            import openpyxl  # noqa: F401 — both processes write sheets: imported once, before the fork
        scratch = tempfile.TemporaryFile(prefix="csdesk-report-")  # unnamed: nothing is left behind, whatever happens
        queues = (WorkQueue(), WorkQueue())

        def serve(channel) -> None:
            with snapshot.child_session() as session:
                context = HelperContext(dataclasses.replace(desk, session=session), scratch,
                                        lambda message: channel.send(("message", message)), queues)
                channel.send(("ready", None))
                while True:
                    request = channel.recv()
                    if request is None:
                        return
                    fn, args = request
                    channel.send(("result", fn(context, *args)))

        try:
            child = forked.Child(serve)
        except OSError:
            scratch.close()
            for queue in queues:
                queue.close()
            return None
        helper = cls(child, scratch, queues, workbook)
        try:
            helper._expect("ready")
            if not snapshot.same():  # SQLite: a write came between the two snapshots
                raise HelperFailed("the database changed before the helper began reading")
        except HelperFailed as exc:
            helper.close()
            fell_back(exc)
            return None
        return helper

    def _expect(self, kind: str) -> Any:
        what, value = self._child.recv()
        if what != kind:
            raise HelperFailed(f"the helper sent {what!r} where {kind!r} was expected")
        return value

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Have the helper run fn(context, *args); its value comes with `result()`."""
        self._child.send((fn, args))
        self._busy = True

    def message(self) -> Any:
        """The next message the running function sent with context.send()."""
        return self._expect("message")

    def messages(self):
        """The messages the running function sends, as they come, until it returns; then `result()` has its
        value without waiting."""
        while True:
            what, value = self._child.recv()
            if what == "result":
                self._result, self._busy = value, False
                return
            if what != "message":
                raise HelperFailed(f"the helper sent {what!r} where a message was expected")
            yield value

    def result(self) -> Any:
        if self._result is not _NONE:
            value, self._result = self._result, _NONE
            return value
        value = self._expect("result")
        self._busy = False
        return value

    def close(self) -> None:
        """End the helper and reap it — told to stop when idle, stopped at once in the middle of a call (the
        parent gave up on it: an error, or Ctrl-C). Safe to call twice."""
        try:
            if self._busy:
                raise HelperFailed("busy")
            self._child.send(None)
            self._child.wait()
        except HelperFailed:
            self._child.close()
        self.scratch.close()
        for queue in self.queues:
            queue.close()
