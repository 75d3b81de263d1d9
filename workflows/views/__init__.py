"""The engine's pages, thin: find the object through a selector (404 when the user may not see
it), check the action (403 when the user may not take it), validate the form, call one service,
redirect. Each stage type's own pages live in its package (`workflows/stages/<type>/views.py`);
the inbox and the call page reach them through the registry."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from forms.forms import ApplicationForm, InstitutionForm, SignupForm
from forms.validators import localised

from .. import selectors, services, worklist
from ..flows import local_name
from ..models import Application, Call
from ..permissions import APPLICANT_PERMISSION, MANAGE_ACCOUNTS, VIEW_ALL, is_staff_role
from ..programs import program_get
from ..stages import stage_module, stage_modules
from .base import CONFIRM_MISSING, confirmed, form_errors, role_required
from .lists import application_list, document_list, staff_call_list  # noqa: F401

Status = Application.Status


def home(request):
    """Each person's own home: staff and city offices see their work and the counts of what
    they may see; experts their work; applicants where each application stands, its documents
    and what they must do next. Everyone sees the published notices."""
    notices = selectors.public_notices()[:10]
    if not request.user.is_authenticated:
        return render(request, "workflows/home.html", {"notices": notices})
    from ..services.deadlines import calendar_years_missing

    user = request.user
    staff = is_staff_role(user)
    office = selectors.office_region_of(user)
    institutions = selectors.institutions_of(user)
    applicant = (
        not staff
        and office is None
        and not user.has_perm(selectors.EXPERT_REVIEW)
        and not user.has_perm(MANAGE_ACCOUNTS)
    )
    context = {
        "notices": notices,
        "staff": staff,
        "office": office,
        "applicant": applicant,
        "calendar_missing": calendar_years_missing() if staff else [],
        "call_work": worklist.call_work_for(user),
        "tasks": worklist.task_rows(
            worklist.tasks_with_due(selectors.tasks_actionable_by(user))[:10]
        ),
    }
    if staff or office is not None:
        context["status_counts"] = selectors.status_counts(selectors.applications_visible_to(user))
    if applicant:
        applications = selectors.applications_visible_to(user).order_by("-created_at")[:20]
        context.update(
            institutions=institutions,
            calls=selectors.calls_open(),
            tracks=worklist.tracks_of(applications.select_related("public_notice")),
            documents=selectors.documents_visible_to(user).order_by("-issued_at")[:10],
        )
    return render(request, "workflows/home.html", context)


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
            form_errors(form, error)
        else:
            messages.success(request, _("申报单位已登记。"))
            return redirect("home")
    return render(request, "workflows/form_page.html", {"form": form, "title": _("登记申报单位")})


@login_required
def call_list(request):
    return render(request, "workflows/call_list.html", {"calls": selectors.calls_open()})


def _uploads_refused(form, refused: dict) -> bool:
    """Put each refused upload's reason on its field; whether all were stored."""
    for kind, error in refused.items():
        form.add_error(f"attachment_{kind}", error)
    return not form.errors


def _save_uploads(request, application, form) -> bool:
    refused = services.attachments_add(
        user=request.user, application=application, uploads=form.uploads()
    )
    return _uploads_refused(form, refused)


@login_required
def application_create(request, call_pk):
    call = get_object_or_404(selectors.calls_open(), pk=call_pk)
    institutions = selectors.institutions_of(request.user)
    if not institutions.exists():
        messages.info(request, _("请先登记申报单位。"))
        return redirect("institution_register")
    chosen = request.POST.get("institution") or request.GET.get("institution")
    if chosen and not (chosen.isascii() and chosen.isdecimal()):
        raise Http404
    institution = get_object_or_404(institutions, pk=chosen) if chosen else institutions.first()
    program = services.program_version_current(slug=call.program_slug).content
    form = ApplicationForm(request.POST or None, request.FILES or None, program=program, call=call)
    if request.method == "POST" and form.is_valid():
        try:
            application, refused = services.draft_create(
                user=request.user,
                call=call,
                institution=institution,
                data=form.data_fields(),
                uploads=form.uploads(),
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            # The draft is saved even when an upload is refused: the user fixes only the file.
            if _uploads_refused(form, refused):
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
            form_errors(form, error)
        else:
            if _save_uploads(request, application, form):
                messages.success(request, _("草稿已保存。"))
                if "resubmit" in request.POST:
                    if not confirmed(request):
                        # The changes are kept; only the resubmission waits for the tick.
                        messages.error(request, CONFIRM_MISSING)
                        return redirect("application_edit", pk=pk)
                    return application_submit(request, pk)
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
    if not confirmed(request):
        messages.error(request, CONFIRM_MISSING)
        return redirect("application_detail", pk=pk)
    try:
        services.application_submit(user=request.user, application=application)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("申报已提交。"))
    return redirect("application_detail", pk=pk)


