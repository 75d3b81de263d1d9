"""submit (StartHandle): the process starts when the applicant submits."""

from viewflow.workflow import flow

from ..base import Wiring


def process_link(activation, application, **submission):
    """StartHandle body: one service links the new process to the submitted application."""
    from ...services.applications import process_link as link

    return link(activation, application, **submission)


def build(stage: dict, next_node: str | None):
    wiring = Wiring(stage, next_node)
    wiring.add("submit", flow.StartHandle(process_link).Next(wiring.exit("submitted")))
    return wiring.built("submit")
