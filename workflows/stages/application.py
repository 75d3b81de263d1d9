"""申报: the institution submits its application; submission starts the process."""

from viewflow.workflow import flow

from .base import next_or_end, process_link

PARAMS: dict = {}
REQUIRES: tuple = ()


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["submit"] = flow.StartHandle(process_link).Next(
        next_or_end(nodes, next_node, "submitted")
    )
    return "submit", nodes
