"""A report made by two processes (issue 15): the helper forked on the same snapshot gives exactly the report and
the workbook one process gives; a write between the two snapshots, or a helper that fails, leaves the work to
the parent — the same report again; the work queue hands every piece out once."""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from test_reports import month  # noqa: F401  (the hand-counted month, on both backends)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the helper process needs fork()")


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}  # core.xml: the time it was made


def _workbook(cli, tmp_path, name: str, *args: str, env: dict | None = None) -> dict[str, bytes]:
    target = tmp_path / f"{name}.xlsx"
    result = cli("--as", "张强", "report", *args, "--xlsx", str(target), env=env)
    assert result.exit_code == 0, result.stderr
    return _parts(target.read_bytes())


@pytest.mark.parametrize("args", [("monthly", "--period", "2026-10"), ("quarterly", "--period", "2026-Q4"),
                                  ("annual", "--period", "2026", "--lang", "zh"), ("monthly", "--period", "2026-10", "--unmask")])
def test_two_processes_write_the_workbook_one_process_writes(month, cli, tmp_path, args):  # noqa: F811
    one = _workbook(cli, tmp_path, "one", *args, env={"CSDESK_REPORT_WORKER": "0"})
    two = _workbook(cli, tmp_path, "two", *args, env={"CSDESK_REPORT_WORKER": "strict"})  # the helper must not fail
    assert one.keys() == two.keys()
    assert [n for n in one if one[n] != two[n]] == []
    # Not vacuous: the sheets the helper may write have rows here.
    visits = next(n for n in one if b"<sheetData><row" in one[n] and "sheet5" in n)
    assert one[visits].count(b"<row ") > 2


def test_two_processes_give_the_json_one_gives(month, cli):  # noqa: F811
    out = []
    for worker in ("0", "strict"):
        result = cli("report", "monthly", "--period", "2026-10", "--json", env={"CSDESK_REPORT_WORKER": worker})
        assert result.exit_code == 0, result.stderr
        out.append(json.loads(result.stdout))
    assert out[0] == out[1]
    assert out[0]["figures"]


def _count_calls(context):
    from sqlalchemy import text

    return context.desk.session.execute(text("SELECT count(*) FROM call")).scalar()


def test_the_helper_reads_the_parents_snapshot_not_a_later_write(month):  # noqa: F811
    """A call logged after the report's snapshot began is in neither half of it (PostgreSQL: the snapshot is
    exported to the helper; SQLite: the helper is not used when a write came between the two)."""
    from csdesk import config
    from csdesk.reporting.helper import ReportHelper
    from csdesk.workflows import Desk
    from csdesk.workflows.call_intake import log_call

    from conftest import NOW

    database = month.database
    settings = config.load(month.path)

    def work(session):
        from sqlalchemy import text

        desk = Desk(session=session, settings=settings, now=NOW, actor=None)
        before = session.execute(text("SELECT count(*) FROM call")).scalar()
        with month.desk(as_="王芳") as other:  # another connection commits a call now
            log_call(other, "13800138000", "inquiry", "a call made while the report runs")
        helper = ReportHelper.start(desk)
        if helper is None:  # SQLite: the write came between the snapshots, so the parent works alone
            assert month.path is not None
            return before, None
        try:
            helper.call(_count_calls)
            return before, helper.result()
        finally:
            helper.close()

    before, seen = database.read(work, shareable=True)
    if month.path is None:
        assert seen == before  # PostgreSQL: the helper saw the parent's snapshot, not the new call
    else:
        assert seen is None
    assert month.scalar("SELECT count(*) FROM call") == before + 1


def test_a_helper_started_without_a_write_between_is_used_on_sqlite(month):  # noqa: F811
    from csdesk import config
    from csdesk.reporting.helper import ReportHelper
    from csdesk.workflows import Desk

    from conftest import NOW

    if month.path is None:
        pytest.skip("SQLite's check; PostgreSQL shares the snapshot itself")
    settings = config.load(month.path)

    def work(session):
        helper = ReportHelper.start(Desk(session=session, settings=settings, now=NOW, actor=None))
        try:
            return helper is not None
        finally:
            if helper is not None:
                helper.close()

    assert month.database.read(work, shareable=True)
    assert not month.database.read(work)  # not shareable: no helper


def _fail_in_the_helper(*args, **kwargs):
    raise RuntimeError("the helper breaks down")


def _fail_after_taking_a_sheet(specs, scratch, take, send, mask_phones=False):
    send(("styles", {}))  # not the parent's: refused there too
    take()
    raise RuntimeError("the helper breaks down half way")


@pytest.mark.parametrize("stage", ["areas", "sheets", "half way"])
def test_a_helper_that_fails_leaves_the_work_to_the_parent(month, cli, tmp_path, monkeypatch, stage):  # noqa: F811
    import csdesk.reports as reports
    import csdesk.xlsx as xlsx

    one = _workbook(cli, tmp_path, "one", "monthly", "--period", "2026-10", env={"CSDESK_REPORT_WORKER": "0"})
    # The helper is forked from this process: what is patched here is what it runs (the parent never calls these).
    if stage == "areas":
        monkeypatch.setattr(reports, "_helper_report", _fail_in_the_helper)
    elif stage == "sheets":
        monkeypatch.setattr(xlsx, "write_rows_apart", _fail_in_the_helper)
    else:
        monkeypatch.setattr(xlsx, "write_rows_apart", _fail_after_taking_a_sheet)
    two = _workbook(cli, tmp_path, "two", "monthly", "--period", "2026-10", env={"CSDESK_REPORT_WORKER": "1"})
    assert [n for n in one if one[n] != two.get(n)] == []
    # And the strict mode of the tests above does see the failure.
    result = cli("--as", "张强", "report", "monthly", "--period", "2026-10", "--xlsx", str(tmp_path / "strict.xlsx"),
                 env={"CSDESK_REPORT_WORKER": "strict"})
    assert result.exit_code == 1 and "the report's helper process failed" in result.stderr, result.stderr
    assert not (tmp_path / "strict.xlsx").exists()


def test_the_work_queue_hands_each_piece_to_one_process_only():
    from csdesk import forked
    from csdesk.reporting.helper import WorkQueue

    queue = WorkQueue()
    try:
        def child(channel):
            channel.recv()
            mine = []
            while (i := queue.take()) is not None:
                mine.append(i)
            channel.send(mine)

        worker = forked.Child(child)
        try:
            queue.deal(200)
            worker.send("go")
            mine = []
            while (i := queue.take()) is not None:
                mine.append(i)
            theirs = worker.recv()
        finally:
            worker.close()
        assert sorted(mine + theirs) == list(range(200))
        assert queue.take() is None
    finally:
        queue.close()


def test_a_child_that_fails_says_so():
    from csdesk import forked

    def child(channel):
        raise ValueError("no")

    worker = forked.Child(child)
    try:
        with pytest.raises(forked.ChildFailed, match="ValueError: no"):
            worker.recv()
    finally:
        worker.close()
