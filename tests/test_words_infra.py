"""Issue 14 for the infrastructure: db, config show, remind, notify, demo and the errors of dates, phones,
settings and databases speak one language at a time (Chinese by default, English with --lang en); their
lists print {"items": [...], "total": N}; what is late says so in a word; a closed pipe is not an error;
--version and shell completion work from the installed command; every option has help."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from csdesk import i18n
from csdesk.workflows import reminders
from csdesk.workflows.call_intake import log_call

# English words that the infrastructure's own messages use: none may show in Chinese output.
ENGLISH = re.compile(r"\b(database|integrity|values|schema|current|Reminder|announced|breach|would|Table|Rows|File|"
                     r"Channel|Type|Waiting|Sent|Message|Showing|settings|defaults|Time zone|Business|Error|Hint|"
                     r"callback|overdue|not a|is not|no such|Try next|Built|staff|customers|calls|reminders)\b")


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.delenv("CSDESK_LANG", raising=False)
    yield
    i18n.set_language("en")


def _late_collector(desk, now, settings):
    """Each complaint call is a callback overdue for its agent (a late kind: it must stand out)."""
    from sqlmodel import select

    from csdesk.models import Call

    return [reminders.Announcement(
        key=f"words.call:{c.id}", kind="callback_overdue", entity="call", entity_id=c.id,
        recipients=[c.agent_id], message=f"#{c.id} 张伟", breach=True,
    ) for c in desk.session.exec(select(Call).where(Call.kind == "complaint").order_by(Call.id)).all()]


@pytest.fixture
def announced(team, monkeypatch):
    monkeypatch.setattr(reminders, "COLLECTORS", [("words", _late_collector)])
    monkeypatch.setattr(reminders, "STEPS", [])
    monkeypatch.setattr(reminders, "_load_collectors", lambda: None)
    with team.desk(as_="王芳") as desk:
        for i in range(3):
            log_call(desk, f"1380013{i:04d}", "complaint", f"投诉 {i}")
    with team.desk(as_="李娜") as desk:
        log_call(desk, "13800139999", "complaint", "投诉 李")
    return team


def _no_english(text: str) -> None:
    found = ENGLISH.findall(text)
    assert not found, (found, text)


# ---- one language at a time ----------------------------------------------------------------------


def test_db_check_and_config_show_in_chinese_and_in_english(team, cli, chinese):
    zh = cli("db", "check")
    assert zh.exit_code == 0, zh.stderr
    assert "完整性：正常" in zh.stdout and "存储数据：正常" in zh.stdout and "（最新）" in zh.stdout
    _no_english("\n".join(l for l in zh.stdout.splitlines() if not l.startswith("身份")))  # identities: sweepp's words
    en = cli("--lang", "en", "db", "check")
    assert "integrity: ok" in en.stdout and "values: ok" in en.stdout and "完整性" not in en.stdout

    shown = cli("config", "show")
    assert shown.exit_code == 0
    assert "# 输入和显示时间所用的时区；数据库内存 UTC。" in shown.stdout
    assert 'timezone = "Asia/Shanghai"' in shown.stdout  # keys and values as written in the settings file
    assert "[notify]" in shown.stdout and "# remind run --mail 发送通知的去处：邮件、企业微信和钉钉通道。" in shown.stdout
    _no_english("\n".join(l for l in shown.stdout.splitlines() if l.startswith("#") and "identities" not in l
                          and "身份" not in l))
    english = cli("--lang", "en", "config", "show")
    assert "# Time zone that times are read and shown in; the database stores UTC." in english.stdout
    assert "数据库内存" not in english.stdout


def test_config_show_prints_toml_that_reads_back(team, cli):
    import tomllib

    shown = cli("config", "show")
    data = tomllib.loads(shown.stdout)
    assert data["sla"]["first_response"] == {"normal": "4h", "serious": "2h", "major": "1h"}
    assert data["timezone"] == "Asia/Shanghai" and data["export"]["mask_phones"] is True


def test_remind_run_and_list_in_chinese(announced, cli, chinese):
    dry = cli("--as", "王芳", "remind", "run", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "（试运行）：将通知 4 条，此前已通知 0 条，超时 4 条。" in dry.stdout
    assert "[回访逾期] #1 张伟" in dry.stdout  # what is late says so in a word, not only in colour (NO_COLOR is set)
    _no_english(dry.stdout)
    run = cli("remind", "run")
    assert "本次通知 4 条" in run.stdout
    listed = cli("remind", "list", "--limit", "2")
    assert listed.exit_code == 0
    assert "回访逾期" in listed.stdout and "内容" in listed.stdout and "无通道" in listed.stdout
    assert listed.stderr.strip() == "显示 2 / 共 4 条；用 --limit 查看更多。"
    _no_english(listed.stdout)


def test_remind_run_and_list_in_english(announced, cli):
    run = cli("remind", "run")
    assert "Reminder run" in run.stdout and ": announced 4, announced before 0, in breach 4." in run.stdout
    assert "[callback overdue] #1 张伟" in run.stdout
    listed = cli("remind", "list", "--limit", "1")
    assert "callback overdue" in listed.stdout and "Showing 1 of 4" in listed.stderr


def test_remind_list_json_shape_total_and_me(announced, cli, chinese):
    assert cli("remind", "run").exit_code == 0
    data = json.loads(cli("remind", "list", "--limit", "1", "--json").stdout)
    assert set(data) == {"items", "total"} and data["total"] == 4 and len(data["items"]) == 1
    item = data["items"][0]
    assert item["kind"] == "callback_overdue" and item["kind_label"] == "回访逾期"  # codes stay, labels follow
    english = json.loads(cli("--lang", "en", "remind", "list", "--json").stdout)
    assert english["items"][0]["kind_label"] == "callback overdue"
    mine = json.loads(cli("--as", "李娜", "remind", "list", "--to", "me", "--json").stdout)
    assert mine["total"] == 1 and [i["recipient"] for i in mine["items"]] == ["李娜"]
    nobody = cli("remind", "list", "--to", "me")
    assert nobody.exit_code == 1 and nobody.stderr.startswith("错误：没有操作人")


def test_notify_status_and_db_archives_lists(team, cli, chinese):
    status = cli("notify", "status")
    assert status.exit_code == 0
    assert "渠道" in status.stdout and "待发" in status.stdout
    _no_english(status.stdout)
    data = json.loads(cli("notify", "status", "--json").stdout)
    assert data["total"] == len(data["items"]) == 1 and data["items"][0]["channel"] == "email"
    archives = json.loads(cli("db", "archives", "--json").stdout)
    assert archives == {"items": [], "total": 0}
    none = cli("db", "archives")
    assert none.exit_code == 0 and none.stderr.startswith("还没有归档")


# ---- errors a person can type --------------------------------------------------------------------


@pytest.mark.parametrize("args, chinese_words, english_words", [
    (["remind", "list", "--since", "下下下周"], "不是日期时间", "is not a date/time"),
    (["remind", "run", "--dry-run", "--now", "2026-02-30 10:00"], "不是有效日期（没有这一天）", "is not a date (no such day)"),
    (["remind", "list", "--limit", "0"], "--limit 至少为 1", "--limit must be at least 1"),
    (["notify", "test", "nosuch"], "没有名为 'nosuch' 的通知通道", "no notify channel named 'nosuch'"),
])
def test_refusals_are_one_line_in_the_interface_language(team, cli, chinese, args, chinese_words, english_words):
    zh = cli(*args)
    assert zh.exit_code == 1 and zh.stdout == ""
    assert zh.stderr.startswith("错误：") and chinese_words in zh.stderr, zh.stderr
    _no_english(zh.stderr.replace("--limit", "").replace("--now", ""))
    en = cli("--lang", "en", *args)
    assert en.exit_code == 1 and en.stderr.startswith("Error: ") and english_words in en.stderr, en.stderr


def test_bad_phone_setting_and_database_errors_speak_chinese(team, cli, chinese, tmp_path):
    from csdesk import phones
    from csdesk.errors import InvalidValue

    i18n.set_language("zh")
    with pytest.raises(InvalidValue) as err:
        phones.normalize("1381234567")
    assert err.value.message == "'1381234567' 不是有效的电话号码（手机号应为 11 位，这个是 10 位）"
    (tmp_path / "csdesk.toml").write_text("[sla]\nfirst_response = 3\n", encoding="utf-8")
    bad = cli("config", "show")
    assert bad.exit_code == 1 and bad.stderr == "错误：设置：'sla.first_response' 必须是表\n"
    (tmp_path / "csdesk.toml").write_text("", encoding="utf-8")
    missing = cli("--db", str(tmp_path / "none.db"), "db", "check")
    assert missing.exit_code == 1
    assert missing.stderr.splitlines() == [f"错误：{tmp_path / 'none.db'} 没有数据库", "提示：先创建：csdesk init"]


def test_a_newer_schema_is_refused_in_chinese(team, cli, chinese):
    from sqlalchemy import text

    with team.database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    result = cli("db", "check")
    assert result.exit_code == 1
    assert "比当前 csdesk" in result.stderr and "新" in result.stderr and result.stderr.startswith("错误：")


def test_the_digest_is_written_in_the_run_language(announced, chinese):
    from csdesk import config
    from csdesk.workflows.deliveries import _plan_digests
    from csdesk.workflows.reminders import remind_run

    from conftest import NOW

    settings = config.load(announced.path)
    settings.data["smtp"].update(host="mail.example", from_addr="desk@example.com")
    with announced.database.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE staff SET email = name || '@example.com'"))
    remind_run(announced.database, settings, NOW)
    from csdesk import notify

    email = [c for c in notify.channels(settings) if c.kind == "email"][0]
    i18n.set_language("zh")
    plans = {p["recipient"]: p for p in _plan_digests(announced.database, settings, email)}
    assert plans["王芳"]["subject"] == "csdesk：王芳 有 3 条提醒"
    assert plans["李娜"]["subject"] == "csdesk：李娜 有 1 条提醒"
    assert plans["王芳"]["body"].startswith("王芳，您好：\n\n您有 3 条提醒：\n")
    i18n.set_language("en")
    plans = {p["recipient"]: p for p in _plan_digests(announced.database, settings, email)}
    assert plans["李娜"]["subject"] == "csdesk: 1 reminder for 李娜"
    assert plans["王芳"]["body"].startswith("Hello 王芳,\n\ncsdesk has 3 reminders for you:\n")


# ---- the installed command: demo, pipes, exit codes, version, completion ---------------------------


def _csdesk() -> str:
    found = shutil.which("csdesk", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if not found:
        pytest.skip("the csdesk command is not installed")
    return found


def _run(args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "CSDESK_LANG"}
    env.update(env_extra or {})
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)


def test_demo_ends_with_the_lines_to_paste_in_chinese(tmp_path):
    target = tmp_path / "demo.db"
    result = _run([_csdesk(), "--db", str(target), "demo"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip("\n").splitlines()
    assert lines[0] == f"已在 {target} 建好示例客服部："
    assert lines[-2:] == [f"  export CSDESK_DB={target}", "  csdesk --as 王芳 desk"]
    assert "接下来试试：" in lines and any(l.startswith("  员工：") for l in lines)


def test_a_closed_pipe_is_not_an_error(team):
    csdesk = _csdesk()
    env = {"CSDESK_DB": team.location}
    for command in ("config show", "--help", "db check"):
        result = _run(["bash", "-c", f"{csdesk} {command} | head -1 >/dev/null; exit ${{PIPESTATUS[0]}}"], env)
        assert result.returncode == 0, (command, result.stderr)
        assert "Traceback" not in result.stderr and "Broken pipe" not in result.stderr


def test_long_output_into_a_closed_pipe(team):
    """Output that meets the closed pipe while it is written (rich and click both exit 1 on it; csdesk
    exits 0), in the terminal reports and the long lists."""
    with team.desk(as_="王芳") as desk:
        for i in range(30):
            log_call(desk, f"1380013{i:04d}", "inquiry", f"咨询保修期限 {i}")
    csdesk = _csdesk()
    env = {"CSDESK_DB": team.location, "COLUMNS": "200"}
    for command in ("report monthly --period current", "calls list --limit 1000", "remind run --dry-run"):
        script = f"{csdesk} {command} | head -1 >/dev/null; exit ${{PIPESTATUS[0]}}"
        result = _run(["bash", "-c", script], env)
        assert result.returncode == 0, (command, result.stderr)


def test_exit_codes_usage_2_refusal_1(team):
    csdesk = _csdesk()
    env = {"CSDESK_DB": team.location}
    assert _run([csdesk, "remind", "list", "--limit", "many"], env).returncode == 2
    assert _run([csdesk, "no-such-command"], env).returncode == 2
    refused = _run([csdesk, "remind", "list", "--limit", "0"], env)
    assert refused.returncode == 1 and refused.stderr.startswith("错误：")
    assert _run([csdesk, "db", "check"], env).returncode == 0


def test_version_and_shell_completion():
    csdesk = _csdesk()
    from importlib.metadata import version

    shown = _run([csdesk, "--version"])
    assert shown.returncode == 0 and shown.stdout == f"csdesk {version('csdesk')}\n"
    marks = {"bash": "complete -o default -F _csdesk_completion csdesk", "zsh": "#compdef csdesk",
             "fish": "complete --command csdesk"}
    for shell, mark in marks.items():
        script = _run([csdesk, "--show-completion", shell])  # the shell named, whatever shell runs this
        assert script.returncode == 0, script.stderr
        assert mark in script.stdout, (shell, script.stdout[:200])
        assert all(other not in script.stdout for other in marks.values() if other != mark)


def test_install_completion_for_each_shell(tmp_path):
    csdesk = _csdesk()
    places = {"bash": ".bash_completions/csdesk.sh", "zsh": ".zfunc/_csdesk", "fish": ".config/fish/completions/csdesk.fish"}
    for shell, place in places.items():
        home = tmp_path / shell
        home.mkdir()
        result = _run([csdesk, "--install-completion", shell], {"HOME": str(home)})
        assert result.returncode == 0, result.stderr
        assert (home / place).is_file() and "csdesk" in (home / place).read_text()


def test_completion_completes_commands_and_options():
    csdesk = _csdesk()
    env = {"_CSDESK_COMPLETE": "complete_bash", "COMP_WORDS": "csdesk remind ", "COMP_CWORD": "2"}
    result = _run([csdesk], env)
    assert result.returncode == 0
    assert {"run", "list"} <= set(result.stdout.split())
    env.update(COMP_WORDS="csdesk remind list --", COMP_CWORD="3")
    assert {"--since", "--to", "--limit", "--json"} <= set(_run([csdesk], env).stdout.split())


# ---- help: every option explained, types in words ---------------------------------------------------

# Options whose help is written by the engineer of their area (issue 14 sweeps running beside this one);
# nothing may be added here.
NOT_YET_EXPLAINED: set[str] = set()  # every option and argument has its help now; keep it so


def _commands():
    import typer.main

    from csdesk.cli import app

    root = typer.main.get_command(app)
    found = []

    def walk(cmd, path):
        found.append((path, cmd))
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, path + [name])

    walk(root, [])
    return found


def test_every_option_and_argument_has_help():
    missing = []
    for path, cmd in _commands():
        for param in cmd.params:
            if not (getattr(param, "help", None) or "").strip():
                key = " ".join(path + [param.name])
                if key not in NOT_YET_EXPLAINED:
                    missing.append(key)
    assert not missing, f"options without help: {missing}"


def test_help_shows_types_in_words(cli):
    leaks = []
    for path, cmd in _commands():
        shown = cli("--lang", "en", *path, "--help")
        assert shown.exit_code == 0, (path, shown.stderr)
        for bad in re.findall(r"<(?:bool|int|float|str|text|list\[[^\]]*\]|path|[a-z_]+)>", shown.stdout):
            leaks.append((" ".join(path), bad))
    assert not leaks, leaks
