"""Every figure and breakdown of the reports, defined once, with the text that says what is counted, over
which rows, in which period. The README's report section carries the same definitions (a test keeps them
in step); the workbook's 指标说明 sheet and --json show them. Each area's module computes the values.
"""

from __future__ import annotations

from csdesk.reporting.core import _brk, _fig

AREAS: dict[str, tuple[str, str]] = {
    "calls": ("通话", "Calls"),
    "complaints": ("投诉", "Complaints"),
    "visits": ("回访", "Return visits"),
    "adjustments": ("调整整改", "Adjustments"),
    "money": ("款项", "Money"),
    "agents": ("人员", "Per agent"),
}

# Calls
_fig("calls.total", "通话总数", "Calls", "count",
     "Calls logged (any kind, channel or direction) whose time falls in the period.")
_fig("calls.inbound", "来电", "Inbound calls", "count", "Calls with direction `in` whose time falls in the period.")
_fig("calls.outbound", "去电", "Outbound calls", "count", "Calls with direction `out` whose time falls in the period.")
_fig("calls.fcr_rate", "首次解决率", "First-contact resolution rate", "rate",
     "Of the inbound calls in the period, the share marked resolved on first contact (`log-call --resolved`).")
_brk("calls.per_day", "每日通话", "Calls per day", "count", ("日期", "Date"),
     "Calls in the period by local calendar day (annual report: by month); the previous period's day at the same position beside it.")
_brk("calls.by_kind", "按类型", "Calls by kind", "count", ("类型", "Kind"), "Calls in the period by kind (咨询, 投诉, 报修 …).")
_brk("calls.by_channel", "按渠道", "Calls by channel", "count", ("渠道", "Channel"), "Calls in the period by channel.")
_brk("calls.by_direction", "按方向", "Calls by direction", "count", ("方向", "Direction"), "Calls in the period by direction (来电 in / 去电 out).")
_brk("calls.by_agent", "按客服", "Calls by agent", "count", ("客服", "Agent"), "Calls in the period by the agent who logged them.")

# Complaints
_fig("complaints.opened", "新增投诉", "Complaints opened", "count", "Complaints whose opening time falls in the period.")
_fig("complaints.resolved", "已解决", "Complaints resolved", "count",
     "Complaints with a resolution (解决) entered for a time in the period; a complaint resolved twice in the period counts once.")
_fig("complaints.closed", "已关闭", "Complaints closed", "count", "Complaints closed (after a satisfied return visit, or by a supervisor) in the period.")
_fig("complaints.reopened", "重开", "Complaints reopened", "count", "Complaints reopened (by hand or by an unsatisfied return visit) in the period.")
_fig("complaints.open_at_end", "期末未结投诉", "Complaints open at period end", "count",
     "Complaints opened before the end of the period that were still open, acknowledged or on hold at that moment (not resolved, not closed).")
_fig("complaints.escalations", "升级次数", "Escalations", "count", "Escalations (by hand or automatic) made in the period, each counted once whatever the number of levels it climbed.")
_fig("complaints.first_response_on_time", "首次响应按时率", "First response on time", "rate",
     "Of the complaints whose first-response deadline fell in the period, the share first answered (acknowledged or resolved) by that deadline. Deadlines from the complaints' SLA (business hours, holds excluded).")
_fig("complaints.resolution_on_time", "解决按时率", "Resolution on time", "rate",
     "Of the resolution deadlines that fell in the period (one per level reached or reopening; a deadline replaced by an escalation before it came is not counted), the share met: resolved by the deadline.")
_fig("complaints.resolution_hours_avg", "平均解决用时(工作小时)", "Average business hours to resolve", "hours",
     "Over the complaints resolved in the period (their last resolution in it): business hours from opening to resolution, holds and time spent resolved before a reopening excluded; the mean.")
_fig("complaints.resolution_hours_median", "解决用时中位数(工作小时)", "Median business hours to resolve", "hours",
     "The same business hours to resolve, the median.")
_brk("complaints.by_category", "按类别", "Complaints by category", "count", ("类别", "Category"), "Complaints opened in the period by category.")
_brk("complaints.by_severity", "按严重程度", "Complaints by severity", "count", ("严重程度", "Severity"), "Complaints opened in the period by severity.")
_brk("complaints.escalations_by_level", "按升级级别", "Escalations by level", "count", ("级别", "Level"),
     "Escalations made in the period by the level the complaint was escalated to.")
_brk("complaints.owned_by_agent", "按负责人新增投诉", "Complaints owned, by agent", "count", ("客服", "Agent"),
     "Complaints opened in the period, by their owner (who took them: 首问负责制).")
