"""leadership_review (View) -> check_leadership: approved -> next stage | rejected (End)."""

from django.utils.translation import gettext_lazy as _
from viewflow.workflow import flow

from ...permissions import ROLE_TASK_PERMISSION
from ..base import Wiring, status_in, task_view


def build(stage: dict, next_node: str | None):
    wiring = Wiring(stage, next_node)
    wiring.add(
        "leadership_review",
        flow.View(task_view)
        .Annotation(title=stage.get("name") or _("审议"))
        .Permission(ROLE_TASK_PERMISSION[stage["role"]])
        .Next(wiring.to("check_leadership")),
    )
    wiring.add(
        "check_leadership",
        flow.If(status_in("approved")).Then(wiring.exit("approved")).Else(wiring.to("rejected")),
    )
    wiring.add("rejected", flow.End())
    return wiring.built("leadership_review")
