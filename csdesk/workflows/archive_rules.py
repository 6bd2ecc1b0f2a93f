"""The reminder run's archive rule (issue 18): once more than half a year has passed since the last
archive (or, before the first one, since the oldest call), managers are told once to archive.

Registered into csdesk.workflows.reminders with @collector; the key names the last archive, so the
reminder comes once per archive made (a new archive starts the next half-year).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import func, select

from csdesk import dates
from csdesk.i18n import _
from csdesk.models import Archive, Call, Staff
from csdesk.workflows import Desk
from csdesk.workflows.reminders import Announcement, collector


def _months_before(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    return date(y, m + 1, min(d.day, 28))


def suggested_cut(today: date) -> tuple[date, str]:
    """The start of the current half-year, and a file name for the half-year before it."""
    start = date(today.year, 1 if today.month <= 6 else 7, 1)
    half = f"{start.year - 1}H2" if start.month == 1 else f"{start.year}H1"
    return start, f"archive-{half}.db"


@collector("archive")
def archive_due(desk: Desk, now: datetime, settings) -> list[Announcement]:
    session = desk.session
    last = session.exec(select(Archive).order_by(Archive.created_at.desc(), Archive.id.desc()).limit(1)).first()
    anchor = last.created_at if last is not None else session.exec(select(func.min(Call.at))).one()
    if anchor is None:
        return []
    today = now.astimezone(desk.tz).date()
    if dates.to_local(anchor, desk.tz).date() >= _months_before(today, 6):
        return []
    managers = session.exec(select(Staff.id).where(Staff.role == "manager", Staff.active == True)).all()  # noqa: E712
    if not managers:
        managers = session.exec(select(Staff.id).where(Staff.role == "director", Staff.active == True)).all()  # noqa: E712
    if not managers:
        return []
    cut, name = suggested_cut(today)
    command = f"csdesk db archive --before {cut.isoformat()} --to {name}"
    if last is not None:
        message = _("Time to archive: more than half a year has passed since the last archive ({time}, {file}): {command}").format(
            time=dates.fmt(last.created_at, desk.tz), file=last.file, command=command)
    else:
        message = _("Time to archive: more than half a year has passed since the oldest call ({time}) and nothing has been archived yet: {command}").format(
            time=dates.fmt(anchor, desk.tz), command=command)
    return [Announcement(
        key=f"archive.due:{last.id if last is not None else 0}", kind="archive_due", entity="archive",
        entity_id=last.id if last is not None else 0, recipients=list(managers), message=message,
    )]
