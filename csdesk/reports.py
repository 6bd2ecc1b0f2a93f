"""Reports (报表): daily, weekly, monthly, quarterly and annual — data first, then renderers.

The data part is pure: `build_report(desk, kind, period)` runs a handful of aggregate queries
(GROUP BY in SQL, never row by row in Python for the big tables) for the period and the one before it,
and returns a `Report` of plain dataclasses. Every figure and every breakdown is defined ONCE, in
`csdesk.reporting.definitions` (FIGURES / BREAKDOWNS), with the text that says what is counted, over
which rows, in which period; the README's report section carries the same definitions (a test keeps them in step).

Renderers: `render_terminal` (rich tables), `report_json` (plain dicts for --json), `write_xlsx` (an
Excel workbook with a summary sheet, one sheet per area with its detail rows, and native charts).
Detail rows (every complaint of the period, every overdue item at period end, receivables by project)
are streamed from the database while the workbook is written, so a month with tens of thousands of rows
never sits in memory.

This module is the entry point; the parts live in `csdesk.reporting`: `periods`, `core` (dataclasses and
registries), `definitions`, one module per area (`calls`, `complaints`, `visits`, `adjustments`, `money`,
plus `overdue` and `agents`), and the renderers `terminal`, `jsondata`, `workbook` (number formats in `fmt`).

Periods are named the way people say them — `2026-11-24`, `2026-W48` (ISO week), `2026-11`, `2026-Q4`,
`2026` — and bounded at local midnight in the configured time zone: a call at 23:30 local time on
30 November belongs to November even though it is 15:30 UTC.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Callable

from csdesk.errors import InvalidValue
from csdesk.i18n import _
from csdesk.reporting import definitions  # noqa: F401 — fills FIGURES / BREAKDOWNS
from csdesk.reporting.adjustments import adjustment_details, compute_adjustments, overdue_adjustments_query  # noqa: F401
from csdesk.reporting.agents import AGENT_COLUMNS, agent_table  # noqa: F401
from csdesk.reporting.calls import compute_calls
from csdesk.reporting.complaints import compute_complaints, complaint_details, iter_complaint_slas, open_complaints_at  # noqa: F401
from csdesk.reporting.core import (  # noqa: F401
    BREAKDOWNS, DETAILS, FIGURES, AreaData, AreaInfo, Breakdown, BreakdownDef, BreakdownRow, Detail, FigureValue, PeriodInfo,
    Report, Window, _change, _local_text, main_phones, rate, speaking,
)
from csdesk.reporting.definitions import AREAS
from csdesk.reporting.helper import HelperFailed, ReportHelper, fell_back  # noqa: F401 — ReportHelper: the commands start one
from csdesk.reporting.fmt import change_ratio, fmt_change, fmt_value  # noqa: F401
from csdesk.reporting.jsondata import report_json  # noqa: F401
from csdesk.reporting.money import compute_money, money_details  # noqa: F401
from csdesk.reporting.overdue import overdue_details
from csdesk.reporting.qa import compute_qa
from csdesk.reporting.periods import (  # noqa: F401
    KIND_LABELS, KINDS, Period, last_complete_period, parse_period, period_of, previous_period,
)
from csdesk.reporting.terminal import render_terminal  # noqa: F401
from csdesk.reporting.visits import _average_score, compute_visits, overdue_visits_query, visit_details  # noqa: F401
from csdesk.reporting.workbook import detail_sheets, workbook_sheets

# Areas in report order: (key, compute(desk, window, computed_so_far) -> AreaData). An area whose tables or
# rules have not landed says so through compute.missing() -> reason, and its sheet says it honestly.
AREA_COMPUTATIONS: list[tuple[str, Callable]] = [
    ("calls", compute_calls),
    ("complaints", compute_complaints),
    ("visits", compute_visits),
    ("adjustments", compute_adjustments),
    ("money", compute_money),
    ("qa", compute_qa),
]


def _mask(settings, unmask: bool) -> bool:
    if unmask:
        return False
    try:
        return bool(settings["export.mask_phones"])
    except KeyError:
        return True


def build_report(desk, kind: str, period: str | Period | None = None, *, lang: str | None = None, unmask: bool = False,
                 helper: ReportHelper | None = None) -> Report:
    """The report of `kind` for `period` (a name, a Period, or None for the last complete one).

    `unmask` (phone numbers in full in the detail rows) needs a manager or above. `helper` (ReportHelper
    .start(desk)): the previous period's figures are computed by it, beside this period's.
    """
    from csdesk import i18n

    if lang is None:
        lang = "en" if i18n.is_english() else "zh"
    elif lang not in ("zh", "en"):
        raise InvalidValue(f"unknown language {lang!r} (use zh or en)")
    with speaking(lang):  # every word of the report from the catalogue of its language
        return _build_report(desk, kind, period, lang, unmask, helper)


def _available_areas() -> list[tuple[str, Callable]]:
    return [(key, compute) for key, compute in AREA_COMPUTATIONS if not (hasattr(compute, "missing") and compute.missing())]


def _area_tasks(cur_w: Window, prev_w: Window) -> list[tuple[Window, str]]:
    """Every available area over the period and over the one before, the dearest first; this period's
    complaints are not among them: they are worked out first, in the process that writes their sheet (which
    shows their SLA results)."""
    order = ("complaints", "calls", "visits", "money", "qa", "adjustments")
    keys = sorted((key for key, _compute in _available_areas()), key=lambda k: order.index(k) if k in order else len(order))
    return [(w, key) for key in keys for w in (cur_w, prev_w) if not (key == "complaints" and w is cur_w)]


def _run_area_tasks(desk, tasks: list[tuple[Window, str]], take) -> dict[int, AreaData]:
    """The tasks `take()` hands out (their numbers), each computed on `desk`, until there are none left."""
    computations = dict(AREA_COMPUTATIONS)
    done: dict[int, AreaData] = {}
    while (i := take()) is not None:
        w, key = tasks[i]
        done[i] = computations[key](desk, w, {})
    return done


def _helper_report(context, tasks: list[tuple[Window, str]], frame: Report, keys: list[str]) -> None:
    """The helper's share of a report: area tasks from the first queue until there are none left (sent
    back as one message: ("areas", {task number: AreaData})), then — for a workbook — the sheets named by
    `keys` that it takes from the second queue (xlsx.write_rows_apart: its messages go to write_workbook).
    The sheets need nothing of the figures (`frame` is the report without them), so they are begun while
    this process still works out this period's complaints."""
    from csdesk.xlsx import write_rows_apart

    areas, sheets = context.queues
    with speaking(frame.lang):
        context.send(("areas", _run_area_tasks(context.desk, tasks, areas.take)))
        if keys:
            by_key = {spec.key: spec for spec in detail_sheets(frame, collect_details(context.desk, frame))}
            write_rows_apart([by_key[key] for key in keys], context.scratch, sheets.take, context.send, mask_phones=frame.masked)


