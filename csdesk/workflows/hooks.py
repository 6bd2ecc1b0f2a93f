"""Events one area raises and another acts on, without importing each other at the top.

An area raises `fire("project_accepted", desk, project_id=…)`; the callbacks area listens with
`@listen("project_accepted")` and creates the acceptance visit in the same transaction. Listener
modules are imported the first time any event fires (LISTENER_MODULES), so the order of imports
never decides whether a rule runs.

Events (keyword arguments):
- complaint_resolved(complaint_id)      — a complaint was resolved: schedule its return visit
- project_handed_over(project_id)       — handover visit; warranty visits
- project_accepted(project_id)          — acceptance visit
- project_dates_changed(project_id)     — signing/handover/acceptance date set or moved: the instalments'
  due dates follow (payment_plans.py)
- project_stage_changed(project_id)     — accepted or resumed: a paid-up plan settles it (payment_plans.py)
- complaint_reopened / complaint_voided / complaint_moved (complaint_id, …) — its callbacks follow
  (answered by visit_loop.py, the loop above the complaints and callbacks areas)

Queries one area answers for another (`ask(name, …)` returns the first listener's answer, or None):
- satisfied_visit(session, complaint_id) -> callback id of a reached-and-satisfied return visit, or None
- complaint_visit_reached(desk, callback) -> what a reached complaint visit did to its complaint (a line)
- project_visits(session, project_id) -> list of dicts (one per visit of that project: due, purpose,
  status, outcome …; keys become columns) for `project show`, or None
- project_complaints(session, project_id) -> list of dicts (one per complaint about that project) for
  `project show`, or None
- project_header(desk, project) -> the project's header (ProjectInfo, with its money summary) for the plan
  view of `payment plan` (answered by projects.py: the payments area never imports projects)
"""

from __future__ import annotations

from collections import defaultdict
from importlib import import_module
from typing import Any, Callable

LISTENER_MODULES = [
    "csdesk.workflows.callbacks",
    "csdesk.workflows.complaints",
    "csdesk.workflows.visit_loop",  # the complaint ↔ return-visit loop, above both areas
    "csdesk.workflows.payment_plans",  # a project's dates and stage move its instalments
    "csdesk.workflows.projects",  # a project's header for the plan view
]
_listeners: dict[str, list[Callable[..., Any]]] = defaultdict(list)
_loaded = False


def listen(event: str):
    def deco(fn):
        if fn not in _listeners[event]:
            _listeners[event].append(fn)
        return fn

    return deco


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for name in LISTENER_MODULES:
            import_module(name)


def fire(event: str, desk, **kwargs) -> list[Any]:
    _load()
    return [fn(desk, **kwargs) for fn in _listeners[event]]


def ask(event: str, *args, **kwargs) -> Any:
    _load()
    for fn in _listeners[event]:
        answer = fn(*args, **kwargs)
        if answer is not None:
            return answer
    return None
