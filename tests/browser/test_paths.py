"""The applicant's, the formal reviewer's, the city office's and the expert's main paths in
Chromium at 1280 px: applying and submitting through the form, a return for correction and
its resubmission, a recommendation, a conflict declaration and a score."""

import pytest

from tests.factories import CallFactory
from workflows import demo, services
from workflows.models import Application, PanelSeat
from workflows.stages.city_recommendation.services import recommendation_decide
from workflows.stages.formal_review.services import formal_review_complete

Status = Application.Status


def test_the_applicant_applies_through_the_form_and_submits(call, applicant, institution, pages):
    window = pages(applicant)
    page = window.open("/", "home")
    page.click(f"a[href='/calls/{call.pk}/apply/']")
    window.check("application form")

    # The program's own fields, with its labels; an ISO date the browser shows.
    assert "获批级别" in window.text() and "开户银行" in window.text()
    page.select_option("select[name=tier]", "national")
    page.fill("input[name=approval_number]", "国科火字〔2026〕18号")
    page.fill("input[name=approval_date]", call.designation_from.isoformat())
    page.fill("input[name=bank_name]", "中国工商银行贵阳分行")
    page.fill("input[name=account_name]", institution.name)
    page.fill("input[name=bank_account]", "2402001209001234567")
    page.fill("input[name=contact_name]", "张敏")
    page.fill("input[name=contact_phone]", "0851-85550000")
    for kind in ("approval_document", "business_licence"):
        page.set_input_files(
            f"input[name=attachment_{kind}]",
            {"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": demo.MINIMAL_PDF},
        )
    page.click("form.card button[type=submit]")
    window.check("draft saved")
    assert "草稿已保存" in window.text()
    assert "获批文件" in window.text()  # attachments under their type

    submit = page.locator("button:has-text('提交申报')")
    assert submit.is_enabled()
    page.check("input[name=confirm]")
    submit.click()
    window.check("submitted")

    assert "申报已提交" in window.text()
    application = Application.objects.get(institution=institution)
    assert application.status == Status.SUBMITTED
    window.open("/", "home with the tracker")
    assert "下一步：审议" in window.text()


def test_the_reviewer_returns_for_correction_and_accepts_the_resubmission(
    call, applicant, institution, formal_reviewer, pages
):
    application = demo.application_draft(
        user=applicant, call=call, institution=institution, tier="national"
    )
    services.application_submit(user=applicant, application=application)
    reviewer = pages(formal_reviewer)
    page = reviewer.open("/inbox/", "inbox")
    page.click("table.worklist a:has-text('形式审查')")
    reviewer.check("review page")
    assert "批准文号" in reviewer.text() and application.approval_number in reviewer.text()

    page.check("input[name=outcome][value=correction]")
    page.fill("textarea[name=reason]", "获批文件扫描件不清晰，请重新上传。")
    page.click("form.card button[type=submit]")
    reviewer.check("returned")

    owner = pages(applicant)
    page = owner.open("/", "home with a correction")
    assert "补正期限" in owner.text()
    page.click("a:has-text('修改并重新提交')")
    owner.check("correction form")
    page.set_input_files(
        "input[name=attachment_approval_document]",
        {"name": "clear-scan.pdf", "mimeType": "application/pdf", "buffer": demo.MINIMAL_PDF},
    )
    page.check("input[name=confirm]")
    page.click("button[name=resubmit]")
    owner.check("resubmitted")
    assert "申报已提交" in owner.text()

    page = reviewer.open("/inbox/", "inbox again")
    page.click("table.worklist a:has-text('形式审查')")
    reviewer.check("review of the resubmission")
    assert "获批文件扫描件不清晰" in reviewer.text()  # the earlier request
    assert "clear-scan.pdf" in reviewer.text()  # what changed since
    page.check("input[name=outcome][value=accept]")
    page.click("form.card button[type=submit]")
    reviewer.check("accepted")

    assert Application.objects.get(pk=application.pk).status == Status.ACCEPTED


@pytest.fixture
def enterprise_call(db):
    return CallFactory(program_slug="ip_advantage_enterprise", title="2026年度知识产权优势企业认定")


def test_the_city_office_recommends_from_its_list(
    enterprise_call, applicant, institution, city_office, pages
):
    application = demo.application_draft(
        user=applicant, call=enterprise_call, institution=institution
    )
    services.application_submit(user=applicant, application=application)
    window = pages(city_office)
    page = window.open("/", "home")
    assert "我的申报单位" not in window.text()
    page.click("table.worklist a >> nth=0")
    window.check("recommendation page")
    assert institution.name in window.text()

    page.check("input[name=decision][value=recommend]")
    page.click("form.card button[type=submit]")
    window.check("recommended")

    assert Application.objects.get(pk=application.pk).status == Status.RECOMMENDED


def test_the_expert_declares_no_conflict_and_scores(
    enterprise_call, applicant, institution, city_office, formal_reviewer, experts, pages
):
    application = demo.application_draft(
        user=applicant, call=enterprise_call, institution=institution
    )
    services.application_submit(user=applicant, application=application)
    recommendation_decide(user=city_office, application=application, recommended=True, reason="")
    formal_review_complete(user=formal_reviewer, application=application, outcome="accept")
    seat = PanelSeat.objects.filter(application=application).first()
    window = pages(seat.expert.user)
    page = window.open("/", "home")
    assert "我的申报单位" not in window.text()
    page.click("table.worklist a >> nth=0")
    window.check("declaration")
    assert "评审期限" in window.text()

    page.check("input[name=decision][value=no_conflict]")
    page.click("form.card button[type=submit]")
    window.check("score form")
    assert "True" not in window.text()
    for row in page.locator("form.card table.table tbody tr").all():
        maximum = row.locator("td").nth(1).inner_text().strip()
        row.locator("input").fill(maximum)
    page.fill("textarea[name=comment]", "知识产权管理体系健全，运用成效明显。")
    page.check("input[name=confirm]")
    page.click("form.card button[type=submit]")
    window.check("scored")

    seat.refresh_from_db()
    assert seat.status == PanelSeat.Status.SCORED
    assert seat.total == 100
