"""recommendation (View, the city office of the applicant's region) -> check_recommendation:
recommended -> next stage | not_recommended (End)."""

from django.utils.translation import gettext_lazy as _

from ...permissions import ROLE_TASK_PERMISSION
from ..base import Wiring, decided_by_a_person


def build(stage: dict, next_node: str | None):
    return decided_by_a_person(
        Wiring(stage, next_node),
        task="recommendation",
        title=stage.get("name") or _("推荐"),
        permission=ROLE_TASK_PERMISSION[stage["role"]],
        check="check_recommendation",
        passed="recommended",
        exit_outcome="recommended",
        failed="not_recommended",
    )
