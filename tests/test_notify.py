"""Notify channels: WeCom and DingTalk robots and mail, each notice delivered once.

The robots are a local HTTP server on 127.0.0.1 that checks what the real services check — method,
path, the webhook's key, the JSON body and its size, DingTalk's timestamp and signature — and answers
as told: success, an error code, a timeout, a 500. Mail goes to a local aiosmtpd server that can be
slow (it accepts after the client has given up). Nothing else is contacted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import socket
import threading
import time
import urllib.parse
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from csdesk import config as cfg
from csdesk.workflows import reminders
from csdesk.workflows.call_intake import log_call

from conftest import NOW

WECOM_KEY = "wk-5a8f-secret-key"
DING_TOKEN = "dt-7c1e-access-token"
DING_SECRET = "SECd1n9-signing-secret-0042"
MOBILE = re.compile(r"1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}")


def _calls_collector(desk, now, settings):
    """Each complaint call needs a callback; the message carries the customer's number, as real ones do."""
    from sqlmodel import select

    from csdesk.models import Call

    out = []
    for call in desk.session.exec(select(Call).where(Call.kind == "complaint").order_by(Call.id)).all():
        out.append(reminders.Announcement(
            key=f"test.call:{call.id}", kind="test_overdue", entity="call", entity_id=call.id,
            recipients=[call.agent_id], message=f"call #{call.id} from {call.phone_raw} needs a callback",
        ))
    return out


@pytest.fixture(autouse=True)
def only_test_collector(monkeypatch):
    monkeypatch.setattr(reminders, "COLLECTORS", [("test", _calls_collector)])
    monkeypatch.setattr(reminders, "STEPS", [])
    monkeypatch.setattr(reminders, "_load_collectors", lambda: None)


def _log(db, n, as_="王芳", start=0):
    with db.desk(as_=as_) as desk:
        for i in range(start, start + n):
            log_call(desk, f"138 0013 {i:04d}", "complaint", f"投诉 {i}")


def _run(db, minutes=0, mail=True):
    return reminders.remind_run(db.database, cfg.load(db.path), NOW + timedelta(minutes=minutes), mail=mail)


# -- the local robot -----------------------------------------------------------------------------


class Robot:
    """A WeCom or DingTalk robot on 127.0.0.1. `answers` is consumed one per request (then "ok")."""

    def __init__(self, kind: str, wait: float = 0.6):
        self.kind = kind
        self.answers: list[str] = []
        self.requests: list[dict] = []   # every request that passed the checks
        self.accepted: list[dict] = []   # the payloads answered with success
        self.problems: list[str] = []    # requests the real service would reject as malformed
        self.wait = wait
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                robot.problems.append(f"method GET {self.path}")
                self.send_response(405)
                self.end_headers()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                problem = robot.check(self.path, self.headers.get("Content-Type", ""), raw)
                if problem:
                    robot.problems.append(problem)
                    return self.reply(200, {"errcode": 40008 if robot.kind == "wecom" else 310000, "errmsg": problem})
                payload = json.loads(raw)
                robot.requests.append(payload)
                answer = robot.answers.pop(0) if robot.answers else "ok"
                if answer == "ok":
                    robot.accepted.append(payload)
                    return self.reply(200, {"errcode": 0, "errmsg": "ok"})
                if answer == "error":
                    return self.reply(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
                if answer == "500":
                    return self.reply(500, {"error": "internal"})
                if answer == "timeout":
                    time.sleep(robot.wait)  # the client has given up by now
                    try:
                        self.reply(200, {"errcode": 45009, "errmsg": "too late"})
                    except OSError:
                        pass
                    return None
                raise AssertionError(answer)

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def webhook(self) -> str:
        if self.kind == "wecom":
            return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key={WECOM_KEY}"
        return f"http://127.0.0.1:{self.port}/robot/send?access_token={DING_TOKEN}"

    def check(self, path: str, content_type: str, raw: bytes) -> str | None:
        url = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(url.query)
        if "application/json" not in content_type:
            return f"content type {content_type}"
        try:
            payload = json.loads(raw.decode("utf-8"))
        except ValueError:
            return "body is not JSON"
        if self.kind == "wecom":
            if url.path != "/cgi-bin/webhook/send" or query.get("key") != [WECOM_KEY]:
                return f"path {url.path} / key"
            msgtype = payload.get("msgtype")
            if msgtype == "markdown":
                content, limit = payload["markdown"]["content"], 4096
            elif msgtype == "text":
                content, limit = payload["text"]["content"], 2048
            else:
                return f"msgtype {msgtype}"
        else:
            if url.path != "/robot/send" or query.get("access_token") != [DING_TOKEN]:
                return f"path {url.path} / token"
            stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            if not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > 3600_000:
                return f"timestamp {stamp!r}"
            expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()).decode()
            if sign != expected:
                return "sign mismatch"
            if payload.get("msgtype") != "markdown" or not payload["markdown"].get("title"):
                return "not markdown with a title"
            content, limit = payload["markdown"]["text"], 4000
        if len(content.encode("utf-8")) > limit:
            return f"content of {len(content.encode('utf-8'))} bytes"
        return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robots():
    made = []

    def start(kind, wait=0.6):
        robot = Robot(kind, wait)
        made.append(robot)
        return robot

    yield start
    for r in made:
        r.close()


