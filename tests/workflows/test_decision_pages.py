"""The facts at the point of decision, and running a notice period, through HTTP.

Leadership sees each amount and the list's total against the budget left; the call page lists
its applications and says why a button cannot act (and the server refuses the same POST);
irreversible steps need the "我已核对…" box ticked; the public notice states the amounts, where
and until when to object, who publishes it and when, and nothing about the applicants' staff;
after the period the objection form is gone; the notice officer ends a period early or extends
it with a reason, and the public page shows the change; a payment shows on the application
page."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import CallFactory, UserFactory, institution_for
from tests.workflows import http_steps as steps
from workflows import calendar, selectors, services
from workflows.demo import notice_expire
from workflows.models import (
    Application,
    AuditRecord,
    NoticePeriodChange,
    Objection,
    Payment,
    ProgramVersion,
    PublicNotice,
)

pytestmark = pytest.mark.django_db

Status = Application.Status
CONFIRM_MISSING = "请先勾选“我已核对”确认后再提交：该操作提交后不能撤回。"


def other_applicant_browser(client_for, name: str) -> Client:
    user = UserFactory(role="applicant")
    institution_for(user, name=name)
    return client_for(user)


def accepted(clients, call, *, tier="national", browser=None) -> Application:
    application = steps.application_submitted(browser or clients.applicant, call, tier=tier)
    steps.formal_review(clients.reviewer, application, "accept")
    return application


def published(clients, call, tiers=("national",)) -> tuple[list[Application], PublicNotice]:
    """Applications accepted, approved and on a published notice."""
    applications = [accepted(clients, call, tier=tier) for tier in tiers]
    steps.leadership_approve_all(clients.leader, call)
    steps.call_manage(clients.notice, call, "publish")
    return applications, steps.notice_of(call)


def text(response) -> str:
    """The page's text without tags, whitespace squeezed."""
    return " ".join(re.sub(r"<[^>]+>", " ", steps.page(response)).split())


def button_tag(response, value: str) -> str:
    tag = re.search(rf'<button[^>]*value="{value}"[^>]*>', steps.page(response))
    assert tag, f"no {value} button"
    return tag.group(0)


# --- 1. leadership: amounts, total, budget -------------------------------------------------------


def test_leadership_sees_each_amount_the_total_and_the_budget_left(clients, client_for):
    """Budget ¥1,500,000; an earlier list committed ¥300,000; the list before the meeting is
    ¥1,000,000 + ¥300,000 = ¥1,300,000, which exceeds the ¥1,200,000 left: the page warns."""
    call = CallFactory(budget_total=Decimal("1500000.00"))
    earlier = accepted(clients, call, tier="provincial")
    steps.leadership_approve_all(clients.leader, call)
    earlier.refresh_from_db()
    assert earlier.status == Status.APPROVED
    second = other_applicant_browser(client_for, "遵义市技术转移服务中心")
    accepted(clients, call, tier="national")
    accepted(clients, call, tier="provincial", browser=second)

    shown = text(clients.leader.get(reverse("leadership_meeting", args=[call.pk])))
    assert "拟资助金额" in shown
    assert shown.count("¥1,000,000.00") == 1 and "¥300,000.00" in shown
    assert "本批次预算指标 ¥1,500,000.00" in shown
    assert "已拨付 ¥0.00" in shown
    assert "已审议通过待拨付 ¥300,000.00" in shown
    assert "可用余额 ¥1,200,000.00" in shown
    assert "本次待审议名单合计 ¥1,300,000.00" in shown
    assert "合计 ¥1,300,000.00" in shown
    assert "警告：待审议名单合计超出可用余额 ¥100,000.00" in shown


def test_leadership_page_has_no_warning_within_budget(clients, call):
    accepted(clients, call, tier="provincial")
    shown = text(clients.leader.get(reverse("leadership_meeting", args=[call.pk])))
    assert "本次待审议名单合计 ¥300,000.00" in shown
    assert "警告" not in shown


# --- 3. confirmation before irreversible steps ---------------------------------------------------


