"""Moving many processes on from the same kind of `Handle` node at once (a batch's chunk of
decisions): the rows viewflow's `Handle.run` writes for each task — the task started and done,
the next node's task created after it, the process finished at an `End` — written in a few
statements for all of them. A task whose node or next node does more than that (a function to
run, a task owner to assign, task data, boundary events, a gateway) is run by viewflow itself,
one at a time."""

from django.utils import timezone
from viewflow.workflow import flow
from viewflow.workflow.models import Process, Task
from viewflow.workflow.signals import flow_finished, task_finished, task_started
from viewflow.workflow.status import PROCESS, STATUS

from ..flows import nodes_named
from ..models import Application
from ..stages.base import application_attach
from .notifications_bulk import tasks_created_notify
from .tasks import TaskAlreadyDone


def handle_tasks_locked(applications: list[Application], local_name: str) -> list[Task]:
    """Each application's open task at a node called `local_name` in its stage (as
    `open_task`), in the applications' order, read with its process under the process lock
    (one SELECT … FOR UPDATE of both, in process order). TaskAlreadyDone if one has none."""
    nodes = {
        node
        for slug in {application.call.program_slug for application in applications}
        for node in nodes_named(slug, local_name)
    }
    found: dict[int, Task] = {}
    rows = (
        Task.objects.filter(
            process_id__in=[application.process_id for application in applications],
            flow_task__in=list(nodes),
            status__in=[STATUS.NEW, STATUS.ASSIGNED],
        )
        .select_related("process")
        .select_for_update(of=("self", "process"))
        .order_by("process_id", "-created")
    )
    for task in rows:
        found.setdefault(task.process_id, task)  # the newest, as open_task takes it
    tasks = []
    for application in applications:
        task = found.get(application.process_id)
        if task is None:
            raise TaskAlreadyDone(f"application {application.pk} has no open {local_name} task")
        application_attach(task.process, application)
        tasks.append(task)
    return tasks


def handles_run(tasks: list[Task]) -> list[Task]:
    """Run each of `tasks` (from `handle_tasks_locked`) as `task.flow_task.run(task)` would:
    the same rows, statuses and times; the tasks created next."""
    followed = [task for task in tasks if _followable(task)]
    for task in tasks:
        if task not in followed:
            task.flow_task.run(task)
    if not followed:
        return []
    now = timezone.now()
    Task.objects.filter(pk__in=[task.pk for task in followed]).update(
        status=STATUS.DONE, started=now, finished=now
    )
    created = []
    for task in followed:
        task.status, task.started, task.finished = STATUS.DONE, now, now
        process = task.process.coerced
        flow_class = task.flow_task.flow_class
        task_started.send(sender=flow_class, process=process, task=task)
        task_finished.send(sender=flow_class, process=process, task=task)
        created.append(_next_task(task, now))
    Task.objects.bulk_create(created)
    Task.previous.through.objects.bulk_create(
        [
            Task.previous.through(from_task_id=new.pk, to_task_id=task.pk)
            for task, new in zip(followed, created, strict=True)
        ]
    )
    _processes_end([new for new in created if isinstance(new.flow_task, flow.End)], now)
    tasks_created_notify(created)  # what post_save tells of each created alone
    return created


def _followable(task: Task) -> bool:
    node = task.flow_task
    following = getattr(node, "_next", None)
    if not isinstance(node, flow.Handle) or task.status != STATUS.NEW:
        return False
    if node._func is not None or node._task_data is not None or node._task_seed is not None:
        return False
    if getattr(following, "_boundary_events", None):
        return False
    if isinstance(following, flow.View):
        return following._owner is None and following._on_create is None
    return isinstance(following, flow.End)


def _next_task(task: Task, now) -> Task:
    """The next node's task as its activation's `create` (and, for an End, `activate` and
    `complete`) leaves it."""
    node = task.flow_task._next
    new = Task(
        process=task.process,
        flow_task=node,
        flow_task_type=node.task_type,
        token=task.token,
        data={},
    )
    if isinstance(node, flow.End):
        new.status, new.started, new.finished = STATUS.DONE, now, now
        return new
    activation = node.activation_class(new)
    permission = node.calc_owner_permission(activation)
    if permission:
        new.owner_permission = permission
        new.owner_permission_obj = node.calc_owner_permission_obj(activation)
    return new


def _processes_end(ends: list[Task], now) -> None:
    """An End's process finishes when it has no other unfinished task."""
    if not ends:
        return
    busy = set(
        Task.objects.filter(
            process_id__in=[end.process_id for end in ends], finished__isnull=True
        ).values_list("process_id", flat=True)
    )
    finished = [end for end in ends if end.process_id not in busy]
    Process.objects.filter(pk__in=[end.process_id for end in finished]).update(
        status=PROCESS.DONE, finished=now
    )
    for end in finished:
        process = end.process
        process.status, process.finished = PROCESS.DONE, now
        flow_class = end.flow_task.flow_class
        task_started.send(sender=flow_class, process=process, task=end)
        task_finished.send(sender=flow_class, process=process, task=end)
        flow_finished.send(sender=flow_class, process=process, task=end)
