"""Staff grades (初级 junior, 中级 intermediate, 高级 senior) and who may manage key-account customers.

Only intermediate and senior staff manage key accounts (重点客户). The checks here are called where a
customer's tier or manager is set (customers, imports, hand-overs) and where a grade is lowered (staff),
so that a junior never becomes a key account's manager; `unmanaged_key_accounts` lists the key accounts
that have no qualified manager anyway (none at all, someone who left, or a junior from before the rule),
for `customer list --tier key --unmanaged` and the reminder run.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from csdesk.errors import Conflict, InvalidValue
from csdesk.i18n import N_, _
from csdesk.models import Customer, Staff

GRADES = ("junior", "intermediate", "senior")
GRADE_LABELS = {"junior": N_("junior"), "intermediate": N_("intermediate"), "senior": N_("senior")}
QUALIFIED = ("intermediate", "senior")  # may manage key accounts
DEFAULT_GRADE = "intermediate"  # `staff add` without --grade, and staff already there before migration 0012
_ALIASES = {"初级": "junior", "中级": "intermediate", "高级": "senior", "jr": "junior", "mid": "intermediate",
            "middle": "intermediate", "sr": "senior"}


def check_grade(value: str | None) -> str:
    """A grade as typed (English or Chinese) → its code; None or '' → the default grade."""
    text = (value or "").strip()
    if not text:
        return DEFAULT_GRADE
    grade = _ALIASES.get(text, _ALIASES.get(text.lower(), text.lower()))
    if grade not in GRADES:
        raise InvalidValue(_("Unknown grade {value!r}: use junior (初级), intermediate (中级) or senior (高级).").format(value=text))
    return grade


def grade_label(grade: str | None) -> str:
    return _(GRADE_LABELS[grade]) if grade in GRADE_LABELS else (grade or "")


def qualified(staff: Staff | None) -> bool:
    """Active and intermediate or senior: fit to manage a key account."""
    return staff is not None and staff.active and (staff.grade or DEFAULT_GRADE) in QUALIFIED


def check_customer(session, customer: Customer, before: dict | None = None) -> None:
    """Refuse a key-account customer whose manager is junior. `before` (the row's snapshot before an
    edit) says which change to name: a new manager, or the tier raised to key."""
    if customer.tier != "key" or not customer.manager_id:
        return
    manager = session.get(Staff, customer.manager_id)
    if manager is None or (manager.grade or DEFAULT_GRADE) in QUALIFIED:
        return
    code = customer.code
    if before is not None and before.get("tier") != "key" and before.get("manager_id") == customer.manager_id:
        raise InvalidValue(_(
            "{code} cannot become a key account while its account manager {name} is junior: only intermediate "
            "or senior staff may manage key accounts."
        ).format(code=code, name=manager.name), hint=_("Give it another manager first (customer edit --manager), or raise "
                                                        "{name}'s grade (staff edit --grade).").format(name=manager.name))
    if code is None:  # a new customer
        raise InvalidValue(_("{name} is junior and cannot manage a key account: only intermediate or senior staff may "
                             "manage key accounts.").format(name=manager.name))
    raise InvalidValue(_(
        "{name} is junior and cannot manage the key account {code}: only intermediate or senior staff may manage key accounts."
    ).format(code=code, name=manager.name))


def check_import_row(session, tier: str | None, manager_id: int | None) -> None:
    """One row of a customer import: a key account's manager must not be junior."""
    if tier != "key" or not manager_id:
        return
    manager = session.get(Staff, manager_id)
    if manager is not None and (manager.grade or DEFAULT_GRADE) not in QUALIFIED:
        raise InvalidValue(_("{name} is junior and cannot manage a key account: only intermediate or senior staff may "
                             "manage key accounts.").format(name=manager.name))


def check_lowering(session, staff: Staff, new_grade: str) -> None:
    """Refuse making someone junior while they manage key accounts."""
    if new_grade in QUALIFIED:
        return
    codes = session.exec(select(Customer.code).where(
        Customer.manager_id == staff.id, Customer.tier == "key", Customer.merged_into_id.is_(None)).order_by(Customer.id)).all()
    if codes:
        shown = ", ".join(codes[:5]) + ("…" if len(codes) > 5 else "")
        raise Conflict(_(
            "{name} manages {n} key accounts ({codes}) and cannot become junior: only intermediate or senior staff may "
            "manage key accounts."
        ).format(name=staff.name, n=len(codes), codes=shown),
            hint=_("Give those customers another manager first (customer edit CODE --manager NAME, or staff handover)."))


# ---- key accounts without a qualified manager -------------------------------------------------------

REASONS = {"no_manager": N_("no account manager"), "inactive": N_("the manager has left"), "junior": N_("the manager is junior")}


@dataclass
class UnmanagedAccount:
    id: int
    code: str
    name: str | None
    company: str | None
    manager: str | None
    manager_id: int | None
    manager_grade: str | None
    manager_grade_label: str | None
    reason: str  # no_manager | inactive | junior
    reason_label: str


def unmanaged_key_accounts(session, limit: int | None = None) -> tuple[list[UnmanagedAccount], int]:
    """Key-account customers without an active intermediate or senior manager (oldest first), and how many."""
    rows = session.exec(
        select(Customer, Staff).join(Staff, Staff.id == Customer.manager_id, isouter=True)
        .where(Customer.tier == "key", Customer.merged_into_id.is_(None)).order_by(Customer.id)
    ).all()
    out = []
    for customer, manager in rows:
        if qualified(manager):
            continue
        reason = "no_manager" if manager is None else "inactive" if not manager.active else "junior"
        grade = (manager.grade or DEFAULT_GRADE) if manager is not None else None
        out.append(UnmanagedAccount(
            customer.id, customer.code, customer.name, customer.company, manager.name if manager else None,
            manager.id if manager else None, grade, grade_label(grade) if grade else None, reason, _(REASONS[reason])))
    total = len(out)
    return (out[:limit] if limit is not None else out), total


def unmanaged_announcements(desk, settings) -> list:
    """For the reminder run: each key account without a qualified manager, announced once per situation
    (customer, reason, manager) to the manager (when still active) and the first active person above
    them; with no manager, or nobody above, to the department's managers (客服经理), else to the
    escalation.default_assignee of level 2."""
    from csdesk.workflows.lookup import notice_boss
    from csdesk.workflows.reminders import Announcement

    session = desk.session
    rows, _total = unmanaged_key_accounts(session)
    if not rows:
        return []
    heads = [s.id for s in session.exec(select(Staff).where(Staff.role == "manager", Staff.active == True).order_by(Staff.id)).all()]  # noqa: E712
    out = []
    for r in rows:
        recipients: list[int] = []
        if r.manager_id is not None and r.reason != "inactive":
            recipients.append(r.manager_id)
        boss = notice_boss(session, settings, r.manager_id, 2) if r.manager_id is not None else None
        if boss is None and r.manager_id is None:
            boss = notice_boss(session, settings, None, 2)
        if boss is not None and boss not in recipients:
            recipients.append(boss)
        if len(recipients) == (1 if r.reason == "junior" else 0):
            recipients += [h for h in heads if h not in recipients]
        if not recipients:
            continue
        message = _("Key account {code} {name} has no qualified manager: {why}{who}.").format(
            code=r.code, name=r.name or "", why=r.reason_label, who=f" ({r.manager})" if r.manager else "")
        out.append(Announcement(
            key=f"customer.unmanaged:{r.id}:{r.reason}:{r.manager_id or 0}", kind="key_account_unmanaged", entity="customer",
            entity_id=r.id, recipients=recipients, message=message))
    return out
