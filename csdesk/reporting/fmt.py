"""Number formats and fixed words shared by the renderers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

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


T = {  # column headings and fixed words, (中文, English)
    "area": ("区域", "Area"), "figure": ("指标", "Figure"), "current": ("本期", "This period"),
    "previous": ("上期", "Previous"), "change": ("变化", "Change"), "change_rate": ("变化率", "Change %"),
    "definition": ("定义", "Definition"), "summary": ("汇总", "Summary"), "period": ("本期", "Period"),
    "generated": ("生成时间", "Generated"), "masked": ("客户电话已脱敏", "Customer phone numbers are masked"),
    "unmasked": ("客户电话未脱敏（仅限经理及以上）", "Customer phone numbers in full (manager or above only)"),
    "not_available": ("暂无数据", "not available"), "previous_date": ("上期日期", "Previous date"),
    "to_date": ("截至", "to"), "tz": ("时区", "Time zone"),
}


def _t(key: str, zh: bool) -> str:
    return T[key][0 if zh else 1]
