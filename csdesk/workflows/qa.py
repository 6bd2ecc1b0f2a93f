"""Call quality checks (质检): draw a random sample of each agent's calls, score them against the
checklist in the settings ([qa]), and tell the agent's supervisor about a score below the pass mark.

Who does it: supervisors and above, and the people named in `qa.group` (a quality group of
specialists). Nobody draws or scores their own calls. Only a drawn call is scored; a rescore is a new
score row (the newest counts), audited like every write.

A draw is reproducible: the calls of one agent in one month are put in an order that depends only on
the seed, the month and the agent, and the first ones not drawn before are taken. The same seed over the
same calls gives the same sample; a second draw with the same seed takes the next ones.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import func, select

from csdesk.errors import InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.i18n import _
from csdesk.models import Call, Customer, QaSample, QaScore, Staff
from csdesk.workflows import ROLE_RANK, Desk, audit, check_limit, snapshot

SCALE = (1, 5)
PERIOD = re.compile(r"(\d{4})-(\d{2})")


# ---- settings --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checklist:
    items: dict[str, int]  # item -> weight, in the settings' order
    pass_mark: Decimal  # on the 1–5 scale
    per_agent: int
    group: tuple[str, ...]


def checklist(settings) -> Checklist:
    qa = settings["qa"]
    from csdesk.config import qa_items

    try:
        items = qa_items(qa["items"])
    except ValueError as exc:
        raise InvalidValue(f"config: qa.items: {exc}") from None
    return Checklist(items, Decimal(str(qa["pass_mark"])), int(qa["per_agent"]), tuple(n.strip() for n in qa["group"]))


# ---- who may --------------------------------------------------------------------------------------------


def may_check(staff: Staff, rules: Checklist) -> bool:
    return staff.active and (ROLE_RANK[staff.role] >= ROLE_RANK["supervisor"] or staff.name in rules.group)


def _require_checker(desk: Desk, rules: Checklist, doing: str) -> Staff:
    actor = desk.require_actor()
    me = desk.session.get(Staff, actor.id)
    if not may_check(me, rules):
        raise PermissionDenied(_("{doing} is for supervisors and above and the quality group (qa.group); {name} is neither.")
                               .format(doing=doing, name=me.name))
    return me


# ---- periods --------------------------------------------------------------------------------------------


def month_bounds(period: str, tz) -> tuple[str, datetime, datetime]:
    """'2026-11' → (name, start, end): local midnights of the first day and of the next month's first day."""
    from csdesk import dates

    text = (period or "").strip()
    m = PERIOD.fullmatch(text)
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2999:
        raise InvalidValue(_("{value!r} is not a month like 2026-11 (--period).").format(value=text[:40]))
    year, month = int(m.group(1)), int(m.group(2))
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    return text, dates.local_datetime(first, time(0), tz), dates.local_datetime(after, time(0), tz)


# ---- drawing a sample -------------------------------------------------------------------------------------


@dataclass
class SampleRow:
    call_id: int
    at: datetime
    agent: str | None
    customer_code: str | None
    customer_name: str | None
    kind: str
    period: str
    assigned_to: str
    sampled_at: datetime
    recording: str | None = None
    weighted: Decimal | None = None  # the newest score, on the 1–5 scale
    passed: bool | None = None
    scored_at: datetime | None = None
    scorer: str | None = None


@dataclass
class SampleResult:
    period: str
    seed: int
    assigned_to: str
    per_agent: int
    drawn: list[SampleRow] = field(default_factory=list)
    short: dict[str, int] = field(default_factory=dict)  # agent -> how many were drawn, when fewer than asked


def _order(seed: int, period: str, agent_id: int, ids: list[int]) -> list[int]:
    """The calls in the order the seed puts them (string seeds hash the same in every process)."""
    ordered = sorted(ids)
    random.Random(f"csdesk-qa:{seed}:{period}:{agent_id}").shuffle(ordered)
    return ordered


