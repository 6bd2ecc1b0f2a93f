"""Who gets new work: the assignment rules (`[assignment]` in the settings).

When a complaint or a callback is created without a named assignee, the rules of
`assignment.order` are tried in turn; the first that finds someone active, not away
(`assignment.absent`) and — for a complaint — of its level or above, wins:

- `account_manager`: the account manager of a customer whose tier is in `assignment.manager_tiers`;
- `category`: the person, or `role:ROLE` (then chosen among that role as `fallback` says), named for
  the complaint's category in `assignment.by_category` (complaints only);
- `opener`: the person opening it (首问负责制) or, when it starts above their level, the first person of
  that level up their reporting line (escalation.default_assignee …) — what csdesk did before the rules;
  left out for `--assign auto` and for work made automatically (visit rules);
- `fallback`: round robin (`round_robin`) among the active staff of `assignment.pool_role` (or of the
  complaint's level, when higher), or the one with the fewest open items (`fewest_open`).

The choice is stored on the row (`assign_rule`, and the decision with every candidate skipped and why in
`assign_detail`), so `csdesk assign explain` can show it later. This module crosses areas (customers,
staff, complaints, callbacks); the areas call it at their creation points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import func, select

from csdesk.errors import Conflict, NotFound
from csdesk.i18n import N_, _
from csdesk.models import Callback, Complaint, Customer, Staff
from csdesk.workflows import ROLE_LABELS, ROLE_RANK, ROLES, Desk

RULES = ("account_manager", "category", "opener", "fallback")
FALLBACKS = ("round_robin", "fewest_open")
RULE_LABELS = {
    "account_manager": N_("account manager"),
    "category": N_("named for the category"),
    "opener": N_("the person opening it (first contact)"),
    "round_robin": N_("round robin"),
    "fewest_open": N_("fewest open items"),
    "fallback": N_("fallback"),
    "named": N_("named by hand"),
}
_ACTIVE_COMPLAINT = ("open", "acknowledged", "on_hold")


@dataclass
class Settings:
    order: list[str]
    manager_tiers: list[str]
    by_category: dict[str, str]
    fallback: str
    pool_role: str
    absent: set[str]


def load_settings(settings) -> Settings:
    """The [assignment] section (checked when the settings are loaded: config.py)."""
    a = settings["assignment"]
    return Settings(list(a["order"]), [t.strip().lower() for t in a["manager_tiers"]],
                    {str(k).strip().lower(): str(v).strip() for k, v in a["by_category"].items()}, a["fallback"].strip(),
                    a["pool_role"].strip().lower(), {n.strip() for n in a["absent"]})


@dataclass
class Pick:
    """The decision: who (a Staff row, or None when no rule found anyone), by which rule, and each step."""

    staff: Staff | None
    rule: str | None
    steps: list[dict[str, Any]] = field(default_factory=list)
    level: int | None = None

    def detail(self) -> str:
        return json.dumps({"level": self.level, "steps": self.steps}, ensure_ascii=False, sort_keys=True)


class _Chooser:
    def __init__(self, desk: Desk, model, level: int | None):
        self.desk, self.session, self.model, self.level = desk, desk.session, model, level
        self.conf = load_settings(desk.settings)
        self.steps: list[dict[str, Any]] = []

    def skip(self, rule: str, reason: str, name: str | None = None, **params) -> None:
        self.steps.append({"rule": rule, "outcome": "skipped", "candidate": name, "reason": reason, **params})

    def fit(self, rule: str, staff: Staff | None) -> bool:
        """Whether this person may take it; a skip is recorded when not."""
        if staff is None:
            return False
        if not staff.active:
            self.skip(rule, "inactive", staff.name)
        elif staff.name in self.conf.absent:
            self.skip(rule, "absent", staff.name)
        elif self.level and ROLE_RANK[staff.role] < self.level:
            self.skip(rule, "level", staff.name, role=staff.role, level=self.level)
        else:
            return True
        return False

    def chosen(self, rule: str, staff: Staff, stored: str | None = None, **params) -> Pick:
        self.steps.append({"rule": rule, "outcome": "chosen", "candidate": staff.name, "reason": None, **params})
        return Pick(staff, stored or rule, self.steps, self.level)

    # -- the rules ---------------------------------------------------------------------------------

    def account_manager(self, customer: Customer) -> Pick | None:
        if customer.tier not in self.conf.manager_tiers:
            self.skip("account_manager", "tier", tier=customer.tier)
            return None
        if not customer.manager_id:
            self.skip("account_manager", "no_manager")
            return None
        manager = self.session.get(Staff, customer.manager_id)
        return self.chosen("account_manager", manager) if self.fit("account_manager", manager) else None

    def category(self, category: str | None) -> Pick | None:
        target = self.conf.by_category.get(category or "", "")
        if not target:
            self.skip("category", "no_category", category=category)
            return None
        if target.lower().startswith("role:"):
            role = target.split(":", 1)[1].strip().lower()
            pool = self.pool("category", role)
            if not pool:
                return None
            person, how = self.from_pool(pool, "category")
            return self.chosen("category", person, category=category, role=role, how=how)
        staff = self.session.exec(select(Staff).where(Staff.name == target)).first()
        if staff is None:
            self.skip("category", "unknown", target, category=category)
            return None
        return self.chosen("category", staff, category=category) if self.fit("category", staff) else None

    def opener(self, explicit: bool | str) -> Pick | None:
        actor = self.desk.actor
        if explicit == "visit":
            self.skip("opener", "visit_rule")
            return None
        if explicit:
            self.skip("opener", "auto")
            return None
        if actor is None:
            self.skip("opener", "no_opener")
            return None
        me = self.session.get(Staff, actor.id)
        if not self.level or actor.rank >= self.level:
            return self.chosen("opener", me) if self.fit("opener", me) else None
        self.skip("opener", "level", me.name, role=me.role, level=self.level)
        from csdesk.workflows.complaints import handler_for_level

        boss = handler_for_level(self.session, self.desk.settings, actor.id, self.level)
        if boss is None:
            return None
        return self.chosen("opener", boss, via=me.name) if self.fit("opener", boss) else None

    def fallback(self) -> Pick | None:
        role = self.conf.pool_role
        if self.level and ROLE_RANK[role] < self.level:
            role = ROLES[self.level - 1]
        pool = self.pool("fallback", role)
        if not pool:
            return None
        person, how = self.from_pool(pool, self.conf.fallback)
        return self.chosen(self.conf.fallback, person, role=role)

    # -- pools ---------------------------------------------------------------------------------------

    def pool(self, rule: str, role: str) -> list[Staff]:
        if role not in ROLE_RANK:
            self.skip(rule, "bad_role", role=role)
            return []
        if self.level and ROLE_RANK[role] < self.level:
            self.skip(rule, "role_level", role=role, level=self.level)
            return []
        people = list(self.session.exec(select(Staff).where(Staff.role == role, Staff.active == True).order_by(Staff.id)).all())  # noqa: E712
        away = [s for s in people if s.name in self.conf.absent]
        for s in away:
            self.skip(rule, "absent", s.name)
        people = [s for s in people if s.name not in self.conf.absent]
        if not people:
            self.skip(rule, "nobody", role=role)
        return people

    def from_pool(self, pool: list[Staff], how: str) -> tuple[Staff, str]:
        ids = [s.id for s in pool]
        if how == "fewest_open" or how == "category" and self.conf.fallback == "fewest_open":
            load = open_items(self.session, ids)
            return min(pool, key=lambda s: (load.get(s.id, 0), s.id)), "fewest_open"
        # Round robin: whoever this rule gave work to longest ago (or never) is next.
        rule = "category" if how == "category" else "round_robin"
        last = dict(self.session.exec(
            select(self.model.assignee_id, func.max(self.model.id))
            .where(self.model.assign_rule == rule, self.model.assignee_id.in_(ids)).group_by(self.model.assignee_id)).all())
        return min(pool, key=lambda s: (last.get(s.id, 0), s.id)), "round_robin"


def open_items(session, ids: list[int]) -> dict[int, int]:
    """Open complaints assigned plus pending callbacks, per person."""
    load: dict[int, int] = {}
    for model, cond in ((Complaint, Complaint.status.in_(_ACTIVE_COMPLAINT)), (Callback, Callback.status == "pending")):
        for who, n in session.exec(select(model.assignee_id, func.count()).where(model.assignee_id.in_(ids), cond)
                                   .group_by(model.assignee_id)).all():
            load[who] = load.get(who, 0) + n
    return load


def _run(ch: _Chooser, customer: Customer, category: str | None, explicit: bool | str, kind: str) -> Pick:
    for rule in ch.conf.order:
        if rule == "account_manager":
            pick = ch.account_manager(customer)
        elif rule == "category":
            if kind != "complaint":
                continue
            pick = ch.category(category)
        elif rule == "opener":
            pick = ch.opener(explicit)
        else:
            pick = ch.fallback()
        if pick is not None:
            return pick
    return Pick(None, None, ch.steps, ch.level)


def _refuse(pick: Pick) -> Conflict:
    why = "; ".join(step_text(s) for s in pick.steps if s["outcome"] == "skipped")
    return Conflict(_("The assignment rules found nobody to take it: {why}.").format(why=why or "-"),
                    hint=_("Name someone with --assign NAME, or change [assignment] in the settings (csdesk config show)."))


def is_auto(assign: str | None) -> bool:
    return (assign or "").strip().lower() in ("auto", "自动")


def pick_for_complaint(desk: Desk, customer: Customer, category: str | None, level: int, assign: str | None) -> Pick | None:
    """The rules' choice for a new complaint at `level`; None when a person is named (`assign`), or when no
    rule found anyone (the caller then keeps its own way). `assign` "auto" asks for the rules without
    the opener, and refuses when they find nobody."""
    if assign and not is_auto(assign):
        return None
    explicit = is_auto(assign)
    pick = _run(_Chooser(desk, Complaint, level), customer, category, explicit, "complaint")
    if pick.staff is None:
        if explicit:
            raise _refuse(pick)
        return None
    return pick


def pick_for_callback(desk: Desk, customer_id: int, assign: str | None = None, automatic: bool = False) -> Pick | None:
    """The rules' choice for a new callback: with `assign` "auto" (by hand), or `automatic` (a visit rule
    whose own choice found nobody active). None otherwise, or when nobody is found automatically."""
    explicit = is_auto(assign)
    if not (explicit or automatic):
        return None
    customer = desk.session.get(Customer, customer_id)
    pick = _run(_Chooser(desk, Callback, None), customer, None, True if explicit else "visit", "callback")
    if pick.staff is None:
        if explicit:
            raise _refuse(pick)
        return None
    return pick


def stored(pick: Pick | None, assign: str | None) -> dict[str, Any]:
    """The columns recording the decision on the new row."""
    if pick is not None:
        return {"assign_rule": pick.rule, "assign_detail": pick.detail()}
    return {"assign_rule": "named" if assign else "opener", "assign_detail": None}


def assign_new_callback(desk: Desk, cb: Callback) -> None:
    """A callback a rule made with nobody to give it to: the assignment rules choose (when they can)."""
    pick = pick_for_callback(desk, cb.customer_id, automatic=True)
    if pick is not None:
        cb.assignee_id = pick.staff.id
        cb.assign_rule, cb.assign_detail = pick.rule, pick.detail()


# ---- explaining a decision -------------------------------------------------------------------------

_REASONS = {
    "inactive": N_("{name} is no longer active"),
    "absent": N_("{name} is away (assignment.absent)"),
    "level": N_("{name} is a {role}; a level-{level} complaint needs a {needed} or above"),
    "tier": N_("the customer's tier is {tier}, which has no account-manager rule (assignment.manager_tiers)"),
    "no_manager": N_("the customer has no account manager"),
    "no_category": N_("nobody is named for the category {category} (assignment.by_category)"),
    "unknown": N_("{name}, named for the category {category}, is not a staff member"),
    "auto": N_("left out: --assign auto asks for the rules"),
    "no_opener": N_("nobody opened it by hand (made automatically)"),
    "visit_rule": N_("made by a visit rule whose own person has left"),
    "bad_role": N_("{role} is not a role"),
    "role_level": N_("a {role} cannot take a level-{level} complaint"),
    "nobody": N_("nobody active and present is a {role}"),
}


def rule_label(rule: str | None) -> str:
    return _(RULE_LABELS[rule]) if rule in RULE_LABELS else (rule or "")


def _role(role: str | None) -> str:
    return ROLE_LABELS.get(role or "", role or "") if not _is_en() else (role or "")


def _is_en() -> bool:
    from csdesk.i18n import is_english

    return is_english()


def step_text(step: dict[str, Any], categories: dict[str, str] | None = None) -> str:
    """One step of a decision in words; `categories`: the settings' category labels (Chinese screens)."""
    if step["outcome"] == "chosen":
        if step.get("via"):
            return _("{name}: the first person of the complaint's level up {via}'s reporting line").format(
                name=step.get("candidate"), via=step["via"])
        return _("{name} chosen").format(name=step.get("candidate"))
    template = _REASONS.get(step.get("reason") or "")
    if template is None:
        return step.get("reason") or ""
    level = step.get("level")
    tier, category = step.get("tier") or "", step.get("category") or ""
    if not _is_en():
        from csdesk.workflows.customers import TIER_LABELS

        tier, category = TIER_LABELS.get(tier, tier), (categories or {}).get(category, category)
    return _(template).format(name=step.get("candidate") or "", role=_role(step.get("role")), level=level or "",
                              needed=_role(ROLES[level - 1]) if level else "", tier=tier, category=category)


