"""The words of the projects area: stages, adjustment statuses, responsible parties and payers, each
in Chinese (also the Chinese accepted as input, and what the reports read) and in English; the
`*_label` functions give the one for the interface language. The stages' words live below the areas
(lookup.py: projects and the money modules both read them) and are importable from here.
"""

from __future__ import annotations

from csdesk.i18n import label
from csdesk.workflows.lookup import STAGES, STAGES_EN, role_label, stage_label  # noqa: F401  (below projects and payments, both read them)

STAGE_ALIASES = {"handover": "handed_over", "handed-over": "handed_over", "accept": "accepted", "sign": "signed"}


OPEN_STAGES = ("signed", "handed_over", "accepted")


RESPONSIBLE_LABELS = {
    "design": "设计", "install": "安装", "supplier": "供应商", "contractor": "施工方", "property": "物业", "other": "其他",
}


ADJUSTMENT_STATUSES = {"open": "待处理", "done": "已完成待验收", "accepted": "客户已验收", "rejected": "被驳回·重开"}


OPEN_ADJUSTMENT = ("open", "rejected")


PAYERS = {"company": "公司", "customer": "客户", "contractor": "施工方"}


# The Chinese names above are also the Chinese words accepted as input and what the reports show; the
# English names below are the labels in English (`label(english, chinese)`, i18n.py).
RESPONSIBLE_EN = {
    "design": "design", "install": "installation", "supplier": "supplier", "contractor": "contractor",
    "property": "property management", "other": "other",
}


ADJUSTMENT_STATUSES_EN = {"open": "open", "done": "done, awaiting verdict", "accepted": "accepted by customer", "rejected": "rejected, reopened"}


PAYERS_EN = {"company": "company", "customer": "customer", "contractor": "contractor"}


def responsible_label(key: str) -> str:
    return label(RESPONSIBLE_EN.get(key, key), RESPONSIBLE_LABELS.get(key, key))


def adjustment_status_label(status: str) -> str:
    return label(ADJUSTMENT_STATUSES_EN.get(status, status), ADJUSTMENT_STATUSES.get(status, status))


def payer_label(payer: str | None) -> str:
    return label(PAYERS_EN.get(payer, payer), PAYERS.get(payer, payer)) if payer else ""
