"""Properties of complaint records (issue 13), over random stories drawn by hypothesis.

1. The moment it happened, not the moment it was typed: a story of calls, complaints, holds,
   escalations, resolutions, return visits and reminder runs recorded live (each entry when it
   happened) and recorded the next morning with --at (the reminder runs with --now, as cron ran them)
   gives the same deadlines, visits, escalations and notices.
2. One answer for every deadline: after any sequence of entries, `complaint show` (and its --json),
   the cached columns, the reports' detail rows and `complaint sla` agree on every deadline.

Calendar: Asia/Shanghai, Mon–Fri 09:00–12:00 + 13:30–18:00, CN holidays; stories start Mon 2026-11-23.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from csdesk import dates
from csdesk.errors import CsdeskError
from csdesk.workflows import callbacks as CB
from csdesk.workflows import complaints as C

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=SH)
PHONE = "13812345678"
ACTIONS = ["call", "open", "ack", "hold", "resume", "escalate", "resolve", "visit_ok", "visit_bad", "reopen", "note", "remind"]

STEP = st.tuples(st.integers(5, 900), st.sampled_from(ACTIONS), st.integers(0, 1))  # minutes after the last step, what, which complaint
STORY = st.lists(STEP, min_size=3, max_size=14)


def _settings(examples: int):
    return settings(max_examples=examples, deadline=None, database=None,
                    derandomize=not os.environ.get("CSDESK_FUZZ_RANDOM"),
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def base(team):
    from csdesk.workflows.customers import add_customer

    if not team.restore("complaint-properties"):
        with team.desk(as_="王芳") as desk:
            add_customer(desk, "张伟", [PHONE])
        team.keep("complaint-properties")
    return team


def _run(db, who, now, fn):
    with db.desk(as_=who, now=now) as desk:
        return fn(desk)


def _apply(db, story, morning: datetime | None) -> list[str]:
    """Record the story; live (each entry at its own time) or, with `morning`, typed then with --at."""
    from csdesk import config
    from csdesk.workflows.call_intake import log_call
    from csdesk.workflows.reminders import remind_run

    opened: list[int] = []
    calls: list[int] = []
    outcomes = []
    t = START
    for gap, action, which in story:
        t = t + timedelta(minutes=gap)
        now = morning or t
        at = t if morning else None
        cid = opened[which % len(opened)] if opened else None

        def do(desk, action=action, cid=cid, at=at, t=t):
            if action == "call":
                return calls.append(log_call(desk, PHONE, "complaint", "墙面开裂", at=at).call.id)
            if action == "open":
                if len(opened) >= 2:
                    return "skip"
                call = calls.pop() if calls else None
                info = C.open_complaint(desk, PHONE, "normal", "quality", None if call else "墙面开裂", call_id=call,
                                        at=None if call else at)
                return opened.append(info.id)
            if cid is None:
                return "skip"
            if action == "ack":
                return C.ack_complaint(desk, cid, at=at)
            if action == "hold":
                return C.hold_complaint(desk, cid, "等待厂家", at=at)
            if action == "resume":
                return C.resume_complaint(desk, cid, at=at)
            if action == "escalate":
                return C.escalate_complaint(desk, cid, "客户要求", at=at)
            if action == "resolve":
                return C.resolve_complaint(desk, cid, "已处理", at=at)
            if action == "reopen":
                return C.reopen_complaint(desk, cid, "问题复发", at=at)
            if action == "note":
                return C.add_note(desk, cid, "跟进", at=at)
            if action in ("visit_ok", "visit_bad"):
                from sqlmodel import select

                from csdesk.models import Callback

                visit = desk.session.exec(select(Callback.id).where(
                    Callback.complaint_id == cid, Callback.status == "pending")).first()
                if visit is None:
                    return "skip"
                ok = action == "visit_ok"
                return CB.record_attempt(desk, visit, "reached", satisfied=ok, note=None if ok else "仍不满意", at=at)
            raise AssertionError(action)

        if action == "remind":
            result = remind_run(db.database, config.load(db.path), t.astimezone(dates.UTC))
            outcomes.append(f"remind {len(result.notices)}")
            continue
        who = "陈总" if action in ("resolve", "visit_ok", "visit_bad") else "王芳"
        try:
            got = _run(db, who, now, do)
            outcomes.append(f"{action} {'skip' if got == 'skip' else 'ok'}")
        except CsdeskError as exc:
            outcomes.append(f"{action} refused: {type(exc).__name__}")
    return outcomes


def _state(db, when: datetime) -> dict:
    """What the story left behind, without the moments of typing (recorded_at, created_at, audit)."""
    out = {}
    with db.database.engine.connect() as conn:
        out["complaints"] = [tuple(r) for r in conn.execute(text(
            "SELECT id, status, level, assignee_id, owner_id, opened_at, acked_at, resolved_at, closed_at, "
            "first_response_due, resolution_due, next_due, escalate_at FROM complaint ORDER BY id"))]
        out["events"] = [tuple(r) for r in conn.execute(text(
            "SELECT complaint_id, at, kind, from_value, to_value, visit_id, key, actor_id, verdict FROM complaint_event ORDER BY complaint_id, at, id"))]
        out["callbacks"] = [tuple(r) for r in conn.execute(text(
            "SELECT id, complaint_id, purpose, status, due_at, first_due_at, closed_at, attempts, outcome, satisfied, assignee_id "
            "FROM callback ORDER BY id"))]
        out["calls"] = [tuple(r) for r in conn.execute(text("SELECT id, at, complaint_id FROM call ORDER BY id"))]
        out["notices"] = sorted(tuple(r) for r in conn.execute(text(
            "SELECT key, kind, entity, entity_id, recipient_id, message FROM notice")))
    ids = [row[0] for row in out["complaints"]]
    out["deadlines"] = {
        cid: [(d.clock, d.level, d.started_at, d.due, d.state, d.ended_at, d.business_used)
              for d in _run(db, "王芳", when, lambda desk, cid=cid: C.complaint_view(desk, cid)).deadlines]
        for cid in ids
    }
    return out


@_settings(25)
@given(story=STORY)
def _live_and_next_morning(base, story):
    story = [(30, "open", 0), *story]  # a story about at least one complaint
    # The next morning: 09:00 the day after the story's last entry.
    last = START + timedelta(minutes=sum(gap for gap, _, _ in story))
    morning = datetime.combine(last.astimezone(SH).date() + timedelta(days=1), datetime.min.time(), SH) + timedelta(hours=9)
    base.restore("complaint-properties")
    live = _apply(base, story, None)
    live_state = _state(base, morning)
    base.restore("complaint-properties")
    typed = _apply(base, story, morning)
    typed_state = _state(base, morning)
    assert typed == live
    for part in live_state:
        assert typed_state[part] == live_state[part], part


def test_a_story_recorded_live_or_the_next_morning_with_at_gives_the_same_record(base):
    _live_and_next_morning(base)


SEQ = st.lists(st.tuples(st.integers(5, 900), st.sampled_from(
    ["ack", "hold", "resume", "escalate", "resolve", "reopen", "note", "auto"])), min_size=1, max_size=12)


@_settings(25)
@given(seq=SEQ, severity=st.sampled_from(["normal", "serious", "major"]), edit=st.sampled_from([None, "normal", "serious"]))
def _every_screen_agrees(base, cli_app, seq, severity, edit):
    import json

    from csdesk.reports import build_report, collect_details

    base.restore("complaint-properties")
    t = START
    info = _run(base, "王芳", t, lambda d: C.open_complaint(d, PHONE, severity, "quality", "墙面开裂"))
    cid = info.id
    ended: dict[int, datetime] = {}
    for i, (gap, action) in enumerate(seq):
        t += timedelta(minutes=gap)
        fns = {
            "ack": lambda d: C.ack_complaint(d, cid), "hold": lambda d: C.hold_complaint(d, cid, "等待"),
            "resume": lambda d: C.resume_complaint(d, cid), "escalate": lambda d: C.escalate_complaint(d, cid, "升级"),
            "resolve": lambda d: C.resolve_complaint(d, cid, "已处理"), "reopen": lambda d: C.reopen_complaint(d, cid, "复发"),
            "note": lambda d: C.add_note(d, cid, "跟进"), "auto": lambda d: C.auto_escalate(d),
        }
        try:
            _run(base, "陈总" if action == "resolve" else "王芳", t, fns[action])
        except CsdeskError:
            pass
        if edit and i == len(seq) // 2:
            try:
                _run(base, "陈总", t, lambda d: C.edit_complaint(d, cid, severity=edit))
                ended.clear()  # deadlines follow the new severity from the opening
            except CsdeskError:
                pass
        # A clock that has ended keeps its deadline whatever comes after (holds, escalations, reopenings).
        for k, d in enumerate(_run(base, "王芳", t, lambda d: C.complaint_view(d, cid)).deadlines):
            if d.ended_at is not None:
                assert ended.setdefault(k, d.due) == d.due, (k, d)
    now = t + timedelta(hours=1)
    view = _run(base, "王芳", now, lambda d: C.complaint_view(d, cid))
    dues = [d.due for d in view.deadlines]
    running = [d for d in view.deadlines if d.state in ("running", "breached", "on hold")]
    # The cached columns: the first response's deadline and the current resolution clock's.
    c = view.complaint
    assert c.first_response_due == dues[0]
    assert c.resolution_due == dues[-1]
    assert all(d.due is None for d in running if d.state == "on hold")
    # `complaint sla`: each clock's section names its deadline (a kept one, or the one it walks to).
    sla = _run(base, "王芳", now, lambda d: C.explain_sla(d, cid))
    clocks = [body for title, body in sla.sections if not title.startswith("Severity")]
    assert len(clocks) == len(dues)
    for due, body in zip(dues, clocks):
        if due is not None:
            assert any(dates.fmt(due, SH) in line for line in body), (dates.fmt(due, SH), body)
    # The reports' detail rows: the first response's and the current clock's deadline.
    with base.desk(as_="陈总", now=now) as d:
        report = build_report(d, "annual", "2026")
        rows = [r for r in collect_details(d, report)["complaints"].rows() if r[0] == cid]
    assert len(rows) == 1
    local = [None if x is None else x.astimezone(SH).replace(tzinfo=None) for x in (dues[0], dues[-1])]
    assert (rows[0][12], rows[0][15]) == tuple(local)
    # `complaint show --json` at the same moment.
    shown = cli_app("complaint", "show", str(cid), "--json", env={"CSDESK_NOW": now.isoformat()})
    assert shown.exit_code == 0, shown.stderr
    js = json.loads(shown.stdout)
    assert [None if x["due"] is None else datetime.fromisoformat(x["due"]) for x in js["deadlines"]] == dues


@pytest.fixture
def cli_app(cli):
    return cli


def test_show_json_cache_reports_and_sla_agree_on_every_deadline(base, cli_app):
    _every_screen_agrees(base, cli_app)
