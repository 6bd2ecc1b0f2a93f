"""Notify channels: where notices go (mail, WeCom group robots, DingTalk robots), and how one message
is sent through each. No database here: csdesk/workflows/deliveries.py keeps the ledger.

Each channel is a `[notify.channels.NAME]` table in the settings (see the README's reminders section):

    [notify.channels.ops]                 # a WeCom group robot for the supervisors and 王芳
    type = "wecom"
    webhook_env = "CSDESK_WECOM_OPS"      # or webhook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
    serves = ["supervisor", "王芳"]

A send ends in one of three ways, and the ledger treats them differently:
- accepted (`Sent`): SMTP 250 after the data; HTTP 200 with `{"errcode": 0}` in the body;
- refused (`Refused`): the service said no, or could not be reached — nothing was delivered, so the
  notices wait for the next run;
- unknown (`Unknown`): the message went out and no answer came back in time (a timeout or a dropped
  connection after the data): it may have been delivered, so it is resent only with the same id, after
  `notify.resend_unknown_after`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from csdesk.errors import CsdeskError, InvalidValue
from csdesk.i18n import _

KINDS = ("email", "wecom", "dingtalk")
ROLES = ("specialist", "supervisor", "manager", "director")
# Bytes of message text per post: WeCom documents 4096 for markdown and 2048 for text; DingTalk's robot
# has no smaller documented limit, and the same 4,000 keeps its posts readable on a phone.
LIMITS = {("wecom", "markdown"): 4096, ("wecom", "text"): 2048, ("dingtalk", "markdown"): 4000}
MAIL_NOTICES = 500  # notices per mail digest; more are split into several mails
_KEYS = {"type", "serves", "enabled", "webhook", "webhook_env", "secret", "secret_env", "format", "to"}


class Refused(CsdeskError):
    """The service refused the message or could not be reached: it was not delivered."""


class Unknown(CsdeskError):
    """The message went out but no answer came back: it may or may not have been delivered."""


@dataclass(frozen=True)
class Channel:
    name: str
    kind: str
    serves: tuple[str, ...] = ("*",)
    enabled: bool = True
    webhook: str = ""
    webhook_env: str = ""
    secret: str = field(default="", repr=False)
    secret_env: str = ""
    format: str = "markdown"

    def serves_person(self, name: str, role: str) -> bool:
        for who in self.serves:
            if who in ("*", "all") or who == name or who in (role, f"role:{role}"):
                return True
        return False

    @property
    def limit(self) -> int:
        return LIMITS.get((self.kind, self.format), 4000)

    def url(self) -> str:
        url = self.webhook or (os.environ.get(self.webhook_env, "") if self.webhook_env else "")
        if not url:
            raise Refused(_("channel {name}: no webhook (environment variable {webhook_env} is empty)").format(name=self.name, webhook_env=self.webhook_env)
                          if self.webhook_env else _("channel {name}: no webhook").format(name=self.name))
        return url

    def signing_secret(self) -> str:
        if self.secret:
            return self.secret
        if self.secret_env:
            value = os.environ.get(self.secret_env, "")
            if not value:
                raise Refused(_("channel {name}: the signing secret's environment variable {secret_env} is empty").format(name=self.name, secret_env=self.secret_env))
            return value
        return ""

    def hide(self, text: str) -> str:
        """`text` with this channel's webhook and secret replaced by ***, for errors and logs."""
        for secret in (self.webhook, self.secret,
                       os.environ.get(self.webhook_env, "") if self.webhook_env else "",
                       os.environ.get(self.secret_env, "") if self.secret_env else ""):
            if secret:
                text = text.replace(secret, "***")
        return re.sub(r"((?:key|access_token|sign)=)[^&\s'\"]+", r"\1***", text)


