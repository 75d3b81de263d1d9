"""Recognition validity pages for staff: recognitions (and certificates) that expire soon, and the
full list with the expired ones marked. A recognition is a decided application with a validity
date (`Application.valid_until`, set by the decision stage's `validity_years`)."""

from datetime import timedelta

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import selectors
from ..models import Application
from ..permissions import VIEW_ALL
from . import role_required

DEFAULT_DAYS = 90
MAX_DAYS = 3650  # ten years: the longest validity a program gives
DAYS_MESSAGE = _("天数须为1至3650之间的整数。")


class ExpiringForm(forms.Form):
    """`?days=N`: the look-ahead of the expiring list."""

    days = forms.IntegerField(
        label=_("天数"),
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        error_messages={
            "invalid": DAYS_MESSAGE,
            "min_value": DAYS_MESSAGE,
            "max_value": DAYS_MESSAGE,
        },
    )


def _recognitions(user) -> QuerySet[Application]:
    """Decided applications with a validity date that `user` may see (the selectors' rule)."""
    return selectors.applications_visible_to(user).filter(
        status__in=selectors.DECIDED_STATUSES, valid_until__isnull=False
    )


@role_required(VIEW_ALL)
def recognition_expiring(request):
    form = ExpiringForm(request.GET)
    today = timezone.localdate()
    rows = []
    days = DEFAULT_DAYS
    if form.is_valid():
        days = form.cleaned_data["days"] or DEFAULT_DAYS
        until = today + timedelta(days=days)
        expiring = (
            _recognitions(request.user)
            .filter(valid_until__gte=today, valid_until__lte=until)
            .order_by("valid_until", "institution__name", "pk")
        )
        rows = [{"application": a, "days_left": (a.valid_until - today).days} for a in expiring]
    return render(
        request,
        "workflows/recognition/expiring.html",
        {"form": form, "days": days, "rows": rows, "today": today, "max_days": MAX_DAYS},
    )


@role_required(VIEW_ALL)
def recognition_list(request):
    recognitions = _recognitions(request.user).order_by("valid_until", "institution__name", "pk")
    page = Paginator(recognitions, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "workflows/recognition/list.html",
        {"page": page, "today": timezone.localdate()},
    )


urlpatterns = [
    path("", recognition_list, name="recognition_list"),
    path("expiring/", recognition_expiring, name="recognition_expiring"),
]
