"""Pages of the formal review stage; the inbox leads a reviewer to the review page and the
applicant to the edit page of a correction."""

from django.urls import path, reverse

from .views import formal_review

urlpatterns = [
    path("applications/<int:pk>/review/", formal_review, name="formal_review"),
]

TASK_ROUTES = {
    "formal_review": lambda task, application: reverse("formal_review", args=[application.pk]),
    "correction": lambda task, application: reverse("application_edit", args=[application.pk]),
}
