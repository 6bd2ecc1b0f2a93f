"""Dunning (催收): the configured ladder of steps (reminder → call → notice → lawyer), recording a step
in order (a manager may --skip with a reason), the history, and which step is due for which instalment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import func, select

from csdesk import dates
from csdesk.errors import InvalidTransition, InvalidValue, PermissionDenied
from csdesk.i18n import N_, _
from csdesk.models import CollectionStep, Instalment, Payment, PaymentAllocation, Project, Staff
from csdesk.money import from_fen
from csdesk.workflows import ROLE_RANK, ROLES, Desk, audit, snapshot
from csdesk.workflows.lookup import find_project, local_date, project_text as _text, role_label, stage_label, today
from csdesk.workflows.payment_plans import (
    INACTIVE_STAGES, STEPS, _chunks, _instalments, _last_steps, _open_instalments, _status, find_instalment,
    step_label,
)


@dataclass
class StepInfo:
    id: int
    project_code: str
    instalment: str
    step: str
    step_label: str
    at: datetime
    by: str | None
    note: str | None
    skipped: list[str] = field(default_factory=list)  # earlier steps a manager left out (--skip)
    skip_reason: str | None = None


@dataclass
class DueStep:
    """A dunning step whose day has come for an unpaid instalment and that has not been recorded."""

    instalment_id: int
    project_id: int
    project_code: str
    customer_code: str
    customer_name: str | None
    instalment: str
    step: str
    step_label: str
    step_due_on: date
    due_on: date
    days_overdue: int
    outstanding: Decimal
    owner: str | None
    owner_id: int | None
    min_role: str
    # When the owner's role is below min_role: the first active person up the owner's reports_to chain
    # who may record the step (the "step due" notice goes to them too); None when the owner may.
    recorder_id: int | None = None


def first_able_up_the_chain(chain: dict[int, tuple[str, int | None, bool]], owner_id: int | None, role: str) -> int | None:
    """The first active person above `owner_id` (following reports_to) whose role is `role` or higher.

    `chain` maps staff id → (role, reports_to id, active), read once. None when nobody up the chain may.
    """
    seen = {owner_id}
    boss = chain.get(owner_id, (None, None, None))[1] if owner_id is not None else None
    while boss is not None and boss not in seen:
        seen.add(boss)
        boss_role, above, active = chain.get(boss, (None, None, False))
        if active and boss_role in ROLE_RANK and ROLE_RANK[boss_role] >= ROLE_RANK[role]:
            return boss
        boss = above
    return None


def _staff_chain(session) -> dict[int, tuple[str, int | None, bool]]:
    return {i: (r, up, bool(a)) for i, r, up, a in session.exec(select(Staff.id, Staff.role, Staff.reports_to_id, Staff.active)).all()}


def ladder(desk: Desk) -> list[tuple[str, int]]:
    """The configured dunning ladder as (step, days after due), in ladder order, switched-off steps left out."""
    conf = desk.settings["collection"]["ladder"]
    out = []
    for step in STEPS:
        days = conf.get(step, -1)
        if not isinstance(days, int) or isinstance(days, bool) or days < -1:
            raise InvalidValue(_("config: collection.ladder.{step} must be a whole number of days (or -1 for off)").format(step=step))
        if days >= 0:
            out.append((step, days))
    return out


def step_role(desk: Desk, step: str) -> str:
    role = desk.settings["collection"]["roles"].get(step, "specialist")
    if role not in ROLES:
        raise InvalidValue(_("config: collection.roles.{step} must be one of: {choices}").format(step=step, choices=", ".join(ROLES)))
    return role


def check_step(value: str) -> str:
    value = (value or "").strip().lower()
    aliases = {"phone": "call", "letter": "notice", "催款函": "notice", "律师函": "lawyer", "提醒": "reminder", "电话": "call"}
    value = aliases.get(value, value)
    for key, chinese in STEPS.items():
        if value in (key, chinese):
            return key
    raise InvalidValue(_("unknown dunning step {value} (use one of: {choices})").format(value=repr(value), choices=", ".join(STEPS)))


def _paid_by(session, instalment_ids: list[int], at: datetime) -> dict[int, int]:
    """What had been received for each instalment by `at` (payments and reversals), in fen."""
    if not instalment_ids:
        return {}
    rows = session.exec(
        select(PaymentAllocation.instalment_id, func.sum(PaymentAllocation.amount_fen))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.instalment_id.in_(instalment_ids), Payment.received_at <= at)
        .group_by(PaymentAllocation.instalment_id)
    ).all()
    return {iid: int(fen or 0) for iid, fen in rows}


def chase(desk: Desk, code: str, step: str, note: str | None = None, instalment: str | None = None,
          at: datetime | None = None, skip: bool = False, reason: str | None = None) -> list[StepInfo]:
    """Record a dunning step for every instalment of the project (or the one named) that was due and unpaid at `at`.

    The ladder goes in order: a step is refused while an earlier step of the configured ladder has not
    been recorded for the instalment at or before `at`, unless a manager or above records it with
    `skip` and a reason (kept in the audit trail). Whether an instalment was due and unpaid is judged as
    of `at`, so a step typed in late is checked against the money received by then, not by today.
    """
    step = check_step(step)
    role = step_role(desk, step)
    actor = desk.require_actor()
    if actor.rank < ROLE_RANK[role]:
        raise PermissionDenied(_("a {step} step needs a {role} or above; {actor} is a {actor_role}").format(
            step=step_label(step), role=role_label(role), actor=actor.name, actor_role=role_label(actor.role)))
    reason = _text(reason, N_("the reason"), 500)
    if skip:
        desk.require_rank("manager", _("skipping dunning steps"))
        if not reason:
            raise InvalidValue(_("--skip needs --reason (why the earlier steps are left out)"))
    elif reason:
        raise InvalidValue(_("--reason goes with --skip"))
    session = desk.session
    project = find_project(session, code)
    if project.stage in INACTIVE_STAGES:
        raise InvalidTransition(_("{code} is {stage}; dunning is paused").format(code=project.code, stage=stage_label(project.stage)))
    at = at or desk.now
    if at > desk.now + timedelta(minutes=5):
        raise InvalidValue(_("a dunning step cannot be recorded in the future (check --at)"))
    note = _text(note, N_("the note"), 500)
    on = local_date(at, desk.tz)
    insts = _instalments(session, project.id)
    paid = _paid_by(session, [i.id for i in insts], at)

    def unpaid(inst: Instalment) -> bool:
        return paid.get(inst.id, 0) < inst.amount_fen

    if instalment:
        inst = find_instalment(insts, instalment, project)
        if not unpaid(inst):
            if at >= desk.now - timedelta(minutes=5):
                raise InvalidTransition(_("{name} of {code} is paid; there is nothing to chase").format(name=inst.name, code=project.code))
            raise InvalidTransition(_("{name} of {code} was paid by {at}; there is nothing to chase").format(
                name=inst.name, code=project.code, at=dates.fmt(at, desk.tz)))
        if inst.due_on is None or inst.due_on > on:
            raise InvalidTransition(_("{name} of {code} is not due yet ({due})").format(
                name=inst.name, code=project.code, due=inst.due_on or _("due date not known yet")))
        targets = [inst]
    else:
        targets = [i for i in insts if unpaid(i) and i.due_on is not None and i.due_on <= on]
        if not targets:
            raise InvalidTransition(_("nothing is due and unpaid on {code}; there is nothing to chase").format(code=project.code))
    order = list(STEPS)
    earlier = [s for s, _ in ladder(desk) if order.index(s) < order.index(step)]
    taken: dict[int, set[str]] = {}
    if earlier:
        for iid, s in session.exec(
            select(CollectionStep.instalment_id, CollectionStep.step)
            .where(CollectionStep.instalment_id.in_([i.id for i in targets]), CollectionStep.at <= at)
        ).all():
            taken.setdefault(iid, set()).add(s)
    missing = {i.id: [s for s in earlier if s not in taken.get(i.id, set())] for i in targets}
    if not skip:
        for inst in targets:
            if missing[inst.id]:
                names = ", ".join(step_label(s) for s in missing[inst.id])
                raise InvalidTransition(
                    _("{name} of {code} has had no {missing} by {at}; the dunning ladder goes in order, so a {step} cannot come first").format(
                        name=inst.name, code=project.code, missing=names, at=dates.fmt(at, desk.tz), step=step_label(step)),
                    hint=_("record the earlier steps first (with --at when they happened), or a manager skips them with --skip --reason TEXT"))
    elif not any(missing.values()):
        raise InvalidValue(_("--skip: no earlier step is missing before this {step}; record it without --skip").format(
            step=step_label(step)))
    out = []
    for inst in targets:
        row = CollectionStep(instalment_id=inst.id, project_id=project.id, step=step, at=at, by_id=actor.id, note=note)
        session.add(row)
        skipped = missing[inst.id] if skip else []
        if skipped:
            session.flush()
            audit(desk, "payment.chase", row, after={**snapshot(row), "skipped": skipped, "reason": reason})
        else:
            audit(desk, "payment.chase", row)
        out.append(StepInfo(row.id, project.code, inst.name, step, step_label(step), at, actor.name, note, skipped,
                            reason if skipped else None))
    return out


def collection_history(desk: Desk, project: Project) -> list[StepInfo]:
    rows = desk.session.exec(
        select(CollectionStep, Instalment.name, Staff.name).join(Instalment, Instalment.id == CollectionStep.instalment_id)
        .outerjoin(Staff, Staff.id == CollectionStep.by_id)
        .where(CollectionStep.project_id == project.id).order_by(CollectionStep.at, CollectionStep.id)
    ).all()
    out = [StepInfo(s.id, project.code, name, s.step, step_label(s.step), s.at, who, s.note) for s, name, who in rows]
    _add_skips(desk.session, out)
    return out


def _add_skips(session, steps: list[StepInfo]) -> None:
    """The steps a manager skipped (--skip) and why, from the steps' audit entries."""
    import json

    from csdesk.models import AuditEntry

    if not steps:
        return
    by_id = {s.id: s for s in steps}
    for chunk in _chunks(list(by_id)):
        for entity_id, after in session.exec(
            select(AuditEntry.entity_id, AuditEntry.after).where(
                AuditEntry.entity == "collection_step", AuditEntry.action == "payment.chase", AuditEntry.entity_id.in_(chunk),
                AuditEntry.after.contains('"skipped"'))
        ).all():
            try:
                data = json.loads(after or "{}")
            except ValueError:
                continue
            step = by_id.get(entity_id)
            if step is not None and isinstance(data.get("skipped"), list):
                step.skipped = [str(x) for x in data["skipped"]]
                step.skip_reason = data.get("reason")