def _area_data(desk, cur_w: Window, prev_w: Window, frame: Report, helper: ReportHelper | None):
    """Every available area's figures over this period and over the previous one: ({key: AreaData}, {…}).

    With a helper, it and this process share them out (see _area_tasks; and the helper goes on with the
    workbook's shared sheets when the report is for one: helper.workbook); whatever it could not do is done
    here."""
    tasks = _area_tasks(cur_w, prev_w)
    done: dict[int, AreaData] = {}
    if helper is not None:
        keys = _shared_sheets(desk, frame) if helper.workbook else []
        try:
            areas, sheets = helper.queues
            areas.deal(len(tasks))
            sheets.deal(len(keys))
            helper.call(_helper_report, tasks, frame, keys)
            helper.shared_sheets = keys
        except HelperFailed as exc:
            fell_back(exc)
            helper = None
    cur = {}
    if any(key == "complaints" for key, _compute in _available_areas()):
        cur["complaints"] = compute_complaints(desk, cur_w, {})
    if helper is not None:
        done = _run_area_tasks(desk, tasks, helper.queues[0].take)
        try:
            what, theirs = helper.message()
            if what != "areas":
                raise HelperFailed(f"the helper sent {what!r} where its areas were expected")
            done.update(theirs)
        except HelperFailed as exc:
            fell_back(exc)
            helper.queues[0].drain()  # a helper that failed took its last tasks with it: done below
    old = {}
    for i, (w, key) in enumerate(tasks):
        data = done.get(i)
        if data is None:
            data = dict(AREA_COMPUTATIONS)[key](desk, w, {})
        (cur if w is cur_w else old)[key] = data
    return cur, old


