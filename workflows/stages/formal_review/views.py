"""The formal review page: the application's facts and files, and the reviewer's conclusion."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from ... import selectors
from ...services.tasks import TaskAlreadyDone, open_task_or_none
from ...views.base import form_errors, require
from .forms import FormalReviewForm
from .services import formal_review_complete


@login_required
def formal_review(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    require(request.user, "workflows.formal_review")
    if request.method == "GET" and open_task_or_none(application, "formal_review") is None:
        raise Http404  # not waiting for a review (a draft, or reviewed): no form to offer
    form = FormalReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            formal_review_complete(
                user=request.user,
                application=application,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form_errors(form, error)
        except TaskAlreadyDone:
            messages.error(request, _("该任务已由他人办理或已不在形式审查阶段。"))
            return redirect("application_detail", pk=pk)
        else:
            messages.success(request, _("形式审查结论已提交。"))
            return redirect("inbox")
    return render(
        request,
        "formal_review/formal_review.html",
        {
            "form": form,
            "application": application,
            "attachments": application.attachments.filter(superseded=False),
        },
    )
