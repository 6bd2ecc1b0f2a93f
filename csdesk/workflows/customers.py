"""Customers: who they are, their numbers, and everything about one of them on one screen."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import func, or_, select

from csdesk import phones
from csdesk.errors import Conflict, InvalidValue, NotFound
from csdesk.i18n import N_, _
from csdesk.models import Customer, CustomerPhone, Staff
from csdesk.workflows import Desk, audit, check_limit, snapshot
from csdesk.workflows.grades import check_customer
from csdesk.workflows.lookup import (  # noqa: F401  (the lookups live below the areas; importable from here as before)
    _CODE, FIELD_NAMES, _customer_by_name, clean_text, customer_by_phone, find_customer, find_staff, follow_merges,
)

TIERS = ("standard", "vip", "key")
TIER_LABELS = {"standard": "普通", "vip": "VIP", "key": "重点客户"}
TIER_WORDS = {"standard": "standard", "vip": "VIP", "key": "key account"}  # the same in English


def tier_label(tier: str) -> str:
    """A tier as a person reads it: 重点客户, or in English its key (key, vip, standard)."""
    from csdesk.i18n import label

    return label(TIER_WORDS.get(tier, tier), TIER_LABELS.get(tier, tier))


# Sources csdesk itself writes (the rest are the department's own words, shown as typed).
SOURCE_LABELS = {"call": N_("first call")}


def source_label(source: str | None) -> str | None:
    """Where a customer came from, as a person reads it: csdesk's own codes in the interface language."""
    return _(SOURCE_LABELS[source]) if source in SOURCE_LABELS else source


@dataclass
class CustomerInfo:
    id: int
    code: str
    name: str | None
    phones: list[str]
    tier: str
    company: str | None = None
    address: str | None = None
    manager: str | None = None
    source: str | None = None
    notes: str | None = None
    created_at: datetime | None = None

    @property
    def display_name(self) -> str:
        return self.name or _("(no name yet)")


@dataclass
class CustomerView:
    customer: CustomerInfo
    calls: list[Any]  # the latest calls (calls.CallInfo), filled by customer_card.py
    call_count: int
    # Filled by customer_card.py from the areas: complaints, callbacks, projects, money. Section key (stable,
    # English: "complaints", "callbacks", "projects", "money_owed") → row dicts;
    # customer_card.section_title(key) gives the title in the interface language.
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def info(session, customer: Customer) -> CustomerInfo:
    numbers = session.exec(
        select(CustomerPhone.number).where(CustomerPhone.customer_id == customer.id).order_by(CustomerPhone.position, CustomerPhone.id)
    ).all()
    manager = session.get(Staff, customer.manager_id).name if customer.manager_id else None
    return CustomerInfo(
        customer.id, customer.code, customer.name, list(numbers), customer.tier, customer.company,
        customer.address, manager, customer.source, customer.notes, customer.created_at,
    )


def set_manager(desk: Desk, customer: Customer, manager) -> None:
    """Give the customer another account manager (a Staff row), recorded; used by the hand-over."""
    before = snapshot(customer)
    customer.manager_id = manager.id
    check_customer(desk.session, customer)
    customer.updated_at = desk.now
    desk.session.add(customer)
    audit(desk, "customer.manager", customer, before=before)


def _check_tier(tier: str | None) -> str:
    tier = (tier or "standard").strip().lower()
    aliases = {"普通": "standard", "vip": "vip", "重点": "key", "重点客户": "key", "大客户": "key", "key-account": "key"}
    tier = aliases.get(tier, tier)
    if tier not in TIERS:
        raise InvalidValue(_("unknown tier {tier!r} (use standard, vip or key)").format(tier=tier))
    return tier


_text = clean_text


def _manager_id(session, name: str | None) -> int | None:
    if not name:
        return None
    from csdesk.workflows.lookup import find_staff

    return find_staff(session, name).id


