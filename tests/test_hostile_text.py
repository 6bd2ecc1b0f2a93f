"""Text is data: what people type (and what the database holds) is shown as typed on every screen —
never parsed as Rich markup, never passed to the terminal as control characters — and control
characters are refused where text is typed (csdesk.text)."""

from __future__ import annotations

import json

import pytest

from csdesk.text import check_text, json_safe, visible

# Markup that used to crash (a closing tag that opens nothing), a live hyperlink, an emoji code, a style.
MARKUP = "报价 [/平方米] 待确认 [link=http://evil.example]点我[/link] :thumbs_up: [bold]粗"
NAME = "小[/i]王"


def _ok(result):
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "MarkupError" not in result.stdout + result.stderr
    return result


def _id(result) -> str:
    return _ok(result).stdout.strip().splitlines()[0]


@pytest.fixture
def marked(team, cli):
    """A department whose every free-text field and a staff name hold markup, written through the CLI."""
    _ok(cli("--as", "陈总", "staff", "add", NAME, "--role", "specialist", "--reports-to", "李娜"))
    _ok(cli("--as", "王芳", "customer", "add", f"客户{MARKUP[:20]}", "--phone", "13812345678",
            "--company", MARKUP, "--address", MARKUP, "--notes", MARKUP))
    first = _ok(cli("--as", NAME, "log-call", "--phone", "13812345678", "--kind", "complaint", "--summary", MARKUP,
                    "--open-complaint"))
    project = _id(cli("--as", "王芳", "project", "add", f"项目{MARKUP[:30]}", "--customer", "13812345678",
                      "--contract", "10万", "--site", MARKUP))
    _ok(cli("--as", "王芳", "project", "handover", project))
    _ok(cli("--as", "王芳", "adjust", "add", "--project", project, "--item", MARKUP))
    _ok(cli("--as", "王芳", "callback", "schedule", "--phone", "13812345678", "--due", "today 11:00", "--note", MARKUP))
    _ok(cli("--as", "王芳", "complaint", "note", "1", MARKUP))
    return {"project": project, "first": first}


def test_log_call_with_markup_saves_once_and_shows_the_open_items(marked, team, cli):
    # The second call shows the customer's open items (the complaint, the callback) holding markup.
    result = _ok(cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", MARKUP))
    assert result.stdout == "2\n"
    assert "[/平方米]" in result.stderr
    assert team.scalar("SELECT count(*) FROM call") == 2


@pytest.mark.parametrize("args", [
    ("calls", "list"), ("customer", "show", "C000001"), ("customer", "list"), ("complaint", "list"),
    ("complaint", "show", "1"), ("staff", "list"), ("audit",), ("project", "list"), ("project", "show", "{project}"),
    ("adjust", "list"), ("callback", "list"), ("callback", "show", "1"),
])
def test_every_screen_shows_markup_as_typed(marked, cli, args):
    args = [a.format(**marked) for a in args]
    out = _ok(cli("--as", "王芳", *args)).stdout
    shown = out.replace("\n", "")
    # Whatever the screen shows of the text, it shows its brackets: no tag was eaten as markup.
    assert "[/平方米]" in shown or "[/i]" in shown or "[link=" in shown, out
    assert ":thumbs_up:" in shown or "[/平方米]" in shown or "[/i]" in shown


def test_the_staff_name_keeps_its_brackets(marked, cli):
    assert NAME in _ok(cli("staff", "list")).stdout


def test_a_link_in_text_stays_text(marked, cli):
    out = _ok(cli("customer", "show", "C000001")).stdout
    assert "[link=http://evil.example]点我[/link]" in out
    assert "\x1b]8;" not in out


def test_remind_run_with_markup_announces_once(marked, team, cli, monkeypatch):
    monkeypatch.setenv("CSDESK_NOW", "2026-11-26T10:00:00+08:00")  # the complaint's deadlines have passed
    result = _ok(cli("remind", "run"))
    assert "[/平方米]" in result.stdout
    notices = team.scalar("SELECT count(*) FROM notice")
    assert notices > 0
    _ok(cli("remind", "run"))
    assert team.scalar("SELECT count(*) FROM notice") == notices


# ---- control characters: refused where typed ---------------------------------------------------------


@pytest.mark.parametrize("summary", ["x\x1b[2Jy", "a\x1b]8;;http://e\x1b\\b", "\x9b31m", "left\u202eright", "nul\x00"])
def test_control_characters_in_a_summary_are_refused(team, cli, summary):
    before = team.dump()
    result = cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", summary)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the summary contains control characters")
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr and "\x9b" not in result.stderr
    assert team.dump() == before


def test_free_text_keeps_newlines_and_tabs_and_a_windows_line_end(team, cli):
    _ok(cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "一\r\n二\t三"))
    assert team.scalar("SELECT summary FROM call") == "一\n二\t三"


