"""Pages of the decision stage: recognitions and their validity; the menu entry."""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from ...permissions import VIEW_ALL
from .views import recognition_expiring, recognition_list

urlpatterns = [
    path("recognitions/", recognition_list, name="recognition_list"),
    path("recognitions/expiring/", recognition_expiring, name="recognition_expiring"),
]

NAV = [(VIEW_ALL, "recognition_list", _("认定有效期"))]
