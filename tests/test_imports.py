"""Importing the department's customer spreadsheet: CSV (UTF-8 or GBK) and XLSX, Chinese or English
headers, all rows or none, re-imports that update instead of duplicating."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from csdesk.errors import InvalidValue
from csdesk.workflows.customers import find_customer, info
from csdesk.workflows.imports import ImportRejected, import_customers, read_table


def write_csv(path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def run_import(db, path: Path, dry_run: bool = False, as_: str = "王芳", progress=None):
    rows = read_table(path)
    with db.desk(as_=as_) as desk:
        return import_customers(desk, rows, path.name, dry_run, progress)


def customer(db, ref: str):
    with db.database.session() as session:
        return info(session, find_customer(session, ref))


CHINESE = """姓名,电话,公司,地址,等级,备注,客户经理
张伟,138 1234 5678 / 010-62345678,华府装饰,北京市朝阳区建国路88号,VIP,老客户,李娜
李四,"13900001111，13900002222",,,重点,,
王五,0571-88881234、13700003333,,杭州,普通,,
赵六,13600004444 13600005555,,,,,
"""


def test_csv_utf8_with_bom_and_chinese_headers(tmp_path, team):
    path = write_csv(tmp_path / "客户名单.csv", CHINESE)
    result = run_import(team, path)
    assert (result.rows, result.created, result.updated, result.unchanged, result.dry_run) == (4, 4, 0, 0, False)
    zhang = customer(team, "010 6234 5678")
    assert (zhang.code, zhang.name, zhang.company, zhang.tier, zhang.notes, zhang.manager) == (
        "C000001", "张伟", "华府装饰", "vip", "老客户", "李娜")
    assert zhang.phones == ["+8613812345678", "+861062345678"]
    assert zhang.source == "import:客户名单.csv"
    assert customer(team, "13900002222").phones == ["+8613900001111", "+8613900002222"]
    assert customer(team, "13900002222").tier == "key"
    assert customer(team, "13700003333").phones == ["+8657188881234", "+8613700003333"]
    assert customer(team, "13600005555").name == "赵六"  # two mobiles with one space between
    # Every new customer has its audit row, by the person importing.
    assert team.scalar("SELECT count(*) FROM audit_entry WHERE action = 'customer.import' AND actor = '王芳'") == 4


def test_csv_in_gbk_as_excel_in_china_saves_it(tmp_path, team):
    path = write_csv(tmp_path / "gbk.csv", "客户名称,手机号码,单位\n陈二,13812345678,锦程地产\n", encoding="gbk")
    assert run_import(team, path).created == 1
    assert (customer(team, "13812345678").name, customer(team, "13812345678").company) == ("陈二", "锦程地产")


def test_csv_with_semicolons(tmp_path, team):
    path = write_csv(tmp_path / "semi.csv", "name;phone;tier\nAlice;13812345678;key\n", encoding="utf-8")
    run_import(team, path)
    assert customer(team, "13812345678").tier == "key"


def test_xlsx_with_english_headers_and_numbers_typed_as_numbers(tmp_path, team):
    path = write_xlsx(tmp_path / "customers.xlsx", [
        [],  # a blank first row is skipped: the header is the first non-empty row
        ["Name", "Mobile", "Company", "Tier", "Notes"],
        ["Alice Wang", 13812345678, "ACME 上海", "vip", None],
        ["Bob Li", "010-62345678; 13900001111", None, "key", "prefers WeChat"],
        [None, None, None, None, None],  # blank rows are ignored
    ])
    result = run_import(team, path)
    assert (result.rows, result.created) == (2, 2)
    alice = customer(team, "138-1234-5678")
    assert (alice.name, alice.company, alice.tier) == ("Alice Wang", "ACME 上海", "vip")
    assert customer(team, "13900001111").phones == ["+861062345678", "+8613900001111"]


BAD = """姓名,电话,等级,客户经理
张伟,13812345678,vip,
,13900001111,,
李四,12345,,
王五,13700001111,gold,
赵六,13812345678,,
钱七,,,
孙八,13600001111,,无名
周九,13500001111,,
"""


def test_a_file_with_bad_rows_imports_nothing_and_lists_every_bad_row(tmp_path, team):
    path = write_csv(tmp_path / "bad.csv", BAD)
    before = team.dump()
    with pytest.raises(ImportRejected) as err:
        run_import(team, path)
    assert err.value.message == "6 bad rows in bad.csv; nothing imported"
    assert err.value.details == [
        "line 3: no name",
        "line 4: '12345' is not a valid phone number (missing the area code)",
        "line 5: unknown tier 'gold' (use standard, vip or key)",
        "line 6: 138 1234 5678 is also on line 2",
        "line 7: no phone number",
        "line 8: no active staff member named '无名'",
    ]
    assert team.dump() == before


def test_a_row_whose_numbers_belong_to_two_customers_is_refused(tmp_path, team):
    write_csv(tmp_path / "a.csv", "姓名,电话\n张伟,13812345678\n李四,13900001111\n")
    run_import(team, tmp_path / "a.csv")
    path = write_csv(tmp_path / "b.csv", "姓名,电话\n张伟,13812345678/13900001111\n")
    with pytest.raises(ImportRejected) as err:
        run_import(team, path)
    assert err.value.details == ["line 2: its numbers belong to 2 different customers"]


def test_reimport_updates_and_does_not_duplicate(tmp_path, team):
    path = write_csv(tmp_path / "list.csv", CHINESE)
    run_import(team, path)
    again = run_import(team, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert team.scalar("SELECT count(*) FROM customer") == 4

    # The next month's list: 张伟 is now a key account with a new mobile, 李四's number is typed another way.
    changed = write_csv(tmp_path / "list2.csv", """姓名,电话,等级