def _claim_numbers(session, customer_id: int | None, numbers: list[str]) -> list[str]:
    """Normalise numbers and refuse those that already belong to another customer."""
    out: list[str] = []
    for raw in numbers:
        number = phones.normalize(raw)
        if number in out:
            continue
        owner = customer_by_phone(session, number)
        if owner is not None and owner.id != customer_id:
            raise Conflict(_("{phone} already belongs to {customer}").format(
                phone=phones.display(number), customer=f"{owner.code} {owner.name or ''}".rstrip()))
        out.append(number)
    return out


def create_customer(
    desk: Desk,
    name: str | None,
    numbers: list[str],
    tier: str | None = None,
    company: str | None = None,
    address: str | None = None,
    manager: str | None = None,
    source: str | None = None,
    notes: str | None = None,
) -> Customer:
    """Insert a customer and their numbers (already checked or not); returns the row, with its code."""
    session = desk.session
    normalised = _claim_numbers(session, None, numbers)
    customer = Customer(
        name=_text(name, "name", 100, lines=False),
        tier=_check_tier(tier),
        company=_text(company, "company", 200),
        address=_text(address, "address", 300),
        manager_id=_manager_id(session, manager),
        source=_text(source, "source", 60),
        notes=_text(notes, "notes", 4000),
        created_at=desk.now,
        updated_at=desk.now,
    )
    check_customer(session, customer)
    session.add(customer)
    session.flush()
    customer.code = f"C{customer.id:06d}"
    for position, number in enumerate(normalised):
        session.add(CustomerPhone(customer_id=customer.id, number=number, position=position))
    audit(desk, "customer.add", customer, after={**snapshot(customer), "phones": normalised})
    return customer


def add_customer(desk: Desk, name: str, numbers: list[str], **fields) -> CustomerInfo:
    desk.require_actor()
    if not (name or "").strip():
        raise InvalidValue(_("a customer needs a name"))
    if not numbers:
        raise InvalidValue(_("a customer needs at least one phone number (--phone)"))
    customer = create_customer(desk, name, numbers, **fields)
    return info(desk.session, customer)


_UNSET: Any = object()


def edit_customer(
    desk: Desk,
    ref: str,
    name: str | None = None,
    add_phones: list[str] | None = None,
    remove_phones: list[str] | None = None,
    tier: str | None = None,
    company: str | None = None,
    address: str | None = None,
    manager: str | None = None,
    source: str | None = None,
    notes: str | None = None,
) -> CustomerInfo:
    desk.require_actor()
    session = desk.session
    customer = find_customer(session, ref)
    before = {**snapshot(customer), "phones": info(session, customer).phones}
    if name is not None:
        if not name.strip():
            raise InvalidValue(_("the name cannot be empty"))
        customer.name = _text(name, "name", 100, lines=False)
    if tier is not None:
        customer.tier = _check_tier(tier)
    if company is not None:
        customer.company = _text(company, "company", 200)
    if address is not None:
        customer.address = _text(address, "address", 300)
    if source is not None:
        customer.source = _text(source, "source", 60)
    if notes is not None:
        customer.notes = _text(notes, "notes", 4000)
    if manager is not None:
        customer.manager_id = _manager_id(session, manager) if manager else None
    current = list(before["phones"])
    for raw in remove_phones or []:
        number = phones.normalize(raw)
        if number not in current:
            raise InvalidValue(_("{phone} is not one of {code}'s numbers").format(phone=phones.display(number), code=customer.code))
        current.remove(number)
    for number in _claim_numbers(session, customer.id, add_phones or []):
        if number not in current:
            current.append(number)
    if not current:
        raise InvalidValue(_("a customer must keep at least one phone number"))
    check_customer(session, customer, before)
    if current != before["phones"]:
        existing = {p.number: p for p in session.exec(select(CustomerPhone).where(CustomerPhone.customer_id == customer.id)).all()}
        for number, row in existing.items():
            if number not in current:
                session.delete(row)
        session.flush()
        for position, number in enumerate(current):
            row = existing.get(number)
            if row is None:
                session.add(CustomerPhone(customer_id=customer.id, number=number, position=position))
            else:
                row.position = position
                session.add(row)
    customer.updated_at = desk.now
    session.add(customer)
    after = {**snapshot(customer), "phones": current}
    changed = {k for k in after if before.get(k) != after.get(k)} - {"updated_at"}
    if not changed:
        raise InvalidValue(_("nothing to change (give at least one new value)"))
    audit(desk, "customer.edit", customer, before={k: before.get(k) for k in changed}, after={k: after[k] for k in changed})
    return info(session, customer)


