"""Settings: a TOML file over documented defaults.

Where the file is looked for, first found wins:
1. `CSDESK_CONFIG` (a path);
2. `csdesk.toml` beside the SQLite database file;
3. `config.toml` in the platform's config folder (e.g. ~/.config/csdesk/config.toml).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csdesk.errors import InvalidValue
from csdesk.i18n import N_, _

# Every key that exists, with its default. Later areas add their sections here.
DEFAULTS: dict[str, Any] = {
    # IANA zone that wall-clock times are read and shown in; the database stores UTC.
    "timezone": "Asia/Shanghai",
    # Who is acting when neither --as nor CSDESK_AGENT says (a staff name).
    "agent": "",
    # The interface language: "zh" (Chinese, the default) or "en"; --lang and CSDESK_LANG win over it.
    "lang": "zh",
    "business": {
        # Working windows per weekday; the gap between windows is the lunch break.
        "mon": ["09:00-12:00", "13:30-18:00"],
        "tue": ["09:00-12:00", "13:30-18:00"],
        "wed": ["09:00-12:00", "13:30-18:00"],
        "thu": ["09:00-12:00", "13:30-18:00"],
        "fri": ["09:00-12:00", "13:30-18:00"],
        "sat": [],
        "sun": [],
        # Public holidays and make-up working days (调休) of this country, from the holidays package.
        "country": "CN",
        # Company closures and extra working days, as YYYY-MM-DD.
        "closures": [],
        "extra_workdays": [],
    },
    # Complaint categories: "key=中文标签". The key is what people type (--category quality), the label
    # what screens and reports show. Add, rename or remove freely; existing complaints keep their key.
    "complaint_categories": [
        "quality=产品质量", "installation=安装施工", "attitude=服务态度",
        "delay=交付延误", "billing=费用结算", "other=其他",
    ],
    "sla": {
        # Business time (see [business]) allowed per severity, as durations: "4h", "1h30m", "90m".
        "first_response": {"normal": "4h", "serious": "2h", "major": "1h"},
        "resolution": {"normal": "24h", "serious": "16h", "major": "8h"},
    },
    # What each complaint level is called; level N is handled by staff of the Nth role
    # (1 specialist, 2 supervisor, 3 manager, 4 director).
    "levels": {"1": "客服专员", "2": "客服主管", "3": "客服经理", "4": "分管副总"},
    "escalation": {
        # The resolution allowance (business time) a complaint gets on reaching each level.
        "resolution": {"2": "8h", "3": "8h", "4": "8h"},
        # Who takes complaints escalated to a level when the assignee's reports_to chain has nobody
        # of that level (a staff name; "" = the active staff member of that role with fewest open complaints).
        "default_assignee": {"2": "", "3": "", "4": ""},
        # The level major complaints and key-account customers' complaints start at (3 = manager).
        "major_level": 3,
        "key_account_level": 3,
    },
    "assignment": {
        # Who gets a complaint or callback created without a named assignee (complaint open without
        # --assign, log-call --open-complaint, a visit rule whose own person has left); `--assign auto`
        # asks for these rules explicitly. The rules of `order` are tried in turn; the first to find
        # someone active, not in `absent` and (complaints) of the complaint's level or above wins:
        #   account_manager: the account manager of a customer whose tier is in `manager_tiers`;
        #   category: the person, or "role:ROLE", named for the complaint's category in `by_category`;
        #   opener: whoever opens it (首问负责制), or — when it starts above their level — the first
        #     person of that level up their reporting line (left out by --assign auto and by visit rules);
        #   fallback: `fallback` among the active staff of `pool_role` (or of the complaint's level,
        #     when higher): "round_robin" (in turn) or "fewest_open" (fewest open complaints + callbacks).
        "order": ["account_manager", "category", "opener", "fallback"],
        "manager_tiers": ["key", "vip"],
        # e.g. by_category = {billing = "赵敏", installation = "role:supervisor"} (keys: complaint_categories)
        "by_category": {},
        "fallback": "round_robin",
        "pool_role": "specialist",
        # Names of people away (leave, training): every rule passes them by.
        "absent": [],
    },
    "export": {
        # Customer phone numbers are masked (138****5678) in exports unless asked otherwise.
        "mask_phones": True,
    },
    "projects": {
        # Warranty length when `project add` has no --warranty: months or years (24m, 2y, "18 months").
        "warranty": "24m",
        # An adjustment (调整/整改) added without --due falls due this many days later; 0: no due date.
        "adjustment_days": 7,
        # Who can be responsible for an adjustment (adjust add --responsible).
        "responsible": ["design", "install", "supplier", "contractor", "property", "other"],
    },
    "collection": {
        # The dunning ladder (催收): days after an instalment's due date at which each step falls due;
        # -1 switches a step off. A step is due once its day has come until it (or a later one) is recorded.
        "ladder": {"reminder": 0, "call": 7, "notice": 15, "lawyer": 30},
        # The lowest role that may record each step (payment chase --step).
        "roles": {"reminder": "specialist", "call": "specialist", "notice": "supervisor", "lawyer": "manager"},
    },
    "callbacks": {
        # After an unanswered try, the next try is due this much business time later ("2h", "30m").
        "retry_delay": "2h",
        # Unanswered tries before a callback is marked missed (its assignee's supervisor is then told).
        "max_attempts": 3,
        # A due date given without a time of day (tomorrow, fri, 2026-12-01) means by this time that day.
        "default_time": "18:00",
    },
    "visit_rules": {
        # Rules that create return visits (回访). Each can be switched off with enabled = false.
        # `within`: "N business days" / "N business hours" (business time), or a calendar span ("3 days").
        # `every`: a calendar span ("3 months", "2m", "6 months", "1y").
        "complaint": {"enabled": True, "within": "1 business day"},   # after a complaint is resolved
        "handover": {"enabled": True, "within": "1 business day"},    # after a project is handed over
        "acceptance": {"enabled": True, "within": "3 days"},          # after a project is accepted
        "warranty": {"enabled": True, "every": "3 months", "at_least": 3},  # during the warranty
        "key": {"enabled": True, "every": "3 months"},                # key-account customers
        "vip": {"enabled": True, "every": "2 months"},                # VIP customers
        "owner": {"enabled": True, "every": "6 months"},              # owners of handed-over projects
    },
    "smtp": {
        # The mail server for reminder digests (remind run --mail) and mailed reports.
        "host": "",
        "port": 587,
        "starttls": True,
        "user": "",
        # The password is never in this file: it is read from this environment variable.
        "password_env": "CSDESK_SMTP_PASSWORD",
        "from_addr": "",
        "timeout": 20,
    },
    "desk": {
        # Seconds between refreshes of `csdesk desk` (other people's work appears within this).
        "refresh": 5,
    },
    "reminders": {
        # Announce a callback this long before it is due (and again once it is overdue).
        "callback_lead": "30m",
        # Warn when this share of a complaint's first-response or resolution allowance is used.
        "sla_warn_ratio": 0.8,
        # Announce instalments falling due this many days ahead.
        "instalment_lead_days": 3,
        # Repeat overdue announcements on this cadence ("1d", "4h"); "" announces each only once.
        "repeat_overdue_every": "",
    },
    "shift": {
        # Shift handovers (交接班, `csdesk shift`). The local times shifts start; each shift runs until
        # the next start, the last one until the first start of the next day (08:00–20:00, 20:00–08:00).
        "starts": ["08:00", "20:00"],
        # The checklist every handover answers, each item ok or not (shift hand --check 设备正常=ok).
        "checklist": ["设备正常", "工单已派", "待办已交代"],
        # A handover not taken this long after it was made is announced (once) by the reminder run to
        # both people and the incoming person's supervisor.
        "take_within": "30m",
    },
    "qa": {
        # Call quality checks (质检). The checklist: "item=weight"; every item is scored 1–5 and the call's
        # score is the weighted mean (1–5). Items are typed as named here (qa score --item 礼貌用语=5).
        "items": ["礼貌用语=20", "问题确认=25", "解决方案=30", "服务态度=15", "结束规范=10"],
        # A weighted score below this (on the 1–5 scale) fails: the agent's supervisor is told by the reminder run.
        "pass_mark": 3.5,
        # Calls drawn per agent by `qa sample` when --per-agent is not given.
        "per_agent": 5,
        # Besides supervisors and above, these staff (names) may draw samples and score calls.
        "group": [],
    },
    "notify": {
        # Where `remind run --mail` sends notices. Each [notify.channels.NAME] table is one channel:
        # type = "email" | "wecom" | "dingtalk"; serves = ["*"] or role names and staff names;
        # wecom/dingtalk: webhook (or webhook_env); dingtalk: secret (or secret_env). See the README.
        # With no `email` channel listed, mail goes through [smtp] to everyone with an email address.
        "channels": {},
        # A message whose fate is unknown (killed after sending, or answered after the timeout) is sent
        # again, with the same Message-ID, at most once per this interval.
        "resend_unknown_after": "1h",
        # Seconds to wait for a WeCom or DingTalk robot's answer.
        "timeout": 10.0,
    },
}

# What `config show` says about each section and key, in the interface language (the keys stay as
# they are written in the file). A key without its own line is explained by its section's.
DESCRIPTIONS: dict[str, str] = {
    "timezone": N_("Time zone that times are read and shown in; the database stores UTC."),
    "agent": N_("Who is acting when neither --as nor CSDESK_AGENT says (a staff name)."),
    "lang": N_("Interface language: zh (Chinese) or en; --lang and CSDESK_LANG win over it."),
    "business": N_("Business hours: working windows per weekday (the gap between two is the lunch break), holidays and closures."),
    "business.country": N_("Public holidays and make-up working days of this country."),
    "business.closures": N_("Company closures, as YYYY-MM-DD."),
    "business.extra_workdays": N_("Extra working days, as YYYY-MM-DD."),
    "complaint_categories": N_("Complaint categories as \"key=label\": the key is typed (--category quality), the label is shown."),
    "sla": N_("Business time allowed per severity for the first response and for the resolution (4h, 1h30m)."),
    "sla.first_response": N_("Time to the first response, per severity."),
    "sla.resolution": N_("Time to the resolution, per severity."),
    "levels": N_("What each complaint level is called (1 specialist … 4 director)."),
    "escalation": N_("Escalation: the time a complaint gets on reaching each level, and who takes it."),
    "escalation.resolution": N_("Resolution time granted on reaching each level."),
    "escalation.default_assignee": N_("Who takes complaints escalated to a level when nobody of that level is above the assignee (\"\" = the least busy)."),
    "escalation.major_level": N_("The level major complaints start at."),
    "escalation.key_account_level": N_("The level key accounts' complaints start at."),
    "export": N_("Exports (workbooks, CSV, mail)."),
    "export.mask_phones": N_("Mask customers' phone numbers (138****5678) in exports."),
    "projects": N_("Projects: warranty, adjustments."),
    "projects.warranty": N_("Warranty when project add has no --warranty (24m, 2y)."),
    "projects.adjustment_days": N_("An adjustment without --due falls due this many days later (0: no due date)."),
    "projects.responsible": N_("Who can be responsible for an adjustment."),
    "collection": N_("Collecting payments: the dunning ladder and who may record each step."),
    "collection.ladder": N_("Days after the due date at which each dunning step falls due (-1: off)."),
    "collection.roles": N_("The lowest role that may record each step."),
    "callbacks": N_("Callbacks: retries and the default time of day."),
    "callbacks.retry_delay": N_("After an unanswered try, the next is due this much business time later."),
    "callbacks.max_attempts": N_("Unanswered tries before a callback counts as missed."),
    "callbacks.default_time": N_("A due date without a time of day means by this time that day."),
    "visit_rules": N_("Rules that create return visits; each can be switched off with enabled = false."),
    "smtp": N_("The mail server for reminder digests and mailed reports (the password comes from the environment)."),
    "desk": N_("The full-screen desk."),
    "desk.refresh": N_("Seconds between refreshes of csdesk desk."),
    "reminders": N_("Reminder runs (remind run)."),
    "reminders.callback_lead": N_("Announce a callback this long before it is due."),
    "reminders.sla_warn_ratio": N_("Warn when this share of a complaint's allowance is used."),
    "reminders.instalment_lead_days": N_("Announce instalments falling due this many days ahead."),
    "reminders.repeat_overdue_every": N_("Repeat overdue announcements on this cadence (\"\": only once)."),
    "notify": N_("Where remind run --mail sends notices: mail, WeCom and DingTalk channels."),
    "notify.channels": N_("One [notify.channels.NAME] table per channel: type, serves, webhook or webhook_env."),
    "notify.resend_unknown_after": N_("A message of unknown fate is sent again, with the same id, at most this often."),
    "notify.timeout": N_("Seconds to wait for a chat robot's answer."),
}


def describe(key: str) -> str | None:
    """`config show`'s line about a section or key, in the interface language (None: none of its own)."""
    text = DESCRIPTIONS.get(key)
    return _(text) if text else None


