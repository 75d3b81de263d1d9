"""The leadership meeting's page: a call's applications waiting for it, a decision per row."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from ... import selectors
from ...amounts import budget_outlook, program_pays, proposed_amount
from ...models import Application, Call
from ...permissions import ROLE_TASK_PERMISSION
from ...programs import program_get, program_stages
from ...services.tasks import TaskAlreadyDone
from ...views.base import CONFIRM_MISSING, confirmed
from .services import leadership_decide

Status = Application.Status


@login_required
def leadership_meeting(request, call_pk):
    call = get_object_or_404(Call, pk=call_pk)
    stages = program_stages(program_get(call.program_slug).content, "leadership_meeting")
    if not stages:
        raise Http404
    if not any(request.user.has_perm(ROLE_TASK_PERMISSION[s["role"]]) for s in stages):
        raise PermissionDenied
    waiting = list(
        selectors.applications_awaiting(call, "leadership_review")
        .filter(pk__in=selectors.applications_visible_to(request.user).values("pk"))
        .order_by(F("panel_score").desc(nulls_last=True), "institution__name")
    )
    if request.method == "POST":
        decisions = []
        approve_all = "approve_all" in request.POST
        for application in waiting:
            choice = "approve" if approve_all else request.POST.get(f"decision_{application.pk}")
            if choice in ("approve", "reject"):
                reason = request.POST.get(f"reason_{application.pk}", "")
                decisions.append((application, choice == "approve", reason))
        if not decisions:
            messages.error(request, _("请至少对一项申报作出决定。"))
        elif not confirmed(request):
            messages.error(request, CONFIRM_MISSING)
        else:
            try:
                leadership_decide(user=request.user, decisions=decisions)
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            except TaskAlreadyDone:
                messages.error(request, _("部分申报已由他人审议，请刷新后重试。"))
            else:
                messages.success(request, _("已审议%(n)d项申报。") % {"n": len(decisions)})
                return redirect("leadership_meeting", call_pk=call.pk)
    pays = program_pays(program_get(call.program_slug).content)
    rows = []
    for a in waiting:
        amount, why = proposed_amount(a) if pays else (None, "")
        rows.append(
            {
                "application": a,
                "amount": amount,
                "amount_missing": why,
                "decision": request.POST.get(f"decision_{a.pk}", ""),
                "reason": request.POST.get(f"reason_{a.pk}", ""),
            }
        )
    outlook = (
        budget_outlook(call, [row["amount"] for row in rows], exclude=[a.pk for a in waiting])
        if pays
        else None
    )
    return render(
        request,
        "leadership_meeting/leadership_meeting.html",
        {"call": call, "rows": rows, "pays": pays, "outlook": outlook},
    )
