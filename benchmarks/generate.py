"""Build a large csdesk database quickly, for the benchmarks (not for tests, not for real work).

    python benchmarks/generate.py --db /tmp/csdesk-bench.db                # 20,000 customers, 1,000,000 calls
    python benchmarks/generate.py --db /tmp/small.db --customers 2000 --calls 50000
    python benchmarks/generate.py --db postgresql://bench@localhost/csdesk_bench --force

The schema comes from csdesk's own migrations (`Database.create_file()` + `csdesk.migrations.upgrade`),
the rows go in with SQLAlchemy Core bulk inserts (`conn.execute(table.insert(), [dict, ...])`, 10,000
rows a batch) into the tables of `csdesk.models`, so the generator follows the schema as it grows.

Each area is one function registered with `@area(name, *tables)`, run in order; an area whose tables
are not in `csdesk.models` yet is skipped with a note. Later areas add theirs (see the stubs at the end
of the AREAS section). Areas share what they made through `g.made` (staff ids by role, customer ids and
phones, project ids by customer, ...). No audit rows are written for generated data.

SQLite only during the load: journal_mode=OFF, synchronous=OFF, a big page cache, and the secondary
indexes of the big tables dropped and re-created afterwards. At the end: ANALYZE, and the file is left
in WAL mode like any csdesk database. PostgreSQL: synchronous_commit=off, the same index trick, ANALYZE,
and the id sequences moved past the generated ids.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate, islice
from typing import Any, Callable, Iterable, Iterator

UTC = timezone.utc
BATCH = 10_000
DEFAULT_DB = "/tmp/csdesk-bench.db"

# Volumes named by the issues (issue 2: customers, calls; 3: complaints; 4: callbacks; 5: projects, instalments).
SIZES = {
    "staff": 30,
    "customers": 20_000,
    "calls": 1_000_000,
    "projects": 20_000,
    "complaints": 100_000,
    "callbacks": 200_000,
    "adjustments": 10_000,
}  # instalments: 3 per project (60,000 for 20,000 projects)


# --------------------------------------------------------------------------------------------------
# Plumbing
# --------------------------------------------------------------------------------------------------


@dataclass
class Gen:
    """What every area function gets: the open connection, the tables, the clock, the sizes, and `made`."""

    conn: Any
    tables: dict[str, Any]
    rng: random.Random
    now: datetime  # aware UTC: the generated history ends here
    start: datetime  # aware UTC: ~1 year before now
    tz: Any
    settings: Any  # csdesk.config.Settings of the database (defaults unless a csdesk.toml is beside it)
    sizes: dict[str, int]
    dialect: str
    made: dict[str, Any] = field(default_factory=dict)

    def has(self, *names: str) -> bool:
        return all(n in self.tables for n in names)


AREAS: list[tuple[str, tuple[str, ...], Callable[[Gen], dict[str, int]]]] = []


def area(name: str, *tables: str):
    """Register an area generator; it runs only if all its tables are in csdesk.models."""

    def deco(fn):
        AREAS.append((name, tables, fn))
        return fn

    return deco


def batched(rows: Iterable[dict], n: int = BATCH) -> Iterator[list[dict]]:
    it = iter(rows)
    while chunk := list(islice(it, n)):
        yield chunk


def _check_columns(table, row: dict) -> None:
    """Fail loudly (not with a cryptic SQL error) when the models changed under the generator."""
    names = set(table.c.keys())
    unknown = sorted(set(row) - names)
    if unknown:
        sys.exit(f"generate.py: table {table.name} has no column(s) {', '.join(unknown)}: update benchmarks/generate.py")
    missing = sorted(
        c.name for c in table.c
        if c.name not in row and not c.nullable and c.default is None and c.server_default is None and not c.primary_key
    )
    if missing:
        sys.exit(f"generate.py: table {table.name} needs column(s) {', '.join(missing)}: update benchmarks/generate.py")


def insert(g: Gen, table_name: str, rows: Iterable[dict]) -> int:
    """Bulk insert with SQLAlchemy Core, BATCH rows per executemany; every dict must have the same keys."""
    table = g.tables[table_name]
    n = 0
    for chunk in batched(rows):
        if n == 0:
            _check_columns(table, chunk[0])
        g.conn.execute(table.insert(), chunk)
        n += len(chunk)
    return n


def secondary_indexes(conn, dialect: str, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of a table's plain indexes, exactly as the migrations made them."""
    if dialect == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
        ).fetchall()
    else:
        rows = conn.exec_driver_sql(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = %(t)s "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)", {"t": table}
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def load_big(g: Gen, table_name: str, rows: Iterable[dict]) -> int:
    """Insert many rows into a table with its secondary indexes dropped, then rebuild them (one sort each)."""
    indexes = secondary_indexes(g.conn, g.dialect, table_name)
    for name, _ in indexes:
        g.conn.exec_driver_sql(f'DROP INDEX "{name}"')
    n = insert(g, table_name, rows)
    for _, sql in indexes:
        g.conn.exec_driver_sql(sql)
    return n


def cumulative(weights: list[float]) -> list[float]:
    return list(accumulate(weights))


def pick(rng: random.Random, items: list, cum: list[float], k: int) -> list:
    return rng.choices(items, cum_weights=cum, k=k)


def largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split `total` into integer parts proportional to `weights`, summing exactly to `total`."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [int(x) for x in raw]
    short = total - sum(parts)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[:short]:
        parts[i] += 1
    return parts


def local_midnight_utc(d: date, tz) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)


# --------------------------------------------------------------------------------------------------
# Word pools (shared with the demo, so the benchmark data reads like the department's)
# --------------------------------------------------------------------------------------------------

from csdesk.workflows.demo import (  # noqa: E402
    CALL_SUMMARIES,
    COMPANIES,
    DISTRICTS,
    GIVEN,
    KIND_WEIGHTS,
    STREETS,
    SURNAMES,
)

MOBILE_PREFIXES = ["138", "139", "137", "136", "135", "150", "151", "158", "186", "187", "188", "177", "199", "133", "189", "131", "155", "182", "183", "159"]
LANDLINE_AREAS = ["10", "21", "20", "755", "571", "28", "25", "27", "29", "512"]  # Beijing, Shanghai, Guangzhou, Shenzhen, ...
CHANNELS = (["hotline", "phone", "wechat", "visit", "email", "other"], [45, 30, 18, 4, 2, 1])
SOURCES = ["转介绍", "官网", "展会", "老客户", "电话营销", "物业推荐", "小红书", "call"]
PROJECT_TYPES = ["软装摆场", "全屋装修", "精装交房", "设备安装", "局部翻新", "样板间摆场", "厨卫改造", "空调新风安装"]
ADJUSTMENT_ITEMS = ["主卧墙面补漆", "橱柜门铰链调整", "卫生间地漏返味", "窗帘轨道加固", "踢脚线重新安装", "客厅灯位移动",
                    "阳台推拉门卡顿", "瓷砖空鼓返修", "插座面板更换", "空调出风口调整", "地板接缝处理", "衣柜层板加装"]
MORE_COMPANIES = COMPANIES + ["恒隆广场", "远洋地产", "碧桂园服务", "龙湖天街", "融创物业", "招商蛇口", "华润万家", "新城控股"]

# Calls by hour of the local day (hotline 08:00-21:00), per quarter hour inside the hour: flat.
HOUR_SHAPE = {8: 0.5, 9: 1.6, 10: 1.9, 11: 1.6, 12: 0.6, 13: 0.9, 14: 1.6, 15: 1.7, 16: 1.5, 17: 1.1, 18: 0.5, 19: 0.3, 20: 0.15}


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.45 else "")


