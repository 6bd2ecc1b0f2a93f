"""Every list and show screen reads in an 80-column terminal (issue 14): no id, code, phone number,
amount or date is ever cut. Columns that do not fit are left out whole, named on stderr with `--wide`
to see them; free text is shortened with `…`. Rendered at 80 and at 120 columns on a demo department."""

from __future__ import annotations

import json
import re

import pytest
from rich.cells import cell_len

AGENT = "王芳"
MONEY = re.compile(r"¥-?[\d,]*\.?\d*(?!…)(?![\d.,])")  # an amount inside free text shortened with … is text
WHOLE_MONEY = re.compile(r"¥-?\d{1,3}(,\d{3})*\.\d{2}$")
CODE = re.compile(r"(?<![A-Za-z0-9])([CP])(\d+)(?![\d,.…])")  # a code inside free text shortened with … is text


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from typer.testing import CliRunner

    from csdesk.cli import app

    path = tmp_path_factory.mktemp("screens") / "demo.db"
    result = CliRunner().invoke(app, ["--db", str(path), "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return str(path)


def run(demo, *args, columns=80, lang="en"):
    from typer.testing import CliRunner

    from csdesk.cli import app

    runner = CliRunner()
    env = {"COLUMNS": str(columns), "CSDESK_LANG": lang, "CSDESK_AGENT": AGENT}
    return runner.invoke(app, ["--db", demo, *args], env=env, catch_exceptions=False)


def items_of(data):
    if isinstance(data, dict):
        if isinstance(data.get("items"), list):
            return data["items"]
        lists = [v for v in data.values() if isinstance(v, list)]
        return lists[0] if lists else []
    return data


def first(demo, *args, key="id"):
    result = run(demo, *args, "--json")
    assert result.exit_code == 0, result.output
    found = items_of(json.loads(result.stdout))
    assert found, f"the demo has nothing for {args}"
    return str(found[0][key])


def assert_nothing_cut(text: str, columns: int) -> None:
    for line in text.splitlines():
        # A table's rule under its header is as wide as the table: it fits. A sentence may wrap.
        if "───" in line:
            assert cell_len(line) <= columns, f"line wider than {columns}: {line!r}"
    for amount in MONEY.findall(text):
        if amount != "¥":
            assert WHOLE_MONEY.match(amount), f"amount cut: {amount!r}\n{text}"
    for letter, digits in CODE.findall(text):
        assert len(digits) == 6, f"code cut: {letter}{digits}\n{text}"


# A list, and the key of its items whose value must show whole in the table (None: no JSON list).
LISTS = [
    (("calls", "list", "--limit", "20"), "id"),
    (("customer", "list", "--limit", "20"), "code"),
    (("staff", "list"), "name"),
    (("complaint", "list", "--status", "all"), "id"),
    (("callback", "list", "--due", "all", "--status", "all", "--limit", "20"), "id"),
    (("callback", "stats"), None),
    (("project", "list"), "code"),
    (("adjust", "list"), "id"),
    (("payment", "list"), None),
    (("payment", "aging"), None),
    (("audit", "--limit", "20"), None),
    (("today",), None),
    (("remind", "list"), "id"),
    (("qa", "list"), "call_id"),
    (("shift", "list"), "id"),
]


@pytest.mark.parametrize("columns,lang", [(80, "en"), (120, "en"), (80, "zh")])
@pytest.mark.parametrize("args,key", LISTS, ids=lambda a: " ".join(a) if isinstance(a, tuple) else str(a))
def test_lists_fit_without_cutting(demo, args, key, columns, lang):
    result = run(demo, *args, columns=columns, lang=lang)
    assert result.exit_code == 0, result.output
    assert_nothing_cut(result.stdout, columns)
    if key:
        shown = items_of(json.loads(run(demo, *args, "--json").stdout))
        assert shown, f"the demo has nothing for {args}"
        for item in shown[:10]:
            value = str(item[key])
            assert re.search(rf"(?<![\w]){re.escape(value)}(?![\w])", result.stdout), f"{key} {value} not whole"


@pytest.mark.parametrize("columns,lang", [(80, "en"), (120, "en"), (80, "zh")])
def test_show_screens_fit_without_cutting(demo, columns, lang):
    shows = [
        ("calls", "show", first(demo, "calls", "list")),
        ("customer", "show", first(demo, "customer", "list", key="code")),
        ("complaint", "show", first(demo, "complaint", "list", "--status", "all")),
        ("complaint", "sla", first(demo, "complaint", "list", "--status", "all")),
        ("callback", "show", first(demo, "callback", "list", "--due", "all", "--status", "all")),
        ("project", "show", first(demo, "project", "list", key="code")),
        ("payment", "plan", first(demo, "project", "list", key="code")),
        ("qa", "show", first(demo, "qa", "list", key="call_id")),
        ("shift", "show", first(demo, "shift", "list")),
        ("assign", "explain", first(demo, "complaint", "list", "--status", "all")),
    ]
    for args in shows:
        result = run(demo, *args, columns=columns, lang=lang)
        assert result.exit_code == 0, (args, result.output)
        assert_nothing_cut(result.stdout, columns)


def test_the_ids_of_a_list_appear_whole_at_80_columns(demo):
    data = items_of(json.loads(run(demo, "project", "list", "--json").stdout))
    text = run(demo, "project", "list", columns=80).stdout
    for project in data:
        assert re.search(rf"(?<!\w){project['code']}(?!\w)", text)


def test_a_table_too_wide_leaves_columns_out_and_says_which(demo):
    narrow = run(demo, "project", "list", columns=80)
    wide = run(demo, "project", "list", "--wide", columns=80)
    assert narrow.exit_code == wide.exit_code == 0
    assert "--wide" in narrow.stderr  # one line naming what was left out
    assert "--wide" not in wide.stderr
    narrow_head = narrow.stdout.strip().splitlines()[0].split()
    wide_head = wide.stdout.strip().splitlines()[0].split()
    assert len(wide_head) > len(narrow_head)
    left_out = [h for h in wide_head if h not in narrow_head]
    for header in left_out:
        assert header in narrow.stderr


def test_the_left_out_line_follows_the_language(demo):
    result = run(demo, "project", "list", columns=80, lang="zh")
    assert result.exit_code == 0
    assert "省略" in result.stderr and "--wide" in result.stderr


def test_fit_keeps_ids_and_shortens_free_text():
    from rich.console import Console

    from csdesk.commands.common import fit, table

    t = table("#", "Code", "Amount", "Summary", "Note", "Channel", text=("Summary",), optional=("Channel", "Note"))
    for i in range(3):
        t.add_row(str(1000 + i), "P000123", "¥1,234,567.89", "客户反映厨房吊柜安装不水平，要求尽快上门整改" * 2, "备注" * 10, "热线")
    console = Console(width=60, record=True, file=open("/dev/null", "w"))
    console.print(fit(t, console))
    text = console.export_text()
    assert "¥1,234,567.89" in text and "P000123" in text and "1002" in text
    assert "…" in text  # the summary shortened
    assert "Channel" not in text and "Note" not in text
    for line in text.splitlines():
        assert cell_len(line) <= 60
