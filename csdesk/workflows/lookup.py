"""Read helpers every area uses, below all of them: finding a customer (by code, phone or name) or a
staff member, the first boss up the chain, checking typed text and choices, and finding a project (the
projects area and the money modules built on it both use find_project, today, local_date, project_text). It imports no area
module (calls, complaints, callbacks, projects, payments, staff, customers): the areas import it, and
customers.py, staff.py and calls.py re-export these names as before (tests/test_structure.py)."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlmodel import select

from csdesk import phones
from csdesk.errors import InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import N_, _
from csdesk.models import Customer, CustomerPhone, Project, Staff
from csdesk.workflows import ROLE_LABELS, ROLE_RANK, ROLES, Actor, Desk

# The fields of a customer in messages ("name is longer than 100 characters"), imports' included.
FIELD_NAMES = {"name": N_("name"), "company": N_("company"), "address": N_("address"), "source": N_("source"),
               "notes": N_("notes")}
# The names of the choices in messages ("unknown kind 'chat'"), callbacks' included.
CHOICE_NAMES = {"kind": N_("kind"), "channel": N_("channel"), "direction": N_("direction"),
                "purpose": N_("purpose"), "outcome": N_("outcome")}


def choice_label(key: str, choices: dict[str, str]) -> str:
    """A choice shown to a person: its Chinese label, or in English its key (inquiry, hotline, in)."""
    from csdesk.i18n import label

    return label(key, choices.get(key, key))


def check_choice(value: str | None, choices: dict[str, str], what: str) -> str:
    value = (value or "").strip().lower()
    if value in choices:
        return value
    for key, label in choices.items():
        if value == label:
            return key
    raise InvalidValue(_("unknown {what} {value!r} (use one of: {choices})").format(
        what=_(CHOICE_NAMES[what]) if what in CHOICE_NAMES else what, value=value, choices=", ".join(choices)))


_CODE = re.compile(r"^[A-Za-z]{1,3}\d{1,10}$")


def customer_by_phone(session, number: str) -> Customer | None:
    """Lookup by an already normalised (E.164) number: one index probe."""
    row = session.exec(
        select(Customer).join(CustomerPhone, CustomerPhone.customer_id == Customer.id).where(CustomerPhone.number == number)
    ).first()
    return row


def find_customer(session, ref: str) -> Customer:
    """A customer named by code (C000123), by any of their phone numbers typed any common way, or by
    name: the exact name, else a part of it that only one customer's name contains. An ambiguous name
    is refused with the candidates and their codes."""
    ref = (ref or "").strip()
    if not ref:
        raise InvalidValue(_("no customer given (use a code like C000123, a phone number or a name)"))
    if _CODE.match(ref):
        customer = session.exec(select(Customer).where(Customer.code == ref.upper())).first()
        if customer is None:
            raise NotFound(_("no customer with code {code}").format(code=ref.upper()))
        return follow_merges(session, customer)
    if not re.search(r"\d", ref):
        return _customer_by_name(session, ref)
    try:
        number = phones.normalize(ref)
    except InvalidValue:
        if re.fullmatch(r"[\d\s\-+().]+", ref):
            raise  # typed as a number: say what is wrong with it
        return _customer_by_name(session, ref)  # a name with digits in it (华府2期)
    customer = customer_by_phone(session, number)
    if customer is None:
        raise NotFound(_("no customer with phone {phone}").format(phone=phones.display(number)),
                       hint=_("csdesk customer add NAME --phone … adds one"))
    return customer


def _customer_by_name(session, name: str) -> Customer:
    live = Customer.merged_into_id.is_(None)
    exact = session.exec(select(Customer).where(Customer.name == name, live).order_by(Customer.id).limit(11)).all()
    if len(exact) == 1:
        return exact[0]
    if not exact:
        like = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        exact = session.exec(select(Customer).where(Customer.name.ilike(like, escape="\\"), live)
                             .order_by(Customer.id).limit(11)).all()
        if len(exact) == 1:
            return exact[0]
    if not exact:
        raise NotFound(_("no customer named {name!r}").format(name=name), hint=_("name a customer by code (C000123), phone or name"))
    shown = [f"{c.code} {c.name}" for c in exact[:10]]
    if len(exact) > 10:
        shown.append("…")
    raise InvalidValue(_("{name!r} names more than one customer: use a code or a phone number").format(name=name), details=shown)


def follow_merges(session, customer: Customer) -> Customer:
    """A duplicate merged into another customer stands for the kept one (customer merge)."""
    seen = {customer.id}
    while customer.merged_into_id is not None:
        customer = session.get(Customer, customer.merged_into_id)
        if customer.id in seen:  # a loop cannot be made by customer merge; stop rather than spin
            break
        seen.add(customer.id)
    return customer


def clean_text(value: str | None, what: str, limit: int = 2000, lines: bool = True) -> str | None:
    """Free text as typed: stripped, refused when too long or holding control characters (csdesk.text:
    newlines and tabs only where `lines`, never in names); '' → None."""
    from csdesk.text import check_text

    if value is None:
        return None
    what = _(FIELD_NAMES[what]) if what in FIELD_NAMES else what
    value = value.strip()
    if len(value) > limit:
        raise InvalidValue(_("{what} is longer than {limit} characters").format(what=what, limit=limit))
    value = check_text(value, what, lines)
    return value or None


def find_staff(session, name: str, active_only: bool = True) -> Staff:
    name = (name or "").strip()
    staff = session.exec(select(Staff).where(Staff.name == name)).first()
    if staff is None:
        raise NotFound(_("no staff member named {name!r}").format(name=name), hint=_("csdesk staff list shows the names"))
    if active_only and not staff.active:
        raise InvalidValue(_("{name} is no longer active").format(name=staff.name))
    return staff


def resolve_actor(session, name: str | None) -> Actor | None:
    """Who is acting; an unknown or inactive name is refused, no name means nobody."""
    if not name:
        return None
    staff = session.exec(select(Staff).where(Staff.name == name.strip())).first()
    if staff is None:
        raise PermissionDenied(_("unknown staff member {name!r} given as the person acting").format(name=name),
                               hint=_("csdesk staff list shows the names"))
    if not staff.active:
        raise PermissionDenied(_("{name} is no longer active and cannot act").format(name=staff.name))
    return Actor(staff.id, staff.name, staff.role)


def first_boss(session, staff_id: int | None, min_rank: int = 1) -> Staff | None:
    """The first *active* person above `staff_id` up the reports_to chain whose role ranks at least
    `min_rank` (1 specialist … 4 director); None when there is none. Escalations and notices use it."""
    seen: set[int] = set()
    person = session.get(Staff, staff_id) if staff_id else None
    boss_id = person.reports_to_id if person else None
    while boss_id and boss_id not in seen:
        seen.add(boss_id)
        boss = session.get(Staff, boss_id)
        if boss is None:
            break
        if boss.active and ROLE_RANK[boss.role] >= min_rank:
            return boss
        boss_id = boss.reports_to_id
    return None


def notice_boss(session, settings, staff_id: int | None, level: int = 2) -> int | None:
    """Whom a notice about `staff_id`'s work goes to (a breach, a missed callback): the first *active*
    person up the reports_to chain, as escalation does; when nobody active is left there, the default
    assignee of `level` (escalation.default_assignee), if set and active; else nobody (None)."""
    boss = first_boss(session, staff_id)
    if boss is not None:
        return boss.id
    level = min(max(level, 2), len(ROLES))  # the top level (complaint_rules.TOP_LEVEL)
    name = str(settings["escalation"]["default_assignee"].get(str(level)) or "").strip()
    if name:
        staff = session.exec(select(Staff).where(Staff.name == name)).first()
        if staff is not None and staff.active and staff.id != staff_id:
            return staff.id
    return None


def role_label(role: str | None) -> str:
    """A role as a person reads it: 客服主管, or in English its key (supervisor); an unknown role as it is.
    The one definition: workflows/__init__.py and project_labels.py use this one."""
    from csdesk.i18n import label

    role = role or ""
    return label(role, ROLE_LABELS.get(role, role))


# --- projects: what the projects area and the money modules built on it both read ---------------------

_PROJECT_CODE = re.compile(r"^P?\d{1,10}$", re.I)


def project_text(value: str | None, what: str, limit: int, required: bool = False, lines: bool = True) -> str | None:
    from csdesk.text import check_text

    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidValue(_("{what} cannot be empty").format(what=_(what)))
        return None
    if len(value) > limit:
        raise InvalidValue(_("{what} is longer than {limit} characters").format(what=_(what), limit=limit))
    return check_text(value, _(what), lines)



def find_project(session, code: str) -> Project:
    """A project by its code (P000012); a bare number is read as that code."""
    raw = (code or "").strip()
    if not raw:
        raise InvalidValue(_("no project given (use a code like P000012)"))
    if not _PROJECT_CODE.match(raw):
        raise NotFound(_("no project with code {code} (codes look like P000012)").format(code=repr(raw)))
    digits = raw.upper().lstrip("P")
    code = f"P{int(digits):06d}"
    project = session.exec(select(Project).where(Project.code == code)).first()
    if project is None:
        raise NotFound(_("no project with code {code}").format(code=code), hint=_("csdesk project list shows the projects"))
    return project



def local_date(value: datetime | None, tz) -> date | None:
    return value.astimezone(tz).date() if value is not None else None



def today(desk: Desk) -> date:
    return desk.now.astimezone(desk.tz).date()



def staff_filter(desk: Desk, name: str) -> int:
    """The staff id a list is filtered on: `me` (or 我) is the person acting, as `complaint list --assignee me`."""
    if name.strip().lower() in ("me", "我"):
        return desk.require_actor().id
    return find_staff(desk.session, name, active_only=False).id


# The stages of a project, in Chinese (also the Chinese accepted as input and what the reports read) and in
# English: the projects area and the money modules both show them (the other project words: project_labels.py).
STAGES = {
    "signed": "已签约", "handed_over": "已交付", "accepted": "已验收",
    "settled": "已结清", "archived": "已归档", "shelved": "已搁置",
}


STAGES_EN = {
    "signed": "signed", "handed_over": "handed over", "accepted": "accepted",
    "settled": "settled", "archived": "archived", "shelved": "shelved",
}


def stage_label(stage: str) -> str:
    from csdesk.i18n import label

    return label(STAGES_EN.get(stage, stage), STAGES.get(stage, stage))
