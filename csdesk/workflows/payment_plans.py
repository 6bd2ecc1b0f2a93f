"""Payment plans: a project's contract split into instalments, their due dates and status, and the
instalment lists (what is owed, due soon, overdue). The base of the money area: payments received,
dunning and aging (payments_received.py, dunning.py, aging.py) build on it; payments.py gathers them.

Rules kept here: a plan's parts add up to the contract exactly (percentages to exactly 100 %); no
instalment falls due before its project's signing date; a due date is known once its event has
happened (sign, handover, accept, + a span) or is a fixed date; an instalment is overdue from the day
after its due date; a project that is accepted and fully paid is settled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import func, select

from csdesk import dates
from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound
from csdesk.i18n import N_, _, label
from csdesk.models import CollectionStep, Customer, Instalment, PaymentAllocation, Project, Staff
from csdesk.money import from_fen, parse_amount, round_fen, split_exact, to_fen
from csdesk.workflows import Desk, audit, check_limit, hooks, snapshot
from csdesk.workflows.lookup import find_project, local_date, project_text as _text, stage_label, staff_filter, today


EVENTS = {"sign": "签约", "handover": "交付", "accept": "验收", "date": "固定日期"}


EVENT_ALIASES = {
    "sign": "sign", "signed": "sign", "signing": "sign", "签约": "sign", "签订": "sign",
    "handover": "handover", "handed_over": "handover", "handed-over": "handover", "交付": "handover", "交房": "handover",
    "摆场": "handover", "accept": "accept", "accepted": "accept", "acceptance": "accept", "验收": "accept",
}


STEPS = {"reminder": "提醒", "call": "电话催收", "notice": "催款函", "lawyer": "律师函"}


METHODS = {"transfer": "转账", "cash": "现金", "cheque": "支票", "other": "其他"}


INSTALMENT_STATUSES = {"paid": "已付清", "overdue": "逾期", "due": "今日到期", "not_due": "未到期", "pending": "到期日待定"}


# The Chinese names above are also Chinese input and what the reports show; in English (label()):
# In English a step is called by its code (what --step takes).
STEPS_EN = {"reminder": "reminder", "call": "call", "notice": "notice", "lawyer": "lawyer"}


METHODS_EN = {"transfer": "transfer", "cash": "cash", "cheque": "cheque", "other": "other"}


INSTALMENT_STATUSES_EN = {"paid": "paid", "overdue": "overdue", "due": "due today", "not_due": "not due", "pending": "due date pending"}


def step_label(step: str) -> str:
    return label(STEPS_EN.get(step, step), STEPS.get(step, step))


def method_label(method: str) -> str:
    return label(METHODS_EN.get(method, method), METHODS.get(method, method))


def instalment_status_label(status: str) -> str:
    return label(INSTALMENT_STATUSES_EN.get(status, status), INSTALMENT_STATUSES.get(status, status))


INACTIVE_STAGES = ("shelved", "archived")


@dataclass
class PlanPart:
    name: str
    percent: Decimal | None  # a share of the contract, or
    amount: Decimal | None  # an exact sum
    due_event: str  # sign | handover | accept | date
    due_after: str | None = None  # 30d, 2w, 1m
    due_on: date | None = None  # a fixed date

    @property
    def rule(self) -> str:
        return due_rule(self.due_event, self.due_after, self.due_on)


@dataclass
class InstalmentInfo:
    id: int
    project_code: str
    seq: int
    name: str
    amount: Decimal
    due_rule: str
    due_on: date | None
    paid: Decimal
    outstanding: Decimal
    status: str
    status_label: str
    days_overdue: int
    paid_on: date | None = None
    last_step: str | None = None
    last_step_at: datetime | None = None
    customer_code: str | None = None
    customer_name: str | None = None
    owner: str | None = None
    owner_id: int | None = None
    project_id: int | None = None


@dataclass
class PlanView:
    project: Any  # the project's header (projects.ProjectInfo), asked of the projects area: hooks "project_header"
    instalments: list[InstalmentInfo]
    planned: Decimal
    paid: Decimal
    outstanding: Decimal


def due_rule(event: str, after: str | None, on: date | None) -> str:
    if event == "date":
        return on.isoformat() if on else "date"
    return event + (f"+{after}" if after else "")


_SPAN_WORDS = {"days": "天", "weeks": "周", "months": "个月", "years": "年"}


def due_rule_label(rule: str) -> str:
    """A due rule as a person reads it: `accept+30d` is 验收后30天 in Chinese; in English the rule as typed
    (the same words `--split` takes). Dates stay dates."""
    from csdesk.dates import span_parts
    from csdesk.i18n import is_english

    if is_english() or re.fullmatch(r"\d{4}-\d{2}-\d{2}", rule):
        return rule
    event, _plus, after = rule.partition("+")
    word = EVENTS.get(event, event)
    if not after:
        return word
    parts = span_parts(after)
    return f"{word}后{parts[0]}{_SPAN_WORDS[parts[1]]}" if parts else f"{word}+{after}"


def _split_parts(text: str) -> list[str]:
    # Parts are separated by ; or a comma that is not a thousands separator (12,000.50 stays whole).
    text = text.replace("；", ";").replace("，", ",").replace("：", ":")
    pieces = re.split(r";|,(?!\d{3}(?:\D|$))", text)
    return [p.strip() for p in pieces if p.strip()]


def parse_due(text: str, tz, at: datetime | None = None) -> tuple[str, str | None, date | None]:
    """When an instalment falls due: `sign`, `handover`, `accept`, `accept+30d`, `handover+2w`, or a date."""
    raw = text
    value = (text or "").strip().lower().replace(" ", "")
    if not value:
        raise InvalidValue(_("say when each instalment falls due (sign, handover, accept, accept+30d or a date)"))
    m = re.fullmatch(r"([^+]+?)(?:\+(.+))?", value)
    event = EVENT_ALIASES.get(m.group(1)) if m else None
    if event:
        after = None
        if m.group(2):
            span = m.group(2)
            dates.parse_span(span)  # refuses what it cannot read
            after = span
        return event, after, None
    try:
        return "date", None, dates.parse_date(raw, tz=tz, at=at)
    except InvalidValue:
        raise InvalidValue(_("{text} is not a due rule (use sign, handover, accept, accept+30d, handover+2w or a date)").format(
            text=repr(raw))) from None


def parse_split(text: str, tz, at: datetime | None = None) -> list[PlanPart]:
    """`"首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d"` → the parts of a plan."""
    pieces = _split_parts(text or "")
    if not pieces:
        raise InvalidValue(_('an empty plan (try --split "首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d")'))
    parts: list[PlanPart] = []
    for piece in pieces:
        fields = [f.strip() for f in piece.split(":")]
        if len(fields) != 3:
            raise InvalidValue(_("{part}: each part is NAME:AMOUNT:WHEN, e.g. 尾款:30%:accept+30d").format(part=repr(piece)))
        name, amount, when = fields
        name = _text(name, N_("an instalment name"), 40, required=True, lines=False)
        if any(p.name == name for p in parts):
            raise InvalidValue(_("two instalments are named {name}").format(name=repr(name)))
        percent = value = None
        if amount.endswith("%"):
            try:
                percent = Decimal(amount[:-1].strip())
            except InvalidOperation:
                raise InvalidValue(_("{amount} is not a percentage").format(amount=repr(amount))) from None
            if not percent.is_finite() or not 0 < percent <= 100:
                raise InvalidValue(_("{amount}: a percentage must be more than 0 and at most 100").format(amount=repr(amount)))
        else:
            value = parse_amount(amount)
        event, after, on = parse_due(when, tz, at)
        parts.append(PlanPart(name, percent, value, event, after, on))
    return parts


def plan_amounts(contract_fen: int, parts: list[PlanPart]) -> list[int]:
    """Each part's amount in fen, adding up to the contract exactly, or InvalidValue saying by how much not."""
    from csdesk.money import fmt_money

    fixed = sum(to_fen(p.amount) for p in parts if p.amount is not None)
    percents = [p.percent for p in parts if p.percent is not None]
    if not percents:
        if fixed != contract_fen:
            diff = contract_fen - fixed
            gap = (_("{amount} short") if diff > 0 else _("{amount} too much")).format(amount=fmt_money(abs(diff)))
            raise InvalidValue(_("the plan adds up to {plan} but the contract is {contract} ({gap})").format(
                plan=fmt_money(fixed), contract=fmt_money(contract_fen), gap=gap))
        return [to_fen(p.amount) for p in parts]
    exact = Decimal(fixed) + sum(Decimal(contract_fen) * q / 100 for q in percents)
    if abs(exact - contract_fen) >= 1:
        diff = Decimal(contract_fen) - exact
        total = sum(percents)
        gap = (_("{amount} short") if diff > 0 else _("{amount} too much")).format(amount=fmt_money(abs(round_fen(diff))))
        raise InvalidValue(_("the plan adds up to {plan} ({percent}% + {fixed} fixed) but the contract is {contract} ({gap})").format(
            plan=fmt_money(round_fen(exact)), percent=total, fixed=fmt_money(fixed), contract=fmt_money(contract_fen), gap=gap))
    if exact != contract_fen:
        # Less than a fen off: the rounding would hide it, but the plan is still not the whole contract.
        share = (exact * 100 / contract_fen).normalize()
        raise InvalidValue(
            _("the plan's parts add up to {share}% of the contract, not exactly 100% ({percent}% + {fixed} fixed)").format(
                share=f"{share:f}", percent=sum(percents), fixed=fmt_money(fixed)),
            hint=_("percentages must add up to exactly 100 (e.g. 33.33%, 33.33%, 33.34%); or give exact amounts"))
    if fixed == 0:
        shares = split_exact(contract_fen, percents)
    else:
        shares = [round_fen(Decimal(contract_fen) * q / 100) for q in percents[:-1]]
        shares.append(contract_fen - fixed - sum(shares))
    out, i = [], 0
    for p in parts:
        if p.amount is not None:
            out.append(to_fen(p.amount))
        else:
            out.append(shares[i])
            i += 1
    for p, fen in zip(parts, out):
        if fen <= 0:
            raise InvalidValue(_("instalment {name} would be {amount}; every instalment must be more than zero").format(
                name=repr(p.name), amount=fmt_money(fen)))
    return out


