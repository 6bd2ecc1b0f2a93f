"""Phone numbers: every way an agent types a number finds the same stored (E.164) form."""

from __future__ import annotations

import pytest

from csdesk import phones
from csdesk.errors import InvalidValue


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "(138)12345678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "+86 (138) 1234-5678",
        "0086 138 1234 5678",
        "008613812345678",
        "  13812345678  ",
        "138.1234.5678",
        "(+86)138 1234 5678",
        "8613812345678",  # the country code without its +
    ],
)
def test_mobile_typed_any_common_way_is_one_number(typed):
    assert phones.normalize(typed) == "+8613812345678"


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("010-62345678", "+861062345678"),  # Beijing: 2-digit area code
        ("(010)62345678", "+861062345678"),
        ("010 6234 5678", "+861062345678"),
        ("+86 10 6234 5678", "+861062345678"),
        ("0086-10-62345678", "+861062345678"),
        ("021-6234 5678", "+862162345678"),  # Shanghai
        ("(021) 62345678", "+862162345678"),
        ("0571-88881234", "+8657188881234"),  # Hangzhou: 3-digit area code
        ("0571 8888 1234", "+8657188881234"),
        ("+86 0571 8888 1234", "+8657188881234"),  # +86 and the trunk 0 together
        ("0755-26543210", "+8675526543210"),  # Shenzhen
        ("400-800-8888", "+864008008888"),  # nationwide service number
    ],
)
def test_landlines_keep_their_area_code(typed, stored):
    assert phones.normalize(typed) == stored


def test_foreign_number_with_country_code_is_kept():
    assert phones.normalize("+1 650 253 0000") == "+16502530000"


@pytest.mark.parametrize(
    "typed, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "only digits"),
        ("138-1234-567x", "only digits"),
        ("138 1234 567", "a mobile number has 11 digits, this one has 10"),
        ("138123456789", "a mobile number has 11 digits, this one has 12"),
        ("62345678", "missing the area code"),
        ("123", "too short"),
        ("12345678901", "no such mobile prefix or area code"),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(typed, reason):
    with pytest.raises(InvalidValue) as err:
        phones.normalize(typed)
    assert reason in err.value.message
    if typed.strip():
        assert repr(typed) in err.value.message  # the message quotes what was typed


@pytest.mark.parametrize(
    "stored, shown",
    [
        ("+8613812345678", "138 1234 5678"),
        ("+861062345678", "010 62345678"),
        ("+862162345678", "021 62345678"),
        ("+8657188881234", "0571 88881234"),
        ("+864008008888", "400 800 8888"),
        ("+16502530000", "+16502530000"),
    ],
)
def test_display(stored, shown):
    assert phones.display(stored) == shown


@pytest.mark.parametrize(
    "stored, masked",
    [
        ("+8613812345678", "138****5678"),
        ("+861062345678", "010****5678"),
        ("+8657188881234", "0571****1234"),
    ],
)
def test_mask_keeps_prefix_and_last_four(stored, masked):
    assert phones.mask(stored) == masked


def test_display_round_trips_through_normalize():
    for stored in ("+8613812345678", "+861062345678", "+8657188881234", "+864008008888"):
        assert phones.normalize(phones.display(stored)) == stored
