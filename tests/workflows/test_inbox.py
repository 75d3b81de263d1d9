"""The inbox (/inbox/): each user sees only the tasks they may act on, in a number of queries that
does not grow with the number of tasks or of the user's institutions."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from tests.factories import CallFactory, institution_for
from workflows import demo, services
from workflows.demo import uscc_make
from workflows.models import Application, Institution, InstitutionUserObjectPermission
from workflows.stages.decision.services import decision_issue
from workflows.stages.disbursement.services import award_letter_issue
from workflows.stages.formal_review.services import formal_review_complete
from workflows.stages.leadership_meeting.services import leadership_decide
from workflows.stages.public_notice.services import public_notice_publish

MAX_INBOX_QUERIES = 12


# --- state ------------------------------------------------------------------------------------


def submitted(user, institution, call, tier: str = "national") -> Application:
    """A complete application, submitted: its formal-review task waits."""
    application = demo.application_draft(user=user, call=call, institution=institution, tier=tier)
    return services.application_submit(user=user, application=application)


def returned_for_correction(reviewer, application: Application) -> Application:
    return formal_review_complete(
        user=reviewer,
        application=application,
        outcome="correction",
        reason="获批文件扫描件不清晰，请重新上传。",
    )


def open_task(application: Application, name: str) -> Task:
    """The application's waiting human task, which must be the node `name`."""
    task = Task.objects.get(
        process_id=application.process_id,
        flow_task_type="HUMAN",
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
    )
    assert task.flow_task.name == name
    return task


def inbox(client) -> tuple[set[int], int, object]:
    """GET /inbox/: the task ids linked on the page, the number of queries, the response."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/inbox/")
    assert response.status_code == 200
    linked = {int(pk) for pk in re.findall(r'href="/tasks/(\d+)/"', response.content.decode())}
    return linked, len(queries), response


def _copy(obj, **changes):
    """An unsaved copy of a model instance with its concrete field values, minus the key."""
    values = {
        f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.primary_key
    }
    values.update(changes)
    return type(obj)(**values)


def tasks_cloned(task: Task, count: int, *, member=None) -> None:
    """Add `count` copies of a real waiting task, in bulk, each with its own institution, process
    and application cloned from the task's own, so that the inbox's joins and permission checks
    see ordinary rows. With `member`, that user is made a member of every new institution.

    Creating 1,000 tasks through the services took 16 s on SQLite and 33 s on PostgreSQL;
    this takes well under a second.
    """
    process = task.process
    application = process.application
    permissions = Permission.objects.filter(
        content_type__app_label="workflows",
        codename__in=["act_for_institution", "view_institution"],
    )
    institutions = Institution.objects.bulk_create(
        _copy(
            application.institution,
            name=f"贵州批量技术转移中心{n}号",
            uscc=uscc_make(50_000_000 + n),
        )
        for n in range(count)
    )
    if member is not None:
        Institution.members.through.objects.bulk_create(
            Institution.members.through(institution_id=i.pk, user_id=member.pk)
            for i in institutions
        )
        InstitutionUserObjectPermission.objects.bulk_create(
            InstitutionUserObjectPermission(user=member, permission=p, content_object=i)
            for i in institutions
            for p in permissions
        )
    processes = Process.objects.bulk_create(_copy(process) for _ in institutions)
    Application.objects.bulk_create(
        _copy(application, institution_id=i.pk, process_id=p.pk)
        for i, p in zip(institutions, processes, strict=True)
    )
    Task.objects.bulk_create(
        _copy(
            task,
            process_id=p.pk,
            owner_permission_obj_pk=str(i.pk) if task.owner_permission_obj_pk else None,
        )
        for i, p in zip(institutions, processes, strict=True)
    )


# --- who sees what ---------------------------------------------------------------------------


@pytest.fixture
def waiting_and_correction(
    call, applicant, other_applicant, institution, other_institution, formal_reviewer
):
    """Each institution has one application waiting for formal review and one in correction."""
    mine = submitted(applicant, institution, call)
    theirs = submitted(other_applicant, other_institution, call)
    mine_corr = returned_for_correction(
        formal_reviewer, submitted(applicant, institution, call, tier="provincial")
    )
    theirs_corr = returned_for_correction(
        formal_reviewer, submitted(other_applicant, other_institution, call, tier="provincial")
    )
    return {
        "review": {open_task(mine, "formal_review").pk, open_task(theirs, "formal_review").pk},
        "mine_correction": open_task(mine_corr, "correction").pk,
        "their_correction": open_task(theirs_corr, "correction").pk,
    }


def test_formal_reviewer_sees_review_tasks_not_corrections(
    waiting_and_correction, formal_reviewer, second_reviewer, client_for
):
    """Both reviewers see every waiting formal review and no applicant's correction task."""
    for reviewer in (formal_reviewer, second_reviewer):
        linked, _n, _response = inbox(client_for(reviewer))

        assert linked == waiting_and_correction["review"]


