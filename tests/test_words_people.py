"""Issue 14 for the people area (calls, customers, staff, today, audit): one language at a time, the list
JSON shape with its total, the cut note, `--agent me`, customers named by code, number or name in every
command that takes one, and log-call's short brief at 80 columns."""

from __future__ import annotations

import json
import re

import pytest
from rich.cells import cell_len

ZH_ALLOWED = re.compile(r"C\d{6}|P\d+|L\d|VIP|[\w.+-]+@[\w.-]+|\d+m\d+s|\d+h\d+m")


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def english_words(text: str) -> list[str]:
    """Latin words left in a Chinese screen, once codes, VIP, emails and durations are taken out."""
    return re.findall(r"[A-Za-z]{2,}", ZH_ALLOWED.sub("", text))


@pytest.fixture
def people(cli, team):
    ok(cli("--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678", "--tier", "vip", "--company", "华府装饰"))
    ok(cli("--as", "王芳", "customer", "add", "张伟明", "--phone", "13900001111"))
    ok(cli("--as", "王芳", "customer", "add", "李强", "--phone", "13700002222"))
    ok(cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "问保修期", "--at", "today 9:00"))
    ok(cli("--as", "李娜", "log-call", "--phone", "13812345678", "--kind", "repair", "--summary", "卫生间漏水", "--at", "today 9:30"))
    ok(cli("--as", "王芳", "log-call", "--phone", "13700002222", "--kind", "payment", "--summary", "问尾款", "--at", "today 9:40"))
    return team


@pytest.mark.parametrize("args", [
    ("customer", "list"), ("customer", "show", "C000001"), ("calls", "list"), ("calls", "show", "1"),
    ("staff", "list"), ("--as", "王芳", "today"),
])
def test_screens_are_chinese_with_no_english_words(people, cli, args):
    result = ok(cli("--lang", "zh", *args))
    shown = result.stdout + result.stderr
    assert re.search(r"[\u4e00-\u9fff]", shown)
    assert english_words(shown) == [], shown


def test_headers_and_labels_in_each_language(people, cli):
    zh = ok(cli("--lang", "zh", "customer", "show", "C000001")).stdout
    assert "电话" in zh and "最近通话" in zh and "咨询" in zh and "报修" in zh
    en = ok(cli("--lang", "en", "customer", "show", "C000001")).stdout
    assert "Phones" in en and "Latest calls" in en and "inquiry" in en and "电话" not in en
    assert "客服专员" in ok(cli("--lang", "zh", "staff", "list")).stdout
    assert "specialist" in ok(cli("--lang", "en", "staff", "list")).stdout
    assert "操作" in ok(cli("--lang", "zh", "audit")).stdout  # the audit's headers (actions stay codes)


def test_confirmations_and_errors_in_each_language(people, cli):
    added = ok(cli("--lang", "zh", "--as", "王芳", "customer", "add", "王五", "--phone", "13600003333"))
    assert added.stdout == "C000004\n" and added.stderr == "已添加客户 C000004 王五（136 0000 3333）。\n"
    refused = cli("--lang", "zh", "customer", "show", "张")
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[:3] == ["错误：'张' 对应多位客户：请用编号或电话号码", "  C000001 张伟", "  C000002 张伟明"]
    refused = cli("--lang", "en", "--as", "王芳", "calls", "void", "2", "--reason", "x")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: only the agent who logged call #2 or a supervisor or above can void it; 王芳 is a specialist")
    refused = cli("--lang", "zh", "--as", "王芳", "calls", "void", "2", "--reason", "x")
    assert refused.stderr.startswith("错误：只有记录通话 #2 的客服或主管及以上才能作废；王芳 是客服专员")


def test_tier_and_role_labels_follow_the_language_in_json(people, cli):
    assert json.loads(ok(cli("--lang", "zh", "--json", "staff", "list")).stdout)["items"][0]["role_label"] == "分管副总"
    assert json.loads(ok(cli("--lang", "en", "--json", "staff", "list")).stdout)["items"][0]["role_label"] == "director"
    data = json.loads(ok(cli("--lang", "zh", "--json", "customer", "show", "C000001")).stdout)
    assert data["customer"]["tier"] == "vip" and list(data["sections"]) == []  # keys stay English


@pytest.mark.parametrize("args, total", [
    (("calls", "list"), 3), (("customer", "list"), 3), (("audit",), None), (("staff", "list"), 4),
])
def test_lists_print_items_and_total_and_say_when_they_are_cut(people, cli, args, total):
    data = json.loads(ok(cli("--json", *args)).stdout)
    assert set(data) == {"items", "total"}
    assert data["total"] == (total if total is not None else data["total"]) and len(data["items"]) == data["total"] or args == ("audit",)
    if args == ("staff", "list"):
        return
    cut = json.loads(ok(cli("--json", *args, "--limit", "1")).stdout)
    assert len(cut["items"]) == 1 and cut["total"] == data["total"] > 1
    shown = ok(cli("--lang", "zh", *args, "--limit", "1"))
    assert shown.stderr == f"显示 1 / 共 {data['total']} 条；用 --limit 查看更多。\n"
    assert ok(cli("--lang", "en", *args, "--limit", "1")).stderr.startswith("Showing 1 of ")