def draw_sample(desk: Desk, period: str, per_agent: int | None = None, kind: str | None = None,
                seed: int | None = None, to: str | None = None) -> SampleResult:
    """Draw `per_agent` calls of each agent in the month `period` (not voided, not drawn before, not the
    checker's own) and assign them to the person acting, or to `to`."""
    from csdesk.workflows.calls import KINDS, check_choice
    from csdesk.workflows.staff import find_staff

    session = desk.session
    rules = checklist(desk.settings)
    me = _require_checker(desk, rules, _("Drawing a quality sample"))
    name, start, end = month_bounds(period, desk.tz)
    if start > desk.now:
        raise InvalidValue(_("{period} has not begun yet; a sample is drawn from calls already made.").format(period=name))
    per_agent = rules.per_agent if per_agent is None else per_agent
    if not 1 <= per_agent <= 1000:
        raise InvalidValue(_("--per-agent must be a whole number from 1 to 1000."))
    if seed is None:
        import secrets

        seed = secrets.randbelow(2**31)
    elif not 0 <= seed < 2**62:
        raise InvalidValue(_("--seed must be a whole number from 0 up."))
    checker = me
    if to is not None:
        checker = find_staff(session, to)
        if not may_check(checker, rules):
            raise InvalidValue(_("{name} is not a supervisor or above nor in the quality group (qa.group); a sample goes to one who is.")
                               .format(name=checker.name))
    kind_key = check_choice(kind, KINDS, "kind") if kind else None
    c = Call.__table__.c
    query = select(c.id, c.agent_id).where(c.at >= start, c.at < end, c.voided_at.is_(None), c.agent_id.is_not(None),
                                           c.agent_id != checker.id)
    if kind_key:
        query = query.where(c.kind == kind_key)
    by_agent: dict[int, list[int]] = {}
    for call_id, agent_id in session.exec(query).all():
        by_agent.setdefault(agent_id, []).append(call_id)
    if not by_agent:
        raise InvalidValue(_("No calls to draw from in {period}.").format(period=name))
    taken = set(session.exec(select(QaSample.call_id).join(Call, Call.id == QaSample.call_id)
                             .where(Call.at >= start, Call.at < end)).all())
    result = SampleResult(name, seed, checker.name, per_agent)
    names = dict(session.exec(select(Staff.id, Staff.name)).all())
    drawn: list[QaSample] = []
    for agent_id in sorted(by_agent):
        picked = [i for i in _order(seed, name, agent_id, by_agent[agent_id]) if i not in taken][:per_agent]
        if len(picked) < per_agent:
            result.short[names.get(agent_id, "—")] = len(picked)
        for call_id in picked:
            drawn.append(QaSample(call_id=call_id, period=name, seed=seed, assigned_to_id=checker.id, sampled_by_id=me.id,
                                  sampled_at=desk.now))
    if not drawn:
        raise InvalidValue(_("Every call of {period} that could be drawn is already in a sample.").format(period=name))
    session.add_all(drawn)
    session.flush()
    for row in drawn:
        audit(desk, "qa.sample", row, flush=False)
    rows = {r.call_id: r for r in _rows(session, select(QaSample).where(QaSample.id.in_([d.id for d in drawn])))}
    result.drawn = [rows[d.call_id] for d in drawn]
    return result


# ---- scoring --------------------------------------------------------------------------------------------


@dataclass
class ScoreInfo:
    id: int
    call_id: int
    scorer: str | None
    items: dict[str, int]
    weighted: Decimal
    pass_mark: Decimal
    passed: bool
    note: str | None
    scored_at: datetime
    rescore: bool = False


