"""The demo's complaints (`csdesk demo`): a dozen stories told through the complaint workflows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import func, select

from csdesk import dates
from csdesk.models import Complaint, Customer, Staff
from csdesk.workflows import ROLE_RANK, Desk
from csdesk.workflows.complaint_rules import ACTIVE, LISTED, STATUSES, TOP_LEVEL, calendar
from csdesk.workflows.complaints import (
    ack_complaint, add_note, auto_escalate, close_complaint, escalate_complaint, hold_complaint, open_complaint,
    reopen_complaint, resolve_complaint,
)


# ---- the demo ----------------------------------------------------------------------------------------------

_WALL = "墙面开裂，要求尽快处理", "quality"
_LATE = "安装工人迟到两小时，且未提前通知", "installation"
_FLOOR = "地板起拱，影响行走", "quality"
_CALLBACK = "客服承诺回电但一直未回", "attitude"
_WINDOW = "窗户密封不严，下雨渗水", "installation"
_DELAY = "交付比合同约定晚了一周", "delay"
_BILL = "尾款金额与合同不符", "billing"
_DOOR = "橱柜门板色差明显", "quality"
_NOISE = "施工噪音大，被物业警告", "other"
_RUDE = "上门人员态度生硬", "attitude"
_LEAK = "卫生间防水没做好，楼下漏水", "installation"
_LAMP = "灯具安装位置与图纸不符", "installation"
# Each story: (days ago opened, hour (negative: that many half-hours ago), severity, key account?, (summary,
# category), steps). A step: (business hours after opening, or "due": just after the resolution deadline,
# action, text). Actions are taken by whoever would take them (the assignee, a supervisor …) at that time.
DEMO_STORIES = [
    # #1: missed deadline after missed deadline, escalated automatically each time (the reminder run's job)
    (9, 10, "normal", False, _WALL, [(1, "ack", "已致电客户，约好上门查看"), ("due", "auto", None), ("due", "auto", None)]),
    # at the top level already and past its deadline: overdue, with nowhere left to escalate
    (4, 9, "major", True, _LEAK, [(0.5, "ack", "经理已致电客户"), (1, "escalate_top", "客户表示将投诉至消协")]),
    (0, -1, "normal", False, _LATE, []),
    (0, -1, "serious", False, _FLOOR, []),
    (0, -2, "normal", False, _CALLBACK, []),
    (2, 11, "serious", False, _DELAY, []),  # its first response is late
    (1, 9, "normal", False, _WINDOW, [(1, "ack", "已回电，客户同意周末上门")]),
    (1, 14, "serious", False, _BILL, [(0.5, "ack", "已转财务核对"), (2, "note", "财务确认多收了安装费")]),
    (0, 9, "normal", False, _DOOR, [(0.5, "ack", None)]),
    (3, 10, "normal", False, _NOISE, [(1, "ack", None), (6, "hold", "等待物业出具整改要求")]),
    (4, 15, "serious", False, _RUDE, [(0.5, "ack", None), (5, "hold", "客户出差，下周再约")]),
    (2, 10, "serious", False, _LATE, [(1, "ack", None), (3, "escalate", "客户要求主管出面")]),
    (1, 10, "major", True, _WALL, [(0.5, "ack", "经理已致电客户致歉")]),  # key account, major: manager level
    (3, 9, "normal", True, _LAMP, [(1, "ack", None), (4, "note", "已安排设计师复尺")]),  # key account
    (6, 10, "normal", False, _DOOR, [(1, "ack", None), (20, "resolve", "已更换门板，客户现场确认")]),
    (5, 14, "serious", False, _FLOOR, [(1, "ack", None), (5, "escalate", "涉及赔偿，需主管决定"), (12, "resolve", "重新铺设并补偿500元，客户接受")]),
    (4, 9, "normal", False, _WINDOW, [(2, "ack", None), (14, "resolve", "已重新打胶密封")]),
    (3, 16, "normal", False, _CALLBACK, [(0.5, "ack", None), (8, "resolve", "已回电说明并致歉")]),
    (2, 10, "serious", False, _LATE, [(1, "ack", None), (6, "resolve", "重新安排安装，客户认可")]),
    (20, 10, "normal", False, _WALL, [(1, "ack", None), (20, "resolve", "已修补裂缝"), (40, "close", "客户来电表示满意，无需回访")]),
    (18, 11, "serious", False, _BILL, [(1, "ack", None), (8, "resolve", "已退还多收费用"), (30, "close", "财务已确认退款到账，客户书面确认")]),
    (15, 9, "normal", False, _LAMP, [(3, "ack", None), (20, "resolve", "已调整灯具位置"), (45, "close", "客户在验收单上签字确认")]),
    (14, 10, "normal", False, _FLOOR, [(1, "ack", None), (15, "resolve", "已处理地板起拱"), (40, "reopen", "客户反映地板再次起拱"),
                                      (42, "note", "已安排师傅复查")]),
]


def demo_complaints(desk: Desk, rng, made: dict[str, Any]) -> list[str]:
    """Complaints in every state, with escalations by hand, automatic ones after missed deadlines, and a
    breach showing now — all dated back from the real now (each action taken at its own time)."""
    from dataclasses import replace

    staff = made["staff"]  # name → Actor
    specialists = [s for s in staff.values() if s.role == "specialist"]
    by_id = {s.id: s for s in staff.values()}
    session = desk.session
    now, tz = desk.now, desk.tz
    standard = session.exec(select(Customer.id).where(Customer.tier != "key").order_by(Customer.id)).all()
    keys = made.get("key_customers") or standard
    counts = {"escalate": 0, "auto": 0}

    def boss_of(staff_id: int):
        row = session.get(Staff, staff_id)
        return by_id.get(row.reports_to_id) if row.reports_to_id else None

    cal = calendar(desk.settings)
    for days, hour, severity, key, (summary, category), steps in DEMO_STORIES:
        if hour < 0:
            opened_at = now - timedelta(minutes=rng.randint(20, 50) * -hour)
        else:
            day = now.astimezone(tz).date() - timedelta(days=days)
            opened_at = datetime.combine(day, datetime.min.time()).replace(tzinfo=tz) + timedelta(hours=hour, minutes=rng.randint(0, 40))
            opened_at = min(opened_at.astimezone(dates.UTC), now - timedelta(hours=2))
        opener = rng.choice(specialists)
        customer_id = rng.choice(keys if key else standard)
        c = open_complaint(replace(desk, now=opened_at, actor=opener), severity=severity, category=category,
                           summary=summary, customer_id=customer_id)
        last = opened_at
        for offset, action, arg in steps:
            row = session.get(Complaint, c.id)
            if offset == "due":  # the reminder run, a few minutes after the deadline
                if row.escalate_at is None or row.escalate_at + timedelta(minutes=5) >= now:
                    continue
                when = row.escalate_at + timedelta(minutes=5)
            else:
                when = cal.add(opened_at, timedelta(hours=offset))
            when = min(max(when, last), now - timedelta(minutes=1))
            last = when
            handler = by_id.get(row.assignee_id, opener)
            d = replace(desk, now=when, actor=handler)
            if action == "ack":
                ack_complaint(d, c.id, note=arg)
            elif action == "note":
                add_note(d, c.id, arg)
            elif action == "hold":
                hold_complaint(d, c.id, arg)
            elif action in ("escalate", "escalate_top"):
                escalate_complaint(d, c.id, arg, TOP_LEVEL if action == "escalate_top" else None)
                counts["escalate"] += 1
            elif action == "auto":
                counts["auto"] += len(auto_escalate(d, when))
            elif action == "resolve":
                resolve_complaint(d, c.id, arg)
            elif action == "close":
                boss = handler if handler.rank >= ROLE_RANK["supervisor"] else (boss_of(handler.id) or handler)
                close_complaint(replace(d, actor=boss), c.id, without_visit=True, reason=arg)
            elif action == "reopen":
                reopen_complaint(replace(d, actor=opener), c.id, arg)
    counts["auto"] += len(auto_escalate(desk, now))
    statuses = dict(session.exec(select(Complaint.status, func.count()).group_by(Complaint.status)).all())
    overdue = session.exec(select(func.count()).select_from(Complaint).where(Complaint.status.in_(ACTIVE), Complaint.next_due <= now)).one()
    made["complaints"] = len(DEMO_STORIES)
    from csdesk.i18n import _
    from csdesk.workflows.complaint_rules import status_label

    return [
        _("  complaints: {n} — {statuses}").format(
            n=len(DEMO_STORIES), statuses=", ".join(f"{status_label(s)} {statuses.get(s, 0)}" for s in LISTED)),
        _("              {hand} escalated by hand, {auto} automatically after a missed deadline; "
          "{overdue} past a deadline now (complaint list --overdue)").format(hand=counts["escalate"], auto=counts["auto"], overdue=overdue),
    ]