def channels(settings) -> list[Channel]:
    """The configured channels, checked; an `email` channel through [smtp] is implied unless listed."""
    raw = settings["notify"]["channels"]
    out: list[Channel] = []
    for name, table in raw.items():
        where = _("config: {key}").format(key=f"notify.channels.{name}")
        if not isinstance(table, dict):
            raise InvalidValue(_("{where} must be a table").format(where=where))
        if not re.fullmatch(r"[A-Za-z0-9_\-]{1,40}", name):
            raise InvalidValue(_("{where}: a channel name is 1-40 letters, digits, - or _").format(where=where))
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise InvalidValue(_("{where}: unknown key {key!r}").format(where=where, key=unknown[0]))
        kind = table.get("type", name if name in KINDS else "")
        if kind not in KINDS:
            raise InvalidValue(_("{where}: type must be one of {kinds}").format(where=where, kinds=', '.join(KINDS)))
        serves = table.get("serves", ["*"])
        if isinstance(serves, str):
            serves = [serves]
        if not isinstance(serves, list) or not all(isinstance(s, str) and s.strip() for s in serves):
            raise InvalidValue(_("{where}: serves must be a list of role names and staff names, or [\"*\"]").format(where=where))
        for key in ("webhook", "webhook_env", "secret", "secret_env", "format"):
            if not isinstance(table.get(key, ""), str):
                raise InvalidValue(_("{where}: {key} must be a string").format(where=where, key=key))
        if not isinstance(table.get("enabled", True), bool):
            raise InvalidValue(_("{where}: enabled must be true or false").format(where=where))
        fmt = table.get("format", "markdown")
        if kind == "wecom" and fmt not in ("markdown", "text"):
            raise InvalidValue(_("{where}: format must be markdown or text").format(where=where))
        if kind == "dingtalk" and fmt != "markdown":
            raise InvalidValue(_("{where}: a DingTalk channel sends markdown").format(where=where))
        if kind != "email":
            if not table.get("webhook") and not table.get("webhook_env"):
                raise InvalidValue(_("{where}: a {kind} channel needs webhook or webhook_env").format(where=where, kind=kind))
            if table.get("webhook") and not re.match(r"https?://", table["webhook"]):
                raise InvalidValue(_("{where}: webhook must be an http(s) URL").format(where=where))
        elif any(table.get(k) for k in ("webhook", "webhook_env", "secret", "secret_env")):
            raise InvalidValue(_("{where}: an email channel sends through [smtp]; it has no webhook or secret").format(where=where))
        if kind != "dingtalk" and (table.get("secret") or table.get("secret_env")):
            raise InvalidValue(_("{where}: only a dingtalk channel has a signing secret").format(where=where))
        out.append(Channel(
            name=name, kind=kind, serves=tuple(s.strip() for s in serves), enabled=table.get("enabled", True),
            webhook=table.get("webhook", ""), webhook_env=table.get("webhook_env", ""),
            secret=table.get("secret", ""), secret_env=table.get("secret_env", ""), format=fmt,
        ))
    if not any(c.kind == "email" for c in out) and "email" not in raw:
        smtp = settings["smtp"]
        out.insert(0, Channel(name="email", kind="email", enabled=bool(smtp.get("host") and smtp.get("from_addr"))))
    return out


def find_channel(settings, name: str) -> Channel:
    for ch in channels(settings):
        if ch.name == name:
            return ch
    known = ", ".join(c.name for c in channels(settings)) or "none"
    raise InvalidValue(_("no notify channel named {name!r} (configured: {known})").format(name=name, known=known))


def resend_after(settings):
    from datetime import timedelta

    from csdesk import dates

    text = settings["notify"]["resend_unknown_after"]
    try:
        period = dates.parse_duration(text)
    except InvalidValue as exc:
        raise InvalidValue(_("config: notify.resend_unknown_after: {message}").format(message=exc.message)) from None
    if period < timedelta(0):
        raise InvalidValue(_("config: notify.resend_unknown_after must not be negative"))
    return period


def timeout(settings) -> float:
    value = settings["notify"]["timeout"]
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 300:
        raise InvalidValue(_("config: notify.timeout must be a number of seconds between 0 and 300"))
    return float(value)


# ---- masking -----------------------------------------------------------------------------------


