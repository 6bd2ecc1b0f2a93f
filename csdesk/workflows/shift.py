"""The shift handover log (交接班): the outgoing person hands the shift over with a note, the checklist
of the settings answered and the open items of the moment attached; the incoming person takes it (signs)
or refuses it, which refers it to their supervisor; a supervisor or above reviews the day.

Open items, as the records stood at the moment of the handover (`at`, which may be back-dated), all of
the outgoing person's:
- complaints assigned to them, still active then, whose next deadline falls before the next shift ends;
- callbacks assigned to them, pending then, due before the next shift ends (overdue ones included);
- promises: callbacks they created during the shift handed over that were still pending then.
Each callback is listed once (a promise made in the shift is a promise, whenever it is due).

The snapshot keeps a short text and the id of each item, not a foreign key: it is the department's log
and stays when `db archive` moves the complaint or callback it names.

The reminder run (csdesk/workflows/reminder_rules.py) announces, once each: a handover not taken within
`shift.take_within` (to both people and the incoming person's supervisor), and a refusal (to the
supervisor of the person refusing, and to the person who handed over).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlmodel import func, select

from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import N_, _
from csdesk.models import Callback, Complaint, Customer, ShiftCheck, ShiftHandover, ShiftItem, Staff
from csdesk.workflows import Desk, audit, check_limit, snapshot
from csdesk.workflows.shift_rules import load_shift_rules, shift_window

STATUSES = {"handed": N_("waiting to be taken"), "taken": N_("taken"), "refused": N_("refused")}
KINDS = {"complaint": N_("complaint"), "callback": N_("callback"), "promise": N_("promise")}
OK_WORDS = {"ok", "yes", "y", "true", "1", "正常", "是", "好", "已", "√", "✓"}
NO_WORDS = {"no", "n", "false", "0", "not ok", "否", "不", "异常", "不正常", "未", "×", "✗"}
SLACK = timedelta(minutes=5)  # clocks of two machines disagree by a little (dates.FUTURE_SLACK)


@dataclass
class CheckAnswer:
    item: str
    ok: bool
    note: str | None = None


@dataclass
class OpenItem:
    kind: str
    kind_label: str
    ref_id: int
    text: str
    due_at: datetime | None


@dataclass
class HandoverRow:
    id: int
    at: datetime
    from_name: str
    to_name: str
    status: str
    status_label: str
    late: bool
    checks_ok: int
    checks_total: int
    items: int
    reviewed: bool
    note: str | None


@dataclass
class HandoverDetail:
    id: int
    at: datetime
    recorded_at: datetime
    shift_start: datetime
    shift_end: datetime
    next_end: datetime
    from_name: str
    to_name: str
    status: str
    status_label: str
    late: bool
    note: str | None
    taken_at: datetime | None
    taker_note: str | None
    refused_at: datetime | None
    refuse_reason: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    checks: list[CheckAnswer] = field(default_factory=list)
    items: list[OpenItem] = field(default_factory=list)


@dataclass
class HandoverList:
    rows: list[HandoverRow]
    total: int


@dataclass
class DayReview:
    day: date
    reviewed_by: str
    reviewed: list[int]  # the handovers signed off now
    taken: int
    refused: int
    late: int


# -- reading the checklist answers -----------------------------------------------------------------

def parse_check(text: str) -> CheckAnswer:
    """`设备正常=ok`, `工单已派=no:还有两张未派`, `工单已派=否：…` → item, ok, note."""
    item, sep, rest = (text or "").partition("=")
    item = item.strip()
    if not sep or not item:
        raise InvalidValue(_("{text!r} is not a checklist answer: use ITEM=ok or ITEM=no (a note may follow after a colon)").format(text=text))
    value, _sep, note = rest.replace("：", ":").partition(":")
    word = value.strip().lower()
    if word in OK_WORDS:
        ok = True
    elif word in NO_WORDS:
        ok = False
    else:
        raise InvalidValue(_("{value!r} is not an answer for {item}: use ok or no (正常/是, 否)").format(value=value.strip(), item=item))
    note = note.strip() or None
    if note is not None:
        from csdesk.text import check_text

        note = check_text(note[:500], _("the checklist note"), lines=False)
    return CheckAnswer(item, ok, note)


def _answers(rules, checks: list[str]) -> list[CheckAnswer]:
    answers: dict[str, CheckAnswer] = {}
    for text in checks or []:
        answer = parse_check(text)
        if answer.item not in rules.checklist:
            raise InvalidValue(_("{item!r} is not on the handover checklist (items: {items})").format(
                item=answer.item, items=", ".join(rules.checklist) or "-"))
        if answer.item in answers:
            raise InvalidValue(_("{item} is answered twice").format(item=answer.item))
        answers[answer.item] = answer
    missing = [item for item in rules.checklist if item not in answers]
    if missing:
        raise InvalidValue(
            _("every checklist item needs an answer; missing: {items}").format(items=", ".join(missing)),
            hint=_("add --check ITEM=ok or --check ITEM=no for each"))
    return [answers[item] for item in rules.checklist]


# -- the open items of the moment ------------------------------------------------------------------

def _cut(text: str | None, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def open_items(session, person_id: int, at: datetime, shift_start: datetime, next_end: datetime) -> list[OpenItem]:
    """The outgoing person's open items as the records stood at `at` (see the module's docstring)."""
    from sqlalchemy import or_

    from csdesk.workflows.callbacks import PURPOSES
    from csdesk.workflows.complaints import ACTIVE

    items: list[OpenItem] = []
    rows = session.exec(
        select(Complaint, Customer.code).join(Customer, Customer.id == Complaint.customer_id).where(
            Complaint.assignee_id == person_id, Complaint.opened_at <= at, Complaint.status != "void",
            or_(Complaint.status.in_(ACTIVE), Complaint.resolved_at > at))
        .order_by(Complaint.id)).all()
    for c, code in rows:
        due = c.next_due if c.status in ACTIVE else c.resolution_due
        if due is not None and due < next_end:
            items.append(OpenItem("complaint", _(KINDS["complaint"]), c.id, _cut(f"{code} {c.summary}", 200), due))
    rows = session.exec(
        select(Callback, Customer.code, Customer.name).join(Customer, Customer.id == Callback.customer_id).where(
            or_(Callback.assignee_id == person_id, Callback.created_by_id == person_id),
            or_(Callback.created_at.is_(None), Callback.created_at <= at),
            or_(Callback.status == "pending", Callback.closed_at > at))
        .order_by(Callback.id)).all()
    for cb, code, name in rows:
        promise = cb.created_by_id == person_id and cb.created_at is not None and shift_start <= cb.created_at <= at
        if not promise and not (cb.assignee_id == person_id and cb.due_at < next_end):
            continue
        kind = "promise" if promise else "callback"
        what = _(PURPOSES.get(cb.purpose, cb.purpose))
        text = " ".join(p for p in (code, name or "", what, cb.note or "") if p)
        items.append(OpenItem(kind, _(KINDS[kind]), cb.id, _cut(text, 200), cb.due_at))
    far = datetime.max.replace(tzinfo=at.tzinfo)
    items.sort(key=lambda i: (i.due_at or far, i.kind, i.ref_id))
    return items


# -- writing ---------------------------------------------------------------------------------------

def _person(session, name: str, what: str) -> Staff:
    name = (name or "").strip()
    person = session.exec(select(Staff).where(Staff.name == name)).first() if name else None
    if person is None:
        raise NotFound(_("no staff member named {name!r}").format(name=name), hint=_("csdesk staff list shows the names"))
    if not person.active:
        raise InvalidValue(_("{name} is no longer active: {what} an active colleague").format(name=person.name, what=what))
    return person


def _when(desk: Desk, at: datetime | None) -> datetime:
    at = at or desk.now
    if at > desk.now + SLACK:
        raise InvalidValue(_("a handover cannot be dated in the future (check --at)"))
    return at


def _text(value: str | None, what: str, limit: int) -> str | None:
    from csdesk.text import check_text

    value = (value or "").strip()
    if not value:
        return None
    if len(value) > limit:
        raise InvalidValue(_("{what} is longer than {limit} characters").format(what=what, limit=limit))
    return check_text(value, what)


def hand_shift(desk: Desk, to: str, note: str | None = None, checks: list[str] | None = None,
               at: datetime | None = None) -> HandoverDetail:
    """Record the acting person's handover of the shift ending nearest `at` to `to`."""
    session = desk.session
    actor = desk.require_actor()
    rules = load_shift_rules(desk.settings)
    at = _when(desk, at)
    other = _person(session, to, _("hand over to"))
    if other.id == actor.id:
        raise InvalidValue(_("{name} cannot hand the shift over to themselves").format(name=actor.name))
    note = _text(note, _("the handover note"), 4000)
    answers = _answers(rules, checks or [])
    start, end, next_end = shift_window(rules, at, desk.tz)
    earlier = session.exec(select(ShiftHandover).where(
        ShiftHandover.from_id == actor.id, ShiftHandover.shift_end == end,
        ShiftHandover.status.in_(("handed", "taken")))).first()
    if earlier is not None:
        raise Conflict(
            _("{name} already handed over the shift ending {end} (#{id}, to {to})").format(
                name=actor.name, end=_fmt(end, desk), id=earlier.id, to=_name(session, earlier.to_id)),
            hint=_("a handover can be made again once the earlier one is refused"))
    handover = ShiftHandover(
        from_id=actor.id, to_id=other.id, at=at, recorded_at=desk.now, shift_start=start, shift_end=end,
        next_end=next_end, note=note, status="handed")
    session.add(handover)
    session.flush()
    for a in answers:
        session.add(ShiftCheck(handover_id=handover.id, item=a.item, ok=a.ok, note=a.note))
    for item in open_items(session, actor.id, at, start, next_end):
        session.add(ShiftItem(handover_id=handover.id, kind=item.kind, ref_id=item.ref_id, text=item.text, due_at=item.due_at))
    session.flush()
    after = snapshot(handover)
    after["checks"] = [{"item": a.item, "ok": a.ok, "note": a.note} for a in answers]
    after["items"] = [{"kind": i.kind, "ref_id": i.ref_id} for i in session.exec(
        select(ShiftItem).where(ShiftItem.handover_id == handover.id).order_by(ShiftItem.id)).all()]
    audit(desk, "shift.hand", handover, after=after)
    return _detail(desk, handover)


