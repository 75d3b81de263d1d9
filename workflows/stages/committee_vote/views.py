"""Pages of the committee stage (评审委员会表决): a call's ranked list of the applications waiting
for the committee, an outcome per row, and one button that approves the list as a whole."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from forms.validators import localised

from ... import selectors
from ...permissions import ROLE_TASK_PERMISSION
from ...services.tasks import TaskAlreadyDone
from ...views.base import require
from . import services as service

# The value of the "not awarded" option in each row's select.
NOT_AWARDED = "none"


def _options(program: dict, stage: dict) -> list[tuple[str, str]]:
    if stage["outcome"] == service.APPROVE:
        return [(service.APPROVE, _("通过")), (NOT_AWARDED, _("不通过"))]
    tiers = sorted(program["tiers"], key=lambda tier: tier["rank"], reverse=True)
    return [(tier["key"], localised(tier)) for tier in tiers] + [(NOT_AWARDED, _("未获奖"))]


def _quota_rows(call, program: dict, stage: dict) -> list[dict]:
    given = service.tiers_given(call=call)
    rows = []
    for tier in sorted(program["tiers"], key=lambda tier: tier["rank"], reverse=True):
        quota = service.quota_for(stage, tier["key"])
        if quota is not None:
            rows.append(
                {"label": localised(tier), "given": given.get(tier["key"], 0), "quota": quota}
            )
    return rows


@login_required
def committee_list(request, call_pk):
    call = get_object_or_404(selectors.calls_all(), pk=call_pk)
    ranked = list(
        service.committee_ranked(call=call).filter(
            pk__in=selectors.applications_visible_to(request.user).values("pk")
        )
    )
    program = service.committee_program(call=call, applications=ranked)
    stage = service.committee_stage(program)
    if stage is None:
        raise Http404
    require(request.user, ROLE_TASK_PERMISSION[stage["role"]])
    if request.method == "POST":
        choices, reasons = {}, {}
        for application in ranked:
            value = request.POST.get(f"choice_{application.pk}", "")
            if value:
                choices[application.pk] = None if value == NOT_AWARDED else value
            reasons[application.pk] = request.POST.get(f"reason_{application.pk}", "")
        try:
            done = service.committee_approve_list(
                user=request.user, call=call, choices=choices, reasons=reasons
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        except TaskAlreadyDone:
            messages.error(request, _("名单已由他人表决或已变化，请刷新后重试。"))
        else:
            awarded = sum(1 for a in done if choices[a.pk] is not None)
            messages.success(
                request,
                _("名单已批准：%(awarded)d项获奖（通过），%(not_awarded)d项未获奖（未通过）。")
                % {"awarded": awarded, "not_awarded": len(done) - awarded},
            )
            return redirect("committee_list", call_pk=call.pk)
    rows = [
        {
            "rank": n,
            "application": application,
            "choice": request.POST.get(f"choice_{application.pk}", ""),
            "reason": request.POST.get(f"reason_{application.pk}", ""),
        }
        for n, application in enumerate(ranked, start=1)
    ]
    return render(
        request,
        "committee_vote/list.html",
        {
            "call": call,
            "rows": rows,
            "options": _options(program, stage),
            "quotas": _quota_rows(call, program, stage),
            "outcome": stage["outcome"],
        },
    )
