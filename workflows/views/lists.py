"""The engine's lists: applications, calls (staff) and issued documents. Each finds through a
selector and declares its filters, sort columns and export for `workflows.listing`; each stage
package declares its own lists the same way (payments, objections, rankings, seats)."""

from django.contrib.auth.decorators import login_required
from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.models import Document

from .. import selectors
from ..listing import APPLICATION_PATHS, Column, ExportColumn, Listing
from ..models import Application, ProgramVersion
from ..permissions import VIEW_ALL
from ..templatetags.workflow_tags import program_title
from .base import role_required

APPLICATIONS = Listing(
    name=_("申报"),
    columns=[
        Column("id", _("编号"), ("pk",)),
        Column("institution", _("申报单位"), ("institution__name",)),
        Column("uscc", _("统一社会信用代码"), ("institution__uscc",)),
        Column("call", _("批次"), ("call__title",)),
        Column("tier", _("级别")),
        Column("status", _("状态"), ("status",)),
        Column("created", _("创建时间"), ("created_at",)),
    ],
    default_sort="-created",
    paths=APPLICATION_PATHS,
    statuses=Application.Status.choices,
    date_label=_("创建日期"),
    export=[
        ExportColumn(_("编号"), lambda a: a.pk),
        ExportColumn(_("申报单位"), lambda a: a.institution.name),
        ExportColumn(_("统一社会信用代码"), lambda a: a.institution.uscc),
        ExportColumn(_("所在地区代码"), lambda a: a.institution.region_code),
        ExportColumn(_("项目"), lambda a: a.program_version.title),
        ExportColumn(_("批次"), lambda a: a.call.title),
        ExportColumn(_("级别"), lambda a: a.tier_label),
        ExportColumn(_("状态"), lambda a: a.get_status_display()),
        ExportColumn(_("创建时间"), lambda a: a.created_at),
        ExportColumn(_("提交时间"), lambda a: a.submitted_at),
        ExportColumn(_("资助金额"), lambda a: a.award_amount),
    ],
)


def with_program_versions(applications: list) -> None:
    """Give a batch of applications their program versions, one object per version (read
    once, not once per row: the file's content is the bulk of a row)."""
    versions = ProgramVersion.objects.in_bulk({a.program_version_id for a in applications})
    for application in applications:
        application.program_version = versions[application.program_version_id]


@login_required
def application_list(request):
    applications = (
        selectors.applications_visible_to(request.user)
        .select_related(None)
        .select_related("call", "institution")
    )
    listed = APPLICATIONS.run(request, applications, decorate=with_program_versions)
    if isinstance(listed, HttpResponse):
        return listed
    return render(request, "workflows/application_list.html", {"list": listed})


# --- calls (staff) ------------------------------------------------------------------------------

CALL_PHASES = [
    ("upcoming", _("未开始")),
    ("open", _("申报中")),
    ("closed", _("已截止")),
]


def _phase_label(call) -> str:
    return str(dict(CALL_PHASES)[call.phase])


CALLS = Listing(
    name=_("申报批次"),
    columns=[
        Column("title", _("批次"), ("title",)),
        Column("program", _("项目"), ("program_slug",)),
        Column("opens", _("开始申报时间"), ("opens_at",)),
        Column("closes", _("申报截止时间"), ("closes_at",)),
        Column("phase", _("申报状态")),
        Column("applications", _("申报数"), ("application_count",)),
        Column("budget", _("预算指标"), ("budget_total",)),
        Column("left", _("预算余额"), ("budget_left_sum",)),
        Column("actions", ""),
    ],
    default_sort="-opens",
    paths={"program": "program_slug", "status": "phase", "date": "opens_at", "q": ("title",)},
    statuses=CALL_PHASES,
    status_label=_("申报状态"),
    date_label=_("开始申报日期"),
    q_placeholder=_("批次名称"),
    export=[
        ExportColumn(_("批次"), lambda c: c.title),
        ExportColumn(_("项目"), lambda c: program_title(c.program_slug)),
        ExportColumn(_("开始申报时间"), lambda c: c.opens_at),
        ExportColumn(_("申报截止时间"), lambda c: c.closes_at),
        ExportColumn(_("申报状态"), _phase_label),
        ExportColumn(_("申报数"), lambda c: c.application_count),
        ExportColumn(_("预算指标"), lambda c: c.budget_total),
        ExportColumn(_("已拨付"), lambda c: c.budget_paid),
        ExportColumn(_("预算余额"), lambda c: c.budget_left),
    ],
)


