"""End-to-end runs of the tech-transfer grant through the HTTP test client, one per branch, and the
refusals a user meets on the way. Each test checks what a person would notice: the page, the status
it shows, the messages, the text of the PDFs they download, and what is stored."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import CallFactory, UserFactory, institution_for
from tests.workflows import http_steps as steps
from workflows.demo import notice_expire, uscc_make
from workflows.models import Application, AuditRecord, Objection, Payment

pytestmark = pytest.mark.django_db

Status = Application.Status


def applicant_browser(client_for, name: str):
    """A second applicant organisation with its own login."""
    user = UserFactory(role="applicant")
    institution_for(user, name=name)
    return client_for(user)


# --- 1. the main path ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "words", "figures"),
    [
        ("national", "人民币壹佰万元整", "¥1,000,000.00"),
        ("provincial", "人民币叁拾万元整", "¥300,000.00"),
    ],
)
def test_accepted_approved_noticed_decided_and_paid(
    clients, call, institution, tier, words, figures
):
    """The applicant fills the form, submits, and after review, meeting, notice and decision is
    paid: it downloads the acceptance notice, the decision notice and the award letter (stating the
    amount in words and figures), the page shows 已拨付 and the call's budget drew down."""
    application = steps.application_submitted(clients.applicant, call, tier=tier)
    assert steps.status_shown(clients.applicant, application) == "已提交"

    response = steps.formal_review(clients.reviewer, application, "accept")
    assert "形式审查结论已提交。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, application) == "已受理"
    acceptance = steps.squeeze(steps.document_text(clients.applicant, application, "受理通知书"))
    assert institution.name in acceptance
    assert "现予以受理" in acceptance

    response = steps.leadership_one_by_one(clients.leader, call, {application: ("approve", "")})
    assert "已审议1项申报。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, application) == "审议通过"

    response = steps.call_manage(clients.notice, call, "publish")
    assert "公示已发布。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, application) == "公示中"
    notice_page = steps.page(
        Client().get(reverse("notice_detail", args=[steps.notice_of(call).pk]))
    )
    assert institution.name in notice_page

    response = steps.call_manage(clients.notice, call, "decide")
    assert "公示期尚未结束，不能印发决定。" in steps.messages_shown(response)

    notice_expire(call)
    assert steps.status_shown(clients.applicant, application) == "公示期满"
    response = steps.call_manage(clients.notice, call, "decide")
    assert "决定正在后台印发，请查看印发进度。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, application) == "已印发决定"

    manage = clients.notice.get(reverse("call_manage", args=[call.pk]))
    (decision_link,) = steps.hrefs(manage, "document_download")
    decision = steps.squeeze(steps.pdf_text(steps.download(clients.notice, decision_link)))
    assert institution.uscc in decision
    assert figures.removeprefix("¥") in decision

    notice_text = steps.squeeze(
        steps.document_text(clients.applicant, application, "资助决定通知书")
    )
    assert words in notice_text and figures in notice_text

    response = steps.award_letter(clients.finance, application)
    assert "奖励通知书已印发。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, application) == "已发奖励通知书"
    letter = steps.squeeze(steps.document_text(clients.applicant, application, "奖励通知书"))
    assert words in letter
    assert figures in letter
    assert "就高补差" not in letter
    # The program file numbers award letters under their own 机关代字 (issuer.document_codes),
    # in a sequence of their own; the decisions keep the issuer's code.
    year = timezone.localdate().year
    assert f"黔市监知函〔{year}〕1号" in letter
    assert re.search(rf"黔市监知〔{year}〕[1-9][0-9]*号", notice_text)

    budget_before = call.budget_paid
    response = steps.payment(clients.finance, application, voucher="PZ2026-0001")
    assert "拨付已登记。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, application) == "已拨付"
    call.refresh_from_db()
    amount = Decimal(figures.removeprefix("¥").replace(",", ""))
    assert call.budget_paid == budget_before + amount
    assert Payment.objects.get(application=application).amount == amount


