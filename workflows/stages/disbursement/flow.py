"""award_letter (View) -> payment (View) -> next stage or the end."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from ...permissions import ROLE_TASK_PERMISSION
from ..base import next_or_end, task_view


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    permission = ROLE_TASK_PERMISSION[stage["role"]]
    nodes["award_letter"] = (
        flow.View(task_view)
        .Annotation(title=_("印发奖励通知书"))
        .Permission(permission)
        .Next(this.payment)
    )
    nodes["payment"] = (
        flow.View(task_view)
        .Annotation(title=_("登记拨付"))
        .Permission(permission)
        .Next(next_or_end(nodes, next_node, "paid"))
    )
    return "award_letter", nodes