def event_date(project: Project, event: str, tz) -> date | None:
    if event == "sign":
        return project.signed_on
    if event == "handover":
        return local_date(project.handed_over_at, tz)
    if event == "accept":
        return local_date(project.accepted_at, tz)
    return None


def compute_due(project: Project, inst: Instalment, tz) -> date | None:
    if inst.due_event == "date":
        return inst.due_on
    base = event_date(project, inst.due_event, tz)
    if base is None:
        return None
    return base + dates.parse_span(inst.due_after) if inst.due_after else base


def refresh_due_dates(desk: Desk, project: Project) -> None:
    """Fix the due dates of the instalments whose event has now happened (or moved)."""
    rows = desk.session.exec(select(Instalment).where(Instalment.project_id == project.id).order_by(Instalment.seq)).all()
    for inst in rows:
        due = compute_due(project, inst, desk.tz)
        if due != inst.due_on:
            before = snapshot(inst)
            inst.due_on = due
            desk.session.add(inst)
            audit(desk, "instalment.due", inst, before=before)


def _instalments(session, project_id: int) -> list[Instalment]:
    return list(session.exec(select(Instalment).where(Instalment.project_id == project_id).order_by(Instalment.seq)).all())


def make_plan(desk: Desk, code: str, split: str, replace: bool = False) -> PlanView:
    """Split the contract into instalments; refused unless they add up to it exactly."""
    desk.require_actor()
    session = desk.session
    project = find_project(session, code)
    if project.stage in ("archived", "settled"):
        raise InvalidTransition(_("{code} is {stage}; its plan cannot change").format(code=project.code, stage=stage_label(project.stage)))
    parts = parse_split(split, desk.tz, desk.now)
    amounts = plan_amounts(project.contract_fen, parts)
    for part in parts:
        # A part of the contract cannot fall due before the contract is signed: history as of any day
        # before the signing would otherwise show money owed on a project that did not exist yet.
        if part.due_on is not None and project.signed_on is not None and part.due_on < project.signed_on:
            raise InvalidValue(_("{name} would fall due on {due}, before {code} was signed ({signed})").format(
                name=part.name, due=part.due_on, code=project.code, signed=project.signed_on))
    existing = _instalments(session, project.id)
    if existing:
        if not replace:
            raise Conflict(_("{code} already has a payment plan of {n} instalments").format(code=project.code, n=len(existing)),
                           hint=_("csdesk payment plan {code} shows it; --replace makes a new one while nothing is paid").format(code=project.code))
        paid = session.exec(
            select(func.count()).select_from(PaymentAllocation).where(PaymentAllocation.instalment_id.in_([i.id for i in existing]))
        ).one()
        if paid:
            raise InvalidTransition(_("payments are recorded against {code}'s plan; it cannot be replaced").format(code=project.code))
        for inst in existing:
            audit(desk, "instalment.remove", inst, before=snapshot(inst), after={})
            session.delete(inst)
        session.flush()
    for seq, (part, fen) in enumerate(zip(parts, amounts), start=1):
        inst = Instalment(project_id=project.id, seq=seq, name=part.name, amount_fen=fen, due_event=part.due_event,
                          due_after=part.due_after, due_on=part.due_on, paid_fen=0, created_at=desk.now)
        inst.due_on = compute_due(project, inst, desk.tz)
        session.add(inst)
        audit(desk, "instalment.add", inst)
    return plan_view(desk, project.code)