@login_required
def application_detail(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    is_member = request.user.has_perm(APPLICANT_PERMISSION, application.institution)
    is_staff = is_staff_role(request.user)
    # Bank details for the applicant and provincial staff (finance pays from them); contact
    # details also for a city office, which deals with the applicant, but not for experts.
    sees_all = is_member or is_staff
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
            "audit": selectors.audit_of(application) if is_staff else None,
            "is_member": is_member,
            "without_payment": not sees_all,
            "without_contact": not sees_all and selectors.office_region_of(request.user) is None,
            "outcome_reason": selectors.outcome_reason(application),
            "payment": selectors.payment_of(application),
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


# How often the page shown while a document's PDF is being rendered reloads itself.
PDF_PENDING_RETRY_SECONDS = 5


@login_required
def document_download(request, pk):
    """The document's PDF; while a background job is still rendering it, a page that says so
    (202 Accepted) and reloads itself until the PDF is there."""
    document = get_object_or_404(selectors.documents_visible_to(request.user), pk=pk)
    if document.is_pending:
        response = render(
            request,
            "documents/pdf_pending.html",
            {"document": document, "retry_seconds": PDF_PENDING_RETRY_SECONDS},
            status=202,
        )
        response["Retry-After"] = str(PDF_PENDING_RETRY_SECONDS)
        response["Refresh"] = str(PDF_PENDING_RETRY_SECONDS)
        return response
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
    """Everything waiting for this person: work on whole calls first (a list to publish, a
    decision due, objections), then their tasks, oldest first, each with its deadline and the
    working days left."""
    tasks = worklist.tasks_with_due(selectors.tasks_actionable_by(request.user))
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "workflows/inbox.html",
        {
            "page": page,
            "rows": worklist.task_rows(page),
            "call_work": worklist.call_work_for(request.user),
        },
    )


def _task_routes() -> dict:
    """{node name: where its task is done}, from every stage package's `TASK_ROUTES`."""
    routes: dict = {}
    for _stage_type, module in stage_modules("urls"):
        routes.update(getattr(module, "TASK_ROUTES", {}))
    return routes


@login_required
def task_detail(request, task_pk):
    """Where a task of the inbox is done: the page its stage names. A task assigned to the user
    leads there at once (an expert opens their seat before the application is visible to them;
    the stage's page checks the seat); any other needs the application visible (404) and the
    user able to act (403)."""
    task = get_object_or_404(selectors.tasks_with_application(), pk=task_pk)
    application = getattr(task.process, "application", None)
    route = _task_routes().get(local_name(task.flow_task)) if task.flow_task else None
    if application is None or route is None:
        raise Http404
    if task.owner_id != request.user.pk:
        if not selectors.applications_visible_to(request.user).filter(pk=application.pk).exists():
            raise Http404
        if not services.task_can_act(request.user, task):
            raise PermissionDenied
    return redirect(route(task, application))


# --- the call page: sections and actions of the call's stages ---------------------------------


def _call_stages(call: Call) -> list[tuple[dict, object]]:
    """(stage, its views module) of each stage of the call's program that has views."""
    found = []
    for stage in program_get(call.program_slug).content["stages"]:
        module = stage_module(stage["type"], "views")
        if module is not None:
            found.append((stage, module))
    return found


@role_required("workflows.run_public_notice")
def call_manage(request, call_pk):
    """A call's counts and budget, with a section (and the actions) of each of its stages that
    has one: the notice, the objections, the decision."""
    call = get_object_or_404(Call, pk=call_pk)
    stages = _call_stages(call)
    if request.method == "POST":
        action = request.POST.get("action")
        handlers = [
            module.CALL_ACTIONS[action]
            for _stage, module in stages
            if action in getattr(module, "CALL_ACTIONS", {})
        ]
        if not handlers:
            # A stale page (the stage it acted on is gone from the program) or a forged form.
            messages.error(request, _("该批次没有这项操作，请刷新页面后重试。"))
        try:
            for handler in handlers[:1]:
                response = handler(request, call)
                if response is not None:
                    return response
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            if getattr(error, "code", None) == "batch_running":
                return redirect("documents:batch_progress", call_pk=call.pk)
        return redirect("call_manage", call_pk=call.pk)
    sections = [
        module.call_section(request, call, stage)
        for stage, module in stages
        if hasattr(module, "call_section")
    ]
    return render(
        request,
        "workflows/call_manage.html",
        {
            "call": call,
            "counts": selectors.call_status_counts(call),
            "sections": sections,
            "page": Paginator(selectors.call_applications(call), 50).get_page(
                request.GET.get("page")
            ),
        },
    )


