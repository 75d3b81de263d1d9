"""Pages of the public notice stage and its menu entry (public: no permission needed)."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from . import views

urlpatterns = [
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<int:pk>/", views.notice_detail, name="notice_detail"),
    path(
        "notices/<int:notice_pk>/object/<int:application_pk>/",
        views.objection_lodge,
        name="objection_lodge",
    ),
    path("objections/", views.objection_list, name="objection_list"),
    path("notices/<int:pk>/period/", views.notice_period, name="notice_period"),
    path("objections/<int:pk>/handle/", views.objection_handle, name="objection_handle"),
    path("objections/<int:pk>/evidence/", views.objection_evidence, name="objection_evidence"),
]

NAV = [(None, "notice_list", _("公示"))]

# Work on a whole call for the inbox: a list waiting to be published (objections are counted
# from the objections themselves, whether the period is running or over).
CALL_WORK = {
    "await_notice": (
        "workflows.run_public_notice",
        _("发布公示"),
        lambda call, node: reverse("call_manage", args=[call.pk]),
    ),
}