def plan_view(desk: Desk, code: str) -> PlanView:
    project = find_project(desk.session, code)
    insts = instalment_infos(desk, project)
    planned = sum((i.amount for i in insts), Decimal("0.00"))
    paid = sum((i.paid for i in insts), Decimal("0.00"))
    header = hooks.ask("project_header", desk, project)  # answered by projects.py: money never imports projects
    return PlanView(header, insts, planned, paid, planned - paid)


def _status(inst: Instalment, on: date) -> tuple[str, int]:
    if inst.paid_fen >= inst.amount_fen:
        return "paid", 0
    if inst.due_on is None:
        return "pending", 0
    if inst.due_on < on:
        return "overdue", (on - inst.due_on).days
    if inst.due_on == on:
        return "due", 0
    return "not_due", 0


def _instalment_info(inst: Instalment, project: Project, on: date, customer: Customer | None = None,
                     owner: str | None = None, last: tuple[str, datetime] | None = None) -> InstalmentInfo:
    status, late = _status(inst, on)
    return InstalmentInfo(
        id=inst.id, project_code=project.code, seq=inst.seq, name=inst.name, amount=from_fen(inst.amount_fen),
        due_rule=due_rule(inst.due_event, inst.due_after, inst.due_on), due_on=inst.due_on, paid=from_fen(inst.paid_fen),
        outstanding=from_fen(inst.amount_fen - inst.paid_fen), status=status, status_label=instalment_status_label(status),
        days_overdue=late, paid_on=inst.paid_on, last_step=last[0] if last else None, last_step_at=last[1] if last else None,
        customer_code=customer.code if customer else None, customer_name=customer.name if customer else None,
        owner=owner, owner_id=project.owner_id, project_id=project.id,
    )