def _config(tmp_path, body: str) -> None:
    (tmp_path / "csdesk.toml").write_text(body, encoding="utf-8")


def _wecom(robot, extra="", serves='["*"]', timeout=0.3, resend="30m"):
    return (f'[notify]\ntimeout = {timeout}\nresend_unknown_after = "{resend}"\n'
            f'[notify.channels.ops]\ntype = "wecom"\nwebhook = "{robot.webhook}"\nserves = {serves}\n{extra}')


def _text(payload) -> str:
    if "markdown" in payload:
        return payload["markdown"].get("content") or payload["markdown"]["text"]
    return payload["text"]["content"]


def _notices_in(payloads) -> list[int]:
    return [int(n) for p in payloads for n in re.findall(r"call #(\d+) from", _text(p))]


# -- WeCom ---------------------------------------------------------------------------------------


def test_wecom_success_error_timeout_500_nothing_lost_nothing_twice(team, robots, tmp_path):
    robot = robots("wecom")
    _config(tmp_path, _wecom(robot))
    robot.answers = ["ok", "error", "timeout", "500"]
    _log(team, 2)
    first = _run(team)
    assert first.mail["sent"] == 1 and first.mail["notices_mailed"] == 2
    _log(team, 2, as_="李娜", start=2)
    refused = _run(team, 5)
    assert refused.mail["sent"] == 0 and "45009" in refused.mail["failed"][0]["error"]
    assert team.scalar("SELECT count(*) FROM delivery WHERE status = 'pending' AND digest_id IS NULL AND error LIKE '%45009%'") == 2
    timed_out = _run(team, 10)
    assert timed_out.mail["sent"] == 0 and len(timed_out.mail["unknown"]) == 1
    assert team.scalar("SELECT count(*) FROM digest WHERE status = 'sending'") == 1
    waiting = _run(team, 20)   # within resend_unknown_after: not sent again
    assert len(robot.requests) == 3 and waiting.mail["waiting"] == 1
    again = _run(team, 41)     # after it: the same text again, answered 500 → free for the next run
    assert len(robot.requests) == 4 and _text(robot.requests[3]) == _text(robot.requests[2])
    assert again.mail["failed"] and again.mail["sent"] == 0
    last = _run(team, 46)
    assert last.mail["sent"] == 1 and len(robot.requests) == 5
    assert _run(team, 60).mail["sent"] == 0 and len(robot.requests) == 5
    assert sorted(_notices_in(robot.accepted)) == [1, 2, 3, 4]        # each notice accepted exactly once
    assert team.scalar("SELECT count(*) FROM notice WHERE mail_status = 'sent'") == 4
    assert team.scalar("SELECT count(*) FROM delivery WHERE status = 'sent'") == 4
    assert robot.problems == []


def test_wecom_message_format_masks_numbers_and_splits_long_digests(team, robots, tmp_path):
    robot = robots("wecom")
    _config(tmp_path, _wecom(robot))
    _log(team, 120)
    result = _run(team)
    assert robot.problems == []
    assert result.mail["sent"] == len(robot.accepted) >= 2   # 120 notices do not fit in 4096 bytes
    for payload in robot.accepted:
        assert payload["msgtype"] == "markdown"
        content = payload["markdown"]["content"]
        assert len(content.encode("utf-8")) <= 4096
        assert not MOBILE.search(content), content
    assert "138****0000" in _text(robot.accepted[0])
    assert "王芳" in _text(robot.accepted[-1])                        # each post says whose notices continue
    assert sorted(_notices_in(robot.accepted)) == list(range(1, 121))
    assert robot.accepted[0]["markdown"]["content"].startswith("### csdesk")