def _build_report(desk, kind: str, period, lang: str, unmask: bool, helper: ReportHelper | None) -> Report:
    if unmask:
        desk.require_rank("manager", _("showing customers' full phone numbers (--unmask)"))
    tz = desk.tz
    p = period if isinstance(period, Period) else parse_period(kind, period, tz, desk.now)
    prev = previous_period(p, tz)
    cur_w = Window(p, min(p.end, desk.now))
    prev_w = Window(prev, min(prev.end, desk.now))
    zh = lang == "zh"

    areas: list[AreaInfo] = []
    for key, compute in AREA_COMPUTATIONS:
        missing = compute.missing() if hasattr(compute, "missing") else None
        areas.append(AreaInfo(key, _(AREAS[key]), not missing, missing or ""))
    title = _("{report}: {period}").format(report=_(KIND_LABELS[kind]), period=p.label())
    to_date = desk.now < p.end
    if to_date:
        title = _("{title} (to {moment})").format(title=title, moment=_local_text(desk.now, tz))
    frame = Report(  # the report without its figures: all that its detail sheets need
        kind=kind, title=title, lang=lang,
        period=PeriodInfo(p.name, p.label(lang), p.first, p.last, p.start, p.end),
        previous=PeriodInfo(prev.name, prev.label(lang), prev.first, prev.last, prev.start, prev.end),
        as_of=cur_w.as_of, to_date=to_date, generated_at=desk.now, masked=_mask(desk.settings, unmask),
        timezone=str(desk.settings["timezone"]),
        areas=areas, figures=[], breakdowns=[],
    )

    figures: list[FigureValue] = []
    breakdowns: list[Breakdown] = []
    done_cur, done_old = _area_data(desk, cur_w, prev_w, frame, helper)
    for area in areas:
        if not area.available:
            continue
        key = area.key
        cur, old = done_cur[key], done_old[key]
        for fkey, fdef in FIGURES.items():
            if fdef.area != key or fkey not in cur.values:
                continue
            v, pv = cur.values[fkey], old.values.get(fkey)
            figures.append(FigureValue(fkey, key, _(fdef.label), fdef.unit, v, pv, _change(fdef.unit, v, pv)))
        for bkey, bdef in BREAKDOWNS.items():
            if bdef.area != key or bkey not in cur.items:
                continue
            breakdowns.append(_breakdown(bdef, cur, old, zh, by_month=kind == "annual"))
    return dataclasses.replace(frame, figures=figures, breakdowns=breakdowns)


def _breakdown(bdef: BreakdownDef, cur: AreaData, old: AreaData, zh: bool, by_month: bool = False) -> Breakdown:
    now_items = cur.items.get(bdef.key, {})
    old_items = old.items.get(bdef.key, {})
    rows: list[BreakdownRow] = []
    if bdef.key.endswith("per_day"):
        # Aligned by position: day 1 beside day 1 of the previous period.
        old_list = list(old_items.items())
        for i, (item, value) in enumerate(now_items.items()):
            prev_item, prev_value = old_list[i] if i < len(old_list) else (None, None)
            rows.append(BreakdownRow(item, item, value, prev_value, _change(bdef.unit, value, prev_value), prev_item))
        names = definitions.BY_MONTH.get(bdef.key) if by_month else None
        if names:
            return Breakdown(bdef.key, bdef.area, _(names[0]), bdef.unit, _(names[1]), rows)
        return Breakdown(bdef.key, bdef.area, _(bdef.label), bdef.unit, _(bdef.item), rows)
    labels = {**old.labels, **cur.labels}
    order = list(now_items) + [k for k in old_items if k not in now_items]
    zero = 0 if bdef.unit in ("count", "money") else None
    for item in order:
        value = now_items.get(item, zero)
        prev_value = old_items.get(item, zero)
        zh_label, en_label = labels.get(item, (item, item))
        rows.append(BreakdownRow(item, zh_label if zh else en_label, value, prev_value, _change(bdef.unit, value, prev_value)))
    return Breakdown(bdef.key, bdef.area, _(bdef.label), bdef.unit, _(bdef.item), rows)


