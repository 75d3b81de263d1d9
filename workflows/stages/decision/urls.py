"""Pages of the decision stage: recognitions and their validity; the menu entry."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from ...permissions import VIEW_ALL
from .views import recognition_expiring, recognition_list

urlpatterns = [
    path("recognitions/", recognition_list, name="recognition_list"),
    path("recognitions/expiring/", recognition_expiring, name="recognition_expiring"),
]

NAV = [(VIEW_ALL, "recognition_list", _("认定有效期"))]

# Work on a whole call for the inbox: the decision is due once the list is final.
CALL_WORK = {
    "await_decision": (
        "workflows.issue_decision",
        _("印发决定"),
        lambda call, node: reverse("call_manage", args=[call.pk]),
    ),
}
