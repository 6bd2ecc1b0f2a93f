"""Complaint rules without a database: the settings (allowances, levels, categories), the labels, and the
SLA clocks computed from a complaint's events (`compute_sla`). See complaints.py for how time is kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from csdesk import dates
from csdesk.errors import InvalidValue
from csdesk.i18n import N_, _, is_english
from csdesk.workflows import ROLE_RANK, ROLES

SEVERITIES = {"normal": "一般", "serious": "较重", "major": "重大"}
STATUSES = {"open": "待响应", "acknowledged": "处理中", "on_hold": "挂起", "resolved": "已解决", "closed": "已关闭", "void": "作废"}
LISTED = ("open", "acknowledged", "on_hold", "resolved", "closed")  # `--status all`: every status but void
ACTIVE = ("open", "acknowledged", "on_hold")  # the complaint still needs work; its clocks may run
NOT_CLOSED = ACTIVE + ("resolved",)
TOP_LEVEL = len(ROLES)
# What is shown (N_ here, _() when shown); SEVERITIES and STATUSES above are the Chinese words also accepted as input.
SEVERITY_LABELS = {"normal": N_("normal"), "serious": N_("serious"), "major": N_("major")}
STATUS_LABELS = {"open": N_("open"), "acknowledged": N_("acknowledged"), "on_hold": N_("on hold"),
                 "resolved": N_("resolved"), "closed": N_("closed"), "void": N_("void")}
EVENT_LABELS = {
    "opened": N_("opened"), "acknowledged": N_("first response"), "note": N_("note"), "assigned": N_("assigned"),
    "owner": N_("owner changed"), "held": N_("put on hold"), "resumed": N_("resumed"), "escalated": N_("escalated"),
    "resolved": N_("resolved"), "closed": N_("closed"), "reopened": N_("reopened"),
    "severity": N_("severity changed"), "edited": N_("edited"), "voided": N_("voided"),
}
DEADLINE_STATES = {"running": N_("running"), "on hold": N_("on hold"), "breached": N_("breached"), "met": N_("met"),
                   "late": N_("late"), "escalated": N_("escalated"), "escalated, was late": N_("escalated, was late")}
CLOCK_LABELS = {"first_response": N_("first response"), "resolution": N_("resolution")}
_ROLE_LABELS = (N_("specialist"), N_("supervisor"), N_("manager"), N_("director"))
_DEFAULT_LEVEL_NAMES = ("客服专员", "客服主管", "客服经理", "分管副总")
# Entries that change no clock: they may be entered after later-dated entries (the order check skips them).
_CLOCKLESS = ("note", "edited", "severity")
AUTO = N_("automatic")
_FUTURE_SLACK = timedelta(minutes=5)
_PAST_LIMIT = timedelta(days=366)  # how far back a complaint may be entered after the fact
_SUMMARY_LIMIT = 4000
_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)  # business time is counted in microseconds since (businesstime.micro)


# ---- rules from the settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """The complaint settings, parsed and checked once per use."""

    first_response: dict[str, timedelta]
    resolution: dict[str, timedelta]
    level_resolution: dict[int, timedelta]
    level_names: dict[int, str]
    categories: dict[str, str]
    default_assignee: dict[int, str]
    major_level: int
    key_account_level: int

    def level_label(self, level: int) -> str:
        name = self.level_names.get(level, ROLES[level - 1])
        if is_english() and name == _DEFAULT_LEVEL_NAMES[level - 1]:
            name = _ROLE_LABELS[level - 1]  # the default (Chinese) name of the level: its role in English
        return f"L{level} {name}"

    def category_label(self, key: str) -> str:
        """A category as configured (`quality=产品质量`): its label, or its key in English."""
        return key if is_english() else self.categories.get(key, key)

    def max_allowance(self) -> timedelta:
        return max([*self.first_response.values(), *self.resolution.values(), *self.level_resolution.values()])


def _allowance(key: str, text: Any) -> timedelta:
    if not isinstance(text, str):
        raise InvalidValue(f"config: {key} must be a duration like \"4h\" or \"1h30m\"")
    try:
        value = dates.parse_duration(text)
    except InvalidValue as exc:
        raise InvalidValue(f"config: {key}: {exc.message}") from None
    if value <= timedelta(0):
        raise InvalidValue(f"config: {key} must be more than 0")
    return value


def _level_setting(key: str, value: Any) -> int:
    if not isinstance(value, int) or not 1 <= value <= TOP_LEVEL:
        raise InvalidValue(f"config: {key} must be a level from 1 to {TOP_LEVEL}")
    return value


def rules(settings) -> Rules:
    sla, esc = settings["sla"], settings["escalation"]
    categories: dict[str, str] = {}
    for item in settings["complaint_categories"]:
        key, _, label = str(item).partition("=")
        key = key.strip().lower()
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,19}", key):
            raise InvalidValue(f"config: complaint_categories: {item!r} is not \"key=标签\" (key: a-z, 0-9, _ -, up to 20)")
        categories[key] = label.strip() or key
    if not categories:
        raise InvalidValue("config: complaint_categories is empty")
    return Rules(
        first_response={s: _allowance(f"sla.first_response.{s}", sla["first_response"][s]) for s in SEVERITIES},
        resolution={s: _allowance(f"sla.resolution.{s}", sla["resolution"][s]) for s in SEVERITIES},
        level_resolution={n: _allowance(f"escalation.resolution.{n}", esc["resolution"][str(n)]) for n in range(2, TOP_LEVEL + 1)},
        level_names={n: str(settings["levels"][str(n)]).strip() or ROLES[n - 1] for n in range(1, TOP_LEVEL + 1)},
        categories=categories,
        default_assignee={n: str(esc["default_assignee"][str(n)]).strip() for n in range(2, TOP_LEVEL + 1)},
        major_level=_level_setting("escalation.major_level", esc["major_level"]),
        key_account_level=_level_setting("escalation.key_account_level", esc["key_account_level"]),
    )


_CALENDARS: dict[tuple, Any] = {}


def calendar(settings):
    """The business calendar of these settings (cached: it caches its days itself)."""
    from csdesk.businesstime import BusinessCalendar

    business = settings["business"]
    key = (settings["timezone"], repr(sorted((k, repr(v)) for k, v in business.items())))
    cal = _CALENDARS.get(key)
    if cal is None:
        try:
            cal = BusinessCalendar(settings["timezone"], business)
        except ValueError as exc:
            raise InvalidValue(f"config: {exc}") from None
        _CALENDARS[key] = cal
    return cal


def fmt_business(td: timedelta) -> str:
    """Business time as hours and minutes (never days: a business day is not 24 hours): 26h30m."""
    seconds = int(td.total_seconds())
    sign = "-" if seconds < 0 else ""
    h, m = divmod(abs(seconds) // 60, 60)
    return f"{sign}{h}h{m:02d}m"


def left_text(left: timedelta | None) -> str:
    if left is None:
        return ""
    if left >= timedelta(0):
        return _("{time} left").format(time=fmt_business(left))
    return _("overdue {time}").format(time=fmt_business(-left))


def role_word(role: str | int) -> str:
    """A role (code, or the level that needs it) in the interface language: 客服主管 / supervisor."""
    rank = role if isinstance(role, int) else ROLE_RANK.get(role, 0)
    return _(_ROLE_LABELS[rank - 1]) if 1 <= rank <= len(_ROLE_LABELS) else str(role)


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def severity_label(severity: str) -> str:
    return _(SEVERITY_LABELS.get(severity, severity))


def check_severity(value: str | None) -> str:
    v = (value or "").strip().lower()
    for key, label in SEVERITIES.items():
        if v in (key, label, _(SEVERITY_LABELS[key])):
            return key
    raise InvalidValue(_("unknown severity {value!r} (use one of: {choices})").format(value=value, choices=", ".join(SEVERITIES)))


def check_category(r: Rules, value: str | None) -> str:
    v = (value or "").strip().lower()
    for key, label in r.categories.items():
        if v in (key, label.lower()):
            return key
    raise InvalidValue(_("unknown category {value!r} (use one of: {choices})").format(value=value, choices=", ".join(r.categories)),
                       hint=_("categories are set in the config: complaint_categories"))


def check_status(value: str) -> tuple[str, ...]:
    """One status, `active` (open, acknowledged, on hold) or `all`; Chinese labels work too."""
    v = value.strip().lower().replace("-", "_")
    if v in ("all", "全部"):
        return LISTED
    if v in ("active", "未结"):
        return ACTIVE
    if v in ("hold", "held"):
        v = "on_hold"
    for key, label in STATUSES.items():
        if v in (key, label, _(STATUS_LABELS[key])):
            return (key,)
    raise InvalidValue(_("unknown status {value!r} (use one of: {choices}, active, all)").format(value=value, choices=", ".join(STATUSES)),
                       hint=_("'all' means every status but void; --status void lists the voided ones"))


# ---- the SLA, computed from the events ------------------------------------------------------------


@dataclass
class Clock:
    """One SLA clock: from `start`, `allowance` of business time outside holds."""

    name: str  # first_response | resolution
    level: int | None
    start: datetime
    allowance: timedelta
    ended_at: datetime | None = None
    ended_by: str | None = None  # acknowledged | resolved | escalated
    due: datetime | None = None  # None: on hold with time still left, so not known yet
    breached: bool = False
    used: timedelta = timedelta(0)  # business time counted up to its end (or now)
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)  # holds touching it
    key: str = ""  # fr, r0, r1 …: which clock of the complaint (a finished clock's verdict is kept under it)
    by_severity: bool = False  # its allowance comes from the severity (a severity change recomputes it)
    frozen: bool = False  # its deadline and verdict were fixed when it ended (kept whatever the calendar says now)

    @property
    def running(self) -> bool:
        return self.ended_at is None

    @property
    def left(self) -> timedelta:
        return self.allowance - self.used


@dataclass
class Sla:
    first_response: Clock
    resolution: list[Clock]  # in order; the last one is the current one
    holds: list[tuple[datetime, datetime | None]]
    initial_level: int
    level: int

    @property
    def current(self) -> Clock:
        return self.resolution[-1]


def compute_sla(events: Iterable[Any], severity: str, now: datetime, cal, r: Rules, frozen: bool = True) -> Sla:
    """The SLA of one complaint from its events (anything with at, id, kind, from_value, to_value and,
    optionally, verdict).

    A clock that has ended keeps the deadline and verdict computed when it ended (the event that ended
    it, or a later severity change, carries them in `verdict`), so that a new holidays release or a
    changed calendar never rewrites history; running clocks follow the calendar of today. A kept verdict
    of a severity-timed clock applies only while the severity is the one it was computed for.
    With `frozen=False` every clock is recomputed with today's calendar. A clock whose kept verdict applies asks
    the calendar nothing; the others count business time on integer microseconds (`cal` is a BusinessCalendar:
    add_micro / elapsed_micro, one table lookup each)."""
    ordered = sorted(events, key=lambda e: (e.at, e.id or 0))
    holds: list[list] = []
    fr: Clock | None = None
    res: list[Clock] = []
    kept: dict[str, list] = {}
    initial = level = 1
    for e in ordered:
        kind = e.kind
        verdict = getattr(e, "verdict", None)
        if verdict and frozen:
            try:
                kept.update(json.loads(verdict))
            except (ValueError, TypeError):
                pass  # a damaged verdict: the clock is simply recomputed
        if kind == "opened":
            initial = level = int(e.to_value)
            fr = Clock("first_response", None, e.at, r.first_response[severity], key="fr", by_severity=True)
            res = [Clock("resolution", level, e.at, r.resolution[severity], key="r0", by_severity=True)]
        elif fr is None:
            continue  # nothing counts before the opening
        elif kind == "acknowledged" and fr.running:
            fr.ended_at, fr.ended_by = e.at, "acknowledged"
        elif kind == "held":
            holds.append([e.at, None])
        elif kind == "resumed":
            if holds and holds[-1][1] is None:
                holds[-1][1] = e.at
        elif kind == "escalated":
            level = int(e.to_value)
            current = res[-1]
            if current.running and current.start == e.at:
                res.pop()  # started and ended at the same instant (reopened by a visit, then escalated)
            elif current.running:
                current.ended_at, current.ended_by = e.at, "escalated"
            res.append(Clock("resolution", level, e.at, r.level_resolution[level], key=f"r{len(res)}"))
        elif kind == "resolved":
            if fr.running:
                fr.ended_at, fr.ended_by = e.at, "resolved"
            if res[-1].running:
                res[-1].ended_at, res[-1].ended_by = e.at, "resolved"
            if holds and holds[-1][1] is None:
                holds[-1][1] = e.at
        elif kind == "reopened":
            allowance = r.resolution[severity] if level == initial else r.level_resolution[level]
            res.append(Clock("resolution", level, e.at, allowance, key=f"r{len(res)}", by_severity=level == initial))
    if fr is None:
        raise InvalidValue("this complaint has no opening event")
    spans = [(a, b) for a, b in holds]
    spans_at = [((a - _EPOCH) // _US, None if b is None else (b - _EPOCH) // _US) for a, b in holds]
    now_at = (now - _EPOCH) // _US
    for clock in (fr, *res):
        kept_one = kept.get(clock.key)
        if clock.ended_at is not None and kept_one and (not clock.by_severity or kept_one[2] == severity):
            # A finished clock with a kept verdict: its deadline and business time are the kept ones (the
            # calendar is not asked).
            try:
                due, used = datetime.fromisoformat(kept_one[0]), timedelta(seconds=int(kept_one[1]))
            except (ValueError, TypeError, IndexError):
                pass  # a damaged verdict: computed with today's calendar
            else:
                horizon = clock.ended_at
                clipped = [(a, horizon if b is None else min(b, horizon)) for a, b in spans if a < horizon]
                clock.pauses = [(a, b) for a, b in clipped if b > clock.start and a < horizon]
                clock.due, clock.used, clock.frozen = due, used, True
                clock.breached = clock.ended_at > due
                continue
        _finish(clock, spans, spans_at, now, now_at, cal)
    return Sla(fr, res, spans, initial, level)


def verdicts_to_keep(sla: Sla, severity: str) -> str | None:
    """JSON of the finished clocks that keep no verdict yet (for the event that has just ended them)."""
    out = {
        k.key: [k.due.astimezone(dates.UTC).isoformat(), int(k.used.total_seconds()), severity if k.by_severity else None]
        for k in (sla.first_response, *sla.resolution)
        if k.ended_at is not None and not k.frozen and k.due is not None
    }
    return json.dumps(out, sort_keys=True) if out else None


def _finish(clock: Clock, holds: list[tuple[datetime, datetime | None]], holds_at: list[tuple[int, int | None]],
            now: datetime, now_at: int, cal) -> None:
    """A clock's deadline, business time used and breach with today's calendar; times as integer microseconds
    (`holds_at`, `now_at`: the same instants as `holds`, `now`; as businesstime.micro())."""
    start_at = (clock.start - _EPOCH) // _US
    horizon = clock.ended_at
    end_at = None
    if horizon is not None:
        # A finished clock is only moved by the holds it lived through, and only up to its end: a hold
        # that begins after it ended (first response given, level ended by an escalation) never moves it.
        end_at = (horizon - _EPOCH) // _US
        holds = [(a, horizon if b is None else min(b, horizon)) for a, b in holds if a < horizon]
        holds_at = [(a, end_at if b is None else min(b, end_at)) for a, b in holds_at if a < end_at]
    closed: list[tuple[int, int]] = []
    open_from = None
    for a, b in holds_at:
        end = b if b is not None else end_at
        if end is None:
            open_from = a
        elif end > a:
            closed.append((a, end))
    end_of_count = horizon or now
    count_to = end_at if end_at is not None else now_at
    if holds:
        from csdesk.businesstime import merge_micro

        clock.pauses = [(a, b) for a, b in holds if (b is None or b > clock.start) and a < end_of_count]
        paused = merge_micro(closed)
    else:
        clock.pauses, paused = [], closed
    due = cal.add_micro(start_at, clock.allowance // _US, paused)
    if open_from is not None and due > open_from:
        due = None  # the clock stopped before its deadline; the deadline moves on when resumed
    clock.due = None if due is None else _EPOCH + timedelta(microseconds=due)
    if open_from is not None:
        paused = merge_micro(closed + [(open_from, max(open_from, count_to))])
    clock.used = timedelta(microseconds=cal.elapsed_micro(start_at, count_to, paused))
    if end_at is not None:
        clock.breached = due is not None and end_at > due
    else:
        clock.breached = due is not None and due <= now_at


def _calendar_text(settings) -> str:
    b = settings["business"]
    runs: list[list] = []  # consecutive weekdays with the same windows: [first, last, windows]
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        if runs and runs[-1][2] == list(b[day]):
            runs[-1][1] = day
        else:
            runs.append([day, day, list(b[day])])
    hours = "; ".join(
        (a.title() if a == z else f"{a.title()}–{z.title()}") + " " + ", ".join(w) for a, z, w in runs if w
    ) or "no working hours"
    extra = []
    if b["country"]:
        extra.append(f"public holidays and make-up workdays (调休) of {b['country']}")
    if b["closures"]:
        extra.append(f"closures {', '.join(map(str, b['closures']))}")
    if b["extra_workdays"]:
        extra.append(f"extra workdays {', '.join(map(str, b['extra_workdays']))}")
    return f"{settings['timezone']}; {hours}" + (f"; {'; '.join(extra)}" if extra else "")


def calendar_gaps(settings, years: Iterable[int]) -> list[str]:
    """Warnings for the years whose make-up workdays (调休) the installed holidays package does not know.

    China publishes each year's schedule late in the year before; until a holidays release carries it,
    its make-up Saturdays and Sundays would count as days off. A year counts as missing when the
    country has make-up workdays in other years but none in it; dates added to `business.extra_workdays`
    (or `closures`) for that year silence the warning."""
    business = settings["business"]
    country = business.get("country")
    if not country:
        return []
    try:
        import holidays
    except ImportError:  # pragma: no cover - a dependency
        return []
    configured = {str(d)[:4] for d in [*business.get("extra_workdays", []), *business.get("closures", [])]}
    out = []
    known_elsewhere = None
    for year in sorted(set(years)):
        try:
            hol = holidays.country_holidays(country, years=year)
        except (NotImplementedError, KeyError):
            return []
        if any(d.year == year for d in getattr(hol, "weekend_workdays", ())):
            continue
        if known_elsewhere is None:
            probe = holidays.country_holidays(country, years=2026)
            known_elsewhere = any(d.year == 2026 for d in getattr(probe, "weekend_workdays", ()))
        if not known_elsewhere or str(year) in configured:
            continue
        version = getattr(holidays, "__version__", "?")
        out.append(_(
            "the installed holidays package ({version}) has no make-up workdays for {country} {year}: deadlines in "
            "{year} count the official make-up Saturdays and Sundays as days off. Upgrade holidays when a release carries "
            "{year}, or add the dates to [business] extra_workdays (and any extra days off to closures) in the config."
        ).format(version=version, country=country, year=year))
    return out


def severity_word(severity: str) -> str:
    return severity_label(severity)
