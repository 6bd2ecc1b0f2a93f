"""The [shift] settings, read and checked (standard library only: config.validate calls it when a
settings file is loaded, and that must stay light).

- `starts`: the local times shifts start ("08:00", "20:00"); each shift runs until the next start, the
  last one until the first start of the next day.
- `checklist`: the items every handover answers ok or not (`shift hand --check 设备正常=ok`).
- `take_within`: a handover not taken this long after it was made is announced by the reminder run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from csdesk.errors import InvalidValue


@dataclass(frozen=True)
class ShiftRules:
    starts: tuple[time, ...]   # sorted, distinct
    checklist: tuple[str, ...]
    take_within: timedelta


def _bad(key: str, reason: str) -> InvalidValue:
    return InvalidValue(f"config: shift.{key}: {reason}")


def load_shift_rules(settings) -> ShiftRules:
    data = settings["shift"]
    starts = []
    for text in data["starts"]:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(text).strip())
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise _bad("starts", f"{text!r} is not a time of day like \"08:00\"")
        starts.append(time(int(m.group(1)), int(m.group(2))))
    if not starts:
        raise _bad("starts", "needs at least one start time, such as [\"08:00\", \"20:00\"]")
    if len(set(starts)) != len(starts):
        raise _bad("starts", "names the same time twice")
    items = []
    for item in data["checklist"]:
        item = str(item).strip()
        if not item or len(item) > 60 or "=" in item:
            raise _bad("checklist", f"{item!r} is not an item name (1–60 characters, no '=')")
        if item in items:
            raise _bad("checklist", f"{item!r} is listed twice")
        items.append(item)
    from csdesk import dates

    try:
        within = dates.parse_duration(data["take_within"])
    except InvalidValue:
        within = timedelta(0)
    if within <= timedelta(0):
        raise _bad("take_within", f"{data['take_within']!r} is not a duration of more than 0 like \"30m\" or \"1h\"")
    return ShiftRules(tuple(sorted(starts)), tuple(items), within)


def boundaries(rules: ShiftRules, around: datetime, tz) -> list[datetime]:
    """Every shift start (aware, local zone) from two days before `around` to two days after, in order."""
    day = around.astimezone(tz).date()
    out = []
    for offset in range(-2, 3):
        d: date = day + timedelta(days=offset)
        out.extend(datetime.combine(d, t).replace(tzinfo=tz) for t in rules.starts)
    return sorted(out)


def shift_window(rules: ShiftRules, at: datetime, tz) -> tuple[datetime, datetime, datetime]:
    """(start of the shift handed over, its end = the handover's boundary, end of the next shift).

    The boundary is the shift start nearest to `at`: a handover made a little before or after the change
    of shift hands over the shift that is ending there."""
    marks = boundaries(rules, at, tz)
    i = min(range(1, len(marks) - 1), key=lambda k: abs(marks[k] - at))
    return marks[i - 1], marks[i], marks[i + 1]
