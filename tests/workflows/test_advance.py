"""A step moves its process on in a few statements (services.advance) and leaves exactly the
rows viewflow's own `activation.execute()` and `Handle.run` leave: every shipped program,
rehearsed branch by branch (a correction, a refusal, a rejection, an objection upheld, an
expert panel, a committee's vote, a city office's recommendation…), once as the engine runs and
once with every step left to viewflow, ends with the same tasks — node, type, status, owner,
permission, token, whether started and finished, the tasks before each — and the same
processes, done or not. The flow chart, the task lists and the audit read those rows."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from viewflow.workflow.models import Task

from workflows import demo
from workflows.models import Application
from workflows.rehearsal import rehearse
from workflows.services import advance, handles

SHIPPED = sorted(p.stem for p in Path(settings.PROGRAMS_DIR).glob("*.toml"))


def process_rows(application: Application) -> tuple:
    """What viewflow keeps of the application's process, without ids and times."""
    tasks = (
        Task.objects.filter(process_id=application.process_id)
        .order_by("pk")
        .prefetch_related("previous")
    )
    rows = [
        (
            task.flow_task.name,
            task.flow_task_type,
            task.status,
            task.owner_id is not None,  # (experts' seats are drawn at random)
            task.owner_permission,
            _permission_object(task, application),
            re.sub(r"/\d+_", "/_", str(task.token)),  # a split's branches carry its task's id
            task.started is None,
            task.finished is None,
            _timer_due(task, application),
            sorted(before.flow_task.name for before in task.previous.all()),
        )
        for task in tasks
    ]
    process = application.process
    return application.status, process.status, process.finished is None, rows


def _timer_due(task: Task, application: Application):
    """A timer's moment: the end of the application's notice period, or another."""
    if task.scheduled is None:
        return None
    notice = application.public_notice
    return "notice end" if notice and task.scheduled == notice.ends_at else "other"


def _permission_object(task: Task, application: Application):
    """The object a task's permission is for, as the application's own or another."""
    if not task.owner_permission_obj_pk:
        return None
    own = {str(application.pk), str(application.institution_id)}
    return (
        task.owner_permission_content_type.model,
        "own" if task.owner_permission_obj_pk in own else task.owner_permission_obj_pk,
    )


def rehearsed_rows(cast, slug: str, serial_start: int) -> list[tuple]:
    report = rehearse(cast=cast, slug=slug, serial_start=serial_start, title=f"比对{serial_start}")
    assert report["ok"], report
    applications = Application.objects.filter(
        call__in=report["calls"], process__isnull=False
    ).select_related("process", "public_notice")
    return [process_rows(application) for application in applications.order_by("pk")]


@pytest.mark.parametrize("slug", SHIPPED)
def test_a_step_leaves_the_rows_viewflow_leaves(slug, monkeypatch):
    cast = demo.cast_make(logins=False)
    written = []

    def paths_write(paths, now):
        written.extend(task.flow_task.name for task, _rows in paths)
        return real_paths_write(paths, now)

    real_paths_write = advance.paths_write
    with monkeypatch.context() as watched:
        watched.setattr(advance, "paths_write", paths_write)
        watched.setattr(handles, "paths_write", paths_write)
        engine = rehearsed_rows(cast, slug, serial_start=1000)
    # The engine wrote the paths after its steps itself: after the submission that starts the
    # process, after a person's task, after the notice's publication (each application's timer
    # set), after the timer that closes the notice (its function run on the way) and after
    # the decision.
    steps = {"submit", "formal_review", "await_notice", "notice_period", "await_decision"}
    assert steps <= set(written), written

    with monkeypatch.context() as viewflow_only:
        viewflow_only.setattr(advance, "path_from", lambda task: None)
        viewflow_only.setattr(handles, "path_from", lambda task: None)
        viewflow = rehearsed_rows(cast, slug, serial_start=2000)

    assert len(engine) == len(viewflow) > 1
    # Each branch's application ends in a process of several nodes, gateways among them.
    assert any(row[1] == "EXCLUSIVE_GATEWAY" or row[1] == "SWITCH" for row in engine[0][3])
    for mine, theirs in zip(engine, viewflow, strict=True):
        assert mine[:3] == theirs[:3]
        assert len(mine[3]) == len(theirs[3]), (mine[3], theirs[3])
        for row, expected in zip(mine[3], theirs[3], strict=True):
            assert row == expected


def test_a_timer_whose_path_fails_is_recorded_as_viewflow_records_it_and_the_others_fire(
    monkeypatch,
):
    """The notice period of two applications ends; closing one fails half-way. What it wrote is
    rolled back, its step is left as viewflow's dispatcher leaves a failure (the failing task in
    ERROR, with the error), and the other application moves on."""
    from viewflow.workflow.status import STATUS

    from workflows.models import AuditRecord
    from workflows.stages.formal_review.services import formal_review_complete
    from workflows.stages.leadership_meeting.services import leadership_decide
    from workflows.stages.public_notice import services as notice_services

    cast = demo.cast_make(logins=False)
    call = demo.call_make(title="计时器失败")
    applications = [
        demo.application_submitted(cast=cast, call=call, serial=3000 + i) for i in range(2)
    ]
    for application in applications:
        formal_review_complete(user=cast.formal_reviewer, application=application, outcome="accept")
    leadership_decide(user=cast.leadership, decisions=[(a, True, "") for a in applications])
    notice_services.public_notice_publish(user=cast.notice_officer, call=call)
    broken, other = applications
    close = notice_services.application_notice_close

    def close_failing(*, application):
        close(application=application)
        if application.pk == broken.pk:
            raise RuntimeError("磁盘已满")

    monkeypatch.setattr(notice_services, "application_notice_close", close_failing)
    demo.notice_expire(call)  # workflow_timers

    broken.refresh_from_db()
    other.refresh_from_db()
    assert broken.status == Application.Status.IN_NOTICE
    assert not AuditRecord.objects.filter(application=broken, action="notice_close").exists()
    failed = Task.objects.get(process_id=broken.process_id, status=STATUS.ERROR)
    assert failed.flow_task.name == "close_notice"
    assert "磁盘已满" in failed.data["_exception"]["title"]
    timer = Task.objects.get(process_id=broken.process_id, flow_task_type="TIMER")
    assert timer.status == STATUS.DONE
    assert other.status == Application.Status.NOTICE_CLOSED
    assert Task.objects.filter(
        process_id=other.process_id, status=STATUS.NEW, flow_task_type="FUNCTION"
    ).exists()  # waiting for the decision
