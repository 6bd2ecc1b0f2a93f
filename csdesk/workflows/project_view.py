"""One project on one screen: its details with its adjustments, instalments, payments, dunning, and the
visits and complaints about it. Above the areas it reads: projects, adjustments and the money modules
directly; the visits and complaints through the hooks those areas answer (`project_visits`,
`project_complaints`), so that projects never import callbacks or complaints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from csdesk.models import Adjustment
from csdesk.workflows import Desk
from csdesk.workflows.adjustments import AdjustmentInfo, _adjustment_info
from csdesk.workflows.projects import ProjectInfo, _info, find_project


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
