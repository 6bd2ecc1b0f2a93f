"""Number formats and fixed words shared by the renderers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from csdesk.i18n import N_
from csdesk.reporting.core import HOURS_PLACES, RATE_PLACES, SCORE_PLACES

UNIT_KIND = {"count": "count", "rate": "rate", "hours": "hours", "money": "money", "score": "score"}


def fmt_value(unit: str, value: Any) -> str:
    if value is None:
        return "—"
    if unit == "rate":
        return f"{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
    if unit == "money":
        from csdesk.money import fmt_money

        return fmt_money(value)
    if unit == "hours":
        return f"{Decimal(value).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)}"
    if unit == "score":
        return f"{Decimal(value).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)}"
    return f"{value:,}"


def fmt_change(unit: str, value: Any) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else ""
    if unit == "rate":
        return f"{sign}{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}pp"
    if unit == "money":
        from csdesk.money import fmt_money

        return fmt_money(value, sign=True)
    return sign + fmt_value(unit, value)


def change_ratio(unit: str, value: Any, previous: Any) -> Decimal | None:
    """Relative change for counts and money (rates and averages change in points, shown as `change`)."""
    if unit not in ("count", "money") or value is None or not previous:
        return None
    return ((Decimal(value) - Decimal(previous)) / Decimal(previous)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


T = {  # column headings and fixed words: message ids, shown through _()
    "area": N_("Area"), "figure": N_("Figure"), "current": N_("This period"),
    "previous": N_("Previous"), "change": N_("Change"), "change_rate": N_("Change %"),
    "definition": N_("Definition"), "summary": N_("Overview"), "period": N_("Period"),
    "generated": N_("Generated"), "masked": N_("Customer phone numbers are masked"),
    "unmasked": N_("Customer phone numbers in full (manager or above only)"),
    "not_available": N_("not available"), "previous_date": N_("Previous date"),
    "to_date": N_("to"), "tz": N_("Time zone"),
}


def _t(key: str, zh: bool = True) -> str:
    """A fixed word in the interface language (`zh` is kept for the callers; the language is the catalogue's)."""
    from csdesk.i18n import N_, _

    return _(T[key])
