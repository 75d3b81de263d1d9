"""Notifications: the applicant told of a correction, a document, a decision; the role that must
act told when work arrives (a city office only of its own region, an expert of their seat);
reminders before a deadline and escalations of overdue tasks, each once; the messages page.

Emails are sent by a background job after the transaction commits: the tests run the
on-commit callbacks (`django_capture_on_commit_callbacks(execute=True)`) and read Django's
in-memory outbox."""

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from tests.factories import UserFactory, institution_for
from tests.workflows.http_steps import formal_review, page
from tests.workflows.test_expert_review import (  # noqa: F401  (fixtures)
    accepted,
    panel_call,
    panel_program,
)
from tests.workflows.test_recommendation import (  # noqa: F401  (fixtures)
    city_grant,
    grant_call,
    submitted,
)
from workflows import demo, services
from workflows.models import Application, Notification, PanelSeat
from workflows.stages.leadership_meeting.services import leadership_decide

Kind = Notification.Kind


@pytest.fixture
def applicant_with_email(applicant):
    applicant.email = "applicant@example.cn"
    applicant.save(update_fields=["email"])
    return applicant


def submitted_grant(applicant, institution, call) -> Application:
    application = demo.application_draft(user=applicant, call=call, institution=institution)
    return services.application_submit(user=applicant, application=application)


def messages_of(user, kind=None) -> list[Notification]:
    rows = Notification.objects.filter(recipient=user)
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("pk"))


def emails_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


# --- to the applicant ---------------------------------------------------------------------------


def test_applicant_is_told_of_a_correction_with_its_deadline_by_email_and_on_the_site(
    client_for,
    applicant_with_email,
    institution,
    call,
    formal_reviewer,
    django_capture_on_commit_callbacks,
    tasks_run,
):
    application = submitted_grant(applicant_with_email, institution, call)
    with django_capture_on_commit_callbacks(execute=True):
        formal_review(client_for(formal_reviewer), application, "correction", "营业执照不清晰。")
    tasks_run()  # the worker sends the email
    application.refresh_from_db()
    deadline = timezone.localtime(application.correction_deadline)
    day = f"{deadline.year}年{deadline.month}月{deadline.day}日"

    (message,) = messages_of(applicant_with_email, Kind.CORRECTION_REQUESTED)
    assert "营业执照不清晰。" in message.body and day in message.body
    assert message.emailed_at is not None
    (email,) = [e for e in emails_to("applicant@example.cn") if e.subject == message.title]
    assert day in email.body and "营业执照不清晰。" in email.body
    assert email.from_email == "知识产权专项资助与认定 <noreply@localhost>"

    listing = page(client_for(applicant_with_email).get(reverse("notification_list")))
    assert message.title in listing and day in listing


def test_applicant_is_told_of_the_acceptance_notice_and_of_the_leadership_decision(
    applicant_with_email,
    institution,
    call,
    formal_reviewer,
    leadership,
    django_capture_on_commit_callbacks,
    tasks_run,
):
    from workflows.stages.formal_review.services import formal_review_complete

    application = submitted_grant(applicant_with_email, institution, call)
    with django_capture_on_commit_callbacks(execute=True):
        formal_review_complete(user=formal_reviewer, application=application, outcome="accept")
        leadership_decide(user=leadership, decisions=[(application, False, "材料与事实不符。")])
    tasks_run()

    (issued,) = messages_of(applicant_with_email, Kind.DOCUMENT_ISSUED)
    assert "受理通知书" in issued.title
    (decision,) = messages_of(applicant_with_email, Kind.DECISION)
    assert "审议不予通过决定书" in decision.title
    subjects = {e.subject for e in emails_to("applicant@example.cn")}
    assert {issued.title, decision.title} <= subjects


