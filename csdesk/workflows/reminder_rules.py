"""What each area has the reminder run announce or do. Registered into csdesk.workflows.reminders.

Keys name what, which row, which deadline or step (and which repeat), so that a rescheduled callback or
a new deadline is announced afresh while the same one never is twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from sqlmodel import select

from csdesk import dates
from csdesk.i18n import _
from csdesk.models import Project
from csdesk.workflows import Desk
from csdesk.workflows.reminders import Announcement, collector, repeat_suffix, step


def _stamp(value: datetime) -> str:
    return value.astimezone(dates.UTC).strftime("%Y-%m-%dT%H:%M")


def _boss(desk: Desk, settings, staff_id: int | None, level: int) -> int | None:
    """Who is told besides the assignee: the first active person up the reports_to chain, else the
    default assignee of the level above (a deactivated supervisor is told nothing)."""
    from csdesk.workflows.complaints import notice_boss

    return notice_boss(desk.session, settings, staff_id, level)


def _ids(*ids: int | None) -> list[int]:
    out: list[int] = []
    for i in ids:
        if i is not None and i not in out:
            out.append(i)
    return out


# -- rules that act --------------------------------------------------------------------------------

@step("complaints: automatic escalation")
def escalate_breached(desk: Desk, now: datetime, dry_run: bool = False):
    from csdesk.workflows.complaints import auto_escalate

    results = auto_escalate(desk, now, dry_run=dry_run)
    lines, announcements = [], []
    for r in results:
        lines.append(_("escalated complaint #{id} L{old}→L{new}: {before} → {after}").format(
            id=r.complaint_id, old=r.from_level, new=r.to_level, before=r.from_assignee, after=r.to_assignee)
            + (f" ({r.note})" if r.note else ""))
        if dry_run:
            continue
        from csdesk.models import Complaint

        c = desk.session.get(Complaint, r.complaint_id)
        due = r.missed_due or r.at
        announcements.append(Announcement(
            key=f"complaint.escalated:{r.complaint_id}:L{r.to_level}:{_stamp(due)}", kind="complaint_escalated",
            entity="complaint", entity_id=r.complaint_id, recipients=_ids(c.assignee_id, c.owner_id),
            message=_("Complaint #{id} escalated to L{level} ({assignee}): resolution deadline {due} was missed — {summary}").format(
                id=r.complaint_id, level=r.to_level, assignee=r.to_assignee, due=dates.fmt(due, desk.tz), summary=c.summary[:40]),
        ))
    return lines, announcements


def _describe_visits(by_rule: Counter) -> list[str]:
    if not by_rule:
        return []
    from csdesk.workflows.callbacks import rule_label

    summary = ", ".join(f"{n} {rule_label(rule)}" for rule, n in sorted(by_rule.items()))
    return [_("created {n} periodic visits ({summary})").format(n=sum(by_rule.values()), summary=summary)]


@step("return visits: periodic rules", batched=True)
def periodic_visits(desk: Desk, now: datetime, dry_run: bool = False, limit: int | None = None):
    """Batched (see reminders.STEP_BATCH): one call per short transaction, until nothing is left."""
    from csdesk.workflows.callbacks import periodic_visits_batch

    made, more = periodic_visits_batch(desk, now, dry_run=dry_run, limit=limit)
    return Counter(v.rule for v in made), [], more


periodic_visits.describe = _describe_visits


# -- announcements ---------------------------------------------------------------------------------

@collector("callbacks")
def callbacks_due(desk: Desk, now: datetime, settings) -> list[Announcement]:
    from csdesk.workflows.callbacks import due_callbacks

    lead = dates.parse_duration(settings["reminders"]["callback_lead"])
    out = []
    from csdesk.workflows.callbacks import purpose_label

    for cb in due_callbacks(desk, now, lead):
        who = f"{cb.customer_code} {cb.customer_name or ''}".strip()
        phone = f" {cb.phone}" if cb.phone else ""
        tries = _(", {n} tries so far").format(n=cb.attempts) if cb.attempts else ""
        what = purpose_label(cb.purpose) + tries
        if cb.overdue:
            out.append(Announcement(
                key=f"callback.overdue:{cb.id}:{_stamp(cb.due_at)}{repeat_suffix(settings, cb.due_at, now)}",
                kind="callback_overdue", entity="callback", entity_id=cb.id, recipients=_ids(cb.assignee_id),
                message=_("Callback #{id} overdue since {due}: {customer} ({what})").format(
                    id=cb.id, due=dates.fmt(cb.due_at, desk.tz), customer=who + phone, what=what),
            ))
        else:
            out.append(Announcement(
                key=f"callback.due:{cb.id}:{_stamp(cb.due_at)}", kind="callback_due", entity="callback", entity_id=cb.id,
                recipients=_ids(cb.assignee_id),
                message=_("Callback #{id} due {due}: {customer} ({what})").format(
                    id=cb.id, due=dates.fmt(cb.due_at, desk.tz), customer=who + phone, what=what),
            ))
    return out


@collector("missed callbacks")
def callbacks_missed(desk: Desk, now: datetime, settings) -> list[Announcement]:
    from csdesk.workflows.callbacks import missed_callbacks, outcome_label, purpose_label

    out = []
    for cb in missed_callbacks(desk, since=now - timedelta(days=30)):
        out.append(Announcement(
            key=f"callback.missed:{cb.id}", kind="callback_missed", entity="callback", entity_id=cb.id,
            recipients=_ids(cb.supervisor_id or cb.assignee_id),
            message=_("Callback #{id} missed after {n} tries ({outcome}): {customer} — {purpose}, assigned to {assignee}").format(
                id=cb.id, n=cb.attempts, outcome=outcome_label(cb.outcome or "no_answer"),
                customer=f"{cb.customer_code} {cb.customer_name or ''}".rstrip(), purpose=purpose_label(cb.purpose),
                assignee=cb.assignee or _("nobody")),
        ))
    return out


@collector("complaint SLAs")
def complaint_deadlines(desk: Desk, now: datetime, settings) -> list[Announcement]:
    from csdesk.workflows.complaints import sla_watch

    watch = sla_watch(desk, now, float(settings["reminders"]["sla_warn_ratio"]))
    from csdesk.workflows.complaints import CLOCK_LABELS

    what = {k: _(v) for k, v in CLOCK_LABELS.items()}
    out = []
    for a in watch.warnings:
        out.append(Announcement(
            key=f"complaint.warn:{a.complaint_id}:{a.clock}:L{a.level}:{_stamp(a.due)}", kind="sla_warning",
            entity="complaint", entity_id=a.complaint_id, recipients=_ids(a.assignee_id),
            message=_("Complaint #{id}: {clock} due {due} ({percent}% used, {left}): {customer} {summary}").format(
                id=a.complaint_id, clock=what.get(a.clock, a.clock), due=dates.fmt(a.due, desk.tz), percent=a.used_percent,
                left=a.business_left, customer=a.customer_code, summary=a.summary[:40]),
        ))
    for a in watch.breached:
        out.append(Announcement(
            key=f"complaint.breach:{a.complaint_id}:{a.clock}:L{a.level}:{_stamp(a.due)}{repeat_suffix(settings, a.due, now)}",
            kind="sla_breach", entity="complaint", entity_id=a.complaint_id,
            recipients=_ids(a.assignee_id, _boss(desk, settings, a.assignee_id, a.level + 1)), breach=True,
            message=_("Complaint #{id}: {clock} deadline {due} BREACHED (L{level}, {assignee}): {customer} {summary}").format(
                id=a.complaint_id, clock=what.get(a.clock, a.clock), due=dates.fmt(a.due, desk.tz), level=a.level,
                assignee=a.assignee, customer=a.customer_code, summary=a.summary[:40]),
        ))
    return out


def _owners(session, codes: set[str]) -> dict[str, int | None]:
    if not codes:
        return {}
    return dict(session.exec(select(Project.code, Project.owner_id).where(Project.code.in_(list(codes)))).all())


@collector("adjustments")
def adjustments_overdue(desk: Desk, now: datetime, settings) -> list[Announcement]:
    from csdesk.workflows.projects import overdue_adjustments

    rows = overdue_adjustments(desk, now)
    owners = _owners(desk.session, {a.project_code for a in rows})
    out = []
    for a in rows:
        due = dates.local_datetime(a.due_on, time(0, 0), desk.tz)
        out.append(Announcement(
            key=f"adjustment.overdue:{a.id}:{a.due_on}{repeat_suffix(settings, due + timedelta(days=1), now)}",
            kind="adjustment_overdue", entity="adjustment", entity_id=a.id, recipients=_ids(owners.get(a.project_code)),
            message=_("Adjustment #{id} overdue (due {due}): {project} {item} ({responsible})").format(
                id=a.id, due=a.due_on, project=a.project_code, item=a.item[:40], responsible=a.responsible_label),
        ))
    return out


@collector("instalments")
def instalments(desk: Desk, now: datetime, settings) -> list[Announcement]:
    from csdesk.money import fmt_money
    from csdesk.workflows.payments import instalments_due_within, overdue_instalments

    out = []
    for i in instalments_due_within(desk, now, int(settings["reminders"]["instalment_lead_days"]), last_steps=False):
        if i.due_on is None:
            continue
        out.append(Announcement(
            key=f"instalment.due:{i.id}:{i.due_on}", kind="instalment_due", entity="instalment", entity_id=i.id,
            recipients=_ids(i.owner_id),
            message=_("Instalment {project} {name} {amount} falls due {due}: {customer}").format(
                project=i.project_code, name=i.name, amount=fmt_money(i.outstanding), due=i.due_on,
                customer=f"{i.customer_code or ''} {i.customer_name or ''}".strip()).rstrip(),
        ))
    for i in overdue_instalments(desk, now, last_steps=False):
        if i.due_on is None:
            continue
        due = dates.local_datetime(i.due_on, time(0, 0), desk.tz) + timedelta(days=1)
        out.append(Announcement(
            key=f"instalment.overdue:{i.id}:{i.due_on}{repeat_suffix(settings, due, now)}", kind="instalment_overdue",
            entity="instalment", entity_id=i.id, recipients=_ids(i.owner_id),
            message=_("Instalment {project} {name} {amount} overdue since {due} ({days} days): {customer}").format(
                project=i.project_code, name=i.name, amount=fmt_money(i.outstanding), due=i.due_on, days=i.days_overdue,
                customer=f"{i.customer_code or ''} {i.customer_name or ''}".strip()).rstrip(),
        ))
    return out


@collector("dunning")
def dunning_steps(desk: Desk, now: datetime, settings) -> list[Announcement]:
    from csdesk.money import fmt_money
    from csdesk.workflows.payments import due_collection_steps
    from csdesk.workflows.complaints import role_word

    # Only the furthest step whose day has come: an instalment 20 days late needs its 催款函, not a
    # reminder, a phone call and a 催款函 at once.
    latest: dict[int, object] = {}
    for s in due_collection_steps(desk, now):
        if s.instalment_id not in latest or s.step_due_on >= latest[s.instalment_id].step_due_on:
            latest[s.instalment_id] = s
    out = []
    for s in latest.values():
        needs = " " + _("(needs a {role} or above)").format(role=role_word(s.min_role)) if s.min_role != "specialist" else ""
        out.append(Announcement(
            key=f"dunning.{s.step}:{s.instalment_id}:{s.due_on}", kind="dunning_step", entity="instalment",
            entity_id=s.instalment_id, recipients=_ids(s.owner_id, s.recorder_id),
            message=_("Dunning {project} {instalment}: {step} due since {due}{needs} — {amount} {days} days overdue, {customer}").format(
                project=s.project_code, instalment=s.instalment, step=s.step_label, due=s.step_due_on, needs=needs,
                amount=fmt_money(s.outstanding), days=s.days_overdue,
                customer=f"{s.customer_code} {s.customer_name or ''}".strip()).rstrip(),
        ))
    return out


@collector("shift handovers")
def shift_handovers(desk: Desk, now: datetime, settings) -> list[Announcement]:
    """交接班: a handover not taken in time (both people and the incoming person's supervisor), and a
    refused one (the refuser's supervisor and the person who handed over) — each announced once."""
    from csdesk.workflows.shift import announcements

    return announcements(desk, now)


@collector("key accounts without a qualified manager")
def unmanaged_key_accounts(desk: Desk, now: datetime, settings) -> list[Announcement]:
    from csdesk.workflows.grades import unmanaged_announcements  # staff grades (issue 17)

    return unmanaged_announcements(desk, settings)


import csdesk.workflows.qa  # noqa: E402,F401 — registers the quality checks' collector (a score below the pass mark)
