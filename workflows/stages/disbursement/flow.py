"""award_letter (View) -> payment (View) -> next stage or the end."""

from django.utils.translation import gettext_lazy as _
from viewflow.workflow import flow

from ...permissions import ROLE_TASK_PERMISSION
from ..base import Wiring, task_view


def build(stage: dict, next_node: str | None):
    wiring = Wiring(stage, next_node)
    permission = ROLE_TASK_PERMISSION[stage["role"]]
    wiring.add(
        "award_letter",
        flow.View(task_view)
        .Annotation(title=_("印发奖励通知书"))
        .Permission(permission)
        .Next(wiring.to("payment")),
    )
    wiring.add(
        "payment",
        flow.View(task_view)
        .Annotation(title=_("登记拨付"))
        .Permission(permission)
        .Next(wiring.exit("paid")),
    )
    return wiring.built("award_letter")
