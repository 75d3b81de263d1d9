"""Pages of the decision stage. The call page's decision section and its decide action; and the
recognition validity pages for staff: recognitions (and certificates) that expire soon, and the
full list with the expired ones marked. A recognition is a decided application with a validity
date (`Application.valid_until`, set by the decision stage's `validity_years`)."""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ... import selectors
from ...models import Application
from ...permissions import VIEW_ALL
from ...views.base import (
    CONFIRM_MISSING,
    EXPIRING_MAX_DAYS,
    batch_job_told,
    blocked_reason,
    confirmed,
    expiring_days_field,
    role_required,
)
from .services import decision_issue_check
from .tasks import decision_issue_job

DEFAULT_DAYS = 90


class ExpiringForm(forms.Form):
    """`?days=N`: the look-ahead of the expiring list."""

    days = expiring_days_field(_("天数"))


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
        "decision/recognitions_expiring.html",
        {"form": form, "days": days, "rows": rows, "today": today, "max_days": EXPIRING_MAX_DAYS},
    )


@role_required(VIEW_ALL)
def recognition_list(request):
    recognitions = _recognitions(request.user).order_by("valid_until", "institution__name", "pk")
    page = Paginator(recognitions, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "decision/recognitions.html",
        {"page": page, "today": timezone.localdate()},
    )


# --- the call page (workflows.views.call_manage) ---------------------------------------------


def call_section(request, call, stage: dict) -> dict:
    """The decision section of the call page: the decision once issued, and the button, disabled
    with the reason when the decision cannot be issued yet (the server checks the same)."""
    decision = selectors.call_decision(call)
    return {
        "template": "decision/call_section.html",
        "decision": decision,
        "blocked": blocked_reason(decision_issue_check, user=request.user, call=call),
    }


def call_decide(request, call):
    """Check what can be checked at once, then issue the decision as a background job."""
    decision_issue_check(user=request.user, call=call)
    if not confirmed(request):
        raise ValidationError(CONFIRM_MISSING, code="unconfirmed")
    return batch_job_told(
        request,
        decision_issue_job.enqueue(user_id=request.user.pk, call_id=call.pk),
        call=call,
        done=gettext("决定及通知书（证书）已印发。"),
        failed=gettext("印发失败，请稍后重试或联系管理员。"),
        running=gettext("决定正在后台印发，请查看印发进度。"),
    )


CALL_ACTIONS = {"decide": call_decide}
