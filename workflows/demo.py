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

from documents.models import Document
from documents.services import documents_render_pending
from forms.validators import patent_check_character

from . import services
from .models import Application, Call, Expert, Institution, OfficeRegion
from .permissions import roles_sync
from .programs import program_get, program_pays
from .stages.decision.services import decision_issue
from .stages.disbursement.services import award_letter_issue, payment_record
from .stages.formal_review.services import formal_review_complete
from .stages.leadership_meeting.services import leadership_decide
from .stages.public_notice.services import (
    objection_handle,
    objection_lodge,
    public_notice_publish,
)

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
# The security administrator (账号安全管理: unlocks logins, resets second factors).
DEMO_SECURITY_ADMIN = ("security", "security_admin", "安全管理员（演示）")
DEMO_CITIES = {
    "520100": ("guiyang", "贵阳市市场监督管理局"),
    "520300": ("zunyi", "遵义市市场监督管理局"),
    "520400": ("anshun", "安顺市市场监督管理局"),
    "520500": ("bijie", "毕节市市场监督管理局"),
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


def user_make(username: str, role: str, full_name: str = "", login: bool = True):
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username, defaults={"first_name": full_name}
    )
    if created:
        if login:
            user.set_password(DEMO_PASSWORD)
        else:
            user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def call_make(
    *, slug: str = "tech_transfer_agency", title: str | None = None, budget="20000000.00"
):
    """An open call of the program `slug`, with `budget` when the program pays (a recognition
    or a commendation without money has none)."""
    now = timezone.now()
    if not program_pays(slug):
        budget = "0.00"
    return Call.objects.create(
        program_slug=slug,
        title=title or f"{now.year}年度{program_get(slug).content['title']['zh']}申报",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        designation_from=date(now.year - 1, 1, 1),
        designation_to=timezone.localdate(),
        budget_total=Decimal(budget),
    )


def patent_number_make(serial: int) -> str:
    """A valid Chinese invention patent number (check character included) for demo data."""
    digits = f"2023{1}{serial:07d}"
    return f"{digits}.{patent_check_character(digits)}"


def draft_data(*, program: dict, call: Call, institution: Institution, tier: str) -> dict:
    """Plausible answers to every field the program's form asks, the tier given."""
    answers = field_answers(program, call, institution, institution.pk)
    if "tier" in answers:
        answers["tier"] = tier
    return answers


def field_answers(program: dict, call: Call, institution: Institution, n: int) -> dict:
    """A valid answer to every field of the program's form for the n-th applicant: tiers, grades
    and options taken in turn, numbers inside their bounds."""
    answers = {}
    rule = program.get("amount") or {"rule": "tier"}
    tiers = [t["key"] for t in program["tiers"]]
    for item in program["fields"]:
        name, kind = item["name"], item["type"]
        if name == rule.get("field") and rule["rule"] == "grades":
            answers[name] = _grade_value(rule["grades"][n % len(rule["grades"])], item)
        elif name == rule.get("field") and rule["rule"] == "percentage":
            answers[name] = _share_value(rule, item, n)
        elif kind in ("integer", "decimal", "money"):
            answers[name] = _number_in(item, n)
        elif kind == "date":
            answers[name] = _date_in(item, call, name)
        elif kind == "tier":
            answers[name] = tiers[n % len(tiers)]
        elif kind == "choice":
            answers[name] = item["options"][n % len(item["options"])]["key"]
        elif kind in ("declaration", "boolean"):
            answers[name] = True
        elif kind == "patent_number":
            digits = f"2023{1}{institution.pk:07d}"
            answers[name] = f"{digits}.{patent_check_character(digits)}"
        elif kind == "bank_account":
            answers[name] = f"2402{institution.pk:012d}"
        elif kind == "phone":
            answers[name] = "0851-85550000"
        elif name == "account_name":
            answers[name] = institution.name
        elif name == "bank_name":
            answers[name] = "中国工商银行贵阳分行"
        elif name == "contact_name":
            answers[name] = "张敏"
        elif name == "approval_number":
            answers[name] = f"黔科函〔{call.designation_to.year}〕{institution.pk}号"
        else:
            answers[name] = "演示说明：主营产品及产业情况。" if kind == "textarea" else "演示"
        if kind == "text" and item.get("max_length"):
            answers[name] = str(answers[name])[: item["max_length"]]
    return answers


