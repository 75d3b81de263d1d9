"""Pages of the public notice: the notices (public, no login), objections and their handling,
and the call page's notice section with its publish action."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ... import selectors
from ...amounts import program_pays, proposed_amount
from ...listing import Column, ExportColumn, Listing, application_paths
from ...models import Objection
from ...personal_data import id_number_mask
from ...programs import program_get
from ...views.base import blocked_reason, form_errors, input_keep, require
from . import services
from .forms import NoticePeriodForm, ObjectionForm, ObjectionHandleForm


def notice_list(request):
    return render(
        request, "public_notice/notice_list.html", {"notices": selectors.public_notices()}
    )


def notice_detail(request, pk):
    """The public notice, for everyone: the list with the amounts proposed, where and until
    when to object, who publishes it and when, and any change of its period. Nothing about the
    applicants' staff (contact names, phones) is shown."""
    notice = get_object_or_404(selectors.public_notices(), pk=pk)
    entries = list(selectors.notice_entries(notice))
    program = entries[0].program if entries else program_get(notice.call.program_slug).content
    pays = program_pays(program)
    rows = [{"application": a, "amount": proposed_amount(a)[0] if pays else None} for a in entries]
    return render(
        request,
        "public_notice/notice_detail.html",
        {
            "notice": notice,
            "rows": rows,
            "pays": pays,
            "issuer": program["issuer"]["name"],
            "objection_contact": program.get("notice") or {},
            "changes": notice.changes.all(),
            "can_adjust": request.user.has_perm(services.RUN_PUBLIC_NOTICE) and notice.is_open(),
            "end_blocked": _("该公示还有异议未处理，处理完毕后才能提前结束公示。")
            if selectors.objections_pending_on(notice)
            else "",
        },
    )


@login_required
def objection_lodge(request, notice_pk, application_pk):
    notice = get_object_or_404(selectors.public_notices(), pk=notice_pk)
    application = get_object_or_404(selectors.notice_entries(notice), pk=application_pk)
    if not notice.is_open():
        # The period has ended: no form, and a POST changes nothing.
        if request.method == "POST":
            messages.error(request, _("公示期已结束，不再受理异议。"))
        return render(
            request,
            "public_notice/objection_form.html",
            {"form": None, "notice": notice, "application": application},
        )
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
    name=gettext_lazy("异议"),
    columns=[
        Column("institution", gettext_lazy("申报单位"), ("application__institution__name",)),
        Column("uscc", gettext_lazy("统一社会信用代码"), ("application__institution__uscc",)),
        Column("call", gettext_lazy("批次"), ("application__call__title",)),
        Column("objector", gettext_lazy("异议人")),
        Column("statement", gettext_lazy("异议内容")),
        Column("lodged", gettext_lazy("提出时间"), ("lodged_at",)),
        Column("status", gettext_lazy("处理状态"), ("status",)),
        Column("handling", ""),
    ],
    default_sort="-lodged",
    paths=application_paths("application", status="status", date="lodged_at"),
    statuses=Objection.Status.choices,
    status_label=gettext_lazy("处理状态"),
    date_label=gettext_lazy("提出日期"),
    export=[
        ExportColumn(gettext_lazy("申报单位"), lambda o: o.application.institution.name),
        ExportColumn(gettext_lazy("统一社会信用代码"), lambda o: o.application.institution.uscc),
        ExportColumn(gettext_lazy("批次"), lambda o: o.application.call.title),
        ExportColumn(gettext_lazy("异议人身份"), lambda o: o.get_capacity_display()),
        ExportColumn(gettext_lazy("异议人"), _objector),
        ExportColumn(gettext_lazy("联系电话"), lambda o: o.phone),
        ExportColumn(gettext_lazy("异议内容"), lambda o: o.statement),
        ExportColumn(gettext_lazy("提出时间"), lambda o: o.lodged_at),
        ExportColumn(gettext_lazy("处理状态"), lambda o: o.get_status_display()),
        ExportColumn(gettext_lazy("处理时间"), lambda o: o.handled_at),
        ExportColumn(gettext_lazy("处理理由"), lambda o: o.handling_reason),
        # A file leaves the site's access control: the number is masked for everyone.
        ExportColumn(gettext_lazy("身份证号码"), lambda o: id_number_mask(o.id_number)),
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


@login_required
@require_POST
def notice_period(request, pk):
    """The notice officer ends the period early or extends it, with a reason."""
    notice = get_object_or_404(selectors.public_notices(), pk=pk)
    require(request.user, services.RUN_PUBLIC_NOTICE)
    form = NoticePeriodForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        _period_input_keep(request, notice)
        return _period_back(request, notice)
    data = form.cleaned_data
    try:
        if data["action"] == "extend":
            services.notice_period_extend(
                user=request.user, notice=notice, days=data["days"], reason=data["reason"]
            )
        else:
            services.notice_period_end(user=request.user, notice=notice, reason=data["reason"])
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        _period_input_keep(request, notice)
    else:
        notice.refresh_from_db()
        messages.success(
            request,
            _("公示期已调整，新的截止时间为%(end)s。")
            % {"end": f"{timezone.localtime(notice.ends_at):%Y-%m-%d %H:%M}"},
        )
    return _period_back(request, notice)


def _period_input_keep(request, notice) -> None:
    """What was typed into a refused period form, shown again in it (once)."""
    action = request.POST.get("action", "")
    if action in ("extend", "end"):
        input_keep(
            request,
            "notice_period",
            notice.pk,
            action,
            days=request.POST.get("days", ""),
            reason=request.POST.get("reason", ""),
        )


def _period_back(request, notice):
    """Back to the page the form was on: the notice, or the call page."""
    if request.POST.get("back") == "notice":
        return redirect("notice_detail", pk=notice.pk)
    return redirect("call_manage", call_pk=notice.call_id)


def call_section(request, call, stage: dict) -> dict:
    """The notice section of the call page: who the next notice will list, the publish button
    (disabled with the reason when there is nothing to publish), the call's notices with their
    period and its adjustment, and the objections."""
    notices = list(call.public_notices.prefetch_related("changes"))
    return {
        "template": "public_notice/call_section.html",
        "to_publish": selectors.applications_awaiting(call, "await_notice").order_by(
            "institution__name", "pk"
        ),
        "publish_blocked": blocked_reason(
            services.public_notice_publish_check, user=request.user, call=call
        ),
        "notices": [
            {
                "notice": notice,
                "open": notice.is_open(),
                "end_blocked": _("该公示还有异议未处理，处理完毕后才能提前结束公示。")
                if selectors.objections_pending_on(notice)
                else "",
            }
            for notice in notices
        ],
        "objections": selectors.objections_visible_to(request.user).filter(application__call=call),
    }


def call_publish(request, call):
    services.public_notice_publish(user=request.user, call=call)
    messages.success(request, _("公示已发布。"))


CALL_ACTIONS = {"publish": call_publish}
