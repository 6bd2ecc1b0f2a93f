"""Customers: adding with several numbers, no number owned twice, editing, finding by code or any
number, listing with filters, and the audit trail of every change."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from conftest import NOW
from csdesk.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from csdesk.workflows.customers import add_customer, edit_customer, find_customer, list_customers
from csdesk.workflows.customer_card import customer_view


def audit_rows(db, action):
    from sqlalchemy import text

    with db.database.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT entity, entity_id, actor, before, after FROM audit_entry WHERE action = :a ORDER BY id"), {"a": action}
        ).fetchall()
    return [(e, i, a, json.loads(b) if b else None, json.loads(af)) for e, i, a, b, af in rows]


@pytest.fixture
def zhang(team):
    """张伟, a VIP with a mobile and a Beijing landline, managed by 李娜."""
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", ["138-1234-5678", "(010) 6234 5678"], tier="vip", company="华府装饰",
                     address="北京市朝阳区建国路88号", manager="李娜")
    return team


# ---- adding ---------------------------------------------------------------------------------------


def test_add_with_several_numbers_typed_any_way(zhang):
    with zhang.desk(as_="王芳") as desk:
        c = find_customer(desk.session, "C000001")
        info = customer_view(desk, "C000001").customer
    assert c.name == "张伟"
    assert info.code == "C000001"
    assert info.phones == ["+8613812345678", "+861062345678"]  # main number first
    assert (info.tier, info.company, info.manager, info.address) == ("vip", "华府装饰", "李娜", "北京市朝阳区建国路88号")
    [(entity, entity_id, actor, before, after)] = audit_rows(zhang, "customer.add")
    assert (entity, entity_id, actor, before) == ("customer", 1, "王芳", None)
    assert after["phones"] == ["+8613812345678", "+861062345678"]
    assert (after["code"], after["name"], after["tier"]) == ("C000001", "张伟", "vip")


def test_same_number_twice_in_one_add_is_kept_once(team):
    with team.desk(as_="王芳") as desk:
        info = add_customer(desk, "李四", ["13900001111", "+86 139 0000 1111"])
    assert info.phones == ["+8613900001111"]


def test_tier_names_in_chinese(team):
    with team.desk(as_="王芳") as desk:
        assert add_customer(desk, "甲", ["13900000001"], tier="重点客户").tier == "key"
        assert add_customer(desk, "乙", ["13900000002"], tier="VIP").tier == "vip"
        assert add_customer(desk, "丙", ["13900000003"]).tier == "standard"


@pytest.mark.parametrize("typed", ["13812345678", "+86 138-1234-5678", "010-62345678", "0086 10 62345678"])
def test_duplicate_phone_refused_naming_its_owner(zhang, typed):
    before = zhang.dump()
    with pytest.raises(Conflict) as err:
        with zhang.desk(as_="王芳") as desk:
            add_customer(desk, "冒名", ["13900009999", typed])
    assert err.value.message.endswith("already belongs to C000001 张伟")
    assert zhang.dump() == before


@pytest.mark.parametrize(
    "name, numbers, fields, error, says",
    [
        ("", ["13900001111"], {}, InvalidValue, "needs a name"),
        ("李四", [], {}, InvalidValue, "at least one phone number"),
        ("李四", ["139000011"], {}, InvalidValue, "is not a valid phone number"),
        ("李四", ["13900001111"], {"tier": "gold"}, InvalidValue, "unknown tier 'gold'"),
        ("李四", ["13900001111"], {"manager": "无名"}, NotFound, "no staff member named '无名'"),
        ("李" * 101, ["13900001111"], {}, InvalidValue, "name is longer than 100"),
        ("李四", ["13900001111"], {"notes": "a\x00b"}, InvalidValue, "control characters"),
    ],
)
def test_add_refusals(team, name, numbers, fields, error, says):
    before = team.dump()
    with pytest.raises(error, match=says):
        with team.desk(as_="王芳") as desk:
            add_customer(desk, name, numbers, **fields)
    assert team.dump() == before


def test_add_needs_someone_acting(team):
    with pytest.raises(PermissionDenied):
        with team.desk() as desk:
            add_customer(desk, "李四", ["13900001111"])


# ---- editing --------------------------------------------------------------------------------------


def test_edit_phones_tier_and_manager_with_audit(zhang):
    later = NOW + timedelta(hours=1)
    with zhang.desk(as_="李娜", now=later) as desk:
        info = edit_customer(desk, "138 1234 5678", add_phones=["137-0000-1111"], remove_phones=["010-62345678"],
                             tier="key", manager="张强")
    assert info.phones == ["+8613812345678", "+8613700001111"]
    assert (info.tier, info.manager) == ("key", "张强")
    [(_, entity_id, actor, before, after)] = audit_rows(zhang, "customer.edit")
    assert (entity_id, actor) == (1, "李娜")
    manager_ids = {"李娜": 3, "张强": 2}
    assert before == {"phones": ["+8613812345678", "+861062345678"], "tier": "vip", "manager_id": manager_ids["李娜"]}
    assert after == {"phones": ["+8613812345678", "+8613700001111"], "tier": "key", "manager_id": manager_ids["张强"]}
    # The old landline is free again; the new mobile finds 张伟.
    with zhang.desk(as_="王芳") as desk:
        assert find_customer(desk.session, "13700001111").code == "C000001"
        with pytest.raises(NotFound, match="no customer with phone 010 62345678"):
            find_customer(desk.session, "010-62345678")
        assert add_customer(desk, "新户", ["010 6234 5678"]).code == "C000002"


def test_clear_manager_with_empty_string(zhang):
    with zhang.desk(as_="王芳") as desk:
        assert edit_customer(desk, "C000001", manager="").manager is None
    [(*_, before, after)] = audit_rows(zhang, "customer.edit")
    assert (before, after) == ({"manager_id": 3}, {"manager_id": None})


def test_edit_name_company_and_notes(zhang):
    with zhang.desk(as_="王芳") as desk:
        info = edit_customer(desk, "c000001", name="张伟（业主）", company="", notes="周末勿扰")
    assert (info.name, info.company, info.notes) == ("张伟（业主）", None, "周末勿扰")


@pytest.mark.parametrize(
    "kw, error, says",
    [
        ({"remove_phones": ["13812345678", "010-62345678"]}, InvalidValue, "must keep at least one phone number"),
        ({"remove_phones": ["13999999999"]}, InvalidValue, "139 9999 9999 is not one of C000001's numbers"),
        ({"add_phones": ["13900001111"]}, Conflict, "139 0000 1111 already belongs to C000002 李四"),
        ({"tier": "vip"}, InvalidValue, "nothing to change"),
        ({"name": " "}, InvalidValue, "the name cannot be empty"),
        ({"manager": "无名"}, NotFound, "no staff member named '无名'"),
    ],
)
def test_edit_refusals_change_nothing(zhang, kw, error, says):
    with zhang.desk(as_="王芳") as desk:
        add_customer(desk, "李四", ["13900001111"])
    before = zhang.dump()
    with pytest.raises(error, match=says):
        with zhang.desk(as_="王芳") as desk:
            edit_customer(desk, "C000001", **kw)
    assert zhang.dump() == before


# ---- finding and listing ------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["C000001", "c000001", "13812345678", "+86 138 1234 5678", "010-62345678", "(010)62345678"])
def test_find_by_code_or_any_number(zhang, ref):
    with zhang.desk(as_="王芳") as desk:
        assert find_customer(desk.session, ref).name == "张伟"


@pytest.mark.parametrize(
    "ref, error, says",
    [
        ("C999999", NotFound, "no customer with code C999999"),
        ("13900000000", NotFound, "no customer with phone 139 0000 0000"),
        ("12", InvalidValue, "not a valid phone number"),
        ("", InvalidValue, "no customer given"),
    ],
)
def test_find_unknown(zhang, ref, error, says):
    with zhang.desk(as_="王芳") as desk:
        with pytest.raises(error, match=says):
            find_customer(desk.session, ref)


@pytest.fixture
def several(zhang):
    with zhang.desk(as_="王芳") as desk:
        add_customer(desk, "李四", ["13900001111"], company="锦程地产")
        add_customer(desk, "王五", ["0571-88881234"], tier="key", address="杭州市西湖区")
        add_customer(desk, "赵六", ["13700002222"], tier="key", company="华府装饰")
    return zhang


def codes(rows):
    return [c.code for c in rows]


@pytest.mark.parametrize(
    "tier, search, expected",
    [
        (None, None, ["C000004", "C000003", "C000002", "C000001"]),  # newest first
        ("key", None, ["C000004", "C000003"]),
        ("vip", None, ["C000001"]),
        (None, "华府", ["C000004", "C000001"]),  # company, Chinese text
        (None, "张伟", ["C000001"]),  # name
        (None, "西湖", ["C000003"]),  # address
        ("key", "华府", ["C000004"]),
        (None, "1234", ["C000003", "C000001"]),  # part of a number: 138 1234 5678 and 0571 8888 1234
        (None, "0571-8888", ["C000003"]),  # a landline's area code typed with its leading 0
        (None, "139 0000", ["C000002"]),
        (None, "c000002", ["C000002"]),  # code
        (None, "0086 139 0000", ["C000002"]),
        (None, "没有的人", []),
        (None, "%", []),  # typed wildcards are plain characters
        (None, "_", []),
    ],
)
def test_list_filters(several, tier, search, expected):
    with several.desk(as_="王芳") as desk:
        rows, total = list_customers(desk, tier=tier, search=search)
    assert codes(rows) == expected
    assert total == len(expected)


def test_search_ignores_case_and_finds_typed_wildcards(team):
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "Alice", ["13900000001"], company="ACME_Shanghai 100%")
        add_customer(desk, "Bob", ["13900000002"], company="ACMEXShanghai")
        assert codes(list_customers(desk, search="acme")[0]) == ["C000002", "C000001"]
        assert codes(list_customers(desk, search="ACME_")[0]) == ["C000001"]
        assert codes(list_customers(desk, search="100%")[0]) == ["C000001"]


def test_list_limit_reports_total(several):
    with several.desk(as_="王芳") as desk:
        rows, total = list_customers(desk, limit=2)
    assert (codes(rows), total) == (["C000004", "C000003"], 4)


def test_customer_view_shows_latest_calls(zhang):
    from csdesk.workflows.call_intake import log_call

    with zhang.desk(as_="王芳") as desk:
        for i in range(12):
            log_call(desk, "010-62345678" if i % 2 else "13812345678", "inquiry", f"第{i}次", at=NOW - timedelta(hours=12 - i))
    with zhang.desk(as_="王芳") as desk:
        view = customer_view(desk, "010 6234 5678", calls=3)
    assert view.call_count == 12
    assert [c.summary for c in view.calls] == ["第11次", "第10次", "第9次"]
    assert view.calls[0].phone == "+861062345678" and view.calls[1].phone == "+8613812345678"
    assert view.calls[0].agent == "王芳"


# ---- CLI ---------------------------------------------------------------------------------------------


def test_cli_add_prints_code_on_stdout_and_message_on_stderr(cli, team):
    result = cli("--as", "王芳", "customer", "add", "张伟", "--phone", "138-1234-5678", "--phone", "010 6234 5678",
                 "--tier", "vip", "--company", "华府装饰", "--manager", "李娜")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "C000001\n"
    assert result.stderr == "Added C000001 张伟 (138 1234 5678, 010 62345678).\n"


def test_cli_add_json(cli, team):
    result = cli("--as", "王芳", "customer", "add", "李四", "--phone", "13900001111", "--json")
    data = json.loads(result.stdout)
    assert (data["code"], data["name"], data["phones"], data["tier"]) == ("C000001", "李四", ["+8613900001111"], "standard")
    assert data["created_at"] == "2026-11-24T10:00:00+08:00"


def test_cli_duplicate_phone(cli, zhang):
    before = zhang.dump()
    result = cli("--as", "王芳", "customer", "add", "冒名", "--phone", "+86 138 1234 5678")
    assert result.exit_code == 1
    assert result.stderr == "Error: 138 1234 5678 already belongs to C000001 张伟\n"
    assert zhang.dump() == before


def test_cli_edit_clear_manager_and_phones(cli, zhang):
    result = cli("--as", "王芳", "customer", "edit", "C000001", "--manager", "", "--add-phone", "13700001111",
                 "--remove-phone", "010-62345678", "--tier", "key")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "Updated C000001 张伟.\n"
    data = json.loads(cli("customer", "show", "13700001111", "--json").stdout)["customer"]
    assert (data["manager"], data["tier"], data["phones"]) == (None, "key", ["+8613812345678", "+8613700001111"])


def test_cli_list_and_search(cli, several):
    result = cli("customer", "list", "--tier", "key")
    assert result.exit_code == 0
    assert "C000004" in result.stdout and "赵六" in result.stdout and "key account" in result.stdout
    assert "张伟" not in result.stdout
    assert result.stderr == ""
    data = json.loads(cli("--json", "customer", "list", "--search", "华府").stdout)
    assert data["total"] == 2
    assert [c["code"] for c in data["items"]] == ["C000004", "C000001"]
    cut = cli("customer", "list", "--search", "华府", "--limit", "1")
    assert cut.stderr == "Showing 1 of 2; use --limit to see more.\n"


def test_cli_show_by_phone_and_by_code(cli, zhang):
    cli("--as", "王芳", "log-call", "--phone", "010-62345678", "--kind", "repair", "--summary", "卫生间漏水", "--at", "today 9:30")
    for ref in ("C000001", "+86 10 6234 5678"):
        result = cli("customer", "show", ref)
        assert result.exit_code == 0
        lines = [line.rstrip() for line in result.stdout.splitlines()]
        assert lines[0] == "C000001 张伟  VIP"
        assert "  Phones           138 1234 5678, 010 62345678" in lines
        assert "  Account manager  李娜" in lines
        assert "卫生间漏水" in result.stdout and "2026-11-24 09:30" in result.stdout
    data = json.loads(cli("customer", "show", "13812345678", "--json").stdout)
    assert data["call_count"] == 1
    assert data["calls"][0]["at"] == "2026-11-24T09:30:00+08:00"


@pytest.mark.parametrize(
    "args, error",
    [
        (["customer", "show", "C123456"], "Error: no customer with code C123456"),
        (["customer", "show", "13900000000"], "Error: no customer with phone 139 0000 0000"),
        (["customer", "list", "--tier", "gold"], "Error: unknown tier 'gold' (use standard, vip or key)"),
        (["customer", "list", "--limit", "0"], "Error: --limit must be at least 1"),
        (["--as", "王芳", "customer", "add", "李四"], "Error: a customer needs at least one phone number (--phone)"),
        (["--as", "王芳", "customer", "edit", "C000001"], "Error: nothing to change (give at least one new value)"),
    ],
)
def test_cli_refusals(cli, zhang, args, error):
    before = zhang.dump()
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == error
    assert sum(l.startswith("Error:") for l in result.stderr.splitlines()) == 1
    assert zhang.dump() == before
