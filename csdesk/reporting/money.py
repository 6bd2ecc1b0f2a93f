"""Money: instalments falling due, collected, collection rate, outstanding and aging at period end, dunning."""

from __future__ import annotations

from csdesk.i18n import N_, _
from datetime import timedelta

from csdesk.reporting.periods import _local_midnight
from csdesk.reporting.core import (
    AREA_CHARTS, DETAILS, SHEET_BLOCKS, AreaData, Detail, Report, Window, _phone_shown, _projects_missing, _staff_names,
    end_day, main_phones, rate,
)

SHEET_BLOCKS["money"] = [("money.aging", None), ("money.dunning_by_step", None)]
AREA_CHARTS["money"] = [("money.aging", "bar", N_("Aging"), [1, 2], False)]
AGING_BUCKETS = [("days_0_30", "0-30", N_("0–30 days")), ("days_31_60", "31-60", N_("31–60 days")),
                 ("days_61_90", "61-90", N_("61–90 days")), ("days_90_plus", "90+", N_("over 90 days"))]


def compute_money(desk, w: Window, _done) -> AreaData:
    from sqlalchemy import and_, func, select

    from csdesk.models import CollectionStep, Instalment, Payment, PaymentAllocation
    from csdesk.money import from_fen
    from csdesk.workflows.payments import STEPS, aging

    session = desk.session
    i, pay, al, cs = Instalment.__table__.c, Payment.__table__.c, PaymentAllocation.__table__.c, CollectionStep.__table__.c
    data = AreaData()
    due_in = and_(i.due_on >= w.period.first, i.due_on <= w.period.last)
    due_count, due_fen = session.execute(select(func.count(), func.coalesce(func.sum(i.amount_fen), 0)).where(due_in)).one()
    collected = session.execute(
        select(func.coalesce(func.sum(pay.amount_fen), 0)).where(pay.received_at >= w.start, pay.received_at < w.end)
    ).scalar_one()
    # From the period's instalments to their allocations (an IN list: the planner would otherwise start from
    # every payment received before the end and look each instalment up).
    paid_of_due = session.execute(
        select(func.coalesce(func.sum(al.amount_fen), 0))
        .select_from(PaymentAllocation.__table__.join(Payment.__table__, pay.id == al.payment_id))
        .where(al.instalment_id.in_(select(i.id).where(due_in)), pay.received_at < w.as_of)
    ).scalar_one()
    steps = {k: 0 for k in STEPS}
    for step, count in session.execute(select(cs.step, func.count()).where(cs.at >= w.start, cs.at < w.end).group_by(cs.step)):
        steps[step] = steps.get(step, 0) + count
    total = aging(desk, as_of=end_day(w, desk.tz)).total
    data.values.update({
        "money.due_count": due_count,
        "money.due_amount": from_fen(int(due_fen)),
        "money.collected": from_fen(int(collected)),
        "money.collection_rate": rate(int(paid_of_due), int(due_fen)),
        "money.outstanding_at_end": total.outstanding,
        "money.overdue_at_end": total.overdue,
        "money.dunning_steps": sum(steps.values()),
    })
    data.items["money.aging"] = {label: getattr(total, attr) for attr, label, _words in AGING_BUCKETS}
    data.items["money.dunning_by_step"] = steps
    for _attr, label, words in AGING_BUCKETS:
        data.labels[label] = (_(words), _(words))  # the label in the report's language either way
    for key, label in STEPS.items():
        data.labels[key] = (label, key)
    return data


compute_money.missing = _projects_missing


def money_details(desk, report: Report, w: Window) -> Detail:
    """Receivables by project at the end of the period: the payments area's aging, one row per project."""
    from sqlalchemy import select

    from csdesk.models import Customer, Project
    from csdesk.workflows.payments import aging
    from csdesk.workflows.projects import STAGES

    session = desk.session
    zh = report.lang == "zh"
    pr, cu = Project.__table__.c, Customer.__table__.c
    names = _staff_names(session)
    columns = [(N_("Project code"), "text"), (N_("Project"), "text"), (N_("Customer"), "text"), (N_("Phone"), "text"),
               (N_("Owner"), "text"), (N_("Stage at end"), "text"), (N_("Contract"), "money"),
               (N_("Not due"), "money"), (N_("0-30 days"), "money"), (N_("31-60 days"), "money"),
               (N_("61-90 days"), "money"), (N_("90+ days"), "money"), (N_("Overdue in all"), "money"),
               (N_("Outstanding in all"), "money")]

    def rows():
        from csdesk.money import from_fen

        day = end_day(w, desk.tz)
        moment = _local_midnight(day + timedelta(days=1), desk.tz)  # the aging's "paid by the end of that day"
        result = aging(desk, as_of=day, by="project", limit=10**9).rows
        for start in range(0, len(result), 500):
            chunk = result[start:start + 500]
            info = {r.code: r for r in session.execute(
                select(pr.id, pr.code, pr.name, pr.stage, pr.handed_over_at, pr.accepted_at, pr.owner_id, pr.contract_fen,
                       cu.id.label("cid"), cu.name.label("customer"))
                .select_from(Project.__table__.join(Customer.__table__, cu.id == pr.customer_id))
                .where(pr.code.in_([r.key for r in chunk])))}
            phones_of = main_phones(session, [x.cid for x in info.values()])
            stages = stages_at(session, list(info.values()), moment)
            for r in chunk:
                p = info.get(r.key)
                stage = stages.get(p.id) if p else None
                yield (r.key, r.label, (p.customer or "") if p else "", _phone_shown(phones_of.get(p.cid), report.masked) if p else "",
                       names.get(p.owner_id, "") if p else "", (STAGES.get(stage, stage) if zh else stage) if p else "",
                       from_fen(p.contract_fen) if p else None, r.not_due, r.days_0_30, r.days_31_60, r.days_61_90,
                       r.days_90_plus, r.overdue, r.outstanding)

    return Detail("money", columns, rows, N_("Nothing outstanding at the end of the period"))


def stages_at(session, projects, moment) -> dict[int, str]:
    """Each project's stage at `moment` (the same moment as the money beside it), for projects with money
    still outstanding then — so never settled: handed over and accepted from their dates; shelved, resumed
    and archived from the audit trail (without a trail, a shelved or archived project keeps that stage)."""
    from sqlalchemy import select

    from csdesk.models import AuditEntry

    au = AuditEntry.__table__.c
    ids = [p.id for p in projects]
    last: dict[int, str] = {}
    trail: set[int] = set()
    if ids:
        for entity_id, action, at in session.execute(
            select(au.entity_id, au.action, au.at)
            .where(au.entity == "project", au.entity_id.in_(ids), au.action.in_(("project.shelve", "project.resume", "project.archive")))
            .order_by(au.at, au.id)
        ):
            trail.add(entity_id)
            if at < moment:
                last[entity_id] = action
    out = {}
    for p in projects:
        base = ("accepted" if p.accepted_at is not None and p.accepted_at < moment
                else "handed_over" if p.handed_over_at is not None and p.handed_over_at < moment else "signed")
        action = last.get(p.id)
        if action == "project.shelve":
            out[p.id] = "shelved"
        elif action == "project.archive":
            out[p.id] = "archived"
        elif p.id not in trail and p.stage in ("shelved", "archived"):
            out[p.id] = p.stage
        else:
            out[p.id] = base
    return out


DETAILS["money"] = money_details
