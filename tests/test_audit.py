"""The audit trail: every write leaves a row saying who changed what, when, before and after."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from conftest import NOW
from csdesk.errors import InvalidValue
from csdesk.workflows.audit_trail import list_audit
from csdesk.workflows.call_intake import log_call
from csdesk.workflows.customers import add_customer, edit_customer


@pytest.fixture
def history(team):
    """张伟 added at 10:00, made a key account at 11:00, a call at 12:00 (all by different people)."""
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", ["13812345678"], tier="vip")
    with team.desk(as_="李娜", now=NOW + timedelta(hours=1)) as desk:
        edit_customer(desk, "C000001", tier="key", address="北京市朝阳区")
    with team.desk(as_="王芳", now=NOW + timedelta(hours=2)) as desk:
        log_call(desk, "13812345678", "repair", "卫生间漏水", at=NOW + timedelta(hours=2))
    return team


def test_every_write_is_audited_with_who_and_when(history):
    with history.desk(as_="王芳") as desk:
        rows = list_audit(desk)
    assert [(r.action, r.entity, r.entity_id, r.actor) for r in rows] == [
        ("call.log", "call", 1, "王芳"),
        ("customer.edit", "customer", 1, "李娜"),
        ("customer.add", "customer", 1, "王芳"),
        ("staff.add", "staff", 4, "陈总"),  # the team fixture adds everyone as 陈总
        ("staff.add", "staff", 3, "陈总"),
        ("staff.add", "staff", 2, "陈总"),
        ("staff.add", "staff", 1, None),  # the first staff member, added with nobody acting
    ]
    assert rows[0].at == NOW + timedelta(hours=2)
    assert rows[1].at == NOW + timedelta(hours=1)


def test_edit_rows_hold_only_what_changed(history):
    with history.desk(as_="王芳") as desk:
        [edit] = list_audit(desk, entity="customer:1", limit=1)
    assert edit.before == {"tier": "vip", "address": None}
    assert edit.after == {"tier": "key", "address": "北京市朝阳区"}


def test_new_rows_hold_the_whole_row(history):
    with history.desk(as_="王芳") as desk:
        [call] = list_audit(desk, entity="call")
    assert call.before is None
    assert (call.after["kind"], call.after["summary"], call.after["customer_id"]) == ("repair", "卫生间漏水", 1)
    assert call.after["at"] == "2026-11-24T12:00:00+08:00"  # stored UTC, shown in the configured zone


@pytest.mark.parametrize(
    "kw, actions",
    [
        ({"entity": "customer"}, ["customer.edit", "customer.add"]),
        ({"entity": "customer:1"}, ["customer.edit", "customer.add"]),
        ({"entity": "customer:2"}, []),
        ({"entity": "Staff:1"}, ["staff.add"]),
        ({"since": NOW + timedelta(minutes=30)}, ["call.log", "customer.edit"]),
        ({"limit": 1}, ["call.log"]),
    ],
)
def test_filters(history, kw, actions):
    with history.desk(as_="王芳") as desk:
        assert [r.action for r in list_audit(desk, **kw)] == actions


@pytest.mark.parametrize("kw, says", [({"entity": "customer 1"}, "is not an entity"), ({"limit": 0}, "at least 1")])
def test_bad_filters(history, kw, says):
    with history.desk(as_="王芳") as desk:
        with pytest.raises(InvalidValue, match=says):
            list_audit(desk, **kw)


def test_a_refused_write_leaves_no_audit_row(history):
    count = history.scalar("SELECT count(*) FROM audit_entry")
    with pytest.raises(InvalidValue):
        with history.desk(as_="王芳") as desk:
            log_call(desk, "13900001111", "chat", "x")  # would have created a customer first
    assert history.scalar("SELECT count(*) FROM audit_entry") == count


def test_cli_audit_table(cli, history):
    result = cli("audit", "--entity", "customer:1")
    assert result.exit_code == 0, result.stderr
    assert "2026-11-24 11:00" in result.stdout and "李娜" in result.stdout and "customer edited" in result.stdout
    assert "tier: vip → key" in result.stdout
    assert "customer added" in result.stdout and "call logged" not in result.stdout


def test_cli_audit_json(cli, history):
    result = cli("--json", "audit", "--since", "today 10:30")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["total"] == 2
    data = data["items"]
    assert [(r["action"], r["at"], r["actor"]) for r in data] == [
        ("call.log", "2026-11-24T12:00:00+08:00", "王芳"),
        ("customer.edit", "2026-11-24T11:00:00+08:00", "李娜"),
    ]
    assert data[1]["before"] == {"tier": "vip", "address": None}


def test_cli_audit_refusals(cli, history):
    result = cli("audit", "--entity", "customer:x")
    assert (result.exit_code, result.stderr) == (1, "Error: 'customer:x' is not an entity (use e.g. customer:12 or call)\n")
    result = cli("audit", "--since", "whenever")
    assert result.exit_code == 1 and result.stderr.startswith("Error: 'whenever' is not a date/time")