@pytest.mark.parametrize("args", [
    ("staff", "add", "小\u202e王", "--role", "specialist"),
    ("staff", "add", "小\n王", "--role", "specialist"),
    ("staff", "add", "小王", "--role", "specialist", "--email", "a@b\x1b.cn"),
    ("customer", "add", "张\x1b[2J伟", "--phone", "13812345678"),
    ("customer", "add", "张\n伟", "--phone", "13812345678"),
    ("customer", "add", "张伟", "--phone", "13812345678", "--notes", "x\x07y"),
])
def test_names_are_one_line_and_nothing_is_a_control(team, cli, args):
    before = team.dump()
    result = cli("--as", "陈总", *args)
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("Error: ")
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr and "\x07" not in result.stderr
    assert team.dump() == before


# ---- control characters already stored (old rows, other tools): shown visibly --------------------------


def _poke(db, sql: str, **params) -> None:
    from sqlalchemy import text

    with db.database.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_stored_escape_sequences_are_shown_not_obeyed(team, cli):
    _ok(cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "ok", "--name", "张伟"))
    _poke(team, "UPDATE call SET summary = :s", s="clear\x1b[2Jscreen \x1b]8;;http://e\x07link\x1b]8;;\x07 \x9b1m \u202eevil")
    _poke(team, "UPDATE customer SET name = :s", s="张\x1b[31m伟")
    for args in (("calls", "list"), ("customer", "show", "C000001"), ("customer", "list")):
        out = _ok(cli(*args)).stdout
        assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out and "\x07" not in out, args
        assert "\\x1b" in out, args
    out = _ok(cli("calls", "list")).stdout
    assert "clear\\x1b[2Jscreen" in out and "\\u202eevil" in out


def test_json_escapes_c1_and_bidi_controls_too(team, cli):
    _ok(cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "ok"))
    stored = "a\x1bb\x9bc\u202ed\u2066e"
    _poke(team, "UPDATE call SET summary = :s", s=stored)
    out = _ok(cli("calls", "list", "--json")).stdout
    assert not any(ch in out for ch in "\x1b\x9b\u202e\u2066")
    assert json.loads(out)["items"][0]["summary"] == stored


def test_errors_show_typed_control_characters_visibly(team, cli):
    result = cli("calls", "list", "--kind", "\x1b[2J")
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\\x1b[2" in result.stderr
    result = cli("--as", "王\x1b]8;;http://e\x07芳", "staff", "list")
    assert result.exit_code == 1 and "\x1b" not in result.stderr and "\x07" not in result.stderr
    # A message that quotes the value as it is (no repr): still shown visibly.
    result = cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "x",
                 "--project", "P1\x07\u202e\x1b]8;;http://e\x1b\\")
    assert result.exit_code == 1
    assert not any(ch in result.stderr for ch in "\x07\u202e\x1b"), repr(result.stderr)
    assert "\\u202e" in result.stderr


def test_usage_errors_show_typed_control_characters_visibly(team, cli):
    result = cli("calls", "list", "--x\u202e\x07")
    assert result.exit_code == 2
    assert "\u202e" not in result.stderr and "\x07" not in result.stderr


def test_a_message_cannot_forge_a_line(team, cli):
    result = cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "x",
                 "--project", "P1\nError: all good")
    assert result.exit_code == 1
    assert len([line for line in result.stderr.splitlines() if line.lower().startswith("error:")]) == 1


# ---- the helpers ------------------------------------------------------------------------------------------


def test_visible_writes_out_controls_and_keeps_text():
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("\u202eabc\u2069") == "\\u202eabc\\u2069"
    assert visible("line\nnext\ttab") == "line\nnext\ttab"
    assert visible("line\nnext\ttab", lines=False) == "line\\x0anext\\x09tab"
    assert visible("\x00\x7f\x9b\u2028") == "\\x00\\x7f\\x9b\\u2028"
    assert visible("报价 [/平方米] 😀 a\u200db") == "报价 [/平方米] 😀 a\u200db"  # ZWJ (emoji) is not a control


def test_check_text_refuses_by_kind():
    assert check_text("a\nb\tc", "the note") == "a\nb\tc"
    with pytest.raises(Exception, match="one line"):
        check_text("a\nb", "the name", lines=False)
    with pytest.raises(Exception, match=r"\\x1b"):
        check_text("a\x1bb", "the note")


def test_json_safe_is_still_the_same_json():
    text = json.dumps({"s": "a\x9b\u202e\x7f"}, ensure_ascii=False)
    assert json.loads(json_safe(text)) == {"s": "a\x9b\u202e\x7f"}
    assert not any(ch in json_safe(text) for ch in "\x9b\u202e\x7f")
