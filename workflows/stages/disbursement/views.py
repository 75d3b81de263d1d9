"""Finance's pages: the decided awards with each call's budget, the award letter, the payment."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from documents.amounts import amount_in_words
from documents.models import Document

from ... import selectors
from ...listing import APPLICATION_PATHS, Column, ExportColumn, Listing
from ...models import Application, Call
from ...programs import program_pays, programs_loaded
from ...services.tasks import TaskAlreadyDone, open_task_or_none
from ...views.base import form_errors, require, role_required
from . import services
from .forms import PaymentForm

Status = Application.Status
PAYABLE = [Status.DECIDED, Status.LETTER_ISSUED, Status.PAID]


def _amount(application) -> Decimal | None:
    """What is paid: the payment once recorded, else the award letter's amount."""
    payment = getattr(application, "payment", None)
    return payment.amount if payment is not None else application.award_amount


def _amount_words(application) -> str:
    amount = _amount(application)
    return amount_in_words(amount) if amount is not None else ""


def _payment_value(name: str):
    def value(application):
        payment = getattr(application, "payment", None)
        return getattr(payment, name) if payment is not None else None

    return value


PAYMENTS = Listing(
    name=gettext_lazy("资金拨付"),
    columns=[
        Column("institution", gettext_lazy("申报单位"), ("institution__name",)),
        Column("uscc", gettext_lazy("统一社会信用代码"), ("institution__uscc",)),
        Column("call", gettext_lazy("批次"), ("call__title",)),
        Column("tier", gettext_lazy("级别")),
        Column("amount", gettext_lazy("金额"), ("award_amount",)),
        Column("letter", gettext_lazy("奖励通知书文号"), ("award_letter_number",)),
        Column("voucher", gettext_lazy("凭证号"), ("payment__voucher_number",)),
        Column("paid", gettext_lazy("拨付日期"), ("payment__paid_on",)),
        Column("status", gettext_lazy("状态"), ("status",)),
        Column("actions", ""),
    ],
    default_sort="call",
    paths={**APPLICATION_PATHS, "date": "payment__paid_on"},
    statuses=[(s.value, s.label) for s in PAYABLE],
    date_label=gettext_lazy("拨付日期"),
    export=[
        ExportColumn(gettext_lazy("申报单位"), lambda a: a.institution.name),
        ExportColumn(gettext_lazy("统一社会信用代码"), lambda a: a.institution.uscc),
        ExportColumn(gettext_lazy("批次"), lambda a: a.call.title),
        ExportColumn(gettext_lazy("开户银行"), lambda a: a.bank_name),
        ExportColumn(gettext_lazy("账户名称"), lambda a: a.account_name),
        ExportColumn(gettext_lazy("银行账号"), lambda a: a.bank_account),
        ExportColumn(gettext_lazy("金额（小写）"), _amount),
        ExportColumn(gettext_lazy("金额（大写）"), _amount_words),
        ExportColumn(gettext_lazy("奖励通知书文号"), lambda a: a.award_letter_number),
        ExportColumn(gettext_lazy("凭证号"), _payment_value("voucher_number")),
        ExportColumn(gettext_lazy("拨付日期"), _payment_value("paid_on")),
        ExportColumn(gettext_lazy("状态"), lambda a: a.get_status_display()),
    ],
)


@role_required("workflows.disburse")
def finance_list(request):
    """The decided awards, filtered and sorted, with each listed call's budget; the export
    carries what a payment needs (bank, account, amount in figures and capitals, letter number,
    voucher)."""
    letters = Document.objects.filter(
        application=OuterRef("pk"),
        kind=Document.Kind.AWARD_LETTER,
        superseded_at__isnull=True,
        voided_at__isnull=True,
    ).values("number")[:1]
    # Only programs that pay: a recognition's decided applications have no letter to issue.
    paying = [slug for slug in programs_loaded() if program_pays(slug)]
    applications = (
        selectors.applications_visible_to(request.user)
        .filter(status__in=PAYABLE, call__program_slug__in=paying)
        .select_related("payment")
        .annotate(award_letter_number=Subquery(letters))
    )
    listed = PAYMENTS.run(request, applications)
    if isinstance(listed, HttpResponse):
        return listed
    calls = Call.objects.filter(pk__in={a.call_id for a in listed.page}).order_by("-opens_at")
    return render(request, "disbursement/finance_list.html", {"list": listed, "calls": calls})


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
    if request.method == "GET" and open_task_or_none(application, "payment") is None:
        raise Http404  # not waiting for its payment (a draft, paid, or a program paying nothing)
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
