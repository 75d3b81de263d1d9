"""committee_vote (View, the award committee) -> check_committee: awarded -> next stage |
not_awarded (End)."""

from django.utils.translation import gettext_lazy as _
from viewflow.workflow import flow

from ...permissions import ROLE_TASK_PERMISSION
from ..base import Wiring, status_in, task_view


def build(stage: dict, next_node: str | None):
    wiring = Wiring(stage, next_node)
    wiring.add(
        "committee_vote",
        flow.View(task_view)
        .Annotation(title=stage.get("name") or _("评审委员会表决"))
        .Permission(ROLE_TASK_PERMISSION[stage["role"]])
        .Next(wiring.to("check_committee")),
    )
    wiring.add(
        "check_committee",
        flow.If(status_in("approved")).Then(wiring.exit("awarded")).Else(wiring.to("not_awarded")),
    )
    wiring.add("not_awarded", flow.End())
    return wiring.built("committee_vote")