def test_submitting_an_application_needs_the_confirmation_ticked(clients, call):
    application, _response = steps.draft_create(clients.applicant, call)
    detail = steps.page(clients.applicant.get(reverse("application_detail", args=[application.pk])))
    assert re.search(r'<input type="checkbox" name="confirm" value="1" required>', detail)
    assert "我已核对申报信息和材料真实、完整，确认提交" in detail

    response = clients.applicant.post(
        reverse("application_submit", args=[application.pk]), follow=True
    )
    assert CONFIRM_MISSING in steps.messages_shown(response)
    application.refresh_from_db()
    assert application.status == Status.DRAFT

    steps.submit(clients.applicant, application)
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


def test_the_leadership_decision_needs_the_confirmation_ticked(clients, call):
    application = accepted(clients, call)
    url = reverse("leadership_meeting", args=[call.pk])
    assert 'name="confirm"' in steps.page(clients.leader.get(url))
    response = clients.leader.post(url, {"approve_all": "1"}, follow=True)
    assert CONFIRM_MISSING in steps.messages_shown(response)
    response = clients.leader.post(
        url, {f"decision_{application.pk}": "approve", "reason_{application.pk}": ""}, follow=True
    )
    assert CONFIRM_MISSING in steps.messages_shown(response)
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED

    steps.leadership_approve_all(clients.leader, call)
    application.refresh_from_db()
    assert application.status == Status.APPROVED


def test_issuing_the_decision_needs_the_confirmation_ticked(clients, call):
    (application,), _notice = published(clients, call)
    notice_expire(call)
    manage = reverse("call_manage", args=[call.pk])
    assert "我已核对名单、金额和公示结果，确认印发决定" in steps.page(clients.notice.get(manage))
    response = clients.notice.post(manage, {"action": "decide"}, follow=True)
    assert CONFIRM_MISSING in steps.messages_shown(response)
    application.refresh_from_db()
    assert application.status == Status.NOTICE_CLOSED

    steps.call_manage(clients.notice, call, "decide")
    application.refresh_from_db()
    assert application.status == Status.DECIDED


def test_recording_a_payment_needs_the_confirmation_ticked(clients, call):
    (application,), _notice = published(clients, call)
    notice_expire(call)
    steps.call_manage(clients.notice, call, "decide")
    steps.award_letter(clients.finance, application)
    url = reverse("payment_record", args=[application.pk])
    response = clients.finance.post(
        url,
        {"voucher_number": "PZ-2026-0001", "paid_on": timezone.localdate().isoformat()},
        follow=True,
    )
    assert CONFIRM_MISSING in steps.form_errors(response)
    assert not Payment.objects.exists()
    assert "我已核对金额、凭证号和拨付日期，确认登记" in steps.page(response)


# --- 2. the call page ----------------------------------------------------------------------------


def test_call_page_lists_applications_and_who_the_notice_will_list(clients, call, client_for):
    approved = accepted(clients, call)
    steps.leadership_approve_all(clients.leader, call)
    waiting = accepted(
        clients, call, browser=other_applicant_browser(client_for, "安顺市技术转移服务中心")
    )
    manage = clients.notice.get(reverse("call_manage", args=[call.pk]))
    shown = text(manage)
    assert "申报（2）" in shown
    assert "贵州省技术转移示范中心 国家级技术转移机构 审议通过" in shown
    assert "安顺市技术转移服务中心 国家级技术转移机构 已受理" in shown
    assert "将列入公示的申报（1）" in shown
    listed = re.search(r'<ul class="to-publish">(.*?)</ul>', steps.page(manage), re.S).group(1)
    assert approved.institution.name in listed and waiting.institution.name not in listed