def test_applicant_downloads_batch_funding_decision(clients, call, institution):
    """Once the decision is issued, the applicant's page lists the batch funding decision (资助决定,
    with the list of funded units) next to its own notices, and the applicant can download it."""
    application = steps.application_submitted(clients.applicant, call)
    steps.accepted_and_approved(clients, call, [application])
    steps.through_notice(clients, call)

    decision = steps.squeeze(
        steps.document_text(clients.applicant, application, "关于给予技术转移机构经费资助的决定")
    )
    assert institution.uscc in decision
    assert "受资助单位名单" in decision


# --- 2. correction -----------------------------------------------------------------------------


def test_correction_twice_then_accepted(clients, call):
    """The reviewer returns the application twice with reasons; each time the applicant sees the
    reason and the deadline, replaces the file and resubmits; the third review accepts. Staff see
    both corrections and their reasons in the history."""
    application = steps.application_submitted(clients.applicant, call)
    reasons = ["获批文件扫描件不清晰，请重新上传。", "获批文件缺少第二页，请上传完整文件。"]

    for round_number, reason in enumerate(reasons, start=1):
        response = steps.formal_review(clients.reviewer, application, "correction", reason)
        assert "形式审查结论已提交。" in steps.messages_shown(response)
        application.refresh_from_db()
        detail = steps.page(
            clients.applicant.get(reverse("application_detail", args=[application.pk]))
        )
        assert "状态：<strong>退回补正</strong>" in detail
        assert reason in detail
        deadline = timezone.localtime(application.correction_deadline)
        assert deadline > timezone.now()
        assert (
            f"补正期限：{deadline.year}年{deadline.month}月{deadline.day}日 {deadline:%H:%M}"
            in detail
        )
        assert "提交补正" in detail

        new_name = f"approval-round{round_number}.pdf"
        response = steps.draft_edit(
            clients.applicant,
            application,
            uploads={"approval_document": steps.pdf_file(new_name)},
        )
        assert "草稿已保存。" in steps.messages_shown(response)
        shown = steps.page(response)
        assert new_name in shown
        assert "approval_document.pdf" not in shown
        response = steps.submit(clients.applicant, application)
        assert "申报已提交。" in steps.messages_shown(response)
        assert steps.status_shown(clients.applicant, application) == "已提交"

    steps.formal_review(clients.reviewer, application, "accept")
    assert steps.status_shown(clients.applicant, application) == "已受理"

    staff_view = steps.page(
        clients.reviewer.get(reverse("application_detail", args=[application.pk]))
    )
    assert "办理记录" in staff_view
    for reason in reasons:
        assert reason in staff_view
    assert staff_view.count("已提交 → 退回补正") == 2
    applicant_view = steps.page(
        clients.applicant.get(reverse("application_detail", args=[application.pk]))
    )
    assert "办理记录" not in applicant_view


# --- 3. refusal --------------------------------------------------------------------------------


def test_refused_with_reasons_and_remedies(clients, call, institution):
    """不予受理: the applicant sees the status and downloads a decision that states the reason and
    the right to administrative reconsideration (60 days) or a lawsuit (6 months)."""
    application = steps.application_submitted(clients.applicant, call)
    reason = "获批文件为2019年认定文件，不属于本批次受理的获批时间范围。"

    response = steps.formal_review(clients.reviewer, application, "refuse", "")
    assert "退回补正或不予受理时必须写明理由。" in steps.form_errors(response)
    assert steps.status_shown(clients.applicant, application) == "已提交"

    steps.formal_review(clients.reviewer, application, "refuse", reason)
    assert steps.status_shown(clients.applicant, application) == "不予受理"
    text = steps.squeeze(steps.document_text(clients.applicant, application, "不予受理决定书"))
    assert institution.name in text
    assert reason in text
    assert "行政复议" in text
    assert "六十日" in text
    assert "六个月" in text
    assert "行政诉讼" in text
    assert "贵州省人民政府" in text


