"""Reminder runs (`csdesk remind run`, from cron): announce what is due exactly once, and act on time.

A run, as of `now`:
1. takes the run lock (a second run started at the same time says so and exits 0);
2. asks each collector (COLLECTORS, one per kind of thing: callbacks, complaint SLAs, adjustments,
   instalments, dunning steps …) for Announcements — each with a unique key naming what, which row,
   which deadline or step and which repeat;
3. drops keys already announced, then for the rest runs the action that goes with an announcement (an
   escalation, say) and inserts its Notice rows in the same transaction, a batch at a time — so a run
   killed half way leaves whole batches done and the next run finishes the rest, announcing nothing twice;
4. with --mail, sends what is pending through the notify channels — mail, WeCom, DingTalk — including
   what earlier runs without --mail announced (see csdesk/workflows/deliveries.py).

Collectors are plain functions (desk, now, settings) -> list[Announcement]; areas register theirs with
@collector. Rules that act (auto-escalation, periodic visits) are STEPS: (desk, now, dry_run) ->
(lines saying what was done, announcements to record with it).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlmodel import select

from csdesk.errors import InvalidValue
from csdesk.i18n import N_, _
from csdesk.workflows import check_limit

BATCH = 200
# What each kind of notice is called on screen (remind list, the demo); JSON keeps the kind.
NOTICE_KINDS = {
    "callback_due": N_("callback due"), "callback_overdue": N_("callback overdue"), "callback_missed": N_("callback missed"),
    "sla_warning": N_("SLA warning"), "sla_breach": N_("SLA breached"), "complaint_escalated": N_("complaint escalated"),
    "adjustment_overdue": N_("adjustment overdue"), "instalment_due": N_("instalment due"),
    "instalment_overdue": N_("instalment overdue"), "dunning_step": N_("dunning step due"), "archive_due": N_("archive due"),
    "shift_untaken": N_("handover not taken"), "shift_refused": N_("handover refused"), "qa_failed": N_("quality check failed"),
    "key_account_unmanaged": N_("key account without a qualified manager"),
}
# Kinds that are late: shown with a word and colour that survive NO_COLOR and a pipe.
LATE_KINDS = ("callback_overdue", "callback_missed", "sla_breach", "adjustment_overdue", "instalment_overdue")


def kind_label(kind: str) -> str:
    """A notice kind in the interface language (a kind added elsewhere without a label: as it is)."""
    return _(NOTICE_KINDS[kind]) if kind in NOTICE_KINDS else kind
# Series a batched rule pass handles per transaction: ~0.1-0.3 s of work on a 2-core server, so that
# log-call and the other writers never wait long; between two batches the run pauses STEP_PAUSE so a
# waiting writer gets the lock (SQLite's busy handler polls, it does not queue).
STEP_BATCH = 100
STEP_PAUSE = 0.1
MAX_BATCHES = 100_000


@dataclass
class Announcement:
    key: str                      # unique forever: "callback.overdue:123:2026-11-24T02:00" (+ ":r2" for repeats)
    kind: str                     # callback_due, sla_breach, instalment_overdue, dunning_step, …
    entity: str                   # table name of the row it is about
    entity_id: int
    recipients: list[int]         # staff ids
    message: str                  # one line a person reads
    action: Callable[[Any], str | None] | None = None  # runs in the notice's transaction; may refine the message
    breach: bool = False          # counts for --fail-on-breach


@dataclass
class NoticeOut:
    kind: str
    entity: str
    entity_id: int
    recipient: str | None
    message: str


@dataclass
class RunResult:
    run_id: str
    now: datetime
    dry_run: bool
    skipped: bool = False                       # another run holds the lock
    notices: list[NoticeOut] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)   # what rules did (escalations, visits created)
    already: int = 0                            # candidates announced by an earlier run
    breaches: int = 0
    mail: dict[str, Any] = field(default_factory=dict)

    def by_person(self) -> dict[str, list[NoticeOut]]:
        out: dict[str, list[NoticeOut]] = defaultdict(list)
        for n in self.notices:
            out[n.recipient or _("(nobody)")].append(n)
        return dict(out)


COLLECTORS: list[tuple[str, Callable]] = []
STEPS: list[tuple[str, Callable]] = []


def collector(name: str):
    def deco(fn):
        COLLECTORS.append((name, fn))
        return fn

    return deco


def step(name: str, batched: bool = False):
    """A rule that acts. A batched one takes `limit` and returns (counts, announcements, more to do),
    with `fn.describe(counts) -> lines`; the run calls it once per short transaction while there is
    more, so that a pass over 50,000 customers never holds the write lock for long."""
    def deco(fn):
        fn.batched = batched
        STEPS.append((name, fn))
        return fn

    return deco


def repeat_suffix(settings, due: datetime, now: datetime) -> str:
    """'' for the first announcement of something overdue; ':rN' on the configured repeat cadence."""
    from csdesk import dates

    every = settings["reminders"]["repeat_overdue_every"]
    if not every:
        return ""
    period = dates.parse_duration(every)
    if period <= timedelta(0):
        raise InvalidValue(_("config: reminders.repeat_overdue_every must be a positive duration"))
    n = int((now - due) / period)
    return f":r{n}" if n > 0 else ""


def _load_collectors() -> None:
    """The areas' collectors live in csdesk/workflows/reminder_rules.py, imported on first use."""
    import csdesk.workflows.reminder_rules  # noqa: F401
    import csdesk.workflows.archive_rules  # noqa: F401


