"""Logging calls (known and unknown numbers, after the fact, with a project) and listing them.

The clock: Tuesday 2026-11-24 10:00 in Shanghai.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import NOW
from csdesk.errors import InvalidValue, NotFound, PermissionDenied
from csdesk.workflows.call_intake import log_call
from csdesk.workflows.calls import list_calls
from csdesk.workflows.customers import add_customer

SH = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


def sh(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


@pytest.fixture
def zhang(team):
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", ["13812345678", "010-62345678"], tier="vip")
    return team


def add_project(db, code: str, customer_code: str) -> None:
    from sqlmodel import select

    from csdesk.models import Customer, Project

    with db.database.session(write=True) as session:
        customer_id = session.exec(select(Customer.id).where(Customer.code == customer_code)).one()
        session.add(Project(code=code, customer_id=customer_id, name=f"{code} 装修", stage="handed_over"))


# ---- workflow -----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["+86 138-1234-5678", "0086 13812345678", "(010) 6234-5678"])
def test_known_number_typed_differently_finds_the_customer(zhang, typed):
    with zhang.desk(as_="王芳") as desk:
        logged = log_call(desk, typed, "repair", "卫生间漏水", duration=timedelta(minutes=5, seconds=30))
    assert (logged.customer_code, logged.customer_name, logged.new_customer) == ("C000001", "张伟", False)
    call = logged.call
    assert (call.kind, call.channel, call.direction, call.agent, call.duration_s) == ("repair", "phone", "in", "王芳", 330)
    assert call.at == NOW
    assert zhang.scalar("SELECT count(*) FROM customer") == 1
    assert zhang.scalar("SELECT phone_raw FROM call") == typed
    assert zhang.scalar("SELECT action FROM audit_entry ORDER BY id DESC LIMIT 1") == "call.log"


def test_unknown_number_creates_an_unnamed_customer(zhang):
    with zhang.desk(as_="王芳") as desk:
        logged = log_call(desk, "139-0000-1111", "inquiry", "问价格")
    assert (logged.customer_code, logged.customer_name, logged.new_customer) == ("C000002", None, True)
    assert zhang.scalar("SELECT source FROM customer WHERE code = 'C000002'") == "call"
    with zhang.database.engine.connect() as conn:
        actions = conn.exec_driver_sql("SELECT action, entity_id, actor FROM audit_entry ORDER BY id DESC LIMIT 2").fetchall()
    assert actions == [("call.log", 1, "王芳"), ("customer.add", 2, "王芳")]  # both writes audited
    # The next call from that number finds the same customer.
    with zhang.desk(as_="王芳") as desk:
        again = log_call(desk, "13900001111", "followup", "回电", direction="out")
    assert (again.customer_code, again.new_customer, again.call.direction) == ("C000002", False, "out")


def test_a_later_call_names_an_unnamed_caller(zhang):
    with zhang.desk(as_="王芳") as desk:
        log_call(desk, "13900001111", "inquiry", "问价格")
    with zhang.desk(as_="王芳", now=NOW + timedelta(hours=1)) as desk:
        logged = log_call(desk, "139 0000 1111", "inquiry", "再次来电", name="李四", at=NOW + timedelta(hours=1))
    assert (logged.customer_code, logged.customer_name, logged.new_customer) == ("C000002", "李四", False)
    with zhang.database.engine.connect() as conn:
        action, before, after = conn.exec_driver_sql(
            "SELECT action, before, after FROM audit_entry WHERE entity = 'customer' ORDER BY id DESC LIMIT 1").one()
    assert action == "customer.edit"
    assert (json.loads(before)["name"], json.loads(after)["name"]) == (None, "李四")
    # A customer who already has a name keeps it: --name only completes unnamed records.
    with zhang.desk(as_="王芳") as desk:
        assert log_call(desk, "13812345678", "inquiry", "x", name="别人").customer_name == "张伟"


def test_unknown_number_with_a_name(zhang):
    with zhang.desk(as_="王芳") as desk:
        logged = log_call(desk, "13900001111", "inquiry", "问价格", name="李四", channel="wechat")
    assert (logged.customer_name, logged.call.channel) == ("李四", "wechat")


def test_chinese_labels_for_kind_and_channel(zhang):
    with zhang.desk(as_="王芳") as desk:
        call = log_call(desk, "13812345678", "投诉", "工人迟到", channel="热线", direction="来电").call
    assert (call.kind, call.channel, call.direction) == ("complaint", "hotline", "in")


def test_call_logged_after_the_fact(zhang):
    with zhang.desk(as_="王芳") as desk:
        call = log_call(desk, "13812345678", "inquiry", "昨天来电", at=sh(2026, 11, 23, 16, 0)).call
    assert call.at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert str(zhang.scalar("SELECT at FROM call"))[:19] == "2026-11-23 08:00:00"  # stored as UTC


def test_future_time_refused(zhang):
    before = zhang.dump()
    with pytest.raises(InvalidValue, match="cannot be logged in the future"):
        with zhang.desk(as_="王芳") as desk:
            log_call(desk, "13812345678", "inquiry", "x", at=NOW + timedelta(minutes=10))
    assert zhang.dump() == before
    with zhang.desk(as_="王芳") as desk:  # a clock a few minutes ahead is tolerated
        log_call(desk, "13812345678", "inquiry", "x", at=NOW + timedelta(minutes=4))


def test_project_must_belong_to_the_customer(zhang):
    with zhang.desk(as_="王芳") as desk:
        add_customer(desk, "李四", ["13900001111"])
    add_project(zhang, "P2026-001", "C000001")
    add_project(zhang, "P2026-002", "C000002")
    with zhang.desk(as_="王芳") as desk:
        call = log_call(desk, "13812345678", "repair", "地板起拱", project="p2026-001").call
    assert call.project == "P2026-001"
    before = zhang.dump()
    for code, says in (("P2026-002", "project P2026-002 belongs to another customer"), ("P404", "no project with code P404")):
        with pytest.raises(InvalidValue, match=says):
            with zhang.desk(as_="王芳") as desk:
                log_call(desk, "13812345678", "repair", "x", project=code)
    # A new number never owns a project: nothing is created, not even the customer.
    with pytest.raises(InvalidValue, match="belongs to another customer"):
        with zhang.desk(as_="王芳") as desk:
            log_call(desk, "13700000000", "repair", "x", project="P2026-001")
    assert zhang.dump() == before


def test_the_brief_shows_the_customer_and_the_calls_before_this_one(zhang):
    add_project(zhang, "P2026-001", "C000001")
    with zhang.desk(as_="王芳") as desk:
        first = log_call(desk, "13812345678", "repair", "x")
    with zhang.desk(as_="王芳") as desk:
        logged = log_call(desk, "13812345678", "inquiry", "y")
    brief = logged.brief
    assert (brief.code, brief.tier, brief.tier_label) == ("C000001", "vip", "VIP")
    assert [c.id for c in brief.calls] == [first.call.id] and brief.calls_total == 1
    assert (brief.complaints, brief.callbacks, brief.instalments, brief.money_overdue) == ([], [], [], 0)


@pytest.mark.parametrize(
    "kw, error, says",
    [
        ({"kind": "chat"}, InvalidValue, "unknown kind 'chat' (use one of: inquiry, complaint, repair, suggestion, followup, payment, other)"),
        ({"channel": "fax"}, InvalidValue, "unknown channel 'fax'"),
        ({"direction": "sideways"}, InvalidValue, "unknown direction 'sideways'"),
        ({"phone": "12345"}, InvalidValue, "is not a valid phone number"),
        ({"phone": "call me"}, InvalidValue, "is not a phone number"),
        ({"summary": "  "}, InvalidValue, "needs a summary"),
        ({"summary": "x" * 4001}, InvalidValue, "longer than 4000"),
    ],
)
def test_bad_values_refused_and_nothing_written(zhang, kw, error, says):
    args = {"phone": "13900001111", "kind": "inquiry", "summary": "问价格", **kw}
    before = zhang.dump()
    with pytest.raises(error) as err:
        with zhang.desk(as_="王芳") as desk:
            log_call(desk, **args)
    assert says in err.value.message
    assert zhang.dump() == before


def test_nobody_acting_refused(zhang):
    with pytest.raises(PermissionDenied):
        with zhang.desk() as desk:
            log_call(desk, "13812345678", "inquiry", "x")


# ---- listing --------------------------------------------------------------------------------------


@pytest.fixture
def calls(zhang):
    """Six calls over three days, by two agents, for two customers."""
    with zhang.desk(as_="王芳") as desk:
        add_customer(desk, "李四", ["13900001111"])
    rows = [
        ("王芳", "13812345678", "inquiry", sh(2026, 11, 22, 9, 0)),
        ("王芳", "13900001111", "complaint", sh(2026, 11, 22, 15, 0)),
        ("李娜", "13812345678", "repair", sh(2026, 11, 23, 10, 0)),
        ("王芳", "010-62345678", "complaint", sh(2026, 11, 23, 17, 0)),
        ("李娜", "13900001111", "payment", sh(2026, 11, 24, 8, 30)),
        ("王芳", "13812345678", "inquiry", sh(2026, 11, 24, 9, 45)),
    ]
    for i, (agent, phone, kind, at) in enumerate(rows):
        with zhang.desk(as_=agent) as desk:
            log_call(desk, phone, kind, f"call {i + 1}", at=at)
    return zhang


def summaries(rows):
    return [c.summary for c in rows]


@pytest.mark.parametrize(
    "kw, expected",
    [
        ({}, ["call 6", "call 5", "call 4", "call 3", "call 2", "call 1"]),
        ({"since": sh(2026, 11, 23)}, ["call 6", "call 5", "call 4", "call 3"]),
        ({"until": sh(2026, 11, 23)}, ["call 2", "call 1"]),
        ({"since": sh(2026, 11, 23), "until": sh(2026, 11, 24)}, ["call 4", "call 3"]),
        ({"agent": "李娜"}, ["call 5", "call 3"]),
        ({"kind": "complaint"}, ["call 4", "call 2"]),
        ({"kind": "投诉"}, ["call 4", "call 2"]),
        ({"customer": "010 6234 5678"}, ["call 6", "call 4", "call 3", "call 1"]),
        ({"customer": "C000002"}, ["call 5", "call 2"]),
        ({"customer": "C000001", "kind": "inquiry", "agent": "王芳"}, ["call 6", "call 1"]),
        ({"limit": 2}, ["call 6", "call 5"]),
    ],
)
def test_list_filters(calls, kw, expected):
    with calls.desk(as_="王芳") as desk:
        assert summaries(list_calls(desk, **kw)) == expected


def test_list_refusals(calls):
    with calls.desk(as_="王芳") as desk:
        with pytest.raises(NotFound, match="no staff member named '无名'"):
            list_calls(desk, agent="无名")
        with pytest.raises(NotFound, match="no customer with code C000009"):
            list_calls(desk, customer="C000009")
        with pytest.raises(InvalidValue, match="unknown kind"):
            list_calls(desk, kind="chat")
        with pytest.raises(InvalidValue, match="--limit must be at least 1"):
            list_calls(desk, limit=0)


# ---- CLI -----------------------------------------------------------------------------------------


def test_cli_log_call_prints_id_and_message(cli, zhang):
    result = cli("--as", "王芳", "log-call", "--phone", "+86 138 1234 5678", "--kind", "repair", "--summary", "卫生间漏水",
                 "--duration", "5m30s", "--channel", "hotline")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "1\n"
    assert result.stderr == "Call #1 logged for C000001 张伟 (VIP).\n"
    assert zhang.scalar("SELECT duration_s FROM call WHERE id = 1") == 330


def test_cli_unknown_number_creates_customer(cli, zhang):
    result = cli("--as", "王芳", "log-call", "--phone", "139 0000 1111", "--kind", "inquiry", "--summary", "问价")
    assert result.exit_code == 0
    assert result.stderr == "Call #1 logged for C000002 (no name yet), a new customer.\n"
    result = cli("--as", "王芳", "log-call", "--phone", "13700002222", "--kind", "inquiry", "--summary", "问价", "--name", "赵六")
    assert result.stderr == "Call #2 logged for C000003 赵六, a new customer.\n"


def test_cli_log_call_prints_only_the_id_and_the_brief_on_stderr(cli, zhang):
    add_project(zhang, "P2026-001", "C000001")
    cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "repair", "--summary", "first call")
    result = cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "repair", "--summary", "x")
    assert result.exit_code == 0
    assert result.stdout == "2\n"
    assert "Latest calls (1)" in result.stderr and "first call" in result.stderr


@pytest.mark.parametrize(
    "at, local",
    [
        ("today 9:30", "2026-11-24T09:30:00+08:00"),
        ("yesterday 16:00", "2026-11-23T16:00:00+08:00"),
        ("yesterday", "2026-11-23T00:00:00+08:00"),
        ("-2h", "2026-11-24T08:00:00+08:00"),
        ("fri 10:00", "2026-11-20T10:00:00+08:00"),  # last Friday: calls happened in the past
        ("2026-11-20 14:05", "2026-11-20T14:05:00+08:00"),
        ("昨天 9:00", "2026-11-23T09:00:00+08:00"),
    ],
)
def test_cli_at_takes_human_dates(cli, zhang, at, local):
    result = cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "补录", "--at", at, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["call"]["at"] == local
    assert data["customer_code"] == "C000001" and data["new_customer"] is False


@pytest.mark.parametrize(
    "extra, error",
    [
        (["--kind", "chat"], "Error: unknown kind 'chat' (use one of: inquiry, complaint, repair, suggestion, followup, payment, other)"),
        (["--channel", "fax"], "Error: unknown channel 'fax' (use one of: hotline, phone, wechat, visit, email, other)"),
        (["--phone", "1381234567"], "Error: '1381234567' is not a valid phone number (a mobile number has 11 digits, this one has 10)"),
        (["--at", "tomorrow"], "Error: a call cannot be logged in the future (check --at)"),
        (["--at", "today 14:30"], "Error: a call cannot be logged in the future (check --at)"),
        (["--at", "someday"], "Error: 'someday' is not a date/time (try 2026-11-24 14:30, today 14:30, tomorrow, fri 10:00, +3d, -2h)"),
        (["--duration", "long"], "Error: 'long' is not a duration (try 5m30s, 1h30m, 2h, 45)"),
        (["--project", "P404"], "Error: no project with code P404"),
        (["--summary", ""], "Error: a call needs a summary (--summary)"),
    ],
)
def test_cli_bad_input_is_exit_1_one_error_line_db_unchanged(cli, zhang, extra, error):
    args = {"--phone": "13900001111", "--kind": "inquiry", "--summary": "问价"}
    for flag, value in zip(extra[::2], extra[1::2]):
        args[flag] = value
    before = zhang.dump()
    result = cli("--as", "王芳", "log-call", *[x for kv in args.items() for x in kv])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [error]
    assert zhang.dump() == before


def test_cli_missing_required_option_is_usage_error(cli, zhang):
    before = zhang.dump()
    result = cli("--as", "王芳", "log-call", "--phone", "13812345678", "--summary", "x")
    assert result.exit_code == 2
    assert "--kind" in result.stderr
    assert zhang.dump() == before


def test_cli_calls_list(cli, calls):
    result = cli("calls", "list", "--since", "yesterday", "--kind", "complaint")
    assert result.exit_code == 0
    assert "call 4" in result.stdout and "call 2" not in result.stdout
    assert "2026-11-23 17:00" in result.stdout and "complaint" in result.stdout and "010 62345678" in result.stdout
    assert result.stderr == ""
    data = json.loads(cli("--json", "calls", "list", "--agent", "李娜", "--customer", "13900001111").stdout)
    assert data["total"] == 1
    assert [(c["summary"], c["at"], c["agent"], c["customer_code"]) for c in data["items"]] == [
        ("call 5", "2026-11-24T08:30:00+08:00", "李娜", "C000002"),
    ]


def test_cli_calls_list_refusals(cli, calls):
    result = cli("calls", "list", "--since", "last tuesdayish")
    assert result.exit_code == 1 and result.stderr.startswith("Error: 'last tuesdayish' is not a date/time")
    result = cli("calls", "list", "--agent", "无名")
    assert (result.exit_code, result.stderr.splitlines()[0]) == (1, "Error: no staff member named '无名'")
    result = cli("calls", "list", "--limit", "x")
    assert result.exit_code == 2
