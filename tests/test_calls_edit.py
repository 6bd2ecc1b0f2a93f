"""calls show / edit / void (issue 13): corrections are audited, voided calls leave lists, counts and reports."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.workflows.call_intake import log_call
from csdesk.workflows.calls import edit_call, list_calls, show_call, void_call
from csdesk.workflows.customers import add_customer
from csdesk.workflows.customer_card import customer_view
from tests.conftest import NOW, TZ


@pytest.fixture
def calls(team):
    """Two customers; three calls by 王芳 (#1, #2 for C000001, #3 for C000002) at 9:00, 9:10, 9:20 today."""
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", ["13812345678"])
        add_customer(desk, "李雷", ["13900001111"])
        for minute, phone in ((0, "13812345678"), (10, "13812345678"), (20, "13900001111")):
            log_call(desk, phone, "inquiry", f"问保修期 {minute}", at=datetime(2026, 11, 24, 9, minute, tzinfo=TZ))
    return team


def test_edit_changes_fields_and_records_before_and_after(calls):
    with calls.desk(as_="王芳") as desk:
        info = edit_call(desk, 1, kind="complaint", summary="上门迟到", channel="hotline", direction="out",
                         duration=timedelta(minutes=4, seconds=30), resolved=True, at=datetime(2026, 11, 24, 8, 30, tzinfo=TZ))
    assert (info.kind, info.summary, info.channel, info.direction, info.duration_s, info.resolved) == (
        "complaint", "上门迟到", "hotline", "out", 270, True)
    assert info.at == datetime(2026, 11, 24, 8, 30, tzinfo=TZ)
    before, after = calls.scalar("SELECT before FROM audit_entry WHERE action = 'call.edit'"), calls.scalar(
        "SELECT after FROM audit_entry WHERE action = 'call.edit'")
    assert json.loads(before)["kind"] == "inquiry" and json.loads(after)["kind"] == "complaint"
    assert json.loads(after)["summary"] == "上门迟到"


def test_edit_moves_a_call_to_another_customer(calls):
    with calls.desk(as_="李娜") as desk:
        info = edit_call(desk, 1, customer="C000002")
    assert info.customer_code == "C000002"
    with calls.desk() as desk:
        assert customer_view(desk, "C000001").call_count == 1
        assert customer_view(desk, "C000002").call_count == 2


@pytest.mark.parametrize("change, error, message", [
    ({"at": NOW + timedelta(hours=1)}, InvalidValue, "cannot be in the future"),
    ({"kind": "gossip"}, InvalidValue, "unknown kind"),
    ({"summary": "  "}, InvalidValue, "needs a summary"),
    ({"customer": "C000099"}, NotFound, "no customer with code C000099"),
    ({"project": "P9999"}, NotFound, "no project with code P9999"),
    ({}, InvalidValue, "nothing to change"),
    ({"kind": "inquiry"}, InvalidValue, "nothing to change"),
])
def test_bad_edits_are_refused_and_change_nothing(calls, change, error, message):
    before = calls.dump()
    with pytest.raises(error, match=message):
        with calls.desk(as_="王芳") as desk:
            edit_call(desk, 1, **change)
    assert calls.dump() == before


def test_a_call_cannot_move_to_a_project_of_another_customer(calls, cli):
    assert cli("--as", "李娜", "project", "add", "华府 3-1201", "--customer", "C000002", "--contract", "128000").exit_code == 0
    before = calls.dump()
    result = cli("--as", "王芳", "calls", "edit", "1", "--project", "P000001")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: project P000001 belongs to another customer, not to C000001"
    assert calls.dump() == before
    # Moving the call to that customer with its project is fine; moving it back without taking the project off is not.
    assert cli("--as", "王芳", "calls", "edit", "1", "--customer", "C000002", "--project", "P000001").exit_code == 0
    result = cli("--as", "王芳", "calls", "edit", "1", "--customer", "C000001")
    assert result.exit_code == 1 and "belongs to another customer" in result.stderr
    assert cli("--as", "王芳", "calls", "edit", "1", "--customer", "C000001", "--project", "").exit_code == 0


def test_a_call_a_complaint_hangs_on_does_not_move(calls):
    with calls.desk(as_="王芳") as desk:
        log_call(desk, "13812345678", "complaint", "漏水", open_complaint=True)
    with pytest.raises(Conflict, match="complaint #1 hangs on it"):
        with calls.desk(as_="李娜") as desk:
            edit_call(desk, 4, customer="C000002")


def test_only_the_agent_or_a_supervisor_edits_or_voids(calls, cli):
    with calls.desk(as_="李娜") as desk:
        log_call(desk, "13812345678", "inquiry", "李娜接的")
    with pytest.raises(PermissionDenied, match="only the agent who logged call #4 or a supervisor"):
        with calls.desk(as_="王芳") as desk:
            edit_call(desk, 4, summary="改")
    with pytest.raises(PermissionDenied, match="only the agent who logged call #4 or a supervisor"):
        with calls.desk(as_="王芳") as desk:
            void_call(desk, 4, "重复")
    with calls.desk(as_="张强") as desk:
        assert void_call(desk, 4, "重复").voided_by == "张强"


def test_void_leaves_lists_and_the_customer_card_but_stays_readable(calls):
    with calls.desk(as_="王芳") as desk:
        info = void_call(desk, 2, "logged twice (see #1)")
    assert (info.void_reason, info.voided_by, info.voided_at) == ("logged twice (see #1)", "王芳", NOW)
    with calls.desk() as desk:
        assert [c.id for c in list_calls(desk)] == [3, 1]
        assert [c.id for c in list_calls(desk, customer="C000001")] == [1]
        view = customer_view(desk, "C000001")
        assert ([c.id for c in view.calls], view.call_count) == ([1], 1)
        shown = show_call(desk, 2)
    assert (shown.summary, shown.void_reason) == ("问保修期 10", "logged twice (see #1)")


def test_a_voided_call_cannot_be_voided_again_or_edited(calls):
    with calls.desk(as_="王芳") as desk:
        void_call(desk, 2, "twice")
    before = calls.dump()
    with pytest.raises(InvalidTransition, match="call #2 is already void"):
        with calls.desk(as_="王芳") as desk:
            void_call(desk, 2, "again")
    with pytest.raises(InvalidTransition, match="call #2 is void"):
        with calls.desk(as_="李娜") as desk:
            edit_call(desk, 2, summary="x")
    assert calls.dump() == before


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "a\x07b"])
def test_void_needs_a_plain_reason(calls, reason):
    with pytest.raises(InvalidValue):
        with calls.desk(as_="王芳") as desk:
            void_call(desk, 1, reason)


