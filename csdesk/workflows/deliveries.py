"""The delivery ledger: each notice reaches each of its channels once.

- When a reminder run records a notice it also records one `delivery` row (status pending) for every
  enabled channel that serves the recipient (`routes`), whether or not that run sends: a run without
  --mail leaves them for the next run that sends.
- A sending run (`deliver_pending`) first deals with messages of unknown fate, then gathers each
  channel's pending deliveries into digests: one mail per person, or a few posts per chat group
  (split to the service's size limit). A digest's row — Message-ID, subject, text — is committed
  before it is sent. Then:
    accepted → the digest and its deliveries are `sent` (never sent again);
    refused  → the digest is `failed` and its deliveries are free again, with the error: the next run
               puts them in a new digest (nothing was delivered, so nothing is repeated);
    unknown  → (no answer in time, or the run was killed after sending) the digest stays `sending`:
               a later run sends the very same text with the same Message-ID, at most once per
               `notify.resend_unknown_after`, until the service accepts it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select

from csdesk import notify
from csdesk.i18n import _


@dataclass
class Routes:
    by_staff: dict[int, list[str]]          # staff id -> channel names that serve them
    warnings: list[str]


def routes(session, settings) -> Routes:
    """Which enabled channels serve each staff member (mail only those with an email address)."""
    from csdesk.models import Staff

    chans = [c for c in notify.channels(settings) if c.enabled]
    notify.resend_after(settings), notify.timeout(settings)  # checked before anything is done
    staff = session.exec(select(Staff.id, Staff.name, Staff.role, Staff.email)).all()
    by_staff: dict[int, list[str]] = defaultdict(list)
    for staff_id, name, role, email in staff:
        for ch in chans:
            if ch.kind == "email" and not email:
                continue
            if ch.serves_person(name, role):
                by_staff[staff_id].append(ch.name)
    names = {name for _, name, _, _ in staff}
    warnings = []
    for ch in chans:
        for who in ch.serves:
            if who not in ("*", "all") and who not in names and who.removeprefix("role:") not in notify.ROLES:
                warnings.append(_("channel {channel} serves {who!r}, who is neither a staff member nor a role").format(channel=ch.name, who=who))
    return Routes(dict(by_staff), warnings)


def add_deliveries(session, notices: list, routes: Routes) -> None:
    """Pending deliveries for notices just added (flushed here to get their ids)."""
    from csdesk.models import Delivery

    wanted = [n for n in notices if n.recipient_id is not None and routes.by_staff.get(n.recipient_id)]
    if not wanted:
        return
    session.flush()
    session.add_all([Delivery(notice_id=n.id, channel=ch, status="pending", attempts=0)
                     for n in wanted for ch in routes.by_staff[n.recipient_id]])


def status_for(recipient_id: int | None, routes: Routes | None) -> str:
    return "pending" if routes is not None and recipient_id is not None and routes.by_staff.get(recipient_id) else "none"


# ---- sending -------------------------------------------------------------------------------------


def deliver_pending(database, settings, now: datetime) -> dict[str, Any]:
    """Send what is pending on every enabled channel; returns what happened (counts, failures)."""
    chans = [c for c in notify.channels(settings) if c.enabled]
    period = notify.resend_after(settings)
    wait = notify.timeout(settings)
    report: dict[str, Any] = {"sent": 0, "notices_mailed": 0, "failed": [], "unknown": [], "waiting": 0,
                              "pending": 0, "channels": {}, "warnings": []}
    if not chans:
        report["warnings"].append(_("no channel to send through: set smtp.host and smtp.from_addr, or add [notify.channels]"))
    for ch in chans:
        mine = {"sent": 0, "notices": 0, "failed": 0, "unknown": 0, "waiting": 0}
        report["channels"][ch.name] = mine
        # Planned before the resends, so that notices a failed resend frees wait for the next run
        # instead of going out again straight away.
        plans = _plan_digests(database, settings, ch)
        for digest in database.read(lambda s, ch=ch: _open_digests(s, ch.name)):
            if digest["tried_at"] is not None and digest["tried_at"] + period > now:
                mine["waiting"] += 1
                report["waiting"] += 1
                report["unknown"].append({"channel": ch.name, "message_id": digest["message_id"],
                                          "recipient": digest["recipient"], "notices": digest["notices"],
                                          "next_try": digest["tried_at"] + period, "error": digest["error"]})
                continue
            database.write(lambda s, d=digest["id"]: _mark_try(s, d, now))
            _send_and_record(database, settings, ch, digest, now, wait, report, mine)
        for plan in plans:
            if mine["failed"] and ch.kind != "email":
                break  # the robot refuses or is unreachable: the rest waits for the next run
            digest = database.write(lambda s, p=plan: _record_digest(s, ch, p, now))
            if digest is not None:
                _send_and_record(database, settings, ch, digest, now, wait, report, mine)
    report["pending"] = database.read(_count_pending)
    return report


def _count_pending(session) -> int:
    from sqlalchemy import func

    from csdesk.models import Delivery

    return session.exec(select(func.count()).select_from(Delivery).where(Delivery.status == "pending")).one()


def _open_digests(session, channel: str) -> list[dict]:
    from csdesk.models import Digest, Staff

    rows = session.exec(select(Digest, Staff.name).outerjoin(Staff, Staff.id == Digest.recipient_id)
                        .where(Digest.channel == channel, Digest.status == "sending").order_by(Digest.id)).all()
    return [_plain(d, name) for d, name in rows]


def _plain(d, recipient: str | None) -> dict:
    return {"id": d.id, "message_id": d.message_id, "subject": d.subject, "body": d.body, "address": d.address,
            "recipient": recipient, "notices": d.notices, "tried_at": d.tried_at, "error": d.error}


def _mark_try(session, digest_id: int, now: datetime) -> None:
    from csdesk.models import Digest

    d = session.get(Digest, digest_id)
    d.attempts += 1
    d.tried_at = now
    session.add(d)


def _domain(settings) -> str:
    addr = settings["smtp"].get("from_addr") or ""
    return addr.rsplit("@", 1)[1].strip("> ") if "@" in addr else "csdesk"


def _plan_digests(database, settings, ch: notify.Channel) -> list[dict]:
    """The digests (text, notice ids) to make of the channel's free pending deliveries; each is
    recorded (`_record_digest`) just before it is sent."""
    from csdesk import dates
    from csdesk.models import Delivery, Notice, Staff

    def pending(session):
        return session.exec(
            select(Notice.id, Notice.created_at, Notice.message, Staff.id, Staff.name, Staff.email)
            .join(Delivery, Delivery.notice_id == Notice.id).join(Staff, Staff.id == Notice.recipient_id)
            .where(Delivery.channel == ch.name, Delivery.status == "pending", Delivery.digest_id.is_(None))
            .order_by(Notice.id)
        ).all()

    rows = database.read(pending)
    if not rows:
        return []
    tz = settings.tz
    by_person: dict[int, list] = defaultdict(list)
    people: dict[int, tuple[str, str | None]] = {}
    for notice_id, at, message, staff_id, name, email in rows:
        by_person[staff_id].append((notice_id, at, message))
        people[staff_id] = (name, email)

    plans: list[dict] = []
    if ch.kind == "email":
        for staff_id, items in by_person.items():
            name, email = people[staff_id]
            if not email:
                continue  # their address was removed since: the deliveries wait for one
            chunks = [items[i:i + notify.MAIL_NOTICES] for i in range(0, len(items), notify.MAIL_NOTICES)]
            for k, chunk in enumerate(chunks, 1):
                part = f" ({k}/{len(chunks)})" if len(chunks) > 1 else ""
                # The digest is written in the language of the run that sends it (cron's CSDESK_LANG or
                # the settings' lang); the notices' own lines are as they were recorded.
                lines = [_("Hello {name},").format(name=name), "",
                         (_("csdesk has 1 reminder for you:") if len(chunk) == 1 else
                          _("csdesk has {count} reminders for you:").format(count=len(chunk))), ""]
                lines += [f"- [{dates.fmt(at, tz)}] {message}" for _n, at, message in chunk]
                lines += ["", _("— csdesk remind run")]
                subject = (_("csdesk: 1 reminder for {name}") if len(chunk) == 1 else
                           _("csdesk: {count} reminders for {name}")).format(count=len(chunk), name=name)
                plans.append({"recipient_id": staff_id, "recipient": name, "address": email,
                              "subject": subject + part,
                              "body": "\n".join(lines), "ids": [n for n, _, _ in chunk],
                              "message_id": f"<csdesk-{uuid.uuid4().hex}@{_domain(settings)}>"})
    else:
        markdown = ch.format == "markdown"
        sections = []
        for staff_id, items in by_person.items():
            name = notify.mask_numbers(people[staff_id][0])
            sections.append((f"{name} ({len(items)})",
                             [(n, notify.mask_numbers(f"[{dates.fmt(at, tz)}] {message}")) for n, at, message in items]))
        total = len(rows)
        title = _("csdesk: 1 reminder") if total == 1 else _("csdesk: {count} reminders").format(count=total)
        ref = uuid.uuid4().hex
        footer = _("— csdesk remind run · {ref} · {{part}}").format(ref=ref[:10])
        for text, ids in notify.chat_parts(title, sections, ch.limit, markdown, footer):
            plans.append({"recipient_id": None, "recipient": None, "address": None, "subject": title,
                          "body": text, "ids": ids, "message_id": f"<csdesk-{uuid.uuid4().hex}@{_domain(settings)}>"})

    return plans


def _record_digest(session, ch: notify.Channel, plan: dict, now: datetime) -> dict | None:
    from csdesk.models import Delivery, Digest

    free = session.exec(select(Delivery).where(
        Delivery.channel == ch.name, Delivery.notice_id.in_(plan["ids"]), Delivery.status == "pending",
        Delivery.digest_id.is_(None))).all()
    if not free:
        return None
    d = Digest(channel=ch.name, kind=ch.kind, recipient_id=plan["recipient_id"], address=plan["address"],
               message_id=plan["message_id"], subject=plan["subject"][:300], body=plan["body"], notices=len(free),
               status="sending", attempts=1, created_at=now, tried_at=now)
    session.add(d)
    session.flush()
    for delivery in free:
        delivery.digest_id = d.id
        session.add(delivery)
    return _plain(d, plan["recipient"])


def _send_and_record(database, settings, ch, digest: dict, now, wait, report, mine) -> None:
    try:
        if ch.kind == "email":
            notify.send_mail(settings, digest["address"], digest["subject"], digest["body"], digest["message_id"])
        else:
            notify.send_chat(ch, digest["subject"], digest["body"], wait)
    except notify.Unknown as exc:
        error = str(exc.message)[:300]
        database.write(lambda s: _after(s, digest["id"], "unknown", error, now))
        mine["unknown"] += 1
        report["unknown"].append({"channel": ch.name, "message_id": digest["message_id"], "recipient": digest["recipient"],
                                  "notices": digest["notices"], "next_try": None, "error": error})
        return
    except notify.Refused as exc:
        error = str(exc.message)[:300]
        database.write(lambda s: _after(s, digest["id"], "failed", error, now))
        mine["failed"] += 1
        report["failed"].append({"channel": ch.name, "recipient": digest["recipient"], "error": error,
                                 "notices": digest["notices"]})
        return
    database.write(lambda s: _after(s, digest["id"], "sent", None, now))
    mine["sent"] += 1
    mine["notices"] += digest["notices"]
    report["sent"] += 1
    report["notices_mailed"] += digest["notices"]


def _after(session, digest_id: int, outcome: str, error: str | None, now: datetime) -> None:
    """Record a send's outcome on the digest, its deliveries and their notices, in one transaction."""
    from csdesk.models import Delivery, Digest, Notice

    d = session.get(Digest, digest_id)
    deliveries = session.exec(select(Delivery).where(Delivery.digest_id == digest_id)).all()
    notices = {n.id: n for n in session.exec(select(Notice).where(Notice.id.in_([x.notice_id for x in deliveries]))).all()} if deliveries else {}
    d.error = error
    if outcome == "sent":
        d.status, d.sent_at = "sent", now
    elif outcome == "failed":
        d.status = "failed"
    session.add(d)
    for x in deliveries:
        x.attempts += 1
        x.error = error
        if outcome == "sent":
            x.status, x.sent_at = "sent", now
        elif outcome == "failed":
            x.digest_id = None
        session.add(x)
        n = notices[x.notice_id]
        n.mail_attempts += 1
        n.mail_error = error
        session.add(n)
    session.flush()
    if outcome == "sent" and notices:
        still = set(session.exec(select(Delivery.notice_id).where(
            Delivery.notice_id.in_(list(notices)), Delivery.status == "pending").group_by(Delivery.notice_id)).all())
        for n in notices.values():
            if n.id not in still:
                n.mail_status, n.mailed_at = "sent", now
                session.add(n)


