"""`csdesk demo`: a realistic sample department, built in a new file and never over real work.

Each area adds a step to STEPS: a function (desk, rng, made) -> list of lines to print, where `made`
is a dict the steps share (staff names, customer ids …). Steps run in order, each in its own
transaction, so later areas can build on what earlier ones made.
"""

from __future__ import annotations

import os
import random
from datetime import time, timedelta
from typing import Any, Callable

from sqlmodel import select, text

from csdesk import dates
from csdesk.errors import Conflict
from csdesk.i18n import _
from csdesk.workflows import Desk, audit

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志强海波晓东文静雪梅宇航子涵浩然思雨欣怡梓轩"
COMPANIES = ["华府装饰", "锦程地产", "蓝天物业", "明珠酒店", "盛世家居", "东方广场", "金茂置业", "绿城服务", "万象商业", "星河湾", "中海物业", "保利置业"]
DISTRICTS = ["朝阳区", "海淀区", "浦东新区", "天河区", "南山区", "西湖区", "锦江区", "鼓楼区", "江汉区", "雁塔区"]
STREETS = ["建国路", "中山路", "人民路", "解放大道", "滨江路", "科技园路", "望京街", "世纪大道"]
CALL_SUMMARIES = {
    "inquiry": ["咨询保修期限", "询问安装进度", "咨询售后电话", "询问发票开具", "咨询材料环保等级", "询问验收流程"],
    "complaint": ["墙面开裂，要求处理", "安装工人迟到两小时", "地板起拱", "客服回电不及时", "窗户密封不严漏风", "交付延期一周"],
    "repair": ["卫生间漏水", "灯具不亮", "橱柜门铰链松动", "空调不制冷", "插座没电", "水龙头滴水"],
    "suggestion": ["建议增加周末上门服务", "希望提前短信通知上门时间", "建议提供电子版保修卡"],
    "followup": ["回访满意", "回访：客户反馈良好", "回访：对维修结果满意"],
    "payment": ["提醒尾款支付", "客户询问付款账户", "确认已转账"],
    "other": ["打错电话", "推销电话", "询问招聘信息"],
}
KIND_WEIGHTS = {"inquiry": 40, "repair": 20, "complaint": 12, "followup": 12, "payment": 8, "suggestion": 4, "other": 4}
DEMO_MARK = "demo.build"

STAFF = [
    ("陈建国", "director", None),
    ("张丽华", "manager", "陈建国"),
    ("李娜", "supervisor", "张丽华"),
    ("周涛", "supervisor", "张丽华"),
    ("王芳", "specialist", "李娜"),
    ("刘洋", "specialist", "李娜"),
    ("赵敏", "specialist", "李娜"),
    ("孙磊", "specialist", "周涛"),
    ("吴静", "specialist", "周涛"),
]


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(["138", "139", "137", "136", "135", "150", "151", "158", "186", "187", "188", "177", "199", "133", "189"])
    return f"{prefix}{rng.randrange(10**8):08d}"