def test_calls_of_me(people, cli):
    mine = json.loads(ok(cli("--as", "王芳", "--json", "calls", "list", "--agent", "me")).stdout)
    assert [c["summary"] for c in mine["items"]] == ["问尾款", "问保修期"] and mine["total"] == 2
    assert json.loads(ok(cli("--as", "李娜", "--json", "calls", "list", "--agent", "我")).stdout)["total"] == 1
    nobody = cli("--json", "calls", "list", "--agent", "me")
    assert nobody.exit_code == 1 and nobody.stderr.startswith("Error: nobody is acting")


@pytest.mark.parametrize("command", [
    ("calls", "list"), ("complaint", "list"), ("callback", "list", "--due", "all"), ("project", "list"),
])
def test_a_customer_by_code_number_or_name_in_every_list(people, cli, command):
    from typer.main import get_command

    from csdesk.cli import app

    if command[0] not in get_command(app).commands:
        pytest.skip(f"no {command[0]} area")
    for ref in ("C000003", "137 0000 2222", "李强", "强"):
        assert ok(cli(*command, "--customer", ref)).exit_code == 0
    ambiguous = cli(*command, "--customer", "张")
    assert ambiguous.exit_code == 1
    assert ambiguous.stderr.splitlines()[:3] == [
        "Error: '张' names more than one customer: use a code or a phone number", "  C000001 张伟", "  C000002 张伟明"]
    missing = cli(*command, "--customer", "赵六")
    assert (missing.exit_code, missing.stderr.splitlines()[0]) == (1, "Error: no customer named '赵六'")


def test_calls_edit_moves_a_call_to_a_customer_named_by_name(people, cli):
    ok(cli("--as", "王芳", "calls", "edit", "3", "--customer", "张伟明"))
    assert json.loads(ok(cli("--json", "calls", "show", "3")).stdout)["customer_code"] == "C000002"


def test_a_name_with_digits_is_looked_up_as_a_name(people, cli):
    ok(cli("--as", "王芳", "customer", "add", "华府2期物业", "--phone", "13600003333"))
    assert json.loads(ok(cli("--json", "customer", "show", "华府2期")).stdout)["customer"]["code"] == "C000004"
    bad = cli("customer", "show", "12")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: ")


# ---- log-call: the id on stdout, the brief on stderr, about 15 lines at 80 columns ------------------------


@pytest.fixture
def busy(people, cli):
    """张伟 with four open complaints (one past its deadline), callbacks near and years away, many calls."""
    for n, at in enumerate(("yesterday 9:00", "today 8:00", "today 8:30", "today 9:00")):
        ok(cli("--as", "王芳", "complaint", "open", "--severity", "normal", "--category", "quality", "--phone", "13812345678",
               "--summary", f"投诉{n} " + "墙面开裂需要上门查看并给出维修方案" * 3, "--at", at))
    for n, due in enumerate(("today 16:00", "tomorrow 10:00", "+3d", "+5d", "2028-06-01 10:00")):
        ok(cli("--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", due, "--note", f"约好回电{n}"))
    for n in range(6):
        ok(cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry",
               "--summary", f"第{n}次来电：" + "客户询问维修进度并要求尽快安排师傅上门" * 3, "--at", f"today 9:{41 + n}"))
    return people


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_log_call_brief_fits_80_columns_in_about_15_lines(busy, cli, monkeypatch, lang):
    monkeypatch.setenv("COLUMNS", "80")
    result = ok(cli("--lang", lang, "--as", "王芳", "log-call", "--phone", "138 1234 5678", "--kind", "repair", "--summary", "又漏水了"))
    assert re.fullmatch(r"\d+\n", result.stdout)  # only the new call's id
    lines = result.stderr.splitlines()
    assert 10 <= len(lines) <= 16, result.stderr
    assert max(cell_len(line) for line in lines) <= 80
    text = result.stderr
    assert "C000001 张伟" in lines[0] and "VIP" in lines[0]
    assert "2028" not in text  # nothing years away
    if lang == "en":
        assert "Open complaints (3 of 4)" in text and "overdue" in text  # a word, not only a colour
        assert "Callbacks due within 7 days (3 of 4)" in text
        assert "Latest calls (3 of 8)" in text
    else:
        assert "未结投诉 (显示 3 / 共 4)" in text and "超时" in text
        assert "7 天内到期的回访" in text and "最近通话" in text
        assert english_words(text) == [], text


def test_log_call_brief_shows_money_overdue(cli, team):
    from typer.main import get_command

    from csdesk.cli import app

    if "payment" not in get_command(app).commands:
        pytest.skip("no money area")
    ok(cli("--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678"))
    code = ok(cli("--as", "王芳", "project", "add", "样板间", "--customer", "张伟", "--contract", "10万",
                  "--signed", "2026-09-01")).stdout.strip().splitlines()[0]
    planned = cli("--as", "王芳", "payment", "plan", code, "--split", "首款:100%:2026-10-01")
    if planned.exit_code != 0:
        pytest.skip(f"payment plan syntax: {planned.stderr}")
    result = ok(cli("--lang", "en", "--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "payment", "--summary", "问尾款"))
    assert "Money overdue: ¥100,000.00 (instalments: 1)" in result.stderr
    assert "days overdue" in result.stderr