def _own(desk: Desk, handover_id: int, doing: str) -> ShiftHandover:
    actor = desk.require_actor()
    handover = _get(desk.session, handover_id)
    if handover.to_id != actor.id:
        raise PermissionDenied(_("only {name}, to whom handover #{id} was made, can {doing} it").format(
            name=_name(desk.session, handover.to_id), id=handover.id, doing=doing))
    if handover.status == "taken":
        raise InvalidTransition(_("handover #{id} was already taken at {at}").format(id=handover.id, at=_fmt(handover.taken_at, desk)))
    if handover.status == "refused":
        raise InvalidTransition(_("handover #{id} was already refused at {at}").format(id=handover.id, at=_fmt(handover.refused_at, desk)))
    return handover


def _answer_time(desk: Desk, handover: ShiftHandover, at: datetime | None) -> datetime:
    at = _when(desk, at)
    if at < handover.at:
        raise InvalidValue(_("handover #{id} was made at {at}: it cannot be answered before that").format(
            id=handover.id, at=_fmt(handover.at, desk)))
    return at


def take_shift(desk: Desk, handover_id: int, note: str | None = None, at: datetime | None = None) -> HandoverDetail:
    """The incoming person signs the handover: they have read it and take the shift over."""
    handover = _own(desk, handover_id, _("take"))
    at = _answer_time(desk, handover, at)
    before = snapshot(handover)
    handover.status, handover.taken_at = "taken", at
    handover.taker_note = _text(note, _("the note"), 4000)
    desk.session.add(handover)
    audit(desk, "shift.take", handover, before=before)
    return _detail(desk, handover)


