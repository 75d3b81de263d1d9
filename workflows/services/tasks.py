"""Finding, checking and starting an application's open viewflow task: the one way a stage's
service takes its step (the process row is locked, the task must still wait for the user)."""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.prepared import Prepared

from ..flows import flow_for, local_name, node_refs, nodes_named
from ..models import Application
from ..selectors import RECOMMEND, office_region_of
from ..stages.base import APPLICATION_RELATED, application_attach
from .audit import audit_deferred


class TaskAlreadyDone(Exception):
    """Someone else completed the task first (or it is no longer waiting)."""


def open_task_or_none(application: Application, local_name: str) -> Task | None:
    """The application's open task at a node called `local_name` in its stage (an application
    is in one stage of a type at a time)."""
    return _open_tasks(
        Task.objects,
        application.process_id,
        flow_task__in=nodes_named(application.call.program_slug, local_name),
    ).first()


def _open_tasks(tasks, process_id: int, **where):
    """Of `tasks`, the process's open ones that match `where`, the newest first."""
    return tasks.filter(
        process_id=process_id, status__in=[STATUS.NEW, STATUS.ASSIGNED], **where
    ).order_by("-created")


_LOCKED_READS: dict[str, Prepared] = {}


def _open_task_read(lookup: str) -> Prepared:
    """The read of `open_task_locked` for one lookup (`flow_task__in`, `owner_permission`):
    the latest open task of a process with its process and application, compiled once."""
    read = _LOCKED_READS.get(lookup)
    if read is None:
        read = _LOCKED_READS[lookup] = Prepared(
            Task,
            lambda process_id, value: _open_tasks(
                _with_process(True), process_id, **{lookup: value}
            )[:1],
        )
    return read


def open_task(application: Application, local_name: str) -> Task:
    task = open_task_or_none(application, local_name)
    if task is None:
        raise TaskAlreadyDone(f"application {application.pk} has no open {local_name} task")
    return task


@contextmanager
def task_activation(task: Task, user, node_name: str, *, application: Application | None = None):
    """Lock the process (select_for_update), make sure the task still waits for `user` at a
    node called `node_name` in its stage, and start it; the step ends with
    `services.advance.task_done(activation)`. Raising inside rolls the whole step back.

    The task is read again under the lock with its process (one query: viewflow's
    `task.activation()` reads them one after the other). The lock is a statement of its own:
    read in the statement that locks, on PostgreSQL a step that waited for another would see
    the rows joined to the process as they were before that step (its task still open).

    With `application` (the step's), it is read again in the same query, with its call,
    institution and program version, and the nodes that run next in the step use it instead of
    reading it again (stages.base.application_of). A step that has not read its task yet takes
    it with `task_taken`."""
    with task.flow_task.flow_class.lock(task.process_id):
        task.refresh_from_db(from_queryset=_with_process(application is not None))
        with task_started(task, user, node_name, application) as activation, audit_deferred():
            yield activation


@contextmanager
def task_taken(user, application: Application, node_name: str):
    """The step's task found, checked and started in one read: under the process's lock, the
    application's open task at a node called `node_name` (TaskAlreadyDone if there is none),
    which `user` must be allowed to complete (`task_can_act`, else PermissionDenied), started.
    What the step checks of its input, it checks inside, after the permission: a refused step
    writes nothing."""
    with open_task_locked(
        application, flow_task__in=node_refs(application.call.program_slug, node_name)
    ) as task:
        if not task_can_act(user, task):
            raise PermissionDenied
        with task_started(task, user, node_name, application) as activation, audit_deferred():
            yield activation


@contextmanager
def open_task_locked(application: Application, **where):
    """The application's latest open task that matches `where` (one lookup: `flow_task__in`
    node references, or `owner_permission`), read with its process and the application's row
    under the process's lock (TaskAlreadyDone if there is none)."""
    ((lookup, value),) = where.items()
    flow_class = flow_for(application.call.program_slug)
    with flow_class.lock(application.process_id):
        task = _open_task_read(lookup).first(process_id=application.process_id, value=value)
        if task is None:
            raise TaskAlreadyDone(f"application {application.pk} has no open task {where}")
        yield task


@contextmanager
def task_locked(task: Task):
    """viewflow's `task.activation()` reading in one query what it reads in three: the task
    re-read under its process's lock with its process and the process's application, kept on
    the process for the nodes the step runs (stages.base.application_of); its activation."""
    with task.flow_task.flow_class.lock(task.process_id):
        task_id, task = task.pk, _TASK_WITH_APPLICATION.first(pk=task.pk)
        if task is None:
            raise Task.DoesNotExist(f"task {task_id} is gone")
        try:
            application = task.process.application
        except Application.DoesNotExist:
            application = None
        if application is not None:
            application_attach(task.process, application)
        yield task.flow_task.activation_class(task)


_TASK_WITH_APPLICATION = Prepared(Task, lambda pk: _with_process(True).filter(pk=pk))


def _with_process(application: bool):
    related = ["process"]
    if application:
        related += [f"process__application__{name}" for name in APPLICATION_RELATED]
    return Task.objects.select_related(*related)


@contextmanager
def task_started(task: Task, user, node_name: str, application: Application | None):
    """The task, read under the process's lock (`open_task_locked`), checked to wait at a node
    called `node_name` for `user`, and started; its activation. With `application`, the
    application takes the row read with the task."""
    activation = task.flow_task.activation_class(task)
    if application is not None:
        _refreshed_from(application, task.process.application)
        application_attach(activation.process, application)
    if local_name(task.flow_task) != node_name or task.status not in (
        STATUS.NEW,
        STATUS.ASSIGNED,
    ):
        raise TaskAlreadyDone(f"task {task.pk} is {task.status}")
    if task.status == STATUS.NEW:
        # viewflow's `assign` saves the row at once; the step's end saves it whole
        # (services.advance.task_done, or viewflow's `complete`), owner included.
        task.owner, task.status = user, STATUS.ASSIGNED
    elif task.owner_id != user.pk:
        raise TaskAlreadyDone(f"task {task.pk} belongs to someone else")
    activation.start(request=None)
    yield activation


def _refreshed_from(application: Application, fresh: Application) -> None:
    """`application.refresh_from_db()` from a row already read (`fresh`): the caller's object
    takes the row's values and its related objects read with it."""
    if fresh.pk != application.pk:
        raise TaskAlreadyDone(f"task's process belongs to application {fresh.pk}")
    for field in Application._meta.concrete_fields:
        setattr(application, field.attname, getattr(fresh, field.attname))
        if field.is_relation:
            if field.is_cached(fresh):
                field.set_cached_value(application, field.get_cached_value(fresh))
            elif field.is_cached(application):
                field.delete_cached_value(application)
    application._state.adding = False
    application._state.db = fresh._state.db
    if hasattr(application, "_prefetched_objects_cache"):
        application._prefetched_objects_cache = {}


def task_can_act(user, task: Task) -> bool:
    """Whether `user` may complete `task` (the inbox selector uses the same rule in SQL)."""
    if task.status not in (STATUS.NEW, STATUS.ASSIGNED) or not user.is_authenticated:
        return False
    if task.owner_id:
        return task.owner_id == user.pk
    if not task.owner_permission:
        return False
    if task.owner_permission_obj_pk:
        return user.has_perm(task.owner_permission, task.owner_permission_obj)
    if task.owner_permission == RECOMMEND:
        region = office_region_of(user)
        return region is not None and task.process.application.institution.region_code.startswith(
            region.prefix
        )
    return user.has_perm(task.owner_permission)
