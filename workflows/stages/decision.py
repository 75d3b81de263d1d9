"""决定: one decision document for the call's list and a decision notice per applicant."""

from viewflow.workflow import flow

from .base import next_or_end

PARAMS = {"role": (str, "notice_officer")}
REQUIRES = ("application",)


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["await_decision"] = flow.Handle().Next(next_or_end(nodes, next_node, "decided"))
    return "await_decision", nodes