# --- 4. leadership meeting ---------------------------------------------------------------------


def test_rejected_by_leadership_one_by_one(clients, client_for, call):
    """In the meeting a rejection needs a reason; with it, one application is rejected and the
    other approved in the same submission, and only the approved one is published."""
    application = steps.application_submitted(clients.applicant, call)
    other_browser = applicant_browser(client_for, "遵义市技术转移服务中心")
    other = steps.application_submitted(other_browser, call, tier="provincial")
    for item in (application, other):
        steps.formal_review(clients.reviewer, item, "accept")

    response = steps.leadership_one_by_one(
        clients.leader, call, {application: ("reject", ""), other: ("approve", "")}
    )
    assert any("不通过的申报须写明理由" in m for m in steps.messages_shown(response))
    assert steps.status_shown(clients.applicant, application) == "已受理"
    assert steps.status_shown(other_browser, other) == "已受理"

    reason = "经核实，获批文件所列机构名称与申报单位不一致。"
    response = steps.leadership_one_by_one(
        clients.leader, call, {application: ("reject", reason), other: ("approve", "")}
    )
    assert "已审议2项申报。" in steps.messages_shown(response)
    assert "该批次没有待审议的申报。" in steps.page(response)
    assert steps.status_shown(clients.applicant, application) == "审议未通过"
    assert steps.status_shown(other_browser, other) == "审议通过"
    staff_view = steps.page(
        clients.leader.get(reverse("application_detail", args=[application.pk]))
    )
    assert reason in staff_view

    steps.call_manage(clients.notice, call, "publish")
    notice = steps.page(Client().get(reverse("notice_detail", args=[steps.notice_of(call).pk])))
    assert "遵义市技术转移服务中心" in notice
    assert application.institution.name not in notice


def test_leadership_error_keeps_the_choices_already_made(clients, client_for, call):
    """When the meeting's submission is refused (a rejection without reason), the page comes back
    with the choices and reasons already entered, so the leader fixes one row, not all of them."""
    application = steps.application_submitted(clients.applicant, call)
    other_browser = applicant_browser(client_for, "遵义市技术转移服务中心")
    other = steps.application_submitted(other_browser, call, tier="provincial")
    for item in (application, other):
        steps.formal_review(clients.reviewer, item, "accept")

    response = steps.leadership_one_by_one(
        clients.leader, call, {application: ("reject", ""), other: ("approve", "材料齐全")}
    )
    assert any("不通过的申报须写明理由" in m for m in steps.messages_shown(response))
    shown = steps.page(response)
    assert re.search(rf'name="decision_{application.pk}" value="reject"[^>]*checked', shown)
    assert re.search(rf'name="decision_{other.pk}" value="approve"[^>]*checked', shown)
    assert steps.input_value(response, f"reason_{other.pk}") == "材料齐全"


def test_leadership_approves_all_at_once(clients, client_for, call):
    """全部通过 approves every accepted application of the call in one press."""
    browsers = [clients.applicant] + [
        applicant_browser(client_for, f"贵州第{n}技术转移中心") for n in (2, 3)
    ]
    applications = [steps.application_submitted(b, call, tier="provincial") for b in browsers]
    for application in applications:
        steps.formal_review(clients.reviewer, application, "accept")

    response = steps.leadership_approve_all(clients.leader, call)
    assert "已审议3项申报。" in steps.messages_shown(response)
    for browser, application in zip(browsers, applications, strict=True):
        assert steps.status_shown(browser, application) == "审议通过"


# --- 5-7. objections ---------------------------------------------------------------------------


@pytest.fixture
def objector_browser(client_for):
    """Someone else, logged in: anyone may object during the notice."""
    return client_for(UserFactory(username="objector", role="applicant"))


