"""Template filters for workflow pages."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

TASK_LABELS = {
    "formal_review": _("形式审查"),
    "correction": _("补正申报材料"),
    "leadership_review": _("审议"),
    "award_letter": _("印发奖励通知书"),
    "payment": _("登记拨付"),
    "recommendation": _("推荐"),
    "committee_vote": _("评审委员会表决"),
    "expert_score": _("专家评分"),
}


@register.filter
def task_label(task) -> str:
    name = task.flow_task.name if task.flow_task else ""
    return TASK_LABELS.get(name, name)


@register.filter
def money(value) -> str:
    return "" if value is None else f"¥{value:,.2f}"
