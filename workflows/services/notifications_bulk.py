"""Telling people of many things at once (a batch's chunk of documents, and the tasks it
created): the same recipients, messages and dedupe keys as `notifications` sends them one at a
time; the documents' messages in one statement per application, the tasks' in a few whatever
their number. It goes through `notifications`' public functions and `selectors`' rules of who
is told."""

from django.urls import reverse
from viewflow.workflow.models import Task

from documents.models import Document

from .. import selectors
from ..models import Application, Notification
from . import notifications

Kind = Notification.Kind


def documents_issued_notify(*, issued: list[tuple[Document, Application]]) -> list[Notification]:
    """`notifications.document_issued_notify` for many documents: each applicant's members
    who may see the application told that the document was issued, one INSERT per application
    that also picks who is told (`notifications.messages_inserted`); the emails go to a
    background job after the commit."""
    created = []
    with notifications.site_language():
        for document, application in issued:
            kind, title, body = notifications.document_issued_message(
                document=document, application=application
            )
            created += notifications.messages_inserted(
                selectors.MembersOf(application.institution_id),
                application,
                kind=kind,
                link=reverse("application_detail", args=[application.pk]),
                **notifications.message_parts(title, body),
            )
    return created


def tasks_created_notify(tasks: list[Task]) -> None:
    """`notifications.task_created_notify` for tasks created together (bulk_create sends no
    `post_save`), in order. Work for a role is told once a day per stage and call (its dedupe
    key): after the first task of a node and call, the others only tell those holding the role
    who may not see the first task's application (a city office of another region), so when
    everyone holding it saw that one, one query settles the rest."""
    first_of_node: dict = {}
    for task in tasks:
        application = getattr(task.process, "_application", None)
        key = (task.flow_task, application.call_id if application is not None else task.pk)
        first = first_of_node.setdefault(key, task)
        if first is task:
            notifications.task_created_notify(task)
            continue
        permission = _role_permission(task)
        if task.owner_id is not None or permission is None:
            notifications.task_created_notify(task)  # someone's own task, or nobody's
            continue
        if _all_saw(first, permission):
            continue
        notifications.task_created_notify(task)


def _role_permission(task: Task) -> str | None:
    if task.flow_task_type == "HUMAN":
        return task.owner_permission or None
    if task.flow_task_type == "FUNCTION":
        return getattr(task.flow_task, "work_for", None)
    return None


def _all_saw(first: Task, permission: str) -> bool:
    """Whether everyone holding `permission` may see `first`'s application (so its message
    reached each of them); answered once per task."""
    cached = getattr(first, "_all_saw", None)
    if cached is None:
        application = getattr(first.process, "_application", None)
        if application is None:
            cached = False
        else:
            holders = notifications.users_holding(permission).filter(is_active=True).count()
            seeing = selectors.recipients_seeing(selectors.HoldersOf(permission), application)
            cached = len(seeing) == holders
        first._all_saw = cached
    return cached