def remind_run(database, settings, now: datetime, dry_run: bool = False, mail: bool = False) -> RunResult:
    from csdesk.models import Notice, Staff
    from csdesk.workflows import Desk

    _load_collectors()
    result = RunResult(run_id=uuid.uuid4().hex[:12], now=now, dry_run=dry_run)
    from csdesk.db import run_lock

    with run_lock(database, "remind") as held:
        if not held:
            result.skipped = True
            return result

        def make_desk(session):
            return Desk(session=session, settings=settings, now=now, actor=None, via="remind run")

        names: dict[int, str] = {}

        def staff_names(session):
            for s in session.exec(select(Staff)).all():
                names[s.id] = s.name
            return routes(session, settings)

        # Which channels serve whom (a bad [notify] section is refused here, before anything is done).
        # Every notice gets its deliveries now, sent by this run with --mail or else by the next that sends.
        from csdesk.workflows.deliveries import add_deliveries, routes, status_for

        routing = database.read(staff_names)

        # Rules that act (escalate breached complaints, create periodic visits) come first, so that
        # what they produce is announced in this same run. A step returns (lines, announcements); its
        # announcements are recorded in the same transaction as what it did.
        for name, fn in STEPS:
            batched = getattr(fn, "batched", False)

            def act(session, fn=fn, batched=batched):
                desk = make_desk(session)
                more = False
                if batched:
                    lines, announcements, more = fn(desk, now, dry_run=dry_run, limit=None if dry_run else STEP_BATCH)
                else:
                    lines, announcements = fn(desk, now, dry_run=dry_run)
                made, rows = [], []
                keys = [_notice_key(a.key, r) for a in announcements for r in (a.recipients or [None])]
                taken = set()
                for i in range(0, len(keys), 500):
                    taken.update(session.exec(select(Notice.key).where(Notice.key.in_(keys[i:i + 500]))).all())
                for a in announcements:
                    for r in a.recipients or [None]:
                        key = _notice_key(a.key, r)
                        if key in taken:
                            continue
                        taken.add(key)
                        if not dry_run:
                            rows.append(Notice(
                                key=key, kind=a.kind, entity=a.entity, entity_id=a.entity_id, recipient_id=r,
                                message=a.message, created_at=now, run_id=result.run_id,
                                mail_status=status_for(r, routing),
                            ))
                        made.append(NoticeOut(a.kind, a.entity, a.entity_id, names.get(r), a.message))
                session.add_all(rows)
                add_deliveries(session, rows, routing)
                return lines, made, more

            if not batched:
                lines, made, _more = (database.read if dry_run else database.write)(act)
                result.actions.extend(lines)
                result.notices.extend(made)
                continue
            counts: Counter = Counter()
            for n in range(MAX_BATCHES):
                if n:
                    time.sleep(STEP_PAUSE)
                part, made, more = (database.read if dry_run else database.write)(act)
                counts.update(part)
                result.notices.extend(made)
                if not more:
                    break
            result.actions.extend(fn.describe(counts))

        for name, fn in COLLECTORS:
            candidates: list[Announcement] = database.read(lambda s, fn=fn: fn(make_desk(s), now, settings))
            result.breaches += sum(1 for a in candidates if a.breach)
            fresh = _unannounced(database, candidates)
            result.already += len(candidates) - len(fresh)
            for start in range(0, len(fresh), BATCH):
                batch = fresh[start:start + BATCH]
                if dry_run:
                    for a in batch:
                        for r in a.recipients or [None]:
                            result.notices.append(NoticeOut(a.kind, a.entity, a.entity_id, names.get(r), a.message))
                    continue

                def write_batch(session, batch=batch):
                    desk = make_desk(session)
                    made, rows = [], []
                    keys = [_notice_key(a.key, r) for a in batch for r in (a.recipients or [None])]
                    taken = set(session.exec(select(Notice.key).where(Notice.key.in_(keys))).all())
                    for a in batch:
                        todo = [r for r in (a.recipients or [None]) if _notice_key(a.key, r) not in taken]
                        if not todo:
                            continue
                        message = a.message
                        if a.action is not None:
                            message = a.action(desk) or message
                        for r in todo:
                            rows.append(Notice(
                                key=_notice_key(a.key, r), kind=a.kind, entity=a.entity, entity_id=a.entity_id,
                                recipient_id=r, message=message, created_at=now, run_id=result.run_id,
                                mail_status=status_for(r, routing),
                            ))
                            made.append(NoticeOut(a.kind, a.entity, a.entity_id, names.get(r), message))
                    session.add_all(rows)
                    add_deliveries(session, rows, routing)
                    return made

                result.notices.extend(database.write(write_batch))

        if mail and not dry_run:
            from csdesk.workflows.deliveries import deliver_pending

            result.mail = deliver_pending(database, settings, now)
            result.mail["warnings"] += routing.warnings
    return result


