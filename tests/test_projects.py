"""Projects and adjustments, through the workflows: lifecycle, warranty, acceptance rules, owners.

The clock is NOW = Tue 2026-11-24 10:00 Asia/Shanghai.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.workflows import hooks
from csdesk.workflows.customers import add_customer
from csdesk.workflows.customer_card import customer_view
from csdesk.workflows.payments import make_plan, record_payment
from csdesk.workflows.projects import (
    accept_adjustment, accept_project, add_adjustment, add_project, archive_project, edit_project, finish_adjustment,
    handover_project, list_adjustments, list_projects, overdue_adjustments, project_view, reject_adjustment,
    resume_project, shelve_project,
)
from csdesk.workflows.handover import deactivate_staff

from conftest import NOW

TZ = ZoneInfo("Asia/Shanghai")


def sh(y, mo, d, h=10, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


@pytest.fixture
def desk_db(team):
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", ["13812345678"])
        add_customer(desk, "李梅", ["13900001111"])
    return team


def new_project(db, as_="王芳", now=None, **kw):
    args = dict(name="望京SOHO 12层精装", customer="C000001", contract=Decimal("100000"))
    args.update(kw)
    with db.desk(as_=as_, now=now) as desk:
        return add_project(desk, **args)


@pytest.fixture
def fired(monkeypatch):
    """Collect the project events fired (on top of whatever the callbacks area does with them)."""
    seen = []
    for event in ("project_handed_over", "project_accepted"):
        listener = (lambda ev: lambda desk, project_id, **_: seen.append((ev, project_id)))(event)
        hooks._load()
        monkeypatch.setitem(hooks._listeners, event, [*hooks._listeners[event], listener])
    return seen


def test_a_new_project_is_signed_and_owned_by_whoever_adds_it(desk_db):
    p = new_project(desk_db, contract=Decimal("286000.00"), site="朝阳区望京街10号")
    assert (p.code, p.stage, p.stage_label, p.owner) == ("P000001", "signed", "signed", "王芳")
    assert p.contract == Decimal("286000.00")
    assert p.signed_on == date(2026, 11, 24)
    assert p.warranty_months == 24 and p.in_warranty is None  # the warranty starts at handover
    assert (p.customer_code, p.customer_name) == ("C000001", "张伟")
    assert desk_db.scalar("SELECT contract_fen FROM project") == 28600000
    assert desk_db.scalar("SELECT count(*) FROM audit_entry WHERE action = 'project.add'") == 1
    other = new_project(desk_db, owner="李娜", warranty="2y", customer="13900001111", signed=date(2026, 10, 1))
    assert (other.code, other.owner, other.warranty_months, other.customer_code, other.signed_on) == ("P000002", "李娜", 24, "C000002", date(2026, 10, 1))


@pytest.mark.parametrize(
    "kw, error, text",
    [
        (dict(customer="C000099"), NotFound, "no customer with code C000099"),
        (dict(warranty="30d"), InvalidValue, "months or years"),
        (dict(signed=date(2026, 12, 1)), InvalidValue, "in the future"),
        (dict(owner="无名氏"), NotFound, "no staff member"),
        (dict(name="  "), InvalidValue, "cannot be empty"),
        (dict(contract=Decimal("0")), InvalidValue, "more than zero"),
    ],
)
def test_bad_projects_are_refused(desk_db, kw, error, text):
    before = desk_db.dump()
    with pytest.raises(error) as err:
        new_project(desk_db, **kw)
    assert text in err.value.message
    assert desk_db.dump() == before


def test_nobody_acting_cannot_add_a_project(desk_db):
    with pytest.raises(PermissionDenied):
        new_project(desk_db, as_=None)


def test_handover_starts_the_warranty_and_fires_the_visit_rules(desk_db, fired):
    p = new_project(desk_db, signed=date(2026, 1, 10))
    with desk_db.desk(as_="王芳") as desk:
        # 00:30 local on 2026-11-20 is still 11-19 in UTC: the warranty counts from the local date
        info = handover_project(desk, p.code, at=sh(2026, 11, 20, 0, 30))
    assert info.stage == "handed_over" and info.stage_label == "handed over"
    assert info.warranty_end == date(2028, 11, 20)
    assert info.in_warranty is True
    assert fired == [("project_handed_over", p.id)]
    with desk_db.desk(as_="王芳") as desk, pytest.raises(InvalidTransition) as err:
        handover_project(desk, p.code)
    assert "handed over" in err.value.message and "only a signed project" in err.value.message


def test_handover_cannot_be_in_the_future_or_before_signing(desk_db):
    p = new_project(desk_db, signed=date(2026, 11, 20))
    with desk_db.desk(as_="王芳") as desk:
        with pytest.raises(InvalidValue, match="future"):
            handover_project(desk, p.code, at=NOW + timedelta(days=1))
        with pytest.raises(InvalidValue, match="before the signing"):
            handover_project(desk, p.code, at=sh(2026, 11, 19))


def handed_over(db, months_ago: int = 0, warranty: str = "24m", **kw) -> str:
    from dateutil.relativedelta import relativedelta

    at = NOW - relativedelta(months=months_ago, days=1)
    p = new_project(db, signed=(at - timedelta(days=30)).date(), warranty=warranty, **kw)
    with db.desk(as_="王芳") as desk:
        handover_project(desk, p.code, at=at)
    return p.code


def test_adjustments_in_and_out_of_warranty_decide_who_pays(desk_db):
    fresh = handed_over(desk_db)
    old = handed_over(desk_db, months_ago=25, warranty="24m")
    with desk_db.desk(as_="王芳") as desk:
        inside = add_adjustment(desk, fresh, "主卧衣柜门关不严", "install")
        outside = add_adjustment(desk, old, "阳台瓷砖空鼓", "contractor")
    assert inside.in_warranty is True and outside.in_warranty is False
    assert inside.due_on == date(2026, 12, 1)  # projects.adjustment_days = 7
    assert (inside.responsible, inside.responsible_label, inside.status) == ("install", "installation", "open")
    with desk_db.desk(as_="王芳") as desk:
        a = finish_adjustment(desk, inside.id, cost=Decimal("800"))
        b = finish_adjustment(desk, outside.id, cost=Decimal("1200.50"))
        c = add_adjustment(desk, old, "踢脚线脱落")
        c = finish_adjustment(desk, c.id, cost=Decimal("300"), payer="contractor")
    assert (a.payer, a.cost) == ("company", Decimal("800.00"))
    assert (b.payer, b.cost) == ("customer", Decimal("1200.50"))
    assert c.payer == "contractor"
    assert desk_db.scalar("SELECT cost_fen FROM adjustment WHERE id = :i", i=b.id) == 120050


def test_adjustment_verdicts_and_a_rejection_opens_it_again(desk_db):
    code = handed_over(desk_db)
    with desk_db.desk(as_="王芳") as desk:
        a = add_adjustment(desk, code, "吊顶灯带不亮", "install", due=date(2026, 11, 30))
        with pytest.raises(InvalidTransition, match="only a done one can be accepted"):
            accept_adjustment(desk, a.id)
        finish_adjustment(desk, a.id)
        r = reject_adjustment(desk, a.id, "仍有一段不亮")
    assert (r.status, r.status_label, r.rejections, r.reason) == ("rejected", "rejected, reopened", 1, "仍有一段不亮")
    rows, total = _list(desk_db, open_only=True)
    assert [x.id for x in rows] == [a.id]
    with desk_db.desk(as_="王芳") as desk:
        finish_adjustment(desk, a.id)
        done = accept_adjustment(desk, a.id)
    assert (done.status, done.rejections) == ("accepted", 1)
    assert _list(desk_db, open_only=True) == ([], 0)
    with desk_db.desk(as_="王芳") as desk, pytest.raises(InvalidValue, match="--reason"):
        reject_adjustment(desk, a.id, " ")


def _list(db, **kw):
    with db.desk(as_="王芳") as desk:
        return list_adjustments(desk, **kw)


def test_adjustments_need_a_handed_over_project_and_sane_values(desk_db):
    p = new_project(desk_db)
    code = handed_over(desk_db)
    with desk_db.desk(as_="王芳") as desk:
        with pytest.raises(InvalidTransition, match="not handed over yet"):
            add_adjustment(desk, p.code, "墙面裂纹")
        with pytest.raises(InvalidValue, match="unknown responsible party"):
            add_adjustment(desk, code, "墙面裂纹", "plumber")
        with pytest.raises(InvalidValue, match="already past"):
            add_adjustment(desk, code, "墙面裂纹", due=date(2026, 11, 1))
        with pytest.raises(NotFound, match="no call #99"):
            add_adjustment(desk, code, "墙面裂纹", call=99)
        a = add_adjustment(desk, code, "墙面裂纹", "设计")  # the Chinese label works too
        assert a.responsible == "design"
        with pytest.raises(InvalidValue, match="--payer goes with --cost"):
            finish_adjustment(desk, a.id, payer="customer")


def test_overdue_adjustments_as_of_a_given_time(desk_db):
    code = handed_over(desk_db)
    with desk_db.desk(as_="王芳") as desk:
        a = add_adjustment(desk, code, "窗帘轨道松动", due=date(2026, 11, 26))
        b = add_adjustment(desk, code, "门锁歪斜", due=date(2026, 11, 30))
        finish_adjustment(desk, b.id)
        assert overdue_adjustments(desk, sh(2026, 11, 26, 23, 59)) == []  # due that day: not overdue yet
        late = overdue_adjustments(desk, sh(2026, 11, 27, 0, 1))
        assert [(x.id, x.overdue) for x in late] == [(a.id, True)]
        assert overdue_adjustments(desk, sh(2026, 12, 5)) == late  # b is done: not overdue
    rows, total = _list(desk_db, overdue=True)
    assert total == 0  # nothing overdue today (2026-11-24)


def test_acceptance_is_refused_while_adjustments_are_open(desk_db, fired):
    code = handed_over(desk_db)
    with desk_db.desk(as_="王芳") as desk:
        a = add_adjustment(desk, code, "主卧衣柜门关不严")
    before = desk_db.dump()
    with desk_db.desk(as_="王芳") as desk, pytest.raises(InvalidTransition) as err:
        accept_project(desk, code)
    assert f"1 open adjustment(s): #{a.id} 主卧衣柜门关不严" in err.value.message
    assert "--with-open-adjustments" in err.value.hint
    with desk_db.desk(as_="王芳") as desk, pytest.raises(PermissionDenied, match="supervisor or above"):
        accept_project(desk, code, with_open_adjustments=True, reason="客户同意")
    with desk_db.desk(as_="李娜") as desk, pytest.raises(InvalidValue, match="--reason"):
        accept_project(desk, code, with_open_adjustments=True)
    assert desk_db.dump() == before
    assert fired == [("project_handed_over", desk_db.scalar("SELECT id FROM project WHERE code = :c", c=code))]
    with desk_db.desk(as_="李娜") as desk:
        info = accept_project(desk, code, with_open_adjustments=True, reason="客户同意先验收")
    assert info.stage == "accepted"
    assert fired[-1][0] == "project_accepted"
    entry = json.loads(desk_db.scalar("SELECT after FROM audit_entry WHERE action = 'project.accept'"))
    assert entry["override"] == {"open_adjustments": [a.id], "reason": "客户同意先验收", "by": "李娜"}


def test_acceptance_after_the_adjustments_are_accepted(desk_db):
    code = handed_over(desk_db)
    with desk_db.desk(as_="王芳") as desk:
        a = add_adjustment(desk, code, "主卧衣柜门关不严")
        finish_adjustment(desk, a.id, at=sh(2026, 11, 24, 8, 30))
        # done (at 08:30) but not yet accepted by the customer is no longer open at 09:00
        info = accept_project(desk, code, at=sh(2026, 11, 24, 9))
    assert (info.stage, info.accepted_at) == ("accepted", sh(2026, 11, 24, 9))
    with desk_db.desk(as_="王芳") as desk, pytest.raises(InvalidTransition, match="only a handed-over project"):
        accept_project(desk, code)


def test_acceptance_cannot_precede_the_handover(desk_db):
    code = handed_over(desk_db)  # handed over yesterday
    with desk_db.desk(as_="王芳") as desk, pytest.raises(InvalidValue, match="before the handover"):
        accept_project(desk, code, at=NOW - timedelta(days=3))


def test_changing_the_owner_is_recorded(desk_db):
    p = new_project(desk_db)
    with desk_db.desk(as_="李娜") as desk:
        info = edit_project(desk, p.code, owner="李娜", site="T3 12层")
    assert info.owner == "李娜" and info.site == "T3 12层"
    entry = json.loads(desk_db.scalar("SELECT after FROM audit_entry WHERE action = 'project.assign'"))
    before = json.loads(desk_db.scalar("SELECT before FROM audit_entry WHERE action = 'project.assign'"))
    assert (before["owner"], entry["owner"]) == ("王芳", "李娜")
    assert desk_db.scalar("SELECT actor FROM audit_entry WHERE action = 'project.assign'") == "李娜"
    with desk_db.desk(as_="李娜") as desk, pytest.raises(InvalidValue, match="nothing to change"):
        edit_project(desk, p.code, owner="李娜")


def test_an_owner_with_open_projects_cannot_be_deactivated(desk_db):
    p = new_project(desk_db)
    with desk_db.desk(as_="李娜") as desk, pytest.raises(Conflict, match="projects not yet settled"):
        deactivate_staff(desk, "王芳")
    with desk_db.desk(as_="李娜") as desk:
        edit_project(desk, p.code, owner="李娜")
    with desk_db.desk(as_="李娜") as desk:
        assert deactivate_staff(desk, "王芳").active is False


def test_the_contract_cannot_change_under_a_plan(desk_db):
    p = new_project(desk_db)
    with desk_db.desk(as_="王芳") as desk:
        assert edit_project(desk, p.code, contract=Decimal("120000")).contract == Decimal("120000.00")
        make_plan(desk, p.code, "首款:50%:sign, 尾款:50%:accept")
    with desk_db.desk(as_="王芳") as desk, pytest.raises(InvalidTransition, match="payment plan"):
        edit_project(desk, p.code, contract=Decimal("130000"))


def test_shelve_resume_archive(desk_db):
    code = handed_over(desk_db)
    with desk_db.desk(as_="王芳") as desk, pytest.raises(PermissionDenied):
        shelve_project(desk, code, "业主出国")
    with desk_db.desk(as_="李娜") as desk:
        assert shelve_project(desk, code, "业主出国").stage == "shelved"
        with pytest.raises(InvalidTransition, match="not handed over yet|resume it"):
            add_adjustment(desk, code, "墙面裂纹")
        assert resume_project(desk, code).stage == "handed_over"  # back to what its dates say
        with pytest.raises(InvalidTransition, match="only a settled or shelved project"):
            archive_project(desk, code)
        shelve_project(desk, code, "业主资金问题")
        assert archive_project(desk, code).stage == "archived"
        with pytest.raises(InvalidTransition, match="archived"):
            edit_project(desk, code, name="新名字")


def test_a_project_is_settled_when_accepted_and_fully_paid(desk_db):
    p = new_project(desk_db, contract=Decimal("10000"))
    with desk_db.desk(as_="王芳") as desk:
        make_plan(desk, p.code, "首款:50%:sign, 尾款:50%:accept+30d")
        record_payment(desk, p.code, Decimal("10000"))  # paid in full up front
        handover_project(desk, p.code, at=NOW - timedelta(hours=2))
        info = accept_project(desk, p.code)
    assert info.stage == "settled"  # settles at acceptance, not before
    assert (info.paid, info.outstanding) == (Decimal("10000.00"), Decimal("0.00"))
    with desk_db.desk(as_="王芳") as desk:
        assert archive_project(desk, p.code).stage == "archived"


def test_list_projects_filters(desk_db):
    new_project(desk_db)
    code = handed_over(desk_db, owner="李娜", customer="C000002")
    with desk_db.desk(as_="王芳") as desk:
        rows, total = list_projects(desk, stage="handed_over")
        assert ([r.code for r in rows], total) == ([code], 1)
        rows, total = list_projects(desk, owner="王芳")
        assert [r.code for r in rows] == ["P000001"]
        rows, total = list_projects(desk, customer="13900001111")
        assert [r.code for r in rows] == [code]
        assert list_projects(desk, stage="已交付")[1] == 1
        with pytest.raises(InvalidValue, match="unknown stage"):
            list_projects(desk, stage="done")


def test_project_view_brings_everything_together(desk_db, monkeypatch):
    monkeypatch.setitem(hooks._listeners, "project_complaints", [lambda session, project_id: [{"id": 3, "summary": "墙面开裂"}]])
    code = handed_over(desk_db)
    with desk_db.desk(as_="王芳") as desk:
        make_plan(desk, code, "首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d")
        record_payment(desk, code, Decimal("30000"))
        add_adjustment(desk, code, "窗帘轨道松动")
        view = project_view(desk, code)
    assert view.project.code == code and view.project.owner == "王芳"
    assert [a.item for a in view.adjustments] == ["窗帘轨道松动"]
    assert [(i.name, i.status) for i in view.instalments] == [("首款", "paid"), ("二期款", "overdue"), ("尾款", "pending")]
    assert [p.amount for p in view.payments] == [Decimal("30000.00")]
    assert [d.step for d in view.next_steps] == ["reminder"]  # 二期款 fell due yesterday
    assert view.complaints == [{"id": 3, "summary": "墙面开裂"}]
    assert view.project.overdue == Decimal("40000.00")


def test_customer_show_has_projects_and_money_owed(desk_db):
    code = handed_over(desk_db)
    with desk_db.desk(as_="王芳") as desk:
        make_plan(desk, code, "首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d")
        record_payment(desk, code, Decimal("30000"))
        view = customer_view(desk, "C000001")
    sections = dict(view.sections)
    assert sections["projects"][0]["code"] == code
    assert sections["projects"][0]["outstanding"] == Decimal("70000.00")
    owed = sections["money_owed"]
    assert [(r["instalment"], r["outstanding"], r["days overdue"]) for r in owed] == [("二期款", Decimal("40000.00"), 1)]
    assert owed[0]["next step"] == "reminder"