def test_applicant_sees_only_its_own_correction_task(
    waiting_and_correction, applicant, other_applicant, client_for
):
    """Each applicant sees its institution's correction task, not the other institution's."""
    mine, _n, _response = inbox(client_for(applicant))
    theirs, _n, _response = inbox(client_for(other_applicant))

    assert mine == {waiting_and_correction["mine_correction"]}
    assert theirs == {waiting_and_correction["their_correction"]}


@pytest.mark.parametrize(
    "role",
    ["applicant", "other_applicant", "formal_reviewer", "leadership", "finance_officer"],
)
def test_inbox_lists_exactly_the_tasks_the_user_may_open(
    waiting_and_correction, request, client_for, role
):
    """Every open task: its page lets the user act (302) if and only if the inbox lists it."""
    client = client_for(request.getfixturevalue(role))
    linked, _n, _response = inbox(client)
    open_tasks = Task.objects.filter(
        flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED]
    )

    may_act = {t.pk for t in open_tasks if client.get(f"/tasks/{t.pk}/").status_code == 302}

    assert open_tasks.count() == 4
    assert linked == may_act


def test_roles_without_a_waiting_stage_see_nothing(
    waiting_and_correction, leadership, notice_officer, finance_officer, client_for
):
    """Leadership, notice and finance have no task while applications are in formal review."""
    for user in (leadership, notice_officer, finance_officer):
        linked, _n, response = inbox(client_for(user))

        assert linked == set()
        assert "暂无待办任务" in response.content.decode()


def test_finance_sees_award_letter_and_payment_tasks_only(
    call,
    applicant,
    institution,
    other_applicant,
    other_institution,
    formal_reviewer,
    leadership,
    notice_officer,
    finance_officer,
    client_for,
):
    """After the decision, finance's inbox holds exactly the award-letter and payment tasks."""
    letter_due = submitted(applicant, institution, call)
    payment_due = submitted(other_applicant, other_institution, call)
    for application in (letter_due, payment_due):
        formal_review_complete(user=formal_reviewer, application=application, outcome="accept")
    leadership_decide(user=leadership, decisions=[(letter_due, True, ""), (payment_due, True, "")])
    public_notice_publish(user=notice_officer, call=call)
    demo.notice_expire(call)
    decision_issue(user=notice_officer, call=call)
    award_letter_issue(user=finance_officer, application=payment_due)
    in_review = submitted(applicant, institution, call, tier="provincial")

    finance, _n, _response = inbox(client_for(finance_officer))
    reviewer, _n, _response = inbox(client_for(formal_reviewer))
    owner, _n, _response = inbox(client_for(applicant))

    assert finance == {
        open_task(letter_due, "award_letter").pk,
        open_task(payment_due, "payment").pk,
    }
    assert reviewer == {open_task(in_review, "formal_review").pk}
    assert owner == set()


def test_task_assigned_to_one_reviewer_leaves_the_others_inbox(
    call, applicant, institution, formal_reviewer, second_reviewer, client_for
):
    """A formal review assigned to reviewer A shows in A's inbox only."""
    task = open_task(submitted(applicant, institution, call), "formal_review")
    with task.activation() as activation:
        activation.assign(formal_reviewer)

    owner, _n, _response = inbox(client_for(formal_reviewer))
    other, _n, _response = inbox(client_for(second_reviewer))

    assert owner == {task.pk}
    assert other == set()


# --- constant number of queries --------------------------------------------------------------


def test_reviewer_inbox_queries_do_not_grow_with_tasks(
    formal_reviewer, applicant, client_for, django_assert_max_num_queries
):
    """10 or 1,000 waiting formal reviews: the same number of queries, at most 12."""
    calls = [CallFactory() for _ in range(5)]
    institution = institution_for(applicant)
    real = [
        submitted(applicant, institution, c, tier)
        for c in calls
        for tier in ("national", "provincial")
    ]
    client = client_for(formal_reviewer)

    linked_10, queries_10, _response = inbox(client)
    tasks_cloned(open_task(real[0], "formal_review"), 990)
    with django_assert_max_num_queries(MAX_INBOX_QUERIES):
        linked_1000, queries_1000, response = inbox(client)

    assert len(linked_10) == 10
    assert response.context["page"].paginator.count == 1000
    assert len(linked_1000) == 50  # one page, showing the cloned institutions' names too
    assert "贵州批量技术转移中心" in response.content.decode()
    assert queries_1000 == queries_10


def test_applicant_inbox_queries_do_not_grow_with_institutions(
    applicant, formal_reviewer, call, client_for, django_assert_max_num_queries
):
    """An applicant of 2 or of 200 institutions, each with a correction task: same query count."""
    corrections = [
        returned_for_correction(
            formal_reviewer, submitted(applicant, institution_for(applicant), call)
        )
        for _ in range(2)
    ]
    client = client_for(applicant)

    linked_2, queries_2, _response = inbox(client)
    tasks_cloned(open_task(corrections[0], "correction"), 198, member=applicant)
    with django_assert_max_num_queries(MAX_INBOX_QUERIES):
        _linked, queries_200, response = inbox(client)

    assert linked_2 == {open_task(a, "correction").pk for a in corrections}
    assert response.context["page"].paginator.count == 200
    assert "贵州批量技术转移中心" in response.content.decode()
    assert queries_200 == queries_2
