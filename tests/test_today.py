"""`csdesk today`: the acting person's work for the day, and a supervisor's team, on one screen."""

from __future__ import annotations

import json


def _setup(cli):
    def ok(*args):
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
        return result

    ok("--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678")
    ok("--as", "王芳", "customer", "add", "李强", "--phone", "13900001111")
    # A complaint opened yesterday morning is past its first-response deadline (4 business hours).
    ok("--as", "王芳", "complaint", "open", "--severity", "normal", "--category", "quality", "--phone", "13812345678", "--summary", "墙面开裂 [/x] 待确认", "--at", "yesterday 9:00")
    ok("--as", "王芳", "complaint", "open", "--severity", "normal", "--category", "quality", "--phone", "13900001111", "--summary", "安装迟到", "--at", "today 9:30")
    ok("--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "2026-11-24 09:00", "--note", "报价确认后回电", "--now", "2026-11-23 17:00")
    ok("--as", "王芳", "callback", "schedule", "--phone", "13900001111", "--due", "today 16:00")
    ok("--as", "王芳", "callback", "schedule", "--phone", "13900001111", "--due", "tomorrow 16:00")
    return ok


def test_my_work_for_today_most_urgent_first(cli, team):
    ok = _setup(cli)
    data = json.loads(ok("--as", "王芳", "--json", "today").stdout)
    assert data["person"] == "王芳" and data["day"] == "2026-11-24"
    assert [c["id"] for c in data["complaints"]] == [1, 2] and data["complaints_total"] == 2
    assert data["complaints"][0]["overdue"] is True
    # Callbacks due by the end of today, the overdue one first; tomorrow's is not today's work.
    assert [c["id"] for c in data["callbacks"]] == [1, 2] and data["callbacks_total"] == 2
    assert data["team"] == []  # a specialist has no team


def test_supervisor_sees_the_team(cli, team):
    ok = _setup(cli)
    data = json.loads(ok("--as", "李娜", "--json", "today").stdout)
    assert data["complaints_total"] == 0
    wang = [line for line in data["team"] if line["name"] == "王芳"]
    assert wang == [{"name": "王芳", "role": "specialist", "complaints": 2, "complaints_overdue": 1,
                     "callbacks_due": 2, "callbacks_overdue": 1}]
    director = json.loads(ok("--as", "陈总", "--json", "today").stdout)
    assert [line["name"] for line in director["team"]] == ["张强", "李娜", "王芳"]  # everyone below, down the tree


def test_screen_reads_in_80_columns_in_chinese(cli, team, monkeypatch):
    ok = _setup(cli)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("CSDESK_LANG")
    screen = ok("--as", "王芳", "today").stdout
    assert all(len(line) <= 80 for line in screen.splitlines())
    assert "我的投诉 (2)" in screen and "今日回访 (2)，逾期 1" in screen
    assert "超时" in screen and "逾期" in screen  # overdue stands out with a word, not only colour
    assert "墙面开裂 [/x] 待确认" in screen  # text from people is shown as text
    assert "+8613812345678" in screen  # the number to call, whole


def test_today_needs_someone_acting(cli, team):
    result = cli("today")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: nobody is acting")
