"""The reminder run's machinery: exactly-once announcements, repeats, crash safety, the run lock, mail.

The areas' own rules (callbacks, SLAs, instalments …) are tested in test_reminder_rules.py; here a
small collector over calls stands in for them, so that the machinery is tested on its own.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from csdesk import config as cfg
from csdesk.workflows import reminders
from csdesk.workflows.call_intake import log_call

from conftest import NOW


def _calls_collector(desk, now, settings):
    """Each complaint call is 'overdue' from its time on; tell its agent."""
    from sqlmodel import select

    from csdesk.models import Call

    out = []
    for call in desk.session.exec(select(Call).where(Call.kind == "complaint").order_by(Call.id)).all():
        out.append(reminders.Announcement(
            key=f"test.call:{call.id}{reminders.repeat_suffix(settings, call.at, now)}", kind="test_overdue",
            entity="call", entity_id=call.id, recipients=[call.agent_id], message=f"call #{call.id} needs a callback",
            breach=True,
        ))
    return out


@pytest.fixture
def only_test_collector(monkeypatch):
    monkeypatch.setattr(reminders, "COLLECTORS", [("test", _calls_collector)])
    monkeypatch.setattr(reminders, "STEPS", [])
    monkeypatch.setattr(reminders, "_load_collectors", lambda: None)


def _log(db, n, as_="王芳", at=None):
    with db.desk(as_=as_) as desk:
        for i in range(n):
            log_call(desk, f"1380013{i:04d}", "complaint", f"投诉 {i}", at=at)


def _run(db, now=NOW, **kw):
    return reminders.remind_run(db.database, cfg.load(db.path), now, **kw)


def test_each_thing_is_announced_once(team, only_test_collector):
    _log(team, 3)
    first = _run(team)
    assert [n.message for n in first.notices] == [f"call #{i} needs a callback" for i in (1, 2, 3)]
    assert {n.recipient for n in first.notices} == {"王芳"}
    assert first.breaches == 3
    second = _run(team, now=NOW + timedelta(minutes=1))
    assert second.notices == [] and second.already == 3
    assert team.scalar("SELECT count(*) FROM notice") == 3
    _log(team, 1, as_="李娜")
    third = _run(team, now=NOW + timedelta(minutes=2))
    assert [(n.recipient, n.message) for n in third.notices] == [("李娜", "call #4 needs a callback")]


def test_dry_run_changes_nothing(team, only_test_collector):
    _log(team, 2)
    before = team.dump()
    result = _run(team, dry_run=True)
    assert len(result.notices) == 2 and result.dry_run
    assert team.dump() == before


def test_repeat_cadence_is_exact(team, only_test_collector, tmp_path):
    (tmp_path / "csdesk.toml").write_text('[reminders]\nrepeat_overdue_every = "1d"\n', encoding="utf-8")
    _log(team, 1, at=NOW - timedelta(hours=1))
    counts = []
    for hours in (0, 1, 12, 23, 24, 30, 47, 48, 49):
        counts.append(len(_run(team, now=NOW + timedelta(hours=hours)).notices))
    # first at once; again when a whole day has passed since the call (hour 23 of the clock), then at 47.
    assert counts == [1, 0, 0, 1, 0, 0, 1, 0, 0]


def test_a_failing_batch_leaves_nothing_half_done_and_the_next_run_finishes(team, only_test_collector, monkeypatch):
    _log(team, 5)
    calls = {"n": 0}

    def flaky(desk, now, settings):
        items = _calls_collector(desk, now, settings)
        for a in items:
            def act(desk, a=a):
                calls["n"] += 1
                if calls["n"] == 3:
                    raise RuntimeError("killed half way")
                return a.message + " (acted)"
            a.action = act
        return items

    monkeypatch.setattr(reminders, "COLLECTORS", [("flaky", flaky)])
    monkeypatch.setattr(reminders, "BATCH", 2)
    with pytest.raises(RuntimeError):
        _run(team)
    # the first batch (2 notices) committed whole; the failing batch left nothing behind
    assert team.scalar("SELECT count(*) FROM notice") == 2
    result = _run(team, now=NOW + timedelta(minutes=5))
    assert len(result.notices) == 3
    assert team.scalar("SELECT count(*) FROM notice") == 5
    assert team.scalar("SELECT count(DISTINCT key) FROM notice") == 5


def test_a_second_run_while_one_holds_the_lock_does_nothing(team, only_test_collector):
    from csdesk.db import run_lock

    _log(team, 2)
    with run_lock(team.database, "remind") as held:
        assert held
        result = _run(team)
    assert result.skipped and result.notices == []
    assert team.scalar("SELECT count(*) FROM notice") == 0
    assert len(_run(team).notices) == 2


def test_two_runs_at_once_announce_each_thing_once(team, only_test_collector):
    _log(team, 30)
    results = []

    def go():
        results.append(_run(team))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r.notices) for r in results) in ([0, 30], [30, 30 - 30])
    assert team.scalar("SELECT count(*) FROM notice") == 30


# -- mail ---------------------------------------------------------------------------------------

class _Inbox:
    def __init__(self, refuse: bool = False):
        self.messages = []
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 5.7.1 refused for the test"
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    controllers = []

    def start(refuse=False):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        inbox = _Inbox(refuse)
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return inbox, port

    yield start
    for c in controllers:
        c.stop()


def _mail_config(tmp_path, port):
    (tmp_path / "csdesk.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nfrom_addr = "desk@example.com"\n', encoding="utf-8"
    )


def _with_emails(db):
    from sqlalchemy import text

    with db.database.engine.begin() as conn:
        conn.execute(text("UPDATE staff SET email = name || '@example.com'"))


def test_one_digest_per_recipient(team, only_test_collector, smtp_server, tmp_path):
    inbox, port = smtp_server()
    _mail_config(tmp_path, port)
    _with_emails(team)
    _log(team, 2, as_="王芳")
    _log(team, 1, as_="李娜")
    result = _run(team, mail=True)
    assert result.mail["sent"] == 2 and result.mail["notices_mailed"] == 3
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == ["李娜@example.com", "王芳@example.com"]
    body = next(m for m in inbox.messages if m.rcpt_tos == ["王芳@example.com"]).content.decode()
    assert "2 " in body
    assert team.scalar("SELECT count(*) FROM notice WHERE mail_status = 'sent'") == 3
    again = _run(team, now=NOW + timedelta(minutes=5), mail=True)
    assert again.mail["sent"] == 0 and len(inbox.messages) == 2


def test_a_refusing_server_keeps_mail_pending_until_a_later_run(team, only_test_collector, smtp_server, tmp_path):
    refusing, port = smtp_server(refuse=True)
    _mail_config(tmp_path, port)
    _with_emails(team)
    _log(team, 2)
    result = _run(team, mail=True)
    assert len(result.notices) == 2  # the run still did its work
    assert result.mail["sent"] == 0 and result.mail["failed"][0]["recipient"] == "王芳"
    assert team.scalar("SELECT count(*) FROM notice WHERE mail_status = 'pending' AND mail_attempts = 1") == 2
    inbox, port = smtp_server()
    _mail_config(tmp_path, port)
    later = _run(team, now=NOW + timedelta(minutes=5), mail=True)
    assert later.notices == [] and later.mail["sent"] == 1
    assert len(inbox.messages) == 1
    _run(team, now=NOW + timedelta(minutes=10), mail=True)
    assert len(inbox.messages) == 1


def test_cli_remind_run_and_list(team, only_test_collector, cli):
    import json

    _log(team, 2)
    result = cli("remind", "run", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["announced"] == 2 and list(data["by_person"]) == ["王芳"]
    again = cli("remind", "run", "--fail-on-breach")
    assert again.exit_code == 3
    assert "announced 0" in again.stdout
    quiet = cli("remind", "run", "--quiet")
    assert quiet.exit_code == 0 and quiet.stdout == ""
    listed = cli("remind", "list", "--json")
    assert [r["message"] for r in json.loads(listed.stdout)["items"]] == ["call #2 needs a callback", "call #1 needs a callback"]
    bad = cli("remind", "run", "--now", "not a date")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error:")