def mask_numbers(text: str) -> str:
    """Chat groups see phone numbers only masked (138****5678): the one masker of free text."""
    from csdesk.phones import mask_in_text

    return mask_in_text(text)


# ---- message text ------------------------------------------------------------------------------


def chat_parts(title: str, sections: list[tuple[str, list[tuple[int, str]]]], limit: int, markdown: bool, footer: str) -> list[tuple[str, list[int]]]:
    """Split a chat digest into posts of at most `limit` bytes (UTF-8), each with its notice ids.

    `sections`: (heading, [(notice id, line)]) per person. A heading is repeated at the top of every
    post its lines continue into; a single line too long for a post is cut with …."""
    def enc(s: str) -> int:
        return len(s.encode("utf-8"))

    head = f"### {title}" if markdown else title
    foot_len = enc("\n\n" + footer.format(part="99/99")) + 8
    parts: list[tuple[list[str], list[int]]] = []
    lines: list[str] = [head]
    ids: list[int] = []
    size = enc(head) + foot_len
    for heading, items in sections:
        sub = f"**{heading}**" if markdown else heading
        first = True
        for notice_id, line in items:
            bullet = f"- {line}"
            budget = limit - foot_len - enc(head) - enc(sub) - 4
            if enc(bullet) > budget:
                bullet = bullet.encode("utf-8")[: max(0, budget - 3)].decode("utf-8", "ignore") + "…"
            add = ([sub] if first else []) + [bullet]
            cost = sum(enc(x) + 1 for x in add)
            if ids and size + cost > limit:
                parts.append((lines, ids))
                lines, ids, size = [head, sub], [], enc(head) + 1 + enc(sub) + foot_len
                add = [bullet]
                cost = enc(bullet) + 1
            lines.extend(add)
            ids.append(notice_id)
            size += cost
            first = False
    if ids:
        parts.append((lines, ids))
    n = len(parts)
    out = []
    for i, (body, part_ids) in enumerate(parts, 1):
        text = "\n".join(body) + "\n\n" + footer.format(part=f"{i}/{n}" if n > 1 else "1/1")
        out.append((text, part_ids))
    return out


# ---- sending -----------------------------------------------------------------------------------


@dataclass
class Answer:
    """What the service said: shown by `notify test`, recorded on failures."""

    status: int | None
    body: str


