"""Privacy: customer data stays readable by its owner only, and no password or SMTP secret is ever printed.

A new SQLite database (and its -wal/-shm companions, and backups) is created 0600 unless CSDESK_DB_MODE
says otherwise (e.g. 640 for a group of agents sharing the file). The SMTP password never lives in the
config file: it comes from the environment variable named by smtp.password_env.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

SECRET = "hunter2-Zq9!smtp"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0)  # the most permissive a user could have: csdesk must not rely on the umask
    yield
    os.umask(old)


def test_init_creates_a_file_only_its_owner_can_read(tmp_path, cli, loose_umask):
    path = tmp_path / "new" / "desk.db"
    result = cli("--db", str(path), "init")
    assert result.exit_code == 0, result.stderr
    assert _mode(path) == 0o600
    added = cli("--db", str(path), "staff", "add", "陈总", "--role", "director")
    assert added.exit_code == 0, added.stderr
    companions = [p for p in (path.with_name("desk.db-wal"), path.with_name("desk.db-shm")) if p.exists()]
    for companion in companions:  # SQLite gives them the main file's mode
        assert _mode(companion) == 0o600, companion


def test_csdesk_db_mode_widens_it_for_a_group(tmp_path, cli, monkeypatch, loose_umask):
    monkeypatch.setenv("CSDESK_DB_MODE", "640")
    path = tmp_path / "shared.db"
    result = cli("--db", str(path), "init")
    assert result.exit_code == 0, result.stderr
    assert _mode(path) == 0o640


@pytest.mark.parametrize("value", ["777x", "400", "1777"])
def test_a_bad_csdesk_db_mode_is_refused_before_anything_is_created(tmp_path, cli, monkeypatch, value):
    monkeypatch.setenv("CSDESK_DB_MODE", value)
    path = tmp_path / "desk.db"
    result = cli("--db", str(path), "init")
    assert result.exit_code == 1
    assert f"Error: CSDESK_DB_MODE={value!r} is not a file mode the owner can read and write" in result.stderr
    assert not path.exists()


def test_a_backup_is_as_private_as_the_database(team, tmp_path, cli, loose_umask):
    if team.path is None:
        pytest.skip("db backup copies SQLite files (PostgreSQL: pg_dump)")
    target = tmp_path / "backup.db"
    result = cli("db", "backup", str(target))
    assert result.exit_code == 0, result.stderr
    assert _mode(target) == 0o600


def _smtp_config(tmp_path, monkeypatch):
    config = tmp_path / "csdesk.toml"
    config.write_text(
        '[smtp]\nhost = "smtp.example.com"\nuser = "desk@example.com"\npassword_env = "CSDESK_SMTP_PASSWORD"\n'
        'from_addr = "客服部 <desk@example.com>"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CSDESK_CONFIG", str(config))
    monkeypatch.setenv("CSDESK_SMTP_PASSWORD", SECRET)


def test_config_show_never_prints_the_smtp_password(team, tmp_path, monkeypatch, cli):
    _smtp_config(tmp_path, monkeypatch)
    for args in (("config", "show"), ("config", "show", "--json"), ("--json", "config", "show")):
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
        assert SECRET not in result.stdout + result.stderr
    data = json.loads(cli("config", "show", "--json").stdout)
    assert data["settings"]["smtp"]["host"] == "smtp.example.com"  # the settings are shown, the secret is not
    assert data["settings"]["smtp"]["user"] == "desk@example.com"


def test_a_password_written_into_the_config_file_is_refused_without_echoing_it(tmp_path, monkeypatch, cli):
    config = tmp_path / "csdesk.toml"
    config.write_text(f'[smtp]\nhost = "smtp.example.com"\npassword = "{SECRET}"\n', encoding="utf-8")
    monkeypatch.setenv("CSDESK_CONFIG", str(config))
    result = cli("config", "show", "--json")
    assert result.exit_code == 1
    assert "Error: config: unknown key 'smtp.password'" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_secret_looking_keys_are_blanked_wherever_settings_are_shown():
    from csdesk.config import DEFAULTS, Settings

    settings = Settings({**DEFAULTS, "smtp": {**DEFAULTS["smtp"], "user": "desk"}, "x": {"api_token": SECRET, "client_secret": SECRET}})
    shown = json.dumps(settings.public(), ensure_ascii=False)
    assert SECRET not in shown
    assert settings.public()["x"] == {"api_token": "********", "client_secret": "********"}


def test_exports_and_json_output_never_carry_the_secret(team, tmp_path, monkeypatch, cli):
    _smtp_config(tmp_path, monkeypatch)
    assert cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "问保修期").exit_code == 0
    commands = [
        ("--json", "calls", "list"),
        ("--json", "customer", "list"),
        ("--json", "customer", "show", "13812345678"),
        ("--json", "staff", "list"),
        ("--json", "audit"),
        ("--json", "db", "check"),
    ]
    from csdesk.cli import app
    from typer.main import get_command

    groups = get_command(app).commands
    if "remind" in groups:
        commands.append(("--json", "remind", "run", "--dry-run"))
    if "report" in groups:
        commands.append(("--json", "report", "daily"))
    for args in commands:
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert SECRET not in result.stdout + result.stderr, args


def test_a_database_password_never_shows_in_messages(cli):
    pytest.importorskip("psycopg")
    result = cli("--db", f"postgresql+psycopg://desk:{SECRET}@127.0.0.1:1/csdesk", "customer", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot open database postgresql+psycopg://desk:***@127.0.0.1:1/csdesk")
    assert SECRET not in result.stdout + result.stderr
