"""The committee's page: a call's ranked list and one vote on it; its tasks lead there."""

from django.urls import path, reverse

from .views import committee_list

urlpatterns = [
    path("committee/<int:call_pk>/", committee_list, name="committee_list"),
]

TASK_ROUTES = {
    "committee_vote": lambda task, application: reverse(
        "committee_list", args=[application.call_id]
    ),
}
