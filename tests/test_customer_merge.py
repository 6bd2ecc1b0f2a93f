"""customer merge (issue 13): everything of the duplicate moves to the kept customer in one transaction."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from csdesk.errors import InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.workflows.call_intake import log_call
from csdesk.workflows.calls import void_call
from csdesk.workflows.customers import add_customer, find_customer, list_customers
from csdesk.workflows.customer_card import customer_view
from csdesk.workflows.merge import merge_customers
from tests.conftest import NOW, TZ


@pytest.fixture
def dupes(team, cli):
    """C000001 张伟 (kept) and C000002 (the duplicate, with company and manager) with a call, a voided call,
    a complaint, a callback, a project with a payment plan and a payment."""
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", ["13812345678"])
        add_customer(desk, "张伟(重复)", ["13900001111", "010-62345678"], company="华府装饰", manager="李娜")
        log_call(desk, "13900001111", "inquiry", "问进度", at=NOW - timedelta(hours=1))
        log_call(desk, "13900001111", "inquiry", "重复登记", at=NOW - timedelta(minutes=50))
        void_call(desk, 2, "logged twice")
    for args in (
        ["--as", "王芳", "complaint", "open", "--phone", "13900001111", "--severity", "normal", "--category", "quality", "--summary", "墙面开裂"],
        ["--as", "王芳", "callback", "schedule", "--phone", "13900001111", "--due", "today 15:00", "--note", "报价确认后回电"],
        ["--as", "李娜", "project", "add", "华府 3-1201", "--customer", "C000002", "--contract", "100000", "--owner", "李娜"],
        ["--as", "李娜", "payment", "plan", "P000001", "--split", "首款:30%:sign, 尾款:70%:accept+30d"],
        ["--as", "李娜", "payment", "record", "P000001", "--amount", "30000", "--instalment", "首款"],
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    return team


def _owners(db) -> dict[str, int]:
    return {table: db.scalar(f"SELECT count(*) FROM {table} WHERE customer_id = 2")
            for table in ("customer_phone", "call", "complaint", "callback", "project")}


def test_merge_moves_everything_and_the_old_code_resolves(dupes):
    with dupes.desk(as_="李娜") as desk:
        result = merge_customers(desk, "C000002", "C000001")
    assert result.moved["numbers"] == ["139 0000 1111", "010 62345678"]
    assert result.moved["calls"] == ["#1", "#2"]
    assert result.moved["complaints"] == ["#1"]
    assert result.moved["callbacks"] == ["#1"]
    assert result.moved["projects"] == ["P000001"]
    assert result.moved["money"] == ["2 instalments (¥100,000.00)", "1 payments (¥30,000.00)"]
    assert result.filled == {"company": "华府装饰", "manager_id": "李娜"}
    assert set(_owners(dupes).values()) == {0}
    with dupes.desk() as desk:
        kept = find_customer(desk.session, "C000002")
        assert kept.code == "C000001"
        assert find_customer(desk.session, "139 0000 1111").code == "C000001"
        view = customer_view(desk, "C000002")
        assert view.customer.code == "C000001" and view.customer.company == "华府装饰"
        assert view.customer.phones == ["+8613812345678", "+8613900001111", "+861062345678"]
        assert view.call_count == 1  # the voided call moved too, and still counts nowhere
        rows, total = list_customers(desk)
        assert [c.code for c in rows] == ["C000001"] and total == 1
        assert list_customers(desk, search="重复")[1] == 0
    assert dupes.scalar("SELECT merged_into_id FROM customer WHERE id = 2") == 1
    assert dupes.scalar("SELECT count(*) FROM audit_entry WHERE action = 'customer.merge'") == 1
    assert dupes.scalar("SELECT count(*) FROM audit_entry WHERE action = 'call.merge'") == 2


def test_dry_run_lists_the_same_and_changes_nothing(dupes):
    before = dupes.dump()
    with dupes.desk(as_="李娜") as desk:
        planned = merge_customers(desk, "C000002", "C000001", dry_run=True)
    assert dupes.dump() == before
    with dupes.desk(as_="李娜") as desk:
        done = merge_customers(desk, "C000002", "C000001")
    assert (planned.moved, planned.filled) == (done.moved, done.filled)


@pytest.mark.parametrize("as_, dup, into, error, message", [
    ("王芳", "C000002", "C000001", PermissionDenied, "merging customers needs a supervisor or above"),
    ("李娜", "C000002", "C000002", InvalidValue, "cannot merge C000002 into itself"),
    ("李娜", "C000002", "13900001111", InvalidValue, "cannot merge C000002 into itself"),
    ("李娜", "C000009", "C000001", NotFound, "no customer with code C000009"),
    ("李娜", "C000002", "C000009", NotFound, "no customer with code C000009"),
])
def test_refused_merges_change_nothing(dupes, as_, dup, into, error, message):
    before = dupes.dump()
    with pytest.raises(error, match=message):
        with dupes.desk(as_=as_) as desk:
            merge_customers(desk, dup, into)
    assert dupes.dump() == before


def test_a_code_already_merged_is_refused_by_name(dupes):
    with dupes.desk(as_="李娜") as desk:
        merge_customers(desk, "C000002", "C000001")
    before = dupes.dump()
    with pytest.raises(InvalidTransition, match="C000002 was already merged into C000001"):
        with dupes.desk(as_="李娜") as desk:
            merge_customers(desk, "C000002", "C000001")
    assert dupes.dump() == before


def test_a_doubled_periodic_visit_series_is_ended(team, cli):
    from csdesk.workflows.callbacks import generate_periodic_visits

    with team.desk(as_="王芳") as desk:
        add_customer(desk, "甲", ["13812345678"], tier="key")
        add_customer(desk, "乙", ["13900001111"], tier="key")
    with team.desk() as desk:
        generate_periodic_visits(desk)
    assert team.scalar("SELECT count(*) FROM callback_series WHERE rule = 'key' AND active") == 2
    series = {r: team.scalar("SELECT id FROM callback_series WHERE customer_id = :c AND rule = 'key'", c=r) for r in (1, 2)}
    with team.desk(as_="李娜") as desk:
        result = merge_customers(desk, "C000002", "C000001")
    assert result.ended == [f"visit series #{series[2]} (key), C000001 has its own"]
    assert team.scalar("SELECT count(*) FROM callback_series WHERE customer_id = 1 AND rule = 'key' AND active") == 1
    assert team.scalar("SELECT count(*) FROM callback WHERE series_id = :s AND status = 'pending'", s=series[2]) == 0
    # The next visit-rule pass does not give the merged shell a series of its own again.
    with team.desk() as desk:
        generate_periodic_visits(desk, now=NOW + timedelta(days=1))
    assert team.scalar("SELECT count(*) FROM callback_series WHERE customer_id = 2 AND active") == 0
    assert team.scalar("SELECT count(*) FROM callback_series WHERE customer_id = 1 AND active") == 1


def test_cli_merge(dupes, cli):
    result = cli("--as", "李娜", "customer", "merge", "13900001111", "--into", "C000001", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == "Would merge C000002 into C000001 张伟."
    assert "P000001" in result.stdout and "139 0000 1111" in result.stdout
    result = cli("--as", "李娜", "customer", "merge", "C000002", "--into", "C000001", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["duplicate"], data["kept"], data["moved"]["complaints"]) == ("C000002", "C000001", ["#1"])
    result = cli("--as", "李娜", "customer", "merge", "C000001", "--into", "C000002")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: cannot merge C000001 into itself"
    result = cli("customer", "show", "C000002", "--json")
    assert json.loads(result.stdout)["customer"]["code"] == "C000001"
