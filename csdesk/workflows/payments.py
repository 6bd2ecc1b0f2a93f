"""Money: payment plans (instalments), payments and their reversals, the dunning ladder (催收), aging.

Rules kept here:
- a plan's parts add up to the contract exactly, or the plan is refused: percentages add up to exactly
  100 % (with fixed sums: fixed + percentages of the contract is the contract, not a fraction of a fen
  off); percentages are shares of the contract, rounded half up to the fen, and the last percentage part
  takes the remainder;
- no instalment falls due before its project's signing date (a fixed date before it is refused, and so
  is moving the signing after one);
- an instalment's due date is known once its event has happened (sign, handover, accept, + a span) or
  is a fixed date; due dates are local calendar dates; an instalment is overdue from the day after;
- a payment goes to the named instalment, or else to the unpaid instalments in plan order (oldest first);
  more than is owed is refused unless overpayment is allowed, and then the rest is kept as a credit;
- a mistake is corrected by a reversal (a negative payment with a reason, mirroring the original's
  allocations), never by deleting; `paid_fen` of every instalment always equals the sum of its
  allocations, is never below zero and never above its amount;
- a project that is accepted and fully paid is settled; a reversal that reopens an instalment takes a
  settled project back to accepted.

Where each part lives (this module gathers them, so `from csdesk.workflows.payments import X` keeps
working): payment_plans.py (plans, instalments and their lists), payments_received.py (payments and
reversals), dunning.py (the ladder, recording steps, what is due), aging.py. They build on projects.py.
"""

from __future__ import annotations

from csdesk.workflows.payment_plans import (  # noqa: F401
    EVENTS, EVENT_ALIASES, STEPS, METHODS, INSTALMENT_STATUSES, STEPS_EN, METHODS_EN, INSTALMENT_STATUSES_EN, step_label, method_label, instalment_status_label, INACTIVE_STAGES, PlanPart, InstalmentInfo, PlanView, due_rule, parse_due, parse_split, plan_amounts, event_date, compute_due, refresh_due_dates, make_plan, plan_view, instalment_infos, find_instalment, settle_if_paid, instalments_due_within, overdue_instalments, list_instalments,
)
from csdesk.workflows.payments_received import (  # noqa: F401
    Allocation, PaymentInfo, check_method, record_payment, find_payment, reverse_payment, payment_infos,
)
from csdesk.workflows.dunning import (  # noqa: F401
    StepInfo, DueStep, first_able_up_the_chain, ladder, step_role, check_step, chase, collection_history, due_collection_steps, project_due_steps, owed_by_customer,
)
from csdesk.workflows.aging import (  # noqa: F401
    BY, AgingRow, AgingReport, aging,
)
