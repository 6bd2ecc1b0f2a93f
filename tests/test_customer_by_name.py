"""A customer can be named by code, by any of their numbers, or by name (exact, or a unique part of it)."""

from __future__ import annotations

import json


def _add(cli, *args):
    result = cli("--as", "王芳", "customer", "add", *args)
    assert result.exit_code == 0, result.stderr


def test_a_customer_by_exact_name_or_unique_part(cli, team):
    _add(cli, "张伟", "--phone", "13812345678")
    _add(cli, "张伟明", "--phone", "13900001111")
    _add(cli, "李强", "--phone", "13700002222")
    shown = json.loads(cli("--json", "customer", "show", "张伟").stdout)  # exact wins over 张伟明
    assert shown["customer"]["code"] == "C000001"
    assert json.loads(cli("--json", "customer", "show", "伟明").stdout)["customer"]["code"] == "C000002"
    assert json.loads(cli("--json", "customer", "show", "强").stdout)["customer"]["code"] == "C000003"
    opened = cli("--as", "王芳", "complaint", "open", "--customer", "李强", "--severity", "normal", "--category", "quality",
                 "--summary", "门缝大")
    assert opened.exit_code == 0, opened.stderr


def test_an_ambiguous_name_lists_the_candidates(cli, team):
    _add(cli, "张伟", "--phone", "13812345678")
    _add(cli, "张伟明", "--phone", "13900001111")
    result = cli("customer", "show", "张")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: '张' names more than one customer: use a code or a phone number"
    assert lines[1:3] == ["  C000001 张伟", "  C000002 张伟明"]
    missing = cli("customer", "show", "王五")
    assert (missing.exit_code, missing.stderr.splitlines()[0]) == (1, "Error: no customer named '王五'")
