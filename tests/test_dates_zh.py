"""Chinese date words everywhere a date is taken: 今天, 明天 10点, 下周一, 月底, 3天后 …"""

from __future__ import annotations

from datetime import datetime

import pytest

from csdesk.dates import parse_when
from csdesk.errors import InvalidValue

from conftest import NOW, TZ  # Tuesday 2026-11-24 10:00


@pytest.mark.parametrize("text, expected", [
    ("今天", "2026-11-24 00:00"),
    ("明天 10点", "2026-11-25 10:00"),
    ("明天10点", "2026-11-25 10:00"),
    ("明天下午3点半", "2026-11-25 15:30"),
    ("后天上午9点", "2026-11-26 09:00"),
    ("下周一", "2026-11-30 00:00"),
    ("下周五上午9点", "2026-12-04 09:00"),
    ("上周五", "2026-11-20 00:00"),
    ("本周五 14:00", "2026-11-27 14:00"),
    ("月底", "2026-11-30 00:00"),
    ("月底18:00", "2026-11-30 18:00"),
    ("下月底", "2026-12-31 00:00"),
    ("3天后", "2026-11-27 10:00"),
    ("2小时后", "2026-11-24 12:00"),
    ("30分钟后", "2026-11-24 10:30"),
    ("1周前", "2026-11-17 10:00"),
    ("2个月后", "2027-01-24 10:00"),
    ("下午3点", "2026-11-24 15:00"),
    ("10点半", "2026-11-24 10:30"),
    ("中午1点", "2026-11-24 13:00"),
])
def test_chinese_dates(text, expected):
    assert parse_when(text, tz=TZ, at=NOW).astimezone(TZ).strftime("%Y-%m-%d %H:%M") == expected


@pytest.mark.parametrize("text", ["明天25点", "下周八", "月中", "3天后后"])
def test_chinese_nonsense_is_a_bad_value(text):
    with pytest.raises(InvalidValue):
        parse_when(text, tz=TZ, at=NOW)


def test_chinese_words_through_the_cli(cli, team):
    from conftest import TEAM  # noqa: F401 — the team fixture made 王芳 and her bosses

    made = cli("--as", "王芳", "customer", "add", "张伟", "--phone", "13812345678")
    assert made.exit_code == 0, made.stderr
    sched = cli("--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "今天下午4点", "--note", "报价确认后回电")
    assert sched.exit_code == 0, sched.stderr
    listed = cli("--as", "王芳", "--json", "callback", "list", "--due", "今天")
    assert listed.exit_code == 0, listed.stderr
    assert "2026-11-24T16:00:00+08:00" in listed.stdout
    calls = cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "投诉", "--summary", "墙面开裂", "--at", "今天9点")
    assert calls.exit_code == 0, calls.stderr
