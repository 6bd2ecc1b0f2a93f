"""Amounts of money: the one place that parses, converts and formats them.

Money is integer fen (分) in the database and `Decimal` yuan in Python — never float. What people type:

- `12000`, `12000.5`, `12,000.50` (thousands separators in groups of three), `¥12000`, `￥12,000`,
  `RMB 12000`, `12000元`, full-width digits (NFKC);
- `1.2万` (12,000), `3万5000` (35,000), `3万5` (35,000: a single digit after 万 is thousands, the way
  三万五 is said), `3万5千` (35,000), `8千` / `8k` (8,000).

Anything finer than a fen (`0.001`) is refused rather than rounded; so is a negative amount unless the
caller says it means one.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Sequence

from csdesk.errors import InvalidValue
from csdesk.i18n import N_, _

FEN = Decimal("0.01")
MAX_YUAN = Decimal("1000000000000")  # 1万亿: far above any contract, far below BigInteger
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
_PLAIN = re.compile(rf"^({_NUMBER})$")
_WAN = re.compile(rf"^({_NUMBER})万(?:(\d)千?|(\d{{4}}))?$")
_QIAN = re.compile(rf"^({_NUMBER})(?:千|k)$")
_HINT = N_("try 12000, 12,000.50, ¥12000 or 1.2万")


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def parse_amount(text: str | int | Decimal, *, allow_zero: bool = False, allow_negative: bool = False) -> Decimal:
    """An amount as a user types it, as Decimal yuan with two places; InvalidValue says why not."""
    if isinstance(text, bool):
        raise InvalidValue(_("{text} is not an amount").format(text=repr(text)))
    if isinstance(text, (int, Decimal)):
        raw = str(text)
        value = Decimal(text)
    else:
        raw = text
        value = _parse_text(text)
    if not value.is_finite():
        raise InvalidValue(_("{text} is not an amount ({hint})").format(text=repr(raw), hint=_(_HINT)))
    if value != value.quantize(FEN, rounding=ROUND_HALF_UP):
        raise InvalidValue(_("{text} has fractions of a fen (分); amounts are exact to 0.01").format(text=repr(raw)))
    if value < 0 and not allow_negative:
        raise InvalidValue(_("{text}: the amount cannot be negative").format(text=repr(raw)))
    if value == 0 and not allow_zero:
        raise InvalidValue(_("{text}: the amount must be more than zero").format(text=repr(raw)))
    if abs(value) > MAX_YUAN:
        raise InvalidValue(_("{text} is too large an amount").format(text=repr(raw)))
    return value.quantize(FEN)


def _parse_text(text: str) -> Decimal:
    raw = text
    s = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not s:
        raise InvalidValue(_("the amount is empty"))
    sign = 1
    if s.startswith("-"):
        sign, s = -1, s[1:].strip()
    for prefix in ("rmb", "cny", "¥", "￥"):
        if s.startswith(prefix):
            s = s[len(prefix):].strip()
    for suffix in ("元整", "元", "rmb", "cny"):
        if s.endswith(suffix):
            s = s[: -len(suffix)].strip()
    s = s.replace(" ", "")
    if s.startswith("-"):  # ¥-12
        sign, s = -sign, s[1:]
    try:
        if m := _PLAIN.match(s):
            return sign * _number(m.group(1))
        if m := _WAN.match(s):
            value = _number(m.group(1)) * 10000
            if (m.group(2) or m.group(3)) and "." in m.group(1):
                raise InvalidValue(_("{text} is not an amount (write 1.5万 or 1万5000, not both)").format(text=repr(raw)))
            if m.group(2):
                value += int(m.group(2)) * 1000
            elif m.group(3):
                value += int(m.group(3))
            return sign * value
        if m := _QIAN.match(s):
            return sign * _number(m.group(1)) * 1000
    except InvalidOperation:
        pass
    raise InvalidValue(_("{text} is not an amount ({hint})").format(text=repr(raw), hint=_(_HINT)))


def to_fen(amount: Decimal) -> int:
    """Decimal yuan → integer fen; refuses fractions of a fen rather than rounding them away."""
    fen = Decimal(amount) * 100
    if fen != fen.to_integral_value():
        raise InvalidValue(_("{text} has fractions of a fen (分); amounts are exact to 0.01").format(text=amount))
    return int(fen)


def from_fen(fen: int) -> Decimal:
    """Integer fen → Decimal yuan with two places (1234 → Decimal('12.34'))."""
    return Decimal(int(fen)).scaleb(-2)


def fmt_money(fen: int | Decimal, sign: bool = False) -> str:
    """How an amount is shown on screen: `¥12,000.00`, `-¥50.00` (an int is fen, a Decimal is yuan)."""
    if isinstance(fen, Decimal):
        fen = to_fen(fen)
    fen = int(fen)
    prefix = "-" if fen < 0 else ("+" if sign and fen > 0 else "")
    return f"{prefix}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def plain(fen: int) -> str:
    """An amount for machines and CSV: `12000.00` (no symbol, no separators)."""
    return str(from_fen(fen))


def round_fen(value: Decimal) -> int:
    """A computed share in fen (possibly fractional) rounded half up to a whole fen."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_exact(total_fen: int, parts: int | Sequence[Decimal | int]) -> list[int]:
    """Split `total_fen` into parts that add up to it exactly.

    `parts` is a count (equal parts) or a list of positive weights (percentages, ratios). Every part but
    the last is its share rounded half up to a whole fen; the last takes the rounding remainder. (If tiny
    weights would push the last part below zero, the earlier parts are rounded down instead, so no part
    is ever negative.)
    """
    total_fen = int(total_fen)
    if total_fen < 0:
        raise InvalidValue(_("cannot split a negative amount"))
    if isinstance(parts, int):
        if parts < 1:
            raise InvalidValue(_("split into at least one part"))
        weights = [Decimal(1)] * parts
    else:
        weights = [Decimal(w) for w in parts]
        if not weights:
            raise InvalidValue(_("split into at least one part"))
        if any(w <= 0 for w in weights):
            raise InvalidValue(_("every share of a split must be more than zero"))
    whole = sum(weights)
    shares = [Decimal(total_fen) * w / whole for w in weights[:-1]]
    out = [round_fen(s) for s in shares]
    if sum(out) > total_fen:
        out = [int(s) for s in shares]  # round down: the last part then can only grow
    out.append(total_fen - sum(out))
    return out