def hundredths(value: int) -> Decimal:
    """A score as stored (× 100, an integer) back on the 1–5 scale: 435 → 4.35."""
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def weighted_score(values: dict[str, int], weights: dict[str, int]) -> Decimal:
    """The weighted mean on the 1–5 scale, to two places (half up)."""
    total = sum(weights.values())
    score = Decimal(sum(weights[k] * values[k] for k in weights)) / Decimal(total)
    return score.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_item_values(texts: list[str], rules: Checklist) -> dict[str, int]:
    """`["礼貌用语=5", …]` → {"礼貌用语": 5, …}: every checklist item once, each a whole number 1–5."""
    values: dict[str, int] = {}
    known = ", ".join(rules.items)
    for text in texts:
        name, sep, value = (text or "").partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidValue(_("{value!r} is not ITEM=SCORE (--item 礼貌用语=5).").format(value=(text or "")[:60]))
        if name not in rules.items:
            raise InvalidValue(_("{item!r} is not on the checklist (items: {items}).").format(item=name[:60], items=known))
        if name in values:
            raise InvalidValue(_("{item} is scored twice.").format(item=name))
        value = value.strip()
        if not value.isdigit() or not SCALE[0] <= int(value) <= SCALE[1]:
            raise InvalidValue(_("{item}={value}: a score is a whole number from 1 to 5.").format(item=name, value=value[:20]))
        values[name] = int(value)
    missing = [k for k in rules.items if k not in values]
    if missing:
        raise InvalidValue(_("Every checklist item needs a score; missing: {items}.").format(items=", ".join(missing)))
    return {k: values[k] for k in rules.items}


def _get_call(session, call_id: int) -> Call:
    call = session.get(Call, call_id) if isinstance(call_id, int) and 0 < call_id < 2**63 else None
    if call is None:
        raise NotFound(_("No call #{id}.").format(id=call_id), hint=_("csdesk qa list shows the sampled calls"))
    return call


def score_call(desk: Desk, call_id: int, items: list[str], note: str | None = None) -> ScoreInfo:
    """Score a sampled call against the checklist; a second score of the same call is a rescore (new row)."""
    session = desk.session
    rules = checklist(desk.settings)
    me = _require_checker(desk, rules, _("Scoring a call"))
    call = _get_call(session, call_id)
    if call.voided_at is not None:
        raise InvalidTransition(_("Call #{id} is void; a voided call is not scored.").format(id=call.id))
    sample = session.exec(select(QaSample).where(QaSample.call_id == call.id)).first()
    if sample is None:
        raise InvalidTransition(_("Call #{id} is not in a quality sample.").format(id=call.id),
                                hint=_("csdesk qa sample --period YYYY-MM draws one"))
    if call.agent_id == me.id:
        raise PermissionDenied(_("Nobody scores their own calls (call #{id} is {name}'s).").format(id=call.id, name=me.name))
    values = parse_item_values(items, rules)
    if note is not None:
        from csdesk.text import check_text

        note = check_text(note.strip(), _("the note")) or None
        if note and len(note) > 2000:
            raise InvalidValue(_("The note is longer than 2000 characters."))
    score = weighted_score(values, rules.items)
    previous = session.exec(select(QaScore).where(QaScore.call_id == call.id).order_by(QaScore.scored_at.desc(), QaScore.id.desc())).first()
    row = QaScore(call_id=call.id, scorer_id=me.id, items=json.dumps(values, ensure_ascii=False), weighted=int(score * 100),
                  pass_mark=int((rules.pass_mark * 100).to_integral_value(ROUND_HALF_UP)), passed=score >= rules.pass_mark,
                  note=note, scored_at=desk.now)
    session.add(row)
    if previous is None:
        audit(desk, "qa.score", row)
    else:
        session.flush()
        audit(desk, "qa.rescore", row, before=snapshot(previous), after=snapshot(row))
    return _score_info(session, row, rescore=previous is not None)


def _score_info(session, row: QaScore, rescore: bool = False, names: dict[int, str] | None = None) -> ScoreInfo:
    scorer = (names or {}).get(row.scorer_id) if names else (session.get(Staff, row.scorer_id).name if row.scorer_id else None)
    return ScoreInfo(row.id, row.call_id, scorer, json.loads(row.items), hundredths(row.weighted), hundredths(row.pass_mark),
                     row.passed, row.note, row.scored_at, rescore)


# ---- reading --------------------------------------------------------------------------------------------


