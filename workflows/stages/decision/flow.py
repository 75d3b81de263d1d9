"""await_decision (Handle: the officer issues the call's decision) -> next stage or the end."""

from django.utils.translation import gettext_lazy as _
from viewflow.workflow import flow

from ..base import Wiring


def build(stage: dict, next_node: str | None):
    wiring = Wiring(stage, next_node)
    wiring.add(
        "await_decision",
        flow.Handle().Annotation(title=_("印发决定")).Next(wiring.exit("decided")),
        work_for="workflows.issue_decision",
    )
    return wiring.built("await_decision")
