"""Every figure and breakdown of the reports, defined once, with the text that says what is counted, over
which rows, in which period. The README's report section carries the same definitions (a test keeps them
in step); the workbook's 指标说明 sheet and --json show them. Each area's module computes the values.
"""

from __future__ import annotations

from csdesk.i18n import N_
from csdesk.reporting.core import BREAKDOWNS, FIGURES, _brk, _fig

AREAS: dict[str, str] = {  # message ids, shown through _()
    "calls": N_("Calls"),
    "complaints": N_("Complaints"),
    "visits": N_("Return visits"),
    "adjustments": N_("Adjustments"),
    "money": N_("Money"),
    "agents": N_("Per agent"),
}

# Calls
_fig("calls.total", N_("Total calls"), "count",
     N_("Calls logged (any kind, channel or direction) whose time falls in the period."))
_fig("calls.inbound", N_("Inbound calls"), "count", N_("Calls with direction `in` whose time falls in the period."))
_fig("calls.outbound", N_("Outbound calls"), "count", N_("Calls with direction `out` whose time falls in the period."))
_fig("calls.fcr_rate", N_("First-contact resolution rate"), "rate",
     N_("Of the inbound calls in the period, the share marked resolved on first contact (`log-call --resolved`)."))
_brk("calls.per_day", N_("Calls per day"), "count", N_("Date"),
     N_("Calls in the period by local calendar day (annual report: by month); the previous period's day at the same position beside it."))
_brk("calls.by_kind", N_("Calls by kind"), "count", N_("Kind"), N_("Calls in the period by kind (咨询, 投诉, 报修 …)."))
_brk("calls.by_channel", N_("Calls by channel"), "count", N_("Channel"), N_("Calls in the period by channel."))
_brk("calls.by_direction", N_("Calls by direction"), "count", N_("Direction"), N_("Calls in the period by direction (来电 in / 去电 out)."))
_brk("calls.by_agent", N_("Calls by agent"), "count", N_("Agent"), N_("Calls in the period by the agent who logged them."))

# Complaints
_fig("complaints.opened", N_("Complaints opened"), "count", N_("Complaints whose opening time falls in the period."))
_fig("complaints.resolved", N_("Complaints resolved"), "count",
     N_("Complaints with a resolution (解决) entered for a time in the period; a complaint resolved twice in the period counts once."))
_fig("complaints.closed", N_("Complaints closed"), "count", N_("Complaints closed (after a satisfied return visit, or by a supervisor) in the period."))
_fig("complaints.reopened", N_("Complaints reopened"), "count", N_("Complaints reopened (by hand or by an unsatisfied return visit) in the period."))
_fig("complaints.open_at_end", N_("Complaints open at period end"), "count",
     N_("Complaints opened before the end of the period that were still open, acknowledged or on hold at that moment (not resolved, not closed)."))
_fig("complaints.escalations", N_("Escalations"), "count", N_("Escalations (by hand or automatic) made in the period, each counted once whatever the number of levels it climbed."))
_fig("complaints.first_response_on_time", N_("First response on time"), "rate",
     N_("Of the complaints whose first-response deadline fell in the period, the share first answered (acknowledged or resolved) by that deadline. Deadlines from the complaints' SLA (business hours, holds excluded)."))
_fig("complaints.resolution_on_time", N_("Resolution on time"), "rate",
     N_("Of the resolution deadlines that fell in the period (one per level reached or reopening; a deadline replaced by an escalation before it came is not counted), the share met: resolved by the deadline."))
_fig("complaints.resolution_hours_avg", N_("Average business hours to resolve"), "hours",
     N_("Over the complaints resolved in the period (their last resolution in it): business hours from opening to resolution, holds and time spent resolved before a reopening excluded; the mean."))
_fig("complaints.resolution_hours_median", N_("Median business hours to resolve"), "hours",
     N_("The same business hours to resolve, the median."))
_brk("complaints.by_category", N_("Complaints by category"), "count", N_("Category"), N_("Complaints opened in the period by category."))
_brk("complaints.by_severity", N_("Complaints by severity"), "count", N_("Severity"), N_("Complaints opened in the period by severity."))
_brk("complaints.escalations_by_level", N_("Escalations by level"), "count", N_("Level"),
     N_("Escalations made in the period by the level the complaint was escalated to."))
_brk("complaints.owned_by_agent", N_("Complaints owned, by agent"), "count", N_("Agent"),
     N_("Complaints opened in the period, by their owner (who took them: 首问负责制)."))
_brk("complaints.resolved_by_agent", N_("Complaints resolved, by owner"), "count", N_("Agent"),
     N_("Complaints resolved in the period (their last resolution in it), by their owner."))
