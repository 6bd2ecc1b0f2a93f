"""Every overdue item at the end of the period, across areas (the workbook's 期末逾期事项 sheet)."""

from __future__ import annotations

from csdesk.i18n import N_, _
from datetime import timedelta
from typing import Any

from csdesk.reporting.adjustments import overdue_adjustments_query
from csdesk.reporting.complaints import _open_at_query
from csdesk.reporting.core import Detail, Report, Window, _naive_local, _phone_shown, _staff_names, end_day, main_phones
from csdesk.reporting.periods import _local_midnight
from csdesk.reporting.visits import overdue_visits_query

def overdue_details(desk, report: Report, w: Window) -> Detail:
    """One list of everything overdue at the end of the period: complaints past a running deadline, callbacks
    past due, adjustments past their due date, instalments unpaid past their due date."""
    from csdesk.xlsx import Typed

    session, tz = desk.session, desk.tz
    zh = report.lang == "zh"
    available = {a.key for a in report.areas if a.available}
    names = _staff_names(session)
    columns = [(N_("Type"), "text"), (N_("Ref"), "text"), (N_("Customer"), "text"), (N_("Phone"), "text"),
               (N_("Owner"), "text"), (N_("Due at"), "datetime"), (N_("Days overdue"), "int"),
               (N_("Amount"), "money"), (N_("Details"), "text")]
    day = end_day(w, tz)


    def customers(ids) -> dict[int, Any]:
        from sqlalchemy import select

        from csdesk.models import Customer

        cu = Customer.__table__.c
        out: dict[int, Any] = {}
        ids = list(set(ids))
        for i in range(0, len(ids), 500):
            out.update({r.id: r for r in session.execute(select(cu.id, cu.code, cu.name).where(cu.id.in_(ids[i:i + 500])))})
        return out

    def who(cid, cmap, pmap):
        c = cmap.get(cid)
        return (f"{c.code} {c.name or ''}".strip() if c else ""), _phone_shown(pmap.get(cid), report.masked)

    def rows():
        from sqlalchemy import and_, func, select

        if "complaints" in available:
            from csdesk.models import ComplaintEvent
            from csdesk.workflows.complaints import calendar, compute_sla, rules

            r, cal = rules(desk.settings), calendar(desk.settings)
            e = ComplaintEvent.__table__.c
            items = session.execute(_open_at_query(w.as_of)).all()
            cmap = customers([x.customer_id for x in items])
            pmap = main_phones(session, [x.customer_id for x in items])
            for start in range(0, len(items), 500):
                chunk = items[start:start + 500]
                events: dict[int, list] = {}
                for ev in session.execute(select(e.complaint_id, e.id, e.at, e.kind, e.from_value, e.to_value, e.verdict)
                                          .where(e.complaint_id.in_([x.id for x in chunk]), e.kind != "note", e.at < w.as_of)):
                    events.setdefault(ev.complaint_id, []).append(ev)
                for x in chunk:
                    sla = compute_sla(events.get(x.id, []), x.severity, w.as_of, cal, r)
                    late = [k for k in (sla.first_response, sla.current) if k.running and k.due is not None and k.due <= w.as_of]
                    if not late:
                        continue
                    k = min(late, key=lambda k: k.due)
                    what = _("complaint: first response overdue") if k.name == "first_response" \
                        else _("complaint: resolution overdue")
                    customer, phone = who(x.customer_id, cmap, pmap)
                    yield (what, f"#{x.id}", customer, phone, names.get(x.assignee_id, ""), Typed(_naive_local(k.due, tz), "datetime"),
                           (w.as_of - k.due).days, None, x.summary)
        if "visits" in available:
            from csdesk.models import Callback
            from csdesk.workflows.callbacks import PURPOSES

            cb = Callback.__table__.c
            items = session.execute(overdue_visits_query(w, cb.id, cb.customer_id, cb.phone, cb.assignee_id, cb.due_at, cb.purpose,
                                                         cb.attempts, cb.note).order_by(cb.due_at, cb.id)).all()
            cmap = customers([x.customer_id for x in items])
            pmap = main_phones(session, [x.customer_id for x in items if not x.phone])
            for x in items:
                customer, _phone = who(x.customer_id, cmap, pmap)
                phone = _phone_shown(x.phone or pmap.get(x.customer_id), report.masked)
                detail = (PURPOSES.get(x.purpose, x.purpose) if zh else x.purpose) + (f" · {x.note}" if x.note else "")
                yield (_("callback overdue"), f"#{x.id}", customer, phone, names.get(x.assignee_id, ""),
                       Typed(_naive_local(x.due_at, tz), "datetime"), (w.as_of - x.due_at).days, None, detail)
        if "adjustments" in available:
            from csdesk.models import Adjustment, Project

            a, pr = Adjustment.__table__.c, Project.__table__.c
            items = session.execute(overdue_adjustments_query(desk, w, a.id, a.item, a.due_on, pr.code, pr.customer_id, pr.owner_id)
                                    .order_by(a.due_on, a.id)).all()
            cmap = customers([x.customer_id for x in items])
            pmap = main_phones(session, [x.customer_id for x in items])
            for x in items:
                customer, phone = who(x.customer_id, cmap, pmap)
                yield (_("adjustment overdue"), f"#{x.id} {x.code}", customer, phone, names.get(x.owner_id, ""),
                       Typed(x.due_on, "date"), (day - x.due_on).days, None, x.item)
        if "money" in available:
            from csdesk.models import Instalment, Payment, PaymentAllocation, Project
            from csdesk.money import from_fen

            i, pay, al, pr = Instalment.__table__.c, Payment.__table__.c, PaymentAllocation.__table__.c, Project.__table__.c
            # Paid as of the end of that day, the way the payments area's aging counts it.
            day_end = _local_midnight(day + timedelta(days=1), tz)
            paid = (select(al.instalment_id.label("iid"), func.sum(al.amount_fen).label("paid"))
                    .select_from(PaymentAllocation.__table__.join(Payment.__table__, pay.id == al.payment_id))
                    .where(pay.received_at < day_end).group_by(al.instalment_id).subquery())
            owed = i.amount_fen - func.coalesce(paid.c.paid, 0)
            items = session.execute(
                select(i.id, i.name, i.due_on, owed.label("owed"), pr.code, pr.customer_id, pr.owner_id)
                .select_from(Instalment.__table__.join(Project.__table__, pr.id == i.project_id).outerjoin(paid, paid.c.iid == i.id))
                .where(and_(i.due_on < day, owed > 0, pr.signed_on <= day)).order_by(i.due_on, i.id)
            ).all()
            cmap = customers([x.customer_id for x in items])
            pmap = main_phones(session, [x.customer_id for x in items])
            for x in items:
                customer, phone = who(x.customer_id, cmap, pmap)
                yield (_("instalment overdue"), f"{x.code} {x.name}", customer, phone, names.get(x.owner_id, ""),
                       Typed(x.due_on, "date"), (day - x.due_on).days, from_fen(int(x.owed)), x.name)

    return Detail("overdue", columns, rows, N_("Nothing overdue at the end of the period"))
