"""Each role's main path through the pages, in Chromium at 1280 px (and the applicant's and
finance's pages at 390 px): what the person sees, the buttons they can press, no sideways
scroll. The state before each path is made with the services; every step of the path itself is
a click or a keystroke in the browser."""

import re

import pytest
from django.utils import timezone

from tests.workflows.test_inbox import submitted
from workflows import demo
from workflows.models import Application
from workflows.stages.decision.services import decision_issue
from workflows.stages.formal_review.services import formal_review_complete
from workflows.stages.leadership_meeting.services import leadership_decide
from workflows.stages.public_notice.services import public_notice_publish

Status = Application.Status


def accepted(call, applicant, institution, reviewer, tier):
    application = submitted(applicant, institution, call, tier=tier)
    return formal_review_complete(user=reviewer, application=application, outcome="accept")


@pytest.fixture
def two_accepted(call, applicant, institution, formal_reviewer):
    return [
        accepted(call, applicant, institution, formal_reviewer, "national"),
        accepted(call, applicant, institution, formal_reviewer, "provincial"),
    ]


@pytest.fixture
def two_decided(two_accepted, call, leadership, notice_officer):
    leadership_decide(user=leadership, decisions=[(a, True, "") for a in two_accepted])
    public_notice_publish(user=notice_officer, call=call)
    demo.notice_expire(call)
    decision_issue(user=notice_officer, call=call)
    return [Application.objects.get(pk=a.pk) for a in two_accepted]


def test_leadership_decides_with_the_amounts_and_the_budget_in_view(
    two_accepted, call, leadership, pages
):
    window = pages(leadership)
    page = window.open("/inbox/", "inbox")
    page.click("table.worklist a >> nth=0")
    window.check("leadership page")

    text = window.text()
    assert "拟资助金额" in text
    assert "¥1,000,000.00" in text and "¥300,000.00" in text
    assert "本次待审议名单合计" in text and "¥1,300,000.00" in text
    assert "可用余额" in text

    # Pressing the button without ticking the confirmation does not submit.
    page.click("button[name=approve_all]")
    assert page.locator("input[name=confirm]:invalid").count() == 1
    page.check("input[name=confirm]")
    page.click("button[name=approve_all]")
    window.check("after the decision")

    assert Application.objects.filter(status=Status.APPROVED).count() == 2


def test_the_notice_officer_publishes_the_list_then_issues_the_decision(
    two_accepted, call, leadership, notice_officer, pages, tasks_run
):
    leadership_decide(user=leadership, decisions=[(a, True, "") for a in two_accepted])
    window = pages(notice_officer)
    page = window.open("/inbox/", "inbox with a list to publish")

    assert "发布公示" in window.text()
    page.click("table.worklist--calls a:has-text('发布公示')")
    window.check("call page")
    decide = page.locator("button[value=decide]")
    assert decide.is_disabled()
    assert "尚未发布公示" in page.inner_text("#decide-blocked")

    page.click("button[value=publish]")
    window.check("published")
    page.click(".notice-row a >> nth=0")
    window.check("public notice")
    notice = window.text()
    assert "¥1,000,000.00" in notice
    assert "13900000000" not in notice  # no phone of the applicant's staff

    demo.notice_expire(call)
    page = window.open("/inbox/", "inbox with a decision due")
    page.click("table.worklist--calls a:has-text('印发决定')")
    window.check("call page, decision due")
    page.check("input[name=confirm]")
    page.click("button[value=decide]")
    window.check("decision queued")
    tasks_run()  # a worker issues the batch; the page renders nothing itself
    page.reload()
    window.check("batch progress, finished")
    assert "已印发 2 / 2" in window.text()
    page.click("a:has-text('返回批次管理')")
    window.check("decision issued")

    assert Application.objects.filter(status=Status.DECIDED).count() == 2
    assert re.search(r"关于给予技术转移机构经费资助的决定 黔市监知〔\d{4}〕\d+号", window.text())


@pytest.mark.parametrize("narrow", [False, True], ids=["1280", "390"])
def test_finance_issues_the_letter_and_records_the_payment(
    two_decided, finance_officer, pages, narrow
):
    application = two_decided[0]
    window = pages(finance_officer, narrow=narrow)
    page = window.open("/finance/", "finance list")

    assert "印发奖励通知书" in window.text()
    page.click(
        f"tr:has(a[href='/applications/{application.pk}/']) button:has-text('印发奖励通知书')"
    )
    window.check("letter issued")
    page.click(f"tr:has(a[href='/applications/{application.pk}/']) a:has-text('登记拨付')")
    window.check("payment form")
    assert page.input_value("input[name=paid_on]") == timezone.localdate().isoformat()

    page.fill("input[name=voucher_number]", "记-2026-0815")
    page.check("input[name=confirm]")
    page.click("form.card button[type=submit]")
    window.check("payment recorded")
    page = window.open(f"/applications/{application.pk}/", "application with its payment")

    assert "记-2026-0815" in window.text()
    assert Application.objects.get(pk=application.pk).status == Status.PAID


def test_the_applicant_follows_an_application_on_a_phone(two_decided, applicant, pages):
    window = pages(applicant, narrow=True)
    window.open("/", "home")

    text = window.text()
    assert "我的申报" in text
    assert "已印发决定" in text
    assert "资助决定通知书" in text or "资助决定" in text
    page = window.page
    page.click(f"#application-{two_decided[0].pk} h3 a")
    window.check("application")
    assert "资助金额" in window.text()