def _grade_value(grade: dict, item: dict) -> Decimal:
    low, high = grade.get("at_least"), grade.get("below")
    if low is not None:
        value = Decimal(str(low))
    elif high is not None:
        value = Decimal(str(high)) - 1
    else:
        value = Decimal("1000")
    return _fit(value, item)


def _share_value(rule: dict, item: dict, n: int) -> Decimal:
    """A figure whose share lands between the floor and the cap, above the cap, or below the
    floor, in turn (kept inside the field's bounds)."""
    percent = Decimal(str(rule["percent"])) / 100
    floor = Decimal(rule["floor"]) / percent if rule.get("floor") else None
    cap = Decimal(rule["cap"]) / percent if rule.get("cap") else None
    candidates = [
        (floor + cap) / 2
        if floor and cap
        else (cap or floor or Decimal(1_000_000)) * Decimal("0.8"),
        cap * 2 if cap else None,
        floor / 2 if floor else None,
    ]
    value = next(c for c in candidates[n % 3 :] + candidates if c is not None)
    low = Decimal(str(item["min"])) if item.get("min") is not None else None
    high = Decimal(str(item["max"])) if item.get("max") is not None else None
    value = max(value, low) if low is not None else value
    value = min(value, high) if high is not None else value
    return _fit(value, item)


def _number_in(item: dict, n: int) -> Decimal | int:
    low = Decimal(str(item["min"])) if item.get("min") is not None else Decimal(0)
    high = Decimal(str(item["max"])) if item.get("max") is not None else low + 10_000_000
    value = low + (high - low) * Decimal(1 + n % 3) / 4
    return _fit(value, item)


def _fit(value: Decimal, item: dict):
    if item["type"] == "integer":
        return int(value.to_integral_value())
    places = 2 if item["type"] == "money" else item.get("places")
    return value.quantize(Decimal(1).scaleb(-(places if places is not None else 2)))


def _date_in(item: dict, call: Call, name: str) -> date:
    if name == "approval_date":
        return call.designation_from + timedelta(days=30)
    low = date.fromisoformat(item["min"]) if item.get("min") else None
    high = date.fromisoformat(item["max"]) if item.get("max") else None
    if low and high:
        return low + (high - low) / 2
    return low or high or timezone.localdate() - timedelta(days=30)


