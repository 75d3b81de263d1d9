"""A fifth program that exists in no code — its own fields, attachments, rubric and stage list —
runs from its file alone (issue 3: configuration holds up under change)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.documents.pdfs import pdf_text
from tests.factories import CallFactory
from tests.programs_support import program_installed
from tests.tasks_support import tasks_run
from workflows import calendar, demo
from workflows.models import Application, PanelSeat
from workflows.stages.decision.services import decision_issue
from workflows.stages.expert_review import services as expert_review
from workflows.stages.formal_review.services import formal_review_complete
from workflows.stages.public_notice.services import public_notice_publish

SLUG = "patent_navigation"
PROGRAM = """
slug = "patent_navigation"

[title]
zh = "专利导航服务基地认定"
en = "Patent navigation service base recognition"

[policy_basis]
document = "贵州省专利转化运用专项行动实施方案（2023—2025年）"
clause = "二（三）3"
text = "健全专利转化运营服务网络。"

[issuer]
name = "贵州省市场监督管理局"
code = "黔市监知"
reconsideration_body = "贵州省人民政府"

[eligibility]
region_prefix = "52"

[[attachments]]
key = "navigation_report"
zh = "专利导航分析报告"
en = "Patent navigation report"
required = true

[[fields]]
name = "contact_name"
type = "text"
zh = "联系人"
en = "Contact person"
max_length = 50

[[fields]]
name = "contact_phone"
type = "phone"
zh = "联系电话"
en = "Contact phone"

[[fields]]
name = "industry"
type = "text"
zh = "服务的重点产业"
en = "Industry served"
max_length = 100

[[rubric]]
key = "report_quality"
zh = "导航报告质量"
en = "Quality of the navigation report"
max_points = 60
measures = "quality"
guidance = "分析方法、数据来源和结论的可靠性。"

[[rubric]]
key = "service_benefit"
zh = "服务成效"
en = "Benefit of the service"
max_points = 40
measures = "transformation_benefit"
guidance = "服务企业数量及其专利转化成效。"

[[stages]]
type = "application"

[[stages]]
type = "formal_review"
correction_working_days = 3

[[stages]]
type = "expert_review"
panel_size = 3
score_method = "mean"

[[stages]]
type = "public_notice"
days = 5
day_kind = "working"

[[stages]]
type = "decision"
document = "recognition_decision"
per_applicant = "certificate"
validity_years = 2
certificate_title = "贵州省专利导航服务基地"
"""


@pytest.fixture
def navigation(tmp_path, monkeypatch, settings):
    program_installed(tmp_path, monkeypatch, settings, {SLUG: PROGRAM})
    yield SLUG
    from workflows import programs

    programs.programs_loaded.cache_clear()


def test_a_new_program_file_runs_without_code_change(navigation, client_for, tmp_path):
    """Its form asks its own fields, its panel has three experts scoring its rubric, its notice
    lasts five working days, and the recognised base gets a certificate valid two years."""
    cast = demo.cast_make()
    call = CallFactory(program_slug=navigation, title="2026年度专利导航服务基地认定")
    institution = demo.institution_make(user=cast.applicant, serial=4242, name="贵州导航服务中心")
    applicant = client_for(cast.applicant)

    form = applicant.get(reverse("application_create", args=[call.pk]))
    page = form.content.decode()
    assert "服务的重点产业" in page and "专利导航分析报告" in page and "获批级别" not in page
    applicant.post(
        reverse("application_create", args=[call.pk]),
        {
            "institution": institution.pk,
            "contact_name": "王芳",
            "contact_phone": "0851-86660000",
            "industry": "新型功能材料",
            "attachment_navigation_report": demo.pdf_upload("report.pdf"),
        },
        follow=True,
    )
    application = Application.objects.get(call=call)
    assert application.extra["industry"] == "新型功能材料"
    applicant.post(reverse("application_submit", args=[application.pk]), {"confirm": "1"})
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED

    formal_review_complete(user=cast.formal_reviewer, application=application, outcome="accept")
    seats = list(application.seats.select_related("expert__user"))
    assert len(seats) == 3
    for seat, points in zip(seats, [(50, 30), (54, 36), (46, 33)], strict=True):
        seat = expert_review.seat_declare(user=seat.expert.user, seat=seat, conflict=False)
        expert_review.seat_score(
            user=seat.expert.user,
            seat=seat,
            points={"report_quality": points[0], "service_benefit": points[1]},
            comment="分析扎实。",
        )
    application.refresh_from_db()
    assert application.status == Application.Status.SCORED
    assert str(application.panel_score) == "83.00"  # mean of 80, 90, 79
    assert application.seats.filter(status=PanelSeat.Status.SCORED).count() == 3

    notice = public_notice_publish(user=cast.notice_officer, call=call)
    assert notice.ends_at == calendar.working_days_after(notice.starts_at, 5)
    assert "拟认定名单公示" in notice.title
    demo.notice_expire(call)
    decision_issue(user=cast.notice_officer, call=call)
    tasks_run()  # a worker renders the certificate's PDF
    application.refresh_from_db()
    assert application.status == Application.Status.DECIDED
    # Two years from the decision, the day before its anniversary the last.
    expected_until = timezone.localdate().replace(year=timezone.localdate().year + 2) - timedelta(
        days=1
    )
    assert application.valid_until == expected_until
    certificate = application.documents.get(kind="certificate")
    assert certificate.title == "贵州省专利导航服务基地"
    application.process.refresh_from_db()
    assert application.process.status == "DONE"  # the decision was the file's last stage
    with certificate.file.open("rb") as stored:
        text = pdf_text(stored.read())
    assert "贵州导航服务中心" in text and "贵州省专利导航服务基地" in text
