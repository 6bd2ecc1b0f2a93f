"""Calls: totals, first-contact resolution, per day and by kind, channel, direction and agent."""

from __future__ import annotations

from csdesk.i18n import N_, _
from datetime import date

from csdesk.reporting.core import AREA_CHARTS, SHEET_BLOCKS, AreaData, Window, _staff_names, rate
from csdesk.reporting.periods import _local_midnight

SHEET_BLOCKS["calls"] = [("calls.by_kind", None), ("calls.by_channel", None), ("calls.by_direction", None), ("calls.by_agent", None)]
AREA_CHARTS["calls"] = [("main", "line", N_("Calls per day"), [1, 3], False)]


def _day_buckets(w: Window, tz):
    """Bucket bounds for the per-day series: local days (or months in an annual report)."""
    p = w.period
    if p.kind == "annual":
        firsts = [date(p.first.year, m, 1) for m in range(1, 13)]
        names = [f"{d.year}-{d.month:02d}" for d in firsts]
    else:
        firsts = p.days
        names = [d.isoformat() for d in firsts]
    bounds = [_local_midnight(d, tz) for d in firsts[1:]]
    return names, bounds


def compute_calls(desk, w: Window, _computed) -> AreaData:
    from sqlalchemy import and_, bindparam, case, func, select

    from csdesk.models import Call
    from csdesk.workflows.calls import CHANNELS, DIRECTIONS, KINDS

    session, tz = desk.session, desk.tz
    c = Call.__table__.c
    data = AreaData()
    names = _staff_names(session)
    bucket_names, bounds = _day_buckets(w, tz)
    starts = [w.start, *bounds]
    # A day that had not begun by the end of the report (a period still running) has no figure, not a zero.
    per_day = {name: (0 if begins < w.as_of else None) for name, begins in zip(bucket_names, starts)}
    # The calls by kind, channel, direction and agent are counted one day (month) at a time, over its range of the
    # `at` index, and the day's count is their sum: one pass over the period's calls gives both. (SQLite's GROUP BY
    # sorts the rows it groups: a year's in one go cost more than a month's twelve times over, and counting the
    # days on their own was a second pass; a GROUP BY over a CASE of the day cost five times as much.)
    fcr = func.sum(case((and_(c.direction == "in", c.first_contact_resolved), 1), else_=0))
    one_day = (select(c.kind, c.channel, c.direction, c.agent_id, func.count(), fcr)
               .where(c.at >= bindparam("begins"), c.at < bindparam("ends"), c.voided_at.is_(None))  # a voided call counts nowhere
               .group_by(c.kind, c.channel, c.direction, c.agent_id))
    groups: dict[tuple, list[int]] = {}
    for name, begins, ends in zip(bucket_names, starts, [*bounds, w.end]):
        count = 0
        for kind, channel, direction, agent_id, n, resolved in session.execute(one_day, {"begins": begins, "ends": ends}):
            count += n
            sums = groups.setdefault((kind, channel, direction, agent_id), [0, 0])
            sums[0] += n
            sums[1] += resolved or 0
        if count:
            per_day[name] = count
    data.items["calls.per_day"] = per_day
    # In the order one GROUP BY over the period gave them in SQLite (by kind, channel, direction, then agent with
    # nobody first): labels and items not known to the calls area are listed as before.
    rows = [(*key, n, resolved) for key, (n, resolved) in
            sorted(groups.items(), key=lambda kv: (kv[0][:3], kv[0][3] is not None, kv[0][3] or 0))]
    by_kind = {k: 0 for k in KINDS}
    by_channel: dict[str, int] = {k: 0 for k in CHANNELS}
    by_direction = {k: 0 for k in DIRECTIONS}
    by_agent: dict[str, int] = {}
    total = fcr_count = 0
    for kind, channel, direction, agent_id, count, resolved in rows:
        total += count
        fcr_count += resolved or 0
        by_kind[kind] = by_kind.get(kind, 0) + count
        by_channel[channel] = by_channel.get(channel, 0) + count
        by_direction[direction] = by_direction.get(direction, 0) + count
        agent = names.get(agent_id, "—") if agent_id is not None else "—"
        by_agent[agent] = by_agent.get(agent, 0) + count
    data.values["calls.total"] = total
    data.values["calls.inbound"] = by_direction.get("in", 0)
    data.values["calls.outbound"] = by_direction.get("out", 0)
    data.values["calls.fcr_rate"] = rate(fcr_count, by_direction.get("in", 0))
    data.items["calls.by_kind"] = by_kind
    data.items["calls.by_channel"] = by_channel
    data.items["calls.by_direction"] = by_direction
    data.items["calls.by_agent"] = dict(sorted(by_agent.items(), key=lambda kv: (-kv[1], kv[0])))
    for choices in (KINDS, CHANNELS, DIRECTIONS):
        for key, label in choices.items():
            data.labels.setdefault(key, (label, key))
    for name in by_agent:
        data.labels[name] = (name, name)
    return data