def test_nothing_is_emailed_before_the_transaction_commits(
    applicant_with_email,
    institution,
    call,
    formal_reviewer,
    django_capture_on_commit_callbacks,
    tasks_run,
):
    from workflows.stages.formal_review.services import formal_review_complete

    application = submitted_grant(applicant_with_email, institution, call)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        formal_review_complete(user=formal_reviewer, application=application, outcome="accept")
        # The message is written with the change, the email waits for the commit.
        assert messages_of(applicant_with_email, Kind.DOCUMENT_ISSUED)
    assert mail.outbox == []
    # No email enqueued before the commit (the notice's own PDF is rendered meanwhile).
    assert [job.task_path for job in tasks_run()] == ["documents.tasks.document_render_job"]
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    tasks_run()
    assert len(emails_to("applicant@example.cn")) == 1
    assert messages_of(applicant_with_email, Kind.DOCUMENT_ISSUED)[0].emailed_at is not None


def test_a_person_without_email_is_told_on_the_site_only(
    applicant, institution, call, formal_reviewer, django_capture_on_commit_callbacks
):
    from workflows.stages.formal_review.services import formal_review_complete

    application = submitted_grant(applicant, institution, call)
    with django_capture_on_commit_callbacks(execute=True):
        formal_review_complete(user=formal_reviewer, application=application, outcome="accept")
    (message,) = messages_of(applicant, Kind.DOCUMENT_ISSUED)
    assert message.emailed_at is None
    assert mail.outbox == []


# --- to whoever must act ------------------------------------------------------------------------


def test_the_formal_reviewers_are_told_when_work_arrives_and_applicants_of_others_are_not(
    applicant, institution, other_applicant, call, formal_reviewer, leadership
):
    submitted_grant(applicant, institution, call)
    (message,) = messages_of(formal_reviewer, Kind.WORK_ARRIVED)
    assert "形式审查" in message.title and call.title in message.title
    # A second application the same day: still one message about this call's formal review.
    submitted_grant(applicant, institution_for(applicant, name="第二申报单位"), call)
    assert len(messages_of(formal_reviewer, Kind.WORK_ARRIVED)) == 1
    assert messages_of(leadership) == []
    assert messages_of(other_applicant) == []


def test_only_the_city_office_of_the_applicants_region_is_told(
    grant_call,  # noqa: F811
    applicant,
    institution,
    city_office,
    other_city_office,
):
    """Guiyang's application waits for Guiyang's recommendation: Zunyi's office may not see it
    and is told nothing."""
    submitted(applicant, institution, grant_call)
    (message,) = messages_of(city_office, Kind.WORK_ARRIVED)
    assert "推荐" in message.title
    assert messages_of(other_city_office) == []

    zunyi = institution_for(UserFactory(role="applicant"), region_code="520302")
    submitted(zunyi.members.get(), zunyi, grant_call)
    assert len(messages_of(other_city_office, Kind.WORK_ARRIVED)) == 1
    assert len(messages_of(city_office, Kind.WORK_ARRIVED)) == 1


def test_an_expert_is_told_of_their_seat_and_its_due_date_but_not_the_applicant(
    client_for,
    panel_call,  # noqa: F811
    applicant,
    institution,
    formal_reviewer,
    experts,
):
    application = accepted(applicant, institution, panel_call, formal_reviewer)
    seats = list(application.seats.select_related("expert__user"))
    assert seats
    drawn = {seat.expert.user for seat in seats}
    for seat in seats:
        (message,) = messages_of(seat.expert.user, Kind.WORK_ARRIVED)
        due = timezone.localtime(seat.due_at)
        assert f"{due.year}年{due.month}月{due.day}日" in message.body
        assert institution.name not in message.title + message.body
        assert message.application is None
        assert message.link == reverse("task_detail", args=[seat.task_id])
    for expert in experts:
        if expert.user not in drawn:
            assert messages_of(expert.user) == []


