"""Adjustments (调整/整改): opened, done, accepted, rejected, overdue at period end; detail rows."""

from __future__ import annotations

from csdesk.i18n import N_, _
from datetime import datetime

from csdesk.reporting.core import (
    DETAILS, SHEET_BLOCKS, AreaData, Detail, Report, Window, _naive_local, _phone_shown, _projects_missing, _staff_names,
    end_day, main_phones,
)

SHEET_BLOCKS["adjustments"] = [("adjustments.by_responsible", None)]


def _adjustment_state_at(at: datetime):
    """The last status-changing audit action of each adjustment before `at` (a correlated subquery)."""
    from sqlalchemy import select

    from csdesk.models import Adjustment, AuditEntry

    a, au = Adjustment.__table__.c, AuditEntry.__table__.c
    return (
        select(au.action).where(au.entity == "adjustment", au.entity_id == a.id,
                                au.action.in_(("adjustment.add", "adjustment.done", "adjustment.accept", "adjustment.reject")),
                                au.at < at)
        .order_by(au.at.desc(), au.id.desc()).limit(1).scalar_subquery()
    )


def overdue_adjustments_query(desk, w: Window, *columns):
    """Adjustments overdue at the window's end, by the projects area's rule (open or rejected, due before
    the day, project active), with their state at that moment taken from the audit trail."""
    from sqlalchemy import or_, select

    from csdesk.models import Adjustment, Project
    from csdesk.workflows.payments import INACTIVE_STAGES
    from csdesk.workflows.projects import OPEN_ADJUSTMENT

    a, pr = Adjustment.__table__.c, Project.__table__.c
    day = end_day(w, desk.tz)
    return (
        select(*columns).select_from(Adjustment.__table__.join(Project.__table__, pr.id == a.project_id))
        .where(a.created_at < w.as_of, a.due_on < day, pr.stage.not_in(INACTIVE_STAGES),
               or_(a.status.in_(OPEN_ADJUSTMENT), a.done_at >= w.as_of, a.verdict_at >= w.as_of),
               _adjustment_state_at(w.as_of).in_(("adjustment.add", "adjustment.reject")))
    )


def compute_adjustments(desk, w: Window, _done) -> AreaData:
    from sqlalchemy import and_, func, select

    from csdesk.models import Adjustment, AuditEntry
    from csdesk.workflows.projects import RESPONSIBLE_LABELS

    session = desk.session
    a, au = Adjustment.__table__.c, AuditEntry.__table__.c
    data = AreaData()
    by_responsible = {k: 0 for k in RESPONSIBLE_LABELS}
    for responsible, count in session.execute(
        select(a.responsible, func.count()).where(a.created_at >= w.start, a.created_at < w.end).group_by(a.responsible)
    ):
        by_responsible[responsible] = by_responsible.get(responsible, 0) + count
    actions = dict(session.execute(
        select(au.action, func.count(func.distinct(au.entity_id)))
        .where(and_(au.entity == "adjustment", au.at >= w.start, au.at < w.end,
                    au.action.in_(("adjustment.done", "adjustment.accept", "adjustment.reject"))))
        .group_by(au.action)
    ).all())
    data.values.update({
        "adjustments.opened": sum(by_responsible.values()),
        "adjustments.done": actions.get("adjustment.done", 0),
        "adjustments.accepted": actions.get("adjustment.accept", 0),
        "adjustments.rejected": actions.get("adjustment.reject", 0),
        "adjustments.overdue_at_end": session.execute(overdue_adjustments_query(desk, w, func.count())).scalar_one(),
    })
    data.items["adjustments.by_responsible"] = by_responsible
    for key, label in RESPONSIBLE_LABELS.items():
        data.labels[key] = (label, key)
    return data


compute_adjustments.missing = _projects_missing


def adjustment_details(desk, report: Report, w: Window) -> Detail:
    """Every adjustment added in the period or overdue at its end."""
    from sqlalchemy import or_, select

    from csdesk.models import Adjustment, Customer, Project
    from csdesk.workflows.projects import ADJUSTMENT_STATUSES, RESPONSIBLE_LABELS

    session, tz = desk.session, desk.tz
    zh = report.lang == "zh"
    a, pr, cu = Adjustment.__table__.c, Project.__table__.c, Customer.__table__.c
    names = _staff_names(session)
    day = end_day(w, tz)
    overdue_ids = select(overdue_adjustments_query(desk, w, a.id).subquery().c[0])
    columns = [(N_("No."), "int"), (N_("Project"), "text"), (N_("Customer"), "text"), (N_("Phone"), "text"),
               (N_("Owner"), "text"), (N_("Work item"), "text"), (N_("Responsible"), "text"),
               (N_("Reported"), "date"), (N_("Due date"), "date"), (N_("Done"), "datetime"),
               (N_("Verdict"), "datetime"), (N_("Rejections"), "int"), (N_("Status now"), "text"),
               (N_("Days overdue at end"), "int"), (N_("In warranty"), "text")]

    def rows():
        overdue = {row[0] for row in session.execute(overdue_ids)}
        query = (select(a.id, pr.code, pr.owner_id, cu.id.label("cid"), cu.name, a.item, a.responsible, a.reported_on, a.due_on,
                        a.done_at, a.verdict_at, a.rejections, a.status, a.in_warranty)
                 .select_from(Adjustment.__table__.join(Project.__table__, pr.id == a.project_id).join(Customer.__table__, cu.id == pr.customer_id))
                 .where(or_(and_created(a, w), a.id.in_(overdue_ids))).order_by(a.reported_on, a.id))
        result = session.execute(query).all()
        phones_of = main_phones(session, [r.cid for r in result])
        for r in result:
            late = (day - r.due_on).days if r.id in overdue else None
            yield (r.id, r.code, r.name or "", _phone_shown(phones_of.get(r.cid), report.masked), names.get(r.owner_id, ""),
                   r.item, RESPONSIBLE_LABELS.get(r.responsible, r.responsible) if zh else r.responsible, r.reported_on, r.due_on,
                   _naive_local(r.done_at, tz), _naive_local(r.verdict_at, tz), r.rejections,
                   ADJUSTMENT_STATUSES.get(r.status, r.status) if zh else r.status, late,
                   _("yes") if r.in_warranty else _("no"))

    return Detail("adjustments", columns, rows, N_("No adjustments added or overdue in this period"))


def and_created(a, w: Window):
    from sqlalchemy import and_

    return and_(a.created_at >= w.start, a.created_at < w.end)


DETAILS["adjustments"] = adjustment_details
