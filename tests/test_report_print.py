"""The demo's monthly workbook, printed: rendered to PDF by LibreOffice and read back with poppler's
`pdftotext` (one call: pages come separated by form feeds, in layout mode so a line stays a line).

It asserts what a person holding the printout sees: every page has the report's name and period in its
header, the sheet's name beside it and "第 x 页，共 y 页" in its footer; every sheet is one page wide (each
of its pages shows its header row from the first column's heading to the last one's); every chart is
whole on one page of the charts sheet (its title and its first and last category labels on the same
page); the Chinese text is there.

Runs where `soffice` and `pdftotext` exist. `scripts/test-all` installs them in CI (libreoffice-calc,
fonts-noto-cjk, poppler-utils) and sets CSDESK_PRINT_CHECK=required, which turns a missing tool into
a failure instead of a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import openpyxl
import pytest

TOOLS = ("soffice", "pdftotext")
MISSING = [t for t in TOOLS if shutil.which(t) is None]
if MISSING and os.environ.get("CSDESK_PRINT_CHECK") == "required":
    raise RuntimeError(f"the print check is required here but {', '.join(MISSING)} is missing")
pytestmark = [
    pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)} (LibreOffice, poppler-utils)"),
    # the demo is a SQLite file whatever the backend under test: the check runs once, in the SQLite run
    pytest.mark.skipif(bool(os.environ.get("CSDESK_TEST_PG")), reason="runs once, in the SQLite run of the suite"),
]


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """(workbook path, openpyxl workbook, [page text, ...]) of the demo's monthly workbook."""
    from csdesk import config
    from csdesk.db import Database, resolve
    from csdesk.workflows.demo import build_demo

    from csdesk import i18n

    folder = tmp_path_factory.mktemp("print")
    database = Database(resolve(str(folder / "demo.db")))
    i18n.set_language("zh")  # the demo's workbook in the default language, whatever the test before chose
    try:
        build_demo(database, config.load(None))
    finally:
        i18n.set_language("en")
    (xlsx,) = folder.glob("demo-report-*.xlsx")
    profile = folder / "lo-profile"  # a private LibreOffice profile: no clash with another running soffice
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(folder), str(xlsx)],
                   check=True, capture_output=True, timeout=180)
    pdf = xlsx.with_suffix(".pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60).stdout.decode()
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return xlsx, openpyxl.load_workbook(xlsx), pages


def lines(page: str) -> list[str]:
    return [line.strip() for line in page.splitlines() if line.strip()]


def sheet_of(page: str, names: list[str]) -> str:
    """The sheet a page belongs to: the page header's right-hand part (&A), on the page's first line."""
    first = lines(page)[0]
    found = [n for n in names if first.endswith(n)]
    assert len(found) == 1, (first, found)
    return found[0]


def test_every_page_has_the_reports_name_the_sheets_name_and_page_x_of_y(printed):
    _, wb, pages = printed
    title = wb["汇总"]["A1"].value  # 月报 2026年11月
    assert title.startswith("月报 ")
    for i, page in enumerate(pages, 1):
        assert lines(page)[0].startswith(title), (i, lines(page)[0])
        assert f"第 {i} 页，共 {len(pages)} 页" in lines(page), i  # the footer (a chart's text may come after it)
    seen = {sheet_of(page, wb.sheetnames) for page in pages}
    assert seen == set(wb.sheetnames)
    assert len(pages) < 35  # 35 portrait strips before


def test_every_sheet_prints_one_page_wide_with_its_header_on_each_page(printed):
    """A sheet cut into column strips would have pages without its first or its last column's heading."""
    _, wb, pages = printed
    for page in pages:
        name = sheet_of(page, wb.sheetnames)
        if name == "图表":
            continue
        ws = wb[name]
        header_row = int(ws.print_title_rows.split(":")[0].lstrip("$"))
        heads = [c.value for c in ws[header_row] if c.value is not None]
        header_line = next((line for line in lines(page) if line.startswith(heads[0])), None)
        assert header_line is not None, (name, heads[0])
        # every heading on the one line, in order (pdftotext keeps a printed row on one line)
        assert re.search(".*".join(re.escape(h) for h in heads), header_line), (name, heads, header_line)


def test_no_chart_is_cut_by_a_page_break(printed):
    _, wb, pages = printed
    chart_pages = [page for page in pages if sheet_of(page, wb.sheetnames) == "图表"]
    breakdowns = [r for r in wb["分项统计"].iter_rows(min_row=2, values_only=True)]
    per_day = [r[0] for r in wb["通话"].iter_rows(min_row=2, values_only=True) if r[0] is not None]
    agents = [r[0] for r in wb["人员"].iter_rows(min_row=2, values_only=True) if r[0]]

    def items(breakdown: str) -> list[str]:
        return [r[2] for r in breakdowns if r[1] == breakdown]

    expected = {  # title -> its first and last category labels
        "按时率": items("按时率"),
        "每日通话": [" ".join(str(d.day) for d in per_day)],  # the days of the month, in a row along the axis
        "投诉按类别": items("按类别"),
        "账龄分布": items("账龄"),
        "按客服通话": agents,
    }
    assert len(chart_pages) == len(expected)  # one chart a page
    for title, labels in expected.items():
        holding = [page for page in chart_pages if title in lines(page)]
        assert len(holding) == 1, title
        text = "".join(holding[0].split())  # pdftotext spaces labels its own way (0–30 天): compare without spaces
        first, last = ("".join(labels[0].split()), "".join(labels[-1].split())) if labels else ("", "")
        assert labels and first in text and last in text, (title, first, last)
        assert "本期" in text  # the legend
        assert not [t for t in expected if t != title and t in lines(holding[0])]  # and no other chart


def test_chinese_text_and_figures_as_printed(printed):
    _, wb, pages = printed
    text = "\n".join(pages)
    for words in ("通话总数", "首次响应按时率", "指标说明", "本期内登记的通话", "期末逾期事项", "合计"):
        assert words in text, words
    assert "个百分点" in text  # a rate's change in points, as on the terminal
    summary = next(page for page in pages if sheet_of(page, wb.sheetnames) == "汇总")
    assert "月报" in summary and "Definition" not in text
