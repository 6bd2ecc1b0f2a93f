"""Phone numbers: the one place that parses, normalises, formats and masks them.

Numbers are stored in E.164 (`+8613812345678`, `+861062345678`) so that any way of typing the same
number — `138 1234 5678`, `+86-138-1234-5678`, `010-6234 5678`, `(010)62345678` — finds the same row.
A number without a country code is read as Chinese.
"""

from __future__ import annotations

import re

from csdesk.errors import InvalidValue
from csdesk.i18n import _

DEFAULT_REGION = "CN"
_JUNK = re.compile(r"[\s\-().·/]")


def normalize(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the E.164 form of `raw`, or raise InvalidValue saying why it is not a phone number."""
    import phonenumbers
    from phonenumbers import ValidationResult

    text = (raw or "").strip()
    if not text:
        raise InvalidValue(_("phone number is empty"))
    compact = _JUNK.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?\d+", compact):
        raise InvalidValue(_("{raw!r} is not a phone number (only digits, spaces, dashes, brackets and a leading + are allowed)").format(raw=raw))
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException as exc:
        why = {
            exc.INVALID_COUNTRY_CODE: _("unknown country code"), exc.NOT_A_NUMBER: _("not a number"),
            exc.TOO_SHORT_AFTER_IDD: _("too short"), exc.TOO_SHORT_NSN: _("too short"), exc.TOO_LONG: _("too long"),
        }.get(exc.error_type, exc._msg)
        raise InvalidValue(_("{raw!r} is not a phone number ({why})").format(raw=raw, why=why)) from None
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        why = {
            ValidationResult.TOO_SHORT: _("too short"),
            ValidationResult.TOO_LONG: _("too long"),
            ValidationResult.INVALID_COUNTRY_CODE: _("unknown country code"),
            ValidationResult.INVALID_LENGTH: _("wrong length"),
            ValidationResult.IS_POSSIBLE_LOCAL_ONLY: _("missing the area code"),
        }.get(reason, _("no such mobile prefix or area code"))
        if number.country_code == 86:
            # phonenumbers calls most wrong lengths "possible"; say what a person got wrong.
            national = str(number.national_number)
            if national[:2] in ("13", "14", "15", "16", "17", "18", "19") and len(national) != 11:
                why = _("a mobile number has 11 digits, this one has {count}").format(count=len(national))
            elif not compact.startswith(("+", "0")) and national[0] in "2345678" and len(national) <= 8:
                why = _("missing the area code, e.g. 010-62345678")
        raise InvalidValue(_("{raw!r} is not a valid phone number ({why})").format(raw=raw, why=why))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """How a stored number is shown: national format for Chinese numbers (`138 1234 5678`, `010 6234 5678`)."""
    if e164.startswith("+86"):
        rest = e164[3:]
        if len(rest) == 11 and rest.startswith("1"):
            return f"{rest[:3]} {rest[3:7]} {rest[7:]}"
        if len(rest) == 10 and rest[:3] in ("400", "800"):  # nationwide service numbers: no leading 0
            return f"{rest[:3]} {rest[3:6]} {rest[6:]}"
        # Landline: area codes 10 and 2x are two digits, the rest three.
        area = 2 if rest[:2] == "10" or rest[0] == "2" else 3
        return f"0{rest[:area]} {rest[area:]}"
    return e164


def mask(e164: str) -> str:
    """Masked for exports: `138****5678`; keeps the prefix and the last four digits."""
    parts = display(e164).split(" ")
    # Keep a landline's whole area code (0571****1234), a mobile's first three digits.
    keep = len(parts[0]) if len(parts) == 2 and parts[0].startswith("0") else 3
    shown = "".join(parts)
    if len(shown) <= 7:
        return shown[:2] + "*" * (len(shown) - 2)
    keep = min(keep, len(shown) - 4 - 1)
    return shown[:keep] + "*" * (len(shown) - keep - 4) + shown[-4:]


# A phone number typed into free text ("请回电 138 1234 5678", "+86-10-6234-5678"): a mobile with or
# without separators, or a landline with its area code; never digits glued to more digits.
_IN_TEXT = re.compile(
    r"(?<![\d*])(?:(?:\+|00)86[\s-]?)?(?:1[3-9]\d(?:[\s-]?\d{4}){2}|0\d{2,3}[\s-]?\d{3,4}[\s-]?\d{4}|\(0\d{2,3}\)\s?\d{7,8})(?![\d*])"
)


def mask_in_text(text: str) -> str:
    """Free text (summaries, notes, notices) with every phone number in it masked as `mask` does; what
    looks like a number but does not parse is masked too (keep three digits and the last four)."""
    if not text or not _IN_TEXT.search(text):
        return text

    def masked(m: re.Match) -> str:
        try:
            return mask(normalize(m.group()))
        except InvalidValue:
            digits = re.sub(r"\D", "", m.group())
            return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]

    return _IN_TEXT.sub(masked, text)
