"""Crashes while mailing: `remind run --mail` killed with SIGKILL at random moments (tests/test_crash.py's
way) against a local SMTP server. Afterwards the database is sound, every notice has been mailed, each
in exactly one digest, and a digest the server received more than once (killed after the server took
it, before the run could mark it) came again only with its recorded Message-ID and the same text.
Runs on SQLite and, under scripts/test-all, on PostgreSQL. The seed is in every failure message
(CSDESK_CRASH_SEED replays one)."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import threading
import time
from collections import defaultdict
from datetime import timedelta

from test_crash import KILLS, _csdesk, _killed_after, _rng, _sound

from conftest import NOW


class _Inbox:
    def __init__(self):
        self.messages = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        self.arrived.set()
        await asyncio.sleep(0.15)  # a server that takes its time: kills land while mail is going out
        return "250 OK"


def _killed_while_mailing(args: list[str], inbox: _Inbox, after: float) -> bool:
    """Run a csdesk command and SIGKILL it `after` seconds after the server took a mail from it (the
    run's last moments: before the answer, or after it and before or while the run records it)."""
    inbox.arrived.clear()
    proc = subprocess.Popen(_csdesk(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not inbox.arrived.wait(0.05):
        if proc.poll() is not None:
            err = proc.stderr.read()
            assert proc.returncode == 0, err
            return False
    time.sleep(after)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return True


def _message_id(content: bytes) -> str:
    return re.search(rb"^Message-ID: (<[^>]+>)", content, re.I | re.M).group(1).decode()


def test_a_killed_remind_run_mail_mails_each_notice_once(db, tmp_path, cli, monkeypatch):
    from aiosmtpd.controller import Controller

    rng, seed = _rng()
    demo = tmp_path / "demo" / "demo.db"
    demo.parent.mkdir()
    made = subprocess.run(_csdesk("demo", "--db", str(demo)), capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    copied = cli("--db", str(demo), "db", "copy", "--to", db.location)
    assert copied.exit_code == 0, copied.stderr
    from sqlalchemy import text

    with db.database.engine.begin() as conn:
        conn.execute(text("UPDATE staff SET email = 'staff' || id || '@example.com'"))

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        (tmp_path / "csdesk.toml").write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nfrom_addr = "desk@example.com"\ntimeout = 5\n'
            '[notify]\nresend_unknown_after = "0m"\n', encoding="utf-8")
        # Three days on, by the clock itself: a write may not be dated ahead of the clock (--now).
        monkeypatch.setenv("CSDESK_NOW", (NOW + timedelta(days=3, hours=2)).isoformat())
        args = ["--db", db.location, "remind", "run", "--mail"]
        killed = 0
        for n in range(KILLS * 2):
            # Half the kills at a random moment of the run, half just after the server took a mail.
            if n % 2 == 0:
                # The first kill comes early, while the first run (the one with mail to send) still runs.
                stopped = _killed_after(args, rng.uniform(0.3, 1.2) if n == 0 else rng.uniform(0.5, 3.0))
            else:
                stopped = _killed_while_mailing(args, inbox, rng.uniform(0.0, 0.3))
            if stopped:
                killed += 1
                _sound(cli, db.location, seed)
        for _ in range(50):  # a killed run's lock goes with its process
            final = subprocess.run(_csdesk(*args), capture_output=True, text=True, timeout=600)
            assert final.returncode == 0, final.stderr
            if "another remind run is in progress" not in final.stderr:
                break
            time.sleep(0.2)
        received_before = len(inbox.messages)
        again = subprocess.run(_csdesk(*args), capture_output=True, text=True, timeout=600)
        assert again.returncode == 0 and len(inbox.messages) == received_before, f"seed {seed}: mailed again"
    finally:
        controller.stop()
    _sound(cli, db.location, seed)

    why = f"seed {seed}, {killed} kills"
    to_mail = db.scalar("SELECT count(*) FROM notice n JOIN staff s ON s.id = n.recipient_id WHERE s.email IS NOT NULL "
                        "AND n.created_at > '2026-11-25'")
    assert to_mail > 0, why
    assert db.scalar("SELECT count(*) FROM delivery WHERE status <> 'sent'") == 0, why
    assert db.scalar("SELECT count(*) FROM delivery") >= to_mail, why
    assert db.scalar("SELECT count(*) FROM digest WHERE status = 'sending'") == 0, why
    # Nothing lost, nothing in two digests: every delivery is in one accepted digest.
    assert db.scalar("SELECT count(*) FROM delivery d JOIN digest g ON g.id = d.digest_id WHERE g.status = 'sent'") == \
        db.scalar("SELECT count(*) FROM delivery"), why
    assert db.scalar("SELECT coalesce(sum(notices), 0) FROM digest WHERE status = 'sent'") == db.scalar("SELECT count(*) FROM delivery"), why

    copies: dict[str, list[bytes]] = defaultdict(list)
    for m in inbox.messages:
        copies[_message_id(m.content)].append(m.content.split(b"\r\n\r\n", 1)[1])
    with db.database.engine.connect() as conn:
        sent_ids = {r[0] for r in conn.execute(text("SELECT message_id FROM digest WHERE status = 'sent'"))}
        refused = {r[0] for r in conn.execute(text("SELECT message_id FROM digest WHERE status = 'failed'"))}
    assert refused == set(), why
    assert set(copies) == sent_ids, f"{why}: the server got digests the database does not hold as sent"
    for msg_id, bodies in copies.items():
        assert len(set(bodies)) == 1, f"{why}: {msg_id} came back with another text"
        assert len(bodies) <= 1 + killed, f"{why}: {msg_id} arrived {len(bodies)} times"
    assert killed >= 1, f"seed {seed}: the first kill came after the run had finished; nothing was tested"
    print(f"{why}: {len(sent_ids)} digests, {len(inbox.messages)} mails received")
