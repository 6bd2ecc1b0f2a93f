"""The desk reads what a screen shows once, and no more: opening a card is one read, logging a call from
the card is one write and no read, a refresh that changed nothing leaves the tables as they are; a form
value that does not parse shows its refusal and writes nothing (DeskScreen.form)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("textual")

from csdesk import i18n  # noqa: E402

i18n.set_language("en")
from csdesk.desk.app import CustomerScreen, QueueScreen, fill  # noqa: E402
from tests.test_desk import _fill, _type_and_wait, customers, desk_app, run  # noqa: E402,F401


def counting(app):
    """Counts the backend's reads and writes, by what they run."""
    counts = {"read": 0, "write": 0}
    backend = app.backend
    read, write = backend.read, backend.write

    def counted_read(fn):
        counts["read"] += 1
        return read(fn)

    def counted_write(fn):
        counts["write"] += 1
        return write(fn)

    backend.read, backend.write = counted_read, counted_write
    return counts


async def _settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()


def test_a_card_is_one_read_and_a_logged_call_none(customers, cli):
    async def go():
        app = desk_app(customers, refresh=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await _settle(pilot)
            counts = counting(app)
            seen = []
            for code in ("C000001", "C000002", "C000001"):  # the first opening composes the kept card
                before = dict(counts)
                app.open_customer(code)
                await _settle(pilot)
                assert isinstance(app.screen, CustomerScreen) and app.screen.code == code
                seen.append(counts["read"] - before["read"])
                app.pop_screen()
                await _settle(pilot)
            app.open_customer("C000001")
            await _settle(pilot)
            before = dict(counts)
            await pilot.press("l")
            await _fill(pilot, summary="问安装时间")
            await _settle(pilot)
            calls = [str(app.screen.query_one("#calls").get_row_at(i)[4]) for i in range(app.screen.query_one("#calls").row_count)]
            return seen, counts["read"] - before["read"], counts["write"] - before["write"], calls

    seen, reads, writes, calls = run(go())
    assert seen[1:] == [1, 1], seen  # once kept, one read per card (it was two: ScreenResume ran twice)
    assert (reads, writes) == (0, 1)  # the logged call goes on the card without reading it again
    assert calls == ["问安装时间"]
    logged = json.loads(cli("--json", "calls", "list").stdout)["items"]
    assert [c["summary"] for c in logged] == ["问安装时间"]


def test_a_time_that_does_not_parse_is_refused_and_nothing_is_written(customers, cli):
    async def go():
        app = desk_app(customers, refresh=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type_and_wait(pilot, "13812345678")
            await pilot.press("enter")
            await _settle(pilot)
            counts = counting(app)
            await pilot.press("l")
            await _fill(pilot, summary="问安装时间", at="not a time")
            refused_log = app.sub_title
            await pilot.press("b")
            await _fill(pilot, due="明天10点", note="回电")
            scheduled = app.sub_title
            return refused_log, scheduled, counts["write"], type(app.screen)

    refused_log, scheduled, writes, screen = run(go())
    assert refused_log.startswith("'not a time' is not a date/time"), refused_log
    assert scheduled.startswith("Callback #1 scheduled"), scheduled
    assert writes == 1 and screen is CustomerScreen  # the refused form wrote nothing; the second did
    assert json.loads(cli("--json", "calls", "list").stdout)["items"] == []


def test_a_refresh_that_changed_nothing_leaves_the_tables_alone(customers):
    async def go():
        app = desk_app(customers, refresh=3600)
        async with app.run_test(size=(80, 24)) as pilot:
            await _settle(pilot)
            await pilot.press("f2")
            await _settle(pilot)
            assert isinstance(app.screen, QueueScreen)
            table = app.screen.query_one("#q-callbacks")
            cleared = []
            original = table.clear
            table.clear = lambda *a, **k: cleared.append(1) or original(*a, **k)
            app.screen.refresh_data()
            await _settle(pilot)
            unchanged = len(cleared)
            fill(table, [(("1", "x"), "1")])  # different rows: filled again
            return unchanged, len(cleared), table.row_count

    unchanged, after, rows = run(go())
    assert (unchanged, after, rows) == (0, 1, 1)
