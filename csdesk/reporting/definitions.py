"""Every figure and breakdown of the reports, defined once, with the text that says what is counted, over
which rows, in which period. The README's report section carries the same definitions (a test keeps them
in step); the workbook's 指标说明 sheet and --json show them. Each area's module computes the values.
"""

from __future__ import annotations

from csdesk.reporting.core import BREAKDOWNS, FIGURES, _brk, _fig

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


# The same definitions in Chinese, for a Chinese report's 指标说明 sheet (a later issue moves every string to
# gettext; until then each figure has its two texts here).
DEFINITIONS_ZH: dict[str, str] = {
    "calls.total": "本期内登记的通话（任何类型、渠道、方向），按通话时间计。",
    "calls.inbound": "本期内方向为来电（in）的通话。",
    "calls.outbound": "本期内方向为去电（out）的通话。",
    "calls.fcr_rate": "本期来电中，登记为首次解决（log-call --resolved）的比例。",
    "calls.per_day": "本期通话按本地日历日（年报：按月）统计；旁边是上期同一位置的那一天。",
    "calls.by_kind": "本期通话按类型（咨询、投诉、报修……）统计。",
    "calls.by_channel": "本期通话按渠道统计。",
    "calls.by_direction": "本期通话按方向（来电 in / 去电 out）统计。",
    "calls.by_agent": "本期通话按登记的客服统计。",
    "complaints.opened": "立案时间在本期内的投诉。",
    "complaints.resolved": "本期内登记了解决的投诉；同一投诉本期解决两次只计一次。",
    "complaints.closed": "本期内关闭的投诉（回访满意后关闭，或由主管关闭）。",
    "complaints.reopened": "本期内重开的投诉（手工重开，或回访不满意重开）。",
    "complaints.open_at_end": "期末之前立案、期末时仍为待处理、已受理或挂起（未解决、未关闭）的投诉。",
    "complaints.escalations": "本期内的升级次数（手工或自动），一次升级无论跨几级只计一次。",
    "complaints.first_response_on_time": "首次响应时限落在本期内的投诉中，在时限前首次响应（受理或解决）的比例。时限按投诉时效（工作时间，不含挂起）。",
    "complaints.resolution_on_time": "落在本期内的解决时限（每达到一个级别或每次重开一个；到期前已被升级取代的不计）中，按时解决的比例。",
    "complaints.resolution_hours_avg": "本期内解决的投诉（以本期最后一次解决为准）：从立案到解决的工作小时数，不含挂起及重开前已解决的时间；取平均值。",
    "complaints.resolution_hours_median": "同上的解决用时（工作小时），取中位数。",
    "complaints.by_category": "本期立案的投诉按类别统计。",
    "complaints.by_severity": "本期立案的投诉按严重程度统计。",
    "complaints.escalations_by_level": "本期内的升级按升至的级别统计。",
    "complaints.owned_by_agent": "本期立案的投诉按负责人（首问负责制）统计。",
    "complaints.resolved_by_agent": "本期内解决的投诉（以本期最后一次解决为准）按负责人统计。",
    "complaints.on_time_by_agent": "各负责人名下投诉的解决按时率（口径同上）。",
    "visits.due": "首次约定（最初承诺）时间在本期内、未取消的回电和回访。",
    "visits.on_time": "其中在到期时间前完成（已联系上）的（到期时间按回访规则随每次未接通和改约顺延）。",
    "visits.late": "其中在到期时间之后完成的。",
    "visits.missed": "其中记为未联系上的（多次无人接听或号码错误）。",
    "visits.overdue_at_end": "期末时仍待处理且已过到期时间的回电（到期时间按当前记录）。",
    "visits.reach_rate": "本期内结束的回电（已联系上或未联系上）中，已联系上的比例。",
    "visits.satisfied_rate": "本期内已联系上并给出评价的回访中，满意的比例（回访区的满意度口径）。",
    "visits.avg_score": "本期内已联系上并打分的回访的平均分（1–5 分）。",
    "visits.done_by_agent": "本期内已联系上的回访，按拨打人（无则按负责人）统计。",
    "visits.score_by_agent": "本期内已联系上的回访的平均分，按拨打人统计。",
    "adjustments.opened": "本期内新增的调整/整改。",
    "adjustments.done": "本期内标记完成的调整（同一调整多次返工只计一次）。",
    "adjustments.accepted": "本期内客户验收的调整。",
    "adjustments.rejected": "本期内客户驳回（重新打开）的调整。",
    "adjustments.overdue_at_end": "本期最后一天（进行中的期间为今天）仍待处理或被驳回、到期日早于该日的调整，不含已搁置或已归档项目。",
    "adjustments.by_responsible": "本期新增的调整按责任方统计。",
    "money.due_count": "到期日在本期内的分期款笔数。",
    "money.due_amount": "到期日在本期内的分期款金额。",
    "money.collected": "本期内实收金额（净额）：本期内登记的收款减冲正。",
    "money.collection_rate": "本期到期金额中，至期末已收回（分配到这些分期的收款，扣除冲正）的比例。",
    "money.outstanding_at_end": "本期最后一天结束时（进行中的期间为今天）所有已计划且未收的款项，无论是否到期：收款区账龄的合计。",
    "money.overdue_at_end": "其中已过到期日的部分（收款区账龄：到期日早于最后一天）。",
    "money.dunning_steps": "本期内登记的催收动作（提醒、电话催收、催款函、律师函）。",
    "money.aging": "期末逾期金额按逾期天数分段：0–30（1 至 30 天）、31–60、61–90、90 天以上；来自收款区账龄。",
    "money.dunning_by_step": "本期内登记的催收动作按步骤统计。",
}

# An annual report counts calls by month, not by day: its per-day breakdown is named so.
BY_MONTH: dict[str, tuple[str, str, str, str]] = {"calls.per_day": ("每月通话", "Calls per month", "月份", "Month")}


def definition(key: str, lang: str) -> str:
    """A figure's or breakdown's definition in the report's language."""
    if lang == "zh":
        return DEFINITIONS_ZH[key]
    return (FIGURES.get(key) or BREAKDOWNS[key]).definition
