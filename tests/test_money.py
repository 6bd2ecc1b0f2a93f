"""money.py: what people type for amounts, fen conversion, formatting and exact splitting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdesk.errors import InvalidValue
from csdesk.money import fmt_money, from_fen, parse_amount, plain, split_exact, to_fen


@pytest.mark.parametrize(
    "typed, yuan",
    [
        ("12000", "12000.00"),
        ("12,000.50", "12000.50"),
        ("¥12000", "12000.00"),
        ("￥12,000", "12000.00"),
        ("RMB 12000", "12000.00"),
        ("12000元", "12000.00"),
        ("１２０００", "12000.00"),  # full-width digits
        ("1.2万", "12000.00"),
        ("28.6万", "286000.00"),
        ("1.2345万", "12345.00"),
        ("3万5", "35000.00"),  # 三万五: one digit after 万 is thousands
        ("3万5千", "35000.00"),
        ("3万0500", "30500.00"),
        ("8千", "8000.00"),
        ("8k", "8000.00"),
        ("0.5", "0.50"),
        (" 1,234,567.89 ", "1234567.89"),
    ],
)
def test_amounts_as_people_type_them(typed, yuan):
    assert parse_amount(typed) == Decimal(yuan)


@pytest.mark.parametrize(
    "typed, why",
    [
        ("12.345", "fractions of a fen"),
        ("-100", "cannot be negative"),
        ("0", "more than zero"),
        ("abc", "not an amount"),
        ("1,2,3", "not an amount"),
        ("12,00", "not an amount"),
        ("3万50", "not an amount"),
        ("1.5万5", "not both"),
        ("1e5", "not an amount"),
        ("", "empty"),
        ("99999999999999", "too large"),
    ],
)
def test_amounts_refused_with_the_reason(typed, why):
    with pytest.raises(InvalidValue) as err:
        parse_amount(typed)
    assert why in err.value.message


def test_negative_and_zero_only_where_the_caller_allows_them():
    assert parse_amount("-¥12.50", allow_negative=True) == Decimal("-12.50")
    assert parse_amount("0", allow_zero=True) == Decimal("0.00")


def test_fen_conversion_and_display():
    assert to_fen(Decimal("12000.50")) == 1200050
    assert from_fen(1200050) == Decimal("12000.50")
    assert str(from_fen(5)) == "0.05"
    assert fmt_money(1200050) == "¥12,000.50"
    assert fmt_money(-5) == "-¥0.05"
    assert fmt_money(Decimal("1.2")) == "¥1.20"
    assert fmt_money(0) == "¥0.00"
    assert plain(123456789) == "1234567.89"
    with pytest.raises(InvalidValue):
        to_fen(Decimal("0.001"))


def test_split_gives_the_rounding_remainder_to_the_last_part():
    assert split_exact(10000, 3) == [3333, 3333, 3334]
    # 30% / 40% / 30% of ¥1,000.01: 300.003 → 300.00, 400.004 → 400.00, the last takes 300.01
    assert split_exact(100001, [Decimal(30), Decimal(40), Decimal(30)]) == [30000, 40000, 30001]
    # half a fen rounds up: 50% of ¥0.03 → 0.02, last 0.01
    assert split_exact(3, [50, 50]) == [2, 1]
    # tiny last weight: earlier parts round down so that nothing goes below zero
    assert split_exact(1, [1, 1, Decimal("0.0001")]) == [0, 0, 1]
    with pytest.raises(InvalidValue):
        split_exact(100, [50, 0])


@given(
    total=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2), min_size=1, max_size=8),
)
def test_split_always_adds_up_and_never_goes_negative(total, weights):
    parts = split_exact(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    assert all(p >= 0 for p in parts)


@given(fen=st.integers(min_value=1, max_value=10**13))
def test_what_is_shown_reads_back_as_the_same_amount(fen):
    assert to_fen(parse_amount(fmt_money(fen))) == fen
    assert to_fen(parse_amount(plain(fen))) == fen
