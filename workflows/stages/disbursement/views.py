"""Finance's pages: the decided awards with each call's budget, the award letter, the payment."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ... import selectors
from ...models import Application
from ...services.tasks import TaskAlreadyDone
from ...views.base import form_errors, require, role_required
from . import services
from .forms import PaymentForm

Status = Application.Status


@role_required("workflows.disburse")
def finance_list(request):
    applications = (
        selectors.applications_visible_to(request.user)
        .filter(status__in=[Status.DECIDED, Status.LETTER_ISSUED, Status.PAID])
        .order_by("call", "institution__name")
    )
    calls = selectors.calls_of(applications)
    return render(
        request, "disbursement/finance_list.html", {"applications": applications, "calls": calls}
    )


@login_required
@require_POST
def award_letter_issue(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    require(request.user, "workflows.disburse")
    try:
        services.award_letter_issue(user=request.user, application=application)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except TaskAlreadyDone:
        messages.error(request, _("奖励通知书已印发或该申报不在此阶段。"))
    else:
        messages.success(request, _("奖励通知书已印发。"))
    return redirect("finance_list")


@login_required
def payment_record(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    require(request.user, "workflows.disburse")
    form = PaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_record(
                user=request.user,
                application=application,
                voucher_number=form.cleaned_data["voucher_number"],
                paid_on=form.cleaned_data["paid_on"],
            )
        except ValidationError as error:
            form_errors(form, error)
        except TaskAlreadyDone:
            form.add_error(None, _("该申报已拨付或不在拨付阶段。"))
        else:
            messages.success(request, _("拨付已登记。"))
            return redirect("finance_list")
    return render(
        request,
        "disbursement/payment_form.html",
        {"form": form, "application": application, "call": application.call},
    )