def test_wecom_text_format(team, robots, tmp_path):
    robot = robots("wecom")
    _config(tmp_path, _wecom(robot, 'format = "text"\n'))
    _log(team, 1)
    assert _run(team).mail["sent"] == 1
    assert robot.accepted[0]["msgtype"] == "text" and "call #1" in robot.accepted[0]["text"]["content"]


def test_channels_serve_roles_and_people(team, robots, tmp_path):
    ops, boss = robots("wecom"), robots("wecom")
    _config(tmp_path, _wecom(ops, serves='["specialist"]') +
            f'[notify.channels.managers]\ntype = "wecom"\nwebhook = "{boss.webhook}"\nserves = ["role:supervisor", "王芳"]\n')
    _log(team, 1, as_="王芳")
    _log(team, 1, as_="李娜", start=1)
    result = _run(team)
    assert result.mail["channels"]["ops"]["notices"] == 1 and result.mail["channels"]["managers"]["notices"] == 2
    assert _notices_in(ops.accepted) == [1]
    assert sorted(_notices_in(boss.accepted)) == [1, 2]             # 王芳 is served by both groups
    assert team.scalar("SELECT count(*) FROM delivery") == 3


def test_a_run_without_sending_leaves_deliveries_for_the_next_that_sends(team, robots, tmp_path):
    robot = robots("wecom")
    _config(tmp_path, _wecom(robot))
    _log(team, 3)
    quiet = _run(team, mail=False)
    assert len(quiet.notices) == 3 and robot.requests == []
    assert team.scalar("SELECT count(*) FROM notice WHERE mail_status = 'pending'") == 3
    later = _run(team, 5)
    assert later.notices == [] and later.mail["notices_mailed"] == 3
    assert sorted(_notices_in(robot.accepted)) == [1, 2, 3]


# -- DingTalk ------------------------------------------------------------------------------------


def _ding(robot, secret=f'secret = "{DING_SECRET}"'):
    return (f'[notify]\ntimeout = 0.3\n[notify.channels.dingtalk]\nwebhook = "{robot.webhook}"\n{secret}\n'
            'serves = ["*"]\n')


def test_dingtalk_signed_markdown(team, robots, tmp_path):
    robot = robots("dingtalk")
    _config(tmp_path, _ding(robot))
    _log(team, 2)
    result = _run(team)
    assert robot.problems == [] and result.mail["sent"] == 1
    payload = robot.accepted[0]
    assert payload["msgtype"] == "markdown" and "reminders" in payload["markdown"]["title"]
    assert sorted(_notices_in(robot.accepted)) == [1, 2]
    assert not MOBILE.search(payload["markdown"]["text"])


def test_dingtalk_wrong_secret_is_refused_and_kept(team, robots, tmp_path, monkeypatch):
    robot = robots("dingtalk")
    monkeypatch.setenv("CSDESK_DING_SECRET", "SECwrong")
    _config(tmp_path, _ding(robot, 'secret_env = "CSDESK_DING_SECRET"'))
    _log(team, 1)
    result = _run(team)
    assert result.mail["sent"] == 0 and "310000" in result.mail["failed"][0]["error"]
    assert team.scalar("SELECT count(*) FROM delivery WHERE status = 'pending'") == 1
    monkeypatch.setenv("CSDESK_DING_SECRET", DING_SECRET)
    assert _run(team, 5).mail["sent"] == 1 and _notices_in(robot.accepted) == [1]


def test_dingtalk_long_digest_is_split(team, robots, tmp_path):
    robot = robots("dingtalk")
    _config(tmp_path, _ding(robot))
    _log(team, 90)
    _run(team)
    assert robot.problems == [] and len(robot.accepted) >= 2
    assert sorted(_notices_in(robot.accepted)) == list(range(1, 91))


# -- notify test, config, secrets ----------------------------------------------------------------


