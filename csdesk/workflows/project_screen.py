"""One project on one screen: its details with its adjustments, instalments, payments, dunning, and the
visits and complaints about it. Above the areas it reads: projects, adjustments and the money modules
directly; the visits and complaints through the hooks those areas answer (`project_visits`,
`project_complaints`), so that projects never import callbacks or complaints.

Also what screens above the areas show of projects: a customer's projects on the customer card
(customer_card.py) and the count of a person's unsettled projects (handover.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import func, select

from csdesk.i18n import N_, _
from csdesk.models import Adjustment, Project
from csdesk.workflows import Desk
from csdesk.workflows.adjustments import AdjustmentInfo, _adjustment_info
from csdesk.workflows.projects import ProjectInfo, _info, _infos, find_project


@dataclass
class ProjectView:
    project: ProjectInfo
    adjustments: list[AdjustmentInfo]
    instalments: list[Any]  # payments.InstalmentInfo
    payments: list[Any]  # payments.PaymentInfo
    dunning: list[Any]  # payments.StepInfo
    next_steps: list[Any]  # payments.DueStep: dunning steps due now
    visits: list[dict[str, Any]] = field(default_factory=list)
    complaints: list[dict[str, Any]] = field(default_factory=list)


def project_view(desk: Desk, code: str) -> ProjectView:
    """Everything about one project on one screen: a handful of indexed queries."""
    from csdesk.workflows import hooks
    from csdesk.workflows.dunning import collection_history, project_due_steps
    from csdesk.workflows.payment_plans import instalment_infos
    from csdesk.workflows.payments_received import payment_infos

    session = desk.session
    project = find_project(session, code)
    info = _info(desk, project)
    adjustments = [_adjustment_info(desk, a, project) for a in session.exec(
        select(Adjustment).where(Adjustment.project_id == project.id).order_by(Adjustment.id)).all()]
    visits = hooks.ask("project_visits", session, project.id) or []
    complaints = hooks.ask("project_complaints", session, project.id) or []
    return ProjectView(
        info, adjustments, instalment_infos(desk, project), payment_infos(desk, project), collection_history(desk, project),
        project_due_steps(desk, project), list(visits), list(complaints),
    )


# --- what other screens show --------------------------------------------------------------------


def open_projects_of(session, staff_id: int) -> int:
    """How many projects the person owns that are not yet settled (they block deactivation: handover.py)."""
    return session.exec(
        select(func.count()).select_from(Project).where(
            Project.owner_id == staff_id, Project.stage.not_in(("settled", "archived"))
        )
    ).one()


def customer_projects(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
    rows = session.exec(select(Project).where(Project.customer_id == customer_id).order_by(Project.id.desc()).limit(20)).all()
    out = []
    for p in _infos(desk, rows):
        out.append({
            # Keys are the JSON contract; N_ puts them in the catalogue for the card's column headers.
            N_("code"): p.code, N_("name"): p.name, N_("stage"): p.stage_label, N_("owner"): p.owner,
            N_("contract"): p.contract, N_("paid"): p.paid, N_("outstanding"): p.outstanding, N_("overdue"): p.overdue,
            N_("open adjustments"): p.open_adjustments,
            N_("warranty"): "" if p.in_warranty is None else (
                _("in warranty to {day}").format(day=p.warranty_end) if p.in_warranty else _("ended {day}").format(day=p.warranty_end)),
        })
    return out