def due_collection_steps(desk: Desk, now: datetime, project_id: int | None = None) -> list[DueStep]:
    """Which dunning step is due for which instalment at `now`.

    A step is due when its day has come (the instalment's due date + the step's days, local dates), the
    instalment is still unpaid, its project is active (not shelved or archived), the step has not been
    recorded for it, and no later step of the ladder has been recorded either.
    """
    on = now.astimezone(desk.tz).date()
    steps = ladder(desk)
    if not steps:
        return []
    first = min(days for _, days in steps)
    cond = [Instalment.due_on <= on - timedelta(days=first)]
    if project_id is not None:
        cond.append(Instalment.project_id == project_id)
    rows = _open_instalments(desk, on, *cond)
    if not rows:
        return []
    done: dict[int, set[str]] = {}
    recorded = desk.session.exec(
        select(CollectionStep.instalment_id, CollectionStep.step).join(Instalment, Instalment.id == CollectionStep.instalment_id)
        .join(Project, Project.id == Instalment.project_id)
        .where(Instalment.paid_fen < Instalment.amount_fen, Project.stage.not_in(INACTIVE_STAGES), *cond)
    ).all()
    for iid, step in recorded:
        done.setdefault(iid, set()).add(step)
    rank = {step: i for i, step in enumerate(STEPS)}
    roles = {step: step_role(desk, step) for step, _ in steps}
    ladder_steps = [(step, days, rank[step], timedelta(days=days)) for step, days in steps]
    chain: dict[int, tuple[str, int | None, bool]] | None = None
    recorders: dict[tuple[int | None, str], int | None] = {}
    out = []
    for r in rows:
        taken = done.get(r.id)
        highest = max(rank.get(s, -1) for s in taken) if taken else -1
        late = (on - r.due_on).days
        owed = None
        for step, days, position, delta in ladder_steps:
            if late >= days and position > highest:
                owed = owed if owed is not None else from_fen(r.amount_fen - r.paid_fen)
                key = (r.owner_id, roles[step])
                if key not in recorders:
                    if chain is None:
                        chain = _staff_chain(desk.session)
                    owner_role = chain.get(r.owner_id, (None,))[0] if r.owner_id is not None else None
                    able = owner_role in ROLE_RANK and ROLE_RANK[owner_role] >= ROLE_RANK[roles[step]]
                    recorders[key] = None if able else first_able_up_the_chain(chain, r.owner_id, roles[step])
                out.append(DueStep(
                    r.id, r.project_id, r.project_code, r.customer_code, r.customer_name, r.name, step, step_label(step),
                    r.due_on + delta, r.due_on, max(late, 0), owed, r.owner, r.owner_id, roles[step], recorders[key],
                ))
    return out


