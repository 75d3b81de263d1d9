"""Finance's pages, the menu entry, and where the award-letter and payment tasks lead."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from . import views

urlpatterns = [
    path("finance/", views.finance_list, name="finance_list"),
    path("applications/<int:pk>/award-letter/", views.award_letter_issue, name="award_letter"),
    path("applications/<int:pk>/payment/", views.payment_record, name="payment_record"),
]

NAV = [("workflows.disburse", "finance_list", _("拨付"))]

TASK_ROUTES = {
    "award_letter": lambda task, application: reverse("finance_list"),
    "payment": lambda task, application: reverse("payment_record", args=[application.pk]),
}
