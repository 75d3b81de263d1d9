"""Demo data and scripted lifecycles, shared by `manage.py demo_data`, `manage.py demo_batch`
and the benchmarks in `bench/`. Everything goes through the services, as a user's clicks would."""

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from stdnum.cn import uscc

from . import services
from .models import Application, Call, Expert, Institution, OfficeRegion
from .permissions import roles_sync

DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = {
    "applicant": ("applicant", "申报单位经办人（演示）"),
    "formal_reviewer": ("reviewer", "形式审查员（演示）"),
    "leadership": ("leader", "局务会（演示）"),
    "notice_officer": ("notice", "公示经办人（演示）"),
    "finance_officer": ("finance", "财务人员（演示）"),
    "city_office": ("guiyang", "贵阳市市场监督管理局（演示）"),
    "award_committee": ("committee", "专利奖评审委员会（演示）"),
}
DEMO_EXPERTS = 9  # expert1 … expert9: enough for a panel of five with recusals
# The smallest well-formed PDF: attachments are checked by content, not by name.
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def uscc_make(serial: int, region_code: str = "520100") -> str:
    """A valid unified social credit code (correct check character) for demo institutions."""
    body = f"91{region_code}{serial:09d}"
    return body + uscc.calc_check_digit(body)


def pdf_upload(name: str = "document.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def user_make(username: str, role: str, full_name: str = ""):
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username, defaults={"first_name": full_name}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def call_make(
    *, slug: str = "tech_transfer_agency", title: str | None = None, budget="20000000.00"
):
    now = timezone.now()
    return Call.objects.create(
        program_slug=slug,
        title=title or f"{now.year}年度技术转移机构经费资助申报",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        designation_from=date(now.year - 1, 1, 1),
        designation_to=timezone.localdate(),
        budget_total=Decimal(budget),
    )


def application_draft(*, user, call: Call, institution: Institution, tier: str = "provincial"):
    application = services.application_create(
        user=user,
        call=call,
        institution=institution,
        data={
            "tier": tier,
            "approval_number": f"黔科函〔{timezone.localdate().year}〕{institution.pk}号",
            "approval_date": call.designation_from + timedelta(days=30),
            "bank_name": "中国工商银行贵阳分行",
            "account_name": institution.name,
            "bank_account": f"2402{institution.pk:012d}",
            "contact_name": "张敏",
            "contact_phone": "0851-85550000",
        },
    )
    for attachment in application.program["attachments"]:
        services.attachment_add(
            user=user,
            application=application,
            kind=attachment["key"],
            upload=pdf_upload(f"{attachment['key']}.pdf"),
        )
    return application


@dataclass
class Cast:
    """One user per role, as the demo logins and the scripted runs use them."""

    applicant: object
    formal_reviewer: object
    leadership: object
    notice_officer: object
    finance_officer: object
    city_office: object
    award_committee: object
    experts: list


def cast_make(prefix: str = "") -> Cast:
    roles_sync()
    users = {
        role: user_make(f"{prefix}{username}", role, label)
        for role, (username, label) in DEMO_USERS.items()
    }
    OfficeRegion.objects.get_or_create(
        user=users["city_office"],
        defaults={"region_code": "520100", "name": "贵阳市市场监督管理局"},
    )
    experts = []
    for n in range(1, DEMO_EXPERTS + 1):
        user = user_make(f"{prefix}expert{n}", "expert", f"评审专家{n}（演示）")
        expert, _created = Expert.objects.get_or_create(
            user=user, defaults={"name": f"专家{n}", "specialty": "知识产权"}
        )
        experts.append(expert)
    return Cast(**users, experts=experts)


def institution_make(*, user, serial: int, name: str | None = None) -> Institution:
    code = uscc_make(serial)
    existing = Institution.objects.filter(uscc=code).first()
    if existing:
        services.institution_member_add(institution=existing, user=user, actor=user)
        return existing
    return services.institution_register(
        user=user,
        name=name or f"贵州演示技术转移中心{serial}号",
        uscc=code,
        region_code="520100",
    )


def application_submitted(*, cast: Cast, call: Call, serial: int, tier: str = "provincial"):
    institution = institution_make(user=cast.applicant, serial=serial)
    application = application_draft(
        user=cast.applicant, call=call, institution=institution, tier=tier
    )
    services.application_submit(user=cast.applicant, application=application)
    return application


def application_in_notice(*, cast: Cast, call: Call, serial: int):
    """One application accepted, approved and on a published notice: (application, notice)."""
    application = application_submitted(cast=cast, call=call, serial=serial)
    services.formal_review_complete(
        user=cast.formal_reviewer, application=application, outcome="accept"
    )
    services.leadership_decide(user=cast.leadership, decisions=[(application, True, "")])
    notice = services.public_notice_publish(user=cast.notice_officer, call=call)
    application.refresh_from_db()
    return application, notice


def notice_expire(call: Call) -> None:
    """Move the call's notice period into the past and let viewflow's timer close it."""
    from viewflow.workflow.models import Task

    past = timezone.now() - timedelta(seconds=1)
    call.public_notices.update(ends_at=past)
    Task.objects.filter(
        process__application__call=call, flow_task_type="TIMER", scheduled__isnull=False
    ).update(scheduled=past)
    call_command("workflow_timers", stdout=io.StringIO())


BRANCHES = (
    "paid",
    "correction_then_paid",
    "refused",
    "rejected",
    "objection_upheld",
    "objection_dismissed_paid",
)


def batch_run(*, cast: Cast, call: Call, branches: list[str], serial_start: int = 1, progress=None):
    """Run one application per entry of `branches` from draft to its end, as one call's batch.
    `progress(n)` is told of each application that reached the end of its branch."""
    progress = progress or (lambda n: None)
    apps = []
    for i, branch in enumerate(branches):
        institution = institution_make(user=cast.applicant, serial=serial_start + i)
        tier = "national" if i % 3 == 0 else "provincial"
        application = application_draft(
            user=cast.applicant, call=call, institution=institution, tier=tier
        )
        services.application_submit(user=cast.applicant, application=application)
        apps.append((application, branch))
    for application, branch in apps:
        if branch == "correction_then_paid":
            services.formal_review_complete(
                user=cast.formal_reviewer,
                application=application,
                outcome="correction",
                reason="获批文件扫描件不清晰，请重新上传。",
            )
            services.attachment_add(
                user=cast.applicant,
                application=application,
                kind="approval_document",
                upload=pdf_upload("approval-clear.pdf"),
            )
            services.application_submit(user=cast.applicant, application=application)
        if branch == "refused":
            services.formal_review_complete(
                user=cast.formal_reviewer,
                application=application,
                outcome="refuse",
                reason="获批文件非本批次受理范围内的认定文件。",
            )
            progress(1)
            continue
        services.formal_review_complete(
            user=cast.formal_reviewer, application=application, outcome="accept"
        )
    services.leadership_decide(
        user=cast.leadership,
        decisions=[
            (a, branch != "rejected", "" if branch != "rejected" else "材料与事实不符。")
            for a, branch in apps
            if branch != "refused"
        ],
    )
    progress(sum(1 for _a, branch in apps if branch == "rejected"))
    services.public_notice_publish(user=cast.notice_officer, call=call)
    for application, branch in apps:
        if branch.startswith("objection"):
            objection = services.objection_lodge(
                user=cast.applicant,
                application=application,
                capacity="organisation",
                organisation_name="贵州某科技有限公司",
                phone="0851-85551234",
                statement="该单位获批文件的日期与事实不符。",
                evidence=pdf_upload("evidence.pdf"),
            )
            services.objection_handle(
                user=cast.notice_officer,
                objection=objection,
                upheld=branch == "objection_upheld",
                reason="经核实，"
                + ("异议成立。" if branch == "objection_upheld" else "异议不成立。"),
            )
    notice_expire(call)
    progress(sum(1 for _a, branch in apps if branch == "objection_upheld"))
    services.decision_issue(user=cast.notice_officer, call=call)
    for application, _branch in apps:
        application.refresh_from_db()
        if application.status == Application.Status.DECIDED:
            services.award_letter_issue(user=cast.finance_officer, application=application)
            services.payment_record(
                user=cast.finance_officer,
                application=application,
                voucher_number=f"PZ{call.pk:04d}{application.pk:06d}",
                paid_on=timezone.localdate(),
            )
            progress(1)
    return [a for a, _b in apps]
