"""Values a user can type (options, environment, settings) end in one `Error: …` line and exit 1 — never
a traceback — and settings are checked completely when loaded. Exports hold customer data: workbooks
are private, and phone numbers typed into free text are masked like the phone columns."""

from __future__ import annotations

import os
import stat

import pytest


def _refused(result, *words):
    out = result.stdout + result.stderr
    assert result.exit_code == 1, out
    assert "Traceback" not in out
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Error: "), out
    for word in words:
        assert word in result.stderr, out


def test_a_huge_call_duration(team, cli):
    before = team.dump()
    _refused(cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "x",
                 "--duration", "99999999999999999999"), "too long a duration")
    assert team.dump() == before


def test_a_huge_due_within(team, cli):
    _refused(cli("complaint", "list", "--due-within", "999999999999999999999s"), "too long a duration")


def test_superscript_digits_are_not_a_duration(team, cli):
    _refused(cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "x",
                 "--duration", "²"), "is not a duration")


def test_a_huge_copy_batch(db, cli, tmp_path):
    target = tmp_path / "copy.db"
    _refused(cli("db", "copy", "--to", str(target), "--batch", "99999999999999999999"), "--batch")
    assert not target.exists()


def test_an_unknown_users_home(team, cli):
    _refused(cli("--db", "~nosuchuser-csdesk/desk.db", "staff", "list"), "~nosuchuser-csdesk")


@pytest.mark.parametrize("value", ["yesterday", "9999-12-31T23:59:59", "0001-01-01T00:00:00"])
def test_a_bad_csdesk_now(team, cli, monkeypatch, value):
    monkeypatch.setenv("CSDESK_NOW", value)
    _refused(cli("staff", "list"), "CSDESK_NOW")


# ---- settings -----------------------------------------------------------------------------------------


def _config(tmp_path, text: str) -> None:
    (tmp_path / "csdesk.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("text, key", [
    ('[business]\ncountry = "XX"\n', "business.country"),
    ("[business]\nmon = [9, 18]\n", "business.mon"),
    ('[business]\nmon = ["18:00-09:00"]\n', "business.mon"),
    ("[reminders]\ninstalment_lead_days = 99999999999\n", "reminders.instalment_lead_days"),
    ("[projects]\nadjustment_days = 99999999999\n", "projects.adjustment_days"),
    ("[collection.ladder]\nlawyer = 99999999999\n", "collection.ladder.lawyer"),
    ('[collection.roles]\nlawyer = "boss"\n', "collection.roles.lawyer"),
    ('[sla.resolution]\nmajor = "0h"\n', "sla.resolution.major"),
    ('[reminders]\nrepeat_overdue_every = "often"\n', "reminders.repeat_overdue_every"),
    ("[reminders]\nsla_warn_ratio = 7\n", "reminders.sla_warn_ratio"),
    ('[projects]\nwarranty = "99y"\n', "projects.warranty"),
    ('[visit_rules.vip]\nevery = "sometimes"\n', "visit_rules.vip.every"),
    ("[smtp]\nport = 0\n", "smtp.port"),
    ('agent = "王\\u001b[2J芳"\n', "agent"),
    ('complaint_categories = ["Bad Key=坏"]\n', "complaint_categories"),
])
def test_config_show_refuses_what_commands_would(team, cli, tmp_path, text, key):
    _config(tmp_path, text)
    _refused(cli("config", "show"), f"config: {key}")
    _refused(cli("--as", "王芳", "remind", "run", "--dry-run"), f"config: {key}")


def test_a_toml_date_in_closures_is_a_date(team, cli, tmp_path):
    _config(tmp_path, "[business]\nclosures = [2026-12-31]\nextra_workdays = [2026-12-27]\n")
    result = cli("config", "show")
    assert result.exit_code == 0, result.stderr
    assert 'closures = ["2026-12-31"]' in result.stdout
    assert cli("config", "show", "--json").exit_code == 0
    assert cli("--as", "王芳", "remind", "run", "--dry-run").exit_code == 0


