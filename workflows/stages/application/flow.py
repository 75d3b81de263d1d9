"""submit (StartHandle): the process starts when the applicant submits."""

from viewflow.workflow import flow

from ..base import next_or_end


def process_link(activation, application):
    """StartHandle body: one service links the new process to the submitted application."""
    from ...services.applications import process_link as link

    return link(activation, application)


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["submit"] = flow.StartHandle(process_link).Next(
        next_or_end(nodes, next_node, "submitted")
    )
    return "submit", nodes
