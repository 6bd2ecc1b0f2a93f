"""The direction of use between the areas of csdesk/workflows (issue 13, "Structure").

The per-area modules (the families below) do not import one another's modules; what crosses areas lives
in modules above them (customer_card.py, handover.py, merge.py, visit_loop.py, call_intake.py …) that call each area
directly, and the read helpers every area uses live below them (lookup.py). The edges that remain are
listed in ALLOWED, each with its reason: the test fails on a new edge AND on a listed edge that has gone,
so the list can only shrink. No workflow module is over 600 lines without a reason in its first lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import csdesk.workflows

WORKFLOWS = Path(csdesk.workflows.__file__).parent
LIMIT = 600
REASON = "# Over 600 lines because"


# Modules whose name looks like an area's but that sit above the areas: project_screen.py is the one-screen
# project view (the project with its money, visits and complaints), calling projects and payments directly.
ABOVE = {"project_screen"}


def family(module: str) -> str | None:
    """The area a workflow module belongs to, or None for a module above or below the areas."""
    if module == "calls":
        return "calls"
    if module == "complaints" or module.startswith("complaint_"):
        return "complaints"
    if module == "callbacks" or module.startswith("callback_"):
        return "callbacks"
    if module in ABOVE:
        return None
    if module.startswith("project") or module == "adjustments":  # projects, project_*
        return "projects"
    if module.startswith("payment") or module in ("dunning", "aging"):  # payments, payment_plans, payments_received
        return "payments"
    if module in ("staff", "customers"):
        return module
    return None


def imported_workflows(source: str) -> set[str]:
    """The csdesk.workflows modules a source imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("csdesk.workflows."):
                found.add(node.module.split(".")[2])
            elif node.module == "csdesk.workflows":  # from csdesk.workflows import complaints, Desk
                found.update(a.name for a in node.names if (WORKFLOWS / f"{a.name}.py").exists())
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[2] for a in node.names if a.name.startswith("csdesk.workflows."))
    return found


def graph() -> dict[str, set[str]]:
    return {p.stem: imported_workflows(p.read_text(encoding="utf-8")) - {p.stem}
            for p in sorted(WORKFLOWS.glob("*.py")) if p.stem != "__init__"}


def cross_area_edges() -> set[tuple[str, str]]:
    return {(m, t) for m, targets in graph().items() for t in targets
            if family(m) and family(t) and family(m) != family(t)}


# The edges between areas that remain, (importer, imported), with the reason. None remain: keep it so —
# never add one without moving the crossing above the areas (or below them, into lookup.py) first.
ALLOWED: set[tuple[str, str]] = set()


def test_the_graph_sees_top_level_and_function_level_imports():
    source = (
        "from csdesk.workflows import Desk, complaints\n"
        "from csdesk.workflows.staff import find_staff\n"
        "def f():\n"
        "    from csdesk.workflows.callbacks import list_callbacks\n"
        "    import csdesk.workflows.projects\n"
    )
    assert imported_workflows(source) == {"complaints", "staff", "callbacks", "projects"}
    assert family("complaint_queries") == "complaints" and family("payments_received") == "payments"
    assert family("customer_card") is None and family("lookup") is None and family("handover") is None
    assert family("project_screen") is None and family("project_labels") == "projects"


def test_areas_import_no_other_area_beyond_the_allowed_edges():
    edges = cross_area_edges()
    new = sorted(edges - ALLOWED)
    assert not new, f"areas importing one another (move the crossing above the areas): {new}"
    gone = sorted(ALLOWED - edges)
    assert not gone, f"allowed edges that no longer exist: remove them from ALLOWED: {gone}"


def test_the_lookup_layer_is_below_every_area():
    assert not {t for t in graph()["lookup"] if family(t)}


def test_customers_and_staff_import_no_area():
    """The customer card (customer_card.py) and the open work that blocks deactivation (handover.py) are
    built above the areas; customers.py and staff.py use only the lookups below them."""
    g = graph()
    for module in ("customers", "staff"):
        assert not {t for t in g[module] if family(t) and family(t) != module}, module
    assert {"complaint_queries", "callback_stats", "project_screen", "dunning"} <= g["customer_card"]
    assert {"complaint_queries", "callback_stats", "project_screen"} <= g["handover"]


def test_no_workflow_module_over_600_lines_without_a_reason():
    long = []
    for path in sorted(WORKFLOWS.glob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > LIMIT and not any(line.startswith(REASON) for line in lines[:5]):
            long.append(f"{path.name} ({len(lines)} lines)")
    assert not long, f"over {LIMIT} lines without '{REASON} …' in the first lines: {long}"
