"""The desk (`csdesk desk`) driven with Textual's pilot: the call loop, refusals, refreshes, the team
board, and the screens at 80×24. Every action goes through the same workflows as the CLI."""

from __future__ import annotations

import asyncio
import html
import json
import re
import subprocess
import sys

import pytest

pytest.importorskip("textual")

from csdesk import config, i18n  # noqa: E402

# The desk's module is imported once the language is chosen (csdesk desk imports it in the command):
# its key bindings are labelled then. These tests read the English interface, as the rest of the suite.
i18n.set_language("en")
from csdesk.desk.app import ComplaintScreen, CustomerScreen, DeskApp, FormScreen, QueueScreen, TeamScreen  # noqa: E402
from csdesk.desk.backend import Backend  # noqa: E402


def screen_text(app) -> str:
    """The screen as text, row by row (from Textual's SVG screenshot)."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(m.group(2)), []).append((float(m.group(1)), html.unescape(m.group(3)).replace("\xa0", " ")))
    return "\n".join("".join(t for _, t in sorted(parts)) for _, parts in sorted(rows.items()))


def desk_app(db, who="王芳", refresh=5.0) -> DeskApp:
    return DeskApp(Backend(db.database, config.load(None), who), refresh)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def customers(cli, team):
    for args in (["张伟", "--phone", "13812345678", "--phone", "010-62345678"], ["李强", "--phone", "13900001111"]):
        result = cli("--as", "王芳", "customer", "add", *args)
        assert result.exit_code == 0, result.stderr
    return team


async def _type_and_wait(pilot, text: str) -> None:
    search = pilot.app.screen.query_one("#caller")
    search.value = ""
    await pilot.pause()
    await pilot.press(*text)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _ids_of(pilot, table_id: str) -> list[str]:
    """The first column of a table on the current screen, once it has rows: a screen's reads run in a worker,
    and on a busy machine the rows may come a refresh after the workers first look done (up to ~5 s)."""
    for _ in range(50):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        table = pilot.app.screen.query_one(table_id)
        if table.row_count:
            break
        await pilot.pause(0.1)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def _screen_showing(pilot, *needles: str) -> str:
    """The screen's text once it shows all of `needles` (or after ~5 s, for the assertion to say what is missing):
    a screen just pushed reads in a worker that may not have started when the workers first look done."""
    for _ in range(50):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(pilot.app)
        if all(needle in text for needle in needles):
            break
        await pilot.pause(0.1)
    return text


async def _fill(pilot, **values) -> None:
    from textual.widgets import Input

    form = pilot.app.screen
    assert isinstance(form, FormScreen), type(form)
    for key, value in values.items():
        form.query_one(f"#field-{key}", Input).value = value
    await pilot.press("ctrl+s")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_a_number_in_three_formats_finds_the_same_customer(customers):
    async def go():
        app = desk_app(customers)
        async with app.run_test(size=(80, 24)) as pilot:
            found = []
            for typed in ("138 1234 5678", "+86-138-1234-5678", "13812345678", "张"):
                await _type_and_wait(pilot, typed)
                table = app.screen.query_one("#matches")
                found.append([str(table.get_row_at(i)[0]) for i in range(table.row_count)])
            await _type_and_wait(pilot, "010-6234")  # the landline's prefix
            table = app.screen.query_one("#matches")
            found.append([str(table.get_row_at(i)[0]) for i in range(table.row_count)])
            return found

    assert run(go()) == [["C000001"]] * 5


def test_the_call_loop_from_the_card_to_the_queue_and_the_cli(customers, cli):
    async def go():
        app = desk_app(customers)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type_and_wait(pilot, "13812345678")
            await pilot.press("enter")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, CustomerScreen)
            await pilot.press("l")
            await _fill(pilot, kind="repair", summary="卫生间漏水 [/x]", duration="3m")
            await pilot.press("o")
            await _fill(pilot, severity="serious", category="quality", summary="墙面开裂")
            await pilot.press("b")
            await _fill(pilot, due="明天10点", note="确认维修时间")
            card = await _screen_showing(pilot, "卫生间漏水 [/x]")
            await pilot.press("f2")
            queue = await _screen_showing(pilot, "墙面开裂")
            assert isinstance(app.screen, QueueScreen)
            return card, queue

    card, queue = run(go())
    assert "卫生间漏水 [/x]" in card  # the call, shown as text
    assert "墙面开裂" in queue  # my complaint, in my queue
    calls = json.loads(cli("--json", "calls", "list").stdout)["items"]
    assert [c["summary"] for c in calls if c["customer_code"] == "C000001"] == ["卫生间漏水 [/x]"]
    complaints = json.loads(cli("--json", "complaint", "list").stdout)
    assert [(c["id"], c["severity"], c["owner"]) for c in complaints["items"]] == [(1, "serious", "王芳")]
    callbacks = json.loads(cli("--as", "王芳", "--json", "callback", "list", "--due", "all").stdout)
    assert [(c["note"], c["due_at"]) for c in callbacks["items"]] == [("确认维修时间", "2026-11-25T10:00:00+08:00")]
    audit = json.loads(cli("--json", "audit").stdout)
    assert {"call", "complaint", "callback"} <= {row["entity"] for row in audit["items"]}


def test_a_refused_action_shows_its_reason_and_changes_nothing(customers, cli):
    async def go():
        app = desk_app(customers)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type_and_wait(pilot, "13812345678")
            await pilot.press("enter")
            await pilot.app.workers.wait_for_complete()
            await pilot.press("o")
            await _fill(pilot, severity="bogus", summary="墙面开裂")
            return app.sub_title

    status = run(go())
    assert "unknown severity 'bogus'" in status
    assert json.loads(cli("--json", "complaint", "list", "--status", "all").stdout)["items"] == []


def test_a_write_from_another_process_appears_after_a_refresh(customers, cli):
    async def go():
        app = desk_app(customers, refresh=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type_and_wait(pilot, "13812345678")
            await pilot.press("enter")
            await pilot.app.workers.wait_for_complete()
            before = screen_text(app)
            result = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-m", "csdesk", "--as", "李娜", "log-call", "--phone", "13812345678",
                                 "--kind", "inquiry", "--summary", "问保修期"], capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
            for _ in range(150):  # the refresh interval is 0.2 s; a loaded machine may need many
                await pilot.pause(0.2)
                await pilot.app.workers.wait_for_complete()
                if "问保修期" in screen_text(app):
                    break
            return before, screen_text(app)

    before, after = run(go())
    assert "问保修期" not in before and "问保修期" in after


def test_the_team_board_shows_someone_elses_breached_complaint(customers, cli):
    result = cli("--as", "王芳", "complaint", "open", "--phone", "13812345678", "--severity", "major",
                 "--category", "quality", "--summary", "漏水三天无人处理", "--assign", "张强", "--at", "yesterday 9:00")
    assert result.exit_code == 0, result.stderr

    async def go(who):
        app = desk_app(customers, who=who)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.app.workers.wait_for_complete()
            await pilot.press("f3")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            return type(app.screen), screen_text(app), app.sub_title

    screen, text, _ = run(go("李娜"))
    assert screen is TeamScreen
    assert "漏水三天无人处理" in text and "张强" in text and "overdue" in text
    screen, _, status = run(go("王芳"))  # a specialist has no team board
    assert screen is not TeamScreen and "supervisors" in status


def test_complaint_actions_from_the_desk(customers, cli):
    cli("--as", "王芳", "complaint", "open", "--phone", "13812345678", "--severity", "normal", "--category", "quality", "--summary", "门缝大")

    async def go():
        app = desk_app(customers)
        async with app.run_test(size=(80, 24)) as pilot:
            app.push_screen(ComplaintScreen(1))
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("a")
            await _fill(pilot, text="已致电客户")
            await pilot.press("h")
            await _fill(pilot, text="等配件")
            await pilot.press("r")
            await _fill(pilot, text="")
            await pilot.press("s")
            await _fill(pilot, text="已更换门板")
            return screen_text(app)

    text = run(go())
    view = json.loads(cli("--json", "complaint", "show", "1").stdout)
    assert view["complaint"]["status"] == "resolved"
    assert [e["kind"] for e in view["events"]][:5] == ["opened", "acknowledged", "held", "resumed", "resolved"]
    assert "已更换门板" in text


def test_screens_read_at_80x24_without_cutting_ids_amounts_or_deadlines(customers, cli):
    cli("--as", "王芳", "project", "add", "望京SOHO 12层精装", "--customer", "C000001", "--contract", "963180.50", "--signed", "2026-10-20")
    cli("--as", "王芳", "payment", "plan", "P000001", "--split", "首款:30%:2026-11-01, 尾款:70%:accept")
    cli("--as", "王芳", "complaint", "open", "--phone", "13812345678", "--severity", "normal", "--category", "quality",
        "--summary", "一段很长的投诉摘要" * 8, "--at", "yesterday 9:00")

    async def go():
        app = desk_app(customers)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.app.workers.wait_for_complete()
            await _type_and_wait(pilot, "138 1234")
            caller = screen_text(app)
            await pilot.press("f2")
            queue = await _screen_showing(pilot, "P000001", "11-23 14:30")
            app.pop_screen()
            app.push_screen(CustomerScreen("C000001"))
            return caller, queue, await _screen_showing(pilot, "C000001", "P000001")

    caller, queue, card = run(go())
    assert "C000001" in caller and "+8613812345678" in caller and "张伟" in caller  # the match, whole
    assert "P000001" in queue and "¥288,954.15" in queue  # the overdue 首款, whole
    assert "C000001" in queue and "11-23 14:30" in queue  # the complaint's first-response deadline, whole
    assert "C000001" in card and "+8613812345678" in card
    assert "P000001" in card and "963180.50" in card
    assert all(len(line) <= 80 for line in (caller + "\n" + queue + "\n" + card).splitlines())


def test_a_crash_shows_no_traceback_with_customer_data(customers, monkeypatch):
    from csdesk.desk import app as desk_module

    def broken(self, *_):
        raise RuntimeError("客户张伟 13812345678")

    monkeypatch.setattr(desk_module.CallerScreen, "show_matches", broken)

    async def go():
        app = desk_app(customers)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type_and_wait(pilot, "138")
            await pilot.pause()
        return app

    with pytest.raises(Exception, match="客户张伟"):
        run(go())  # the pilot re-raises it for the test; a person sees only the exit line below
    app = desk_app(customers)
    app._exception = RuntimeError("客户张伟 13812345678")
    app._exit_renderables = []
    app._close_messages_no_wait = lambda: None
    app._fatal_error()
    shown = " ".join(str(r) for r in app._exit_renderables)
    assert "RuntimeError" in shown and "13812345678" not in shown and "Traceback" not in shown


def test_desk_needs_someone_acting(cli, team):
    result = cli("desk")
    assert result.exit_code == 1
    assert "nobody is acting" in result.stderr


def test_corrections_and_a_hand_over_from_the_desk(customers, cli):
    """A call corrected and voided from the card, a complaint corrected and voided, a hand-over from the
    team board: the same workflows (and audit rows) as calls edit/void, complaint edit/void, staff handover."""
    assert cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "问保修期").exit_code == 0
    assert cli("--as", "王芳", "log-call", "--phone", "13812345678", "--kind", "inquiry", "--summary", "重复登记").exit_code == 0
    for summary in ("门缝大", "门缝大（重复）"):
        cli("--as", "王芳", "complaint", "open", "--phone", "13812345678", "--severity", "normal", "--category", "quality", "--summary", summary)

    async def card_actions():
        app = desk_app(customers)
        async with app.run_test(size=(80, 24)) as pilot:
            app.push_screen(CustomerScreen("C000001"))
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            ids = await _ids_of(pilot, "#calls")
            calls = app.screen.query_one("#calls")
            calls.move_cursor(row=ids.index("1"))
            await pilot.press("c")
            await _fill(pilot, kind="repair", summary="卫生间漏水")
            ids = await _ids_of(pilot, "#calls")
            calls = app.screen.query_one("#calls")
            calls.move_cursor(row=ids.index("2"))
            await pilot.press("x")
            await _fill(pilot, reason="重复登记")

    async def complaint_actions():
        app = desk_app(customers, who="李娜")
        async with app.run_test(size=(80, 24)) as pilot:
            app.push_screen(ComplaintScreen(1))
            await pilot.app.workers.wait_for_complete()
            await pilot.press("E")
            await _fill(pilot, severity="serious")
            app.pop_screen()
            app.push_screen(ComplaintScreen(2))
            await pilot.app.workers.wait_for_complete()
            await pilot.press("X")
            await _fill(pilot, text="同 #1")
            await pilot.press("escape")
            await pilot.press("f3")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("H")
            await _fill(pilot, name="王芳", to="李娜")
            return app.sub_title

    run(card_actions())
    status = run(complaint_actions())
    shown = json.loads(cli("--json", "calls", "show", "1").stdout)
    assert (shown["kind"], shown["summary"]) == ("repair", "卫生间漏水")
    assert json.loads(cli("--json", "calls", "show", "2").stdout)["void_reason"] == "重复登记"
    one = json.loads(cli("--json", "complaint", "show", "1").stdout)["complaint"]
    two = json.loads(cli("--json", "complaint", "show", "2").stdout)["complaint"]
    assert (one["severity"], two["status"]) == ("serious", "void")
    assert "handed over to 李娜" in status
    assert (one["assignee"], one["owner"]) == ("李娜", "李娜")  # 王芳's complaint, handed over


def test_a_shift_handed_to_me_waits_in_my_queue_and_is_taken_from_it(customers, cli):
    checks = ("--check", "设备正常=ok", "--check", "工单已派=ok", "--check", "待办已交代=ok")
    made = cli("--as", "李娜", "shift", "hand", "--to", "王芳", "--at", "2026-11-24 07:55", "--note", "3号线路有杂音", *checks)
    assert made.exit_code == 0, made.stderr
    handover_id = made.stdout.strip()

    async def go():
        app = desk_app(customers)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.app.workers.wait_for_complete()
            await pilot.press("f2")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            before = screen_text(app)
            await pilot.press("t")
            await pilot.pause()
            await _fill(pilot, note="已核对")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            after = screen_text(app)
            await pilot.press("t")  # nothing waits any more: refused with its reason
            await pilot.pause()
            return before, after, app.sub_title

    before, after, status = run(go())
    assert "3号线路有杂音" in before and "李娜" in before
    assert "3号线路有杂音" not in after  # taken: no longer waiting
    assert status == "No shift handover is waiting for you"
    shown = json.loads(cli("--json", "shift", "show", handover_id).stdout)
    assert shown["status"] == "taken" and shown["to_name"] == "王芳"


def test_typing_fast_runs_one_lookup_at_a_time_and_shows_the_last(customers, monkeypatch):
    import threading
    import time

    from csdesk.workflows import customers as customers_module

    real, seen, running = customers_module.lookup_callers, [], []

    def slow(desk, term, limit=20):
        running.append(threading.get_ident())
        assert len(running) == 1, "two lookups at once"
        try:
            seen.append(term)
            time.sleep(0.05)
            return real(desk, term, limit=limit)
        finally:
            running.pop()

    monkeypatch.setattr(customers_module, "lookup_callers", slow)

    async def go():
        app = desk_app(customers)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.app.workers.wait_for_complete()
            box = app.screen.query_one("#caller")
            for n in range(1, 12):  # eleven keys faster than a lookup: each one changes the box at once
                box.value = "13812345678"[:n]
            for _ in range(20):  # the last lookup may start after the keys' workers are done
                await pilot.app.workers.wait_for_complete()
                await pilot.pause(0.05)
            return [str(key.value) for key in app.screen.query_one("#matches").rows]

    shown = run(go())
    assert shown == ["C000001"]
    assert seen[-1] == "13812345678"
    assert len(seen) < len("13812345678")  # the terms typed while a lookup ran were never looked up
