"""Settings: documented defaults, a TOML file over them (CSDESK_CONFIG, beside the database, the
platform folder), unknown keys and wrong types refused by name, secrets never printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csdesk import config
from csdesk.errors import InvalidValue


@pytest.fixture
def no_config_env(tmp_path, monkeypatch):
    """No CSDESK_CONFIG, and an empty platform config folder."""
    monkeypatch.delenv("CSDESK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path


def test_defaults_without_any_file(no_config_env):
    settings = config.load(no_config_env / "nowhere" / "desk.db")
    assert settings.source is None
    assert settings["timezone"] == "Asia/Shanghai"
    assert str(settings.tz) == "Asia/Shanghai"
    assert settings["business.mon"] == ["09:00-12:00", "13:30-18:00"]
    assert settings["business.sat"] == []
    assert settings["export.mask_phones"] is True
    assert settings["agent"] == ""


def test_empty_file_gives_the_defaults(tmp_path):
    settings = config.load(tmp_path / "desk.db")  # conftest points CSDESK_CONFIG at an empty file
    assert settings.source == tmp_path / "csdesk.toml"
    assert settings.data == config.DEFAULTS


def test_file_beside_the_database(no_config_env):
    office = no_config_env / "office"
    office.mkdir()
    (office / "csdesk.toml").write_text('timezone = "Asia/Urumqi"\n[business]\nsat = ["09:00-12:00"]\n', encoding="utf-8")
    settings = config.load(office / "desk.db")
    assert settings.source == office / "csdesk.toml"
    assert str(settings.tz) == "Asia/Urumqi"
    assert settings["business.sat"] == ["09:00-12:00"]
    assert settings["business.mon"] == ["09:00-12:00", "13:30-18:00"]  # untouched keys keep their default


def test_platform_config_folder(no_config_env):
    folder = no_config_env / "xdg" / "csdesk"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text('agent = "王芳"\n', encoding="utf-8")
    settings = config.load(no_config_env / "elsewhere" / "desk.db")
    assert settings.source == folder / "config.toml"
    assert settings["agent"] == "王芳"


def test_csdesk_config_wins_over_the_file_beside_the_database(no_config_env, monkeypatch):
    (no_config_env / "csdesk.toml").write_text('timezone = "Asia/Urumqi"\n', encoding="utf-8")
    chosen = no_config_env / "chosen.toml"
    chosen.write_text('timezone = "Europe/Berlin"\n', encoding="utf-8")
    monkeypatch.setenv("CSDESK_CONFIG", str(chosen))
    settings = config.load(no_config_env / "desk.db")
    assert settings.source == chosen
    assert str(settings.tz) == "Europe/Berlin"


def _load_text(tmp_path, text):
    (tmp_path / "csdesk.toml").write_text(text, encoding="utf-8")
    return config.load(tmp_path / "desk.db")


@pytest.mark.parametrize(
    "text, says",
    [
        ('timezon = "Asia/Shanghai"\n', "unknown key 'timezon'"),
        ("[business]\nmonday = []\n", "unknown key 'business.monday'"),
        ("[nonsense]\nx = 3\n", "unknown key 'nonsense'"),
        ("timezone = 8\n", "'timezone' must be text in quotes"),
        ('[export]\nmask_phones = "yes"\n', "'export.mask_phones' must be true or false"),
        ("business = 3\n", "'business' must be a table"),
        ('[business]\nmon = "09:00-18:00"\n', "'business.mon' must be a list"),
        ('timezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ("timezone = \n", "csdesk.toml"),  # a TOML syntax error names the file
    ],
)
def test_bad_settings_are_refused_by_name(tmp_path, text, says):
    with pytest.raises(InvalidValue) as err:
        _load_text(tmp_path, text)
    assert says in err.value.message


def test_missing_csdesk_config_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CSDESK_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(InvalidValue, match="gone.toml does not exist"):
        config.load(None)


@pytest.fixture
def with_secret(tmp_path, monkeypatch):
    """A settings section with a password, as the mail area will add."""
    monkeypatch.setitem(config.DEFAULTS, "zz_mail", {"host": "", "password": "", "api_token": ""})
    (tmp_path / "csdesk.toml").write_text(
        '[zz_mail]\nhost = "smtp.example.cn"\npassword = "hunter2-秘密"\n', encoding="utf-8"
    )


def test_secrets_are_redacted_in_public_settings(tmp_path, with_secret):
    settings = config.load(tmp_path / "desk.db")
    assert settings["zz_mail.password"] == "hunter2-秘密"  # the code still gets the real value
    public = settings.public()
    assert public["zz_mail"]["password"] == "********"
    assert public["zz_mail"]["api_token"] == ""  # an empty secret stays visibly empty
    assert public["zz_mail"]["host"] == "smtp.example.cn"


def test_config_show_hides_secrets(cli, tmp_path, with_secret):
    result = cli("config", "show")
    assert result.exit_code == 0, result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert 'password = "********"' in result.stdout
    assert 'host = "smtp.example.cn"' in result.stdout
    assert result.stdout.startswith(f"# from {tmp_path / 'csdesk.toml'}")

    result = cli("config", "show", "--json")
    assert result.exit_code == 0
    assert "hunter2" not in result.stdout
    data = json.loads(result.stdout)
    assert data["settings"]["zz_mail"]["password"] == "********"
    assert data["source"] == str(tmp_path / "csdesk.toml")


def test_config_show_prints_effective_settings_without_a_database(cli, tmp_path):
    (tmp_path / "csdesk.toml").write_text('timezone = "Asia/Urumqi"\n', encoding="utf-8")
    result = cli("--json", "config", "show")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["settings"]
    assert data["timezone"] == "Asia/Urumqi"
    assert data["business"]["fri"] == ["09:00-12:00", "13:30-18:00"]
    assert data["business"]["country"] == "CN"
    assert not (tmp_path / "desk.db").exists()  # showing settings creates no database

    text = cli("config", "show").stdout
    assert 'timezone = "Asia/Urumqi"' in text
    assert "[business]" in text and 'mon = ["09:00-12:00", "13:30-18:00"]' in text
    assert "[export]" in text and "mask_phones = true" in text


def test_config_show_with_a_bad_file_is_one_error_line(cli, tmp_path):
    (tmp_path / "csdesk.toml").write_text("[business]\nmonday = []\n", encoding="utf-8")
    result = cli("config", "show")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["Error: config: unknown key 'business.monday'"]


def test_agent_from_the_config_file_acts(cli, team, tmp_path):
    (tmp_path / "csdesk.toml").write_text('agent = "王芳"\n', encoding="utf-8")
    result = cli("log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "问保修")
    assert result.exit_code == 0, result.stderr
    assert team.scalar("SELECT s.name FROM call c JOIN staff s ON s.id = c.agent_id") == "王芳"


def test_csdesk_agent_overrides_the_config_file_and_as_overrides_both(cli, team, tmp_path, monkeypatch):
    (tmp_path / "csdesk.toml").write_text('agent = "王芳"\n', encoding="utf-8")
    monkeypatch.setenv("CSDESK_AGENT", "李娜")
    assert cli("log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "一").exit_code == 0
    assert cli("--as", "张强", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "二").exit_code == 0
    assert team.scalar("SELECT s.name FROM call c JOIN staff s ON s.id = c.agent_id WHERE c.summary = '一'") == "李娜"
    assert team.scalar("SELECT s.name FROM call c JOIN staff s ON s.id = c.agent_id WHERE c.summary = '二'") == "张强"