def test_another_known_country_is_fine(team, cli, tmp_path):
    _config(tmp_path, '[business]\ncountry = "HK"\n')
    assert cli("config", "show").exit_code == 0


# ---- exports ------------------------------------------------------------------------------------------


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_workbook_is_private(team, cli, tmp_path, loose_umask):
    target = tmp_path / "m.xlsx"
    target.write_bytes(b"")  # a file already there, readable by all
    os.chmod(target, 0o644)
    result = cli("report", "monthly", "--xlsx", str(target))
    assert result.exit_code == 0, result.stderr
    assert _mode(target) == 0o600


def test_write_workbook_creates_its_file_private(tmp_path, loose_umask):
    from csdesk.xlsx import Col, SheetSpec, write_workbook

    target = tmp_path / "w.xlsx"
    write_workbook([SheetSpec("s", [Col("a")], [("x",)])], target)
    assert _mode(target) == 0o600


def test_phones_in_free_text_are_masked_in_the_workbook(team, cli, tmp_path):
    from openpyxl import load_workbook

    summary = "客户说请打 139 1234 5678 或 010-62345678 找他"
    assert cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "complaint", "--summary", summary,
               "--at", "2026-11-20 10:00", "--open-complaint").exit_code == 0
    target = tmp_path / "m.xlsx"
    assert cli("report", "monthly", "2026-11", "--xlsx", str(target)).exit_code == 0
    texts = [str(c) for ws in load_workbook(target, read_only=True) for row in ws.iter_rows(values_only=True) for c in row if c]
    joined = "\n".join(texts)
    assert "13912345678" not in joined.replace(" ", "") and "62345678" not in joined
    assert any("139****5678" in t for t in texts), joined[:2000]
    assert "13812345678" not in joined.replace(" ", "")


def test_mask_in_text():
    from csdesk.phones import mask_in_text

    assert mask_in_text("请回电 138 1234 5678 谢谢") == "请回电 138****5678 谢谢"
    assert mask_in_text("+86-138-1234-5678") == "138****5678"
    assert mask_in_text("(0571)88889999") == "0571****9999"
    # Dates, codes and long numbers are not phone numbers.
    assert mask_in_text("2026-11-24 C000123 12345678901234") == "2026-11-24 C000123 12345678901234"


def test_mail_masks_phones_typed_into_text(monkeypatch):
    import smtplib

    from csdesk import config, mailer

    sent = []

    class FakeSMTP:
        def __init__(self, *a, **k):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def starttls(self):
            pass

        def login(self, *a):
            pass

        def send_message(self, msg):
            sent.append(msg.get_content())

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    settings = config.Settings(config.DEFAULTS | {"smtp": config.DEFAULTS["smtp"] | {"host": "mail", "from_addr": "a@b.cn"}})
    mailer.send_message(settings, "x@b.cn", "s", "回电 13912345678\x1b[2J")
    assert "139****5678" in sent[0] and "13912345678" not in sent[0]
    assert "\x1b" not in sent[0]


@pytest.mark.parametrize("value", ["644", "666", "777"])
def test_a_db_mode_open_to_everyone_is_refused(tmp_path, cli, monkeypatch, value):
    monkeypatch.setenv("CSDESK_DB_MODE", value)
    path = tmp_path / "desk.db"
    _refused(cli("--db", str(path), "init"), "CSDESK_DB_MODE")
    assert not path.exists()


def test_a_bad_db_mode_is_refused_by_every_command(team, cli, monkeypatch):
    monkeypatch.setenv("CSDESK_DB_MODE", "abc")
    _refused(cli("staff", "list"), "CSDESK_DB_MODE")


def test_init_on_an_existing_empty_file_makes_it_private(tmp_path, cli, loose_umask):
    path = tmp_path / "desk.db"
    path.touch()
    os.chmod(path, 0o644)
    result = cli("--db", str(path), "init")
    assert result.exit_code == 0, result.stderr
    assert _mode(path) == 0o600
