"""The interface language: Chinese by default, English as a switch, one catalogue kept in step with the
source. (conftest sets CSDESK_LANG=en for the tests written against English messages; these remove it.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from csdesk import catalogue, i18n

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.delenv("CSDESK_LANG", raising=False)
    yield
    i18n.set_language("en")


def test_catalogue_is_up_to_date_with_the_source():
    """A message added to (or removed from) the source without `scripts/i18n` fails here."""
    for lang in catalogue.LANGUAGES:
        merged = catalogue.updated(lang)
        assert catalogue.po_path(lang).read_bytes() == catalogue.po_bytes(merged), (
            f"{catalogue.po_path(lang)} is out of date with the source: run scripts/i18n")
        assert catalogue.mo_path(lang).read_bytes() == catalogue.mo_bytes(merged), (
            f"{catalogue.mo_path(lang)} is not compiled from its .po: run scripts/i18n")


def test_every_message_has_a_chinese_translation():
    missing = catalogue.untranslated(catalogue.read("zh_CN"))
    assert not missing, f"{len(missing)} messages have no Chinese: {missing[:5]}"


def test_catalogue_sees_help_docstrings_and_marked_messages():
    found = catalogue.messages()
    assert "Print machine-readable JSON." in found  # a typer option's help=
    assert "Error: {message}" in found  # _() in cli.py
    assert any(text.startswith("Log a call") for text in found)  # a command's docstring


def test_placeholders_survive_translation():
    """A translation that drops or renames a {placeholder} would crash .format() on screen."""
    import re

    for message in catalogue.read("zh_CN"):
        if message.id and message.string:
            assert sorted(re.findall(r"\{[^{}]*\}", message.id)) == sorted(re.findall(r"\{[^{}]*\}", message.string)), message.id


def test_help_is_chinese_by_default_and_english_on_request(cli, chinese, monkeypatch):
    zh = cli("--help")
    assert zh.exit_code == 0
    assert "选项" in zh.stdout and "打印机器可读的 JSON。" in zh.stdout
    assert "Print machine-readable JSON." not in zh.stdout
    en = cli("--lang", "en", "--help")
    assert "Print machine-readable JSON." in en.stdout and "选项" not in en.stdout
    monkeypatch.setenv("CSDESK_LANG", "en")
    assert "Print machine-readable JSON." in cli("--help").stdout


def test_language_from_the_settings(cli, chinese, tmp_path):
    (tmp_path / "csdesk.toml").write_text('lang = "en"\n', encoding="utf-8")
    assert "Options" in cli("--help").stdout
    (tmp_path / "csdesk.toml").write_text('lang = "zh"\n', encoding="utf-8")
    assert "选项" in cli("--help").stdout


def test_errors_speak_the_interface_language(cli, chinese, db):
    result = cli("calls", "list", "--limit", "0")
    assert result.exit_code == 1
    assert result.stderr.startswith("错误：")
    result = cli("--lang", "en", "calls", "list", "--limit", "0")
    assert result.stderr.startswith("Error: ")


def test_unknown_language_is_a_usage_error(cli):
    result = cli("--lang", "fr", "calls", "list")
    assert result.exit_code == 2
    assert "fr" in result.stderr


def test_option_types_in_words_not_python_types(cli, chinese):
    out = cli("log-call", "--help").stdout
    assert "<bool>" not in out and "<str>" not in out and "list[" not in out
    assert "文本" in out  # --summary TEXT, in Chinese


def test_version_and_completion():
    out = subprocess.run([sys.executable, "-m", "csdesk", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.startswith("csdesk ")
    comp = subprocess.run([sys.executable, "-m", "csdesk", "--show-completion", "bash"], capture_output=True, text=True,
                          cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert comp.returncode == 0, comp.stderr
    assert "complete" in comp.stdout


def test_every_help_text_of_the_cli_is_in_the_catalogue():
    """Help built in a way the catalogue cannot see (an f-string, a variable) would stay English."""
    from typer.main import get_command

    from csdesk.cli import app

    known = set(catalogue.messages())
    missing = []

    def walk(cmd, path):
        if cmd.help and cmd.help not in known:
            missing.append(f"{path}: {cmd.help[:60]!r}")
        for param in cmd.params:
            if getattr(param, "help", None) and param.help not in known:
                missing.append(f"{path} {param.name}: {param.help[:60]!r}")
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")

    i18n.set_language("en")
    walk(get_command(app), "csdesk")
    assert not missing, missing