def test_objection_upheld_removes_the_application(clients, client_for, call, objector_browser):
    """An organisation objects with evidence from the public notice page; the notice officer upholds
    it; the public list no longer shows the unit; after the period it is 异议成立，撤销 and left
    out of the funding decision."""
    application = steps.application_submitted(clients.applicant, call)
    other_browser = applicant_browser(client_for, "遵义市技术转移服务中心")
    other = steps.application_submitted(other_browser, call, tier="provincial")
    steps.accepted_and_approved(clients, call, [application, other])
    steps.call_manage(clients.notice, call, "publish")
    notice = steps.notice_of(call)
    institution = application.institution
    assert institution.name in steps.page(Client().get(reverse("notice_detail", args=[notice.pk])))

    statement = "该单位获批文件的日期与事实不符，附主管部门出具的情况说明。"
    response = steps.objection_lodge(objector_browser, notice, application, statement=statement)
    assert "异议已提交，我们将依法核实处理。" in steps.messages_shown(response)
    objection = Objection.objects.get(application=application)
    assert objection.capacity == Objection.Capacity.ORGANISATION
    assert objection.evidence.read().startswith(b"%PDF-")

    manage = steps.page(clients.notice.get(reverse("call_manage", args=[call.pk])))
    assert statement[:20] in manage and "待处理" in manage
    response = steps.call_manage(clients.notice, call, "decide")
    assert any("未处理的异议" in m for m in steps.messages_shown(response))

    response = steps.objection_handle(
        clients.notice, objection, "uphold", "经核实，该单位获批日期早于本批次受理范围。"
    )
    assert "异议已处理。" in steps.messages_shown(response)
    assert "异议成立" in steps.page(response)

    public = steps.page(Client().get(reverse("notice_detail", args=[notice.pk])))
    assert institution.name not in public
    assert institution.uscc not in public
    assert "遵义市技术转移服务中心" in public

    notice_expire(call)
    assert steps.status_shown(clients.applicant, application) == "异议成立，撤销"
    steps.call_manage(clients.notice, call, "decide")
    assert steps.status_shown(clients.applicant, application) == "异议成立，撤销"
    assert steps.status_shown(other_browser, other) == "已印发决定"
    manage = clients.notice.get(reverse("call_manage", args=[call.pk]))
    (href,) = steps.hrefs(manage, "document_download")
    decision = steps.squeeze(steps.pdf_text(steps.download(clients.notice, href)))
    assert other.institution.uscc in decision
    assert institution.uscc not in decision
    assert "共有1家单位" in decision
    assert not application.documents.filter(kind="decision_notice").exists()


def test_objection_lodged_in_time_and_upheld_after_the_period_removes_the_application(
    clients, client_for, call, objector_browser
):
    """An objection lodged in time but handled after the period ended (officers often decide after
    the 7 days; the decision waits for it) still removes the application when upheld: it is
    异议成立，撤销, gets no decision notice and is not in the funding decision."""
    application = steps.application_submitted(clients.applicant, call)
    other_browser = applicant_browser(client_for, "遵义市技术转移服务中心")
    other = steps.application_submitted(other_browser, call, tier="provincial")
    steps.accepted_and_approved(clients, call, [application, other])
    steps.call_manage(clients.notice, call, "publish")
    steps.objection_lodge(objector_browser, steps.notice_of(call), application)
    objection = Objection.objects.get(application=application)

    notice_expire(call)
    response = steps.call_manage(clients.notice, call, "decide")
    assert any("未处理的异议" in m for m in steps.messages_shown(response))
    response = steps.objection_handle(
        clients.notice, objection, "uphold", "经核实，该单位获批文件系伪造，异议成立。"
    )
    assert "异议已处理。" in steps.messages_shown(response)

    assert steps.status_shown(clients.applicant, application) == "异议成立，撤销"
    steps.call_manage(clients.notice, call, "decide")
    assert steps.status_shown(other_browser, other) == "已印发决定"
    assert steps.status_shown(clients.applicant, application) == "异议成立，撤销"
    assert not application.documents.filter(kind="decision_notice").exists()