def _notice_key(key: str, recipient: int | None) -> str:
    return f"{key}>{recipient if recipient is not None else '-'}"


def _unannounced(database, candidates: list[Announcement]) -> list[Announcement]:
    """Candidates with at least one recipient not yet told (one indexed lookup per 500 keys)."""
    from csdesk.models import Notice

    if not candidates:
        return []
    keys = [_notice_key(a.key, r) for a in candidates for r in (a.recipients or [None])]

    def lookup(session):
        taken: set[str] = set()
        for i in range(0, len(keys), 500):
            taken.update(session.exec(select(Notice.key).where(Notice.key.in_(keys[i:i + 500]))).all())
        return taken

    taken = database.read(lookup)
    return [a for a in candidates if any(_notice_key(a.key, r) not in taken for r in (a.recipients or [None]))]


@dataclass
class NoticeRow:
    id: int
    created_at: datetime
    kind: str
    recipient: str | None
    message: str
    mail_status: str


def _notice_filter(desk, query, since: datetime | None, recipient: str | None):
    from csdesk.models import Notice

    if since:
        query = query.where(Notice.created_at >= since)
    if recipient:
        if recipient.strip().lower() in ("me", "我"):
            staff_id = desk.require_actor().id
        else:
            from csdesk.workflows.staff import find_staff

            staff_id = find_staff(desk.session, recipient, active_only=False).id
        query = query.where(Notice.recipient_id == staff_id)
    return query


def list_notices(desk, since: datetime | None = None, recipient: str | None = None, limit: int = 100) -> list[NoticeRow]:
    """The announcements made, newest first; `recipient` may be `me` (the person acting)."""
    from csdesk.models import Notice, Staff

    check_limit(limit)
    query = _notice_filter(desk, select(Notice, Staff.name).outerjoin(Staff, Staff.id == Notice.recipient_id), since, recipient)
    rows = desk.session.exec(query.order_by(Notice.id.desc()).limit(limit)).all()
    return [NoticeRow(n.id, n.created_at, n.kind, name, n.message, n.mail_status) for n, name in rows]


def count_notices(desk, since: datetime | None = None, recipient: str | None = None) -> int:
    """How many announcements `list_notices` would show without its limit."""
    from sqlalchemy import func

    from csdesk.models import Notice

    return desk.session.exec(_notice_filter(desk, select(func.count()).select_from(Notice), since, recipient)).one()
