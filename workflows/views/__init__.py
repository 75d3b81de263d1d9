"""Thin views: find the object through a selector (404 when the user may not see it), check the
action (403 when the user may not take it), validate the form, call one service, redirect."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tasks import TaskResultStatus
from viewflow.workflow import chart

from forms.forms import (
    ApplicationForm,
    FormalReviewForm,
    InstitutionForm,
    ObjectionForm,
    ObjectionHandleForm,
    PaymentForm,
    SignupForm,
)

from .. import selectors, services
from ..flows import FLOWS
from ..models import Application, Call
from ..permissions import APPLICANT_PERMISSION, VIEW_ALL, is_staff_role
from ..tasks import decision_issue_job

Status = Application.Status


def role_required(perm: str):
    """Anonymous users go to the login page; a logged-in user without the role gets 403."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _require(user, perm: str) -> None:
    """After the object was found (404 first), the action needs the role (403)."""
    if not user.has_perm(perm):
        raise PermissionDenied


def _form_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form so the page shows it and keeps the input."""
    for message in error.messages:
        form.add_error(None, message)


def home(request):
    if not request.user.is_authenticated:
        return render(request, "workflows/home.html", {"notices": selectors.public_notices()[:10]})
    return render(
        request,
        "workflows/home.html",
        {
            "tasks": selectors.tasks_actionable_by(request.user)[:10],
            "calls": selectors.calls_open(),
            "institutions": selectors.institutions_of(request.user),
            "notices": selectors.public_notices()[:10],
        },
    )


def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_signup(form=form)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("注册成功。请先登记申报单位。"))
        return redirect("institution_register")
    return render(request, "workflows/form_page.html", {"form": form, "title": _("注册账号")})


# --- applicant ----------------------------------------------------------------------------


@login_required
def institution_register(request):
    form = InstitutionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.institution_register(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("申报单位已登记。"))
            return redirect("home")
    return render(request, "workflows/form_page.html", {"form": form, "title": _("登记申报单位")})


@login_required
def call_list(request):
    return render(request, "workflows/call_list.html", {"calls": selectors.calls_open()})


def _save_uploads(request, application, form) -> bool:
    for kind, upload in form.uploads().items():
        try:
            services.attachment_add(
                user=request.user, application=application, kind=kind, upload=upload
            )
        except ValidationError as error:
            form.add_error(f"attachment_{kind}", error)
    return not form.errors


@login_required
def application_create(request, call_pk):
    call = get_object_or_404(selectors.calls_open(), pk=call_pk)
    institutions = selectors.institutions_of(request.user)
    if not institutions.exists():
        messages.info(request, _("请先登记申报单位。"))
        return redirect("institution_register")
    chosen = request.POST.get("institution") or request.GET.get("institution")
    institution = get_object_or_404(institutions, pk=chosen) if chosen else institutions.first()
    program = services.program_version_current(slug=call.program_slug).content
    form = ApplicationForm(request.POST or None, request.FILES or None, program=program, call=call)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create(
                user=request.user, call=call, institution=institution, data=form.data_fields()
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            # The draft is saved even when an upload is refused: the user fixes only the file.
            if _save_uploads(request, application, form):
                messages.success(request, _("草稿已保存。"))
                return redirect("application_detail", pk=application.pk)
            messages.warning(request, _("草稿已保存，但有材料未能上传，请更正后重新上传。"))
            for field, errors in form.errors.items():
                for error in errors:
                    messages.error(request, f"{form.fields[field].label}：{error}")
            return redirect("application_edit", pk=application.pk)
    return render(
        request,
        "workflows/application_form.html",
        {
            "form": form,
            "call": call,
            "institution": institution,
            "institutions": institutions,
            "program": program,
        },
    )


@login_required
def application_edit(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    if not request.user.has_perm(APPLICANT_PERMISSION, application.institution):
        raise PermissionDenied
    if not application.is_editable:
        messages.error(request, _("申报已提交，当前不能修改。"))
        return redirect("application_detail", pk=pk)
    existing = {a.kind for a in application.attachments.all() if not a.superseded}
    initial = {
        f["name"]: getattr(application, f["name"], None) for f in application.program["fields"]
    }
    initial.update(application.extra)
    form = ApplicationForm(
        request.POST or None,
        request.FILES or None,
        program=application.program,
        call=application.call,
        existing_kinds=existing,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.application_update(
                user=request.user, application=application, data=form.data_fields()
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            if _save_uploads(request, application, form):
                messages.success(request, _("草稿已保存。"))
                return redirect("application_detail", pk=pk)
    return render(
        request,
        "workflows/application_form.html",
        {
            "form": form,
            "call": application.call,
            "institution": application.institution,
            "program": application.program,
            "application": application,
        },
    )


@login_required
@require_POST
def application_submit(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    if not request.user.has_perm(APPLICANT_PERMISSION, application.institution):
        raise PermissionDenied
    try:
        services.application_submit(user=request.user, application=application)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("申报已提交。"))
    return redirect("application_detail", pk=pk)


@login_required
def application_list(request):
    applications = selectors.applications_visible_to(request.user).order_by("-created_at")
    status = request.GET.get("status")
    if status:
        applications = applications.filter(status=status)
    page = Paginator(applications, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "workflows/application_list.html",
        {"page": page, "statuses": Status.choices, "status": status},
    )


@login_required
def application_detail(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    is_member = request.user.has_perm(APPLICANT_PERMISSION, application.institution)
    return render(
        request,
        "workflows/application_detail.html",
        {
            "application": application,
            "attachments": application.attachments.filter(superseded=False).select_related(
                "application__program_version"
            ),
            "documents": selectors.documents_visible_to(request.user).filter(
                application=application
            ),
            "call_documents": selectors.documents_visible_to(request.user).filter(
                call=application.call, application__isnull=True
            ),
            "audit": selectors.audit_of(application) if is_staff_role(request.user) else None,
            "is_member": is_member,
            "outcome_reason": selectors.outcome_reason(application),
            "tasks": [
                t
                for t in selectors.tasks_actionable_by(request.user).filter(
                    process_id=application.process_id
                )
            ]
            if application.process_id
            else [],
        },
    )


@login_required
def attachment_download(request, pk):
    attachment = get_object_or_404(selectors.attachments_visible_to(request.user), pk=pk)
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name
    )


@login_required
def document_download(request, pk):
    document = get_object_or_404(selectors.documents_visible_to(request.user), pk=pk)
    filename = f"{document.title}{('-' + document.number) if document.number else ''}.pdf"
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=filename,
        content_type="application/pdf",
    )


# --- inbox and tasks -------------------------------------------------------------------------


@login_required
def inbox(request):
    page = Paginator(selectors.tasks_actionable_by(request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "workflows/inbox.html", {"page": page})


TASK_ROUTES = {
    "formal_review": "formal_review",
    "correction": "application_edit",
    "leadership_review": "leadership_meeting",
    "award_letter": "finance_list",
    "payment": "payment_record",
    "recommendation": "recommendation_decide",
    "committee_vote": "committee_list",
}


@login_required
def task_detail(request, task_pk):
    task = get_object_or_404(selectors.tasks_with_application(), pk=task_pk)
    if task.flow_task.name == "expert_score":
        # Experts open their task before the application is visible to them (they declare
        # first); the stage's own view checks the seat, or the panel manager's role.
        return redirect("expert_task", task_pk=task.pk)
    application = getattr(task.process, "application", None)
    if (
        application is None
        or not selectors.applications_visible_to(request.user).filter(pk=application.pk).exists()
    ):
        raise Http404
    if not services.task_can_act(request.user, task):
        raise PermissionDenied
    route = TASK_ROUTES[task.flow_task.name]
    if route in ("leadership_meeting", "committee_list"):
        return redirect(route, call_pk=application.call_id)
    if route == "finance_list":
        return redirect(route)
    return redirect(route, pk=application.pk)


@login_required
def formal_review(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    _require(request.user, "workflows.formal_review")
    form = FormalReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.formal_review_complete(
                user=request.user,
                application=application,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        except services.TaskAlreadyDone:
            messages.error(request, _("该任务已由他人办理或已不在形式审查阶段。"))
            return redirect("application_detail", pk=pk)
        else:
            messages.success(request, _("形式审查结论已提交。"))
            return redirect("inbox")
    return render(
        request,
        "workflows/formal_review.html",
        {
            "form": form,
            "application": application,
            "attachments": application.attachments.filter(superseded=False),
        },
    )


@login_required
def leadership_meeting(request, call_pk):
    call = get_object_or_404(Call, pk=call_pk)
    _require(request.user, "workflows.leadership_review")
    waiting = list(
        selectors.applications_visible_to(request.user)
        .filter(call=call, status__in=[Status.ACCEPTED, Status.SCORED])
        .order_by("-panel_score", "institution__name")
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
        else:
            try:
                services.leadership_decide(user=request.user, decisions=decisions)
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            except services.TaskAlreadyDone:
                messages.error(request, _("部分申报已由他人审议，请刷新后重试。"))
            else:
                messages.success(request, _("已审议%(n)d项申报。") % {"n": len(decisions)})
                return redirect("leadership_meeting", call_pk=call.pk)
    rows = [
        {
            "application": a,
            "decision": request.POST.get(f"decision_{a.pk}", ""),
            "reason": request.POST.get(f"reason_{a.pk}", ""),
        }
        for a in waiting
    ]
    return render(request, "workflows/leadership_meeting.html", {"call": call, "rows": rows})


# --- public notice, objections, decision ---------------------------------------------------


@role_required("workflows.run_public_notice")
def call_manage(request, call_pk):
    call = get_object_or_404(Call, pk=call_pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "publish":
                services.public_notice_publish(user=request.user, call=call)
                messages.success(request, _("公示已发布。"))
            elif action == "decide":
                services.decision_issue_check(user=request.user, call=call)
                result = decision_issue_job.enqueue(user_id=request.user.pk, call_id=call.pk)
                if result.status == TaskResultStatus.SUCCESSFUL:
                    messages.success(request, _("决定及通知书（证书）已印发。"))
                elif result.status == TaskResultStatus.FAILED:
                    messages.error(request, _("印发失败，请稍后重试或联系管理员。"))
                else:
                    messages.info(request, _("决定正在后台印发，请查看印发进度。"))
                    return redirect("documents:batch_progress", call_pk=call.pk)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            if getattr(error, "code", None) == "batch_running":
                return redirect("documents:batch_progress", call_pk=call.pk)
        return redirect("call_manage", call_pk=call.pk)
    counts = selectors.call_status_counts(call)
    return render(
        request,
        "workflows/call_manage.html",
        {
            "call": call,
            "counts": counts,
            "notices": call.public_notices.all(),
            "objections": selectors.objections_visible_to(request.user).filter(
                application__call=call
            ),
            "decision": selectors.call_decision(call),
        },
    )


def notice_list(request):
    return render(request, "workflows/notice_list.html", {"notices": selectors.public_notices()})


def notice_detail(request, pk):
    notice = get_object_or_404(selectors.public_notices(), pk=pk)
    return render(
        request,
        "workflows/notice_detail.html",
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
            _form_errors(form, error)
        else:
            messages.success(request, _("异议已提交，我们将依法核实处理。"))
            return redirect("notice_detail", pk=notice.pk)
    return render(
        request,
        "workflows/objection_form.html",
        {"form": form, "notice": notice, "application": application},
    )


@login_required
def objection_handle(request, pk):
    objection = get_object_or_404(selectors.objections_visible_to(request.user), pk=pk)
    _require(request.user, "workflows.run_public_notice")
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
            _form_errors(form, error)
        else:
            messages.success(request, _("异议已处理。"))
            return redirect("call_manage", call_pk=objection.application.call_id)
    return render(
        request, "workflows/objection_handle.html", {"form": form, "objection": objection}
    )


@login_required
def objection_evidence(request, pk):
    objection = get_object_or_404(selectors.objections_visible_to(request.user), pk=pk)
    if objection.lodged_by_id != request.user.pk:
        # Evidence may carry the objector's name and ID number: only the notice officer opens it.
        _require(request.user, "workflows.run_public_notice")
    return FileResponse(objection.evidence.open("rb"), as_attachment=True)


# --- finance -------------------------------------------------------------------------------------


@role_required("workflows.disburse")
def finance_list(request):
    applications = (
        selectors.applications_visible_to(request.user)
        .filter(status__in=[Status.DECIDED, Status.LETTER_ISSUED, Status.PAID])
        .order_by("call", "institution__name")
    )
    calls = selectors.calls_of(applications)
    return render(
        request, "workflows/finance_list.html", {"applications": applications, "calls": calls}
    )


@login_required
@require_POST
def award_letter_issue(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    _require(request.user, "workflows.disburse")
    try:
        services.award_letter_issue(user=request.user, application=application)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except services.TaskAlreadyDone:
        messages.error(request, _("奖励通知书已印发或该申报不在此阶段。"))
    else:
        messages.success(request, _("奖励通知书已印发。"))
    return redirect("finance_list")


@login_required
def payment_record(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    _require(request.user, "workflows.disburse")
    form = PaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_record(user=request.user, application=application, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        except services.TaskAlreadyDone:
            form.add_error(None, _("该申报已拨付或不在拨付阶段。"))
        else:
            messages.success(request, _("拨付已登记。"))
            return redirect("finance_list")
    return render(
        request,
        "workflows/payment_form.html",
        {"form": form, "application": application, "call": application.call},
    )


# --- program chart ---------------------------------------------------------------------------


@role_required(VIEW_ALL)
def program_chart(request, slug):
    flow_class = FLOWS.get(slug)
    if flow_class is None:
        raise Http404
    grid = chart.calc_layout_data(flow_class)
    return HttpResponse(chart.grid_to_svg(grid), content_type="image/svg+xml")


@role_required(VIEW_ALL)
def program_list(request):
    from ..programs import programs_loaded

    return render(
        request,
        "workflows/program_list.html",
        {"programs": programs_loaded().values(), "calls": selectors.calls_all()},
    )