def send_mail(settings, to_addr: str, subject: str, body: str, msg_id: str) -> Answer:
    """One mail through [smtp]; returns the server's answer to the data, or raises Refused/Unknown."""
    import smtplib
    import socket

    from csdesk.mailer import build_message, smtp_settings

    cfg = smtp_settings(settings)
    if not cfg["host"] or not cfg["from_addr"]:
        raise Refused(_("smtp.host and smtp.from_addr are not configured"))
    msg = build_message(cfg, to_addr, subject, body, msg_id=msg_id)
    phase = {"data": False, "answer": None}
    try:
        with smtplib.SMTP(cfg["host"], cfg["port"], timeout=cfg["timeout"]) as smtp:
            if cfg["starttls"]:
                smtp.starttls()
            if cfg["user"]:
                smtp.login(cfg["user"], cfg["password"])
            original = smtp.data

            def data(payload):
                phase["data"] = True
                answer = original(payload)
                if answer[0] == 250:
                    phase["answer"] = answer
                return answer

            smtp.data = data  # to tell a refusal before the data from a silence after it
            smtp.send_message(msg)
    except smtplib.SMTPResponseException as exc:
        if phase["answer"] is not None:  # accepted; only the goodbye failed
            return Answer(phase["answer"][0], _text(phase["answer"][1]))
        raise Refused(f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"[:300]) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise Refused(f"SMTPRecipientsRefused: {exc.recipients}"[:300]) from None
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        if phase["answer"] is not None:
            return Answer(phase["answer"][0], _text(phase["answer"][1]))
        error = f"{type(exc).__name__}: {exc}"[:300]
        if phase["data"]:
            raise Unknown(_("no answer after the mail was sent ({error})").format(error=error)) from None
        raise Refused(error) from None
    code, text = phase["answer"] or (250, b"")
    return Answer(code, _text(text))


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk's signing: sign = urlencode(base64(HMAC-SHA256(key=secret, "timestamp\\nsecret")))."""
    import base64
    import hashlib
    import hmac
    import urllib.parse

    to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    sign = base64.b64encode(hmac.new(secret.encode("utf-8"), to_sign, hashlib.sha256).digest()).decode("ascii")
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={urllib.parse.quote_plus(sign)}"


def chat_payload(channel: Channel, title: str, text: str) -> dict:
    if channel.kind == "wecom":
        if channel.format == "text":
            return {"msgtype": "text", "text": {"content": text}}
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def send_chat(channel: Channel, title: str, text: str, wait: float) -> Answer:
    """POST one message to a WeCom or DingTalk robot. Accepted only on HTTP 200 with errcode 0."""
    import http.client
    import json
    import socket
    import time
    import urllib.error
    import urllib.request

    url = channel.url()
    if channel.kind == "dingtalk":
        secret = channel.signing_secret()
        if secret:
            url = dingtalk_signed_url(url, secret, int(time.time() * 1000))
    data = json.dumps(chat_payload(channel, title, text), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    sent = False
    try:
        with _opener(url).open(request, timeout=wait) as response:
            sent = True
            status, raw = response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        body = exc.read(2000).decode("utf-8", "replace") if exc.fp else ""
        raise Refused(channel.hide(f"HTTP {exc.code}: {body.strip()[:200]}")) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise Unknown(channel.hide(_("no answer within {seconds:g} s").format(seconds=wait))) from None
        raise Refused(channel.hide(_("cannot reach the service: {reason}").format(reason=reason))) from None
    except (socket.timeout, TimeoutError, http.client.RemoteDisconnected, ConnectionResetError) as exc:
        raise Unknown(channel.hide(_("no answer ({problem})").format(problem=f"{type(exc).__name__}: {exc}")[:300])) from None
    except OSError as exc:
        if sent:
            raise Unknown(channel.hide(f"{type(exc).__name__}: {exc}"[:300])) from None
        raise Refused(channel.hide(f"{type(exc).__name__}: {exc}"[:300])) from None
    body = raw.decode("utf-8", "replace")
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if status != 200 or not isinstance(answer, dict) or answer.get("errcode") != 0:
        raise Refused(channel.hide(f"HTTP {status}: {body.strip()[:200]}"))
    return Answer(status, body.strip()[:500])


def _opener(url: str):
    """The environment's proxy settings apply, except to this machine (127.0.0.1, localhost)."""
    import urllib.parse
    import urllib.request

    host = urllib.parse.urlsplit(url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def send_test(settings, name: str, to: str | None, now) -> dict:
    """`notify test`: one message through channel `name`; the service's answer, or Refused/Unknown."""
    from csdesk import dates

    ch = find_channel(settings, name)
    try:
        return _send_test(settings, ch, to, dates.fmt(now, settings.tz))
    except (Refused, Unknown) as exc:
        raise type(exc)(_("{channel} ({kind}): {problem}").format(channel=ch.name, kind=ch.kind, problem=exc.message)) from None


def _send_test(settings, ch: Channel, to: str | None, when: str) -> dict:
    import uuid

    if ch.kind == "email":
        address = to or settings["smtp"].get("from_addr") or ""
        if not address:
            raise InvalidValue(_("say where to write: --to ADDRESS (smtp.from_addr is not set either)"))
        answer = send_mail(settings, address, _("csdesk test message"),
                           _("A test message from csdesk, {time}.").format(time=when) + "\n", f"<csdesk-test-{uuid.uuid4().hex}@csdesk>")
    else:
        if to:
            raise InvalidValue(_("--to is for email channels; a chat robot posts to its own group"))
        title = _("csdesk test message")
        text = (f"### {title}\n" if ch.format == "markdown" else "") + _("A test message from csdesk, {time}.").format(time=when)
        answer = send_chat(ch, title, text, timeout(settings))
    return {"channel": ch.name, "kind": ch.kind, "status": answer.status, "answer": answer.body}