def refuse_shift(desk: Desk, handover_id: int, reason: str, at: datetime | None = None) -> HandoverDetail:
    """The incoming person refuses the handover (with the reason); the reminder run tells their supervisor."""
    handover = _own(desk, handover_id, _("refuse"))
    reason = _text(reason, _("the reason"), 500)
    if not reason:
        raise InvalidValue(_("a refusal needs a reason (--reason)"))
    at = _answer_time(desk, handover, at)
    before = snapshot(handover)
    handover.status, handover.refused_at, handover.refuse_reason = "refused", at, reason
    desk.session.add(handover)
    audit(desk, "shift.refuse", handover, before=before)
    return _detail(desk, handover)


def _day_bounds(day: date, tz) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0)).replace(tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0)).replace(tzinfo=tz)


def review_day(desk: Desk, day: date) -> DayReview:
    """A supervisor or above signs off the day's handovers (those made on that local day); refused while
    any of them still waits to be taken, or when every one of them is already reviewed."""
    session = desk.session
    actor = desk.require_rank("supervisor", _("reviewing the shift log"))
    if day > desk.now.astimezone(desk.tz).date():
        raise InvalidValue(_("{day} is in the future: only a day that has begun can be reviewed").format(day=day))
    start, end = _day_bounds(day, desk.tz)
    rows = session.exec(select(ShiftHandover).where(ShiftHandover.at >= start, ShiftHandover.at < end)
                        .order_by(ShiftHandover.at, ShiftHandover.id)).all()
    if not rows:
        raise NotFound(_("no handovers were made on {day}").format(day=day))
    waiting = [h for h in rows if h.status == "handed"]
    if waiting:
        raise InvalidTransition(
            _("the day cannot be signed off while handovers wait to be taken: {ids}").format(
                ids=", ".join(f"#{h.id}" for h in waiting)),
            hint=_("the person named in each takes or refuses it first (csdesk shift take ID / refuse ID)"))
    todo = [h for h in rows if h.reviewed_at is None]
    if not todo:
        last = max(rows, key=lambda h: h.reviewed_at)
        raise InvalidTransition(_("{day} was already reviewed by {name} at {at}").format(
            day=day, name=_name(session, last.reviewed_by_id), at=_fmt(last.reviewed_at, desk)))
    for h in todo:
        before = snapshot(h)
        h.reviewed_by_id, h.reviewed_at = actor.id, desk.now
        session.add(h)
        audit(desk, "shift.review", h, before=before)
    rules = load_shift_rules(desk.settings)
    return DayReview(day, actor.name, [h.id for h in todo], sum(h.status == "taken" for h in rows),
                     sum(h.status == "refused" for h in rows), sum(_late(h, rules, desk.now) for h in rows))