def list_customers(desk: Desk, tier: str | None = None, search: str | None = None, limit: int = 50) -> tuple[list[CustomerInfo], int]:
    """Customers matching the filters (newest first) and how many match in all."""
    check_limit(limit)
    session = desk.session
    query = select(Customer).where(Customer.merged_into_id.is_(None))  # a merged duplicate lives on in its kept customer
    if tier:
        query = query.where(Customer.tier == _check_tier(tier))
    if search:
        term = search.strip()
        # Case-insensitive on every backend; `%` and `_` typed in a search are plain characters.
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions = [column.ilike(like, escape="\\") for column in (Customer.name, Customer.company, Customer.code, Customer.address)]
        digits = re.sub(r"\D", "", term)
        # Stored numbers are E.164 (+861062345678): drop what a person types before them (0086, 0).
        digits = digits[2:] if digits.startswith("00") else digits[1:] if digits.startswith("0") else digits
        if len(digits) >= 4 and not _CODE.match(term):  # C000002 is a code, not part of a number
            ids = select(CustomerPhone.customer_id).where(CustomerPhone.number.like(f"%{digits}%"))
            conditions.append(Customer.id.in_(ids))
        query = query.where(or_(*conditions))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Customer.id.desc()).limit(limit)).all()
    return [info(session, c) for c in rows], total


def lookup_callers(desk: Desk, typed: str, limit: int = 20) -> list[CustomerInfo]:
    """Customers for what an agent is typing while the phone rings: the start of a number in any format
    (an index range on the stored E.164 numbers), a code, or part of a name. Fast enough to run on every
    key: no count, no scan of the numbers."""
    check_limit(limit)
    session = desk.session
    term = (typed or "").strip()
    if not term:
        return []
    digits = re.sub(r"\D", "", term)
    found: dict[int, Customer] = {}
    if _CODE.match(term):
        row = session.exec(select(Customer).where(Customer.code == term.upper())).first()
        if row is not None:
            row = follow_merges(session, row)  # a merged duplicate's code leads to the kept customer
            found[row.id] = row
    elif len(digits) >= 3 and re.fullmatch(r"[\d\s\-+().]+", term):
        if term.startswith("+"):
            prefix = "+" + digits
        elif digits.startswith("00"):
            prefix = "+" + digits[2:]
        else:  # a national number: 138…, or 010… for a landline (the trunk 0 is not stored)
            prefix = "+86" + (digits[1:] if digits.startswith("0") else digits)
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        ids = session.exec(
            select(CustomerPhone.customer_id).where(CustomerPhone.number >= prefix, CustomerPhone.number < upper)
            .order_by(CustomerPhone.number).limit(limit)
        ).all()
        if ids:
            for row in session.exec(select(Customer).where(Customer.id.in_(ids))).all():
                found[row.id] = row
    if not found and not digits:
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        for row in session.exec(
            select(Customer).where(Customer.name.ilike(like, escape="\\"), Customer.merged_into_id.is_(None))
            .order_by(Customer.id.desc()).limit(limit)
        ).all():
            found[row.id] = row
    return [info(session, c) for c in list(found.values())[:limit]]
