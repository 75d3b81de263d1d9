"""await_decision (Handle: the officer issues the call's decision) -> next stage or the end."""

from viewflow.workflow import flow

from ..base import next_or_end


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["await_decision"] = flow.Handle().Next(next_or_end(nodes, next_node, "decided"))
    return "await_decision", nodes