@dataclass
class ExplainStep:
    rule: str
    rule_label: str
    outcome: str  # chosen | skipped
    candidate: str | None
    reason: str | None
    text: str
    via: str | None = None  # the opener whose reporting line led to the one chosen


@dataclass
class Explanation:
    entity: str  # complaint | callback
    id: int
    customer_code: str
    assignee: str | None  # who has it now
    chosen: str | None  # whom the rules (or a person) chose when it was made
    rule: str | None
    rule_label: str
    level: int | None
    steps: list[ExplainStep]


def explain(desk: Desk, entity: str, row_id: int) -> Explanation:
    """The decision that gave a complaint (or callback) its first assignee."""
    session = desk.session
    model = Complaint if entity == "complaint" else Callback
    row = session.get(model, row_id)
    if row is None:
        raise NotFound((_("No complaint #{id}.") if entity == "complaint" else _("No callback #{id}.")).format(id=row_id))
    detail = json.loads(row.assign_detail) if row.assign_detail else {}
    labels = {k.strip().lower(): v.strip() for k, _sep, v in (str(i).partition("=") for i in desk.settings["complaint_categories"])}
    steps = [ExplainStep(s["rule"], rule_label(s["rule"]), s["outcome"],
                         s.get("candidate"), s.get("reason"), step_text(s, labels), s.get("via")) for s in detail.get("steps", [])]
    chosen = next((s.candidate for s in steps if s.outcome == "chosen"), None)
    names = dict(session.exec(select(Staff.id, Staff.name)).all())
    if chosen is None and row.assign_rule in ("named", "opener"):
        first = _first_assignee(session, entity, row)
        chosen = names.get(first) if first else None
    customer = session.get(Customer, row.customer_id)
    return Explanation(entity, row.id, customer.code, names.get(row.assignee_id) if row.assignee_id else None, chosen,
                       row.assign_rule, rule_label(row.assign_rule) if row.assign_rule else _("none recorded"),
                       detail.get("level", getattr(row, "level", None)), steps)


