"""Quality checks (质检): calls sampled and scored, average weighted score, share passing, per agent, and the
checklist items that score lowest. The rules (sample, newest score, pass mark) are csdesk.workflows.qa's.

This area registers itself: its figures and breakdowns (with their Chinese definitions), its place in the
workbook (the 质检 sheet: one row per agent, with the agent's lowest item) and its breakdown blocks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from csdesk.reporting.core import DETAILS, SCORE_PLACES, SHEET_BLOCKS, AreaData, Detail, Report, Window, _brk, _fig, _staff_names, rate
from csdesk.i18n import N_
from csdesk.reporting.definitions import AREAS

AREAS["qa"] = N_("Quality checks")

_fig("qa.sampled", N_("Calls sampled"), "count",
     N_("Calls of the period (by the call's time, voided calls left out) drawn into a quality sample (`qa sample`)."))
_fig("qa.scored", N_("Calls scored"), "count", N_("Of those, the calls scored (`qa score`) so far: a period's calls are checked after it ends, so the figure is as it stands when the report is made."))
_fig("qa.avg_score", N_("Average quality score"), "score",
     N_("The mean weighted checklist score (1–5) of the calls scored; a rescored call counts with its newest score."))
_fig("qa.pass_rate", N_("Quality pass rate"), "rate",
     N_("Of the calls scored, the share whose newest score reached the pass mark in force when it was scored (`qa.pass_mark`)."))
_brk("qa.sampled_by_agent", N_("Calls sampled by agent"), "count", N_("Agent"),
     N_("Calls sampled, by the agent who logged them."))
_brk("qa.scored_by_agent", N_("Calls scored by agent"), "count", N_("Agent"),
     N_("Calls scored, by the agent who logged them."))
_brk("qa.score_by_agent", N_("Quality score by agent"), "score", N_("Agent"),
     N_("The mean weighted score of each agent's calls scored."))
_brk("qa.pass_rate_by_agent", N_("Pass rate by agent"), "rate", N_("Agent"),
     N_("The share of each agent's calls scored that passed."))
_brk("qa.item_avg", N_("Average by checklist item"), "score", N_("Checklist item"),
     N_("The mean 1–5 score of each checklist item over the calls scored, lowest first: what to train next."))

SHEET_BLOCKS["qa"] = [("qa.item_avg", None), ("qa.score_by_agent", None), ("qa.pass_rate_by_agent", None)]


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class _AgentQa:
    sampled: int = 0
    scores: list[Decimal] = field(default_factory=list)
    passed: int = 0
    items: dict[str, list[int]] = field(default_factory=dict)


def _collect(desk, w: Window) -> tuple[dict[str, _AgentQa], dict[str, list[int]]]:
    """Per agent name: the period's sampled calls and their newest scores as they stand when the report is
    made (a month's calls are drawn and listened to after the month, so its end is no cut-off here)."""
    session = desk.session
    # The figures and the 质检 sheet read the same sample: collected once per window and read transaction.
    kept = session.info.setdefault("csdesk.reports.qa", {})
    key = (w.start, w.end, desk.now)
    if key not in kept:
        kept[key] = _collect_now(desk, w)
    return kept[key]


def _collect_now(desk, w: Window) -> tuple[dict[str, _AgentQa], dict[str, list[int]]]:
    from sqlalchemy import select

    from csdesk.models import Call, QaSample, QaScore

    session = desk.session
    c, s, q = Call.__table__.c, QaSample.__table__.c, QaScore.__table__.c
    names = _staff_names(session)
    # From the samples to their calls (`IN`, not a join): a join made SQLite walk every call of the period and
    # look each one up in the samples (0.2 s a year), where the samples are few.
    sampled = session.execute(
        select(c.id, c.agent_id).where(c.id.in_(select(s.call_id)), c.at >= w.start, c.at < w.end, c.voided_at.is_(None))
    ).all()
    agent_of = {call_id: names.get(agent_id, "—") if agent_id is not None else "—" for call_id, agent_id in sampled}
    newest: dict[int, tuple] = {}
    ids = sorted(agent_of)
    for i in range(0, len(ids), 500):
        for row in session.execute(select(q.call_id, q["items"].label("checked"), q.weighted, q.passed)
                                   .where(q.call_id.in_(ids[i:i + 500]), q.scored_at <= desk.now).order_by(q.scored_at, q.id)):
            newest[row.call_id] = row
    agents: dict[str, _AgentQa] = {}
    items: dict[str, list[int]] = {}
    for call_id, agent in agent_of.items():
        a = agents.setdefault(agent, _AgentQa())
        a.sampled += 1
        row = newest.get(call_id)
        if row is None:
            continue
        a.scores.append(Decimal(row.weighted) / 100)
        a.passed += bool(row.passed)
        for item, value in json.loads(row.checked).items():
            a.items.setdefault(item, []).append(int(value))
            items.setdefault(item, []).append(int(value))
    return agents, items


def _item_means(items: dict[str, list[int]]) -> dict[str, Decimal]:
    means = {k: _mean([Decimal(v) for v in vs]) for k, vs in items.items() if vs}
    return dict(sorted(means.items(), key=lambda kv: (kv[1], kv[0])))


def compute_qa(desk, w: Window, _computed) -> AreaData:
    agents, items = _collect(desk, w)
    data = AreaData()
    scores = [x for a in agents.values() for x in a.scores]
    data.values["qa.sampled"] = sum(a.sampled for a in agents.values())
    data.values["qa.scored"] = len(scores)
    data.values["qa.avg_score"] = _mean(scores)
    data.values["qa.pass_rate"] = rate(sum(a.passed for a in agents.values()), len(scores))
    order = sorted(agents, key=lambda n: (-agents[n].sampled, n))
    data.items["qa.sampled_by_agent"] = {n: agents[n].sampled for n in order}
    data.items["qa.scored_by_agent"] = {n: len(agents[n].scores) for n in order}
    data.items["qa.score_by_agent"] = {n: _mean(agents[n].scores) for n in order}
    data.items["qa.pass_rate_by_agent"] = {n: rate(agents[n].passed, len(agents[n].scores)) for n in order}
    data.items["qa.item_avg"] = _item_means(items)
    for name in list(order) + list(items):
        data.labels[name] = (name, name)
    return data


def qa_details(desk, report: Report, w: Window) -> Detail:
    """The 质检 sheet: one row per agent — sampled, scored, average score, pass rate, the lowest item."""
    columns = [(N_("Agent"), "text"), (N_("Sampled"), "count"), (N_("Scored"), "count"),
               (N_("Average score"), "score"), (N_("Pass rate"), "rate"),
               (N_("Lowest item"), "text"), (N_("Its average"), "score")]

    def rows():
        agents, _items = _collect(desk, w)
        for name in sorted(agents, key=lambda n: (-agents[n].sampled, n)):
            a = agents[name]
            lowest = next(iter(_item_means(a.items).items()), (None, None))
            yield (name, a.sampled, len(a.scores), _mean(a.scores), rate(a.passed, len(a.scores)), lowest[0] or "", lowest[1])

    return Detail("qa", columns, rows, N_("No calls sampled in this period"))


DETAILS["qa"] = qa_details
