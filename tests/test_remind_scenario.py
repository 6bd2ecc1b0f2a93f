"""A week of a small department, with `remind run` every hour of the working day (and at midnight).

Hand-worked timeline (Asia/Shanghai; business hours Mon–Fri 09:00–12:00, 13:30–18:00):
- Mon 2026-11-23 10:00 王芳 opens a normal complaint: first response due after 4 business hours
  (10–12 = 2h, 13:30–15:30) → Mon 15:30; warned at 80% = 3.2h → Mon 14:42. Resolution after 24 business
  hours (Mon 6.5 + Tue 7.5 + Wed 7.5 = 21.5, + Thu 2.5h) → Thu 11:30, so the run at Thu 12:00 escalates it
  to level 2 (李娜, 王芳's reports_to), exactly once; level 2's 8 business hours end Fri 14:00 → level 3.
- A callback promised for Mon 15:00: announced as due by the 15:00 run (within the 30-minute lead, not yet
  past), as overdue by the 16:00 run. At 16:10 nobody answers: it moves 2 business hours on, to Tue 09:10
  (16:10–18:00 is 1h50, + 10 min on Tuesday), and is announced again for that new time, once.
- Project P000001 handed over 2026-11-09; its 尾款 falls due 3 days later, 2026-11-12. The dunning ladder:
  call at +7 (11-19, already due at the first run), notice 催款函 at +15 (11-27, Friday), lawyer at +30.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from csdesk import config as cfg
from csdesk.workflows import reminders

TZ = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 11, 23, tzinfo=TZ)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Local time `day` days after Monday 2026-11-23."""
    return MON + timedelta(days=day, hours=hour, minutes=minute)


@pytest.fixture
def week(team):
    from csdesk.workflows.callbacks import schedule_callback
    from csdesk.workflows.call_intake import log_call
    from csdesk.workflows.complaints import open_complaint
    from csdesk.workflows.payments import make_plan, record_payment
    from csdesk.workflows.projects import add_project, handover_project

    with team.desk(as_="王芳", now=at(-20, 10)) as desk:
        log_call(desk, "13812345678", "inquiry", "问工期", name="张伟", at=at(-20, 10))
        add_project(desk, "望京公寓软装", "13812345678", Decimal("100000"), owner="王芳", signed=at(-20, 10).date())
        make_plan(desk, "P000001", "首款:30%:sign, 尾款:70%:handover+3d")
        record_payment(desk, "P000001", Decimal("30000"), at=at(-20, 10))
    with team.desk(as_="王芳", now=at(-14, 10)) as desk:
        handover_project(desk, "P000001", at=at(-14, 10))
    with team.desk(as_="王芳", now=at(0, 10)) as desk:
        complaint = open_complaint(desk, customer="13812345678", severity="normal", category="installation",
                                   summary="踢脚线安装不平", at=at(0, 10))
        callback = schedule_callback(desk, at(0, 15), customer="13812345678", purpose="promise", note="下午三点前回电")
    return team, complaint.id, callback.callbacks[0].id


def _run_times():
    for day in range(0, 7):
        yield at(day, 0)
        for hour in range(9, 20):
            yield at(day, hour)
    yield at(7, 9)


def _walk(db, complaint_id, callback_id):
    from csdesk.workflows.callbacks import record_attempt

    settings = cfg.load(db.path)
    log: list[tuple[datetime, reminders.NoticeOut]] = []
    answered = False
    for now in _run_times():
        if not answered and now >= at(0, 16, 10):
            with db.desk(as_="王芳", now=at(0, 16, 10)) as desk:
                record_attempt(desk, callback_id, "no-answer", at=at(0, 16, 10))
            answered = True
        result = reminders.remind_run(db.database, settings, now.astimezone(ZoneInfo("UTC")))
        log.extend((now, n) for n in result.notices)
    return log


def _first(log, kind, entity_id=None, contains=None):
    hits = [(t, n) for t, n in log if n.kind == kind and (entity_id is None or n.entity_id == entity_id)
            and (contains is None or contains in n.message)]
    return hits


def test_a_week_at_the_desk(week):
    db, complaint_id, callback_id = week
    log = _walk(db, complaint_id, callback_id)

    # Nothing is ever announced twice to the same person.
    keys = Counter((n.kind, n.entity, n.entity_id, n.recipient, n.message) for _, n in log)
    assert [k for k, c in keys.items() if c > 1] == []
    assert db.scalar("SELECT count(*) FROM notice") == len(log)

    # The complaint: warning at the 15:00 run (first after 14:42), breach at the 16:00 run (first after 15:30),
    # to the assignee and her supervisor; escalation at Thu 12:00, once.
    warn = _first(log, "sla_warning", complaint_id, "first response")
    assert [(t, n.recipient) for t, n in warn] == [(at(0, 15), "王芳")]
    breach = _first(log, "sla_breach", complaint_id, "first response deadline 2026-11-23 15:30 BREACHED (L1,")
    assert sorted((t, n.recipient) for t, n in breach) == [(at(0, 16), "李娜"), (at(0, 16), "王芳")]
    # Level 2 gets 8 business hours from Thu 12:00: Thu 13:30–18:00 (4.5h) + Fri 09:00–12:00 (3h) + 0.5h →
    # Fri 14:00, so the 14:00 run escalates once more, to 张强 (level 3). The owner 王芳 hears of both.
    escalated = sorted((t, n.recipient) for t, n in _first(log, "complaint_escalated", complaint_id))
    assert escalated == [(at(3, 12), "李娜"), (at(3, 12), "王芳"), (at(4, 14), "张强"), (at(4, 14), "王芳")]
    assert db.scalar("SELECT level FROM complaint WHERE id = :i", i=complaint_id) == 3

    # The callback: due at 15:00, overdue at 16:00, then its new time (Tue 09:10) announced once when due.
    due = _first(log, "callback_due", callback_id)
    assert [t for t, _ in due] == [at(0, 15), at(1, 9)]
    assert "2026-11-24 09:10" in due[1][1].message
    overdue = _first(log, "callback_overdue", callback_id)
    assert [t for t, _ in overdue] == [at(0, 16), at(1, 10)]

    # The tail payment: overdue once; the call step at the first run; the written notice on Friday.
    assert len(_first(log, "instalment_overdue")) == 1
    steps = [(t, n.message.split(": ")[1].split(" due")[0]) for t, n in _first(log, "dunning_step")]
    assert steps[0][0] == at(0, 0)
    assert (at(4, 0), "notice") in steps  # the step's label, in the language of the run (English in tests)
    assert not any("lawyer" in s for _, s in steps)


def test_two_real_runs_at_once_announce_everything_once(week, tmp_path):
    db, complaint_id, callback_id = week
    env_now = at(0, 16).isoformat()
    import os

    env = {**os.environ, "CSDESK_NOW": env_now}
    procs = [subprocess.Popen([sys.executable, "-m", "csdesk", "remind", "run", "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert "Traceback" not in "".join(o[1] for o in outs)
    total = db.scalar("SELECT count(*) FROM notice")
    assert total > 0
    assert db.scalar("SELECT count(DISTINCT key) FROM notice") == total
    # A third run at the same moment finds nothing new.
    third = subprocess.run([sys.executable, "-m", "csdesk", "remind", "run", "--json"], env=env, capture_output=True, text=True)
    assert third.returncode == 0 and '"announced": 0' in third.stdout