def test_unknown_call_ids(calls, cli):
    before = calls.dump()
    for args in (["calls", "show", "99"], ["calls", "edit", "99", "--summary", "x"], ["calls", "void", "99", "--reason", "x"],
                 ["calls", "show", "0"], ["calls", "show", "--", "-1"], ["calls", "void", str(2**63), "--reason", "x"]):
        result = cli("--as", "李娜", *args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith("Error: no call #"), result.stderr
        assert len(result.stderr.strip().splitlines()) <= 2  # the error, maybe a hint
    assert calls.dump() == before


def test_void_leaves_the_report_counts(calls, cli):
    def total():
        result = cli("report", "daily", "--period", "2026-11-24", "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)["figures"]["calls.total"]["value"]

    assert total() == 3
    assert cli("--as", "王芳", "calls", "void", "3", "--reason", "wrong desk").exit_code == 0
    assert total() == 2


def test_cli_show_edit_void_and_audit(calls, cli):
    result = cli("--as", "王芳", "calls", "edit", "1", "--kind", "repair", "--at", "today 9:05", "--duration", "2m", "--resolved")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == "Updated call #1."
    result = cli("--as", "王芳", "calls", "edit", "1", "--at", "tomorrow")
    assert result.exit_code == 1 and result.stderr.startswith("Error: ")
    result = cli("--as", "王芳", "calls", "void", "1", "--reason", "[bold]重复[/bold]")
    assert result.exit_code == 0 and result.stderr.strip() == "Voided call #1."
    result = cli("calls", "show", "1")
    assert result.exit_code == 0
    assert "Call #1  VOID" in result.stdout
    assert "[bold]重复[/bold]" in result.stdout  # people's text is never read as markup
    assert "repair" in result.stdout and "2m00s" in result.stdout and "yes, on first contact" in result.stdout
    data = json.loads(cli("calls", "show", "1", "--json").stdout)
    assert (data["voided_by"], data["kind"], data["resolved"]) == ("王芳", "repair", True)
    result = cli("audit", "--entity", "call:1", "--json")
    assert [r["action"] for r in json.loads(result.stdout)["items"]] == ["call.void", "call.edit", "call.log"]
    listed = json.loads(cli("calls", "list", "--json").stdout)
    assert [c["id"] for c in listed["items"]] == [3, 2] and listed["total"] == 2
