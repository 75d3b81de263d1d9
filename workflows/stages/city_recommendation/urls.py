"""Pages of the city recommendation stage, its menu entry and where its tasks lead."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from ...selectors import RECOMMEND
from .views import recommendation_decide, recommendation_list

urlpatterns = [
    path("recommendation/", recommendation_list, name="recommendation_list"),
    path("recommendation/<int:pk>/", recommendation_decide, name="recommendation_decide"),
]

NAV = [(RECOMMEND, "recommendation_list", _("推荐"))]

TASK_ROUTES = {
    "recommendation": lambda task, application: reverse(
        "recommendation_decide", args=[application.pk]
    ),
}