def project_due_steps(desk: Desk, project: Project) -> list[DueStep]:
    return due_collection_steps(desk, desk.now, project.id)


def owed_by_customer(desk: Desk, customer_id: int) -> list[dict[str, Any]]:
    """A customer's instalments that are due or overdue and unpaid, with the dunning so far and next."""
    on = today(desk)
    rows = desk.session.exec(
        select(Instalment, Project).join(Project, Project.id == Instalment.project_id)
        .where(Project.customer_id == customer_id, Instalment.paid_fen < Instalment.amount_fen, Instalment.due_on <= on)
        .order_by(Instalment.due_on, Instalment.id)
    ).all()
    if not rows:
        return []
    last = _last_steps(desk.session, [i.id for i, _ in rows])
    upcoming: dict[int, str] = {}
    for project_id in {p.id for _, p in rows}:
        for due in due_collection_steps(desk, desk.now, project_id):
            upcoming.setdefault(due.instalment_id, due.step)
    out = []
    for inst, project in rows:
        status, late = _status(inst, on)
        step = last.get(inst.id)
        out.append({
            # Keys are the JSON contract; N_ puts them in the catalogue for the card's column headers.
            N_("project"): project.code, N_("instalment"): inst.name, N_("due"): inst.due_on,
            N_("outstanding"): from_fen(inst.amount_fen - inst.paid_fen), N_("days overdue"): late,
            N_("last step"): f"{step_label(step[0])} {dates.fmt(step[1], desk.tz)[:10]}" if step else "",
            N_("next step"): step_label(upcoming[inst.id]) if inst.id in upcoming else "",
        })
    return out