def test_the_notice_officers_are_told_of_a_list_to_publish_and_of_an_objection(
    applicant, notice_officer, finance_officer
):
    cast = demo.cast_make(prefix="n-", logins=False)
    call = demo.call_make()
    application, _notice = demo.application_in_notice(cast=cast, call=call, serial=777)
    demo.objection_settled(cast=cast, application=application, upheld=False)
    titles = [m.title for m in messages_of(notice_officer, Kind.WORK_ARRIVED)]
    # The approved list waiting to be published, then the objection.
    assert any("发布公示" in title and call.title in title for title in titles)
    assert any("收到异议" in title for title in titles)
    assert messages_of(finance_officer, Kind.WORK_ARRIVED) == []


def test_who_is_told_of_an_application_is_who_may_see_it_role_by_role(
    applicant, institution, other_applicant, formal_reviewer, city_office, other_city_office
):
    """The messages' one-statement rule of who may see an application (written in SQL, in the
    INSERT that writes them) agrees with the pages' rule (`applications_visible_to`) for every
    kind of user: staff, members, a member through a group only, city offices of the region and
    of another, experts seated and declared, drawn only, or on no panel, a superuser, an
    inactive member, someone with no role; on a draft and on submitted applications."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    from tests.factories import ApplicationFactory
    from workflows import selectors
    from workflows.models import Expert
    from workflows.permissions import APPLICANT_PERMISSION

    def expert(name):
        return Expert.objects.create(
            user=UserFactory(username=name, role="expert"), name=name, specialty="知识产权"
        )

    declared, drawn, unseated = expert("declared"), expert("drawn"), expert("unseated")
    superuser = UserFactory(username="root")
    superuser.is_superuser = True
    superuser.save()
    inactive = UserFactory(username="gone", role="applicant")
    services.institution_member_add(institution=institution, user=inactive, actor=applicant)
    inactive.is_active = False
    inactive.save()
    nobody = UserFactory(username="nobody")
    group_member = UserFactory(username="through_group")
    group = Group.objects.create(name="某机构经办人")
    group_member.groups.add(group)
    assign_perm(APPLICANT_PERMISSION, group, institution)
    zunyi = institution_for(other_applicant, region_code="520300")
    applications = [
        ApplicationFactory(created_by=user, institution=where, status=status)
        for user, where, status in (
            (applicant, institution, Application.Status.DRAFT),
            (applicant, institution, Application.Status.SUBMITTED),
            (other_applicant, zunyi, Application.Status.ACCEPTED),
        )
    ]
    for application in applications:
        PanelSeat.objects.create(application=application, expert=declared, status="declared")
        PanelSeat.objects.create(application=application, expert=drawn, status="drawn")
    users = [
        applicant,
        other_applicant,
        formal_reviewer,
        city_office,
        other_city_office,
        declared.user,
        drawn.user,
        unseated.user,
        superuser,
        inactive,
        nobody,
        group_member,
    ]
    everyone = selectors.Among(tuple(user.pk for user in users))
    for application in applications:
        told = {pk for pk, _email in selectors.recipients_seeing(everyone, application)}
        seeing = {
            user.pk
            for user in users
            if user.is_active
            and selectors.applications_visible_to(user).filter(pk=application.pk).exists()
        }
        assert told == seeing, application.status
    # Each part of the rule answers somewhere, so the comparison above is not of empty sets.
    by_status = {
        a.status: {pk for pk, _ in selectors.recipients_seeing(everyone, a)} for a in applications
    }
    assert applicant.pk in by_status["draft"] and formal_reviewer.pk not in by_status["draft"]
    assert {formal_reviewer.pk, city_office.pk, declared.user.pk, superuser.pk} <= by_status[
        "submitted"
    ]
    assert other_city_office.pk in by_status["accepted"]
    assert city_office.pk not in by_status["accepted"]
    assert drawn.user.pk not in by_status["submitted"] | by_status["accepted"]


# --- reminders and escalation -------------------------------------------------------------------


def timers_run() -> str:
    out = io.StringIO()
    call_command("workflow_timers", stdout=out)
    return out.getvalue()


def test_a_correction_reminder_is_sent_once_n_working_days_before_the_deadline(
    settings,
    applicant_with_email,
    institution,
    call,
    formal_reviewer,
    django_capture_on_commit_callbacks,
    tasks_run,
):
    from workflows import calendar
    from workflows.stages.formal_review.services import formal_review_complete

    settings.NOTIFY_REMIND_WORKING_DAYS = 2
    application = submitted_grant(applicant_with_email, institution, call)
    formal_review_complete(
        user=formal_reviewer, application=application, outcome="correction", reason="补充材料。"
    )
    # Far from the deadline: no reminder.
    timers_run()
    assert messages_of(applicant_with_email, Kind.REMINDER) == []

    # The deadline is now two working days away.
    near = calendar.working_days_until(timezone.now(), 2).at
    Application.objects.filter(pk=application.pk).update(correction_deadline=near)
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 reminder(s) sent" in timers_run()
        assert "0 reminder(s) sent" in timers_run()
    tasks_run()
    (reminder,) = messages_of(applicant_with_email, Kind.REMINDER)
    day = timezone.localtime(near)
    assert f"{day.year}年{day.month}月{day.day}日" in reminder.body
    assert [e.subject for e in emails_to("applicant@example.cn")].count(reminder.title) == 1


def test_the_deadlines_are_read_once_in_a_while_not_on_every_run_of_cron(
    settings, applicant, institution, call, formal_reviewer
):
    """cron runs workflow_timers every minute; the deadlines are read at most once in
    NOTIFY_SWEEP_EVERY by any machine, and a reminder that falls due between two sweeps goes
    with the next one."""
    from workflows import calendar
    from workflows.stages.formal_review.services import formal_review_complete

    settings.NOTIFY_SWEEP_EVERY = timedelta(minutes=10)
    application = submitted_grant(applicant, institution, call)
    formal_review_complete(
        user=formal_reviewer, application=application, outcome="correction", reason="补充材料。"
    )
    assert "0 reminder(s) sent" in timers_run()  # swept: nothing due yet
    near = calendar.working_days_until(timezone.now(), 2).at
    Application.objects.filter(pk=application.pk).update(correction_deadline=near)
    assert "0 reminder(s) sent" in timers_run()  # a minute later: not swept again
    assert messages_of(applicant, Kind.REMINDER) == []

    from workflows.models import CommandLease

    CommandLease.objects.filter(name="deadlines_sweep").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )  # ten minutes on
    assert "1 reminder(s) sent" in timers_run()
    assert len(messages_of(applicant, Kind.REMINDER)) == 1


def test_an_expert_is_reminded_once_before_their_review_deadline(
    panel_call,  # noqa: F811
    applicant,
    institution,
    formal_reviewer,
    experts,
):
    from workflows import calendar

    application = accepted(applicant, institution, panel_call, formal_reviewer)
    seat, *others = application.seats.select_related("expert__user").order_by("pk")
    near = calendar.working_days_until(timezone.now(), 1).at
    PanelSeat.objects.filter(pk=seat.pk).update(due_at=near)
    timers_run()
    timers_run()
    (reminder,) = messages_of(seat.expert.user, Kind.REMINDER)
    assert reminder.link == reverse("task_detail", args=[seat.task_id])
    assert institution.name not in reminder.title + reminder.body
    for other in others:
        assert messages_of(other.expert.user, Kind.REMINDER) == []


def test_an_overdue_expert_is_escalated_once_to_the_panel_managers(
    panel_call,  # noqa: F811
    applicant,
    institution,
    formal_reviewer,
    experts,
    leadership,
):
    application = accepted(applicant, institution, panel_call, formal_reviewer)
    seat = application.seats.select_related("expert").first()
    PanelSeat.objects.filter(pk=seat.pk).update(due_at=timezone.now() - timedelta(hours=1))
    timers_run()
    timers_run()
    (escalation,) = messages_of(formal_reviewer, Kind.OVERDUE)  # holds manage_panels
    assert seat.expert.name in escalation.title and institution.name in escalation.title
    assert escalation.application == application
    assert messages_of(leadership, Kind.OVERDUE) == []
    assert messages_of(seat.expert.user, Kind.OVERDUE) == []


def test_an_old_formal_review_task_is_escalated_to_the_supervising_role(
    settings, applicant, institution, call, formal_reviewer, leadership
):
    from viewflow.workflow.models import Task

    settings.NOTIFY_TASK_WORKING_DAYS = {"workflows.formal_review": 5}
    application = submitted_grant(applicant, institution, call)
    Task.objects.filter(process_id=application.process_id, flow_task_type="HUMAN").update(
        created=timezone.now() - timedelta(days=30)
    )
    timers_run()
    timers_run()
    (escalation,) = messages_of(leadership, Kind.OVERDUE)
    assert "形式审查" in escalation.title
    assert messages_of(formal_reviewer, Kind.OVERDUE) == []


# --- the messages page --------------------------------------------------------------------------


def test_messages_are_marked_read_one_by_one_or_all_and_the_header_counts_the_unread(
    client_for, applicant, institution, call, formal_reviewer
):
    from workflows.stages.formal_review.services import formal_review_complete

    for name in ("甲单位", "乙单位"):
        application = submitted_grant(applicant, institution_for(applicant, name=name), call)
        formal_review_complete(user=formal_reviewer, application=application, outcome="accept")
    first, second = messages_of(applicant, Kind.DOCUMENT_ISSUED)
    client = client_for(applicant)
    assert '<span class="badge" title="未读消息">2</span>' in page(client.get(reverse("home")))

    response = client.post(reverse("notification_mark_read", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.read_at is not None
    assert '<span class="badge" title="未读消息">1</span>' in page(client.get(reverse("home")))

    response = client.post(reverse("notification_mark_read", args=[second.pk]), {"open": "1"})
    assert response["Location"] == second.link

    client.post(reverse("notification_mark_all_read"))
    assert Notification.objects.filter(recipient=applicant, read_at__isnull=True).count() == 0
    assert 'class="badge"' not in page(client.get(reverse("home")))


def test_another_persons_message_answers_404_and_stays_unread(
    client_for, applicant, other_applicant, institution, call, formal_reviewer
):
    from workflows.stages.formal_review.services import formal_review_complete

    application = submitted_grant(applicant, institution, call)
    formal_review_complete(user=formal_reviewer, application=application, outcome="accept")
    (message,) = messages_of(applicant, Kind.DOCUMENT_ISSUED)
    client = client_for(other_applicant)
    response = client.post(reverse("notification_mark_read", args=[message.pk]))
    assert response.status_code == 404
    assert message.title not in page(client.get(reverse("notification_list")))
    client.post(reverse("notification_mark_all_read"))
    message.refresh_from_db()
    assert message.read_at is None


def test_the_messages_page_lists_newest_first_unread_marked_and_in_pages(client_for, applicant):
    from workflows.services.notifications import notify

    for n in range(25):
        notify(recipients=[applicant], kind=Kind.DECISION, title=f"消息{n:02d}")
    listing = page(client_for(applicant).get(reverse("notification_list")))
    assert listing.index("消息24") < listing.index("消息23")
    assert "消息04" not in listing and "未读" in listing
    second = page(client_for(applicant).get(reverse("notification_list") + "?page=2"))
    assert "消息04" in second


def test_messages_read_in_the_language_each_reader_chose_and_are_recorded_in_the_sites(
    client_for,
    applicant_with_email,
    institution,
    call,
    formal_reviewer,
    leadership,
    django_capture_on_commit_callbacks,
    tasks_run,
):
    """A message is written once, in Chinese, for its email; the messages page shows it to a
    reader who chose English in English: its title, its lines, the stage and the document it
    names and the date in the English form, the applicant's own words as written."""
    from tests.test_i18n import choose_language
    from workflows.stages.formal_review.services import formal_review_complete

    application = submitted_grant(applicant_with_email, institution, call)
    with django_capture_on_commit_callbacks(execute=True):
        formal_review(client_for(formal_reviewer), application, "correction", "营业执照不清晰。")
    tasks_run()
    application.refresh_from_db()
    deadline = timezone.localtime(application.correction_deadline)

    english = client_for(applicant_with_email)
    choose_language(english, "en")
    listing = page(english.get(reverse("notification_list")))
    assert f"Application returned for correction: {call.title}" in listing
    assert "营业执照不清晰。" in listing  # the reviewer's own words
    with translation.override("en"):
        assert date_format(deadline.date(), "DATE_FORMAT") in listing  # e.g. Dec. 11, 2026
    assert "补正" not in listing.replace("营业执照不清晰。", "")
    assert "年" not in listing.split("<main", 1)[-1].replace(call.title, "")

    # The record stays in the site's language; so does the email of the correction, sent before
    # the applicant chose English, and a Chinese reader's page.
    (message,) = messages_of(applicant_with_email, Kind.CORRECTION_REQUESTED)
    assert message.title == f"申报被退回补正：{call.title}"
    (email,) = [e for e in emails_to("applicant@example.cn") if e.subject == message.title]
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in email.body
    application.refresh_from_db()

    # Work arriving for a role names its stage in the reader's language.
    services.application_submit(user=applicant_with_email, application=application)
    reviewer = client_for(formal_reviewer)
    assert f"新的待办：形式审查（{call.title}）" in page(reviewer.get(reverse("notification_list")))
    choose_language(reviewer, "en")
    assert f"New to-do: Formal review ({call.title})" in page(
        reviewer.get(reverse("notification_list"))
    )

    # A decision names its document and its status in English too.
    application.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        formal_review_complete(user=formal_reviewer, application=application, outcome="accept")
        leadership_decide(user=leadership, decisions=[(application, False, "材料与事实不符。")])
    listing = page(english.get(reverse("notification_list")))
    (decision,) = messages_of(applicant_with_email, Kind.DECISION)
    assert decision.title.startswith("已印发") and decision.title not in listing
    assert f"issued: {call.title}" in listing and "已印发" not in listing


