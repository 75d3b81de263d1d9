"""recommendation (View, the city office of the applicant's region) -> check_recommendation:
recommended -> next stage | not_recommended (End)."""

from django.utils.translation import gettext_lazy as _
from viewflow.workflow import flow

from ...permissions import ROLE_TASK_PERMISSION
from ..base import Wiring, status_in, task_view


def build(stage: dict, next_node: str | None):
    wiring = Wiring(stage, next_node)
    wiring.add(
        "recommendation",
        flow.View(task_view)
        .Annotation(title=stage.get("name") or _("推荐"))
        .Permission(ROLE_TASK_PERMISSION[stage["role"]])
        .Next(wiring.to("check_recommendation")),
    )
    wiring.add(
        "check_recommendation",
        flow.If(status_in("recommended"))
        .Then(wiring.exit("recommended"))
        .Else(wiring.to("not_recommended")),
    )
    wiring.add("not_recommended", flow.End())
    return wiring.built("recommendation")