_brk("complaints.on_time_by_agent", N_("Resolution on time, by owner"), "rate", N_("Agent"),
     N_("The resolution on-time rate (as above) over the deadlines of the complaints each agent owns."))

# Return visits
_fig("visits.due", N_("Visits due"), "count",
     N_("Callbacks and return visits first due (as first promised) in the period, not cancelled."))
_fig("visits.on_time", N_("Done on time"), "count",
     N_("Of those, reached (done) no later than their due time (which moves with each unanswered try and each reschedule, by the callbacks area's rules)."))
_fig("visits.late", N_("Done late"), "count", N_("Of those, reached after their due time."))
_fig("visits.missed", N_("Missed"), "count", N_("Of those, marked missed (no answer on every try, or a wrong number)."))
_fig("visits.overdue_at_end", N_("Visits overdue at period end"), "count",
     N_("Callbacks still pending at the end of the period whose due time had passed (due time as it stands now)."))
_fig("visits.reach_rate", N_("Reach rate"), "rate",
     N_("Of the callbacks finished in the period (reached or missed), the share reached."))
_fig("visits.satisfied_rate", N_("Satisfied rate"), "rate",
     N_("Of the visits reached in the period that gave a verdict, the share satisfied (the callbacks area's satisfaction figures)."))
_fig("visits.avg_score", N_("Average score"), "score", N_("The mean 1–5 score of the visits reached in the period that were scored."))
_brk("visits.done_by_agent", N_("Visits reached by agent"), "count", N_("Agent"),
     N_("Visits reached in the period, by who made the call (else the assignee)."))
_brk("visits.score_by_agent", N_("Average score by agent"), "score", N_("Agent"),
     N_("The mean score of the visits reached in the period, by who made the call."))

# Adjustments
_fig("adjustments.opened", N_("Adjustments opened"), "count", N_("Adjustments (调整/整改) added in the period."))
_fig("adjustments.done", N_("Adjustments done"), "count", N_("Adjustments marked done in the period (each adjustment once, however often it was redone)."))
_fig("adjustments.accepted", N_("Adjustments accepted"), "count", N_("Adjustments the customer accepted (验收) in the period."))
_fig("adjustments.rejected", N_("Adjustments rejected"), "count", N_("Adjustments the customer rejected in the period (open again)."))
_fig("adjustments.overdue_at_end", N_("Adjustments overdue at period end"), "count",
     N_("Adjustments open or rejected on the period's last day (today for a period still running) whose due date was before that day, on projects not shelved or archived."))
_brk("adjustments.by_responsible", N_("Adjustments by responsible party"), "count", N_("Responsible"),
     N_("Adjustments added in the period by the party responsible for the work."))

# Money
_fig("money.due_count", N_("Instalments falling due"), "count", N_("Instalments whose due date is a day of the period."))
_fig("money.due_amount", N_("Amount falling due"), "money", N_("The amounts of the instalments whose due date is a day of the period."))
_fig("money.collected", N_("Collected"), "money",
     N_("Money received in the period, net: payments minus reversals recorded for a time in the period."))
_fig("money.collection_rate", N_("Collection rate"), "rate",
     N_("Of the amount falling due in the period, the share paid (payments net of reversals allocated to those instalments) by the end of the period."))
_fig("money.outstanding_at_end", N_("Outstanding at period end"), "money",
     N_("Everything planned and still unpaid at the end of the period's last day (today for a period still running), due or not: the payments area's aging total."))
_fig("money.overdue_at_end", N_("Overdue amount at period end"), "money",
     N_("Of that, what was past its due date (the payments area's aging: due before the last day)."))
_fig("money.dunning_steps", N_("Dunning steps taken"), "count", N_("Dunning steps (提醒, 电话催收, 催款函, 律师函) recorded for a time in the period."))
_brk("money.aging", N_("Aging at period end"), "money", N_("Days past due"),
     N_("Overdue amounts at the end of the period by days past due: 0–30 (1 to 30 days), 31–60, 61–90, 90+; from the payments area's aging."))
_brk("money.dunning_by_step", N_("Dunning steps by step"), "count", N_("Step"), N_("Dunning steps recorded in the period, by step."))


# An annual report counts calls by month, not by day: its per-day breakdown is named so.
BY_MONTH: dict[str, tuple[str, str]] = {"calls.per_day": (N_("Calls per month"), N_("Month"))}  # (name, item heading)


def definition(key: str, lang: str) -> str:
    """A figure's or breakdown's definition in the report's language."""
    from csdesk.i18n import _

    return _((FIGURES.get(key) or BREAKDOWNS[key]).definition)