def test_call_page_paginates_a_long_list(clients, call):
    owner = UserFactory(role="applicant")
    for n in range(51):
        services.application_create(
            user=owner,
            call=call,
            institution=institution_for(owner, name=f"贵州测试单位{n:02d}"),
            data=steps.application_fields(call) | {"approval_date": call.designation_from},
        )
    # Submitted: drafts are their applicants' own and not listed to the office.
    call.applications.update(status=Application.Status.SUBMITTED)
    first = text(clients.notice.get(reverse("call_manage", args=[call.pk])))
    assert "申报（51） " in first and "1 / 2" in first
    assert "贵州测试单位00" in first and "贵州测试单位50" not in first
    second = text(clients.notice.get(reverse("call_manage", args=[call.pk]) + "?page=2"))
    assert "贵州测试单位50" in second and "贵州测试单位00" not in second


def test_buttons_that_cannot_act_are_disabled_with_the_reason_and_refused(clients, call):
    manage = reverse("call_manage", args=[call.pk])
    accepted(clients, call)

    # Nothing approved yet: no list to publish, no notice for a decision.
    response = clients.notice.get(manage)
    assert "disabled" in button_tag(response, "publish")
    assert "该批次没有待公示的名单。" in text(response)
    assert "disabled" in button_tag(response, "decide")
    no_notice = "尚未发布公示：公示期满且异议处理完毕后才能印发决定。"
    assert no_notice in text(response)
    refused = clients.notice.post(manage, {"action": "decide", "confirm": "1"}, follow=True)
    assert no_notice in steps.messages_shown(refused)
    refused = clients.notice.post(manage, {"action": "publish"}, follow=True)
    assert "该批次没有待公示的名单。" in steps.messages_shown(refused)

    # The notice runs: the decision waits for the period.
    steps.leadership_approve_all(clients.leader, call)
    response = clients.notice.get(manage)
    assert "disabled" not in button_tag(response, "publish")
    steps.call_manage(clients.notice, call, "publish")
    response = clients.notice.get(manage)
    assert "disabled" in button_tag(response, "decide")
    assert "公示期尚未结束，不能印发决定。" in text(response)
    refused = clients.notice.post(manage, {"action": "decide", "confirm": "1"}, follow=True)
    assert "公示期尚未结束，不能印发决定。" in steps.messages_shown(refused)

    # An objection lodged in time and not handled holds the decision after the period.
    notice = steps.notice_of(call)
    application = notice.applications.get()
    steps.objection_lodge(clients.reviewer, notice, application)
    notice_expire(call)
    response = clients.notice.get(manage)
    pending = "该批次还有未处理的异议，处理完毕后才能印发决定。"
    assert "disabled" in button_tag(response, "decide") and pending in text(response)
    refused = clients.notice.post(manage, {"action": "decide", "confirm": "1"}, follow=True)
    assert pending in steps.messages_shown(refused)
    assert selectors.call_decision(call) is None

    steps.objection_handle(clients.notice, Objection.objects.get(), "dismiss", "经核实不成立。")
    response = clients.notice.get(manage)
    assert "disabled" not in button_tag(response, "decide")
    assert 'name="confirm"' in steps.page(response)


# --- 4. the public notice ------------------------------------------------------------------------


def test_public_notice_states_amounts_contact_deadline_issuer_and_no_staff_data(clients, call):
    (national, provincial), notice = published(clients, call, tiers=("national", "provincial"))
    response = Client().get(reverse("notice_detail", args=[notice.pk]))
    shown = text(response)
    end = timezone.localtime(notice.ends_at)
    start = timezone.localtime(notice.starts_at)
    assert "拟资助金额" in shown
    assert "¥1,000,000.00" in shown and "¥300,000.00" in shown
    assert "发布单位 贵州省市场监督管理局" in shown
    assert f"发布日期 {start.year}年{start.month}月{start.day}日" in shown
    assert "异议受理单位 贵州省市场监督管理局知识产权促进处" in shown
    deadline = f"{end.year}年{end.month}月{end.day}日 {end:%H:%M}"
    assert f"异议截止时间 {deadline}" in shown
    assert f"于{deadline}前以书面形式向贵州省市场监督管理局知识产权促进处提出异议" in shown
    # The applicants' staff: contact name and phone typed into the form appear nowhere.
    raw = steps.page(response)
    for private in ("张敏", "0851-85550000", national.contact_phone, national.bank_account):
        assert private not in raw