def collect_details(desk, report: Report) -> dict[str, Detail]:
    """The detail-row sources of every available area (their rows are read only when written)."""
    p = period_of(report.kind, report.period.first, desk.tz)
    w = Window(p, report.as_of)
    out = {}
    for a in report.areas:
        if a.available and a.key in DETAILS:
            out[a.key] = DETAILS[a.key](desk, report, w)
    out["overdue"] = overdue_details(desk, report, w)
    return out


# The detail sheets either process may write (when there is a helper), the longest first: each takes the
# next one as it becomes free. The complaints sheet is always written here: its SLA results are worked out
# here, with the figures.
SHARED_SHEETS = ("visits", "money", "overdue", "adjustments", "qa")


def _shared_sheets(desk, report: Report) -> list[str]:
    """The SHARED_SHEETS this report's workbook has (a detail sheet's key is its detail's)."""
    details = collect_details(desk, report)
    return [key for key in SHARED_SHEETS if key in details]


def write_xlsx(desk, report: Report, target, helper: ReportHelper | None = None) -> int:
    """Write the workbook to `target` (a path or a binary file object); returns the number of sheets.

    Must run inside the read transaction that built `report`: detail rows are streamed from it. With the
    `helper` that built it (started with workbook=True), the shared sheets are written by whichever of the
    two processes is free first: the same workbook, sooner.
    """
    from csdesk.xlsx import write_workbook

    with speaking(report.lang):  # the detail rows' words are made while the workbook is written
        specs = workbook_sheets(report, collect_details(desk, report))
        keys = getattr(helper, "shared_sheets", None) if helper is not None else None
        apart = _Apart(helper, keys) if keys else None
        return write_workbook(specs, target, mask_phones=report.masked, apart=apart)


class _Apart:
    """write_workbook's view of the sheets the helper writes."""

    Failed = HelperFailed
    fell_back = staticmethod(fell_back)

    def __init__(self, helper: ReportHelper, keys: list[str]):
        self.helper, self.keys, self.scratch = helper, keys, helper.scratch

    def take(self) -> int | None:
        return self.helper.queues[1].take()

    def messages(self):
        return self.helper.messages()


# ---- the demo's workbook ---------------------------------------------------------------------------------------


def demo_workbook(database, settings, now: datetime) -> list[str]:
    """`csdesk demo` ends here: the monthly workbook (this month to date, or last month early in a month)
    written next to the database, and a line saying where it is."""
    from pathlib import Path

    from csdesk.workflows import Desk

    tz = settings.tz
    today = now.astimezone(tz).date()
    period = period_of("monthly", today, tz) if today.day >= 8 else last_complete_period("monthly", tz, now)
    folder = database.target.path.parent if database.target.path is not None else Path.cwd()
    stem = database.target.path.stem if database.target.path is not None else "csdesk-demo"
    target = folder / f"{stem}-report-{period.name}.xlsx"

    def work(session):
        desk = Desk(session=session, settings=settings, now=now, actor=None)
        report = build_report(desk, "monthly", period)
        write_xlsx(desk, report, target)
        return report

    report = database.read(work)
    return ["", _("The monthly report, {title}: {path}").format(title=report.title, path=target),
            "  " + _("(again: {command})").format(
                command=f"csdesk --db {database.target.label} report monthly --period {period.name} --xlsx FILE.xlsx")]
