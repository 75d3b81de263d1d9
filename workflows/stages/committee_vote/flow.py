"""committee_vote (View, the award committee) -> check_committee: awarded -> next stage |
not_awarded (End)."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from ...permissions import ROLE_TASK_PERMISSION
from ..base import next_or_end, status_in, task_view


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["committee_vote"] = (
        flow.View(task_view)
        .Annotation(title=_("评审委员会表决"))
        .Permission(ROLE_TASK_PERMISSION[stage["role"]])
        .Next(this.check_committee)
    )
    nodes["check_committee"] = (
        flow.If(status_in("approved"))
        .Then(next_or_end(nodes, next_node, "awarded"))
        .Else(this.not_awarded)
    )
    nodes["not_awarded"] = flow.End()
    return "committee_vote", nodes
