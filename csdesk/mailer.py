"""Mail through the SMTP server in config: reports (`report … --mail-to`) and reminder digests.

Reminder digests are sent by csdesk/workflows/deliveries.py (the ledger) through csdesk/notify.py,
which tells a refused mail from one whose fate is unknown.
"""

from __future__ import annotations

import os
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from csdesk.i18n import _


def smtp_settings(settings) -> dict:
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


_settings = smtp_settings  # the name other modules used before


def build_message(cfg: dict, to_addr: str, subject: str, body: str, attachments=(), msg_id: str | None = None,
                  mask: bool = False) -> EmailMessage:
    """One mail. `mask`: phone numbers typed into the text are masked (a mailed report is an export); a
    reminder digest to a staff member keeps them whole — it is the number they must call back."""
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

    msg.set_content(visible(mask_in_text(body) if mask else body))
    for filename, data, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def send_message(settings, to_addr: str, subject: str, body: str, attachments: list[tuple[str, bytes, str]] = (), msg_id: str | None = None) -> None:
    """Send one mail; raises OSError/smtplib.SMTPException when it was not accepted."""
    import smtplib

    cfg = smtp_settings(settings)
    if not cfg["host"] or not cfg["from_addr"]:
        raise OSError(_("smtp.host and smtp.from_addr are not configured"))
    msg = build_message(cfg, to_addr, subject, body, attachments, msg_id, mask=bool(settings["export"]["mask_phones"]))
    with smtplib.SMTP(cfg["host"], cfg["port"], timeout=cfg["timeout"]) as smtp:
        if cfg["starttls"]:
            smtp.starttls()
        if cfg["user"]:
            smtp.login(cfg["user"], cfg["password"])
        smtp.send_message(msg)
