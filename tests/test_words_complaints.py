"""Issue 14 for complaints and callbacks: one language at a time (Chinese with --lang zh, English with
--lang en), the one JSON list shape with its total, `me`, the cut note, and overdue work that says so in
words (it must survive NO_COLOR and a pipe).

Clock: Tue 2026-11-24 10:00 Asia/Shanghai (CSDESK_NOW). Team: 王芳 specialist → 李娜 supervisor → ….
"""

from __future__ import annotations

import json
import re

import pytest

from csdesk import i18n

PHONE = "13812345678"
# English words that must not be left in a Chinese screen (codes such as C000001, L1 and option names aside).
ENGLISH = re.compile(r"\b(complaint|callback|opened|acknowledged|assigned|resolution|response|overdue|late|due|"
                     r"normal|serious|major|specialist|supervisor|pending|reached|satisfied|visit|deadline|summary)\b", re.I)


@pytest.fixture(autouse=True)
def _back_to_english():
    yield
    i18n.set_language("en")


@pytest.fixture
def desk(team, cli):
    assert cli("--as", "王芳", "customer", "add", "张伟", "--phone", PHONE).exit_code == 0
    return team


def ok(result):
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def complaint(cli, *args, lang="en", who="王芳"):
    return cli("--lang", lang, "--as", who, "complaint", *args)


def callback(cli, *args, lang="en", who="王芳"):
    return cli("--lang", lang, "--as", who, "callback", *args)


def open_one(cli, lang="en", at=None):
    extra = ("--at", at) if at else ()
    r = ok(complaint(cli, "open", "--phone", PHONE, "--severity", "normal", "--category", "quality", "--summary", "墙面开裂",
                     *extra, lang=lang))
    return int(r.stdout), r


def no_english(text: str) -> None:
    found = ENGLISH.findall(text)
    assert not found, (found, text)


def test_complaint_screens_in_chinese(desk, cli):
    cid, opened = open_one(cli, lang="zh")
    assert opened.stderr.startswith(f"已为 C000001 张伟 立案投诉 #{cid}：一般，产品质量，L1 客服专员，由 王芳 处理")
    no_english(opened.stderr)
    ack = ok(complaint(cli, "ack", str(cid), "--note", "已致电客户", lang="zh"))
    assert ack.stderr.startswith(f"投诉 #{cid} 已首次响应")
    no_english(ack.stderr)
    shown = ok(complaint(cli, "show", str(cid), lang="zh")).stdout
    assert "投诉 #1" in shown and "处理中" in shown and "立案" in shown and "首次响应" in shown and "处理记录" in shown
    assert "立案 opened" not in shown and "acknowledged" not in shown
    no_english(shown)
    listed = ok(complaint(cli, "list", lang="zh"))
    assert "状态" in listed.stdout and "处理中" in listed.stdout and "摘要" in listed.stdout
    no_english(listed.stdout + listed.stderr)


def test_complaint_screens_in_english(desk, cli):
    cid, opened = open_one(cli, lang="en")
    assert opened.stderr.startswith(f"Opened complaint #{cid} for C000001 张伟: normal, quality, L1 specialist, assigned to 王芳")
    shown = ok(complaint(cli, "show", str(cid), lang="en")).stdout
    assert "Timeline" in shown and "opened" in shown and "立案" not in shown and "客服专员" not in shown
    listed = ok(complaint(cli, "list", lang="en")).stdout
    assert "Status" in listed and "状态" not in listed and "待响应" not in listed


def test_a_refusal_is_one_chinese_line(desk, cli):
    before = desk.dump()
    r = complaint(cli, "show", "99", lang="zh")
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr.splitlines()[0] == "错误：没有投诉 #99。" or r.stderr.splitlines()[0].endswith("没有投诉 #99。")
    no_english(r.stderr.splitlines()[0])
    r = complaint(cli, "open", "--phone", PHONE, "--severity", "tiny", "--category", "quality", "--summary", "x", lang="zh")
    assert r.exit_code == 1 and "未知严重程度 'tiny'" in r.stderr
    assert desk.dump() == before


def test_chinese_choices_are_still_taken_in_english(desk, cli):
    r = ok(complaint(cli, "open", "--phone", PHONE, "--severity", "重大", "--category", "产品质量", "--summary", "漏水", who="李娜"))
    data = json.loads(ok(complaint(cli, "show", r.stdout.strip(), "--json")).stdout)
    assert (data["complaint"]["severity"], data["complaint"]["severity_label"]) == ("major", "major")
    assert json.loads(ok(complaint(cli, "show", r.stdout.strip(), "--json", lang="zh")).stdout)["complaint"]["severity_label"] == "重大"