def base_department(desk: Desk, rng: random.Random, made: dict[str, Any]) -> list[str]:
    """Staff in all four roles, a few hundred customers and a month of calls."""
    from csdesk.models import Call, Customer, CustomerPhone
    from csdesk.workflows.staff import add_staff, resolve_actor

    session = desk.session
    for name, role, boss in STAFF:
        add_staff(desk, name, role, reports_to=boss)
        if desk.actor is None:
            desk.actor = resolve_actor(session, name)
    staff = {name: resolve_actor(session, name) for name, _, _ in STAFF}
    made["staff"] = staff
    agents = [s for s in staff.values() if s.role == "specialist"]

    customers = []
    numbers_used: set[str] = set()
    for i in range(300):
        tier = rng.choices(["standard", "vip", "key"], weights=[80, 14, 6])[0]
        company = rng.choice(COMPANIES) if tier == "key" or rng.random() < 0.25 else None
        customer = Customer(
            name=rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.4 else ""),
            tier=tier, company=company,
            address=f"{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            manager_id=staff[rng.choice(["李娜", "周涛", "张丽华"])].id if tier != "standard" else None,
            source=rng.choice(["转介绍", "官网", "展会", "老客户", "电话营销"]),
            created_at=desk.now - timedelta(days=rng.randint(40, 900)), updated_at=desk.now,
        )
        customers.append(customer)
    session.add_all(customers)
    session.flush()
    for customer in customers:
        customer.code = f"C{customer.id:06d}"
        count = 2 if rng.random() < 0.15 else 1
        for position in range(count):
            number = _mobile(rng)
            while number in numbers_used:
                number = _mobile(rng)
            numbers_used.add(number)
            session.add(CustomerPhone(customer_id=customer.id, number=f"+86{number}", position=position))
    session.flush()
    for customer in customers:
        audit(desk, "customer.add", customer, flush=False)
    made["customers"] = [c.id for c in customers]
    made["key_customers"] = [c.id for c in customers if c.tier == "key"]
    phone_of = {}
    for cp in session.exec(select(CustomerPhone).where(CustomerPhone.position == 0)).all():
        phone_of[cp.customer_id] = cp.number

    tz = desk.tz
    today = desk.now.astimezone(tz).date()
    calls = []
    kinds, weights = zip(*KIND_WEIGHTS.items())
    for day_back in range(30, -1, -1):
        day = today - timedelta(days=day_back)
        per_day = rng.randint(4, 8) if day.weekday() >= 5 else rng.randint(30, 55)
        for _i in range(per_day):
            at = dates.local_datetime(day, time(8, 30), tz) + timedelta(minutes=rng.randint(0, 10 * 60))
            if at >= desk.now:
                continue
            kind = rng.choices(kinds, weights=weights)[0]
            customer_id = rng.choice(made["customers"])
            calls.append(Call(
                at=at, direction="out" if kind in ("followup", "payment") else "in",
                channel=rng.choices(["hotline", "phone", "wechat", "visit", "email"], weights=[45, 30, 18, 4, 3])[0],
                customer_id=customer_id, phone=phone_of[customer_id], phone_raw=phone_of[customer_id][3:],
                agent_id=rng.choice(agents).id, kind=kind, summary=rng.choice(CALL_SUMMARIES[kind]),
                duration_s=rng.randint(40, 900), first_contact_resolved=kind in ("inquiry", "other") and rng.random() < 0.8,
                created_at=at,
            ))
    session.add_all(calls)
    session.flush()
    for call in calls:
        audit(desk, "call.log", call, flush=False)
    made["calls"] = len(calls)
    return [
        "  " + _("staff:      {count} (1 director, 1 manager, 2 supervisors, 5 specialists)").format(count=len(STAFF)),
        "  " + _("customers:  {count} ({key} key accounts, {vip} VIP)").format(
            count=len(customers), key=sum(c.tier == "key" for c in customers), vip=sum(c.tier == "vip" for c in customers)),
        "  " + _("calls:      {count} over the last 31 days").format(count=len(calls)),
    ]


# (title, step). Later areas append theirs.
from csdesk.workflows.complaint_demo import demo_complaints  # noqa: E402
from csdesk.workflows.projects import demo_projects  # noqa: E402
from csdesk.workflows.callback_demo import demo_callbacks  # noqa: E402
from csdesk.workflows.shift import demo_shifts  # noqa: E402
from csdesk.workflows.qa import demo_qa  # noqa: E402
from csdesk.workflows.assignment import demo_assignment  # noqa: E402

STEPS: list[tuple[str, Callable[[Desk, random.Random, dict[str, Any]], list[str]]]] = [
    ("department", base_department),
    ("complaints", demo_complaints),
    ("projects", demo_projects),
    ("callbacks", demo_callbacks),
    ("shifts", demo_shifts),
    ("quality checks", demo_qa),
    ("assignment", demo_assignment),
]

NEXT_STEPS = [
    "csdesk --db {db} customer list --tier key",
    "csdesk --db {db} customer show {phone}",
    "csdesk --db {db} --as 王芳 log-call --phone {phone} --kind repair --summary '厨房水槽漏水'",
    "csdesk --db {db} calls list --since -1d",
    "csdesk --db {db} complaint list --overdue",
    "csdesk --db {db} complaint sla 1",
    "csdesk --db {db} customer list --tier key --unmanaged",
    "csdesk --db {db} --as 王芳 callback list --due week",
    "csdesk --db {db} report monthly --period current",
    "csdesk --db {db} --as 李娜 qa list --unscored",
    "csdesk --db {db} remind list --limit 20",
    "csdesk --db {db} shift list --limit 10",
    "csdesk --db {db} audit --limit 10",
]


def _first_reminder_run(database, settings, now) -> list[str]:
    """What cron would announce right now: the same `remind run` a department schedules every 5 minutes."""
    from collections import Counter

    from csdesk.workflows.reminders import kind_label, remind_run

    result = remind_run(database, settings, now)
    kinds = Counter(n.kind for n in result.notices)
    people = len(result.by_person())
    lines = ["  " + _("reminders:  the first `remind run` announced {count} things to {people} people ({kinds})").format(
        count=len(result.notices), people=people, kinds=_(", ").join(f"{kind_label(k)} {n}" for k, n in kinds.most_common()))]
    lines.extend(f"              {line}" for line in result.actions[:3])
    return lines