def test_public_notice_names_the_issuer_when_the_program_gives_no_contact(clients, call):
    (application,), notice = published(clients, call)
    version = application.program_version
    content = dict(version.content)
    content["notice"] = {"contact": None, "phone": None, "address": None, "email": None}
    ProgramVersion.objects.filter(pk=version.pk).update(content=content)
    shown = text(Client().get(reverse("notice_detail", args=[notice.pk])))
    assert "异议受理单位 贵州省市场监督管理局 " in shown
    assert "以书面形式向贵州省市场监督管理局提出异议" in shown


def test_after_the_period_the_objection_form_gives_way_to_a_notice(clients, call):
    (application,), notice = published(clients, call)
    url = reverse("objection_lodge", args=[notice.pk, application.pk])
    assert "提交异议" in steps.page(clients.reviewer.get(url))
    notice_expire(call)
    public = text(Client().get(reverse("notice_detail", args=[notice.pk])))
    assert "公示期已结束，不再受理异议。" in public and "提出异议" not in public
    response = clients.reviewer.get(url)
    assert (
        "不再受理异议" in text(response) and "<form" not in steps.page(response).split("<main")[1]
    )
    response = clients.reviewer.post(
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
    assert not Objection.objects.exists()


# --- 5. running a notice period ------------------------------------------------------------------


def period(client, notice, **data):
    return client.post(reverse("notice_period", args=[notice.pk]), data, follow=True)


def test_notice_officer_extends_the_period_with_a_reason(clients, call):
    (application,), notice = published(clients, call)
    old = notice.ends_at
    manage = steps.page(clients.notice.get(reverse("call_manage", args=[call.pk])))
    assert f'action="{reverse("notice_period", args=[notice.pk])}"' in manage
    assert "延长公示期" in manage and "提前结束公示" in manage

    response = period(clients.notice, notice, action="extend", days="3", reason="")
    assert any("必填" in m for m in steps.messages_shown(response)), steps.messages_shown(response)
    notice.refresh_from_db()
    assert notice.ends_at == old

    response = period(clients.notice, notice, action="extend", days="3", reason="应社会关注延长。")
    notice.refresh_from_db()
    new = calendar.period_end(notice.starts_at, 10, "calendar")
    assert notice.ends_at == new == old + timedelta(days=3)
    assert any(m.startswith("公示期已调整") for m in steps.messages_shown(response))
    # The application's timer fires at the new end, not the old one.
    from viewflow.workflow.models import Task

    timer = Task.objects.get(process_id=application.process_id, flow_task_type="TIMER")
    assert timer.scheduled == new
    record = AuditRecord.objects.get(action="notice_extend", application=None, call=call)
    assert record.reason == "应社会关注延长。" and record.actor.username == "notice"
    assert record.data["old_ends_at"] == old.isoformat()
    history = text(clients.notice.get(reverse("application_detail", args=[application.pk])))
    assert "延长公示期" in history.split("办理记录")[1] and "应社会关注延长。" in history

    public = text(Client().get(reverse("notice_detail", args=[notice.pk])))
    o, n, today = timezone.localtime(old), timezone.localtime(new), timezone.localdate()
    assert (
        f"延长公示期：原截止时间 {o.year}年{o.month}月{o.day}日 {o:%H:%M} → 新截止时间 "
        f"{n.year}年{n.month}月{n.day}日 {n:%H:%M}；理由：应社会关注延长。"
        f"（{today.year}年{today.month}月{today.day}日）"
    ) in public
    assert f"异议截止时间 {n.year}年{n.month}月{n.day}日" in public


def test_extending_a_working_day_notice_counts_working_days(clients, call, notice_officer):
    (application,), notice = published(clients, call)
    PublicNotice.objects.filter(pk=notice.pk).update(
        day_kind="working", days=5, ends_at=calendar.period_end(notice.starts_at, 5, "working")
    )
    notice.refresh_from_db()
    from viewflow.workflow.models import Task

    Task.objects.filter(process_id=application.process_id, flow_task_type="TIMER").update(
        scheduled=notice.ends_at
    )
    period(clients.notice, notice, action="extend", days="2", reason="补充核实。")
    notice.refresh_from_db()
    assert notice.ends_at == calendar.working_days_after(notice.starts_at, 7)
    assert notice.days == 7


def test_notice_officer_ends_the_period_early_and_the_list_moves_on(clients, call):
    (application,), notice = published(clients, call)
    old = notice.ends_at
    response = period(clients.notice, notice, action="end", reason="名单无争议，提前结束。")
    notice.refresh_from_db()
    application.refresh_from_db()
    assert notice.ends_at <= timezone.now() and not notice.is_open()
    assert application.status == Status.NOTICE_CLOSED
    change = NoticePeriodChange.objects.get()
    assert change.kind == "end_early" and change.old_ends_at == old
    assert AuditRecord.objects.filter(action="notice_end_early", call=call).exists()
    assert any(m.startswith("公示期已调整") for m in steps.messages_shown(response))

    public = text(Client().get(reverse("notice_detail", args=[notice.pk])))
    assert "提前结束公示：原截止时间" in public and "理由：名单无争议，提前结束。" in public
    assert "公示期已结束，不再受理异议。" in public

    # The period is over: it can be changed no more, and the decision can be issued.
    response = period(clients.notice, notice, action="extend", days="2", reason="再延长。")
    assert "公示期已结束，不能再调整公示期。" in steps.messages_shown(response)
    steps.call_manage(clients.notice, call, "decide")
    application.refresh_from_db()
    assert application.status == Status.DECIDED


def test_ending_early_is_refused_while_an_objection_is_pending(clients, call):
    (application,), notice = published(clients, call)
    steps.objection_lodge(clients.reviewer, notice, application)
    manage = clients.notice.get(reverse("call_manage", args=[call.pk]))
    message = "该公示还有异议未处理，处理完毕后才能提前结束公示。"
    assert message in text(manage)
    response = period(clients.notice, notice, action="end", reason="提前结束。")
    assert "该公示还有1件异议未处理，处理完毕后才能提前结束公示。" in steps.messages_shown(response)
    notice.refresh_from_db()
    assert notice.is_open() and not NoticePeriodChange.objects.exists()


def test_the_notice_page_form_leads_back_to_the_notice(clients, call):
    (_application,), notice = published(clients, call)
    url = reverse("notice_detail", args=[notice.pk])
    assert 'name="back" value="notice"' in steps.page(clients.notice.get(url))
    response = period(
        clients.notice, notice, action="extend", days="1", reason="延长。", back="notice"
    )
    assert response.redirect_chain[-1][0] == url


def test_only_notice_officers_change_a_period(clients, call, client_for, finance_officer):
    (_application,), notice = published(clients, call)
    data = {"action": "extend", "days": "3", "reason": "延长。"}
    for browser in (clients.leader, clients.applicant, client_for(finance_officer)):
        assert browser.post(reverse("notice_period", args=[notice.pk]), data).status_code == 403
    anonymous = Client().post(reverse("notice_period", args=[notice.pk]), data)
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
    missing = clients.notice.post(reverse("notice_period", args=[notice.pk + 999]), data)
    assert missing.status_code == 404
    assert not NoticePeriodChange.objects.exists()
    assert "调整公示期" not in text(clients.leader.get(reverse("notice_detail", args=[notice.pk])))
    assert "调整公示期" in text(clients.notice.get(reverse("notice_detail", args=[notice.pk])))


# --- 6. the payment on the application page ------------------------------------------------------


def test_application_page_shows_the_payment_voucher_and_date(clients, call):
    application = steps.run_to_paid(clients, call, tier="provincial", voucher="PZ-2026-0417")
    today = timezone.localdate()
    shown = text(clients.applicant.get(reverse("application_detail", args=[application.pk])))
    payments = shown.split("拨付 拨付金额")[1]
    assert payments.startswith(" ¥300,000.00 凭证号 PZ-2026-0417 拨付日期 ")
    assert f"拨付日期 {today.year}年{today.month}月{today.day}日" in payments
