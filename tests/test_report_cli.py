"""`csdesk report …` through CliRunner (and once through the installed command in a subprocess)."""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from test_reports import EXPECTED, month  # noqa: F401 — the shared hand-counted dataset fixture


def test_terminal_report(month, cli):
    result = cli("report", "monthly", "--period", "2026-10", "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "月报 2026年10月" in out and "上期: 2026-09" in out
    assert "通话总数" in out and "首次解决率" in out and "33.3%" in out and "100.0%" in out
    assert "¥20,000.00" in out and "-¥10,000.00" in out  # collected, and its change
    assert "王芳" in out and "L2 客服主管" in out
    english = cli("report", "monthly", "--period", "2026-10", "--lang", "en").stdout
    assert "Monthly report: October 2026" in english and "First-contact resolution rate" in english


def test_json_gives_the_same_figures(month, cli):
    result = cli("report", "monthly", "--json")  # default: the last complete month, October
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["period"]["name"] == "2026-10" and data["previous"]["name"] == "2026-09"
    assert data["period"]["start"] == "2026-10-01T00:00:00+08:00" and data["period"]["end"] == "2026-11-01T00:00:00+08:00"
    for key, (value, previous) in EXPECTED.items():
        fig = data["figures"][key]
        assert (fig["value"], fig["previous"]) == tuple(str(v) if isinstance(v, Decimal) else v for v in (value, previous)) or (
            Decimal(fig["value"]) == value and Decimal(fig["previous"]) == previous), key
        assert fig["definition"]
    assert data["breakdowns"]["calls.by_agent"]["rows"][0] == {"item": "王芳", "label": "王芳", "value": 3, "previous": 1, "change": 2}
    assert data["agents"][0]["agent"] == "王芳" and data["agents"][0]["calls.by_agent"] == {"value": 3, "previous": 1}
    # the global --json works too
    assert json.loads(cli("--json", "report", "daily", "--period", "2026-10-31").stdout)["figures"]["calls.total"]["value"] == 1
    # the period may also be named without --period
    assert json.loads(cli("--json", "report", "daily", "2026-10-31").stdout)["figures"]["calls.total"]["value"] == 1
    assert json.loads(cli("report", "monthly", "2026-09", "--json").stdout)["period"]["name"] == "2026-09"


def test_xlsx_writes_the_workbook_and_says_where(month, cli, tmp_path):
    path = tmp_path / "十月.xlsx"
    result = cli("report", "monthly", "--period", "2026-10", "--xlsx", str(path), "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"：{path}（12 个工作表）" in result.stderr  # the command's words follow --lang too
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "汇总"
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize("args,message", [
    (["report", "monthly", "--period", "2026-Q4"], "'2026-Q4' is not a month"),
    (["report", "monthly", "--period", "2027-01"], "has not started yet"),
    (["report", "weekly", "--lang", "fr"], "unknown language 'fr'"),
    (["report", "monthly", "2026-10", "--period", "2026-09"], "two periods given"),
    (["report", "monthly", "--xlsx", "report.csv"], "does not end in .xlsx"),
    (["report", "monthly", "--xlsx", "/no/such/folder/r.xlsx"], "does not exist"),
    (["--as", "王芳", "report", "monthly", "--unmask"], "needs a manager or above"),
    (["report", "monthly", "--mail", "boss@example.com"], "smtp.host and smtp.from_addr are not set"),
    (["report", "monthly", "--mail", "not-an-address"], "is not a mail address"),
])
def test_refusals(month, cli, args, message):
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert result.stdout == ""


def test_unknown_report_is_a_usage_error(team, cli):
    assert cli("report", "hourly").exit_code == 2


def test_unmask_as_a_manager(month, cli, tmp_path):
    path = tmp_path / "u.xlsx"
    assert cli("--as", "张强", "report", "monthly", "--unmask", "--xlsx", str(path), "--lang", "zh").exit_code == 0
    phones = {row[4] for row in openpyxl.load_workbook(path)["投诉"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert phones == {"13812345678", "13987654321"}


def test_mail_sends_the_workbook(month, cli, tmp_path):
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        (tmp_path / "csdesk.toml").write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nfrom_addr = "desk@example.com"\n', encoding="utf-8")
        result = cli("report", "monthly", "--period", "2026-10", "--mail", "boss@example.com", "--lang", "zh")
    finally:
        controller.stop()
    assert result.exit_code == 0, result.stderr
    assert "已将 csdesk-monthly-2026-10.xlsx 发送至 boss@example.com" in result.stderr
    (message,) = inbox.messages
    assert message.rcpt_tos == ["boss@example.com"]
    from email import policy

    parsed = email.message_from_bytes(message.content, policy=policy.default)
    assert "月报 2026年10月" in parsed["Subject"]
    attachment = next(p for p in parsed.walk() if p.get_filename() == "csdesk-monthly-2026-10.xlsx")
    path = tmp_path / "mailed.xlsx"
    path.write_bytes(attachment.get_payload(decode=True))
    assert openpyxl.load_workbook(path).sheetnames[0] == "汇总"
    body = next(p for p in parsed.walk() if p.get_content_type() == "text/plain").get_content()
    assert "通话总数：4（上期 1，+3）" in body


def test_installed_command_end_to_end(month, tmp_path):
    exe = shutil.which("csdesk")
    if exe is None:
        pytest.skip("csdesk is not installed on PATH")
    path = tmp_path / "q.xlsx"
    env = {**os.environ, "CSDESK_DB": month.location}
    done = subprocess.run([exe, "report", "quarterly", "--period", "2026-Q4", "--xlsx", str(path), "--lang", "en"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    wb = openpyxl.load_workbook(path)
    summary = {row[1]: row[2] for row in wb["Overview"].iter_rows(min_row=6, values_only=True) if row[1]}
    assert summary["Total calls"] == 5  # Q4 to date: four in October, one in November
    assert summary["Complaints opened"] == 3