def _last_steps(session, instalment_ids: list[int]) -> dict[int, tuple[str, datetime]]:
    out: dict[int, tuple[str, datetime]] = {}
    for chunk in _chunks(instalment_ids):
        rows = session.exec(
            select(CollectionStep.instalment_id, CollectionStep.step, CollectionStep.at)
            .where(CollectionStep.instalment_id.in_(chunk)).order_by(CollectionStep.at, CollectionStep.id)
        ).all()
        for iid, step, at in rows:
            out[iid] = (step, at)
    return out


def _chunks(ids: list[int], size: int = 500):
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def instalment_infos(desk: Desk, project: Project) -> list[InstalmentInfo]:
    rows = _instalments(desk.session, project.id)
    last = _last_steps(desk.session, [i.id for i in rows])
    on = today(desk)
    return [_instalment_info(i, project, on, last=last.get(i.id)) for i in rows]


def find_instalment(insts: list[Instalment], ref: str, project: Project) -> Instalment:
    ref = (ref or "").strip()
    for inst in insts:
        if inst.name == ref:
            return inst
    if ref.lstrip("#").isdigit():
        seq = int(ref.lstrip("#"))
        for inst in insts:
            if inst.seq == seq:
                return inst
    names = ", ".join(i.name for i in insts)
    raise NotFound(_("{code} has no instalment {ref} (its instalments: {names})").format(code=project.code, ref=repr(ref), names=names))