@role_required(VIEW_ALL)
def staff_call_list(request):
    """Staff: every call with its phase, applications and budget, and the links of its stages.
    (Applicants' /calls/ lists only the open calls.)"""
    now = timezone.now()
    calls = selectors.calls_all().annotate(
        phase=Case(
            When(opens_at__gt=now, then=Value("upcoming")),
            When(closes_at__lte=now, then=Value("closed")),
            default=Value("open"),
            output_field=CharField(),
        ),
        # Submitted ones: a draft is its applicant's own until submitted.
        application_count=Count(
            "applications", filter=~Q(applications__status=Application.Status.DRAFT)
        ),
        budget_left_sum=F("budget_total") - F("budget_paid"),
    )
    listed = CALLS.run(request, calls)
    if isinstance(listed, HttpResponse):
        return listed
    for call in listed.page:
        call.phase_label = _phase_label(call)
    return render(request, "workflows/staff_call_list.html", {"list": listed})


# --- issued documents ---------------------------------------------------------------------------


def _document_state(document) -> str:
    if document.voided_at:
        return str(_("已作废"))
    if document.superseded_at:
        return str(_("已被替代"))
    if document.rendered_at is None:
        return str(_("文书正在生成，请稍后刷新"))
    return str(_("有效"))


DOCUMENTS = Listing(
    name=_("公文"),
    columns=[
        Column("number", _("文号"), ("number",)),
        Column("title", _("标题"), ("title",)),
        Column("kind", _("文书类型"), ("kind",)),
        Column("institution", _("收文单位"), ("institution__name",)),
        Column("call", _("批次"), ("call__title",)),
        Column("issued", _("印发时间"), ("issued_at",)),
        Column("state", _("状态")),
    ],
    default_sort="-issued",
    paths={
        "program": "call__program_slug",
        "call": "call",
        "region": "institution__region_code",
        "status": "kind",
        "date": "issued_at",
        "q": ("institution__name", "institution__uscc", "number"),
    },
    statuses=Document.Kind.choices,
    status_label=_("文书类型"),
    date_label=_("印发日期"),
    q_placeholder=_("单位名称、统一社会信用代码或文号"),
    export=[
        ExportColumn(_("文号"), lambda d: d.number),
        ExportColumn(_("标题"), lambda d: d.title),
        ExportColumn(_("文书类型"), lambda d: d.get_kind_display()),
        ExportColumn(_("收文单位"), lambda d: d.institution.name if d.institution else ""),
        ExportColumn(_("统一社会信用代码"), lambda d: d.institution.uscc if d.institution else ""),
        ExportColumn(_("批次"), lambda d: d.call.title),
        ExportColumn(_("印发时间"), lambda d: d.issued_at),
        ExportColumn(_("验证码"), lambda d: d.verification_code),
        ExportColumn(_("状态"), _document_state),
    ],
)


@login_required
def document_list(request):
    """Issued documents: staff see every one; an applicant those issued to its institutions
    (selectors.documents_visible_to)."""
    listed = DOCUMENTS.run(request, selectors.documents_visible_to(request.user))
    if isinstance(listed, HttpResponse):
        return listed
    for document in listed.page:
        document.state_label = _document_state(document)
    return render(request, "workflows/document_list.html", {"list": listed})