# -- reading ---------------------------------------------------------------------------------------

def _get(session, handover_id: int) -> ShiftHandover:
    handover = session.get(ShiftHandover, handover_id)
    if handover is None:
        raise NotFound(_("no handover #{id}").format(id=handover_id), hint=_("csdesk shift list shows them"))
    return handover


def _name(session, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    person = session.get(Staff, staff_id)
    return person.name if person else None


def _fmt(value: datetime | None, desk: Desk) -> str:
    from csdesk import dates

    return dates.fmt(value, desk.tz)


def _late(h: ShiftHandover, rules, now: datetime) -> bool:
    answered = h.taken_at or h.refused_at or now
    return answered - h.at > rules.take_within


def _detail(desk: Desk, h: ShiftHandover) -> HandoverDetail:
    session = desk.session
    rules = load_shift_rules(desk.settings)
    checks = [CheckAnswer(c.item, c.ok, c.note) for c in session.exec(
        select(ShiftCheck).where(ShiftCheck.handover_id == h.id).order_by(ShiftCheck.id)).all()]
    items = [OpenItem(i.kind, _(KINDS.get(i.kind, i.kind)), i.ref_id, i.text, i.due_at) for i in session.exec(
        select(ShiftItem).where(ShiftItem.handover_id == h.id).order_by(ShiftItem.id)).all()]
    return HandoverDetail(
        h.id, h.at, h.recorded_at, h.shift_start, h.shift_end, h.next_end, _name(session, h.from_id),
        _name(session, h.to_id), h.status, _(STATUSES.get(h.status, h.status)), _late(h, rules, desk.now), h.note,
        h.taken_at, h.taker_note, h.refused_at, h.refuse_reason, _name(session, h.reviewed_by_id), h.reviewed_at,
        checks, items)


def handover_detail(desk: Desk, handover_id: int) -> HandoverDetail:
    return _detail(desk, _get(desk.session, handover_id))


def _rows(desk: Desk, handovers: list[ShiftHandover]) -> list[HandoverRow]:
    session = desk.session
    if not handovers:
        return []
    rules = load_shift_rules(desk.settings)
    ids = [h.id for h in handovers]
    names = dict(session.exec(select(Staff.id, Staff.name)).all())
    checks: dict[int, list[bool]] = {}
    for hid, ok in session.exec(select(ShiftCheck.handover_id, ShiftCheck.ok).where(ShiftCheck.handover_id.in_(ids))).all():
        checks.setdefault(hid, []).append(bool(ok))
    items = dict(session.exec(select(ShiftItem.handover_id, func.count()).where(ShiftItem.handover_id.in_(ids))
                              .group_by(ShiftItem.handover_id)).all())
    return [HandoverRow(
        h.id, h.at, names.get(h.from_id, ""), names.get(h.to_id, ""), h.status, _(STATUSES.get(h.status, h.status)),
        _late(h, rules, desk.now), sum(checks.get(h.id, [])), len(checks.get(h.id, [])), items.get(h.id, 0),
        h.reviewed_at is not None, h.note) for h in handovers]


def list_handovers(desk: Desk, day: date | None = None, pending: bool = False, person: str | None = None,
                   limit: int = 50) -> HandoverList:
    """Handovers, newest first: of one local day, only those waiting to be taken, of one person (either side)."""
    from sqlalchemy import or_

    check_limit(limit)
    where = []
    if day is not None:
        start, end = _day_bounds(day, desk.tz)
        where += [ShiftHandover.at >= start, ShiftHandover.at < end]
    if pending:
        where.append(ShiftHandover.status == "handed")
    if person:
        someone = desk.session.exec(select(Staff).where(Staff.name == person.strip())).first()
        if someone is None:
            raise NotFound(_("no staff member named {name!r}").format(name=person.strip()), hint=_("csdesk staff list shows the names"))
        where.append(or_(ShiftHandover.from_id == someone.id, ShiftHandover.to_id == someone.id))
    total = desk.session.exec(select(func.count()).select_from(ShiftHandover).where(*where)).one()
    rows = desk.session.exec(select(ShiftHandover).where(*where)
                             .order_by(ShiftHandover.at.desc(), ShiftHandover.id.desc()).limit(limit)).all()
    return HandoverList(_rows(desk, list(rows)), total)


def waiting_for(desk: Desk, staff_id: int) -> list[HandoverRow]:
    """Handovers made to this person that they have not yet taken or refused, oldest first (`csdesk today`)."""
    rows = desk.session.exec(select(ShiftHandover).where(ShiftHandover.to_id == staff_id, ShiftHandover.status == "handed")
                             .order_by(ShiftHandover.at, ShiftHandover.id)).all()
    return _rows(desk, list(rows))


def untaken(desk: Desk, now: datetime) -> list[ShiftHandover]:
    """Handovers still waiting to be taken `shift.take_within` after they were made (the reminder run)."""
    rules = load_shift_rules(desk.settings)
    return list(desk.session.exec(select(ShiftHandover).where(
        ShiftHandover.status == "handed", ShiftHandover.at <= now - rules.take_within)
        .order_by(ShiftHandover.at, ShiftHandover.id)).all())


def refused_since(desk: Desk, since: datetime) -> list[ShiftHandover]:
    return list(desk.session.exec(select(ShiftHandover).where(
        ShiftHandover.status == "refused", ShiftHandover.refused_at >= since)
        .order_by(ShiftHandover.refused_at, ShiftHandover.id)).all())


# -- the reminder run ------------------------------------------------------------------------------

def _boss_id(session, staff_id: int) -> int | None:
    from csdesk.workflows import ROLE_RANK
    from csdesk.workflows.staff import first_boss

    boss = first_boss(session, staff_id, min_rank=ROLE_RANK["supervisor"])
    return boss.id if boss else None


def announcements(desk: Desk, now: datetime) -> list:
    """What the reminder run announces about handovers; keys make each announced once, ever."""
    from csdesk.workflows.reminders import Announcement

    session = desk.session
    out = []

    def ids(*values):
        seen: list[int] = []
        for v in values:
            if v is not None and v not in seen:
                seen.append(v)
        return seen

    for h in untaken(desk, now):
        out.append(Announcement(
            key=f"shift.untaken:{h.id}", kind="shift_untaken", entity="shift_handover", entity_id=h.id,
            recipients=ids(h.to_id, h.from_id, _boss_id(session, h.to_id)),
            message=_("Shift handover #{id} from {giver} to {taker} (made {at}) has not been taken yet.").format(
                id=h.id, giver=_name(session, h.from_id), taker=_name(session, h.to_id), at=_fmt(h.at, desk)),
        ))
    for h in refused_since(desk, now - timedelta(days=30)):
        out.append(Announcement(
            key=f"shift.refused:{h.id}", kind="shift_refused", entity="shift_handover", entity_id=h.id,
            recipients=ids(_boss_id(session, h.to_id), h.from_id),
            message=_("{taker} refused shift handover #{id} from {giver} ({at}): {reason}").format(
                taker=_name(session, h.to_id), id=h.id, giver=_name(session, h.from_id), at=_fmt(h.refused_at, desk),
                reason=_cut(h.refuse_reason, 80)),
        ))
    return out


# -- the demo --------------------------------------------------------------------------------------

DEMO_NOTES = ["系统运行正常，无遗留", "3号线路有杂音，已报IT", "晚高峰来电较多，已全部登记", "有一位客户情绪激动，已安抚，需跟进",
              "物业来电确认明早上门时间", "工单系统下午卡顿约10分钟", "无特殊情况"]


def demo_shifts(desk: Desk, rng, made: dict) -> list[str]:
    """A month of handovers between the specialists, day shift and night shift: taken within minutes, a
    few checklist items not ok, one taken late, one refused (and handed again to someone else), the latest one not yet
    taken (the first reminder run announces it); the supervisor reviewed every day but the last two."""
    from csdesk.workflows.staff import resolve_actor

    session = desk.session
    rules = load_shift_rules(desk.settings)
    people = [name for name, actor in made["staff"].items() if actor.role == "specialist"]
    now, tz = desk.now, desk.tz
    marks = []
    day = now.astimezone(tz).date() - timedelta(days=30)
    while day <= now.astimezone(tz).date():
        marks.extend(datetime.combine(day, t).replace(tzinfo=tz) for t in rules.starts)
        day += timedelta(days=1)
    marks = [m for m in marks if m + timedelta(hours=1) < now]
    refuse_at = len(marks) // 2
    made_ids, refused = [], 0

    def as_(name: str, when: datetime) -> Desk:
        return Desk(session=session, settings=desk.settings, now=when, actor=resolve_actor(session, name))

    for n, mark in enumerate(marks):
        giver, taker = people[n % len(people)], people[(n + 1) % len(people)]
        at = mark - timedelta(minutes=rng.randint(2, 15))
        checks = [f"{item}=ok" if rng.random() > 0.12 else f"{item}=no:{rng.choice(['待IT处理', '还有两张未派', '已口头说明'])}"
                  for item in rules.checklist]
        h = hand_shift(as_(giver, at + timedelta(minutes=1)), taker, rng.choice(DEMO_NOTES), checks, at=at)
        made_ids.append(h.id)
        if n == len(marks) - 1:
            continue  # the latest: not taken yet
        if n == refuse_at:
            refuse_shift(as_(taker, at + timedelta(minutes=9)), h.id, "投诉待办未交代清楚，请主管确认", at=at + timedelta(minutes=8))
            refused += 1
            other = people[(n + 2) % len(people)]
            again = hand_shift(as_(giver, at + timedelta(minutes=20)), other, "重新交接：投诉待办已逐条说明", checks,
                               at=at + timedelta(minutes=19))
            take_shift(as_(other, at + timedelta(minutes=31)), again.id, "已核对", at=at + timedelta(minutes=30))
            made_ids.append(again.id)
            continue
        taken = at + timedelta(minutes=rng.randint(3, 20) if n != refuse_at // 2 else 75)  # one taken late
        take_shift(as_(taker, taken + timedelta(minutes=1)), h.id, rng.choice([None, "已核对待办", "收到"]), at=taken)
    reviewer = next((name for name, actor in made["staff"].items() if actor.role == "supervisor"), None)
    reviewed = 0
    if reviewer:
        last = now.astimezone(tz).date() - timedelta(days=2)
        days = sorted({dates_local(m, tz) for m in marks if dates_local(m, tz) <= last})
        for d in days:
            try:
                reviewed += len(review_day(as_(reviewer, datetime.combine(d + timedelta(days=1), time(9)).replace(tzinfo=tz)), d).reviewed)
            except (InvalidTransition, NotFound):
                continue
    from csdesk.i18n import _

    return [_("  shifts:     {n} handovers over 31 days ({refused} refused, 1 taken late, 1 not yet taken), {reviewed} reviewed").format(
        n=len(made_ids), refused=refused, reviewed=reviewed)]


def dates_local(value: datetime, tz) -> date:
    return value.astimezone(tz).date()
