"""committee_vote (View, the award committee) -> check_committee: awarded -> next stage |
not_awarded (End)."""

from django.utils.translation import gettext_lazy as _

from ...permissions import ROLE_TASK_PERMISSION
from ..base import Wiring, decided_by_a_person


def build(stage: dict, next_node: str | None):
    return decided_by_a_person(
        Wiring(stage, next_node),
        task="committee_vote",
        title=stage.get("name") or _("评审委员会表决"),
        permission=ROLE_TASK_PERMISSION[stage["role"]],
        check="check_committee",
        passed="approved",
        exit_outcome="awarded",
        failed="not_awarded",
    )