def _first_assignee(session, entity: str, row) -> int | None:
    if entity != "complaint":
        return row.assignee_id
    from csdesk.models import ComplaintEvent

    first = session.exec(select(ComplaintEvent.to_value).where(ComplaintEvent.complaint_id == row.id, ComplaintEvent.kind == "assigned")
                         .order_by(ComplaintEvent.id).limit(1)).first()
    return int(first) if first and str(first).isdigit() else (row.owner_id if row.assign_rule == "opener" else row.assignee_id)


# ---- the demo ----------------------------------------------------------------------------------------

DEMO_GRADES = {"陈建国": "senior", "张丽华": "senior", "李娜": "senior", "周涛": "intermediate", "王芳": "intermediate",
               "刘洋": "intermediate", "赵敏": "junior", "孙磊": "junior", "吴静": "junior"}


def demo_assignment(desk: Desk, rng, made: dict[str, Any]) -> list[str]:
    """Grades for the demo staff, one key account left without a manager, and a few complaints the rules
    assigned (`--assign auto`): an account manager's, and some in turn among the specialists."""
    from datetime import timedelta

    from csdesk.workflows import audit, snapshot
    from csdesk.workflows.complaints import open_complaint

    session = desk.session
    for staff in session.exec(select(Staff)).all():
        grade = DEMO_GRADES.get(staff.name)
        if grade and grade != staff.grade:
            before = snapshot(staff)
            staff.grade = grade
            session.add(staff)
            audit(desk, "staff.edit", staff, before=before)
    key = [c for c in session.exec(select(Customer).where(Customer.tier == "key").order_by(Customer.id)).all()]
    if key:
        before = snapshot(key[-1])
        key[-1].manager_id = None
        session.add(key[-1])
        audit(desk, "customer.edit", key[-1], before=before)
    vip = session.exec(select(Customer).where(Customer.tier == "vip", Customer.manager_id.is_not(None)).order_by(Customer.id)).first()
    plain = list(session.exec(select(Customer).where(Customer.tier == "standard").order_by(Customer.id).limit(40)).all())
    chosen = ([vip] if vip else []) + rng.sample(plain, min(4, len(plain)))
    summaries = ["回电不及时，客户不满", "上门时间一改再改", "发票迟迟未开", "维修后又出现同样问题", "客服态度冷淡"]
    categories = ["attitude", "delay", "billing", "quality", "attitude"]
    rules: dict[str, int] = {}
    ids = []
    for i, customer in enumerate(chosen):
        info = open_complaint(desk, severity="normal", category=categories[i], summary=summaries[i], customer_id=customer.id,
                              at=desk.now - timedelta(hours=3 + 5 * i), assign="auto")
        rules[info.assign_rule] = rules.get(info.assign_rule, 0) + 1
        ids.append(info.id)
    from csdesk.i18n import _

    done = ", ".join(f"{rule_label(rule)} {n}" for rule, n in sorted(rules.items()))
    grades = list(DEMO_GRADES.values())
    return [_("  assignment: grades {senior} senior, {middle} intermediate, {junior} junior; {n} complaints assigned by the "
              "rules ({done}; assign explain {first}); {key} key account without a manager (customer list --tier key --unmanaged)").format(
        senior=grades.count("senior"), middle=grades.count("intermediate"), junior=grades.count("junior"), n=len(chosen),
        done=done, first=ids[0] if ids else 1, key=1 if key else 0)]