def settle_if_paid(desk: Desk, project: Project) -> bool:
    """An accepted project whose every instalment is paid becomes settled."""
    if project.stage != "accepted":
        return False
    insts = _instalments(desk.session, project.id)
    if insts and all(i.paid_fen >= i.amount_fen for i in insts):
        before = snapshot(project)
        project.stage = "settled"
        desk.session.add(project)
        audit(desk, "project.settle", project, before=before)
        return True
    return False


# What a project's stage change means for its money: projects.py fires these events (it never imports
# this module); hooks.LISTENER_MODULES loads this module before the first event.
@hooks.listen("project_dates_changed")
def _on_project_dates_changed(desk: Desk, project_id: int, **_kw) -> None:
    refresh_due_dates(desk, desk.session.get(Project, project_id))


@hooks.listen("project_stage_changed")
def _on_project_stage_changed(desk: Desk, project_id: int, **_kw) -> bool:
    return settle_if_paid(desk, desk.session.get(Project, project_id))


def _unsettle_if_open(desk: Desk, project: Project) -> None:
    if project.stage != "settled":
        return
    if any(i.paid_fen < i.amount_fen for i in _instalments(desk.session, project.id)):
        before = snapshot(project)
        project.stage = "accepted"
        desk.session.add(project)
        audit(desk, "project.unsettle", project, before=before)


_ROW_COLUMNS = (
    Instalment.id, Instalment.project_id, Instalment.seq, Instalment.name, Instalment.amount_fen, Instalment.due_event,
    Instalment.due_after, Instalment.due_on, Instalment.paid_fen, Instalment.paid_on, Project.code.label("project_code"),
    Project.owner_id, Customer.code.label("customer_code"), Customer.name.label("customer_name"), Staff.name.label("owner"),
)


def _rows(*conditions):
    """Instalments as plain rows (no ORM objects: reminder runs read thousands) with project, customer, owner."""
    return (
        select(*_ROW_COLUMNS).select_from(Instalment)
        .join(Project, Project.id == Instalment.project_id).join(Customer, Customer.id == Project.customer_id)
        .outerjoin(Staff, Staff.id == Project.owner_id).where(*conditions)
    )


def _open_instalments(desk: Desk, on: date, *conditions):
    """Unpaid instalments on active projects."""
    return desk.session.execute(
        _rows(Instalment.paid_fen < Instalment.amount_fen, Project.stage.not_in(INACTIVE_STAGES), *conditions)
        .order_by(Instalment.due_on, Instalment.id)
    ).all()


