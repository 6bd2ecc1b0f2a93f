"""Payment plans, payments and reversals, the dunning ladder and aging, through the workflows.

The clock is NOW = Tue 2026-11-24 10:00 Asia/Shanghai; amounts are worked out by hand in the comments.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdesk.errors import Conflict, InvalidTransition, InvalidValue, NotFound, PermissionDenied
from csdesk.money import parse_amount
from csdesk.workflows.customers import add_customer
from csdesk.workflows.payments import (
    aging, chase, due_collection_steps, instalments_due_within, list_instalments, make_plan, overdue_instalments,
    parse_split, plan_amounts, plan_view, record_payment, reverse_payment,
)
from csdesk.workflows.projects import accept_project, add_project, handover_project, project_info, project_view, shelve_project

from conftest import NOW

TZ = ZoneInfo("Asia/Shanghai")
D = Decimal
TYPICAL = "首款:30%:sign, 二期款:40%:handover, 尾款:30%:accept+30d"


def sh(y, mo, d, h=10, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


@pytest.fixture
def money_db(team):
    with team.desk(as_="王芳") as desk:
        add_customer(desk, "张伟", ["13812345678"])
        add_customer(desk, "李梅", ["13900001111"])
    return team


def project(db, contract="100000", plan=TYPICAL, signed=date(2026, 6, 1), customer="C000001", owner=None, now=None) -> str:
    with db.desk(as_="王芳", now=now) as desk:
        code = add_project(desk, "望京SOHO 12层精装", customer, D(contract), owner=owner, signed=signed).code
        if plan:
            make_plan(desk, code, plan)
    return code


def pay(db, code, amount, instalment=None, at=None, as_="王芳", **kw):
    with db.desk(as_=as_) as desk:
        value = parse_amount(amount) if isinstance(amount, str) else D(amount)
        return record_payment(desk, code, value, instalment, at, **kw)


def instalments(db, code):
    with db.desk(as_="王芳") as desk:
        return [(i.name, i.amount, i.paid, i.due_on, i.status) for i in plan_view(desk, code).instalments]


# --- plans -------------------------------------------------------------------------------------


def test_the_typical_split_parses_and_adds_up_to_the_fen():
    parts = parse_split(TYPICAL, TZ)
    assert [(p.name, p.percent, p.due_event, p.due_after) for p in parts] == [
        ("首款", D(30), "sign", None), ("二期款", D(40), "handover", None), ("尾款", D(30), "accept", "30d")]
    # ¥100,000.01: 30% = 30,000.003 → 30,000.00; 40% = 40,000.004 → 40,000.00; the last takes 30,000.01
    assert plan_amounts(10000001, parts) == [3000000, 4000000, 3000001]
    # ¥999.99: 30% = 299.997 → 300.00; 40% = 399.996 → 400.00; last 299.99
    assert plan_amounts(99999, parts) == [30000, 40000, 29999]


def test_exact_sums_mixed_with_percentages_and_thousands_separators():
    parts = parse_split("定金:20,000:sign; 进度款:50%:handover+2w， 尾款：30%：2027-03-31", TZ)
    assert [(p.name, p.amount, p.percent, p.rule) for p in parts] == [
        ("定金", D("20000.00"), None, "sign"), ("进度款", None, D(50), "handover+2w"), ("尾款", None, D(30), "2027-03-31")]
    assert plan_amounts(10000000, parts) == [2000000, 5000000, 3000000]
    exact = parse_split("首款:12,000.50:sign, 尾款:7,999.50:accept", TZ)
    assert plan_amounts(2000000, exact) == [1200050, 799950]


@pytest.mark.parametrize(
    "split, contract_fen, text",
    [
        ("首款:30%:sign, 尾款:60%:accept", 10000000, "the plan adds up to ¥90,000.00 (90% + ¥0.00 fixed) but the contract is ¥100,000.00 (¥10,000.00 short)"),
        ("首款:30000:sign, 尾款:69000:accept", 10000000, "adds up to ¥99,000.00 but the contract is ¥100,000.00 (¥1,000.00 short)"),
        ("首款:30000:sign, 尾款:70000.01:accept", 10000000, "(¥0.01 too much)"),
        ("首款:30%:sign, 首款:70%:accept", 10000000, "two instalments are named"),
        ("首款:30%", 10000000, "NAME:AMOUNT:WHEN"),
        ("首款:130%:sign", 10000000, "at most 100"),
        ("首款:100%:someday", 10000000, "not a due rule"),
        ("首款:100%:accept+3x", 10000000, "not a span"),
        ("a:99.99%:sign, b:0.01%:sign", 100, "every instalment must be more than zero"),
        ("", 10000000, "an empty plan"),
    ],
)
def test_plans_that_do_not_add_up_are_refused(split, contract_fen, text):
    with pytest.raises(InvalidValue) as err:
        plan_amounts(contract_fen, parse_split(split, TZ))
    assert text in err.value.message


def test_due_dates_are_known_once_their_event_has_happened(money_db):
    code = project(money_db, plan="首款:30%:sign+3d, 二期款:40%:handover, 尾款:30%:accept+30d")
    assert [(n, d) for n, _, _, d, _ in instalments(money_db, code)] == [
        ("首款", date(2026, 6, 4)), ("二期款", None), ("尾款", None)]
    with money_db.desk(as_="王芳") as desk:
        # 00:30 local on 11-10 is 11-09 in UTC: due dates are local calendar dates
        handover_project(desk, code, at=sh(2026, 11, 10, 0, 30))
        accept_project(desk, code, at=sh(2026, 11, 20, 15))
    assert [(n, d, s) for n, _, _, d, s in instalments(money_db, code)] == [
        ("首款", date(2026, 6, 4), "overdue"), ("二期款", date(2026, 11, 10), "overdue"), ("尾款", date(2026, 12, 20), "not_due")]


def test_a_plan_can_be_replaced_only_while_nothing_is_paid(money_db):
    code = project(money_db)
    with money_db.desk(as_="王芳") as desk, pytest.raises(Conflict, match="already has a payment plan of 3 instalments"):
        make_plan(desk, code, "全款:100%:sign")
    with money_db.desk(as_="王芳") as desk:
        view = make_plan(desk, code, "全款:100%:sign", replace=True)
    assert [(i.name, i.amount) for i in view.instalments] == [("全款", D("100000.00"))]
    pay(money_db, code, "100")
    before = money_db.dump()
    with money_db.desk(as_="王芳") as desk, pytest.raises(InvalidTransition, match="cannot be replaced"):
        make_plan(desk, code, TYPICAL, replace=True)
    assert money_db.dump() == before


# --- payments ----------------------------------------------------------------------------------


def test_without_an_instalment_money_goes_to_the_oldest_unpaid_first(money_db):
    code = project(money_db)  # 30,000 / 40,000 / 30,000
    p = pay(money_db, code, "45000", method="现金", ref="收据001")
    assert [(a.instalment, a.amount) for a in p.allocations] == [("首款", D("30000.00")), ("二期款", D("15000.00"))]
    assert (p.method, p.ref, p.credit) == ("cash", "收据001", D("0.00"))
    assert [(n, paid) for n, _, paid, _, _ in instalments(money_db, code)] == [
        ("首款", D("30000.00")), ("二期款", D("15000.00")), ("尾款", D("0.00"))]
    p = pay(money_db, code, "1.5万")
    assert [(a.instalment, a.amount) for a in p.allocations] == [("二期款", D("15000.00"))]
    assert money_db.scalar("SELECT paid_on FROM instalment WHERE name = '首款'") == "2026-11-24"


def test_a_named_instalment_and_the_overpayment_rule(money_db):
    code = project(money_db)
    p = pay(money_db, code, "10000", "尾款")
    assert [(a.instalment, a.amount) for a in p.allocations] == [("尾款", D("10000.00"))]
    before = money_db.dump()
    with pytest.raises(InvalidValue) as err:
        pay(money_db, code, "20000.01", "尾款")
    assert err.value.message == "¥20,000.01 is more than the ¥20,000.00 still owed on 尾款"
    assert "--allow-overpay" in err.value.hint
    with pytest.raises(InvalidValue, match="still owed on P000001"):
        pay(money_db, code, "90000.01")
    assert money_db.dump() == before
    p = pay(money_db, code, "20500", "3", allow_overpay=True)  # by number works too
    assert [(a.instalment, a.amount) for a in p.allocations] == [("尾款", D("20000.00"))]
    assert p.credit == D("500.00")
    with money_db.desk(as_="王芳") as desk:
        info = project_info(desk.session, desk.session.get(__import__("csdesk.models").models.Project, 1), TZ, NOW.date())
    assert (info.paid, info.outstanding, info.credit) == (D("30000.00"), D("70000.00"), D("500.00"))


@pytest.mark.parametrize(
    "args, error, text",
    [
        (("P000001", "0"), InvalidValue, "more than zero"),
        (("P000001", "100", "五期款"), NotFound, "has no instalment '五期款' (its instalments: 首款, 二期款, 尾款)"),
        (("P000009", "100"), NotFound, "no project with code P000009"),
    ],
)
def test_bad_payments_are_refused(money_db, args, error, text):
    project(money_db)
    before = money_db.dump()
    with pytest.raises(error) as err:
        pay(money_db, *args)
    assert text in err.value.message
    assert money_db.dump() == before


def test_no_plan_no_future_no_bad_method(money_db):
    bare = project(money_db, plan=None)
    with pytest.raises(InvalidTransition, match="has no payment plan yet"):
        pay(money_db, bare, "100")
    code = project(money_db)
    with pytest.raises(InvalidValue, match="future"):
        pay(money_db, code, "100", at=NOW + timedelta(days=1))
    with pytest.raises(InvalidValue, match="unknown payment method"):
        pay(money_db, code, "100", method="bitcoin")


def test_a_reversal_corrects_a_payment_and_reopens_a_settled_project(money_db):
    code = project(money_db, contract="10000", plan="首款:50%:sign, 尾款:50%:accept")
    with money_db.desk(as_="王芳") as desk:
        handover_project(desk, code, at=NOW - timedelta(days=2))
        accept_project(desk, code, at=NOW - timedelta(days=1))
    pay(money_db, code, "5000")
    last = pay(money_db, code, "5000")
    assert last.project_stage == "settled"
    with money_db.desk(as_="王芳") as desk, pytest.raises(PermissionDenied, match="supervisor or above"):
        reverse_payment(desk, last.id, "录错")
    with money_db.desk(as_="李娜") as desk, pytest.raises(InvalidValue, match="--reason"):
        reverse_payment(desk, last.id, "")
    with money_db.desk(as_="李娜") as desk:
        rev = reverse_payment(desk, last.id, "银行退票")
    assert (rev.kind, rev.amount, rev.reverses_id, rev.note, rev.project_stage) == ("reversal", D("-5000.00"), last.id, "银行退票", "accepted")
    assert [(a.instalment, a.amount) for a in rev.allocations] == [("尾款", D("-5000.00"))]
    assert [(n, paid, s) for n, _, paid, _, s in instalments(money_db, code)] == [
        ("首款", D("5000.00"), "paid"), ("尾款", D("0.00"), "overdue")]
    assert money_db.scalar("SELECT count(*) FROM payment") == 3  # nothing deleted
    with money_db.desk(as_="李娜") as desk:
        with pytest.raises(InvalidTransition, match="already reversed by"):
            reverse_payment(desk, last.id, "again")
        with pytest.raises(InvalidTransition, match="itself a reversal"):
            reverse_payment(desk, rev.id, "again")
        with pytest.raises(NotFound):
            reverse_payment(desk, 99, "x")
    assert pay(money_db, code, "5000").project_stage == "settled"


# --- property: money always adds up --------------------------------------------------------------


@st.composite
def plans(draw):
    contract = draw(st.integers(min_value=10_000, max_value=10**10))
    n = draw(st.integers(min_value=1, max_value=5))
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=9_999), min_size=n - 1, max_size=n - 1)))
    if draw(st.booleans()):
        bounds = [0, *cuts, 10_000]  # percentages to 0.01 %, adding up to 100 %
        parts = [f"p{i}:{D(b - a) / 100}%:sign" for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]
    else:
        fen_cuts = sorted({max(1, min(contract - 1, contract * c // 10_000)) for c in cuts})
        bounds = [0, *fen_cuts, contract]
        parts = [f"p{i}:{D(b - a) / 100}:sign" for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]
    return contract, ", ".join(parts), len(bounds) - 1


operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(min_value=1, max_value=10**10), st.one_of(st.none(), st.integers(0, 4)), st.booleans()),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=20)),
    ),
    max_size=10,
)


def check_books(desk, code, contract_fen) -> tuple:
    """The invariants, checked inside the example's transaction; returns the books' state."""
    from sqlalchemy import text

    from csdesk.workflows.projects import find_project

    def q(sql, **params):
        return desk.session.execute(text(sql), params).scalar()

    desk.session.flush()
    pid = q("SELECT id FROM project WHERE code = :c", c=code)
    assert q("SELECT sum(amount_fen) FROM instalment WHERE project_id = :p", p=pid) == contract_fen
    assert q("SELECT count(*) FROM instalment WHERE project_id = :p AND (paid_fen < 0 OR paid_fen > amount_fen)", p=pid) == 0
    # paid_fen is exactly the sum of the allocations, instalment by instalment
    assert q("""SELECT count(*) FROM instalment i WHERE project_id = :p AND paid_fen !=
                (SELECT coalesce(sum(amount_fen), 0) FROM payment_allocation a WHERE a.instalment_id = i.id)""", p=pid) == 0
    received = q("SELECT coalesce(sum(amount_fen), 0) FROM payment WHERE project_id = :p", p=pid)
    allocated = q("SELECT coalesce(sum(a.amount_fen), 0) FROM payment_allocation a JOIN payment p ON p.id = a.payment_id WHERE p.project_id = :p", p=pid)
    assert received - allocated >= 0  # what is not allocated is a credit, never a debt
    info = project_info(desk.session, find_project(desk.session, code), TZ, NOW.date())
    insts = plan_view(desk, code).instalments
    assert info.paid + info.outstanding == info.contract == D(contract_fen) / 100
    assert sum(i.paid for i in insts) + sum(i.outstanding for i in insts) == info.contract
    assert all(i.outstanding >= 0 and i.paid >= 0 for i in insts)
    assert info.stage == ("settled" if all(i.outstanding == 0 for i in insts) else "accepted")
    return received, allocated, q("SELECT count(*) FROM payment"), tuple(i.paid for i in insts)


@pytest.fixture
def quiet_hooks(monkeypatch):
    """The visit rules the project events trigger cost time and are not what the property is about."""
    from csdesk.workflows import hooks

    hooks._load()
    for event in ("project_handed_over", "project_accepted"):
        monkeypatch.setitem(hooks._listeners, event, [])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=plans(), ops=operations)
def test_any_plan_and_any_payments_and_reversals_keep_the_books_straight(money_db, quiet_hooks, plan, ops):
    contract_fen, split, n = plan
    # One transaction per example (a supervisor, who may pay and reverse), each operation in a savepoint.
    with money_db.desk(as_="李娜") as desk:
        code = add_project(desk, "property", "C000001", D(contract_fen) / 100, signed=date(2026, 1, 5)).code
        make_plan(desk, code, split)
        handover_project(desk, code, at=NOW - timedelta(days=3))
        accept_project(desk, code, at=NOW - timedelta(days=2))
        payments: list[int] = []
        books = check_books(desk, code, contract_fen)
        for op in ops:
            try:
                with desk.session.begin_nested():
                    if op[0] == "pay":
                        _, fen, which, overpay = op
                        name = None if which is None else f"p{which % n}"
                        payments.append(record_payment(desk, code, D(fen) / 100, name, allow_overpay=overpay).id)
                    elif payments:
                        reverse_payment(desk, payments[op[1] % len(payments)], "correction")
            except (InvalidValue, InvalidTransition):
                assert check_books(desk, code, contract_fen) == books  # a refusal changes nothing
            books = check_books(desk, code, contract_fen)
        desk.session.rollback()


# --- collection (催收) ----------------------------------------------------------------------------


def overdue_project(db, due: date, contract="10000", customer="C000001", owner=None) -> str:
    return project(db, contract=contract, plan=f"尾款:100%:{due.isoformat()}", customer=customer, owner=owner)


def steps_due(db, now=NOW, config: str | None = None):
    if config is not None:
        with open(os.environ["CSDESK_CONFIG"], "w", encoding="utf-8") as f:
            f.write(config)
    with db.desk(as_="王芳") as desk:
        return [(d.project_code, d.step, d.step_due_on, d.days_overdue) for d in due_collection_steps(desk, now)]


def test_the_ladder_says_which_step_is_due_for_which_instalment(money_db):
    code = overdue_project(money_db, date(2026, 11, 1))  # 23 days overdue on 11-24
    # reminder on the due date, call at +7 (11-08), notice at +15 (11-16), lawyer at +30 (12-01)
    assert steps_due(money_db) == [
        (code, "reminder", date(2026, 11, 1), 23), (code, "call", date(2026, 11, 8), 23), (code, "notice", date(2026, 11, 16), 23)]
    with money_db.desk(as_="王芳") as desk:
        chase(desk, code, "reminder", at=sh(2026, 11, 1, 11))
        taken = chase(desk, code, "call", "客户说月底付")
    assert [(s.instalment, s.step, s.step_label, s.by) for s in taken] == [("尾款", "call", "call", "王芳")]
    # the reminder and the call are recorded: the notice is still due
    assert steps_due(money_db) == [(code, "notice", date(2026, 11, 16), 23)]
    assert steps_due(money_db, sh(2026, 11, 30, 23, 59)) == [(code, "notice", date(2026, 11, 16), 29)]
    assert steps_due(money_db, sh(2026, 12, 1, 0, 1)) == [(code, "notice", date(2026, 11, 16), 30), (code, "lawyer", date(2026, 12, 1), 30)]
    pay(money_db, code, "10000")
    assert steps_due(money_db, sh(2026, 12, 1)) == []  # paid: nothing to chase


def test_nothing_is_due_before_the_due_date_and_shelved_projects_pause(money_db):
    code = overdue_project(money_db, date(2026, 11, 25))
    assert steps_due(money_db) == []
    assert steps_due(money_db, sh(2026, 11, 25, 8)) == [(code, "reminder", date(2026, 11, 25), 0)]
    with money_db.desk(as_="李娜") as desk:
        shelve_project(desk, code, "业主出国")
    assert steps_due(money_db, sh(2026, 11, 25, 8)) == []
    with money_db.desk(as_="李娜") as desk, pytest.raises(InvalidTransition, match="dunning is paused"):
        chase(desk, code, "reminder")


def test_the_ladder_comes_from_config(money_db):
    code = overdue_project(money_db, date(2026, 11, 1))
    config = "[collection.ladder]\nreminder = -1\ncall = 3\nnotice = 10\nlawyer = 20\n"
    assert steps_due(money_db, config=config) == [
        (code, "call", date(2026, 11, 4), 23), (code, "notice", date(2026, 11, 11), 23), (code, "lawyer", date(2026, 11, 21), 23)]


def test_who_may_take_which_step(money_db):
    code = overdue_project(money_db, date(2026, 10, 1))
    with money_db.desk(as_="王芳") as desk, pytest.raises(PermissionDenied) as err:
        chase(desk, code, "notice")
    assert err.value.message == "a notice step needs a supervisor or above; 王芳 is a specialist"
    with money_db.desk(as_="李娜") as desk, pytest.raises(PermissionDenied, match="a lawyer step needs a manager or above"):
        chase(desk, code, "律师函")
    with money_db.desk(as_="王芳") as desk:
        chase(desk, code, "reminder", at=sh(2026, 10, 1, 11))
        chase(desk, code, "call", at=sh(2026, 10, 8, 11))
    with money_db.desk(as_="李娜") as desk:
        assert chase(desk, code, "notice", "EMS 寄出")[0].step == "notice"
    # a lawyer's letter an hour before the notice would come before it: refused, unless a manager skips
    with money_db.desk(as_="张强") as desk, pytest.raises(InvalidTransition, match="has had no notice"):
        chase(desk, code, "lawyer", at=NOW - timedelta(hours=1))
    with money_db.desk(as_="张强") as desk:
        step = chase(desk, code, "lawyer", at=NOW - timedelta(hours=1), skip=True, reason="客户失联，直接发律师函")[0]
    assert (step.step, step.by, step.at, step.skipped) == ("lawyer", "张强", NOW - timedelta(hours=1), ["notice"])
    with money_db.desk(as_="王芳") as desk:
        history = project_view(desk, code).dunning
    # in the order they happened: the lawyer's letter was back-dated to an hour ago
    assert [(h.step, h.by, h.note) for h in history] == [
        ("reminder", "王芳", None), ("call", "王芳", None), ("lawyer", "张强", None), ("notice", "李娜", "EMS 寄出")]


def test_chase_needs_something_due(money_db):
    code = overdue_project(money_db, date(2026, 12, 20))
    with money_db.desk(as_="王芳") as desk:
        with pytest.raises(InvalidTransition, match="nothing is due and unpaid"):
            chase(desk, code, "reminder")
        with pytest.raises(InvalidTransition, match="not due yet"):
            chase(desk, code, "reminder", instalment="尾款")
        with pytest.raises(InvalidValue, match="unknown dunning step"):
            chase(desk, code, "sms")


def test_due_within_and_overdue_lists(money_db):
    late = overdue_project(money_db, date(2026, 11, 23))
    today_ = overdue_project(money_db, date(2026, 11, 24))
    soon = overdue_project(money_db, date(2026, 12, 24))
    later = overdue_project(money_db, date(2026, 12, 25))
    with money_db.desk(as_="王芳") as desk:
        assert [i.project_code for i in overdue_instalments(desk, NOW)] == [late]
        assert [i.project_code for i in instalments_due_within(desk, NOW, 30)] == [today_, soon]
        assert [i.project_code for i in instalments_due_within(desk, NOW + timedelta(days=1), 30)] == [soon, later]
        rows, total = list_instalments(desk, overdue=True)
        assert ([(r.project_code, r.status, r.days_overdue) for r in rows], total) == ([(late, "overdue", 1)], 1)
        rows, total = list_instalments(desk, due_within=30)
        assert [(r.project_code, r.status) for r in rows] == [(today_, "due"), (soon, "not_due")]
        assert list_instalments(desk)[1] == 4


# --- aging -------------------------------------------------------------------------------------


AGING_PLAN = ("a:100:2026-11-24, b:200:2026-11-23, c:300:2026-10-25, d:400:2026-10-24, "
              "e:500:2026-08-26, f:600:2026-08-25, g:700:accept")


def test_aging_buckets_by_days_overdue(money_db):
    # as of 11-24: a due today → not due; b 1 day and c 30 days → 0–30; d 31 days → 31–60;
    # e 90 days → 61–90; f 91 days → 90+; g has no due date yet → not due
    code = project(money_db, contract="2800", plan=AGING_PLAN)
    pay(money_db, code, "150", "c")
    with money_db.desk(as_="王芳") as desk:
        report = aging(desk)
    t = report.total
    assert report.as_of == date(2026, 11, 24) and report.rows == []
    assert (t.not_due, t.days_0_30, t.days_31_60, t.days_61_90, t.days_90_plus) == (D(800), D(350), D(400), D(500), D(600))
    assert (t.overdue, t.outstanding) == (D(1850), D(2650))


def test_aging_as_of_an_earlier_day_counts_only_what_was_received_by_then(money_db):
    code = project(money_db, contract="2800", plan=AGING_PLAN, now=sh(2026, 8, 1))
    pay(money_db, code, "300", "c", at=sh(2026, 11, 20, 9))
    later = pay(money_db, code, "100", "a", at=sh(2026, 11, 21))
    with money_db.desk(as_="李娜") as desk:
        reverse_payment(desk, later.id, "退票", at=sh(2026, 11, 23))
    with money_db.desk(as_="王芳") as desk:
        # as of 11-19: c is unpaid (paid on the 20th); c is 25 days overdue then, d 26, e 85, f 86
        early = aging(desk, date(2026, 11, 19)).total
        # as of 11-21: c paid; a paid (reversed only on the 23rd); b (due 11-23) not due yet; d 28 days
        mid = aging(desk, date(2026, 11, 21)).total
        # the plan was typed in on 08-01, but the project was signed on 06-01: on 07-31 all of it was owed, none due
        before_plan = aging(desk, date(2026, 7, 31)).total
        before_signing = aging(desk, date(2026, 5, 31)).total
    assert (early.not_due, early.days_0_30, early.days_31_60, early.days_61_90, early.days_90_plus) == (D(1000), D(700), D(0), D(1100), D(0))
    assert (mid.not_due, mid.days_0_30, mid.days_61_90, mid.outstanding) == (D(900), D(400), D(1100), D(2400))
    assert (before_plan.not_due, before_plan.outstanding) == (D(2800), D(2800))
    assert before_signing.outstanding == D(0)


def test_aging_by_customer_project_and_owner(money_db):
    a = overdue_project(money_db, date(2026, 11, 14), contract="1000")  # 10 days
    b = overdue_project(money_db, date(2026, 9, 1), contract="3000", customer="C000002", owner="李娜")  # 84 days
    c = overdue_project(money_db, date(2026, 12, 1), contract="500", customer="C000002", owner="李娜")  # not due
    with money_db.desk(as_="王芳") as desk:
        by_customer = aging(desk, by="customer")
        by_project = aging(desk, by="project")
        by_owner = aging(desk, by="owner", limit=1)
        with pytest.raises(InvalidValue, match="unknown grouping"):
            aging(desk, by="city")
    assert [(r.key, r.label, r.days_0_30, r.days_61_90, r.not_due, r.outstanding) for r in by_customer.rows] == [
        ("C000002", "李梅", D(0), D(3000), D(500), D(3500)), ("C000001", "张伟", D(1000), D(0), D(0), D(1000))]
    assert [r.key for r in by_project.rows] == [b, a, c]  # largest overdue first
    assert [(r.key, r.overdue) for r in by_owner.rows] == [("李娜", D(3000))]
    assert (by_owner.groups, by_owner.total.outstanding) == (2, D(4500))
