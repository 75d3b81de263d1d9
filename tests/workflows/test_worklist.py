"""Each role's worklist and home page: work on whole calls that no task names (a list to publish,
a decision due, objections) reaches the inbox with the task rows; deadlines show the working
days left; each role's home is its own, and the applicant's shows where each application stands."""

from datetime import date, datetime

import pytest
from django.utils import timezone

from tests.workflows.test_inbox import returned_for_correction, submitted
from workflows import calendar, demo
from workflows.models import CalendarDay, CalendarYear
from workflows.stages.formal_review.services import formal_review_complete
from workflows.stages.leadership_meeting.services import leadership_decide
from workflows.stages.public_notice.services import objection_lodge, public_notice_publish


def _approved(call, applicant, institution, formal_reviewer, leadership, tier="national"):
    application = submitted(applicant, institution, call, tier=tier)
    formal_review_complete(user=formal_reviewer, application=application, outcome="accept")
    leadership_decide(user=leadership, decisions=[(application, True, "")])
    return application


def _page(client, url="/inbox/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_list_waiting_for_its_notice_reaches_the_notice_officers_inbox(
    call, applicant, institution, formal_reviewer, leadership, notice_officer, client_for
):
    """Before: the notice officer's inbox stayed empty while the list waited to be published."""
    _approved(call, applicant, institution, formal_reviewer, leadership)
    _approved(call, applicant, institution, formal_reviewer, leadership, tier="provincial")

    page = _page(client_for(notice_officer))

    assert "发布公示" in page
    assert call.title in page
    assert f'href="/calls/{call.pk}/manage/"' in page
    assert '<td data-label="数量">2</td>' in page


def test_a_decision_due_and_objections_reach_the_inbox_and_leave_it_when_done(
    call, applicant, institution, formal_reviewer, leadership, notice_officer, client_for
):
    application = _approved(call, applicant, institution, formal_reviewer, leadership)
    public_notice_publish(user=notice_officer, call=call)
    objection_lodge(
        user=applicant,
        application=application,
        capacity="organisation",
        organisation_name="贵州某科技有限公司",
        phone="0851-85551234",
        statement="申报材料与事实不符。",
        evidence=demo.pdf_upload("evidence.pdf"),
    )
    client = client_for(notice_officer)

    during = _page(client)
    assert "发布公示" not in during
    assert "处理异议" in during

    objection = application.objections.get()
    from workflows.stages.public_notice.services import objection_handle

    objection_handle(user=notice_officer, objection=objection, upheld=False, reason="不成立。")
    demo.notice_expire(call)
    after = _page(client)

    assert "处理异议" not in after
    assert "印发决定" in after


def test_other_roles_do_not_get_the_notice_officers_call_work(
    call, applicant, institution, formal_reviewer, leadership, finance_officer, client_for
):
    _approved(call, applicant, institution, formal_reviewer, leadership)

    for user in (applicant, formal_reviewer, leadership, finance_officer):
        assert "发布公示" not in _page(client_for(user))


def test_a_correction_task_shows_its_deadline_and_the_working_days_left(
    call, applicant, institution, formal_reviewer, client_for
):
    application = returned_for_correction(formal_reviewer, submitted(applicant, institution, call))
    left = calendar.working_days_left(application.correction_deadline)

    page = _page(client_for(applicant))

    assert (
        application.correction_deadline.astimezone(timezone.get_current_timezone()).strftime(
            "%Y年%-m月%-d日"
        )
        in page
    )
    assert f"剩{left}个工作日" in page


def test_working_days_left_counts_only_working_days_and_goes_negative_when_overdue():
    """2027 entered with a Spring Festival week (test data only): 2027-02-08 (Mon) to 02-12."""
    year = CalendarYear.objects.create(year=2027)
    for day in range(8, 13):
        CalendarDay.objects.create(calendar_year=year, day=date(2027, 2, day), kind="holiday")
    calendar.years_forget()
    tz = timezone.get_current_timezone()
    due = datetime(2027, 2, 16, 23, 59, tzinfo=tz)  # Tuesday after the break

    assert calendar.working_days_left(due, today=date(2027, 2, 5)) == 3  # Fri, Mon 15, Tue 16
    assert calendar.working_days_left(due, today=date(2027, 2, 16)) == 1
    assert calendar.working_days_left(due, today=date(2027, 2, 18)) == -2  # Wed 17, Thu 18
    calendar.years_forget()


# --- each role's home ---------------------------------------------------------------------------


def test_the_applicants_home_shows_each_application_where_it_stands(
    call, applicant, institution, formal_reviewer, client_for
):
    """Before: an applicant's home showed nothing of their applications."""
    waiting = submitted(applicant, institution, call)
    returned = returned_for_correction(
        formal_reviewer, submitted(applicant, institution, call, tier="provincial")
    )

    page = _page(client_for(applicant), "/")

    assert f'id="application-{waiting.pk}"' in page
    assert f'id="application-{returned.pk}"' in page
    # The tracker: the program's own stages, the current one marked.
    assert 'class="tracker__step tracker__step--done">申报</li>' in page
    assert 'tracker__step--current" aria-current="step">形式审查</li>' in page
    assert "下一步：审议" in page
    # The one thing to do: correct and resubmit, with the deadline.
    assert page.count("修改并重新提交") == 1
    assert f'href="/applications/{returned.pk}/edit/"' in page
    assert "补正期限" in page
    # The acceptance of nothing yet, but the correction notice issued to it.
    assert "补正通知书" in page


def test_an_ended_application_shows_where_it_ended_and_no_next_step(
    call, applicant, institution, formal_reviewer, client_for
):
    application = submitted(applicant, institution, call)
    formal_review_complete(
        user=formal_reviewer, application=application, outcome="refuse", reason="不符合条件。"
    )

    page = _page(client_for(applicant), "/")

    assert 'tracker__step--ended" aria-current="step">形式审查</li>' in page
    assert "下一步" not in page


@pytest.mark.parametrize("role", ["city_office", "experts", "formal_reviewer", "notice_officer"])
def test_officials_homes_are_their_own_not_the_applicants(request, client_for, role):
    """Before: city offices and experts were shown 我的申报单位 and links to apply."""
    user = request.getfixturevalue(role)
    user = user[0].user if role == "experts" else user

    page = _page(client_for(user), "/")

    assert "我的申报单位" not in page
    assert "正在申报的批次" not in page
    assert "待办任务" in page


def test_staff_home_counts_applications_by_status(
    call, applicant, institution, formal_reviewer, client_for
):
    submitted(applicant, institution, call)
    submitted(applicant, institution, call, tier="provincial")

    page = _page(client_for(formal_reviewer), "/")

    assert "申报概况" in page
    assert "已提交 <strong>2</strong>" in page


@pytest.mark.parametrize("role", ["leadership", "formal_reviewer", "notice_officer"])
def test_staff_and_leadership_homes_link_the_statistics(request, client_for, role):
    page = _page(client_for(request.getfixturevalue(role)), "/")

    assert 'href="/statistics/"' in page.split("<main", 1)[1]


def test_the_applicants_home_does_not_link_the_statistics(applicant, client_for):
    assert 'href="/statistics/"' not in _page(client_for(applicant), "/")