def valid_e164(candidate: str) -> bool:
    from csdesk.errors import InvalidValue
    from csdesk.phones import normalize

    try:
        return normalize(candidate) == candidate
    except InvalidValue:
        return False


def new_number(rng: random.Random, used: set[str]) -> str:
    """A unique, valid Chinese number in E.164 (5% landlines), checked with csdesk's own normaliser."""
    while True:
        if rng.random() < 0.05:
            code = rng.choice(LANDLINE_AREAS)
            digits = 8 if len(code) == 2 else rng.choice((7, 8))
            number = f"+86{code}{rng.randint(2, 8)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
        else:
            number = f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        if number not in used and valid_e164(number):
            used.add(number)
            return number


# --------------------------------------------------------------------------------------------------
# Areas, in order. Each returns {table: rows inserted}.
# --------------------------------------------------------------------------------------------------

FIXED_STAFF = [  # the names tests and docs use, so `--as 王芳` works on the benchmark database too
    ("陈总", "director"),
    ("张强", "manager"),
    ("张丽华", "manager"),
    ("李娜", "supervisor"),
    ("周涛", "supervisor"),
    ("王芳", "specialist"),
]


@area("staff", "staff")
def gen_staff(g: Gen) -> dict[str, int]:
    """~30 people in the four roles: 1 director, 2 managers, ~5 supervisors, the rest specialists."""
    rng = g.rng
    total = max(g.sizes["staff"], len(FIXED_STAFF) + 4)
    n_sup = max(2, round(total / 6))
    roles = ["director", "manager", "manager"] + ["supervisor"] * n_sup
    roles += ["specialist"] * (total - len(roles))
    names = {n for n, _ in FIXED_STAFF}
    people: list[tuple[str, str]] = list(FIXED_STAFF)
    need = {r: roles.count(r) - sum(1 for _, fr in FIXED_STAFF if fr == r) for r in set(roles)}
    for role in ("director", "manager", "supervisor", "specialist"):
        for _ in range(max(0, need.get(role, 0))):
            name = person_name(rng)
            while name in names:
                name = person_name(rng)
            names.add(name)
            people.append((name, role))
    by_role: dict[str, list[int]] = {"director": [], "manager": [], "supervisor": [], "specialist": []}
    rows = []
    for i, (name, role) in enumerate(sorted(people, key=lambda p: ("director", "manager", "supervisor", "specialist").index(p[1])), 1):
        above = {"director": [], "manager": by_role["director"], "supervisor": by_role["manager"], "specialist": by_role["supervisor"]}[role]
        boss = above[len(by_role[role]) % len(above)] if above else None
        by_role[role].append(i)
        rows.append({
            "id": i, "name": name, "role": role, "reports_to_id": boss, "email": f"staff{i:03d}@example.com",
            "active": True, "created_at": g.start - timedelta(days=rng.randint(60, 1500)),
        })
    # One specialist left half way through the year: their calls stop there.
    leaver = by_role["specialist"][-1]
    rows[leaver - 1]["active"] = False
    g.made["staff_by_role"] = by_role
    g.made["leaver"] = (leaver, g.start + (g.now - g.start) / 2)
    g.made["staff_names"] = {r["id"]: r["name"] for r in rows}
    return {"staff": insert(g, "staff", rows)}


@area("customers", "customer", "customer_phone")
def gen_customers(g: Gen) -> dict[str, int]:
    """20,000 customers (80% standard, 14% VIP, 6% key accounts), ~15% with two numbers, 5% landlines."""
    rng = g.rng
    n = g.sizes["customers"]
    roles = g.made["staff_by_role"]
    managers = roles["supervisor"] + roles["manager"]
    used: set[str] = set()
    customers, phones = [], []
    phones_of: dict[int, list[str]] = {}
    weights: list[float] = []
    tier_factor = {"standard": 1.0, "vip": 2.5, "key": 6.0}
    for cid in range(1, n + 1):
        tier = rng.choices(("standard", "vip", "key"), weights=(80, 14, 6))[0]
        unnamed = rng.random() < 0.02  # created by log-call from an unknown number, not completed yet
        created = g.start - timedelta(days=rng.uniform(0, 1100)) if rng.random() < 0.75 else g.start + (g.now - g.start) * rng.random() * 0.9
        customers.append({
            "id": cid, "code": f"C{cid:06d}", "name": None if unnamed else person_name(rng),
            "company": rng.choice(MORE_COMPANIES) if tier == "key" or rng.random() < 0.25 else None,
            "tier": tier, "manager_id": rng.choice(managers) if tier != "standard" else None,
            "address": None if unnamed else f"{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randint(1, 999)}号{rng.randint(1, 30)}栋{rng.randint(101, 3202)}",
            "source": "call" if unnamed else rng.choice(SOURCES[:-1]),
            "notes": None if rng.random() < 0.9 else rng.choice(["周末不方便接电话", "老客户，注意态度", "只接受微信联系", "对价格敏感"]),
            "created_at": created, "updated_at": created + timedelta(days=rng.uniform(0, 30)),
        })
        numbers = [new_number(rng, used) for _ in range(2 if rng.random() < 0.15 else 1)]
        phones_of[cid] = numbers
        for position, number in enumerate(numbers):
            phones.append({"customer_id": cid, "number": number, "position": position})
        # How much this customer calls: heavy-tailed, key accounts far more.
        weights.append(math.exp(rng.gauss(0, 1.0)) * tier_factor[tier])
    g.made["customer_ids"] = list(range(1, n + 1))
    g.made["customer_cum"] = cumulative(weights)
    g.made["phones_of"] = phones_of
    g.made["customer_tier"] = [c["tier"] for c in customers]
    g.made["customer_manager"] = {c["id"]: c["manager_id"] for c in customers if c["manager_id"]}
    return {"customer": insert(g, "customer", customers), "customer_phone": insert(g, "customer_phone", phones)}


@area("projects", "project")
def gen_projects(g: Gen) -> dict[str, int]:
    """20,000 projects over ~3 years, in every stage; the owner is a specialist or a supervisor."""
    from dateutil.relativedelta import relativedelta

    rng = g.rng
    n = g.sizes["projects"]
    if n <= 0:
        return {"project": 0}
    roles = g.made["staff_by_role"]
    owners = roles["specialist"] * 3 + roles["supervisor"]
    ids = g.made["customer_ids"]
    tiers = g.made["customer_tier"]
    cum = cumulative([{"standard": 1.0, "vip": 2.0, "key": 5.0}[t] for t in tiers])
    today = g.now.astimezone(g.tz).date()
    rows = []
    by_customer: dict[int, list[int]] = {}
    for pid in range(1, n + 1):
        cid = pick(rng, ids, cum, 1)[0]
        signed = today - timedelta(days=int(rng.uniform(5, 3 * 365)))
        handover = signed + timedelta(days=rng.randint(30, 150))
        accepted = handover + timedelta(days=rng.randint(3, 45))
        signed_at = local_midnight_utc(signed, g.tz) + timedelta(hours=rng.uniform(9, 18))
        handed_at = local_midnight_utc(handover, g.tz) + timedelta(hours=rng.uniform(9, 18))
        accepted_at = local_midnight_utc(accepted, g.tz) + timedelta(hours=rng.uniform(9, 18))
        months = rng.choices((12, 24, 36), weights=(15, 70, 15))[0]
        if rng.random() < 0.03:
            stage, handed_at, accepted_at = "shelved", None, None
        elif handed_at > g.now:
            stage, handed_at, accepted_at = "signed", None, None
        elif accepted_at > g.now:
            stage, accepted_at = "handed_over", None
        elif (g.now - accepted_at).days > 120 and rng.random() < 0.75:
            stage = "archived" if (g.now - accepted_at).days > 720 else "settled"
        else:
            stage = "accepted"
        rows.append({
            "id": pid, "code": f"P{pid:06d}", "customer_id": cid,
            "name": f"{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randint(1, 999)}号 {rng.choice(PROJECT_TYPES)}",
            "site": f"{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            "owner_id": rng.choice(owners),
            "contract_fen": int(round(math.exp(rng.gauss(math.log(180_000), 0.8)), -2)) * 100,
            "signed_on": signed, "handed_over_at": handed_at, "accepted_at": accepted_at,
            "warranty_months": months,
            "warranty_end": (handed_at.astimezone(g.tz).date() + relativedelta(months=months)) if handed_at else None,
            "stage": stage, "created_at": signed_at,
        })
        by_customer.setdefault(cid, []).append(pid)
    g.made["projects"] = rows  # instalments and adjustments build on them
    g.made["projects_of"] = by_customer
    return {"project": insert(g, "project", rows)}


