"""Service-level rules: working days, audit trail, upgrade rules, the notice timer."""

import html
import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from viewflow.workflow.models import Task

from forms.validators import patent_number_clean
from tests.factories import CallFactory
from workflows import calendar, services
from workflows.amounts import award_amount
from workflows.demo import (
    application_draft,
    application_in_notice,
    application_submitted,
    batch_run,
    cast_make,
    notice_expire,
)
from workflows.models import AppendOnlyError, Application, AuditRecord
from workflows.stages.formal_review.services import formal_review_complete
from workflows.stages.leadership_meeting.services import leadership_decide
from workflows.stages.public_notice.services import objection_lodge

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "start, days, expected",
    [
        # National Day 2026: 1–7 October off; Saturday 10 October is a make-up working day.
        (at(2026, 9, 30, 10), 1, at(2026, 10, 8, 23, 59, 59)),
        (at(2026, 9, 30, 10), 3, at(2026, 10, 10, 23, 59, 59)),
        (at(2026, 10, 9, 10), 2, at(2026, 10, 12, 23, 59, 59)),
        # Spring Festival 2026: Saturday 14 February is a make-up working day.
        (at(2026, 2, 13, 10), 1, at(2026, 2, 14, 23, 59, 59)),
    ],
)
def test_working_days_skip_holidays_and_count_make_up_days(start, days, expected):
    assert calendar.working_days_after(start, days) == expected


def test_calendar_notice_of_seven_days_ends_on_the_seventh_day():
    assert calendar.period_end(at(2026, 3, 2, 9), 7, "calendar") == at(2026, 3, 8, 23, 59, 59)


def test_audit_records_are_append_only(db, applicant, institution, call):
    """Nobody can edit or delete the trail, not even through a queryset."""
    application_draft(user=applicant, call=call, institution=institution)
    record = AuditRecord.objects.filter(action="application_create").get()
    record.reason = "changed"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.all().update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.all().delete()


def test_every_transition_is_audited_with_actor_and_states(db):
    """A paid lifecycle leaves one record per transition with who, from, to."""
    cast = cast_make()
    (application,) = batch_run(cast=cast, call=CallFactory(), branches=["paid"])
    moves = list(
        AuditRecord.objects.filter(application=application)
        .exclude(to_status="")
        .values_list("action", "from_status", "to_status", "actor__username")
    )
    assert moves == [
        ("application_create", "", "draft", "applicant"),
        ("submit", "draft", "submitted", "applicant"),
        ("accept", "submitted", "accepted", "reviewer"),
        ("leadership_approve", "accepted", "approved", "leader"),
        ("notice_start", "approved", "in_notice", "notice"),
        ("notice_close", "in_notice", "notice_closed", None),
        ("decide", "notice_closed", "decided", "notice"),
        ("award_letter", "decided", "letter_issued", "finance"),
        ("pay", "letter_issued", "paid", "finance"),
    ]


def test_illegal_transition_is_a_domain_error(db, applicant, institution, call):
    application = application_draft(user=applicant, call=call, institution=institution)
    with pytest.raises(services.IllegalTransition):
        services.application_move(
            application=application, to=Application.Status.PAID, actor=applicant, action="x"
        )


def test_notice_period_closes_by_itself_through_the_timer(db):
    """Nobody acts: `workflow_timers` (cron) closes the period once it has passed."""
    cast = cast_make()
    call = CallFactory()
    application, notice = application_in_notice(cast=cast, call=call, serial=77)
    timer = Task.objects.get(process=application.process, flow_task_type="TIMER")
    assert timer.scheduled == notice.ends_at

    call_command("workflow_timers", stdout=io.StringIO())
    application.refresh_from_db()
    assert application.status == Application.Status.IN_NOTICE  # not yet due

    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - timedelta(seconds=1))
    call_command("workflow_timers", stdout=io.StringIO())
    application.refresh_from_db()
    assert application.status == Application.Status.NOTICE_CLOSED


@pytest.mark.parametrize(
    "rule, expected",
    [("top_up", Decimal("700000.00")), ("full", Decimal("1000000.00")), ("none", None)],
)
def test_upgrade_rule_comes_from_the_program_file(db, rule, expected):
    """Provincial paid, then national: the file's rule decides what is paid."""
    cast = cast_make()
    _national, first = batch_run(
        cast=cast, call=CallFactory(), branches=["paid", "paid"], serial_start=500
    )
    first.refresh_from_db()
    assert first.tier == "provincial" and first.payment.amount == Decimal("300000.00")
    second_call = CallFactory()
    application = application_draft(
        user=cast.applicant, call=second_call, institution=first.institution, tier="national"
    )
    version = application.program_version
    version.content = {**version.content, "upgrade": {"rule": rule}}
    version.save()
    application.refresh_from_db()
    if expected is None:
        with pytest.raises(ValidationError, match="从高不重复"):
            award_amount(application=application)
    else:
        assert award_amount(application=application) == (expected, Decimal("300000.00"))


