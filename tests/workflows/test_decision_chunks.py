"""A chunk of the decision's documents recorded at once (documents.batch `records_many`,
services.handles) leaves each application, its process, its audit trail and its messages as
recording them one at a time through viewflow's own `Handle.run` leaves them."""

import pytest
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from workflows import audit_chain, demo
from workflows.models import Application, AuditRecord, Notification
from workflows.stages.decision import services as decision_services
from workflows.stages.decision.services import decision_issue

pytestmark = pytest.mark.django_db

TITLE = "分块印发测试"


def decided(cast, first_serial: int, *, one_at_a_time: bool, monkeypatch):
    call, applications = demo.call_awaiting_decision(
        cast=cast, count=3, first_serial=first_serial, title=TITLE
    )
    with monkeypatch.context() as patched:
        if one_at_a_time:
            patched.delattr(decision_services.decision_document_recorded, "many")
        decision_issue(user=cast.notice_officer, call=call)
    return call, applications


def flow_state(application: Application):
    """The application's status, its process and every task of it: node, type, status, owner
    and permission, token, which times are set, and the nodes of the tasks before it."""
    application.refresh_from_db()
    process = application.process
    process.refresh_from_db()
    tasks = Task.objects.filter(process=process).order_by("created", "pk")
    return {
        "application": application.status,
        "process": (process.status, process.finished is not None),
        "tasks": [
            (
                task.flow_task.name,
                task.flow_task_type,
                task.status,
                task.owner_id,
                task.owner_permission,
                str(task.token),
                task.started is not None,
                task.finished is not None,
                sorted(before.flow_task.name for before in task.previous.all()),
            )
            for task in tasks
        ],
    }


def trail(application: Application):
    return list(
        AuditRecord.objects.filter(application=application)
        .order_by("pk")
        .values_list("action", "from_status", "to_status", "actor_id")
    )


def told(application: Application):
    """The applicant's members told of their document (work for a role is told once per call
    and day, on whichever application came first: compared per call below)."""
    told = Notification.objects.filter(application=application, title__startswith="已印发")
    return sorted(
        (recipient, kind, title, link.endswith(f"/{application.pk}/"))
        for recipient, kind, title, link in told.values_list(
            "recipient_id", "kind", "title", "link"
        )
    )


def test_a_chunk_recorded_at_once_leaves_each_process_as_one_at_a_time_does(monkeypatch):
    cast = demo.cast_make()
    at_once_call, at_once = decided(cast, 700, one_at_a_time=False, monkeypatch=monkeypatch)
    alone_call, alone = decided(cast, 800, one_at_a_time=True, monkeypatch=monkeypatch)

    for chunked, single in zip(at_once, alone, strict=True):
        assert flow_state(chunked) == flow_state(single)
        assert trail(chunked)[-2:] == trail(single)[-2:]
        assert told(chunked) == told(single) != []
    # What the next stage's officer sees: each application waits, NEW, at the award letter,
    # after its decision task, which is done.
    for application in at_once:
        award_letter = Task.objects.get(
            process_id=application.process_id, flow_task_type="HUMAN", status=STATUS.NEW
        )
        assert award_letter.flow_task.name == "award_letter"
        decision = award_letter.previous.get()
        assert decision.flow_task.name == "await_decision" and decision.status == STATUS.DONE
        assert decision.started <= decision.finished
        assert application.process.status == PROCESS.NEW
    # The award letter's officers are told once per call, whichever way.
    award_letter_work = Notification.objects.filter(
        kind=Notification.Kind.WORK_ARRIVED, title__startswith="新的待办：印发奖励通知书"
    )
    by_call = [
        sorted(award_letter_work.filter(application__call=call).values_list("recipient_id"))
        for call in (at_once_call, alone_call)
    ]
    assert by_call[0] == by_call[1] != []
    # Records written in one INSERT are chained like any others.
    walk = audit_chain.ChainWalk(AuditRecord.objects.all())
    assert list(walk) == []
    assert walk.count == AuditRecord.objects.count()