# --- program chart ---------------------------------------------------------------------------


@role_required(VIEW_ALL)
def program_chart(request, slug):
    """The program's flow chart (SVG) with the file's Chinese stage names."""
    from ..chart import chart_layout
    from ..programs import programs_loaded

    program = programs_loaded().get(slug)
    if program is None:
        raise Http404
    return render(
        request,
        "workflows/program_chart.svg",
        {"chart": chart_layout(program.content), "title": localised(program.content["title"])},
        content_type="image/svg+xml",
    )


@role_required(VIEW_ALL)
def program_list(request):
    from ..chart import chart_layout
    from ..programs import programs_loaded

    programs = [
        {"program": program, "chart": chart_layout(program.content)}
        for program in programs_loaded().values()
    ]
    return render(
        request,
        "workflows/program_list.html",
        {"programs": programs, "calls": selectors.calls_all()[:10]},
    )


# --- rehearsing a program ----------------------------------------------------------------------


@role_required(VIEW_ALL)
def program_rehearsal(request, slug):
    """Staff: the latest rehearsal of a program file (every branch on a throw-away database),
    and a button that runs it again."""
    from ..models import ProgramRehearsal
    from ..programs import programs_loaded
    from ..tasks import program_rehearse_job

    program = programs_loaded().get(slug)
    if program is None:
        raise Http404
    latest = ProgramRehearsal.objects.filter(program_slug=slug).first()
    running = latest is not None and latest.status == ProgramRehearsal.Status.RUNNING
    if request.method == "POST":
        if running:
            messages.info(request, _("该项目正在预演，请稍候。"))
        else:
            rehearsal = ProgramRehearsal.objects.create(
                program_slug=slug, sha256=program.sha256, requested_by=request.user
            )
            program_rehearse_job.enqueue(
                rehearsal_id=rehearsal.pk, language=translation.get_language()
            )
            messages.success(request, _("已开始预演。"))
        return redirect("program_rehearsal", slug=slug)
    return render(
        request,
        "workflows/program_rehearsal.html",
        {
            "program": program,
            "rehearsal": latest,
            "running": running,
            "current": latest is not None and latest.sha256 == program.sha256,
        },
    )


# --- the holiday calendar -------------------------------------------------------------------


@role_required(VIEW_ALL)
def holiday_calendar(request):
    """Staff: the years of the holiday calendar, and (with the calendar role) entering a year
    from the State Council's notice."""
    from django.conf import settings

    from ..models import CalendarYear
    from ..services.deadlines import (
        MANAGE_CALENDAR,
        calendar_year_enter,
        calendar_years_missing,
        year_file_read,
    )

    template = (settings.BASE_DIR / "config" / "calendar" / "holidays-template.toml").read_text(
        encoding="utf-8"
    )
    text = request.POST.get("arrangement", "")
    if request.method == "POST":
        if not request.user.has_perm(MANAGE_CALENDAR):
            raise PermissionDenied
        upload = request.FILES.get("file")
        if upload is not None:
            text = upload.read().decode("utf-8", errors="replace")
        try:
            year, recomputed = calendar_year_enter(
                user=request.user, arrangement=year_file_read(text)
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("%(year)d年节假日安排已录入，%(n)d个暂定期限已重新计算。")
                % {"year": year.year, "n": len(recomputed)},
            )
            return redirect("holiday_calendar")
    years = CalendarYear.objects.select_related("entered_by").annotate(
        holidays=Count("days", filter=Q(days__kind="holiday")),
        workdays=Count("days", filter=Q(days__kind="workday")),
    )
    return render(
        request,
        "workflows/holiday_calendar.html",
        {
            "years": years,
            "missing": calendar_years_missing(),
            "arrangement": text,
            "template": template,
            "can_enter": request.user.has_perm(MANAGE_CALENDAR),
        },
    )
