"""click's own usage errors (issue 14) in the interface language: Chinese inside the 错误 panel by default,
English with --lang en or CSDESK_LANG=en; exit code 2 either way. The messages are click's English
f-strings matched against the forms in `csdesk/i18n.py` (_USAGE_FORMS) when the panel shows them."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum
from typing import Annotated

import pytest
import typer


def panel(stderr: str) -> str:
    """The text inside the error panel, its wrapped lines joined (Chinese wraps without spaces)."""
    lines = [line.strip().strip("│").strip() for line in stderr.splitlines() if line.strip().startswith("│")]
    return " ".join(lines)


CASES = [
    # args, Chinese, English
    (("calls", "list", "--bogus"), "没有这个选项：--bogus", "No such option: --bogus"),
    (("calls", "list", "--limt", "3"), "没有这个选项：--limt（是不是想用：--limit）",
     "No such option: --limt (Possible options: --limit)"),
    (("call",), "没有这个命令：'call'。是不是想用 'calls', 'log-call', 'callback'？",
     "No such command 'call'. Did you mean 'calls', 'log-call', 'callback'?"),
    (("frobnicate",), "没有这个命令：'frobnicate'。", "No such command 'frobnicate'."),
    (("calls", "show"), "缺少参数 'ID'。", "Missing argument 'ID'."),
    (("shift", "hand"), "缺少选项 '--to'。", "Missing option '--to'."),
    (("calls", "list", "--limit", "abc"), "'--limit' 的值无效：应为整数",
     "Invalid value for '--limit': Input should be a valid integer, unable to parse string as an integer"),
    (("calls", "show", "x"), "'ID' 的值无效：应为整数",
     "Invalid value for 'ID': Input should be a valid integer, unable to parse string as an integer"),
    (("calls", "show", "1", "2"), "多出了参数：2", "Got unexpected extra argument(s) (2)"),
    (("calls", "list", "--limit"), "选项 '--limit' 后面要跟一个值。", "Option '--limit' requires an argument."),
]


@pytest.mark.parametrize("args, chinese, english", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_usage_errors_in_chinese_and_english(cli, args, chinese, english):
    zh = cli("--lang", "zh", *args)
    assert zh.exit_code == 2
    assert panel(zh.stderr).replace(" ", "") == chinese.replace(" ", ""), zh.stderr
    en = cli("--lang", "en", *args)
    assert en.exit_code == 2
    assert panel(en.stderr) == english, en.stderr
    assert "错误" in zh.stderr and "Error" in en.stderr and "错误" not in en.stderr
    # the usage line and the hint above the panel (click leaves them out when it has no context)
    assert ("用法：" in zh.stderr, "查看帮助" in zh.stderr) == ("Usage:" in en.stderr, "Try '" in en.stderr)
    assert "Try '" not in zh.stderr and "Usage:" not in zh.stderr
    assert "[OPTIONS]" not in zh.stderr and "COMMAND [ARGS]" not in zh.stderr  # 用法： csdesk calls list [选项]
    assert "[选项]" not in en.stderr
    by_env = cli(*args, env={"CSDESK_LANG": "en"})
    assert (by_env.exit_code, panel(by_env.stderr)) == (2, english)


def test_a_path_that_is_a_directory(cli, tmp_path):
    zh = cli("--lang", "zh", "report", "monthly", "--xlsx", str(tmp_path))
    assert zh.exit_code == 2
    assert panel(zh.stderr).replace(" ", "") == f"'--xlsx'的值无效：'{tmp_path}'是一个目录，这里要的是文件。".replace(" ", "")
    en = cli("--lang", "en", "report", "monthly", "--xlsx", str(tmp_path))
    assert (en.exit_code, panel(en.stderr).replace(" ", "")) == (2, f"Invalidvaluefor'--xlsx':file'{tmp_path}'isadirectory.")


def test_chinese_is_the_default_from_the_installed_command(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "CSDESK_DB": str(tmp_path / "x.db"), "COLUMNS": "80", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "csdesk", "calls", "list", "--bogus"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "没有这个选项：--bogus" in result.stderr and "No such option" not in result.stderr


@pytest.fixture
def chinese():
    from csdesk import i18n

    i18n.set_language("zh")
    yield i18n
    i18n.set_language("en")


@pytest.mark.parametrize("english, chinese_text", [
    # the forms an older click (through gettext) writes, and those csdesk's own options never reach
    ("Invalid value for '--n': 'x' is not a valid integer.", "'--n' 的值无效：'x' 不是有效的整数。"),
    ("Invalid value for '--f': 'x' is not a valid float.", "'--f' 的值无效：'x' 不是有效的数字。"),
    ("Invalid value for '--kind': 'x' is not one of 'a', 'b'.", "'--kind' 的值无效：'x' 不在可选范围内：'a', 'b'。"),
    ("Invalid value for '--kind': 'x' is not 'a'.", "'--kind' 的值无效：'x' 不是 'a'。"),
    ("No such option: --limt Did you mean --limit?", "没有这个选项：--limt。是不是想用 --limit？"),
    ("Got unexpected extra arguments (2 3)", "多出了参数：2 3"),
    ("Missing option '--kind'. Choose from:\n\ta,\n\tb", "缺少选项 '--kind'。可选：\n\ta,\n\tb"),
    ("Option '--two' requires 2 arguments.", "选项 '--two' 后面要跟 2 个值。"),
    ("Invalid value for '--e': path '/nonexist' does not exist.", "'--e' 的值无效：'/nonexist' 不存在。"),
    ("Something click never said.", "Something click never said."),  # no known form: as it is
])
def test_usage_message_forms(chinese, english, chinese_text):
    assert chinese.usage_message(english) == chinese_text
    chinese.set_language("en")
    assert chinese.usage_message(english) == english


class Colour(str, Enum):
    red = "red"
    blue = "blue"


def test_a_choice_error_in_any_typer_app(chinese):
    """Choices: csdesk's own options take Chinese words and check them itself; typer's choice error is
    translated all the same, wherever typer shows it."""
    from typer.testing import CliRunner

    app = typer.Typer()

    @app.command()
    def paint(colour: Annotated[Colour, typer.Option("--colour")] = Colour.red, n: int = 1) -> None:
        pass

    chinese._translate_libraries()
    result = CliRunner().invoke(app, ["--colour", "green"])
    assert result.exit_code == 2
    assert panel(result.stderr).replace(" ", "") == "'--colour'的值无效：'green'不在可选范围内：'red','blue'。"
    chinese.set_language("en")
    result = CliRunner().invoke(app, ["--colour", "green"])
    assert panel(result.stderr) == "Invalid value for '--colour': Value error, 'green' is not one of 'red', 'blue'."


@pytest.mark.parametrize("lang, expected", [
    ("zh", ["运行 'python -m csdesk calls list -h' 查看帮助。", "错误：没有这个选项：--limt（是不是想用：--limit）"]),
    ("en", ["Try 'python -m csdesk calls list -h' for help.", "Error: No such option: --limt (Possible options: --limit)"]),
])
def test_without_rich_click_prints_the_same_words(tmp_path, lang, expected):
    env = {"PATH": "/usr/bin:/bin", "CSDESK_DB": str(tmp_path / "x.db"), "HOME": str(tmp_path), "TYPER_USE_RICH": "0",
           "CSDESK_LANG": lang}
    result = subprocess.run([sys.executable, "-m", "csdesk", "calls", "list", "--limt", "3"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[1:] == expected, result.stderr
