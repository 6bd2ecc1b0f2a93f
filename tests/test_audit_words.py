"""`csdesk audit` in the interface language (issue 14): each action code and stored field name shows as a
label, Chinese by default and English with --lang en; JSON keeps the codes beside `*_label` fields; a code
with no label (from an older version) shows as stored. Every action code written anywhere in csdesk, and
every field an audit snapshot can hold, has a label: the source is read to find them."""

from __future__ import annotations

import ast
import json
from datetime import timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len

from conftest import NOW
from csdesk.workflows.audit_labels import ACTIONS, FIELDS, action_label, field_label
from test_screens import demo, run  # noqa: F401  (the screens' demo department and its runner)

SOURCE = Path(__file__).resolve().parent.parent / "csdesk"

# Tables whose rows are never written through audit(): their columns need no label.
NOT_AUDITED = {"audit_entry", "notice", "delivery", "digest", "archive_marker", "complaint_event",
               "payment_allocation", "shift_check", "shift_item"}

# The f-string action codes written in csdesk, and how this test resolves each.
MERGED_ROWS = {"complaint", "callback", "callback_series", "project"}  # workflows/merge.py re-points these


def _modules():
    for path in sorted(SOURCE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _parents(tree):
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _enclosing_function(node, parents):
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
    return None


def _strings(node) -> set[str]:
    """The string constants an expression can take (`"a"`, `"a" if x else "b"`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return set()


def _assigned(function, name: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found |= _strings(node.value)
    return found


def _calls_of(function_name: str, position: int) -> set[str]:
    """The constant values passed at `position` to every call of `function_name` in csdesk."""
    found: set[str] = set()
    for _path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function_name:
                if len(node.args) > position:
                    values = _strings(node.args[position])
                    assert values, f"{function_name}() called with an action that is not a constant: {ast.unparse(node)}"
                    found |= values
    return found


def _is_audit_call(node) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return name == "audit" and len(node.args) >= 2


def written_actions() -> dict[str, str]:
    """Every action code csdesk writes, with where it is written."""
    codes: dict[str, str] = {}
    for path, tree in _modules():
        parents = _parents(tree)
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(SOURCE.parent)}:{node.lineno}"
            if _is_audit_call(node):
                arg = node.args[1]
                function = _enclosing_function(node, parents)
                if _strings(arg):
                    values = _strings(arg)
                elif isinstance(arg, ast.Name):
                    values = _assigned(function, arg.id)
                elif isinstance(arg, ast.JoinedStr) and ast.unparse(arg) == "f'complaint.{action}'":
                    position = [a.arg for a in function.args.args].index("action")
                    values = {f"complaint.{v}" for v in _calls_of(function.name, position)}
                elif isinstance(arg, ast.JoinedStr) and ast.unparse(arg) == "f'{row.__tablename__}.merge'":
                    values = {f"{table}.merge" for table in MERGED_ROWS}
                else:
                    values = set()
                assert values, f"{where}: teach this test how to read the action code {ast.unparse(arg)}"
                codes.update({v: where for v in values})
            elif isinstance(node.func, ast.Name) and node.func.id == "AuditEntry" and \
                    getattr(_enclosing_function(node, parents), "name", None) != "audit":  # audit() itself: its callers
                for kw in node.keywords:
                    if kw.arg == "action":
                        value = constants.get(kw.value.id) if isinstance(kw.value, ast.Name) else next(iter(_strings(kw.value)), None)
                        assert value, f"{where}: teach this test how to read the action code {ast.unparse(kw.value)}"
                        codes[value] = where
    return codes


def snapshot_extras() -> set[str]:
    """Fields some writes add to a snapshot: keys of `after={…}` dicts and `after["x"] = …`."""
    keys: set[str] = set()
    for _path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_audit_call(node):
                for kw in node.keywords:
                    if kw.arg in ("after", "before") and isinstance(kw.value, ast.Dict):
                        keys |= {k.value for k in kw.value.keys if isinstance(k, ast.Constant)}
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if (isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == "after"
                            and isinstance(t.slice, ast.Constant)):
                        keys.add(t.slice.value)
    return keys


def test_the_source_reading_finds_the_codes_it_should():
    codes = written_actions()
    # one of each way a code is written: a constant, a variable, the complaint f-string, a merge, the demo mark
    for code in ("call.edit", "callback.no_answer", "complaint.escalate", "complaint.owner", "project.merge", "demo.build"):
        assert code in codes
    assert len(codes) > 70


def test_every_action_code_written_has_a_label():
    missing = {code: where for code, where in written_actions().items() if code not in ACTIONS}
    assert not missing, f"action codes without a label in workflows/audit_labels.py: {missing}"


def test_every_field_an_audit_row_can_hold_has_a_label():
    from sqlmodel import SQLModel

    import csdesk.models  # noqa: F401

    fields = set(snapshot_extras())
    for name, table in SQLModel.metadata.tables.items():
        if name not in NOT_AUDITED:
            fields |= {c.name for c in table.columns}
    assert {"resolution_due", "checks", "allocations", "phones_added"} <= fields
    missing = sorted(fields - set(FIELDS))
    assert not missing, f"fields without a label in workflows/audit_labels.py: {missing}"


def test_labels_are_distinct_and_translated():
    from csdesk import i18n

    assert len(set(ACTIONS.values())) == len(ACTIONS)
    assert len(set(FIELDS.values())) == len(FIELDS)
    try:
        i18n.set_language("zh")
        assert action_label("complaint.escalate") == "投诉已升级"
        assert field_label("resolution_due") == "解决期限"
        untranslated = [m for m in [*ACTIONS.values(), *FIELDS.values()] if i18n._(m) == m and m != "SHA-256"]
        assert not untranslated
        assert action_label("ticket.frobnicate") == "ticket.frobnicate" and field_label("legacy") == "legacy"
    finally:
        i18n.set_language("en")
    assert action_label("complaint.escalate") == "complaint escalated"


@pytest.fixture
def history(team):
    from csdesk.workflows.customers import add_customer, edit_customer

    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", ["13812345678"], tier="vip")
    with team.desk(as_="李娜", now=NOW + timedelta(hours=1)) as desk:
        edit_customer(desk, "C000001", tier="key")
    return team


def _old_entry(db) -> None:
    """A row as an older version wrote it: an action and a field this version has no label for."""
    from csdesk.models import AuditEntry

    with db.desk(as_="王芳") as desk:
        desk.session.add(AuditEntry(at=desk.now, actor="王芳", action="ticket.frobnicate", entity="customer", entity_id=1,
                                    before=json.dumps({"legacy_flag": 1}), after=json.dumps({"legacy_flag": 2})))


def test_audit_table_in_chinese_by_default(cli, history):
    _old_entry(history)
    result = cli("--lang", "zh", "audit", "--entity", "customer")
    assert result.exit_code == 0, result.stderr
    assert "修改客户" in result.stdout and "新增客户" in result.stdout
    assert "客户等级: vip → key" in result.stdout
    assert "customer.edit" not in result.stdout and "tier:" not in result.stdout
    assert "ticket.frobnicate" in result.stdout and "legacy_flag: 1 → 2" in result.stdout  # unknown: as stored


def test_audit_table_in_english(cli, history):
    result = cli("--lang", "en", "audit", "--entity", "customer")
    assert result.exit_code == 0, result.stderr
    assert "customer edited" in result.stdout and "customer added" in result.stdout
    assert "tier: vip → key" in result.stdout and "修改客户" not in result.stdout


@pytest.mark.parametrize("lang, edited, tier", [("zh", "修改客户", "客户等级"), ("en", "customer edited", "tier")])
def test_audit_json_keeps_codes_beside_labels(cli, history, lang, edited, tier):
    result = cli("--lang", lang, "--json", "audit", "--entity", "customer:1")
    assert result.exit_code == 0, result.stderr
    edit, add = json.loads(result.stdout)["items"]
    assert (edit["action"], edit["action_label"]) == ("customer.edit", edited)
    assert {"field": "tier", "field_label": tier, "before": "vip", "after": "key"} in edit["changes"]
    assert edit["before"]["tier"] == "vip"  # the stored snapshot is still there as it was
    assert add["action"] == "customer.add"
    assert {"field": "code", "field_label": "编号" if lang == "zh" else "code", "before": None, "after": "C000001"} in add["changes"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("entity", [None, "callback_series", "complaint", "project"])
def test_audit_screens_fit(demo, lang, columns, entity):
    args = ["audit", "--limit", "30"] + (["--entity", entity] if entity else [])
    result = run(demo, *args, columns=columns, lang=lang)
    assert result.exit_code == 0, result.output
    data = json.loads(run(demo, *args, "--json", columns=columns, lang=lang).stdout)["items"]
    assert data
    for line in result.stdout.splitlines():
        assert cell_len(line) <= columns, f"wider than {columns}: {line!r}"
    for row in data:
        assert str(row["id"]) in result.stdout  # ids are never cut
        assert row["action_label"] in result.stdout  # the action shows whole, in the language
        assert row["action_label"] != row["action"]
