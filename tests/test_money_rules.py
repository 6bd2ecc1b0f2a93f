"""Issue 13 and 12 in the projects/payments area: history that stays true, rule defects, who may hand
a project on, adjust edit and event times. Through the workflows; NOW = Tue 2026-11-24 10:00 Shanghai.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from csdesk.errors import InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.workflows.customers import add_customer
from csdesk.workflows.payments import (
    aging, chase, due_collection_steps, make_plan, parse_split, plan_amounts, record_payment, reverse_payment,
)
from csdesk.workflows.projects import (
    accept_adjustment, accept_project, add_adjustment, add_project, assign_project, edit_adjustment, edit_project,
    finish_adjustment, handover_project, reject_adjustment,
)

from conftest import NOW

TZ = ZoneInfo("Asia/Shanghai")
D = Decimal


def sh(y, mo, d, h=10, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


@pytest.fixture
def money_db(team):
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", ["13812345678"])
    return team


def audit_of(db, action: str) -> list[tuple[dict | None, dict]]:
    """(before, after) of each audit entry with this action, oldest first."""
    from sqlmodel import select

    from csdesk.models import AuditEntry

    with db.desk() as desk:
        rows = desk.session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()
        return [(json.loads(a.before) if a.before else None, json.loads(a.after)) for a in rows]


def new_project(db, plan: str | None, signed=date(2026, 7, 1), contract="100000", owner=None, now=None, as_="王芳") -> str:
    with db.desk(as_=as_, now=now) as desk:
        code = add_project(desk, "望京SOHO 12层精装", "C000001", D(contract), owner=owner, signed=signed).code
        if plan:
            make_plan(desk, code, plan)
    return code


# --- aging as of a past day: whenever the plan was typed in ----------------------------------------


def test_a_department_entering_last_julys_projects_today_sees_julys_history(money_db):
    # Signed 2026-07-01, everything typed in today (11-24): 首款 30% due 07-01, paid 07-20 (entered with --at);
    # 尾款 70% due on 2026-08-15, never paid.
    code = new_project(money_db, "首款:30%:sign, 尾款:70%:2026-08-15")
    with money_db.desk(as_="王芳") as desk:
        record_payment(desk, code, D(30000), "首款", sh(2026, 7, 20, 15))
    with money_db.desk(as_="王芳") as desk:
        before_signing = aging(desk, date(2026, 6, 30)).total
        july_10 = aging(desk, date(2026, 7, 10)).total  # 首款 9 days late, 尾款 not due
        july_31 = aging(desk, date(2026, 7, 31)).total  # 首款 paid on the 20th
        sept_30 = aging(desk, date(2026, 9, 30), by="project")  # 尾款 46 days late
    assert before_signing.outstanding == D(0)
    assert (july_10.days_0_30, july_10.not_due, july_10.outstanding) == (D(30000), D(70000), D(100000))
    assert (july_31.overdue, july_31.not_due) == (D(0), D(70000))
    assert [(r.key, r.days_31_60, r.outstanding) for r in sept_30.rows] == [(code, D(70000), D(70000))]


def test_the_reports_count_the_same_history(money_db):
    from csdesk.reports import build_report

    code = new_project(money_db, "首款:30%:sign, 尾款:70%:2026-08-15")
    with money_db.desk(as_="王芳") as desk:
        record_payment(desk, code, D(30000), "首款", sh(2026, 7, 20, 15))
    with money_db.desk(as_="张强") as desk:
        july = build_report(desk, "monthly", "2026-07")
        august = build_report(desk, "monthly", "2026-08")
    figures = {f.key: f.value for f in july.figures}
    assert (figures["money.outstanding_at_end"], figures["money.overdue_at_end"]) == (D(70000), D(0))
    assert figures["money.collected"] == D(30000)
    figures = {f.key: f.value for f in august.figures}
    assert (figures["money.outstanding_at_end"], figures["money.overdue_at_end"]) == (D(70000), D(70000))


# --- plans: percentages add up to exactly 100 % ----------------------------------------------------


@pytest.mark.parametrize("split, contract_fen", [
    ("a:33.33%:sign, b:33.33%:sign, c:33.33%:sign", 100),  # 99.99 % of ¥1.00 is 99.99 fen: under a fen short
    ("a:50%:sign, b:49.9999%:accept", 100000),  # 99.9999 % of ¥1,000: a tenth of a fen short, within the old tolerance
    ("a:50%:sign, b:50.00001%:accept", 10000),
    ("a:10.00:sign, b:89.999%:accept", 10000),  # ¥10 of ¥100 and 89.999 %: a tenth of a fen short
])
def test_percentages_that_do_not_add_up_to_exactly_100_are_refused(split, contract_fen):
    with pytest.raises(InvalidValue, match="not exactly 100%"):
        plan_amounts(contract_fen, parse_split(split, TZ))


def test_exact_percentages_still_split_to_the_fen():
    assert plan_amounts(100, parse_split("a:33.33%:sign, b:33.33%:sign, c:33.34%:sign", TZ)) == [33, 33, 34]
    assert plan_amounts(10000, parse_split("a:10.00:sign, b:90%:accept", TZ)) == [1000, 9000]


def test_a_plan_a_fraction_of_a_fen_short_changes_nothing(money_db):
    code = new_project(money_db, None, contract="1.00")
    with money_db.desk(as_="王芳") as desk, pytest.raises(InvalidValue, match="add up to 99.99% of the contract"):
        make_plan(desk, code, "a:33.33%:sign, b:33.33%:sign, c:33.33%:sign")
    assert money_db.scalar("SELECT count(*) FROM instalment") == 0


# --- project assign: the owner, or someone above both ------------------------------------------------


def test_a_specialist_cannot_take_over_someone_elses_project(money_db):
    from csdesk.workflows.staff import add_staff

    with money_db.desk(as_="李娜") as desk:
        add_staff(desk, "赵敏", "specialist", reports_to="李娜")
    code = new_project(money_db, None)  # owned by 王芳
    with money_db.desk(as_="赵敏") as desk, pytest.raises(PermissionDenied, match="only the owner or someone above a specialist"):
        assign_project(desk, code, "赵敏")
    with money_db.desk(as_="赵敏") as desk, pytest.raises(PermissionDenied):
        edit_project(desk, code, owner="赵敏")  # the same rule through project edit --owner
    # a supervisor may not give it to a manager (she does not outrank him)
    with money_db.desk(as_="李娜") as desk, pytest.raises(PermissionDenied, match="needs its owner or someone above a manager"):
        assign_project(desk, code, "张强")
    assert money_db.scalar("SELECT owner_id FROM project") == 4
    # the owner may hand it on, to anyone; a supervisor may take a specialist's project or pass it to a specialist
    with money_db.desk(as_="王芳") as desk:
        assert assign_project(desk, code, "赵敏").owner == "赵敏"
    with money_db.desk(as_="李娜") as desk:
        assert assign_project(desk, code, "王芳").owner == "王芳"
        assert assign_project(desk, code, "李娜").owner == "李娜"
    with money_db.desk(as_="王芳") as desk, pytest.raises(PermissionDenied, match="owned by 李娜 .supervisor."):
        assign_project(desk, code, "王芳")
    with money_db.desk(as_="张强") as desk:
        assert assign_project(desk, code, "王芳").owner == "王芳"
    assert [after["owner"] for _, after in audit_of(money_db, "project.assign")] == ["赵敏", "王芳", "李娜", "王芳"]


# --- adjust edit, and adjustments' event times -------------------------------------------------------


def handed_over(db, at=sh(2026, 11, 10, 16)) -> str:
    code = new_project(db, None)
    with db.desk(as_="王芳") as desk:
        handover_project(desk, code, at)
    return code


def test_adjust_edit_changes_item_due_party_and_cost_audited(money_db):
    code = handed_over(money_db)
    with money_db.desk(as_="王芳") as desk:
        a = add_adjustment(desk, code, "主卧衣柜门关不严", "install")
    with money_db.desk(as_="王芳") as desk:
        info = edit_adjustment(desk, a.id, item="主卧衣柜门关不严，合页松动", due=date(2026, 12, 5), responsible="supplier", cost=D("1200"))
    assert (info.item, info.due_on, info.responsible, info.cost, info.payer) == (
        "主卧衣柜门关不严，合页松动", date(2026, 12, 5), "supplier", D("1200.00"), "company")  # in warranty: the company pays
    with money_db.desk(as_="王芳") as desk:
        assert edit_adjustment(desk, a.id, payer="contractor").payer == "contractor"
    before, after = audit_of(money_db, "adjustment.edit")[0]
    assert before == {"item": "主卧衣柜门关不严", "due_on": "2026-12-01", "responsible": "install", "cost_fen": None, "payer": None}
    assert after == {"item": "主卧衣柜门关不严，合页松动", "due_on": "2026-12-05", "responsible": "supplier",
                                 "cost_fen": 120000, "payer": "company"}


@pytest.mark.parametrize("kw, error, text", [
    ({}, InvalidValue, "nothing to change"),
    ({"item": " "}, InvalidValue, "the item cannot be empty"),
    ({"item": "a\x07b"}, InvalidValue, "control characters"),
    ({"due": date(2026, 11, 23)}, InvalidValue, "before adjustment #1 was reported"),
    ({"responsible": "plumber"}, InvalidValue, "unknown responsible party"),
    ({"cost": D("-1")}, InvalidValue, "cannot be negative"),
    ({"payer": "company"}, InvalidValue, "--payer goes with a cost"),
    ({"cost": D("1"), "payer": "boss"}, InvalidValue, "unknown payer"),
    ({"responsible": "install"}, InvalidValue, "nothing to change"),
])
def test_adjust_edit_refuses_bad_values_and_changes_nothing(money_db, kw, error, text):
    code = handed_over(money_db)
    with money_db.desk(as_="王芳") as desk:
        add_adjustment(desk, code, "灯带不亮", "install")
    before = money_db.dump()
    with money_db.desk(as_="王芳") as desk, pytest.raises(error, match=text):
        edit_adjustment(desk, 1, **kw)
    assert money_db.dump() == before
    with money_db.desk(as_="王芳") as desk, pytest.raises(NotFound, match="no adjustment #99"):
        edit_adjustment(desk, 99, item="x")


def test_an_adjustment_entered_late_takes_its_warranty_and_times_from_the_event(money_db):
    # handed over 2024-11-10 with a 24-month warranty: it ended 2026-11-10
    code = new_project(money_db, None, signed=date(2024, 10, 1))
    with money_db.desk(as_="王芳") as desk:
        handover_project(desk, code, sh(2024, 11, 10, 16))
    with money_db.desk(as_="王芳") as desk:
        late = add_adjustment(desk, code, "reported on 11-09, typed in today", reported=date(2026, 11, 9))
        today = add_adjustment(desk, code, "reported today")
        with pytest.raises(InvalidValue, match="in the future"):
            add_adjustment(desk, code, "x", reported=date(2026, 11, 25))
        with pytest.raises(InvalidValue, match="before P000001's handover"):
            add_adjustment(desk, code, "x", reported=date(2024, 11, 9))
    assert (late.reported_on, late.in_warranty, late.due_on) == (date(2026, 11, 9), True, date(2026, 11, 16))
    assert (today.reported_on, today.in_warranty) == (date(2026, 11, 24), False)
    with money_db.desk(as_="王芳") as desk:
        with pytest.raises(InvalidValue, match="cannot be before adjustment #1 was reported"):
            finish_adjustment(desk, late.id, at=sh(2026, 11, 8))
        with pytest.raises(InvalidValue, match="in the future"):
            finish_adjustment(desk, late.id, at=NOW + timedelta(hours=1))
        done = finish_adjustment(desk, late.id, D("800"), at=sh(2026, 11, 12, 17))
        with pytest.raises(InvalidValue, match="before adjustment #1's last step"):
            reject_adjustment(desk, late.id, "还是关不严", at=sh(2026, 11, 12, 9))
        rejected = reject_adjustment(desk, late.id, "还是关不严", at=sh(2026, 11, 13, 9))
        finish_adjustment(desk, late.id, at=sh(2026, 11, 14, 9))
        accepted = accept_adjustment(desk, late.id, at=sh(2026, 11, 15, 9))
    assert (done.done_at, done.payer) == (sh(2026, 11, 12, 17), "company")  # reported in warranty
    assert rejected.verdict_at == sh(2026, 11, 13, 9)
    assert (accepted.status, accepted.done_at, accepted.verdict_at) == ("accepted", sh(2026, 11, 14, 9), sh(2026, 11, 15, 9))


# --- dunning in order; a step typed in late is judged as of its time ---------------------------------


def overdue(db, due=date(2026, 10, 1), contract="10000") -> str:
    return new_project(db, f"尾款:100%:{due.isoformat()}", contract=contract)


def test_a_later_step_before_an_earlier_one_is_refused(money_db):
    code = overdue(money_db)
    before = money_db.dump()
    with money_db.desk(as_="李娜") as desk, pytest.raises(InvalidTransition, match=r"has had no reminder, call by"):
        chase(desk, code, "notice")
    with money_db.desk(as_="张强") as desk, pytest.raises(InvalidTransition, match="cannot come first"):
        chase(desk, code, "lawyer")
    assert money_db.dump() == before
    with money_db.desk(as_="王芳") as desk:
        chase(desk, code, "reminder", at=sh(2026, 10, 2))
        # the call must come after the reminder in time, not only in typing order
        with pytest.raises(InvalidTransition, match="has had no reminder"):
            chase(desk, code, "call", at=sh(2026, 10, 1, 15))
        chase(desk, code, "call", at=sh(2026, 10, 9))
    with money_db.desk(as_="李娜") as desk:
        assert chase(desk, code, "notice", "EMS")[0].skipped == []


def test_only_a_manager_skips_steps_and_only_with_a_reason(money_db):
    code = overdue(money_db)
    with money_db.desk(as_="李娜") as desk, pytest.raises(PermissionDenied, match="skipping dunning steps needs a manager"):
        chase(desk, code, "notice", skip=True, reason="客户失联")
    with money_db.desk(as_="张强") as desk:
        with pytest.raises(InvalidValue, match="--skip needs --reason"):
            chase(desk, code, "notice", skip=True)
        with pytest.raises(InvalidValue, match="--reason goes with --skip"):
            chase(desk, code, "reminder", reason="x")
        with pytest.raises(InvalidValue, match="no earlier step is missing"):
            chase(desk, code, "reminder", skip=True, reason="x")
        step = chase(desk, code, "notice", "EMS 寄出", skip=True, reason="客户失联，直接发函")[0]
    assert (step.step, step.skipped) == ("notice", ["reminder", "call"])
    after = audit_of(money_db, "payment.chase")[0][1]
    assert (after["step"], after["skipped"], after["reason"]) == ("notice", ["reminder", "call"], "客户失联，直接发函")


def test_switched_off_steps_are_not_required(money_db):
    import os

    with open(os.environ["CSDESK_CONFIG"], "w", encoding="utf-8") as f:
        f.write("[collection.ladder]\nreminder = -1\ncall = 3\nnotice = 10\nlawyer = 20\n")
    code = overdue(money_db)
    with money_db.desk(as_="王芳") as desk:
        assert chase(desk, code, "call")[0].step == "call"


def test_a_step_typed_in_late_is_judged_by_the_money_received_by_then(money_db):
    # due 10-01, paid in full on 10-20 (already recorded); the reminder of 10-02 is typed in afterwards
    code = overdue(money_db)
    with money_db.desk(as_="王芳") as desk:
        record_payment(desk, code, D(10000), at=sh(2026, 10, 20))
    with money_db.desk(as_="王芳") as desk:
        assert chase(desk, code, "reminder", at=sh(2026, 10, 2))[0].instalment == "尾款"
        with pytest.raises(InvalidTransition, match="was paid by 2026-10-21"):
            chase(desk, code, "call", instalment="尾款", at=sh(2026, 10, 21))
        with pytest.raises(InvalidTransition, match="nothing is due and unpaid"):
            chase(desk, code, "call", at=sh(2026, 10, 21))


def test_a_reversed_payment_is_owed_again_from_the_reversal(money_db):
    code = overdue(money_db)
    with money_db.desk(as_="王芳") as desk:
        paid = record_payment(desk, code, D(10000), at=sh(2026, 10, 5))
    with money_db.desk(as_="李娜") as desk:
        reverse_payment(desk, paid.id, "退票", at=sh(2026, 10, 12))
    with money_db.desk(as_="王芳") as desk:
        chase(desk, code, "reminder", at=sh(2026, 10, 2))
        with pytest.raises(InvalidTransition, match="was paid by"):
            chase(desk, code, "call", instalment="尾款", at=sh(2026, 10, 8))
        assert chase(desk, code, "call", at=sh(2026, 10, 13))[0].step == "call"


# --- who hears that a step is due -----------------------------------------------------------------


def notice_recipients(db, now=NOW) -> dict[str, list[str]]:
    from sqlmodel import select

    from csdesk.models import Staff
    from csdesk.workflows.reminder_rules import dunning_steps

    with db.desk(as_="王芳") as desk:
        names = dict(desk.session.exec(select(Staff.id, Staff.name)).all())
        return {a.key.split(":")[0]: [names[i] for i in a.recipients] for a in dunning_steps(desk, now, desk.settings)}


def test_a_step_the_owner_may_not_take_is_announced_to_the_first_able_boss_too(money_db):
    code = overdue(money_db, due=date(2026, 11, 1))  # 23 days late: the notice (supervisor+) is the step due
    assert notice_recipients(money_db) == {"dunning.notice": ["王芳", "李娜"]}
    with money_db.desk(as_="王芳") as desk:
        steps = {s.step: s.recorder_id for s in due_collection_steps(desk, NOW)}
    assert steps == {"reminder": None, "call": None, "notice": 3}
    # 李娜 leaves: the notice goes up to 张强, the first active person above her who may send it
    with money_db.desk(as_="张强") as desk:
        from csdesk.workflows.handover import deactivate_staff

        deactivate_staff(desk, "李娜")
    assert notice_recipients(money_db) == {"dunning.notice": ["王芳", "张强"]}
    # the lawyer's letter (manager+) from 12-01: to the owner and 张强
    with money_db.desk(as_="王芳") as desk:
        chase(desk, code, "reminder", at=sh(2026, 11, 2))
        chase(desk, code, "call", at=sh(2026, 11, 9))
    with money_db.desk(as_="张强") as desk:
        chase(desk, code, "notice", at=sh(2026, 11, 17))
    assert notice_recipients(money_db, sh(2026, 12, 2)) == {"dunning.lawyer": ["王芳", "张强"]}


def test_an_owner_who_may_take_the_step_is_the_only_one_told(money_db):
    new_project(money_db, "尾款:100%:2026-11-01", contract="5000", as_="李娜", owner="李娜")
    assert notice_recipients(money_db) == {"dunning.notice": ["李娜"]}


# --- acceptance typed in late; nothing falls due before signing --------------------------------------


def test_an_acceptance_typed_in_late_is_held_back_only_by_what_was_open_then(money_db):
    code = handed_over(money_db, at=sh(2026, 11, 2, 16))
    with money_db.desk(as_="王芳") as desk:
        before = add_adjustment(desk, code, "做完了的", reported=date(2026, 11, 3))
        finish_adjustment(desk, before.id, at=sh(2026, 11, 4, 17))  # done (waiting for a verdict) before the 11-05 acceptance
        add_adjustment(desk, code, "验收后才提出的", reported=date(2026, 11, 6))
        still = add_adjustment(desk, code, "验收时还开着", reported=date(2026, 11, 4))
    with money_db.desk(as_="王芳") as desk, pytest.raises(InvalidTransition, match=f"1 open adjustment.s.: #{still.id} "):
        accept_project(desk, code, sh(2026, 11, 5, 10))
    with money_db.desk(as_="王芳") as desk:
        finish_adjustment(desk, still.id, at=sh(2026, 11, 5, 9))
    with money_db.desk(as_="王芳") as desk:
        info = accept_project(desk, code, sh(2026, 11, 5, 10))  # the 11-06 one came after: no override needed
    assert (info.stage, info.accepted_at) == ("accepted", sh(2026, 11, 5, 10))


def test_no_instalment_falls_due_before_the_signing(money_db):
    code = new_project(money_db, None, signed=date(2026, 7, 1))
    with money_db.desk(as_="王芳") as desk, pytest.raises(InvalidValue, match=r"定金 would fall due on 2026-06-30, before P000001 was signed \(2026-07-01\)"):
        make_plan(desk, code, "定金:10%:2026-06-30, 尾款:90%:accept")
    with money_db.desk(as_="王芳") as desk:
        make_plan(desk, code, "定金:10%:2026-07-01, 尾款:90%:accept")
    with money_db.desk(as_="王芳") as desk, pytest.raises(InvalidValue, match="after an instalment of P000001 falls due .2026-07-01."):
        edit_project(desk, code, signed=date(2026, 7, 2))
    with money_db.desk(as_="王芳") as desk:
        assert edit_project(desk, code, signed=date(2026, 6, 28)).signed_on == date(2026, 6, 28)