def test_emails_are_written_in_the_language_their_recipient_chose(
    client_for,
    applicant_with_email,
    institution,
    call,
    formal_reviewer,
    django_capture_on_commit_callbacks,
    tasks_run,
):
    """The applicant chose English while signed in: the email of a correction reads in English,
    with the date in the English form and the reviewer's own words as written; the reviewer,
    who never chose, is emailed in Chinese. The record stays in the site's language."""
    from tests.test_i18n import choose_language

    formal_reviewer.email = "reviewer@example.cn"
    formal_reviewer.save(update_fields=["email"])
    choose_language(client_for(applicant_with_email), "en")
    with django_capture_on_commit_callbacks(execute=True):
        application = submitted_grant(applicant_with_email, institution, call)
    tasks_run()
    (work,) = [e for e in emails_to("reviewer@example.cn") if "新的待办" in e.subject]
    assert work.subject == f"新的待办：形式审查（{call.title}）"
    with django_capture_on_commit_callbacks(execute=True):
        formal_review(client_for(formal_reviewer), application, "correction", "营业执照不清晰。")
    tasks_run()
    application.refresh_from_db()
    deadline = timezone.localtime(application.correction_deadline)

    (message,) = messages_of(applicant_with_email, Kind.CORRECTION_REQUESTED)
    assert message.title == f"申报被退回补正：{call.title}"
    (email,) = [e for e in emails_to("applicant@example.cn") if e.subject.startswith("Application")]
    assert email.subject == f"Application returned for correction: {call.title}"
    assert "营业执照不清晰。" in email.body  # the reviewer's own words
    with translation.override("en"):
        assert date_format(deadline.date(), "DATE_FORMAT") in email.body
    assert "补正" not in email.body.replace("营业执照不清晰。", "")
    # Nothing else of the applicant's emails is Chinese but the call's title.
    for sent in emails_to("applicant@example.cn"):
        assert not re.search(r"[\u4e00-\u9fff]", sent.subject.replace(call.title, ""))