张伟,+86 138-1234-5678 / 13700009999,重点客户
李四,139 0000 1111,重点
新客,13300001111,
""")
    before_audit = team.scalar("SELECT count(*) FROM audit_entry")
    result = run_import(team, changed, as_="李娜")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    zhang = customer(team, "C000001")
    assert zhang.tier == "key"
    assert zhang.phones == ["+8613812345678", "+861062345678", "+8613700009999"]
    assert zhang.company == "华府装饰"  # a column the new file lacks keeps its value
    assert team.scalar("SELECT count(*) FROM customer") == 5
    assert team.scalar("SELECT count(*) FROM audit_entry") == before_audit + 2  # 张伟 updated, 新客 created
    row = json.loads(team.scalar("SELECT after FROM audit_entry WHERE action = 'customer.import' AND entity_id = 1 ORDER BY id DESC LIMIT 1"))
    assert row == {"tier": "key", "phones_added": ["+8613700009999"]}


def test_dry_run_writes_nothing(tmp_path, team):
    path = write_csv(tmp_path / "list.csv", CHINESE)
    before = team.dump()
    result = run_import(team, path, dry_run=True)
    assert (result.rows, result.created, result.dry_run) == (4, 4, True)
    assert team.dump() == before


def test_import_needs_someone_acting(tmp_path, team):
    from csdesk.errors import PermissionDenied

    path = write_csv(tmp_path / "list.csv", CHINESE)
    with pytest.raises(PermissionDenied):
        run_import(team, path, as_=None)


@pytest.mark.parametrize(
    "name, content, says",
    [
        ("no-such.csv", None, "no-such.csv does not exist"),
        ("list.txt.pdf", b"%PDF", "can only import .xlsx or .csv files"),
        ("empty.csv", b"", "empty.csv is empty"),
        ("headers.csv", "foo,bar\n1,2\n".encode(), "no 姓名/name and 电话/phone column in the header row (found: foo, bar)"),
        ("nophone.csv", "姓名,公司\n张伟,x\n".encode(), "no 电话/phone column"),
        ("broken.xlsx", b"not a zip", "broken.xlsx is not a readable .xlsx file"),
        ("binary.csv", bytes(range(128, 256)) * 4, "is neither UTF-8 nor GBK text"),
    ],
)
def test_wrong_files(tmp_path, name, content, says):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InvalidValue) as err:
        read_table(path)
    assert says in err.value.message


# ---- large files and the CLI --------------------------------------------------------------------


def big_csv(path: Path, n: int) -> Path:
    lines = ["姓名,手机,公司,等级"]
    for i in range(n):
        lines.append(f"客户{i},138{i:08d},公司{i % 50},{'vip' if i % 10 == 0 else ''}")
    return write_csv(path, "\n".join(lines) + "\n")


def test_cli_import_with_progress_bar_path(cli, tmp_path, team):
    path = big_csv(tmp_path / "big.csv", 600)
    result = cli("--as", "王芳", "customer", "import", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "Imported 600 rows from big.csv: 600 new customers, 0 updated, 0 unchanged."
    assert team.scalar("SELECT count(*) FROM customer") == 600
    assert team.scalar("SELECT count(*) FROM customer_phone") == 600


def test_progress_is_reported(tmp_path, team):
    seen: list[int] = []
    run_import(team, big_csv(tmp_path / "big.csv", 1200), progress=seen.append)
    assert seen[-1] == 1200 and seen == sorted(seen)


def test_5000_rows_timing(tmp_path, team):
    path = big_csv(tmp_path / "5000.csv", 5000)
    start = time.perf_counter()
    result = run_import(team, path)
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = run_import(team, path)
    second = time.perf_counter() - start
    print(f"\nimport of 5,000 rows: {first:.2f} s new, {second:.2f} s re-import (all unchanged)")
    assert (result.created, again.unchanged) == (5000, 5000)
    assert first < 60 and second < 60  # generous: a benchmark, not a timed test


def test_cli_import_dry_run_and_json(cli, tmp_path, team):
    path = write_csv(tmp_path / "list.csv", CHINESE)
    before = team.dump()
    result = cli("--as", "王芳", "customer", "import", str(path), "--dry-run")
    assert result.exit_code == 0
    assert result.stderr == "Would import 4 rows from list.csv: 4 new customers, 0 updated, 0 unchanged.\n"
    assert team.dump() == before
    result = cli("--as", "王芳", "--json", "customer", "import", str(path))
    assert json.loads(result.stdout) == {"file": "list.csv", "rows": 4, "created": 4, "updated": 0, "unchanged": 0, "dry_run": False}


def test_cli_bad_file_lists_rows_under_one_error_line(cli, tmp_path, team):
    path = write_csv(tmp_path / "bad.csv", BAD)
    before = team.dump()
    result = cli("--as", "王芳", "customer", "import", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: 6 bad rows in bad.csv; nothing imported"
    assert lines[1:3] == ["  line 3: no name", "  line 4: '12345' is not a valid phone number (missing the area code)"]
    assert len(lines) == 7 and sum(l.startswith("Error:") for l in lines) == 1
    assert team.dump() == before


def test_cli_missing_file(cli, tmp_path, team):
    result = cli("--as", "王芳", "customer", "import", str(tmp_path / "nope.xlsx"))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'nope.xlsx'} does not exist\n"
