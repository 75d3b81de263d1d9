"""审议 (局务会): leadership approves or rejects accepted applications, one by one or as a list."""

from viewflow import this
from viewflow.workflow import flow

from ..permissions import ROLE_TASK_PERMISSION
from .base import next_or_end, status_in, task_view

PARAMS = {"role": (str, "leadership")}
REQUIRES = ("application",)


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["leadership_review"] = (
        flow.View(task_view)
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
