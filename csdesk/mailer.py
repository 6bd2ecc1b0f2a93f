"""Mailing reminder digests: one mail per recipient per run, through the SMTP server in config.

A notice waits with mail_status "pending" until a digest that contains it has been accepted by the
server; then it is marked "sent" in its own transaction. A server that refuses or cannot be reached
leaves the notices pending (with the error and the attempt count) for the next run: never lost.
The one unavoidable window — the server accepted the mail and the process died before marking it —
is a few milliseconds wide; the digest's Message-ID is derived from its notices so a receiving
server or reader can spot such a repeat.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlmodel import select


def _settings(settings) -> dict:
    smtp = settings["smtp"]
    return {
        "host": smtp.get("host") or "",
        "port": int(smtp.get("port") or 25),
        "starttls": bool(smtp.get("starttls")),
        "user": smtp.get("user") or "",
        "password": os.environ.get(smtp.get("password_env") or "", ""),
        "from_addr": smtp.get("from_addr") or "",
        "timeout": float(smtp.get("timeout", 20) or 20),
    }


def send_message(settings, to_addr: str, subject: str, body: str, attachments: list[tuple[str, bytes, str]] = (), msg_id: str | None = None) -> None:
    """Send one mail; raises OSError/smtplib.SMTPException when it was not accepted."""
    import smtplib

    cfg = _settings(settings)
    if not cfg["host"] or not cfg["from_addr"]:
        raise OSError("smtp.host and smtp.from_addr are not configured")
    msg = EmailMessage()
    msg["From"] = cfg["from_addr"]
    msg["To"] = to_addr
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = msg_id or make_msgid(domain="csdesk")
    # Mail is an export: phone numbers typed into notices' text are masked like the phone columns, and
    # control characters are written out (a terminal mail reader would act on them).
    from csdesk.phones import mask_in_text
    from csdesk.text import visible

    msg.set_content(visible(mask_in_text(body) if settings["export"]["mask_phones"] else body))
    for filename, data, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    with smtplib.SMTP(cfg["host"], cfg["port"], timeout=cfg["timeout"]) as smtp:
        if cfg["starttls"]:
            smtp.starttls()
        if cfg["user"]:
            smtp.login(cfg["user"], cfg["password"])
        smtp.send_message(msg)


def send_pending(database, settings, now: datetime) -> dict:
    """Send a digest to each recipient with pending notices; returns counts and failures."""
    from csdesk import dates
    from csdesk.models import Notice, Staff

    def pending(session):
        rows = session.exec(
            select(Notice, Staff).join(Staff, Staff.id == Notice.recipient_id).where(Notice.mail_status == "pending").order_by(Notice.id)
        ).all()
        grouped: dict[int, list] = defaultdict(list)
        people = {}
        for notice, staff in rows:
            grouped[staff.id].append((notice.id, notice.created_at, notice.message))
            people[staff.id] = (staff.name, staff.email)
        return grouped, people

    grouped, people = database.read(pending)
    report = {"sent": 0, "notices_mailed": 0, "failed": [], "pending": 0}
    tz = settings.tz
    for staff_id, notices in grouped.items():
        name, email = people[staff_id]
        ids = [n[0] for n in notices]
        lines = [f"{name}，您好：", "", f"csdesk 提醒 ({len(notices)} 条) — reminders:", ""]
        lines += [f"- [{dates.fmt(at, tz)}] {message}" for _, at, message in notices]
        lines += ["", "— csdesk remind run"]
        subject = f"csdesk: {len(notices)} 条提醒 reminders for {name}"
        msg_id = f"<csdesk-{staff_id}-{ids[0]}-{ids[-1]}-{len(ids)}@csdesk>"
        try:
            send_message(settings, email, subject, "\n".join(lines), msg_id=msg_id)
        except Exception as exc:  # noqa: BLE001 — any failure keeps the notices pending
            error = f"{type(exc).__name__}: {exc}"[:300]

            def failed(session, ids=ids, error=error):
                for notice in session.exec(select(Notice).where(Notice.id.in_(ids))).all():
                    notice.mail_attempts += 1
                    notice.mail_error = error
                    session.add(notice)

            database.write(failed)
            report["failed"].append({"recipient": name, "error": error, "notices": len(ids)})
            report["pending"] += len(ids)
            continue

        def sent(session, ids=ids):
            for notice in session.exec(select(Notice).where(Notice.id.in_(ids))).all():
                notice.mail_status = "sent"
                notice.mail_attempts += 1
                notice.mail_error = None
                notice.mailed_at = now
                session.add(notice)

        database.write(sent)
        report["sent"] += 1
        report["notices_mailed"] += len(ids)
    return report