_brk("complaints.resolved_by_agent", "按负责人解决投诉", "Complaints resolved, by owner", "count", ("客服", "Agent"),
     "Complaints resolved in the period (their last resolution in it), by their owner.")
_brk("complaints.on_time_by_agent", "按负责人解决按时率", "Resolution on time, by owner", "rate", ("客服", "Agent"),
     "The resolution on-time rate (as above) over the deadlines of the complaints each agent owns.")

# Return visits
_fig("visits.due", "应回访", "Visits due", "count",
     "Callbacks and return visits first due (as first promised) in the period, not cancelled.")
_fig("visits.on_time", "按时完成", "Done on time", "count",
     "Of those, reached (done) no later than their due time (which moves with each unanswered try and each reschedule, by the callbacks area's rules).")
_fig("visits.late", "逾期完成", "Done late", "count", "Of those, reached after their due time.")
_fig("visits.missed", "未联系上", "Missed", "count", "Of those, marked missed (no answer on every try, or a wrong number).")
_fig("visits.overdue_at_end", "期末逾期未回访", "Visits overdue at period end", "count",
     "Callbacks still pending at the end of the period whose due time had passed (due time as it stands now).")
_fig("visits.reach_rate", "接通率", "Reach rate", "rate",
     "Of the callbacks finished in the period (reached or missed), the share reached.")
_fig("visits.satisfied_rate", "满意率", "Satisfied rate", "rate",
     "Of the visits reached in the period that gave a verdict, the share satisfied (the callbacks area's satisfaction figures).")
_fig("visits.avg_score", "平均评分", "Average score", "score", "The mean 1–5 score of the visits reached in the period that were scored.")
_brk("visits.done_by_agent", "按客服回访完成", "Visits reached by agent", "count", ("客服", "Agent"),
     "Visits reached in the period, by who made the call (else the assignee).")
_brk("visits.score_by_agent", "按客服平均评分", "Average score by agent", "score", ("客服", "Agent"),
     "The mean score of the visits reached in the period, by who made the call.")

# Adjustments
_fig("adjustments.opened", "新增调整", "Adjustments opened", "count", "Adjustments (调整/整改) added in the period.")
_fig("adjustments.done", "已完成", "Adjustments done", "count", "Adjustments marked done in the period (each adjustment once, however often it was redone).")
_fig("adjustments.accepted", "客户验收", "Adjustments accepted", "count", "Adjustments the customer accepted (验收) in the period.")
_fig("adjustments.rejected", "客户驳回", "Adjustments rejected", "count", "Adjustments the customer rejected in the period (open again).")
_fig("adjustments.overdue_at_end", "期末逾期调整", "Adjustments overdue at period end", "count",
     "Adjustments open or rejected on the period's last day (today for a period still running) whose due date was before that day, on projects not shelved or archived.")
_brk("adjustments.by_responsible", "按责任方", "Adjustments by responsible party", "count", ("责任方", "Responsible"),
     "Adjustments added in the period by the party responsible for the work.")

# Money
_fig("money.due_count", "到期款项笔数", "Instalments falling due", "count", "Instalments whose due date is a day of the period.")
_fig("money.due_amount", "到期金额", "Amount falling due", "money", "The amounts of the instalments whose due date is a day of the period.")
_fig("money.collected", "实收金额", "Collected", "money",
     "Money received in the period, net: payments minus reversals recorded for a time in the period.")
_fig("money.collection_rate", "回款率", "Collection rate", "rate",
     "Of the amount falling due in the period, the share paid (payments net of reversals allocated to those instalments) by the end of the period.")
_fig("money.outstanding_at_end", "期末未收金额", "Outstanding at period end", "money",
     "Everything planned and still unpaid at the end of the period's last day (today for a period still running), due or not: the payments area's aging total.")
_fig("money.overdue_at_end", "期末逾期金额", "Overdue amount at period end", "money",
     "Of that, what was past its due date (the payments area's aging: due before the last day).")
_fig("money.dunning_steps", "催收动作", "Dunning steps taken", "count", "Dunning steps (提醒, 电话催收, 催款函, 律师函) recorded for a time in the period.")
_brk("money.aging", "账龄", "Aging at period end", "money", ("账龄", "Days overdue"),
     "Overdue amounts at the end of the period by days past due: 0–30 (1 to 30 days), 31–60, 61–90, 90+; from the payments area's aging.")
_brk("money.dunning_by_step", "催收动作按步骤", "Dunning steps by step", "count", ("步骤", "Step"), "Dunning steps recorded in the period, by step.")