def application_draft(*, user, call: Call, institution: Institution, tier: str = "provincial"):
    program = services.program_version_current(slug=call.program_slug).content
    tiers = [t["key"] for t in program["tiers"]]
    application = services.application_create(
        user=user,
        call=call,
        institution=institution,
        data=draft_data(
            program=program,
            call=call,
            institution=institution,
            tier=tier if tier in tiers else (tiers[-1] if tiers else ""),
        ),
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
    city_offices: dict  # region prefix -> the city office user


def cast_make(prefix: str = "", expert_count: int = DEMO_EXPERTS, logins: bool = True) -> Cast:
    """One user per role, the city offices and the expert pool; with `logins`, each can log in
    with the demo password (a rehearsal's cast needs none: hashing passwords takes time)."""
    roles_sync()
    users = {
        role: user_make(f"{prefix}{username}", role, label, login=logins)
        for role, (username, label) in DEMO_USERS.items()
    }
    offices = {}
    for region_code, (username, name) in DEMO_CITIES.items():
        user = users["city_office"] if region_code == "520100" else None
        user = user or user_make(
            f"{prefix}{username}", "city_office", f"{name}（演示）", login=logins
        )
        OfficeRegion.objects.get_or_create(
            user=user, defaults={"region_code": region_code, "name": name}
        )
        offices[region_code[:4]] = user
    experts = []
    for n in range(1, expert_count + 1):
        user = user_make(f"{prefix}expert{n}", "expert", f"评审专家{n}（演示）", login=logins)
        expert, _created = Expert.objects.get_or_create(
            user=user, defaults={"name": f"专家{n}", "specialty": "知识产权"}
        )
        experts.append(expert)
    return Cast(**users, experts=experts, city_offices=offices)


def institution_make(
    *, user, serial: int, name: str | None = None, region_code: str = "520100"
) -> Institution:
    code = uscc_make(serial, region_code)
    existing = Institution.objects.filter(uscc=code).first()
    if existing:
        services.institution_member_add(institution=existing, user=user, actor=user)
        return existing
    return services.institution_register(
        user=user,
        name=name or f"贵州演示单位{serial}号",
        uscc=code,
        region_code=region_code,
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
    formal_review_complete(user=cast.formal_reviewer, application=application, outcome="accept")
    leadership_decide(user=cast.leadership, decisions=[(application, True, "")])
    notice = public_notice_publish(user=cast.notice_officer, call=call)
    application.refresh_from_db()
    return application, notice


def call_awaiting_decision(*, cast: Cast, count: int, first_serial: int, title: str):
    """A call whose `count` applications were accepted, approved and went through their notice
    period, ready for the decision: (call, applications)."""
    call = call_make(title=title)
    applications = [
        application_submitted(cast=cast, call=call, serial=first_serial + i) for i in range(count)
    ]
    for application in applications:
        formal_review_complete(user=cast.formal_reviewer, application=application, outcome="accept")
    leadership_decide(user=cast.leadership, decisions=[(a, True, "") for a in applications])
    public_notice_publish(user=cast.notice_officer, call=call)
    notice_expire(call)
    return call, applications


def notice_expire(call: Call) -> None:
    """Move the call's notice period into the past and let viewflow's timer close it."""
    from viewflow.workflow.models import Task

    past = timezone.now() - timedelta(seconds=1)
    call.public_notices.update(ends_at=past)
    Task.objects.filter(
        process__application__call=call, flow_task_type="TIMER", scheduled__isnull=False
    ).update(scheduled=past)
    call_command("workflow_timers", stdout=io.StringIO())


def objection_settled(*, cast: Cast, application: Application, upheld: bool):
    """An organisation objects to a listed application; the notice officer decides."""
    objection = objection_lodge(
        user=cast.applicant,
        application=application,
        capacity="organisation",
        organisation_name="贵州某科技有限公司",
        phone="0851-85551234",
        statement="申报材料与事实不符。",
        evidence=pdf_upload("evidence.pdf"),
    )
    return objection_handle(
        user=cast.notice_officer,
        objection=objection,
        upheld=upheld,
        reason="经核实，" + ("异议成立。" if upheld else "异议不成立。"),
    )


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
            formal_review_complete(
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
            formal_review_complete(
                user=cast.formal_reviewer,
                application=application,
                outcome="refuse",
                reason="获批文件非本批次受理范围内的认定文件。",
            )
            progress(1)
            continue
        formal_review_complete(user=cast.formal_reviewer, application=application, outcome="accept")
    leadership_decide(
        user=cast.leadership,
        decisions=[
            (a, branch != "rejected", "" if branch != "rejected" else "材料与事实不符。")
            for a, branch in apps
            if branch != "refused"
        ],
    )
    progress(sum(1 for _a, branch in apps if branch == "rejected"))
    public_notice_publish(user=cast.notice_officer, call=call)
    for application, branch in apps:
        if branch.startswith("objection"):
            objection_settled(
                cast=cast, application=application, upheld=branch == "objection_upheld"
            )
    notice_expire(call)
    progress(sum(1 for _a, branch in apps if branch == "objection_upheld"))
    decision_issue(user=cast.notice_officer, call=call)
    for application, _branch in apps:
        application.refresh_from_db()
        if application.status == Application.Status.DECIDED:
            award_letter_issue(user=cast.finance_officer, application=application)
            payment_record(
                user=cast.finance_officer,
                application=application,
                voucher_number=f"PZ{call.pk:04d}{application.pk:06d}",
                paid_on=timezone.localdate(),
            )
            progress(1)
    documents_rendered(call)
    return [a for a, _b in apps]


def documents_rendered(call: Call) -> None:
    """Render here the PDFs of the call's documents still pending (a worker would, after each
    request; demo data is read at once, whether or not a worker runs)."""
    pending = Document.objects.filter(call=call, rendered_at__isnull=True)
    documents_render_pending(pending.values_list("pk", flat=True))


# The steps of one tech-transfer application from draft to paid, each a service call as a
# user's click makes it, in the order the benchmarks and the query-ceiling test time them.
LIFECYCLE_STEPS = (
    "draft with two attachments",
    "submit",
    "formal review: correction",
    "resubmit",
    "formal review: accept",
    "leadership approve",
    "public notice publish",
    "notice period closes (timer)",
    "decision (batch doc + notice)",
    "award letter",
    "payment",
)


def lifecycle_paid(*, cast: Cast, call: Call, institution: Institution, step=None) -> Application:
    """One application of a tech-transfer call from draft to paid through a correction, alone in
    its call (so the call's list, notice and decision are its own). `step(name, func, **kwargs)`
    runs each step (a benchmark times or counts it); the names are `LIFECYCLE_STEPS`."""
    (application,) = lifecycles_paid(cast=cast, call=call, institutions=[institution], step=step)
    return application


def lifecycles_paid(
    *, cast: Cast, call: Call, institutions: list[Institution], step=None
) -> list[Application]:
    """An application per institution through `lifecycle_paid`'s steps, all in one call: each
    application's own steps one by one (a leadership decision each), the call's notice, its
    close and its decision once for all of them."""
    step = step or (lambda name, func, **kwargs: func(**kwargs))
    applications = [_paid_until_leadership(cast, call, one, step) for one in institutions]
    step("public notice publish", public_notice_publish, user=cast.notice_officer, call=call)
    step("notice period closes (timer)", notice_expire, call=call)
    step("decision (batch doc + notice)", decision_issue, user=cast.notice_officer, call=call)
    for application in applications:
        step(
            "award letter",
            award_letter_issue,
            user=cast.finance_officer,
            application=application,
        )
        step(
            "payment",
            payment_record,
            user=cast.finance_officer,
            application=application,
            voucher_number=f"PZ-{call.pk}-{application.pk}",
            paid_on=timezone.localdate(),
        )
    return applications


def _paid_until_leadership(cast, call, institution, step) -> Application:
    application, refused = step(
        LIFECYCLE_STEPS[0],
        services.draft_create,
        user=cast.applicant,
        call=call,
        institution=institution,
        data={
            "tier": "national",
            "approval_number": "黔科函〔2026〕1号",
            "approval_date": call.designation_from,
            "bank_name": "中国银行",
            "account_name": institution.name,
            "bank_account": "240200000001",
            "contact_name": "张敏",
            "contact_phone": "0851-85550000",
        },
        # The application form sends the fields and the files in one request.
        uploads={"approval_document": pdf_upload(), "business_licence": pdf_upload()},
    )
    assert not refused, refused
    submit = services.application_submit
    step("submit", submit, user=cast.applicant, application=application)
    step(
        "formal review: correction",
        formal_review_complete,
        user=cast.formal_reviewer,
        application=application,
        outcome="correction",
        reason="请补充材料",
    )
    step("resubmit", submit, user=cast.applicant, application=application)
    step(
        "formal review: accept",
        formal_review_complete,
        user=cast.formal_reviewer,
        application=application,
        outcome="accept",
    )
    step(
        "leadership approve",
        leadership_decide,
        user=cast.leadership,
        decisions=[(application, True, "")],
    )
    return application
