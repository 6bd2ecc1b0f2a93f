"""The demo's callbacks and return visits (`csdesk demo`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from csdesk import dates
from csdesk.i18n import _
from csdesk.models import Callback, Customer
from csdesk.workflows import Desk
from csdesk.workflows import visit_rules as vr
from csdesk.workflows.callback_records import RULE_LABELS, STATUSES, UTC, _complaint_model, _settings
from csdesk.workflows.callback_rules import generate_periodic_visits
from csdesk.workflows.callbacks import record_attempt, schedule_callback


# --- demo ---------------------------------------------------------------------------------------

_DEMO_NOTES = {
    True: ["维修后无渗漏，客户满意", "客户表示处理及时", "客户对师傅态度很满意", "回访满意，无其他问题", "客户确认已修复"],
    False: ["客户反映问题仍未解决，裂缝又出现了", "客户不满意处理速度", "客户认为赔偿不到位"],
}


def demo_callbacks(desk: Desk, rng, made: dict[str, Any]) -> list[str]:
    """Visits in every state: the rule visits the complaints and projects steps left behind, worked
    through (satisfied, one unsatisfied → its complaint reopened); hand-made promises that were
    reached, not answered twice, missed, a wrong number; a month-end series; the periodic visits."""
    from collections import Counter

    session = desk.session
    now, tz = desk.now, desk.tz
    rules, cal = _settings(desk)
    staff = made.get("staff") or {}
    names = {a.id: a for a in staff.values()}
    fallback = staff.get("王芳") or desk.actor

    def as_(who_id, when):
        who = names.get(who_id) or fallback
        return dataclasses.replace(desk, now=when, actor=who)

    # 1. Rule visits that came due more than a day ago: mostly reached and satisfied.
    unsatisfied_done = False
    old = session.exec(select(Callback).where(Callback.status == "pending", Callback.due_at < now - timedelta(days=1))
                       .order_by(Callback.due_at, Callback.id)).all()
    for cb in old:
        when = min(max(cb.due_at, cb.created_at or cb.due_at) + timedelta(minutes=rng.randint(5, 90)), now - timedelta(minutes=1))
        d = as_(cb.assignee_id, when)
        if cb.purpose == "complaint-visit":
            model = _complaint_model()
            status = desk.session.get(model, cb.complaint_id).status if model else None
            if status == "resolved" and not unsatisfied_done:
                record_attempt(d, cb.id, "reached", satisfied=False, score=2, note=_DEMO_NOTES[False][0])
                unsatisfied_done = True
                continue
        happy = rng.random() < 0.85
        record_attempt(d, cb.id, "reached", satisfied=happy, score=rng.choice((4, 5, 5)) if happy else rng.choice((2, 3)),
                       note=rng.choice(_DEMO_NOTES[happy]))

    # 2. Hand-made promises on the last working days, in every state.
    customers = made.get("customers") or list(session.exec(select(Customer.id).order_by(Customer.id).limit(50)).all())
    if not customers:
        return ["  callbacks:  (no customers to call)"]
    picked = rng.sample(customers, min(6, len(customers)))
    workdays = []
    day = now.astimezone(tz).date() - timedelta(days=1)
    while len(workdays) < 3:
        if cal.is_workday(day):
            workdays.append(day)
        day -= timedelta(days=1)
    agent = staff.get("王芳") or fallback

    def moment(d, h, m=0):
        return datetime.combine(d, time(h, m)).replace(tzinfo=tz).astimezone(UTC)

    def promise(customer_id, day, note, due_h=10, due_m=30):
        d = dataclasses.replace(desk, now=moment(day, 9), actor=agent)
        cust = session.get(Customer, customer_id)
        return schedule_callback(d, moment(day, due_h, due_m), customer=cust.code, note=note).callbacks[0]

    reached = promise(picked[0], workdays[0], "报价确认后回电", 11, 0)
    record_attempt(dataclasses.replace(desk, now=moment(workdays[0], 11, 5), actor=agent), reached.id, "reached",
                   satisfied=True, score=5, note="客户接受报价，约周末上门")
    twice = promise(picked[1], workdays[0], "确认上门维修时间")
    r = record_attempt(dataclasses.replace(desk, now=moment(workdays[0], 10, 30), actor=agent), twice.id, "no_answer")
    record_attempt(dataclasses.replace(desk, now=r.next_due, actor=agent), twice.id, "no_answer", note="关机")
    missed = promise(picked[2], workdays[2], "通知验收时间")
    at = moment(workdays[2], 10, 30)
    for _ in range(rules.max_attempts):
        r = record_attempt(dataclasses.replace(desk, now=at, actor=agent), missed.id, "no_answer")
        at = r.next_due or at
    wrong = promise(picked[3], workdays[1], "核对发票抬头")
    record_attempt(dataclasses.replace(desk, now=moment(workdays[1], 10, 40), actor=agent), wrong.id, "wrong_number", note="空号")
    later = schedule_callback(dataclasses.replace(desk, actor=agent), vr.next_business_moment(cal, now + timedelta(hours=2)),
                              customer=session.get(Customer, picked[4]).code,
                              note="客户要求下午回电确认材料颜色")

    # 3. A quarterly series from the end of a month (month ends kept: 31st → 30th/28th …).
    month_end = now.astimezone(tz).date().replace(day=1)
    while True:  # the next 31st still ahead
        month_end = (month_end + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if month_end.day == 31 and moment(month_end, 10) > now:
            break
        month_end += timedelta(days=1)
    key_ids = made.get("key_customers") or customers
    series = schedule_callback(
        dataclasses.replace(desk, actor=staff.get("李娜") or desk.actor), moment(month_end, 10),
        customer=session.get(Customer, key_ids[0]).code, every="1 month", count=4, purpose="periodic",
        note="重点客户月度回访")

    # 4. The periodic visits the rules call for (key accounts, VIPs, owners).
    periodic = generate_periodic_visits(desk, now)

    statuses = dict(session.exec(select(Callback.status, func.count()).group_by(Callback.status)).all())
    overdue = session.exec(select(func.count()).select_from(Callback).where(
        Callback.status == "pending", Callback.due_at < now)).one()
    sat = session.exec(select(func.count()).select_from(Callback).where(Callback.satisfied == True)).one()  # noqa: E712
    unsat = session.exec(select(func.count()).select_from(Callback).where(Callback.satisfied == False)).one()  # noqa: E712
    by_rule = Counter(m.rule for m in periodic)
    made["callbacks"] = sum(statuses.values())
    from csdesk.i18n import _
    from csdesk.workflows.callback_records import rule_label, status_label

    return [
        _("  callbacks:  {n} — {statuses}; {overdue} overdue").format(
            n=sum(statuses.values()), statuses=", ".join(f"{status_label(s)} {statuses.get(s, 0)}" for s in STATUSES), overdue=overdue),
        _("              {sat} satisfied, {unsat} unsatisfied; #{twice} not answered twice, #{missed} missed, "
          "#{wrong} wrong number, #{later} upcoming").format(
            sat=sat, unsat=unsat, twice=twice.id, missed=missed.id, wrong=wrong.id, later=later.callbacks[0].id),
        _("              series #{series}: month-end visits {days}; periodic: {periodic}").format(
            series=series.series_id, days=", ".join(dates.fmt(c.due_at, tz)[:10] for c in series.callbacks),
            periodic=", ".join(f"{rule_label(r)} {n}" for r, n in sorted(by_rule.items())) or _("none")),
    ]