def test_objection_dismissed_then_paid(clients, call, objector_browser):
    """A dismissed objection changes nothing: the application is decided and paid in full."""
    application = steps.application_submitted(clients.applicant, call)
    steps.accepted_and_approved(clients, call, [application])
    steps.call_manage(clients.notice, call, "publish")
    notice = steps.notice_of(call)

    steps.objection_lodge(objector_browser, notice, application)
    objection = Objection.objects.get(application=application)
    reason = "经核实，获批文件真实有效，异议不成立。"
    steps.objection_handle(clients.notice, objection, "dismiss", reason)
    objection.refresh_from_db()
    assert objection.status == Objection.Status.DISMISSED
    assert reason in steps.page(clients.notice.get(reverse("call_manage", args=[call.pk])))
    assert steps.status_shown(clients.applicant, application) == "公示中"
    assert application.institution.name in steps.page(
        Client().get(reverse("notice_detail", args=[notice.pk]))
    )

    notice_expire(call)
    steps.call_manage(clients.notice, call, "decide")
    steps.paid(clients, application, voucher="PZ2026-0002")
    assert steps.status_shown(clients.applicant, application) == "已拨付"
    call.refresh_from_db()
    assert call.budget_paid == Decimal("1000000.00")


def test_objection_after_the_period_is_refused(clients, call, objector_browser):
    """After the notice period an objection is refused with a message and nothing is stored; the
    public page says the period is over and offers no objection link; an anonymous visitor who
    tries to object is sent to the login page."""
    application = steps.application_submitted(clients.applicant, call)
    steps.accepted_and_approved(clients, call, [application])
    steps.call_manage(clients.notice, call, "publish")
    notice = steps.notice_of(call)
    url = reverse("objection_lodge", args=[notice.pk, application.pk])

    anonymous = Client()
    response = anonymous.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    response = anonymous.post(url, {"capacity": "organisation", "statement": "匿名异议"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

    notice_expire(call)
    public = steps.page(anonymous.get(reverse("notice_detail", args=[notice.pk])))
    assert "公示期已结束，不再受理异议。" in public
    assert url not in public

    response = objector_browser.post(
        url,
        {
            "capacity": "organisation",
            "organisation_name": "贵州某科技有限公司",
            "phone": "0851-85551234",
            "statement": "逾期提出的异议。",
            "evidence": steps.pdf_file("evidence.pdf"),
        },
        follow=True,
    )
    assert "公示期已结束，不再受理异议。" in steps.messages_shown(response)
    assert "提交异议" not in steps.page(response)
    assert not Objection.objects.exists()
    assert steps.status_shown(clients.applicant, application) == "公示期满"


# --- 8-10. money -------------------------------------------------------------------------------


def test_payment_over_budget_is_refused(clients, institution):
    """A national grant (¥1,000,000) in a call with ¥500,000 left: the payment page says 预算余额
    不足 and nothing is recorded; the application stays 已发奖励通知书."""
    call = CallFactory(budget_total=Decimal("500000.00"))
    application = steps.application_submitted(clients.applicant, call, tier="national")
    steps.accepted_and_approved(clients, call, [application])
    steps.through_notice(clients, call)
    steps.award_letter(clients.finance, application)

    response = steps.payment(clients.finance, application, voucher="PZ2026-0003")
    errors = steps.form_errors(response)
    assert any(
        "预算余额不足" in e and "¥500,000.00" in e and "¥1,000,000.00" in e for e in errors
    ), errors
    assert "拨付已登记。" not in steps.messages_shown(response)
    assert not Payment.objects.exists()
    call.refresh_from_db()
    assert call.budget_paid == Decimal("0.00")
    application.refresh_from_db()
    assert application.status == Status.LETTER_ISSUED
    assert steps.status_shown(clients.applicant, application) == "已发奖励通知书"
    assert not AuditRecord.objects.filter(application=application, action="payment_record").exists()


def test_a_payment_dated_before_its_award_letter_is_refused_and_nothing_is_recorded(clients, call):
    """0001-01-01 was once recorded as a payment date: money is paid after the letter that
    announces it, so an earlier date is refused (the voucher typed is kept)."""
    application = steps.application_submitted(clients.applicant, call, tier="national")
    steps.accepted_and_approved(clients, call, [application])
    steps.through_notice(clients, call)
    steps.award_letter(clients.finance, application)

    for day in (date(1, 1, 1), timezone.localdate() - timedelta(days=1)):
        response = steps.payment(clients.finance, application, voucher="PZ2026-0009", paid_on=day)
        errors = steps.form_errors(response)
        assert any("拨付日期不能早于" in e and "印发日期" in e for e in errors), errors
        assert steps.input_value(response, "voucher_number") == "PZ2026-0009"
    assert not Payment.objects.exists()
    response = steps.payment(clients.finance, application, voucher="PZ2026-0009")
    assert "拨付已登记。" in steps.messages_shown(response)


def test_a_voucher_number_used_before_in_the_program_is_refused_and_nothing_recorded(
    clients, call, client_for, other_applicant, other_institution
):
    """A voucher number identifies one payment of the program: typed again for another
    applicant, the payment is refused with 该凭证号已被使用, the number typed stays in the form,
    and neither the payment nor the budget changes."""
    steps.run_to_paid(clients, call, tier="provincial", voucher="PZ2026-0010")
    other = client_for(other_applicant)
    application = steps.application_submitted(other, call, tier="national")
    steps.accepted_and_approved(clients, call, [application])
    steps.through_notice(clients, call)
    steps.award_letter(clients.finance, application)
    call.refresh_from_db()
    paid_before = call.budget_paid

    response = steps.payment(clients.finance, application, voucher="PZ2026-0010")
    errors = steps.form_errors(response)
    assert any("该凭证号已被使用" in e for e in errors), errors
    assert steps.input_value(response, "voucher_number") == "PZ2026-0010"
    assert Payment.objects.count() == 1
    call.refresh_from_db()
    assert call.budget_paid == paid_before
    application.refresh_from_db()
    assert application.status == Status.LETTER_ISSUED


def test_same_designation_is_not_paid_twice(clients, call):
    """Paid as a provincial agency in one call, the unit applies as provincial again in the next:
    submitting is refused with 同一认定不重复资助 on the page and the draft stays a draft."""
    steps.run_to_paid(clients, call, tier="provincial", voucher="PZ2026-0004")
    later_call = CallFactory()

    application, _page = steps.draft_create(clients.applicant, later_call, tier="provincial")
    assert application is not None
    response = steps.submit(clients.applicant, application)
    shown = steps.messages_shown(response)
    assert any("同一认定不重复资助" in m for m in shown), shown
    assert "申报已提交。" not in shown
    assert "状态：<strong>草稿</strong>" in steps.page(response)
    application.refresh_from_db()
    assert application.status == Status.DRAFT
    assert application.process is None


def test_upgrade_tops_up_the_difference(clients, call):
    """Paid ¥300,000 as provincial, the unit is later designated national: the second award letter
    pays the difference, ¥700,000.00 (人民币柒拾万元整), and says so."""
    steps.run_to_paid(clients, call, tier="provincial", voucher="PZ2026-0005")
    later_call = CallFactory()

    application = steps.application_submitted(clients.applicant, later_call, tier="national")
    steps.accepted_and_approved(clients, later_call, [application])
    steps.through_notice(clients, later_call)
    notice_text = steps.squeeze(
        steps.document_text(clients.applicant, application, "资助决定通知书")
    )
    assert "人民币柒拾万元整" in notice_text

    steps.award_letter(clients.finance, application)
    letter = steps.squeeze(steps.document_text(clients.applicant, application, "奖励通知书"))
    assert "人民币柒拾万元整" in letter
    assert "¥700,000.00" in letter
    assert "就高补差" in letter
    assert "¥300,000.00" in letter

    steps.payment(clients.finance, application, voucher="PZ2026-0006")
    assert steps.status_shown(clients.applicant, application) == "已拨付"
    assert Payment.objects.get(application=application).amount == Decimal("700000.00")
    later_call.refresh_from_db()
    assert later_call.budget_paid == Decimal("700000.00")


# --- 11. bad input keeps the draft ----------------------------------------------------------------


def test_institution_with_invalid_credit_code_is_refused(client_for, applicant):
    """A unified social credit code with a wrong check character is refused on the form, and the
    name the user typed is still there."""
    good = uscc_make(424242)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    browser = client_for(applicant)

    response = steps.institution_register(browser, name="贵州星火技术转移中心", uscc=bad)
    assert any("统一社会信用代码无效" in e for e in steps.form_errors(response))
    assert steps.input_value(response, "name") == "贵州星火技术转移中心"
    assert not applicant.institutions.exists()

    response = steps.institution_register(browser, name="贵州星火技术转移中心", uscc=good)
    assert "申报单位已登记。" in steps.messages_shown(response)
    assert applicant.institutions.get().uscc == good


def test_submission_after_the_deadline_is_refused(clients, call):
    """A draft saved in time cannot be submitted after the call closes, even by posting straight
    to the submit address: the page says so and the application stays a draft."""
    application, _page = steps.draft_create(clients.applicant, call)
    call.closes_at = timezone.now() - timedelta(minutes=1)
    call.save()

    response = steps.submit(clients.applicant, application)
    assert any("截止，不能再提交" in m for m in steps.messages_shown(response))
    assert steps.status_shown(clients.applicant, application) == "草稿"
    application.refresh_from_db()
    assert application.submitted_at is None and application.process is None


def test_missing_required_attachment_blocks_submission(clients, call):
    """Without the business licence the draft saves, but submitting names the missing file."""
    application, _page = steps.draft_create(
        clients.applicant,
        call,
        uploads={"approval_document": steps.pdf_file("approval.pdf")},
    )
    response = steps.submit(clients.applicant, application)
    assert "缺少必需的申报材料：营业执照或法人登记证书。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, application) == "草稿"

    steps.draft_edit(
        clients.applicant, application, uploads={"business_licence": steps.pdf_file("licence.pdf")}
    )
    response = steps.submit(clients.applicant, application)
    assert "申报已提交。" in steps.messages_shown(response)


def test_non_pdf_attachment_on_edit_shows_the_error_and_keeps_the_fields(clients, call):
    """Editing a draft with a PNG renamed .pdf: the form says 不是PDF, the typed fields are saved,
    the earlier PDF stays the current file."""
    application, _page = steps.draft_create(clients.applicant, call)
    response = steps.draft_edit(
        clients.applicant,
        application,
        uploads={"approval_document": steps.png_named_pdf("approval-scan.pdf")},
        approval_number="国科火字〔2025〕99号",
    )
    errors = steps.form_errors(response)
    assert any("approval-scan.pdf" in e and "不是PDF" in e for e in errors), errors
    assert steps.input_value(response, "approval_number") == "国科火字〔2025〕99号"
    application.refresh_from_db()
    assert application.approval_number == "国科火字〔2025〕99号"
    current = application.attachments.get(kind="approval_document", superseded=False)
    assert current.original_name == "approval_document.pdf"


def test_non_pdf_attachment_on_create_saves_the_draft_and_says_why(clients, call):
    """Saving a new draft with a PNG renamed .pdf keeps the draft (with the typed approval number)
    and the user is told which file was refused and why (不是PDF)."""
    application, response = steps.draft_create(
        clients.applicant,
        call,
        uploads={
            "approval_document": steps.png_named_pdf("approval-scan.pdf"),
            "business_licence": steps.pdf_file("licence.pdf"),
        },
        approval_number="国科火字〔2025〕77号",
    )
    assert application is not None
    assert application.approval_number == "国科火字〔2025〕77号"
    assert application.status == Status.DRAFT
    assert "草稿已保存，但有材料未能上传，请更正后重新上传。" in steps.messages_shown(response)
    assert steps.input_value(response, "approval_number") == "国科火字〔2025〕77号"
    assert not application.attachments.filter(kind="approval_document").exists()
    shown = steps.page(response)
    assert "approval-scan.pdf" in shown and "不是PDF" in shown


def test_a_file_the_storage_cannot_write_is_refused_and_the_draft_and_other_file_kept(
    clients, call, settings, tmp_path
):
    """The draft and its files are recorded in one transaction, their files stored before it: a
    file the storage refuses (a full disk) is reported on its field, and the draft is saved with
    what was typed and with the file that was stored; nothing answers 500."""
    from tests.storage_support import DiskFullStorage

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": f"{DiskFullStorage.__module__}.{DiskFullStorage.__name__}",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    application, response = steps.draft_create(
        clients.applicant,
        call,
        uploads={
            "approval_document": steps.pdf_file("approval-disk-full.pdf"),
            "business_licence": steps.pdf_file("licence.pdf"),
        },
        approval_number="国科火字〔2025〕78号",
    )
    assert application is not None and application.status == Status.DRAFT
    assert application.approval_number == "国科火字〔2025〕78号"
    assert "草稿已保存，但有材料未能上传，请更正后重新上传。" in steps.messages_shown(response)
    shown = steps.messages_shown(response)
    assert any("approval-disk-full.pdf" in m and "未能保存" in m for m in shown), shown
    (stored,) = application.attachments.all()
    assert stored.kind == "business_licence"
    assert (tmp_path / stored.file.name).read_bytes() == steps.MINIMAL_PDF
    assert sorted(p.name for p in tmp_path.rglob("*.pdf")) == [stored.file.name.rsplit("/", 1)[1]]


def test_attachment_over_20_mb_is_refused(clients, call):
    """A PDF of 20 MB + 1 byte is refused with 超过20 MB; the draft keeps its earlier file."""
    application, _page = steps.draft_create(clients.applicant, call)
    big = steps.MINIMAL_PDF + b"\0" * (20 * 1024 * 1024 + 1 - len(steps.MINIMAL_PDF))
    response = steps.draft_edit(
        clients.applicant,
        application,
        uploads={"business_licence": steps.pdf_file("licence-huge.pdf", big)},
    )
    errors = steps.form_errors(response)
    assert any("licence-huge.pdf" in e and "超过20 MB" in e for e in errors), errors
    current = application.attachments.get(kind="business_licence", superseded=False)
    assert current.original_name == "business_licence.pdf"


def test_attachment_of_exactly_20_mb_is_accepted(clients, call):
    """The limit is inclusive: exactly 20 MB uploads."""
    application, _page = steps.draft_create(clients.applicant, call)
    exact = steps.MINIMAL_PDF + b"\0" * (20 * 1024 * 1024 - len(steps.MINIMAL_PDF))
    response = steps.draft_edit(
        clients.applicant,
        application,
        uploads={"business_licence": steps.pdf_file("licence-20mb.pdf", exact)},
    )
    assert "草稿已保存。" in steps.messages_shown(response)
    current = application.attachments.get(kind="business_licence", superseded=False)
    assert current.size == 20 * 1024 * 1024


def test_approval_date_outside_the_window_is_refused_and_nothing_is_lost(clients, call):
    """An approval date before the call's designation window: the form says which dates are
    accepted, keeps everything typed, and no draft is created."""
    too_early = (call.designation_from - timedelta(days=1)).isoformat()
    application, response = steps.draft_create(
        clients.applicant, call, approval_date=too_early, approval_number="国科火字〔2024〕5号"
    )
    assert application is None
    errors = steps.form_errors(response)
    assert any("获批日期须在" in e and call.designation_from.isoformat() in e for e in errors), (
        errors
    )
    assert steps.input_value(response, "approval_number") == "国科火字〔2024〕5号"
    assert steps.input_value(response, "approval_date") == too_early
    assert steps.input_value(response, "contact_name") == "张敏"
    assert not Application.objects.exists()