def test_notify_test_prints_the_answer(team, robots, tmp_path, cli):
    wecom, ding = robots("wecom"), robots("dingtalk")
    _config(tmp_path, _wecom(wecom) + f'[notify.channels.ding]\ntype = "dingtalk"\nwebhook = "{ding.webhook}"\nsecret = "{DING_SECRET}"\n')
    ok = cli("notify", "test", "ops")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.strip() == 'ops (wecom): accepted — 200 {"errcode": 0, "errmsg": "ok"}'
    assert wecom.accepted[0]["msgtype"] == "markdown"
    signed = cli("notify", "test", "ding")
    assert signed.exit_code == 0 and ding.problems == [] and len(ding.accepted) == 1
    wecom.answers = ["error"]
    refused = cli("notify", "test", "ops")
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.startswith("Error: ops (wecom): HTTP 200: ") and "45009" in refused.stderr
    missing = cli("notify", "test", "nosuch")
    assert missing.exit_code == 1 and "no notify channel named 'nosuch'" in missing.stderr
    for result in (ok, signed, refused, missing):
        assert WECOM_KEY not in result.stdout + result.stderr and DING_SECRET not in result.stdout + result.stderr
    assert team.scalar("SELECT count(*) FROM digest") == 0    # a test message is not a notice


def test_secrets_never_shown(team, robots, tmp_path, cli):
    robot = robots("wecom")
    ding = robots("dingtalk")
    _config(tmp_path, _wecom(robot) + f'[notify.channels.ding]\ntype = "dingtalk"\nwebhook = "{ding.webhook}"\nsecret = "{DING_SECRET}"\n')
    shown = cli("config", "show")
    as_json = cli("--json", "config", "show")
    robot.answers = ["500"]
    ding.answers = ["error"]
    _log(team, 1)
    run = cli("remind", "run", "--mail")
    status = cli("notify", "status")
    everything = "".join(r.stdout + r.stderr for r in (shown, as_json, run, status))
    assert "failed, kept for the next run" in run.stderr
    for secret in (WECOM_KEY, DING_TOKEN, DING_SECRET):
        assert secret not in everything
        assert not team.scalar("SELECT count(*) FROM digest WHERE body LIKE :s OR error LIKE :s", s=f"%{secret}%")
    assert "ops" in status.stdout and "wecom" in status.stdout


def test_bad_channel_settings_are_refused_before_anything_is_done(team, tmp_path, cli):
    _log(team, 1)
    for body, words in [
        ('[notify.channels.ops]\ntype = "slack"\n', "type must be one of email, wecom, dingtalk"),
        ('[notify.channels.ops]\ntype = "wecom"\n', "needs webhook or webhook_env"),
        ('[notify.channels.ops]\ntype = "wecom"\nwebhook = "x"\nsecret = "s"\n', "webhook must be an http(s) URL"),
        ('[notify.channels.dingtalk]\nwebhook = "https://x/robot/send"\ncolour = "red"\n', "unknown key 'colour'"),
        ('[notify]\nresend_unknown_after = "soon"\n[notify.channels.email]\n', "notify.resend_unknown_after"),
    ]:
        _config(tmp_path, body)
        before = team.dump()
        result = cli("remind", "run", "--mail")
        assert result.exit_code == 1 and result.stderr.startswith("Error: ") and words in result.stderr, (body, result.stderr)
        assert team.dump() == before


# -- mail: unknown fate --------------------------------------------------------------------------


class _SlowInbox:
    """Accepts every mail, but the first `slow` of them only after the client has given up."""

    def __init__(self, slow: int, delay: float):
        self.messages = []
        self.slow = slow
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)  # taken in; the answer may come too late for the client
        if self.slow > 0:
            self.slow -= 1
            await asyncio.sleep(self.delay)
        return "250 OK"


@pytest.fixture
def slow_smtp():
    from aiosmtpd.controller import Controller

    controllers = []

    def start(slow, delay=1.5):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        inbox = _SlowInbox(slow, delay)
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return inbox, port

    yield start
    for c in controllers:
        c.stop()


def _with_emails(db):
    from sqlalchemy import text

    with db.database.engine.begin() as conn:
        conn.execute(text("UPDATE staff SET email = name || '@example.com'"))


def _message_ids(inbox) -> list[str]:
    return [re.search(rb"Message-ID: (<[^>]+>)", m.content, re.I).group(1).decode() for m in inbox.messages]


