"""Real concurrency on PostgreSQL: threads with their own connections race for the same rows.
SQLite serialises writers on its own (IMMEDIATE transactions), so these run in the PostgreSQL
pass of `make test`."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.concurrency import POSTGRES_ONLY, race
from tests.factories import CallFactory, institution_for
from workflows import services
from workflows.demo import application_draft
from workflows.models import Application, AuditRecord, Payment
from workflows.stages.decision.services import decision_issue
from workflows.stages.disbursement.services import award_letter_issue, payment_record
from workflows.stages.formal_review.services import formal_review_complete
from workflows.stages.leadership_meeting.services import leadership_decide
from workflows.stages.public_notice.services import public_notice_publish

pytestmark = POSTGRES_ONLY


def decided_application(cast, call, serial_user):
    institution = institution_for(serial_user)
    application = application_draft(
        user=serial_user, call=call, institution=institution, tier="national"
    )
    services.application_submit(user=serial_user, application=application)
    formal_review_complete(user=cast["reviewer"], application=application, outcome="accept")
    return application


def test_two_finance_officers_paying_at_once_never_overdraw(
    applicant,
    other_applicant,
    formal_reviewer,
    leadership,
    notice_officer,
    finance_officer,
    second_finance_officer,
):
    """Budget for one national grant, two payments at once: one is recorded, one refused."""
    from workflows.demo import notice_expire

    call = CallFactory(budget_total=Decimal("1500000.00"))
    cast = {"reviewer": formal_reviewer}
    first = decided_application(cast, call, applicant)
    second = decided_application(cast, call, other_applicant)
    leadership_decide(user=leadership, decisions=[(first, True, ""), (second, True, "")])
    public_notice_publish(user=notice_officer, call=call)
    notice_expire(call)
    decision_issue(user=notice_officer, call=call)
    for application in (first, second):
        award_letter_issue(user=finance_officer, application=application)

    results = race(
        lambda: payment_record(
            user=finance_officer,
            application=first,
            voucher_number="PZ-1",
            paid_on=timezone.localdate(),
        ),
        lambda: payment_record(
            user=second_finance_officer,
            application=second,
            voucher_number="PZ-2",
            paid_on=timezone.localdate(),
        ),
    )
    paid = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(paid) == 1 and len(refused) == 1, results
    assert "预算余额不足" in refused[0].messages[0]
    call.refresh_from_db()
    assert call.budget_paid == Decimal("1000000.00")
    assert call.budget_left == Decimal("500000.00")
    assert Payment.objects.count() == 1


def test_two_reviewers_completing_one_task(
    applicant, institution, call, formal_reviewer, second_reviewer
):
    """Two reviewers accept the same application at once: it is accepted once, one notice."""
    application = application_draft(user=applicant, call=call, institution=institution)
    services.application_submit(user=applicant, application=application)

    results = race(
        lambda: formal_review_complete(
            user=formal_reviewer, application=application, outcome="accept"
        ),
        lambda: formal_review_complete(
            user=second_reviewer, application=application, outcome="refuse", reason="材料不全"
        ),
    )
    done = [r for r in results if isinstance(r, Application)]
    lost = [r for r in results if isinstance(r, services.TaskAlreadyDone | PermissionDenied)]
    # The loser finds the task done (after the lock) or already owned by the winner.
    assert len(done) == 1 and len(lost) == 1, results
    application.refresh_from_db()
    assert application.status in (Application.Status.ACCEPTED, Application.Status.REFUSED)
    decisions = AuditRecord.objects.filter(application=application, action__in=["accept", "refuse"])
    assert decisions.count() == 1
    assert application.documents.count() == 1
