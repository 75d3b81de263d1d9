"""recommendation (View, the city office of the applicant's region) -> check_recommendation:
recommended -> next stage | not_recommended (End)."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from ...permissions import ROLE_TASK_PERMISSION
from ..base import next_or_end, status_in, task_view


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["recommendation"] = (
        flow.View(task_view)
        .Annotation(title=_("推荐"))
        .Permission(ROLE_TASK_PERMISSION[stage["role"]])
        .Next(this.check_recommendation)
    )
    nodes["check_recommendation"] = (
        flow.If(status_in("recommended"))
        .Then(next_or_end(nodes, next_node, "recommended"))
        .Else(this.not_recommended)
    )
    nodes["not_recommended"] = flow.End()
    return "recommendation", nodes