@area("calls", "call")
def gen_calls(g: Gen) -> dict[str, int]:
    """1,000,000 calls over the last year up to now, in time order (ids grow with time, as when logged).

    Per day: weekdays full, Saturday 30%, Sunday 15%, public holidays (holidays.CN) 20%, a mild
    seasonal swing (busier in spring and autumn) and ~20% growth over the year. Inside a day: the
    hotline's hours 08:00-21:00 with peaks mid-morning and mid-afternoon and a lunch dip. Customers are
    heavy-tailed (a few key accounts call thousands of times); kinds, channels and directions as in
    the demo; repair/complaint/payment/follow-up calls of customers with projects usually name one.
    """
    import holidays

    rng = g.rng
    n = g.sizes["calls"]
    tz = g.tz
    first = g.start.astimezone(tz).date()
    last = g.now.astimezone(tz).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    cn = holidays.country_holidays("CN", years=range(first.year, last.year + 1))
    span = max(1, len(days) - 1)
    slots = [(h * 60 + q * 15) for h in HOUR_SHAPE for q in range(4)]  # minutes after local midnight
    slot_w = [HOUR_SHAPE[m // 60] for m in slots]
    starts = [local_midnight_utc(d, tz) for d in days]

    day_w = []
    for i, d in enumerate(days):
        w = 1.0 if d.weekday() < 5 else (0.30 if d.weekday() == 5 else 0.15)
        if d in cn:
            w = 0.20
        w *= 1 + 0.12 * math.sin(2 * math.pi * (d.timetuple().tm_yday - 80) / 182.5)
        w *= 0.9 + 0.2 * i / span
        if d == last:  # today: only the part of the day that has passed
            done = [sw for m, sw in zip(slots, slot_w) if starts[i] + timedelta(minutes=m + 15) <= g.now]
            w *= sum(done) / sum(slot_w)
        day_w.append(w)
    per_day = largest_remainder(n, day_w)

    ids = g.made["customer_ids"]
    cum = g.made["customer_cum"]
    phones_of = g.made["phones_of"]
    projects_of = g.made.get("projects_of", {})
    roles = g.made["staff_by_role"]
    leaver, left_at = g.made["leaver"]
    agents_before = roles["specialist"] * 6 + roles["supervisor"]
    agents_after = [a for a in agents_before if a != leaver]
    kinds, kind_w = zip(*KIND_WEIGHTS.items())
    kind_cum = cumulative(list(kind_w))
    chan_cum = cumulative(CHANNELS[1])
    with_project = {"repair", "complaint", "payment", "followup"}

    # Kept for the areas after this one: complaint calls (complaints open from them) and a sample of
    # calls (promised call-backs are made on them).
    keep_complaints = "complaint" in g.tables
    sample_p = min(1.0, 1.5 * g.sizes["callbacks"] / max(1, n)) if "callback" in g.tables else 0.0
    complaint_calls: list[tuple] = []
    sampled_calls: list[tuple] = []
    g.made["complaint_calls"], g.made["sampled_calls"] = complaint_calls, sampled_calls

    def rows() -> Iterator[dict]:
        call_id = 0
        for i, count in enumerate(per_day):
            if not count:
                continue
            day0 = starts[i]
            usable = [(m, w) for m, w in zip(slots, slot_w) if i != len(days) - 1 or day0 + timedelta(minutes=m + 15) <= g.now]
            s_min, s_w = zip(*usable)
            offsets = sorted(m * 60 + rng.randrange(900) for m in rng.choices(s_min, weights=s_w, k=count))
            who = pick(rng, ids, cum, count)
            what = pick(rng, kinds, kind_cum, count)
            how = pick(rng, CHANNELS[0], chan_cum, count)
            for off, cid, kind, channel in zip(offsets, who, what, how):
                call_id += 1
                at = day0 + timedelta(seconds=off)
                numbers = phones_of[cid]
                number = numbers[1] if len(numbers) > 1 and rng.random() < 0.3 else numbers[0]
                r = rng.random()
                project_id = None
                if kind in with_project and cid in projects_of and r < 0.6:
                    project_id = rng.choice(projects_of[cid])
                out = kind in ("followup", "payment") or r > 0.95
                agent = rng.choice(agents_before if at < left_at else agents_after)
                if keep_complaints and kind == "complaint":
                    complaint_calls.append((call_id, at, cid, project_id, agent))
                elif sample_p and kind != "complaint" and rng.random() < sample_p:
                    sampled_calls.append((call_id, at, cid, project_id, agent, kind))
                yield {
                    "id": call_id, "at": at, "direction": "out" if out else "in", "channel": channel,
                    "customer_id": cid, "phone": number,
                    "phone_raw": number[3:] if r < 0.7 else f"{number[3:6]} {number[6:10]} {number[10:]}",
                    "agent_id": agent,
                    "kind": kind, "summary": rng.choice(CALL_SUMMARIES[kind]),
                    "duration_s": None if r < 0.03 else int(math.exp(rng.gauss(5.2, 0.7))) + 10,
                    "project_id": project_id, "complaint_id": None,
                    "first_contact_resolved": (kind in ("inquiry", "other") and r < 0.8) or (kind == "repair" and r < 0.2),
                    "created_at": at if r < 0.8 else at + timedelta(minutes=rng.randint(1, 240)),
                }

    n_calls = load_big(g, "call", rows())
    # A customer who joined during the year was created no later than their first call.
    first_call = 'SELECT min(c.at) FROM "call" c WHERE c.customer_id = customer.id'
    g.conn.exec_driver_sql(f"UPDATE customer SET created_at = ({first_call}) WHERE created_at > ({first_call})")
    g.conn.exec_driver_sql("UPDATE customer SET updated_at = created_at WHERE updated_at < created_at")
    return {"call": n_calls}


# Later areas plug in here, each as `@area("name", "table", ...)` generating the volume in SIZES.
# They run only once their tables exist in the migrated schema; until then the run prints "skipped".
# Where an area's state is a cache of its own rules (complaint SLA columns, visit series), the
# generator asks that area's workflow functions for the values, so the data is what csdesk would
# have made; if those functions change, this is the place to follow them.

COMPLAINT_RESOLUTIONS = ["已上门维修完毕", "更换配件，客户确认", "道歉并补偿服务费", "重新安排施工", "已协调供应商换货", "解释说明，客户接受"]
HOLD_REASONS = ["等待供应商配件", "客户出差，约下周上门", "等待物业审批"]


@area("complaints", "complaint", "complaint_event")
def gen_complaints(g: Gen) -> dict[str, int]:
    """Issue 3: 100,000 complaints with their event timelines; the SLA columns computed by
    csdesk.workflows.complaints (compute_sla + _refresh) from the generated events, as csdesk would.

    ~85% opened from a complaint call (call.complaint_id set), the rest directly. Severity 75/20/5%;
    major and key-account complaints start at the configured level. Most are resolved within a day or
    two and closed after a satisfied return visit (its callback id is reserved for the callbacks
    area); ~8% were escalated by hand, ~3% put on hold; ~1.5% drag on for weeks. Every resolution
    deadline missed while a complaint was open was escalated automatically a few minutes later, as the
    reminder cron does, so some complaints are open, breached and high up the levels now, and the
    automatic escalation pass has nothing left to do.
    """
    from types import SimpleNamespace as NS

    from csdesk.workflows import ROLES
    from csdesk.workflows import complaints as cw

    rng = g.rng
    n = g.sizes["complaints"]
    if n <= 0:
        return {"complaint": 0}
    r = cw.rules(g.settings)
    cal = cw.calendar(g.settings)
    roles = g.made["staff_by_role"]
    leaver = g.made["leaver"][0]
    handlers = {lvl: [s for s in roles[role] if s != leaver] for lvl, role in enumerate(ROLES, 1)}
    tiers = g.made["customer_tier"]
    projects_of = g.made.get("projects_of", {})
    categories = list(r.categories)
    cat_w = cumulative([30 if c == "quality" else 20 if c == "installation" else 10 for c in categories])
    summaries = CALL_SUMMARIES["complaint"]

    calls = g.made.get("complaint_calls", [])
    from_calls = rng.sample(calls, min(len(calls), int(n * 0.85)))
    starts = [(at, cid, pid, agent, call_id) for call_id, at, cid, pid, agent in from_calls]
    span = (g.now - g.start).total_seconds()
    ids, cum = g.made["customer_ids"], g.made["customer_cum"]
    for cid in pick(rng, ids, cum, n - len(starts)):
        day0 = g.start + timedelta(seconds=rng.uniform(0, span))
        at = local_midnight_utc(day0.astimezone(g.tz).date(), g.tz) + timedelta(hours=rng.uniform(8.5, 19))
        if at >= g.now:
            at = g.now - timedelta(minutes=rng.randint(5, 600))
        pid = rng.choice(projects_of[cid]) if cid in projects_of and rng.random() < 0.4 else None
        starts.append((at, cid, pid, rng.choice(roles["specialist"]), None))
    starts.sort(key=lambda s: s[0])

    complaints, events, call_links, visits = [], [], [], []
    ev_id = 0
    H = timedelta(hours=1)
    for comp_id, (opened, cid, pid, owner, call_id) in enumerate(starts, 1):
        if owner == leaver and opened >= g.made["leaver"][1]:
            owner = rng.choice(handlers[1])
        severity = rng.choices(("normal", "serious", "major"), weights=(75, 20, 5))[0]
        level = 1
        if severity == "major":
            level = max(level, r.major_level)
        if tiers[cid - 1] == "key":
            level = max(level, r.key_account_level)
        assignee = owner if level == 1 else rng.choice(handlers[level])
        timeline: list[tuple] = [(opened, "opened", None, str(level), rng.choice(summaries), owner, None)]
        if assignee != owner:
            timeline.append((opened, "assigned", str(owner), str(assignee), "starts above the opener's level", owner, None))
        t = opened + H * math.exp(rng.gauss(0.2, 0.8))  # first response: ~1 h typical
        timeline.append((t, "acknowledged", None, None, None, assignee, None))
        if rng.random() < 0.03:
            t += H * rng.uniform(0.5, 3)
            timeline.append((t, "held", None, None, rng.choice(HOLD_REASONS), assignee, None))
            t += H * rng.uniform(2, 72)
            timeline.append((t, "resumed", None, None, None, assignee, None))
        x = rng.random()
        for _ in range(2 if x < 0.015 else 1 if x < 0.08 else 0):
            if level >= len(ROLES):
                break
            t += H * rng.uniform(2, 30)
            new = rng.choice(handlers[level + 1])
            timeline.append((t, "escalated", str(level), str(level + 1), "客户要求上级处理", assignee, None))
            timeline.append((t, "assigned", str(assignee), str(new), "escalation", assignee, None))
            level, assignee = level + 1, new
        t += H * (rng.uniform(24 * 20, 24 * 120) if rng.random() < 0.015 else math.exp(rng.gauss(2.6, 1.0)))
        resolved_at = t
        timeline.append((t, "resolved", None, None, rng.choice(COMPLAINT_RESOLUTIONS), assignee, None))
        closed_at = t + timedelta(days=rng.uniform(1, 7))
        timeline.append((closed_at, "closed", None, None, None, owner, "visit"))

        # The cron of a working desk escalates each missed resolution deadline while the complaint is open
        # (complaints.auto_escalate): one level per breach, the event keyed by complaint, level, deadline.
        horizon = min(resolved_at, g.now)
        if level < len(ROLES) and horizon - opened > r.resolution[severity]:  # wall time >= business time
            for _ in range(len(ROLES)):
                before = [e for e in timeline if e[0] <= horizon and e[1] not in ("resolved", "closed")]
                objs = [NS(at=e[0], id=i, kind=e[1], from_value=e[2], to_value=e[3]) for i, e in enumerate(before, 1)]
                current = cw.compute_sla(objs, severity, horizon, cal, r).current
                if level >= len(ROLES) or not current.running or current.due is None or current.due >= horizon:
                    break
                at = current.due + timedelta(minutes=rng.uniform(0.2, 5))  # the next cron run
                if at >= horizon:
                    break
                key = f"auto-escalate:{comp_id}:L{level}:{current.due.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')}"
                new = rng.choice(handlers[level + 1])
                reason = f"解决时限已过 resolution deadline passed at {r.level_label(level)}"
                timeline += [(at, "escalated", str(level), str(level + 1), reason, None, key),
                             (at, "assigned", str(assignee), str(new), "escalation", None, None)]
                level, assignee = level + 1, new
            timeline = [(e[0], e[1], e[2], e[3], e[4], assignee if e[1] == "resolved" else e[5], e[6])
                        for e in sorted(timeline, key=lambda e: e[0])]

        kept = [e for e in timeline if e[0] <= g.now]
        status, acked_at, res_at, cl_at, resolution, visit_id = "open", None, None, None, None, None
        for at, kind, _f, to, note, _a, _v in kept:
            if kind == "acknowledged":
                status, acked_at = "acknowledged", at
            elif kind == "held":
                status = "on_hold"
            elif kind == "resumed":
                status = "acknowledged"
            elif kind == "resolved":
                status, res_at, resolution = "resolved", at, note
            elif kind == "closed":
                status, cl_at = "closed", at
        level = int(next((e[3] for e in reversed(kept) if e[1] == "escalated"), timeline[0][3]))
        assignee = int(next((e[3] for e in reversed(kept) if e[1] == "assigned"), owner))
        if res_at is not None:  # the return visit of a resolved complaint: reserved callback id
            visits.append({"complaint_id": comp_id, "customer_id": cid, "project_id": pid, "owner_id": owner,
                           "resolved_at": res_at, "closed_at": cl_at})
            visit_id = len(visits)
        ev_objs = []
        for at, kind, frm, to, note, actor, extra in kept:  # extra: "visit" on closing, the key of an auto-escalation
            ev_id += 1
            if kind == "closed":
                note = f"回访满意 satisfied return visit #{visit_id}"
            row = {"id": ev_id, "complaint_id": comp_id, "at": at, "recorded_at": at + timedelta(minutes=rng.randint(0, 20)),
                   "actor_id": actor, "kind": kind, "from_value": frm, "to_value": to, "note": note,
                   "visit_id": visit_id if extra == "visit" else None, "key": extra if kind == "escalated" else None}
            events.append(row)
            ev_objs.append(NS(at=at, id=ev_id, kind=kind, from_value=frm, to_value=to))
        cache = NS(status=status, level=level)
        cw._refresh(cache, cw.compute_sla(ev_objs, severity, g.now, cal, r))
        last = kept[-1][0]
        complaints.append({
            "id": comp_id, "customer_id": cid, "project_id": pid, "call_id": call_id, "severity": severity,
            "category": rng.choices(categories, cum_weights=cat_w)[0], "summary": timeline[0][4], "status": status,
            "level": level, "owner_id": owner, "assignee_id": assignee, "resolution": resolution, "opened_at": opened,
            "acked_at": acked_at or res_at, "resolved_at": res_at, "closed_at": cl_at,
            "first_response_due": cache.first_response_due, "resolution_due": cache.resolution_due,
            "next_due": cache.next_due, "escalate_at": cache.escalate_at, "response_breached": cache.response_breached,
            "resolution_breached": cache.resolution_breached, "breach_count": cache.breach_count,
            "created_at": opened, "updated_at": last,
        })
        if call_id is not None:
            call_links.append({"c_id": call_id, "c_complaint": comp_id})
    g.made["complaint_visits"] = visits
    counts = {"complaint": load_big(g, "complaint", complaints), "complaint_event": load_big(g, "complaint_event", events)}
    if call_links:
        import sqlalchemy as sa

        call = g.tables["call"]
        stmt = call.update().where(call.c.id == sa.bindparam("c_id")).values(complaint_id=sa.bindparam("c_complaint"))
        for chunk in batched(call_links):
            g.conn.execute(stmt, chunk)
    active = sum(1 for c in complaints if c["status"] in cw.ACTIVE)
    overdue = sum(1 for c in complaints if c["next_due"] is not None and c["next_due"] <= g.now)
    print(f"    ({active:,} active now, {overdue:,} of them overdue; {len(call_links):,} opened from calls)")
    return counts


CALLBACK_COLUMNS = (
    "id", "customer_id", "phone", "purpose", "complaint_id", "project_id", "call_id", "series_id", "seq", "rule", "key",
    "due_at", "first_due_at", "assignee_id", "status", "attempts", "last_attempt_at", "outcome", "satisfied", "score",
    "note", "result_note", "closed_at", "closed_by_id", "created_at", "created_by_id",
)
VISIT_NOTES = ["对服务满意", "客户表示满意，无其他问题", "客户建议加快响应", "客户反映保洁不到位", "一切正常"]


@area("callbacks", "callback", "callback_series")
def gen_callbacks(g: Gen) -> dict[str, int]:
    """Issue 4: ~200,000 callbacks: what the visit rules (csdesk.workflows.visit_rules, the configured
    [visit_rules]) would have made since csdesk came into use at the start of the history (g.start),
    plus promised call-backs from calls up to `--callbacks` (the rule-made ones come first, so the
    total is the larger of the two).

    - a return visit for every resolved complaint (done and satisfied when the complaint is closed:
      the id the complaints area reserved), due 1 business day after the resolution;
    - handover and acceptance visits of every project (keys handover:P, acceptance:P);
    - a warranty series (key warranty:P) with all its visits for every project in warranty;
    - one open-ended periodic series per key / VIP customer and per owner of a handed-over project,
      its past visits over and exactly one pending;
    - promised call-backs (purpose promise, payment) on sampled calls, for the rest of the volume.
    Past visits: ~85% reached (mostly satisfied, 1-5 score), ~10% missed, ~5% cancelled. So a
    periodic-visit pass on the fresh database has nothing new to make.
    """
    from types import SimpleNamespace as NS

    from csdesk.dates import parse_span as dates_span
    from csdesk.workflows import visit_rules as vr

    try:
        from csdesk.workflows.callbacks import _rule_due
    except ImportError:  # pragma: no cover - followed from csdesk.workflows.callbacks
        def _rule_due(cal, series, when):
            local = when.astimezone(cal.zone)
            day = vr.workday_on_or_after(cal, local.date())
            return datetime.combine(day, local.time()).replace(tzinfo=cal.zone).astimezone(UTC)

    rng = g.rng
    rules = vr.load_rules(g.settings)
    cal = vr.calendar(g.settings)
    tz = g.tz
    today = g.now.astimezone(tz).date()
    roles = g.made["staff_by_role"]
    leaver = g.made["leaver"][0]
    active_staff = [s for r in roles.values() for s in r if s != leaver]
    rows: list[dict] = []
    series_rows: list[dict] = []

    def add(**kw) -> dict:
        row = dict.fromkeys(CALLBACK_COLUMNS)
        row.update(id=len(rows) + 1, status="pending", attempts=0, **kw)
        row["first_due_at"] = row["due_at"]
        if row["assignee_id"] == leaver:
            row["assignee_id"] = None
        rows.append(row)
        return row

    def finish(row: dict, done_at: datetime | None = None, satisfied: bool | None = None) -> None:
        """Settle a visit whose time has come: reached / missed / cancelled (or keep it pending)."""
        due = row["due_at"]
        at = done_at or due + timedelta(hours=rng.uniform(0, 6))
        if done_at is None and at > g.now - timedelta(hours=2):
            if due < g.now and rng.random() < 0.3:  # tried once, no answer: retried later
                row.update(attempts=1, last_attempt_at=due + timedelta(minutes=rng.randint(1, 60)), outcome="no_answer")
            return
        x = rng.random()
        closer = row["assignee_id"] or rng.choice(active_staff)
        if satisfied is not None or x < 0.85:
            ok = satisfied if satisfied is not None else rng.random() < 0.9
            row.update(status="done", attempts=1 if rng.random() < 0.8 else 2, last_attempt_at=at, outcome="reached",
                       satisfied=ok, score=rng.choice((4, 5, 5)) if ok else rng.choice((1, 2, 3)),
                       result_note=rng.choice(VISIT_NOTES), closed_at=at, closed_by_id=closer)
        elif x < 0.95:
            row.update(status="missed", attempts=rules.max_attempts, last_attempt_at=at, outcome="no_answer",
                       closed_at=at, closed_by_id=closer)
        else:
            row.update(status="cancelled", result_note="客户要求取消", closed_at=at, closed_by_id=closer)

    # 1. Return visits of resolved complaints, in the order the complaints area reserved their ids.
    for v in g.made.get("complaint_visits", []):
        due = vr.deadline(cal, v["resolved_at"], rules.within["complaint"])
        row = add(customer_id=v["customer_id"], purpose="complaint-visit", complaint_id=v["complaint_id"],
                  project_id=v["project_id"], rule="complaint", due_at=due, assignee_id=v["owner_id"],
                  created_at=v["resolved_at"], created_by_id=v["owner_id"])
        if v["closed_at"] is not None:
            finish(row, v["closed_at"], satisfied=True)

    # 2. Handover and acceptance visits; 3. warranty series.
    projects = g.made.get("projects", [])
    manager_of = g.made.get("customer_manager", {})
    first_handover: dict[int, datetime] = {}
    first_owner: dict[int, tuple[int, int]] = {}  # customer -> (owner, project id) of their first handed-over project
    in_warranty: set[int] = set()  # customers with a live warranty series: the owner rule waits for it
    for p in projects:
        assignee = p["owner_id"] if p["owner_id"] != leaver else manager_of.get(p["customer_id"])
        for rule, start in (("handover", p["handed_over_at"]), ("acceptance", p["accepted_at"])):
            if start is None or start < g.start:  # before csdesk was in use
                continue
            row = add(customer_id=p["customer_id"], purpose=f"{rule}-visit", project_id=p["id"], rule=rule,
                      key=f"{rule}:{p['id']}", due_at=vr.deadline(cal, start, rules.within[rule]),
                      assignee_id=assignee, created_at=start)
            finish(row)
        if p["handed_over_at"] is None:
            continue
        cid = p["customer_id"]
        if cid not in first_handover or (p["handed_over_at"], p["id"]) < (first_handover[cid], first_owner[cid][1]):
            first_handover[cid], first_owner[cid] = p["handed_over_at"], (p["owner_id"], p["id"])
        if not rules.on("warranty") or p["stage"] == "shelved" or (p["warranty_end"] is not None and p["warranty_end"] < today):
            continue
        start_day = p["handed_over_at"].astimezone(tz).date()
        rrule, n_visits = vr.warranty_rule(rules.every["warranty"], start_day, p["warranty_end"], rules.at_least)
        if not n_visits:
            continue
        start = datetime.combine(start_day, rules.default_time).replace(tzinfo=tz).astimezone(UTC)
        created = max(p["handed_over_at"], g.start)
        created_day = created.astimezone(tz).date()
        sid = len(series_rows) + 1
        in_warranty.add(cid)
        series_rows.append({"id": sid, "key": f"warranty:{p['id']}", "customer_id": cid, "project_id": p["id"],
                            "complaint_id": None, "rule": "warranty", "purpose": "warranty-visit", "rrule": rrule,
                            "start_at": start, "skip_first": True, "assignee_id": assignee if assignee != leaver else None,
                            "note": None, "active": True, "ended_reason": None, "created_at": created,
                            "created_by_id": None})
        for seq, when in vr.occurrences(rrule, start, tz, skip_first=True):
            if when.astimezone(tz).date() < created_day:
                continue  # as create_warranty_series: the visits from the day the series is made
            row = add(customer_id=cid, purpose="warranty-visit", project_id=p["id"], rule="warranty", series_id=sid,
                      seq=seq, due_at=_rule_due(cal, NS(rule="warranty"), when), assignee_id=assignee,
                      created_at=created)
            finish(row)

    # 4. Periodic series: key / VIP by tier, else owners of a handed-over project once no warranty
    # series covers them (callbacks._wanted_rule).
    window_day = g.start.astimezone(tz).date()
    for cid, tier in enumerate(g.made["customer_tier"], 1):
        rule = "key" if tier == "key" and rules.on("key") else "vip" if tier == "vip" and rules.on("vip") else None
        if rule is None and cid in first_handover and cid not in in_warranty and rules.on("owner"):
            rule = "owner"
        if rule is None:
            continue
        every = rules.every[rule]
        if rule == "owner":
            anchor, skip, created = first_handover[cid].astimezone(tz).date(), True, max(g.start, first_handover[cid])
        else:
            anchor, skip, created = vr.first_visit_day(cid, window_day, every), False, g.start
        rrule = vr.month_end_safe(vr.every_to_rrule(every), anchor)
        start = datetime.combine(anchor, rules.default_time).replace(tzinfo=tz).astimezone(UTC)
        sid = len(series_rows) + 1
        # The account manager calls; an owner without one is called by the owner of their first project.
        assignee = manager_of.get(cid) or (first_owner[cid][0] if rule == "owner" else None)
        if assignee == leaver:
            assignee = None
        series_rows.append({"id": sid, "key": f"{rule}:C{cid}:{anchor:%Y%m%d}", "customer_id": cid, "project_id": None, "complaint_id": None,
                            "rule": rule, "purpose": "periodic", "rrule": rrule, "start_at": start, "skip_first": skip,
                            "assignee_id": assignee, "note": None, "active": True, "ended_reason": None,
                            "created_at": created, "created_by_id": None})
        step_days = max(1, ((anchor + dates_span(every)) - anchor).days)
        enough = (today - anchor).days // step_days + 3  # the past visits and the next one, not the endless rest
        created_day = created.astimezone(tz).date()
        for seq, when in vr.occurrences(rrule, start, tz, limit=enough, skip_first=skip):
            if when.astimezone(tz).date() < created_day:
                continue  # before the series was made (csdesk in use, or the handover)
            due = _rule_due(cal, NS(rule=rule), when)
            pending = when.astimezone(tz).date() >= today
            row = add(customer_id=cid, purpose="periodic", rule=rule, series_id=sid, seq=seq, due_at=due,
                      assignee_id=assignee, created_at=min(g.now, max(created, due - timedelta(days=60))))
            if pending:
                break  # the one pending visit; the next is made when it is over
            finish(row, due + timedelta(hours=rng.uniform(0, 6)) if due < g.now - timedelta(hours=2) else None)

    # 5. Promised call-backs on calls, for the rest of the volume.
    rest = g.sizes["callbacks"] - len(rows)
    sampled = g.made.get("sampled_calls", [])
    for call_id, at, cid, pid, agent, kind in sorted(rng.sample(sampled, max(0, min(rest, len(sampled)))), key=lambda c: c[1]):
        due = at + timedelta(hours=rng.choice((1, 2, 4, 24)) * rng.uniform(0.5, 1.5))
        row = add(customer_id=cid, purpose="payment" if kind == "payment" else "promise", project_id=pid, call_id=call_id,
                  due_at=due, assignee_id=agent, note="承诺回电", created_at=at, created_by_id=agent)
        finish(row)

    counts = {"callback_series": insert(g, "callback_series", series_rows), "callback": load_big(g, "callback", rows)}
    pending = sum(1 for r in rows if r["status"] == "pending")
    due_today = sum(1 for r in rows if r["status"] == "pending" and r["due_at"].astimezone(tz).date() == today)
    print(f"    ({pending:,} pending, {due_today:,} of them due today; {len(series_rows):,} series)")
    return counts


@area("instalments", "instalment")
def gen_instalments(g: Gen) -> dict[str, int]:
    """Issue 5: 60,000 instalments, 3 per project (首款 30% on signing, 二期款 40% on handover, 尾款 30%
    30 days after acceptance), the payments and their allocations, and the dunning steps (催收) of
    overdue ones along the configured ladder (~85% of the steps that fell due were taken).

    Settled/archived projects are paid in full; an accepted project still owes part of its tail
    payment (else it would be settled); most first and second instalments were paid a few days
    after falling due. The count follows the projects: 3 each.
    """
    rng = g.rng
    tz = g.tz
    today = g.now.astimezone(tz).date()
    with_money = g.has("payment", "payment_allocation")
    with_steps = g.has("collection_step")
    ladder = [(s, d) for s, d in g.settings["collection"]["ladder"].items() if isinstance(d, int) and d >= 0]
    roles = g.made["staff_by_role"]
    managers = roles["manager"]
    insts, payments, allocs, steps = [], [], [], []
    for p in g.made.get("projects", []):
        contract = p["contract_fen"]
        a1, a2 = contract * 30 // 100, contract * 40 // 100
        handed = p["handed_over_at"].astimezone(tz).date() if p["handed_over_at"] else None
        accepted = p["accepted_at"].astimezone(tz).date() if p["accepted_at"] else None
        plan = [
            (1, "首款", a1, "sign", None, p["signed_on"]),
            (2, "二期款", a2, "handover", None, handed),
            (3, "尾款", contract - a1 - a2, "accept", "30d", accepted + timedelta(days=30) if accepted else None),
        ]
        paid_in_full = p["stage"] in ("settled", "archived")
        for seq, name, amount, event, after, due in plan:
            iid = len(insts) + 1
            paid, paid_on = 0, None
            if due is not None:
                if paid_in_full:
                    share = 1.0
                elif seq == 3 and p["stage"] == "accepted":
                    share = 0.0 if rng.random() < 0.65 else rng.choice((0.3, 0.5))
                else:
                    x = rng.random()
                    share = 1.0 if x < (0.97 if seq == 1 else 0.9) else (0.5 if x < 0.95 else 0.0)
                day = due + timedelta(days=int(rng.expovariate(1 / 6)) - (3 if rng.random() < 0.1 else 0))
                if day > today:
                    day = today if paid_in_full else None
                if share and day is not None:
                    paid = amount if share == 1.0 else int(amount * share) // 100 * 100
                    paid_on = day if paid == amount else None
                    if with_money:
                        pay_id = len(payments) + 1
                        received = local_midnight_utc(day, tz) + timedelta(hours=rng.uniform(9, 17))
                        payments.append({
                            "id": pay_id, "project_id": p["id"], "kind": "payment", "amount_fen": paid, "received_at": received,
                            "method": rng.choices(("transfer", "cash", "cheque", "other"), weights=(85, 5, 8, 2))[0],
                            "ref": f"BANK{pay_id:08d}", "note": None, "reverses_id": None, "recorded_by_id": p["owner_id"],
                            "created_at": received,
                        })
                        allocs.append({"id": len(allocs) + 1, "payment_id": pay_id, "instalment_id": iid, "amount_fen": paid})
                if with_steps and paid < amount and due < today:
                    for step, days in ladder:
                        when = due + timedelta(days=days)
                        if when >= today or rng.random() > 0.85:
                            continue
                        steps.append({
                            "id": len(steps) + 1, "instalment_id": iid, "project_id": p["id"], "step": step,
                            "at": local_midnight_utc(when, tz) + timedelta(hours=rng.uniform(9, 17)),
                            "by_id": rng.choice(managers) if step == "lawyer" else p["owner_id"], "note": None,
                        })
            insts.append({
                "id": iid, "project_id": p["id"], "seq": seq, "name": name, "amount_fen": amount, "due_event": event,
                "due_after": after, "due_on": due, "paid_fen": paid, "paid_on": paid_on, "created_at": p["created_at"],
            })
    counts = {"instalment": insert(g, "instalment", insts)}
    if with_money:
        counts["payment"] = insert(g, "payment", payments)
        counts["payment_allocation"] = insert(g, "payment_allocation", allocs)
    if with_steps:
        counts["collection_step"] = insert(g, "collection_step", steps)
    owed = sum(i["amount_fen"] - i["paid_fen"] for i in insts if i["due_on"] is not None and i["due_on"] < today)
    print(f"    (overdue receivables {owed / 100:,.2f} yuan)")
    return counts


@area("adjustments", "adjustment", "audit_entry")
def gen_adjustments(g: Gen) -> dict[str, int]:
    """Issue 5: ~10,000 adjustments (调整/整改) on handed-over projects, each with the audit rows csdesk
    writes for it (add, done, accept/reject: the report counts those), as `adjust add|done|accept|reject`
    would have left them. Reported some days after handover, due `projects.adjustment_days` later; most
    are done within a week or two and accepted, one in six rejected once (then done again, mostly
    accepted); the recent ones are still open, some past their due date. Settled and archived projects
    have every adjustment accepted.
    """
    import json

    from csdesk.workflows.projects import RESPONSIBLE_LABELS

    rng, tz = g.rng, g.tz
    n = g.sizes["adjustments"]
    projects = [p for p in g.made.get("projects", []) if p["handed_over_at"] is not None]
    if n <= 0 or not projects:
        return {"adjustment": 0}
    names = g.made["staff_names"]
    days_to_due = int(g.settings["projects"]["adjustment_days"])
    responsible = list(g.settings["projects"]["responsible"]) or list(RESPONSIBLE_LABELS)
    today = g.now.astimezone(tz).date()
    adjustments, audits = [], []

    def local(day, lo=9.0, hi=18.0):
        return local_midnight_utc(day, tz) + timedelta(hours=rng.uniform(lo, hi))

    def stamp(t):  # as csdesk's audit snapshots write times
        return t.astimezone(tz).isoformat(timespec="seconds")

    def audit(at, who, action, aid, before, after):
        audits.append({"at": at, "actor_id": who, "actor": names.get(who), "action": action, "entity": "adjustment",
                       "entity_id": aid, "before": json.dumps(before, ensure_ascii=False) if before is not None else None,
                       "after": json.dumps(after, ensure_ascii=False)})

    for _ in range(n):
        p = rng.choice(projects)
        handed = p["handed_over_at"].astimezone(tz).date()
        reported = handed + timedelta(days=int(rng.expovariate(1 / 60)))
        if reported > today:
            reported = today - timedelta(days=rng.randint(0, 3))
            if reported < handed:
                reported = handed
        closed = p["stage"] in ("settled", "archived")
        if closed and p["accepted_at"] is not None:  # asked for before the project was settled
            reported = min(reported, p["accepted_at"].astimezone(tz).date() + timedelta(days=20))
        aid = len(adjustments) + 1
        created = min(local(reported), g.now)
        who = p["owner_id"]
        row = {
            "id": aid, "project_id": p["id"], "item": rng.choice(ADJUSTMENT_ITEMS), "responsible": rng.choice(responsible),
            "status": "open", "reported_on": reported, "due_on": reported + timedelta(days=days_to_due) if days_to_due else None,
            "in_warranty": bool(p["warranty_end"] and reported <= p["warranty_end"]), "cost_fen": None, "payer": None,
            "call_id": None, "created_by_id": who, "created_at": created, "done_at": None, "verdict_at": None,
            "rejections": 0, "reason": None,
        }
        audit(created, who, "adjustment.add", aid, None, {
            "project_id": p["id"], "item": row["item"], "responsible": row["responsible"], "status": "open",
            "reported_on": str(reported), "due_on": str(row["due_on"]) if row["due_on"] else None, "in_warranty": row["in_warranty"]})
        at, rounds = created, 0
        while True:
            at = at + timedelta(days=rng.expovariate(1 / 6), hours=rng.uniform(0, 6))
            if at > g.now and not closed:
                break  # still being worked on
            at = min(at, g.now)
            audit(at, who, "adjustment.done", aid, {"status": row["status"], "done_at": stamp(row["done_at"]) if row["done_at"] else None},
                  {"status": "done", "done_at": stamp(at)})
            row["status"], row["done_at"] = "done", at
            if rng.random() < 0.3:
                row["cost_fen"] = rng.randint(2, 400) * 1000
                row["payer"] = "company" if row["in_warranty"] else "customer"
            verdict = at + timedelta(days=rng.expovariate(1 / 3))
            if verdict > g.now and not closed:
                break  # waiting for the customer's verdict
            verdict = min(verdict, g.now)
            before = {"status": "done", "verdict_at": stamp(row["verdict_at"]) if row["verdict_at"] else None}
            row["verdict_at"] = verdict
            if rounds == 0 and not closed and rng.random() < 1 / 6:
                reason = "客户不满意，要求返工"
                audit(verdict, who, "adjustment.reject", aid, {**before, "rejections": 0, "reason": None},
                      {"status": "rejected", "verdict_at": stamp(verdict), "rejections": 1, "reason": reason})
                row["status"], row["rejections"], row["reason"] = "rejected", 1, reason
                rounds += 1
                at = verdict
                if (g.now - verdict).days < 10 and rng.random() < 0.5:
                    break  # rejected a few days ago, not picked up again yet
                continue
            audit(verdict, who, "adjustment.accept", aid, before, {"status": "accepted", "verdict_at": stamp(verdict)})
            row["status"] = "accepted"
            break
        adjustments.append(row)
    audits.sort(key=lambda a: a["at"])  # the trail's ids run in time order, as csdesk's own do
    for i, a in enumerate(audits, 1):
        a["id"] = i
    return {"adjustment": insert(g, "adjustment", adjustments), "audit_entry": insert(g, "audit_entry", audits)}



def self_check(database, settings, now: datetime, tables: dict) -> list[str]:
    """Ask csdesk's own rules, as dry runs in a read transaction, what they would still do on the fresh
    database: a generator that follows them leaves "nothing new" (the state of a desk whose cron runs
    every few minutes)."""
    from csdesk.workflows import Desk

    lines = []
    with database.session(write=False) as session:
        desk = Desk(session=session, settings=settings, now=now, actor=None)
        if "callback" in tables and "callback_series" in tables:
            try:
                from csdesk.workflows.callbacks import generate_periodic_visits

                made = generate_periodic_visits(desk, dry_run=True)
                by_rule: dict[str, int] = {}
                for v in made:
                    by_rule[v.rule] = by_rule.get(v.rule, 0) + 1
                lines.append(f"callback generate would make {len(made)} visits" + (f" {by_rule}: update gen_callbacks" if made else ""))
            except Exception as exc:  # noqa: BLE001 - a check, not the build
                lines.append(f"callback generate --dry-run failed: {exc!r}")
        if "complaint" in tables:
            try:
                from csdesk.workflows.complaints import auto_escalate

                due = auto_escalate(desk, dry_run=True)
                lines.append(f"automatic escalation would act on {len(due)} complaints" + (": update gen_complaints" if due else ""))
            except Exception as exc:  # noqa: BLE001
                lines.append(f"auto_escalate dry run failed: {exc!r}")
    return lines


# --------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------


def _fresh_target(target, force: bool) -> None:
    """Start from nothing: a new SQLite file, or a PostgreSQL database with no csdesk tables."""
    from csdesk.db import Database

    if target.is_sqlite:
        files = [target.path.with_name(target.path.name + s) for s in ("", "-wal", "-shm", "-journal")]
        if files[0].exists() and not force:
            sys.exit(f"{target.path} exists; use --force to replace it")
        for f in files:
            if f.exists():
                f.unlink()
        return
    db = Database(target)
    if db.schema_version() is not None or _pg_has_tables(db.engine):
        if not force:
            sys.exit(f"{target.label} already has tables; use --force to drop them (all tables of its current schema)")
        from sqlalchemy import MetaData

        with db.engine.begin() as conn:
            meta = MetaData()
            meta.reflect(conn)
            meta.drop_all(conn)
    db.engine.dispose()


def _pg_has_tables(engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.exec_driver_sql("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").scalar())


def bulk_engine(target):
    from sqlalchemy import create_engine, event

    if target.is_sqlite:
        engine = create_engine(target.url)

        @event.listens_for(engine, "connect")
        def _fast(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY",
                           "locking_mode=EXCLUSIVE", "foreign_keys=OFF"):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

        return engine
    return create_engine(target.url)


def finish_sqlite(path) -> None:
    import sqlite3

    con = sqlite3.connect(str(path))
    try:
        con.execute("ANALYZE")
        mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            sys.exit(f"could not put {path} in WAL mode (got {mode})")
    finally:
        con.close()


def finish_postgres(engine, tables) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name, table in tables.items():
            if "id" in table.c and table.c.id.primary_key:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), COALESCE((SELECT max(id) FROM \"{name}\"), 0) + 1, false)"
                )
        conn.exec_driver_sql("ANALYZE")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Build a large csdesk database for the benchmarks.")
    p.add_argument("--db", default=DEFAULT_DB, metavar="PATH|URL", help=f"SQLite file or PostgreSQL URL (default {DEFAULT_DB})")
    p.add_argument("--force", action="store_true", help="replace the file / drop the tables that are there")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--days", type=int, default=365, help="how far back the history goes (default 365)")
    p.add_argument("--no-check", action="store_true", help="skip the dry runs of csdesk's rules at the end")
    p.add_argument("--now", default=None, help="when the history ends (default: now, or CSDESK_NOW); e.g. '2026-11-24 10:00'")
    for key, value in SIZES.items():
        p.add_argument(f"--{key}", type=int, default=value, help=f"default {value:,}")
    args = p.parse_args(argv)

    import sqlalchemy as sa
    from sqlmodel import SQLModel

    import csdesk.models  # noqa: F401  (registers the tables)
    from csdesk import config, dates
    from csdesk.db import Database, resolve
    from csdesk.migrations import upgrade

    t0 = time.perf_counter()
    target = resolve(args.db)
    _fresh_target(target, args.force)
    database = Database(target)
    database.create_file()
    upgrade(database.engine)
    database.engine.dispose()
    t_schema = time.perf_counter() - t0

    settings = config.load(target.path)
    tz = settings.tz
    now = dates.parse_when(args.now, tz=tz) if args.now else dates.now()
    now = now.astimezone(UTC).replace(microsecond=0)
    sizes = {k: getattr(args, k) for k in SIZES}
    engine = bulk_engine(target)
    dialect = engine.dialect.name
    # Only the tables the migrations made: a model whose migration is not written yet is left out.
    in_db = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    tables = {name: t for name, t in SQLModel.metadata.tables.items() if name in in_db}
    unmigrated = sorted(set(SQLModel.metadata.tables) - in_db)
    print(f"Building {target.label} ({dialect}): history {args.days} days up to {dates.fmt(now, tz)} {tz.key}, seed {args.seed}")
    print(f"  {'schema (migrations)':24} {t_schema:6.1f} s")
    if unmigrated:
        print(f"  (in csdesk.models but not made by the migrations, left out: {', '.join(unmigrated)})")
    counts: dict[str, int] = {}
    import gc

    gc.disable()  # millions of short-lived dicts: the cyclic collector would only slow the load down
    with engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        g = Gen(conn, tables, random.Random(args.seed), now, now - timedelta(days=args.days), tz, settings, sizes, dialect)
        for name, needs, fn in AREAS:
            missing = [t for t in needs if t not in tables]
            if missing:
                print(f"  {name:24}   skipped: no table {', '.join(missing)} in the migrated schema yet")
                continue
            t = time.perf_counter()
            made = fn(g)
            counts.update(made)
            what = ", ".join(f"{v:,} {k}" for k, v in made.items())
            print(f"  {name:24} {time.perf_counter() - t:6.1f} s  {what}")
    t = time.perf_counter()
    if dialect == "sqlite":
        engine.dispose()
        finish_sqlite(target.path)
    else:
        finish_postgres(engine, tables)
        engine.dispose()
    print(f"  {'ANALYZE' + (', WAL' if dialect == 'sqlite' else ', sequences'):24} {time.perf_counter() - t:6.1f} s")

    if not args.no_check:
        t = time.perf_counter()
        for line in self_check(Database(target), settings, now, tables):
            print(f"  check: {line}")
        print(f"  {'checks (dry runs)':24} {time.perf_counter() - t:6.1f} s")

    # Row counts as the database has them (not as the generator believes).
    check = bulk_engine(target) if dialect != "sqlite" else Database(target).engine
    with check.connect() as conn:
        print("Rows:")
        for name, table in tables.items():
            n = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            print(f"  {name:24} {n:>12,}")
        if dialect == "sqlite":
            print(f"  journal_mode: {conn.exec_driver_sql('PRAGMA journal_mode').scalar()}, "
                  f"size {target.path.stat().st_size / 2**20:,.0f} MiB")
    check.dispose()
    print(f"Done in {time.perf_counter() - t0:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
