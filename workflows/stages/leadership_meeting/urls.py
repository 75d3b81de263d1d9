"""The leadership meeting's page; its tasks lead there."""

from django.urls import path, reverse

from .views import leadership_meeting

urlpatterns = [
    path("calls/<int:call_pk>/leadership/", leadership_meeting, name="leadership_meeting"),
]

TASK_ROUTES = {
    "leadership_review": lambda task, application: reverse(
        "leadership_meeting", args=[application.call_id]
    ),
}
