"""leadership_review (View) -> check_leadership: approved -> next stage | rejected (End)."""

from django.utils.translation import gettext_lazy as _

from ...permissions import ROLE_TASK_PERMISSION
from ..base import Wiring, decided_by_a_person


def build(stage: dict, next_node: str | None):
    return decided_by_a_person(
        Wiring(stage, next_node),
        task="leadership_review",
        title=stage.get("name") or _("审议"),
        permission=ROLE_TASK_PERMISSION[stage["role"]],
        check="check_leadership",
        passed="approved",
        exit_outcome="approved",
        failed="rejected",
    )