def _latest_scores(session, call_ids: list[int]) -> dict[int, QaScore]:
    out: dict[int, QaScore] = {}
    for i in range(0, len(call_ids), 500):
        chunk = call_ids[i:i + 500]
        for row in session.exec(select(QaScore).where(QaScore.call_id.in_(chunk)).order_by(QaScore.scored_at, QaScore.id)).all():
            out[row.call_id] = row  # the newest wins
    return out


def _rows(session, query) -> list[SampleRow]:
    samples = session.exec(query).all()
    if not samples:
        return []
    names = dict(session.exec(select(Staff.id, Staff.name)).all())
    ids = [s.call_id for s in samples]
    calls = {c.id: c for c in session.exec(select(Call).where(Call.id.in_(ids))).all()}
    customers = {c.id: c for c in session.exec(select(Customer).where(Customer.id.in_({c.customer_id for c in calls.values()}))).all()}
    latest = _latest_scores(session, ids)
    out = []
    for s in samples:
        call = calls[s.call_id]
        cust = customers.get(call.customer_id)
        score = latest.get(s.call_id)
        out.append(SampleRow(
            call.id, call.at, names.get(call.agent_id), cust.code if cust else None, cust.name if cust else None, call.kind,
            s.period, names.get(s.assigned_to_id, "—"), s.sampled_at, call.recording,
            hundredths(score.weighted) if score else None, score.passed if score else None,
            score.scored_at if score else None, names.get(score.scorer_id) if score else None,
        ))
    return out


def list_samples(desk: Desk, agent: str | None = None, period: str | None = None, unscored: bool = False,
                 assigned: str | None = None, limit: int = 50) -> tuple[list[SampleRow], int]:
    """Sampled calls, newest call first, and how many match in all. `agent`/`assigned`: a name or 'me'."""
    from csdesk.workflows.staff import find_staff

    session = desk.session
    check_limit(limit)

    def person(name: str) -> int:
        if name.strip().lower() in ("me", "我"):
            return desk.require_actor().id
        return find_staff(session, name, active_only=False).id

    conditions = []
    if agent:
        conditions.append(Call.agent_id == person(agent))
    if assigned:
        conditions.append(QaSample.assigned_to_id == person(assigned))
    if period:
        conditions.append(QaSample.period == month_bounds(period, desk.tz)[0])
    if unscored:
        conditions.append(~select(QaScore.id).where(QaScore.call_id == QaSample.call_id).exists())
    base = select(QaSample).join(Call, Call.id == QaSample.call_id).where(*conditions)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = _rows(session, base.order_by(Call.at.desc(), Call.id.desc()).limit(limit))
    return rows, total


@dataclass
class QaView:
    call_id: int
    at: datetime
    agent: str | None
    customer_code: str | None
    customer_name: str | None
    kind: str
    summary: str
    recording: str | None
    voided: bool
    period: str | None
    assigned_to: str | None
    sampled_at: datetime | None
    seed: int | None
    checklist: dict[str, int]
    pass_mark: Decimal
    score: ScoreInfo | None  # the newest
    history: list[ScoreInfo] = field(default_factory=list)  # every score, oldest first


def show_qa(desk: Desk, call_id: int) -> QaView:
    session = desk.session
    rules = checklist(desk.settings)
    call = _get_call(session, call_id)
    sample = session.exec(select(QaSample).where(QaSample.call_id == call.id)).first()
    names = dict(session.exec(select(Staff.id, Staff.name)).all())
    cust = session.get(Customer, call.customer_id)
    scores = session.exec(select(QaScore).where(QaScore.call_id == call.id).order_by(QaScore.scored_at, QaScore.id)).all()
    history = [_score_info(session, s, rescore=i > 0, names=names) for i, s in enumerate(scores)]
    return QaView(
        call.id, call.at, names.get(call.agent_id), cust.code if cust else None, cust.name if cust else None, call.kind,
        call.summary, call.recording, call.voided_at is not None, sample.period if sample else None,
        names.get(sample.assigned_to_id) if sample else None, sample.sampled_at if sample else None, sample.seed if sample else None,
        dict(rules.items), rules.pass_mark, history[-1] if history else None, history,
    )


