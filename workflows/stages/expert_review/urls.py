"""Pages of the expert review stage, the experts' menu entry, and where a seat's task leads."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from .views import (
    EXPERT_REVIEW,
    expert_seats,
    expert_task,
    panel_detail,
    panel_replace,
    panel_vacancy,
    ranking,
    round_close,
    seat_declare,
    seat_score,
)

urlpatterns = [
    path("expert-review/", expert_seats, name="expert_seats"),
    path("expert-review/seats/<int:pk>/declare/", seat_declare, name="seat_declare"),
    path("expert-review/seats/<int:pk>/score/", seat_score, name="seat_score"),
    path("expert-review/seats/<int:pk>/replace/", panel_replace, name="panel_replace"),
    path("expert-review/tasks/<int:task_pk>/", expert_task, name="expert_task"),
    path("expert-review/tasks/<int:task_pk>/vacancy/", panel_vacancy, name="panel_vacancy"),
    path("expert-review/applications/<int:pk>/panel/", panel_detail, name="panel_detail"),
    path("expert-review/calls/<int:call_pk>/ranking/", ranking, name="ranking"),
    path(
        "expert-review/calls/<int:call_pk>/rounds/<slug:round_key>/close/",
        round_close,
        name="round_close",
    ),
]

NAV = [(EXPERT_REVIEW, "expert_seats", _("评审任务"))]

TASK_ROUTES = {
    "expert_score": lambda task, application: reverse("expert_task", args=[task.pk]),
}

# Work on a whole call for the inbox: a round that passes only its best N waits for its list.
CALL_WORK = {
    "await_round": (
        "workflows.manage_panels",
        _("确定进入下一环节名单"),
        lambda call, node: f"{reverse('ranking', args=[call.pk])}?round={node.stage_key}",
    ),
}
