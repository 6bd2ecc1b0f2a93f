"""The demo's projects: every stage, with adjustments and money in every state, dated back from now."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import select

from csdesk.i18n import _
from csdesk.models import Customer, Instalment, Payment, Project
from csdesk.money import from_fen, to_fen
from csdesk.workflows import Desk
from csdesk.workflows.adjustments import accept_adjustment, add_adjustment, finish_adjustment, reject_adjustment
from csdesk.workflows.project_labels import stage_label
from csdesk.workflows.projects import accept_project, add_project, archive_project, handover_project, shelve_project


DEMO_KINDS = ["全屋精装", "样板间摆场", "别墅软装", "办公室装修", "商铺改造", "中央空调安装", "厨房翻新", "交房整改"]


DEMO_ITEMS = [
    ("主卧衣柜门关不严", "install"), ("客厅墙面有细裂纹", "contractor"), ("卫生间地漏返味", "contractor"),
    ("厨房吊柜不水平", "install"), ("踢脚线局部脱落", "install"), ("窗帘轨道松动", "supplier"),
    ("木地板有划痕", "supplier"), ("吊顶灯带不亮", "install"), ("入户门锁安装歪斜", "install"),
    ("阳台瓷砖空鼓", "contractor"), ("软装配色与方案不符", "design"), ("物业要求补办装修备案", "property"),
]


# stage, days ago: signed, handed over, accepted; how the money went; how far dunning got; adjustments
DEMO_PROJECTS = [
    ("signed", 3, None, None, "on_time", None, 0),
    ("signed", 12, None, None, "late_last", "reminder", 0),
    ("signed", 30, None, None, "on_time", None, 0),
    ("handed_over", 60, 10, None, "on_time", None, 3),
    ("handed_over", 90, 25, None, "late_last", "call", 2),
    ("handed_over", 50, 5, None, "late_last", None, 1),
    ("handed_over", 120, 40, None, "partial_last", "notice", 2),
    ("accepted", 200, 120, 100, "late_last", "lawyer", 2),
    ("accepted", 150, 90, 60, "late_last", "call", 1),
    ("accepted", 100, 50, 20, "on_time", None, 1),
    ("accepted", 130, 70, 35, "late_last", "reminder", 0),
    ("accepted", 400, 300, 250, "partial_last", "lawyer", 1),
    ("accepted", 90, 40, 30, "late_last", None, 0),
    ("accepted", 100, 60, 45, "late_last", None, -1),  # accepted over an open adjustment
    ("settled", 240, 150, 120, "on_time", None, 2),
    ("settled", 180, 100, 80, "on_time", None, 1),
    ("settled", 300, 200, 160, "corrected", None, 1),
    ("settled", 160, 90, 70, "overpaid", None, 0),
    ("archived", 500, 400, 380, "on_time", None, 1),
    ("archived", 420, 330, 300, "on_time", None, 0),
    ("shelved", 110, 45, None, "late_last", "call", 1),
    ("shelved", 40, None, None, "on_time", None, 0),
]


DEMO_PLANS = [
    "首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d",
    "首付款:50%:sign+3d, 尾款:50%:accept+15d",
    "定金:{a}:sign, 进度款:{b}:handover+7d, 尾款:{c}:accept+30d",
]


def demo_projects(desk: Desk, rng, made: dict[str, Any]) -> list[str]:
    """Projects in every stage with adjustments and money in every state, dated back from the real now."""
    from dataclasses import replace

    from csdesk.workflows.dunning import chase, due_collection_steps, ladder
    from csdesk.workflows.payment_plans import STEPS, make_plan, overdue_instalments
    from csdesk.workflows.payments_received import record_payment, reverse_payment

    staff = made["staff"]
    owners = [s for s in staff.values() if s.role in ("specialist", "supervisor")]
    manager = next(s for s in staff.values() if s.role == "manager")
    supervisor = next(s for s in staff.values() if s.role == "supervisor")
    session = desk.session
    now = desk.now
    tz = desk.tz
    steps = dict(ladder(desk))
    order = list(STEPS)
    picked = rng.sample(made["customers"], len(DEMO_PROJECTS))
    made_codes: dict[str, list[str]] = {}
    counts = {"adjustments": 0, "payments": 0, "steps": 0, "reversals": 0}

    def moment(days_ago: float, hour: int = 10) -> datetime:
        day = now.astimezone(tz).date() - timedelta(days=int(days_ago))
        when = datetime.combine(day, datetime.min.time()).replace(tzinfo=tz) + timedelta(hours=hour, minutes=rng.randint(0, 50))
        return min(when, now - timedelta(minutes=5))

    def on(day: date, hour: int = 11) -> datetime:
        when = datetime.combine(day, datetime.min.time()).replace(tzinfo=tz) + timedelta(hours=hour, minutes=rng.randint(0, 50))
        return min(when, now - timedelta(minutes=5))

    def as_(who, when):
        return replace(desk, now=when, actor=who)

    for (stage, signed_ago, handed_ago, accepted_ago, money, dunning, n_adj), customer_id in zip(DEMO_PROJECTS, picked):
        owner = rng.choice(owners)
        customer = session.get(Customer, customer_id)
        contract = Decimal(rng.randrange(60_000, 900_000, 100))
        if rng.random() < 0.3:
            contract += Decimal(rng.randint(1, 99)) / 100  # cents, to show exact splitting
        signed_at = moment(signed_ago, 9)
        project = add_project(as_(owner, signed_at), f"{rng.choice(DISTRICT_NAMES)}{rng.choice(DEMO_KINDS)}", customer.code, contract,
                              signed=signed_at.astimezone(tz).date(), site=customer.address, warranty=rng.choice(["12m", "24m", "24m", "36m"]))
        plan = rng.choice(DEMO_PLANS)
        if "{a}" in plan:
            fen = to_fen(contract)
            a = fen // 10 // 100 * 100
            c = fen // 5 // 100 * 100
            plan = plan.format(a=from_fen(a), b=from_fen(fen - a - c), c=from_fen(c))
        make_plan(as_(owner, signed_at), project.code, plan)
        row = session.get(Project, project.id)

        def settle_due(until: datetime, skip_last: bool, partial_last: bool = False):
            """Pay what has fallen due by `until`, a few days after each due date."""
            insts = session.exec(select(Instalment).where(Instalment.project_id == row.id).order_by(Instalment.seq)).all()
            due = [i for i in insts if i.due_on and i.paid_fen < i.amount_fen and on(i.due_on) <= until]
            for k, inst in enumerate(due):
                last = k == len(due) - 1
                if last and skip_last:
                    continue
                amount = inst.amount_fen - inst.paid_fen
                if last and partial_last:
                    amount = amount // 2
                when = min(on(inst.due_on + timedelta(days=rng.randint(0, 4)), 15), until)
                method = rng.choice(["transfer", "transfer", "transfer", "cheque", "cash"])
                ref = {"transfer": f"银行流水{when:%Y%m%d}{rng.randint(100, 999)}", "cheque": f"支票{rng.randint(10**7, 10**8 - 1)}"}.get(method)
                record_payment(as_(owner, when), row.code, from_fen(amount), inst.name, when, method, ref)
                counts["payments"] += 1

        handed_at = moment(handed_ago, 16) if handed_ago is not None else None
        accepted_at = moment(accepted_ago, 14) if accepted_ago is not None else None
        final = money in ("late_last", "partial_last")
        if handed_at is None:
            settle_due(now - timedelta(minutes=5), final and stage != "shelved", money == "partial_last")
        else:
            settle_due(handed_at - timedelta(hours=1), False)
            handover_project(as_(owner, handed_at), row.code, handed_at)
            items = rng.sample(DEMO_ITEMS, abs(n_adj))
            end = accepted_at or now
            for k, (item, who) in enumerate(items):
                reported = min(handed_at + timedelta(days=1 + k * 2, hours=1), end - timedelta(hours=3))
                adj = add_adjustment(as_(owner, reported), row.code, item, who)
                counts["adjustments"] += 1
                closes = accepted_at is not None and n_adj >= 0
                if not closes and k == 0 and n_adj > 1:
                    continue  # left open (overdue if its week has passed)
                done_at = min(reported + timedelta(days=3), end - timedelta(hours=2))
                if done_at <= reported:
                    continue
                cost = Decimal(rng.choice([300, 800, 1500, 2600])) if rng.random() < 0.4 else None
                finish_adjustment(as_(owner, done_at), adj.id, cost)
                if not closes and k == 1:
                    reject_adjustment(as_(owner, done_at + timedelta(hours=1)), adj.id, "客户认为仍未达到标准")
                    continue
                if not closes and k == 2:
                    continue  # done, waiting for the customer's verdict
                accept_adjustment(as_(owner, done_at + timedelta(hours=1)), adj.id)
            if accepted_at is None:
                settle_due(now - timedelta(minutes=5), final, money == "partial_last")
            else:
                settle_due(accepted_at - timedelta(hours=1), False)
                if n_adj < 0:
                    accept_project(as_(supervisor, accepted_at), row.code, accepted_at, True, "客户同意先验收，整改项另行跟进")
                else:
                    accept_project(as_(owner, accepted_at), row.code, accepted_at)
                settle_due(now - timedelta(minutes=5), final, money == "partial_last")
        if money == "corrected":
            paid = session.exec(select(Payment).where(Payment.project_id == row.id, Payment.kind == "payment").order_by(Payment.id.desc())).first()
            when = min(paid.received_at + timedelta(days=1), now - timedelta(minutes=5))
            reverse_payment(as_(supervisor, when), paid.id, "银行退票，客户重新转账")
            record_payment(as_(owner, when), row.code, from_fen(paid.amount_fen), None, when, "transfer", "重新转账")
            counts["reversals"] += 1
        if money == "overpaid":
            when = now - timedelta(days=2)
            record_payment(as_(owner, when), row.code, Decimal("200.00"), None, when, "transfer", "多付", allow_overpay=True)
        if dunning:
            for inst in session.exec(select(Instalment).where(Instalment.project_id == row.id, Instalment.paid_fen < Instalment.amount_fen)).all():
                if not inst.due_on or inst.due_on >= now.astimezone(tz).date():
                    continue
                for step in order[: order.index(dunning) + 1]:
                    when = on(inst.due_on + timedelta(days=steps.get(step, 0)), 10)
                    if when >= now:
                        break
                    who = manager if step in ("lawyer", "notice") else owner
                    note = {"reminder": "短信提醒付款", "call": "电话联系，客户称月底前付", "notice": "寄出催款函（EMS）", "lawyer": "委托律师发函"}[step]
                    chase(as_(who, when), row.code, step, note, inst.name, when)
                    counts["steps"] += 1
        if stage == "archived":
            archive_project(as_(owner, now - timedelta(days=rng.randint(1, 20))), row.code)
        if stage == "shelved":
            shelve_project(as_(supervisor, now - timedelta(days=rng.randint(1, 5))), row.code, "业主资金问题，暂停推进")
        made_codes.setdefault(stage, []).append(row.code)
        session.flush()

    made["projects"] = made_codes
    due_steps = due_collection_steps(desk, now)
    stages = ", ".join(f"{len(v)} {stage_label(k)}" for k, v in made_codes.items())
    return [
        "  " + _("projects: {n} ({stages})").format(n=sum(len(v) for v in made_codes.values()), stages=stages),
        "  " + _("money: {payments} payments, {reversals} reversal, {overdue} overdue instalments, {steps} dunning steps taken, "
                 "{due} due now").format(payments=counts["payments"], reversals=counts["reversals"],
                                         overdue=len(overdue_instalments(desk, now)), steps=counts["steps"], due=len(due_steps)),
        "  " + _("adjustments: {n} (open, done, rejected and accepted)").format(n=counts["adjustments"]),
    ]


DISTRICT_NAMES = ["朝阳", "海淀", "浦东", "天河", "南山", "西湖", "锦江", "鼓楼", "江汉", "雁塔"]