def test_same_designation_is_never_paid_twice(db):
    """A national designation already paid cannot be paid again in a later call."""
    cast = cast_make()
    (first,) = batch_run(cast=cast, call=CallFactory(), branches=["paid"], serial_start=600)
    again = application_draft(
        user=cast.applicant, call=CallFactory(), institution=first.institution, tier="national"
    )
    with pytest.raises(ValidationError, match="同一认定不重复资助"):
        services.application_submit(user=cast.applicant, application=again)
    again.refresh_from_db()
    assert again.status == Application.Status.DRAFT


def test_objection_evidence_opens_only_for_the_notice_officer_and_the_objector(
    db, client_for, formal_reviewer, other_applicant
):
    """Evidence may carry an objector's ID number: other staff roles get 403."""
    from django.urls import reverse

    from workflows.demo import pdf_upload

    cast = cast_make()
    application, _notice = application_in_notice(cast=cast, call=CallFactory(), serial=88)
    objection = objection_lodge(
        user=other_applicant,
        application=application,
        capacity="person",
        real_name="李明",
        id_number="11010519491231002X",
        phone="13800000000",
        statement="获批文件与事实不符。",
        evidence=pdf_upload("evidence.pdf"),
    )
    url = reverse("objection_evidence", args=[objection.pk])
    assert client_for(other_applicant).get(url).status_code == 200
    assert client_for(cast.notice_officer).get(url).status_code == 200
    assert client_for(formal_reviewer).get(url).status_code == 403
    assert client_for(cast.applicant).get(url).status_code == 404


def test_correction_deadline_passing_lapses_the_application(db, client_for):
    """No resubmission by the deadline: viewflow's timer ends the application as lapsed, and
    the applicant can no longer submit."""
    from django.urls import reverse

    cast = cast_make()
    application = application_submitted(cast=cast, call=CallFactory(), serial=99)
    formal_review_complete(
        user=cast.formal_reviewer,
        application=application,
        outcome="correction",
        reason="请补充营业执照副本。",
    )
    application.refresh_from_db()
    timer = Task.objects.get(
        process=application.process, flow_task_type="TIMER", status="SCHEDULED"
    )
    assert timer.scheduled == application.correction_deadline

    call_command("workflow_timers", stdout=io.StringIO())
    application.refresh_from_db()
    assert application.status == Application.Status.CORRECTION  # the deadline has not passed

    past = timezone.now() - timedelta(seconds=1)
    Application.objects.filter(pk=application.pk).update(correction_deadline=past)
    Task.objects.filter(pk=timer.pk).update(scheduled=past)
    call_command("workflow_timers", stdout=io.StringIO())
    application.refresh_from_db()
    application.process.refresh_from_db()
    assert application.status == Application.Status.LAPSED
    assert application.process.status == "DONE"
    lapse = AuditRecord.objects.get(application=application, action="correction_lapse")
    # The record and the lapse notice say it in Chinese; the audit trail reads it to an officer
    # working in English in English.
    assert lapse.reason == "逾期未提交补正材料，视为放弃申报。"
    page_url = reverse("application_detail", args=[application.pk])
    officer = client_for(cast.formal_reviewer)
    assert lapse.reason in officer.get(page_url).content.decode()
    officer.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = html.unescape(officer.get(page_url).content.decode())
    assert "<td>No correction materials were submitted by the deadline" in english
    assert f"<td>{lapse.reason}" not in english  # (the lapse notice's reasons stay as issued)
    # So does the reason the page gives above all for where the application is now.
    assert "Reasons: No correction materials were submitted by the deadline" in english
    assert lapse.reason not in english

    response = client_for(cast.applicant).post(
        reverse("application_submit", args=[application.pk]), {"confirm": "1"}, follow=True
    )
    assert "补正期限已过，未提交补正材料，申报已视为放弃。" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.LAPSED


