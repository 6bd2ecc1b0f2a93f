"""The customer card (`customer show`, the desk's card, the items after `log-call`): the customer, the
latest calls, and one section from each area. It sits above the areas and calls each area's section
function directly, in the card's order; the areas do not know about the card (tests/test_structure.py).
A new section is one line in SECTIONS."""

from __future__ import annotations

from typing import Any

from sqlmodel import func, select

from csdesk.i18n import N_, _
from csdesk.models import Call, Staff
from csdesk.workflows import Desk
from csdesk.workflows.calls import call_info
from csdesk.workflows.customers import CustomerView, info
from csdesk.workflows.lookup import find_customer

SECTION_TITLES = {
    "complaints": N_("Complaints"), "callbacks": N_("Callbacks"), "projects": N_("Projects"),
    "money_owed": N_("Money owed"), "calls": N_("Latest calls"),
}


def _complaints(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
    from csdesk.workflows.complaint_queries import customer_complaints

    return customer_complaints(session, customer_id, desk)


def _callbacks(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
    from csdesk.workflows.callback_stats import customer_callbacks

    return customer_callbacks(session, customer_id, desk)


def _projects(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
    from csdesk.workflows.project_screen import customer_projects

    return customer_projects(session, customer_id, desk)


def _money_owed(session, customer_id: int, desk: Desk) -> list[dict[str, Any]]:
    from csdesk.workflows.dunning import owed_by_customer

    return owed_by_customer(desk, customer_id)


# The card's sections in order: stable English key (JSON, the desk) → function(session, customer_id, desk) -> rows.
SECTIONS = {"complaints": _complaints, "callbacks": _callbacks, "projects": _projects, "money_owed": _money_owed}


def section_title(key: str) -> str:
    """A card section's title in the interface language ("calls" included)."""
    title = SECTION_TITLES.get(key)
    return _(title) if title else key


def open_items(desk: Desk, customer_id: int, sections: tuple[str, ...] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The sections that have rows, in the card's order; `sections`: only these (the desk's card shows fewer)."""
    out = {}
    for key, fn in SECTIONS.items():
        if sections is not None and key not in sections:
            continue
        rows = fn(desk.session, customer_id, desk)
        if rows:
            out[key] = rows
    return out


def customer_view(desk: Desk, ref: str, calls: int = 10, sections: tuple[str, ...] | None = None,
                  count: bool = True) -> CustomerView:
    """The card; `sections` (keys of SECTIONS): only these are read; `count=False`: the live calls are not
    counted (call_count is then the number of calls returned)."""
    session = desk.session
    customer = find_customer(session, ref)
    live = (Call.customer_id == customer.id, Call.voided_at.is_(None))  # a voided call leaves the card
    rows = session.exec(select(Call).where(*live).order_by(Call.at.desc(), Call.id.desc()).limit(calls)).all()
    count = session.exec(select(func.count()).select_from(Call).where(*live)).one() if count else len(rows)
    agents: dict[int, str] = {}
    for call in rows:
        if call.agent_id and call.agent_id not in agents:
            agents[call.agent_id] = session.get(Staff, call.agent_id).name
    call_rows = [call_info(session, c, customer, agents.get(c.agent_id)) for c in rows]
    return CustomerView(info(session, customer), call_rows, count, open_items(desk, customer.id, sections))
