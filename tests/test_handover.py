"""staff handover (issue 13): everything someone still has open moves to a colleague, then they can leave."""

from __future__ import annotations

import json

import pytest

from csdesk.errors import InvalidValue, NotFound, PermissionDenied
from csdesk.workflows.handover import hand_over
from csdesk.workflows.handover import deactivate_staff, open_work


@pytest.fixture
def busy(team, cli):
    """王芳 owns and handles complaint #1, owns #2 (escalated to 李娜), has a callback, owns project P000001
    (handed over, with an open adjustment) and manages C000001. 赵敏 is a second specialist under 李娜."""
    for args in (
        ["--as", "陈总", "staff", "add", "赵敏", "--role", "specialist", "--reports-to", "李娜"],
        ["--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678", "--manager", "王芳"],
        ["--as", "王芳", "complaint", "open", "--phone", "13812345678", "--severity", "normal", "--category", "quality", "--summary", "墙面开裂"],
        ["--as", "王芳", "complaint", "open", "--phone", "13812345678", "--severity", "normal", "--category", "delay", "--summary", "工期延误"],
        ["--as", "王芳", "complaint", "escalate", "2", "--reason", "客户要求主管处理"],
        ["--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "today 15:00", "--note", "报价确认后回电"],
        ["--as", "李娜", "project", "add", "华府 3-1201", "--customer", "C000001", "--contract", "100000", "--owner", "王芳"],
        ["--as", "王芳", "project", "handover", "P000001", "--at", "today 9:00"],
        ["--as", "王芳", "adjust", "add", "--project", "P000001", "--item", "主卧衣柜门关不严"],
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    return team


def _what(result) -> list[tuple[str, str]]:
    return [(i.what, i.ref) for i in result.items]


def test_handover_moves_everything_then_deactivation_succeeds(busy):
    with busy.desk(as_="李娜") as desk:
        assert open_work(desk.session, 4)  # 王芳 has open work: deactivation would be refused
        result = hand_over(desk, "王芳", "赵敏")
    moved = _what(result)
    assert ("complaint (assigned)", "#1") in moved and ("complaint (owned)", "#1") in moved and ("complaint (owned)", "#2") in moved
    assert ("complaint (assigned)", "#2") not in moved  # 李娜's since the escalation
    assert ("project", "P000001") in moved and ("customer", "C000001") in moved and ("adjustment", "#1") in moved
    assert [w for w, _ in moved].count("callback") == busy.scalar("SELECT count(*) FROM callback WHERE assignee_id = 5 AND status = 'pending'")
    assert result.left == []
    zhao = 5
    assert busy.scalar("SELECT owner_id FROM complaint WHERE id = 1") == zhao
    assert busy.scalar("SELECT assignee_id FROM complaint WHERE id = 1") == zhao
    assert busy.scalar("SELECT owner_id FROM complaint WHERE id = 2") == zhao
    assert busy.scalar("SELECT assignee_id FROM complaint WHERE id = 2") == 3  # 李娜 keeps it
    assert busy.scalar("SELECT owner_id FROM project WHERE id = 1") == zhao
    assert busy.scalar("SELECT manager_id FROM customer WHERE id = 1") == zhao
    assert busy.scalar("SELECT count(*) FROM callback WHERE assignee_id = 4 AND status = 'pending'") == 0
    with busy.desk(as_="李娜") as desk:
        assert deactivate_staff(desk, "王芳").active is False


def test_dry_run_lists_the_same_items_and_changes_nothing(busy):
    before = busy.dump()
    with busy.desk(as_="李娜") as desk:
        planned = hand_over(desk, "王芳", "赵敏", dry_run=True)
    assert busy.dump() == before
    with busy.desk(as_="李娜") as desk:
        done = hand_over(desk, "王芳", "赵敏")
    assert _what(planned) == _what(done)


def test_a_role_too_low_for_a_complaint_is_refused_listing_the_complaints(busy):
    """李娜 (supervisor) holds complaint #2 at level 2: 赵敏, a specialist, may not take it."""
    before = busy.dump()
    with pytest.raises(PermissionDenied, match="赵敏 \\(specialist\\) cannot take over 1 of 李娜's complaints") as caught:
        with busy.desk(as_="张强") as desk:
            hand_over(desk, "李娜", "赵敏")
    assert caught.value.details == ["complaint #2 at level 2 (supervisor): 工期延误"]
    assert busy.dump() == before


@pytest.mark.parametrize("as_, name, to, error, message", [
    ("王芳", "王芳", "赵敏", PermissionDenied, "handing over someone's work needs a supervisor or above"),
    ("李娜", "张强", "赵敏", PermissionDenied, "李娜 \\(supervisor\\) cannot hand over the work of 张强"),
    ("李娜", "王芳", "王芳", InvalidValue, "王芳 cannot hand over to themselves"),
    ("李娜", "王芳", "nobody", NotFound, "no staff member named 'nobody'"),
    ("李娜", "nobody", "赵敏", NotFound, "no staff member named 'nobody'"),
])
def test_refused_handovers_change_nothing(busy, as_, name, to, error, message):
    before = busy.dump()
    with pytest.raises(error, match=message):
        with busy.desk(as_=as_) as desk:
            hand_over(desk, name, to)
    assert busy.dump() == before


def test_handover_to_an_inactive_person_is_refused(busy, cli):
    assert cli("--as", "李娜", "staff", "add", "钱多", "--role", "specialist", "--reports-to", "李娜").exit_code == 0
    assert cli("--as", "李娜", "staff", "deactivate", "钱多").exit_code == 0
    before = busy.dump()
    result = cli("--as", "李娜", "staff", "handover", "王芳", "--to", "钱多")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: 钱多 is no longer active: hand over to an active colleague"
    assert busy.dump() == before


def test_cli_handover(busy, cli):
    result = cli("--as", "李娜", "staff", "handover", "王芳", "--to", "赵敏", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "Would hand over" in result.stderr and "P000001" in result.stdout and "主卧衣柜门关不严" in result.stdout
    result = cli("--as", "张强", "staff", "handover", "李娜", "--to", "赵敏")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: 赵敏 (specialist) cannot take over 1 of 李娜's complaints")
    assert lines[1].strip() == "complaint #2 at level 2 (supervisor): 工期延误"
    result = cli("--as", "李娜", "staff", "handover", "王芳", "--to", "赵敏", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["name"], data["to"], data["left"]) == ("王芳", "赵敏", [])
    assert cli("--as", "李娜", "staff", "deactivate", "王芳").exit_code == 0
