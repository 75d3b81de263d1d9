"""Pages of the public notice: the notices (public, no login), objections and their handling,
and the call page's notice section with its publish action."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from ... import selectors
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