def _row_info(r, on: date, last: tuple[str, datetime] | None) -> InstalmentInfo:
    status, late = _status(r, on)
    return InstalmentInfo(
        id=r.id, project_code=r.project_code, seq=r.seq, name=r.name, amount=from_fen(r.amount_fen),
        due_rule=due_rule(r.due_event, r.due_after, r.due_on), due_on=r.due_on, paid=from_fen(r.paid_fen),
        outstanding=from_fen(r.amount_fen - r.paid_fen), status=status, status_label=instalment_status_label(status),
        days_overdue=late, paid_on=r.paid_on, last_step=last[0] if last else None, last_step_at=last[1] if last else None,
        customer_code=r.customer_code, customer_name=r.customer_name, owner=r.owner or "", owner_id=r.owner_id,
        project_id=r.project_id,
    )


def _infos_from_rows(desk: Desk, rows, on: date, last_steps: bool = True) -> list[InstalmentInfo]:
    last = _last_steps(desk.session, [r.id for r in rows]) if last_steps else {}
    return [_row_info(r, on, last.get(r.id)) for r in rows]


def instalments_due_within(desk: Desk, now: datetime, days: int, last_steps: bool = True) -> list[InstalmentInfo]:
    """Unpaid instalments (active projects) falling due from `now`'s local date to `days` days later.
    `last_steps=False` leaves out the last dunning step of each (a query fewer, for the reminder run)."""
    on = now.astimezone(desk.tz).date()
    rows = _open_instalments(desk, on, Instalment.due_on >= on, Instalment.due_on <= on + timedelta(days=days))
    return _infos_from_rows(desk, rows, on, last_steps)


def overdue_instalments(desk: Desk, now: datetime, last_steps: bool = True) -> list[InstalmentInfo]:
    """Unpaid instalments (active projects) whose due date is before `now`'s local date (`last_steps` as above)."""
    on = now.astimezone(desk.tz).date()
    rows = _open_instalments(desk, on, Instalment.due_on < on)
    return _infos_from_rows(desk, rows, on, last_steps)


def list_instalments(
    desk: Desk,
    overdue: bool = False,
    due_within: int | None = None,
    project: str | None = None,
    customer: str | None = None,
    owner: str | None = None,
    include_paid: bool = False,
    limit: int = 100,
) -> tuple[list[InstalmentInfo], int]:
    """Instalments, soonest due first: by default everything still owed (any project stage)."""
    from csdesk.workflows.lookup import find_customer

    check_limit(limit)
    session = desk.session
    on = today(desk)
    conditions = []
    if not include_paid or overdue or due_within is not None:
        conditions.append(Instalment.paid_fen < Instalment.amount_fen)
    if overdue and due_within is not None:
        conditions.append(Instalment.due_on <= on + timedelta(days=due_within))
    elif overdue:
        conditions.append(Instalment.due_on < on)
    elif due_within is not None:
        conditions += [Instalment.due_on >= on, Instalment.due_on <= on + timedelta(days=due_within)]
    if project:
        conditions.append(Instalment.project_id == find_project(session, project).id)
    if customer:
        conditions.append(Project.customer_id == find_customer(session, customer).id)
    if owner:
        conditions.append(Project.owner_id == staff_filter(desk, owner))
    total = session.exec(
        select(func.count()).select_from(Instalment).join(Project, Project.id == Instalment.project_id).where(*conditions)
    ).one()
    # Instalments whose due date is not known yet come last; with a due-date filter there are none.
    order = (Instalment.due_on, Instalment.id) if (overdue or due_within is not None) else (
        Instalment.due_on.is_(None), Instalment.due_on, Instalment.id)
    rows = session.execute(_rows(*conditions).order_by(*order).limit(limit)).all()
    return _infos_from_rows(desk, rows, on), total