# What a setting's type is called in an error ("must be a number").
_KIND_WORDS = {"int": N_("a whole number"), "float": N_("a number"), "str": N_("text in quotes"), "bool": N_("true or false"),
               "list": N_("a list"), "dict": N_("a table"), "value": N_("a value")}

# Tables whose keys are names people choose (checked by the code that reads them, not here).
NAMED_TABLES = ("notify.channels", "assignment.by_category")

SECRET_WORDS = ("password", "secret", "token", "webhook")


@dataclass
class Settings:
    data: dict[str, Any]
    source: Path | None = None
    _tz: Any = field(default=None, repr=False)

    @property
    def tz(self):
        if self._tz is None:
            from csdesk.dates import zone

            self._tz = zone(self.data["timezone"])
        return self._tz

    def __getitem__(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            node = node[part]
        return node

    def public(self) -> dict[str, Any]:
        """The settings with every secret blanked, for `config show` and --json."""
        return _redact(self.data)


def _redact(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: ("********" if any(w in k.lower() for w in SECRET_WORDS) and v else _redact(v))
            for k, v in node.items()
        }
    return node


def _merge(base: dict, over: dict, path: str = "") -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        where = f"{path}{key}"
        if key not in base:
            raise InvalidValue(_("config: unknown key {where!r}").format(where=where))
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise InvalidValue(_("config: {where!r} must be a table").format(where=where))
            if where in NAMED_TABLES:
                out[key] = copy.deepcopy(value)
                continue
            out[key] = _merge(base[key], value, where + ".")
        else:
            if base[key] is not None and type(value) is not type(base[key]) and not (
                isinstance(base[key], float) and isinstance(value, int)
            ):
                raise InvalidValue(_("config: {where!r} must be {kind}").format(where=where, kind=_(_KIND_WORDS.get(type(base[key]).__name__, "value"))))
            out[key] = value
    return out


def config_path(db_path: Path | None) -> Path | None:
    env = os.environ.get("CSDESK_CONFIG")
    if env:
        return Path(env)
    if db_path is not None:
        beside = db_path.parent / "csdesk.toml"
        if beside.exists():
            return beside
    from platformdirs import user_config_dir

    candidate = Path(user_config_dir("csdesk")) / "config.toml"
    return candidate if candidate.exists() else None


def load(db_path: Path | None = None) -> Settings:
    path = config_path(db_path)
    if path is None:
        return Settings(copy.deepcopy(DEFAULTS))
    import tomllib

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidValue(_("config file {path} does not exist").format(path=path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValue(_("config file {path}: {exc}").format(path=path, exc=exc)) from None
    settings = Settings(_merge(DEFAULTS, raw), source=path)
    validate(settings)
    return settings


# --- checking every key once, when the file is loaded -------------------------------------------------
# `config show` refuses what a later command would refuse, with the key and the reason. The rules are
# the areas' own where those are light to import (business calendar, visit rules); the rest mirror
# the areas' parsers: integers are bounded so that date arithmetic cannot overflow.

_INT_RANGES = {
    "escalation.major_level": (1, 4),
    "escalation.key_account_level": (1, 4),
    "projects.adjustment_days": (0, 3650),
    "collection.ladder.*": (-1, 3650),
    "callbacks.max_attempts": (1, 20),
    "visit_rules.warranty.at_least": (0, 100),
    "smtp.port": (1, 65535),
    "smtp.timeout": (1, 600),
    "reminders.instalment_lead_days": (0, 3650),
    "qa.per_agent": (1, 1000),
}
# Durations of (business) time that must be more than zero; "" means off where the default is "".
_DURATIONS = ("sla.first_response.*", "sla.resolution.*", "escalation.resolution.*", "callbacks.retry_delay",
              "reminders.callback_lead", "reminders.repeat_overdue_every")
_DATE_LISTS = ("business.closures", "business.extra_workdays")
_ROLES = ("specialist", "supervisor", "manager", "director")  # csdesk.workflows.ROLES (not imported: layering)


def _leaves(node: Any, path: str = ""):
    for key, value in node.items():
        where = f"{path}{key}"
        if isinstance(value, dict):
            yield from _leaves(value, where + ".")
        else:
            yield where, value


def _bad(key: str, reason: str) -> InvalidValue:
    return InvalidValue(_("config: {key}: {reason}").format(key=key, reason=reason))


def validate(settings: Settings) -> None:
    """Check every setting (types, list items, ranges, durations, calendar, country, names, text);
    raise InvalidValue naming the first bad key and why."""
    from fnmatch import fnmatchcase

    from csdesk import dates
    from csdesk.text import unsafe

    data = settings.data
    business = data["business"]
    for name in _DATE_LISTS:  # a bare TOML date (2026-12-31) arrives as a date: keep it as its text
        key = name.split(".")[1]
        business[key] = [v.isoformat() if hasattr(v, "isoformat") and not hasattr(v, "hour") else v for v in business[key]]
    for key, value in _leaves(data):
        default = _default(key)
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str):
                    example = _(", such as {example!r}").format(example=default[0]) if isinstance(default, list) and default else ""
                    raise _bad(key, _("{item!r} is not text in quotes{example}").format(item=item, example=example))
                if unsafe(item, lines=False):
                    raise _bad(key, _("contains control characters"))
        elif isinstance(value, str) and unsafe(value, lines=False):
            raise _bad(key, _("contains control characters"))
        for pattern, (low, high) in _INT_RANGES.items():
            if fnmatchcase(key, pattern) and not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
                raise _bad(key, _("must be a whole number from {low} to {high}, not {value!r}").format(low=low, high=high, value=value))
        if any(fnmatchcase(key, p) for p in _DURATIONS) and not (value == "" and default == ""):
            try:
                if not isinstance(value, str) or dates.parse_duration(value).total_seconds() <= 0:
                    raise InvalidValue("")
            except InvalidValue:
                raise _bad(key, _("{value!r} is not a duration of more than 0 like \"4h\" or \"1h30m\"").format(value=value)) from None
        if fnmatchcase(key, "collection.roles.*") and value not in _ROLES:
            raise _bad(key, _("{value!r} is not a role (use one of: {roles})").format(value=value, roles=', '.join(_ROLES)))
    ratio = data["reminders"]["sla_warn_ratio"]
    if not 0 < ratio <= 1:
        raise _bad("reminders.sla_warn_ratio", _("must be more than 0 and at most 1, not {ratio!r}").format(ratio=ratio))
    settings.tz  # the zone
    _check_qa(data["qa"])
    _check_business(data)
    _check_categories(data["complaint_categories"])
    _check_warranty(data["projects"]["warranty"])
    _check_assignment(data["assignment"])
    from csdesk.workflows.visit_rules import load_rules  # stdlib-only module: the visit rules' own checks

    load_rules(settings)
    from csdesk.workflows.shift_rules import load_shift_rules  # stdlib-only too: the [shift] checks

    load_shift_rules(settings)


def _default(key: str) -> Any:
    node: Any = DEFAULTS
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _check_business(data: dict) -> None:
    from csdesk.businesstime import BusinessCalendar

    try:
        BusinessCalendar(data["timezone"], data["business"])
    except ValueError as exc:
        raise InvalidValue(_("config: {exc}").format(exc=exc)) from None
    country = data["business"]["country"].strip().upper()
    if country and country != DEFAULTS["business"]["country"]:
        import holidays

        if country not in holidays.list_supported_countries():
            raise _bad("business.country", _("{country!r} is not a country the holidays package knows (e.g. CN, HK, TW, SG)").format(country=country))


def _check_categories(items: list) -> None:
    import re

    if not items:
        raise _bad("complaint_categories", _("is empty"))
    for item in items:
        key = item.partition("=")[0].strip().lower()
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,19}", key):
            raise _bad("complaint_categories", _("{item!r} is not \"key=标签\" (key: a-z, 0-9, _ -, up to 20)").format(item=item))


def _check_warranty(text: str) -> None:
    from csdesk import dates

    try:
        span = dates.parse_span(text)
    except InvalidValue as exc:
        raise _bad("projects.warranty", exc.message) from None
    months = span.years * 12 + span.months
    if span.days or not 0 < months <= 600:
        raise _bad("projects.warranty", _("{text!r} is not 1 month to 50 years in months or years (24m, 2y)").format(text=text))


def qa_items(values: list) -> dict[str, int]:
    """The quality checklist, `["礼貌用语=20", …]` → {"礼貌用语": 20, …}; ValueError says what is wrong."""
    items: dict[str, int] = {}
    for value in values:
        name, sep, weight = str(value).partition("=")
        name, weight = name.strip(), weight.strip()
        if not sep or not name or not weight.isdigit() or not 0 < int(weight) <= 1000:
            raise ValueError(f"{value!r} is not \"item=weight\" (a name and a whole number from 1 to 1000)")
        if name in items:
            raise ValueError(f"{name!r} is listed twice")
        items[name] = int(weight)
    if not items:
        raise ValueError("the checklist is empty")
    return items


def _check_qa(qa: dict) -> None:
    try:
        qa_items(qa["items"])
    except ValueError as exc:
        raise _bad("qa.items", str(exc)) from None
    mark = qa["pass_mark"]
    if isinstance(mark, bool) or not 1 <= mark <= 5:
        raise _bad("qa.pass_mark", f"must be from 1 to 5 (the scale of the checklist), not {mark!r}")


def _check_assignment(a: dict) -> None:
    from csdesk.i18n import _

    rules = ("account_manager", "category", "opener", "fallback")  # csdesk.workflows.assignment.RULES
    for rule in a["order"]:
        if rule not in rules:
            raise _bad("assignment.order", _("{value!r} is not a rule (use: {choices})").format(value=rule, choices=", ".join(rules)))
    if a["fallback"] not in ("round_robin", "fewest_open"):
        raise _bad("assignment.fallback", _("{value!r} is not round_robin or fewest_open").format(value=a["fallback"]))
    if a["pool_role"] not in _ROLES:
        raise _bad("assignment.pool_role", _("{value!r} is not a role (use: {choices})").format(value=a["pool_role"], choices=", ".join(_ROLES)))
    for tier in a["manager_tiers"]:
        if tier not in ("standard", "vip", "key"):
            raise _bad("assignment.manager_tiers", _("{value!r} is not a tier (use: {choices})").format(value=tier, choices="standard, vip, key"))
    for key, value in a["by_category"].items():
        if not isinstance(value, str) or not value.strip():
            raise _bad(f"assignment.by_category.{key}", _("must be a staff name or \"role:ROLE\" in quotes"))
        if value.strip().lower().startswith("role:") and value.split(":", 1)[1].strip().lower() not in _ROLES:
            raise _bad(f"assignment.by_category.{key}", _("{value!r} is not a role (use: {choices})").format(
                value=value.split(":", 1)[1].strip(), choices=", ".join(_ROLES)))