# ---- the reminder run: a score below the pass mark goes to the agent's supervisor, once ------------------


def failed_scores(desk: Desk, now: datetime, days: int = 60) -> list[tuple[QaScore, Call]]:
    """The newest score of each call scored in the last `days` days, when it is below the pass mark."""
    session = desk.session
    rows = session.exec(select(QaScore, Call).join(Call, Call.id == QaScore.call_id)
                        .where(QaScore.scored_at >= now - timedelta(days=days), QaScore.scored_at <= now,
                               Call.voided_at.is_(None))
                        .order_by(QaScore.scored_at, QaScore.id)).all()
    newest: dict[int, tuple[QaScore, Call]] = {}
    for score, call in rows:
        newest[call.id] = (score, call)
    # A rescore made since then supersedes these (only the newest counts), even one made after `now`.
    return [(s, c) for s, c in newest.values() if not s.passed]


def _register_collector() -> None:
    from csdesk import dates
    from csdesk.workflows.reminders import Announcement, collector

    @collector("quality checks")
    def qa_failed(desk: Desk, now: datetime, settings) -> list[Announcement]:
        from csdesk.workflows.staff import first_boss

        session = desk.session
        names = dict(session.exec(select(Staff.id, Staff.name)).all())
        out = []
        for score, call in failed_scores(desk, now):
            boss = first_boss(session, call.agent_id, min_rank=ROLE_RANK["supervisor"])
            out.append(Announcement(
                key=f"qa.failed:{call.id}", kind="qa_failed", entity="qa_score", entity_id=score.id,
                recipients=[boss.id] if boss else [],
                message=_("Quality check: call #{id} by {agent} scored {score} (pass mark {mark}) on {at}: {note}").format(
                    id=call.id, agent=names.get(call.agent_id, "—"), score=hundredths(score.weighted),
                    mark=hundredths(score.pass_mark), at=dates.fmt(score.scored_at, desk.tz), note=(score.note or "—")[:60]),
            ))
        return out


_register_collector()


def demo_qa(desk: Desk, rng: random.Random, made: dict[str, Any]) -> list[str]:
    """A month of quality checks: recordings on the calls, last month's (or this month's) sample, scores."""
    from csdesk.workflows import Actor

    session = desk.session
    tz = desk.tz
    # The phone system records what comes through it (hotline and phone), not WeChat, e-mail or a visit.
    calls = session.exec(select(Call).where(Call.voided_at.is_(None), Call.channel.in_(["hotline", "phone"]))).all()
    for call in calls:
        call.recording = f"rec/{call.at.astimezone(tz):%Y%m%d}/{call.id:07d}.mp3"
        session.add(call)
    today = desk.now.astimezone(tz).date()
    period = f"{today.year}-{today.month:02d}" if today.day >= 8 else (
        f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}")
    checker = made["staff"]["李娜"]
    saved = desk.actor
    desk.actor = Actor(checker.id, checker.name, checker.role)
    try:
        result = draw_sample(desk, period, per_agent=4, seed=2026)
        rules = checklist(desk.settings)
        notes = ["开场未报工号", "未复述客户问题", "解决方案清楚", "结束语规范", "语速偏快，注意耐心"]
        scored = failed = 0
        for row in result.drawn[: max(1, len(result.drawn) * 3 // 4)]:
            base = rng.choice([5, 5, 4, 4, 4, 3, 2])
            values = [f"{k}={max(1, min(5, base + rng.choice([-1, 0, 0, 1])))}" for k in rules.items]
            info = score_call(desk, row.call_id, values, note=rng.choice(notes))
            scored += 1
            failed += not info.passed
    finally:
        desk.actor = saved
    return ["  " + _("quality:    {calls} calls with a recording; {drawn} drawn for {period} (seed 2026), {scored} scored, "
                   "{failed} below the pass mark").format(calls=len(calls), drawn=len(result.drawn), period=period,
                                                          scored=scored, failed=failed)]