def test_resubmitting_in_time_cancels_the_correction_timer(db):
    """After a correction is resubmitted, its deadline timer no longer waits to fire."""
    cast = cast_make()
    application = application_submitted(cast=cast, call=CallFactory(), serial=98)
    for _round in range(2):
        formal_review_complete(
            user=cast.formal_reviewer, application=application, outcome="correction", reason="补充"
        )
        services.application_submit(user=cast.applicant, application=application)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert not Task.objects.filter(
        process=application.process, flow_task_type="TIMER", status="SCHEDULED"
    ).exists()


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("200310102344.5", "200310102344.5"),  # the example of the patent-number standard
        ("ZL 2003 1010 2344.5", "200310102344.5"),
        ("zl202110123456.7", "202110123456.7"),
    ],
)
def test_patent_numbers_are_normalised(typed, stored):
    assert patent_number_clean(typed) == stored


@pytest.mark.parametrize("typed", ["200310102344.6", "20031010234.5", "ZL2003101023445", ""])
def test_bad_patent_numbers_are_refused_in_chinese(typed):
    with pytest.raises(ValidationError, match="专利号"):
        patent_number_clean(typed)


def test_applicant_sees_why_leadership_rejected_the_application(db, client_for):
    """The reason given with a rejection is shown to the applicant on its application page."""
    from django.urls import reverse

    cast = cast_make()
    application = application_submitted(cast=cast, call=CallFactory(), serial=97)
    formal_review_complete(user=cast.formal_reviewer, application=application, outcome="accept")
    leadership_decide(
        user=cast.leadership, decisions=[(application, False, "获批文件与申报年度不符。")]
    )
    page = client_for(cast.applicant).get(reverse("application_detail", args=[application.pk]))
    text = page.content.decode()
    assert "审议未通过" in text and "获批文件与申报年度不符。" in text


def test_staff_history_shows_steps_the_system_took(db, client_for):
    """The notice closing by its timer is a step nobody took: the history names the system."""
    from django.urls import reverse

    cast = cast_make()
    call = CallFactory()
    application, _notice = application_in_notice(cast=cast, call=call, serial=96)
    notice_expire(call)
    page = client_for(cast.formal_reviewer).get(
        reverse("application_detail", args=[application.pk])
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "公示期满" in text and "系统" in text


def test_staff_reissue_from_the_application_page_is_audited(db, client_for, tasks_run):
    """The notice officer reissues a notice with a reason: a new number, the old one marked
    replaced on the page, and the trail says who did it and why."""
    from django.urls import reverse

    cast = cast_make()
    application = application_submitted(cast=cast, call=CallFactory(), serial=95)
    formal_review_complete(user=cast.formal_reviewer, application=application, outcome="accept")
    tasks_run()  # a worker renders the notice
    notice = application.documents.get(kind="acceptance_notice")
    staff = client_for(cast.notice_officer)
    page = reverse("application_detail", args=[application.pk])
    staff.post(
        reverse("documents:document_reissue", args=[notice.pk]),
        {"reason": "受理日期填写有误。"},
        HTTP_REFERER=page,
    )
    versions = list(application.documents.filter(kind="acceptance_notice").order_by("pk"))
    assert len(versions) == 2 and versions[1].replaces_id == versions[0].pk
    assert versions[1].number != versions[0].number
    text = staff.get(page).content.decode()
    assert "已被新版本替代" in text and versions[1].number in text
    record = AuditRecord.objects.get(application=application, action="document_reissue")
    assert record.reason == "受理日期填写有误。" and record.actor == cast.notice_officer


def test_a_draft_refused_whole_leaves_none_of_its_files_stored(
    db, applicant, institution, call, settings, tmp_path
):
    """The draft's files are stored before the transaction that records them with it; when
    the draft is refused (a second one of the same tier in the call), its stored files are
    deleted again: nothing is left on the disk that no attachment names."""
    from workflows.demo import pdf_upload

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    data = {"tier": "provincial", "approval_date": call.designation_from}
    first, refused = services.draft_create(
        user=applicant,
        call=call,
        institution=institution,
        data=data,
        uploads={"approval_document": pdf_upload("first.pdf")},
    )
    assert not refused
    stored = sorted(p.name for p in tmp_path.rglob("*.pdf"))
    assert stored == [first.attachments.get().file.name.rsplit("/", 1)[1]]

    with pytest.raises(ValidationError, match="已有同一级别的申报"):
        services.draft_create(
            user=applicant,
            call=call,
            institution=institution,
            data=data,
            uploads={
                "approval_document": pdf_upload("second.pdf"),
                "business_licence": pdf_upload("licence.pdf"),
            },
        )
    assert sorted(p.name for p in tmp_path.rglob("*.pdf")) == stored
    assert Application.objects.filter(institution=institution).count() == 1
