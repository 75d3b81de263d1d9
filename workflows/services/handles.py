"""Moving many processes on from the same kind of `Handle` node at once (a batch's chunk of
decisions): the rows viewflow's `Handle.run` writes for each task — the task started and done,
the rows of the path after it (services.advance), the process finished at an `End` — written in
a few statements for all of them. A task whose node does more than that (a function to run) or
whose path `advance` leaves to viewflow is run by viewflow itself, one at a time."""

from django.utils import timezone
from viewflow.workflow import flow
from viewflow.workflow.models import Task
from viewflow.workflow.signals import task_finished, task_started
from viewflow.workflow.status import STATUS

from documents.prepared import Prepared

from ..flows import node_refs
from ..models import Application
from ..stages.base import application_attach
from .advance import path_from, paths_write
from .tasks import TaskAlreadyDone

_TASKS_LOCKED = Prepared(
    Task,
    lambda processes, nodes: (
        Task.objects.filter(
            process_id__in=processes, flow_task__in=nodes, status__in=[STATUS.NEW, STATUS.ASSIGNED]
        )
        .select_related("process")
        .select_for_update(of=("self", "process"))
        .order_by("process_id", "-created")
    ),
)


def handle_tasks_locked(applications: list[Application], local_name: str) -> list[Task]:
    """Each application's open task at a node called `local_name` in its stage (as
    `open_task`), in the applications' order, read with its process under the process lock
    (one SELECT … FOR UPDATE of both, in process order). TaskAlreadyDone if one has none."""
    nodes = {
        ref
        for slug in {application.call.program_slug for application in applications}
        for ref in node_refs(slug, local_name)
    }
    found: dict[int, Task] = {}
    rows = _TASKS_LOCKED(
        processes=[application.process_id for application in applications], nodes=sorted(nodes)
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
    paths = []
    for task in tasks:
        path = path_from(task) if _runs_plainly(task) else None
        if path is None:
            task.flow_task.run(task)
        else:
            paths.append((task, path))
    if not paths:
        return []
    now = timezone.now()
    Task.objects.filter(pk__in=[task.pk for task, _ in paths]).update(
        status=STATUS.DONE, started=now, finished=now
    )
    for task, _ in paths:
        task.status, task.started, task.finished = STATUS.DONE, now, now
        process = task.process.coerced
        flow_class = task.flow_task.flow_class
        task_started.send(sender=flow_class, process=process, task=task)
        task_finished.send(sender=flow_class, process=process, task=task)
    return paths_write(paths, now)


def _runs_plainly(task: Task) -> bool:
    """A waiting Handle with no function of its own: running it only marks it done."""
    node = task.flow_task
    return isinstance(node, flow.Handle) and task.status == STATUS.NEW and node._func is None