def _is_demo(database) -> bool:
    from sqlalchemy import text

    try:
        with database.engine.connect() as conn:
            return bool(conn.execute(text("SELECT count(*) FROM audit_entry WHERE action = :a"), {"a": DEMO_MARK}).scalar())
    except Exception:
        return False


def _remove_sqlite(path, keep_main: bool = False) -> None:
    """A SQLite file and the files SQLite keeps beside it (or only those, with keep_main)."""
    for suffix in ("-wal", "-shm", "-journal") + (() if keep_main else ("",)):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _settle(path) -> None:
    """Fold the -wal into the file and leave it self-contained, ready to be renamed."""
    import sqlite3

    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _build(database, settings, seed: int, label: str):
    """Every step into `database`, then the mark that says it is a demo and a first reminder run."""
    from csdesk.migrations import upgrade
    from csdesk.models import AuditEntry

    database.create_file()
    upgrade(database.engine)

    rng = random.Random(seed)
    made: dict[str, Any] = {}
    lines = [_("Built a sample department in {database}:").format(database=label)]
    now = dates.now()
    for title, step in STEPS:
        def run(session, step=step):
            from csdesk.workflows.staff import resolve_actor

            desk = Desk(session=session, settings=settings, now=now, actor=None)
            if made.get("staff"):
                desk.actor = resolve_actor(session, "张丽华")
            return step(desk, rng, made)

        lines.extend(database.write(run))

    def mark(session):
        session.add(AuditEntry(at=now, actor=None, action=DEMO_MARK, entity="demo", entity_id=0, after='{"seed": %d}' % seed))

    database.write(mark)
    lines.extend(_first_reminder_run(database, settings, now))
    database.engine.dispose()
    return lines, now


def build_demo(database, settings, seed: int = 2026) -> list[str]:
    """Build the sample department in `database` (which must be new, or an earlier demo)."""
    target = database.target
    if database.exists():
        if not _is_demo(database):
            raise Conflict(
                _("{database} already holds data that is not a csdesk demo; the demo only writes into a new file").format(database=target.label),
                hint="csdesk demo --db another-file.db",
            )
        database.engine.dispose()
        if not target.is_sqlite:
            raise Conflict(_("an earlier demo is in this PostgreSQL database; drop it first"))
        database._engine = None
    final = database
    if target.is_sqlite:
        # Built under a temporary name and renamed at the end: a killed or failed build leaves no
        # half-built file under the name asked for (an earlier demo stays until the new one is whole).
        from csdesk.db import Database, Target

        building = target.path.with_name(f".{target.path.name}.building")
        _remove_sqlite(building)
        database = Database(Target(f"sqlite:///{building}", building))
    try:
        lines, now = _build(database, settings, seed, target.label)
    except BaseException:
        if database is not final:
            database.engine.dispose()
            _remove_sqlite(database.target.path)
            database.target.path.with_name(database.target.path.name + ".remind.lock").unlink(missing_ok=True)
        raise
    if database is not final:
        _settle(database.target.path)
        _remove_sqlite(target.path, keep_main=True)  # an earlier demo's -wal must not meet the new file
        os.replace(database.target.path, target.path)
        _remove_sqlite(database.target.path)
        database.target.path.with_name(database.target.path.name + ".remind.lock").unlink(missing_ok=True)
        database = final
    from csdesk.reports import demo_workbook

    lines.extend(demo_workbook(database, settings, now))
    phone = database.read(lambda s: s.exec(text(
        "SELECT number FROM customer_phone WHERE customer_id = (SELECT customer_id FROM call GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1) ORDER BY position LIMIT 1")).first()[0])
    from csdesk.phones import display

    db_arg = target.label if " " not in target.label else f"'{target.label}'"
    lines.append("")
    lines.append(_("Try next:"))
    lines.extend("  " + cmd.format(db=db_arg, phone=display(phone).replace(" ", "")) for cmd in NEXT_STEPS)
    lines.append("")
    lines.append(_("Work in it all day — the full-screen desk (F2 my queue, F3 team board, Ctrl+Q quits):"))
    lines.append(f"  export CSDESK_DB={db_arg}")
    lines.append("  csdesk --as 王芳 desk")
    return lines
