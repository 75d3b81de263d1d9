"""拨付: finance issues the award letter and records the payment from the call's budget."""

from viewflow import this
from viewflow.workflow import flow

from ..permissions import ROLE_TASK_PERMISSION
from .base import next_or_end, task_view

PARAMS = {"role": (str, "finance_officer")}
REQUIRES = ("application", "decision")


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    permission = ROLE_TASK_PERMISSION[stage["role"]]
    nodes["award_letter"] = flow.View(task_view).Permission(permission).Next(this.payment)
    nodes["payment"] = (
        flow.View(task_view).Permission(permission).Next(next_or_end(nodes, next_node, "paid"))
    )
    return "award_letter", nodes
