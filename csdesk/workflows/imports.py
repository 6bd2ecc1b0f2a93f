"""Importing the department's existing customer spreadsheet: all rows or none, and no duplicates.

Part of the customers area: it checks each row with customers' own rules (_check_tier, _text) and
imports nothing from the other areas.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sqlmodel import select

from csdesk import phones
from csdesk.errors import InvalidValue
from csdesk.i18n import _
from csdesk.models import Customer, CustomerPhone, Staff
from csdesk.workflows import Desk, audit, snapshot
from csdesk.workflows.customers import _check_tier, _text
from csdesk.workflows.grades import check_import_row

HEADERS = {
    "name": ("姓名", "客户姓名", "客户名称", "客户", "名称", "联系人", "name", "customer", "customer name", "full name"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "电话号码", "联系方式", "phone", "phones", "mobile", "tel", "telephone"),
    "company": ("公司", "单位", "公司名称", "企业", "company", "organisation", "organization"),
    "address": ("地址", "联系地址", "住址", "项目地址", "address"),
    "tier": ("等级", "客户等级", "级别", "类型", "tier", "level"),
    "source": ("来源", "客户来源", "source"),
    "notes": ("备注", "说明", "notes", "note", "remark", "remarks", "comment"),
    "manager": ("客户经理", "负责人", "manager", "account manager"),
}
_LOOKUP = {alias.lower(): key for key, aliases in HEADERS.items() for alias in aliases}
_SPLIT = re.compile(r"[/,;，；、|\n]+|\s{2,}")
CHUNK = 1000


@dataclass
class ImportResult:
    file: str
    rows: int
    created: int
    updated: int
    unchanged: int
    dry_run: bool


class ImportRejected(InvalidValue):
    """The file has bad rows; nothing was imported."""


def read_table(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows of a .csv or .xlsx file as (line number, {field: text}), headers mapped to our fields."""
    path = Path(path)
    if not path.exists():
        raise InvalidValue(_("{path} does not exist").format(path=path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        grid = _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        grid = _read_csv(path)
    else:
        raise InvalidValue(_("{file}: can only import .xlsx or .csv files").format(file=path.name))
    header_at = next((i for i, row in enumerate(grid) if any(str(c or "").strip() for c in row)), None)
    if header_at is None:
        raise InvalidValue(_("{file} is empty").format(file=path.name))
    header = [str(c or "").strip().lower() for c in grid[header_at]]
    fields = [_LOOKUP.get(h) for h in header]
    missing = [k for k in ("name", "phone") if k not in fields]
    if missing:
        wanted = _(" and ").join(f"{HEADERS[k][0]}/{k}" for k in missing)
        raise InvalidValue(_("{file}: no {wanted} column in the header row (found: {found})").format(
            file=path.name, wanted=wanted, found=", ".join(h for h in header if h) or _("nothing")))
    rows = []
    for offset, cells in enumerate(grid[header_at + 1:], start=header_at + 2):
        values: dict[str, str] = {}
        for field, cell in zip(fields, cells):
            if field is None or cell is None:
                continue
            text = _cell_text(cell)
            if text:
                values[field] = (values[field] + " / " + text) if field in values else text
        if values:
            rows.append((offset, values))
    return rows


def _cell_text(cell: Any) -> str:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # a phone typed into Excel as a number
    return str(cell).strip()


def _read_xlsx(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a file that is not really a workbook
        raise InvalidValue(_("{file} is not a readable .xlsx file ({error})").format(file=path.name, error=exc.__class__.__name__)) from None
    try:
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


def _read_csv(path: Path) -> list[list[Any]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidValue(_("{file} is neither UTF-8 nor GBK text").format(file=path.name))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _cell_numbers(cell: str) -> list[str]:
    """The normalised numbers in one cell: `138… / 010-…`, `138…，139…`, or two mobiles with one space."""
    out: list[str] = []
    for piece in (p.strip() for p in _SPLIT.split(cell) if p.strip()):
        try:
            out.append(phones.normalize(piece))
        except InvalidValue as first:
            tokens = piece.split()
            try:
                if len(tokens) < 2:
                    raise first
                out.extend(phones.normalize(t) for t in tokens)
            except InvalidValue:
                raise first from None
    return out


@dataclass
class _Row:
    line: int
    name: str
    numbers: list[str]
    fields: dict[str, Any]


def _check_rows(desk: Desk, rows: list[tuple[int, dict[str, str]]]) -> tuple[list[_Row], list[tuple[int, str]]]:
    problems: list[tuple[int, str]] = []
    checked: list[_Row] = []
    seen: dict[str, int] = {}
    managers: dict[str, int | None] = {}
    for line, values in rows:
        try:
            name = _text(values.get("name"), "name", 100, lines=False)
            if not name:
                raise InvalidValue(_("no name"))
            found = _cell_numbers(values.get("phone", ""))
            if not found:
                raise InvalidValue(_("no phone number"))
            numbers = []
            for number in found:
                if number in seen and seen[number] != line:
                    raise InvalidValue(_("{phone} is also on line {line}").format(phone=phones.display(number), line=seen[number]))
                seen[number] = line
                if number not in numbers:
                    numbers.append(number)
            fields: dict[str, Any] = {
                "tier": _check_tier(values["tier"]) if values.get("tier") else None,
                "company": _text(values.get("company"), "company", 200),
                "address": _text(values.get("address"), "address", 300),
                "source": _text(values.get("source"), "source", 60),
                "notes": _text(values.get("notes"), "notes", 4000),
            }
            manager = values.get("manager")
            if manager:
                if manager not in managers:
                    staff = desk.session.exec(select(Staff).where(Staff.name == manager, Staff.active == True)).first()  # noqa: E712
                    managers[manager] = staff.id if staff else None
                if managers[manager] is None:
                    raise InvalidValue(_("no active staff member named {name}").format(name=repr(manager)))
                fields["manager_id"] = managers[manager]
                check_import_row(desk.session, fields["tier"], fields["manager_id"])
            checked.append(_Row(line, name, numbers, fields))
        except InvalidValue as exc:
            problems.append((line, _("line {line}: {problem}").format(line=line, problem=exc.message)))
    return checked, problems


def import_customers(
    desk: Desk,
    rows: list[tuple[int, dict[str, str]]],
    file_name: str,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check every row, then import all of them in this one transaction — or refuse the whole file."""
    desk.require_actor()
    session = desk.session
    checked, problems = _check_rows(desk, rows)

    # Which existing customer each row's numbers point to (match on phone, so re-importing updates).
    owners: dict[str, int] = {}
    all_numbers = [n for r in checked for n in r.numbers]
    for i in range(0, len(all_numbers), 500):
        chunk = all_numbers[i:i + 500]
        for number, customer_id in session.exec(select(CustomerPhone.number, CustomerPhone.customer_id).where(CustomerPhone.number.in_(chunk))):
            owners[number] = customer_id
    matches: list[int | None] = []
    for row in checked:
        ids = {owners[n] for n in row.numbers if n in owners}
        if len(ids) > 1:
            problems.append((row.line, _("line {line}: its numbers belong to {n} different customers").format(line=row.line, n=len(ids))))
        matches.append(ids.pop() if len(ids) == 1 else None)
    if problems:
        problems.sort(key=lambda p: p[0])
        raise ImportRejected(
            # Two messages rather than ngettext: the catalogue keeps every id as a message of its own.
            (_("{n} bad row in {file}; nothing imported") if len(problems) == 1 else
             _("{n} bad rows in {file}; nothing imported")).format(n=len(problems), file=file_name),
            details=[text for _line, text in problems],
        )

    created = updated = unchanged = 0
    new_rows = [(row, None) for row, match in zip(checked, matches) if match is None]
    old_rows = [(row, match) for row, match in zip(checked, matches) if match is not None]
    done = 0
    for row, customer_id in old_rows:
        customer = session.get(Customer, customer_id)
        before = snapshot(customer)
        have = set(session.exec(select(CustomerPhone.number).where(CustomerPhone.customer_id == customer_id)).all())
        extra = [n for n in row.numbers if n not in have]
        changes = {"name": row.name, **{k: v for k, v in row.fields.items() if v is not None}}
        differs = {k: v for k, v in changes.items() if getattr(customer, k) != v}
        if not differs and not extra:
            unchanged += 1
        else:
            updated += 1
            if not dry_run:
                for key, value in differs.items():
                    setattr(customer, key, value)
                customer.updated_at = desk.now
                for position, number in enumerate(extra, start=len(have)):
                    session.add(CustomerPhone(customer_id=customer_id, number=number, position=position))
                session.add(customer)
                audit(desk, "customer.import", customer, before=before, after={**{k: snapshot(customer)[k] for k in differs}, "phones_added": extra})
        done += 1
        if progress and done % 200 == 0:
            progress(done)
    for start in range(0, len(new_rows), CHUNK):
        chunk = new_rows[start:start + CHUNK]
        created += len(chunk)
        if not dry_run:
            customers = []
            for row, _match in chunk:
                fields = {k: v for k, v in row.fields.items() if v is not None}
                fields.setdefault("tier", "standard")
                customers.append(Customer(name=row.name, created_at=desk.now, updated_at=desk.now, **{"source": fields.pop("source", None) or f"import:{file_name}"[:60], **fields}))
            session.add_all(customers)
            session.flush()
            for customer, (row, _match) in zip(customers, chunk):
                customer.code = f"C{customer.id:06d}"
                session.add_all(CustomerPhone(customer_id=customer.id, number=n, position=i) for i, n in enumerate(row.numbers))
            session.flush()
            for customer, (row, _match) in zip(customers, chunk):
                audit(desk, "customer.import", customer, after={**snapshot(customer), "phones": row.numbers}, flush=False)
            session.flush()
        done += len(chunk)
        if progress:
            progress(done)
    return ImportResult(file_name, len(checked), created, updated, unchanged, dry_run)