def test_a_slow_mail_server_gets_one_copy_per_interval_with_the_same_message_id(team, slow_smtp, tmp_path):
    inbox, port = slow_smtp(slow=2)
    _config(tmp_path, f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nfrom_addr = "desk@example.com"\ntimeout = 1\n'
                      '[notify]\nresend_unknown_after = "1h"\n')
    _with_emails(team)
    _log(team, 3)
    first = _run(team)
    assert first.mail["sent"] == 0 and len(first.mail["unknown"]) == 1
    recorded = team.scalar("SELECT message_id FROM digest")
    for minutes in (5, 10, 15, 30, 55):          # cron every few minutes: no new copy within the hour
        assert _run(team, minutes).mail["waiting"] == 1
    time.sleep(1.2)
    assert len(inbox.messages) == 1               # the first copy, accepted after the client gave up
    second = _run(team, 61)                       # an hour later: once more, the same Message-ID (also slow)
    assert second.mail["sent"] == 0
    third = _run(team, 125)
    assert third.mail["sent"] == 1 and third.mail["notices_mailed"] == 3
    time.sleep(1.2)
    assert _message_ids(inbox) == [recorded] * 3
    assert len({m.content.split(b"\r\n\r\n", 1)[1] for m in inbox.messages}) == 1   # the same text each time
    assert _run(team, 200).mail["sent"] == 0 and len(inbox.messages) == 3
    assert team.scalar("SELECT count(*) FROM notice WHERE mail_status = 'sent'") == 3


def test_mail_runs_without_mail_then_with_mail(team, slow_smtp, tmp_path):
    inbox, port = slow_smtp(slow=0)
    _config(tmp_path, f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nfrom_addr = "desk@example.com"\n')
    _with_emails(team)
    for i in range(4):
        _log(team, 20, as_=["王芳", "李娜", "张强", "陈总"][i], start=20 * i)
        _run(team, i, mail=False)
    assert team.scalar("SELECT count(*) FROM notice") == 80 and inbox.messages == []
    result = _run(team, 10)
    assert result.mail["sent"] == 4 and result.mail["notices_mailed"] == 80
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == sorted(f"{n}@example.com" for n in ("王芳", "李娜", "张强", "陈总"))
    assert _run(team, 20).mail["sent"] == 0 and len(inbox.messages) == 4


def test_the_readme_notify_example_loads(tmp_path, monkeypatch):
    from pathlib import Path

    from csdesk import notify

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```toml\n(.*?)```", readme, re.S) if "[notify.channels." in b)
    (tmp_path / "example.toml").write_text(block, encoding="utf-8")
    monkeypatch.setenv("CSDESK_CONFIG", str(tmp_path / "example.toml"))
    settings = cfg.load(None)
    chans = {c.name: c for c in notify.channels(settings)}
    assert {n: c.kind for n, c in chans.items()} == {"email": "email", "kefu-group": "wecom", "managers": "dingtalk"}
    assert chans["managers"].serves_person("张强", "manager") and chans["managers"].serves_person("陈总", "director")
    assert not chans["kefu-group"].serves_person("张强", "manager")
    assert notify.resend_after(settings) == timedelta(hours=1)


def test_masking_keeps_dates_and_codes():
    from csdesk.notify import mask_numbers

    assert mask_numbers("C000123 138 0013 0001 at 2026-11-24 10:00, +86-139-1234-5678, 010-6234 5678, 0571 8888 1234") == \
        "C000123 138****0001 at 2026-11-24 10:00, 139****5678, 010****5678, 0571****1234"


def test_upgrade_keeps_pending_mail_pending(tmp_path, cli):
    """Notices a 0006 database still had to mail become pending deliveries on the email channel."""
    import os
    import shutil
    import sqlite3
    from pathlib import Path

    path = tmp_path / "old.db"
    shutil.copyfile(Path(__file__).parent / "data" / "schema-0006.db", path)
    os.chmod(path, 0o600)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE notice SET mail_status = 'pending', mail_attempts = 2, mail_error = 'refused' WHERE id IN (1, 2, 3)")
        conn.execute("UPDATE notice SET mail_status = 'sent' WHERE id = 4")
    assert cli("--db", str(path), "db", "upgrade").exit_code == 0
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT notice_id, channel, status, attempts, error, digest_id FROM delivery ORDER BY notice_id").fetchall()
    assert rows == [(i, "email", "pending", 2, "refused", None) for i in (1, 2, 3)]


def test_sending_with_no_channel_says_so(team):
    _log(team, 1)
    result = _run(team)
    assert result.mail["sent"] == 0 and result.mail["warnings"] == [
        "no channel to send through: set smtp.host and smtp.from_addr, or add [notify.channels]"]
    assert team.scalar("SELECT count(*) FROM delivery") == 0
    assert team.scalar("SELECT mail_status FROM notice") == "none"
