"""Pages of the public notice: the notices (public, no login), objections and their handling,
and the call page's notice section with its publish action."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from ... import selectors
from ...listing import Column, ExportColumn, Listing
from ...models import Objection
from ...views.base import form_errors, require
from . import services
from .forms import ObjectionForm, ObjectionHandleForm


def notice_list(request):
    return render(
        request, "public_notice/notice_list.html", {"notices": selectors.public_notices()}
    )


def notice_detail(request, pk):
    notice = get_object_or_404(selectors.public_notices(), pk=pk)
    return render(
        request,
        "public_notice/notice_detail.html",
        {"notice": notice, "entries": selectors.notice_entries(notice)},
    )


@login_required
def objection_lodge(request, notice_pk, application_pk):
    notice = get_object_or_404(selectors.public_notices(), pk=notice_pk)
    application = get_object_or_404(selectors.notice_entries(notice), pk=application_pk)
    form = ObjectionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.objection_lodge(
                user=request.user, application=application, **form.cleaned_data
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("异议已提交，我们将依法核实处理。"))
            return redirect("notice_detail", pk=notice.pk)
    return render(
        request,
        "public_notice/objection_form.html",
        {"form": form, "notice": notice, "application": application},
    )


@login_required
def objection_handle(request, pk):
    objection = get_object_or_404(selectors.objections_visible_to(request.user), pk=pk)
    require(request.user, "workflows.run_public_notice")
    form = ObjectionHandleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.objection_handle(
                user=request.user,
                objection=objection,
                upheld=form.cleaned_data["decision"] == "uphold",
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("异议已处理。"))
            return redirect("call_manage", call_pk=objection.application.call_id)
    return render(
        request, "public_notice/objection_handle.html", {"form": form, "objection": objection}
    )


def _objector(objection) -> str:
    return objection.organisation_name or objection.real_name


OBJECTIONS = Listing(
    name=_l("异议"),
    columns=[
        Column("institution", _l("申报单位"), ("application__institution__name",)),
        Column("uscc", _l("统一社会信用代码"), ("application__institution__uscc",)),
        Column("call", _l("批次"), ("application__call__title",)),
        Column("objector", _l("异议人")),
        Column("statement", _l("异议内容")),
        Column("lodged", _l("提出时间"), ("lodged_at",)),
        Column("status", _l("处理状态"), ("status",)),
        Column("handling", ""),
    ],
    default_sort="-lodged",
    paths={
        "program": "application__call__program_slug",
        "call": "application__call",
        "region": "application__institution__region_code",
        "status": "status",
        "date": "lodged_at",
        "q": ("application__institution__name", "application__institution__uscc"),
    },
    statuses=Objection.Status.choices,
    status_label=_l("处理状态"),
    date_label=_l("提出日期"),
    export=[
        ExportColumn(_l("申报单位"), lambda o: o.application.institution.name),
        ExportColumn(_l("统一社会信用代码"), lambda o: o.application.institution.uscc),
        ExportColumn(_l("批次"), lambda o: o.application.call.title),
        ExportColumn(_l("异议人身份"), lambda o: o.get_capacity_display()),
        ExportColumn(_l("异议人"), _objector),
        ExportColumn(_l("联系电话"), lambda o: o.phone),
        ExportColumn(_l("异议内容"), lambda o: o.statement),
        ExportColumn(_l("提出时间"), lambda o: o.lodged_at),
        ExportColumn(_l("处理状态"), lambda o: o.get_status_display()),
        ExportColumn(_l("处理时间"), lambda o: o.handled_at),
        ExportColumn(_l("处理理由"), lambda o: o.handling_reason),
    ],
)


@login_required
def objection_list(request):
    """Objections: the notice officer and other staff see every one, anyone else the ones they
    lodged (selectors.objections_visible_to)."""
    objections = selectors.objections_visible_to(request.user).select_related("application__call")
    listed = OBJECTIONS.run(request, objections)
    if isinstance(listed, HttpResponse):
        return listed
    return render(
        request,
        "public_notice/objection_list.html",
        {"list": listed, "can_handle": request.user.has_perm("workflows.run_public_notice")},
    )


@login_required
def objection_evidence(request, pk):
    objection = get_object_or_404(selectors.objections_visible_to(request.user), pk=pk)
    if objection.lodged_by_id != request.user.pk:
        # Evidence may carry the objector's name and ID number: only the notice officer opens it.
        require(request.user, "workflows.run_public_notice")
    return FileResponse(objection.evidence.open("rb"), as_attachment=True)


# --- the call page (workflows.views.call_manage) ---------------------------------------------


def call_section(request, call, stage: dict) -> dict:
    """The notice section of the call page: the call's notices, its objections, the button."""
    return {
        "template": "public_notice/call_section.html",
        "notices": call.public_notices.all(),
        "objections": selectors.objections_visible_to(request.user).filter(application__call=call),
    }


def call_publish(request, call):
    services.public_notice_publish(user=request.user, call=call)
    messages.success(request, _("公示已发布。"))


CALL_ACTIONS = {"publish": call_publish}
