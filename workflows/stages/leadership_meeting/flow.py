"""leadership_review (View) -> check_leadership: approved -> next stage | rejected (End)."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from ...permissions import ROLE_TASK_PERMISSION
from ..base import next_or_end, status_in, task_view


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["leadership_review"] = (
        flow.View(task_view)
        .Annotation(title=_("审议"))
        .Permission(ROLE_TASK_PERMISSION[stage["role"]])
        .Next(this.check_leadership)
    )
    nodes["check_leadership"] = (
        flow.If(status_in("approved"))
        .Then(next_or_end(nodes, next_node, "approved"))
        .Else(this.rejected)
    )
    nodes["rejected"] = flow.End()
    return "leadership_review", nodes