# ---- status --------------------------------------------------------------------------------------


@dataclass
class ChannelStatus:
    channel: str
    kind: str
    enabled: bool
    serves: list[str]
    pending: int
    unknown: int
    sent: int
    last_sent: datetime | None
    last_error: str | None


def channel_status(desk) -> list[ChannelStatus]:
    """Each channel: notices waiting, messages of unknown fate, messages sent, the last error."""
    from sqlalchemy import func

    from csdesk.models import Delivery, Digest

    s = desk.session
    out = []
    for ch in notify.channels(desk.settings):
        pending = s.exec(select(func.count()).select_from(Delivery).where(Delivery.channel == ch.name, Delivery.status == "pending")).one()
        unknown = s.exec(select(func.count()).select_from(Digest).where(Digest.channel == ch.name, Digest.status == "sending")).one()
        sent = s.exec(select(func.count()).select_from(Digest).where(Digest.channel == ch.name, Digest.status == "sent")).one()
        last_sent = s.exec(select(func.max(Digest.sent_at)).where(Digest.channel == ch.name)).one()
        last_error = s.exec(select(Digest.error).where(Digest.channel == ch.name, Digest.error.is_not(None))
                            .order_by(Digest.id.desc()).limit(1)).first()
        out.append(ChannelStatus(ch.name, ch.kind, ch.enabled, list(ch.serves), pending, unknown, sent, last_sent, last_error))
    return out