def test_complaint_list_json_total_and_cut_note(desk, cli):
    for _ in range(3):
        open_one(cli)
    r = ok(complaint(cli, "list", "--limit", "2", "--json"))
    data = json.loads(r.stdout)
    assert set(data) == {"items", "total"} and data["total"] == 3 and len(data["items"]) == 2
    r = ok(complaint(cli, "list", "--limit", "2"))
    assert "Showing 2 of 3" in r.stderr
    r = ok(complaint(cli, "list", "--limit", "2", lang="zh"))
    assert "2" in r.stderr and "3" in r.stderr and "Showing" not in r.stderr


def test_an_overdue_complaint_says_so_in_words_without_colour(desk, cli, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    open_one(cli, at="-3d")
    assert "late " in ok(complaint(cli, "list")).stdout
    assert "超时 " in ok(complaint(cli, "list", lang="zh")).stdout


def test_me_for_complaints_and_callbacks(desk, cli):
    open_one(cli)
    ok(callback(cli, "schedule", "--phone", PHONE, "--due", "today 15:00"))
    ok(callback(cli, "schedule", "--phone", PHONE, "--due", "today 16:00", "--assign", "李娜"))
    mine = json.loads(ok(complaint(cli, "list", "--assignee", "me", "--json")).stdout)
    assert mine["total"] == 1
    assert json.loads(ok(complaint(cli, "list", "--assignee", "me", "--json", who="李娜")).stdout)["total"] == 0
    cbs = json.loads(ok(callback(cli, "list", "--assignee", "me", "--json", who="李娜")).stdout)
    assert cbs["total"] == 1 and cbs["items"][0]["assignee"] == "李娜"


def test_callback_screens_in_chinese(desk, cli):
    r = ok(callback(cli, "schedule", "--phone", PHONE, "--due", "today 15:00", "--note", "报价确认后回电", lang="zh"))
    assert r.stderr.startswith("已安排回访 #1（承诺回电）：C000001 张伟")
    no_english(r.stderr)
    listed = ok(callback(cli, "list", lang="zh"))
    assert "客户" in listed.stdout and "承诺回电" in listed.stdout
    no_english(listed.stdout + listed.stderr)
    shown = ok(callback(cli, "show", "1", lang="zh")).stdout
    assert "回访 #1" in shown and "待回访" in shown and "历史" in shown
    assert "pending" not in shown
    done = ok(callback(cli, "done", "1", "--reached", "--satisfied", "--score", "5", lang="zh"))
    assert done.stderr == "回访 #1 已完成：已接通, 满意, 5/5。\n"
    r = callback(cli, "done", "1", "--reached", lang="zh")
    assert r.exit_code == 1 and "只有待回访的才能记录尝试" in r.stderr


def test_callback_screens_in_english(desk, cli):
    ok(callback(cli, "schedule", "--phone", PHONE, "--due", "today 15:00"))
    listed = ok(callback(cli, "list")).stdout
    assert "Customer" in listed and "promised callback" in listed and "承诺回电" not in listed
    shown = ok(callback(cli, "show", "1")).stdout
    assert "Callback #1" in shown and "pending" in shown and "待回访" not in shown


def test_callback_list_json_total_cut_note_and_overdue_word(desk, cli, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    for due in ("today 9:00", "today 15:00", "today 16:00"):
        ok(callback(cli, "schedule", "--phone", PHONE, "--due", due, "--now", "today 8:00"))
    data = json.loads(ok(callback(cli, "list", "--limit", "2", "--json")).stdout)
    assert set(data) == {"items", "total"} and data["total"] == 3 and len(data["items"]) == 2
    r = ok(callback(cli, "list", "--limit", "2"))
    assert "Showing 2 of 3" in r.stderr and "overdue" in r.stdout
    assert "逾期" in ok(callback(cli, "list", lang="zh")).stdout


def test_callback_stats_headers_follow_the_language(desk, cli):
    ok(callback(cli, "schedule", "--phone", PHONE, "--due", "today 15:00"))
    ok(callback(cli, "done", "1", "--reached", "--satisfied", "--score", "4"))
    zh = ok(callback(cli, "stats", lang="zh")).stdout
    assert "满意" in zh and "合计" in zh and "reached" not in zh
    en = ok(callback(cli, "stats")).stdout
    assert "Satisfied" in en and "total" in en
