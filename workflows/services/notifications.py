"""Telling people: a message on their messages page and, when they have an email address, an
email sent by a background job once the change that caused it is committed (never inside the
request when a real queue runs).

`notify` is the one writer: it drops whoever may not see the application a message is about
(`selectors.applications_visible_to`), and everyone who already has a message under the same
`dedupe_key`, so a reminder or an escalation for one deadline reaches each person once. The
hooks below are called from the few places where things happen: a document recorded for an
application (`issuing.issue_audit`), a status change without a document
(`audit.application_move`), a task created (`task_created_notify`, a `post_save` receiver), an
objection lodged; `deadlines_sweep` (run by `manage.py workflow_timers`) sends the reminders and
escalations.

Messages are recorded in the site's language (like official text), whatever the language of the
person whose action caused them. Each also keeps its wording (`workflows.wording`: msgids and
arguments): the messages page reads it to each person in the language they chose, and the email
is written in the language its recipient chose while signed in (the site's if they never did).
"""

import functools
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import EmailMessage, get_connection
from django.db import connections, router, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import Document
from documents.prepared import statement_rows

from .. import calendar, selectors
from ..models import Application, Notification, PanelSeat, PublicNotice
from ..permissions import APPLICANT_PERMISSION
from ..wording import Phrase, Term, phrase, wording_stored

Kind = Notification.Kind
Status = Application.Status
OPEN = [STATUS.NEW, STATUS.ASSIGNED]
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# Documents that carry a decision on the application; any other document to one applicant is
# announced as issued, and a correction notice as the correction it asks for.
DECISION_DOCUMENTS = {
    Document.Kind.REFUSAL_DECISION,
    Document.Kind.NOT_RECOMMENDED_NOTICE,
    Document.Kind.REJECTION_DECISION,
    Document.Kind.WITHDRAWAL_DECISION,
    Document.Kind.NOT_AWARDED_DECISION,
    Document.Kind.ROUND_RESULT_DECISION,
    Document.Kind.LAPSE_NOTICE,
    Document.Kind.DECISION_NOTICE,
    Document.Kind.CERTIFICATE,
}
# Outcomes the applicant is told of that no document of their own carries.
STATUS_NEWS = {
    Status.RECOMMENDED: gettext_noop("您的申报已获市州推荐。"),
    Status.APPROVED: gettext_noop("您的申报已审议通过。"),
    Status.IN_NOTICE: gettext_noop("您的申报已列入公示名单。"),
    Status.PAID: gettext_noop("您的申报资金已拨付。"),
}


# --- the writer ---------------------------------------------------------------------------------


def notify(
    *,
    recipients,
    kind: str,
    title: Phrase | str,
    body: Phrase | list[Phrase] | str = (),
    link: str = "",
    application: Application | None = None,
    dedupe_key: str = "",
) -> list[Notification]:
    """One message per recipient who may see `application` (when given) and has none under
    `dedupe_key` yet; the emails go to a background job after the transaction commits.
    `recipients` is a list of users, or a rule (`selectors.HoldersOf`, `selectors.MembersOf`)
    read together with who may see the application in one statement. The title and the body's
    lines are written in the active language and kept as wording (`message_parts`).

    With `application`, the messages are written by one statement that also picks who gets
    them (`messages_inserted`)."""
    if application is not None:
        if not isinstance(recipients, (selectors.HoldersOf, selectors.MembersOf)):
            people = [user for user in recipients if user is not None and user.is_active]
            recipients = selectors.Among(tuple(user.pk for user in people))
        return messages_inserted(
            recipients,
            application,
            kind=kind,
            link=link,
            dedupe_key=dedupe_key,
            **message_parts(title, body),
        )
    if isinstance(recipients, (selectors.HoldersOf, selectors.MembersOf)):
        raise ValueError("A recipient rule needs the application the message is about.")
    people = [user for user in recipients if user is not None and user.is_active]
    emails = {user.pk: user.email for user in people}
    if dedupe_key and emails:
        told = Notification.objects.filter(dedupe_key=dedupe_key, recipient_id__in=emails)
        for pk in told.values_list("recipient_id", flat=True):
            emails.pop(pk, None)
    if not emails:
        return []
    parts = message_parts(title, body)
    rows = [
        Notification(recipient_id=pk, kind=kind, link=link, dedupe_key=dedupe_key, **parts)
        for pk in emails
    ]
    if not dedupe_key:
        return messages_write(rows, emails)
    # One statement, no savepoint: a row someone else's sweep saved for the same person and
    # key meanwhile is skipped by the unique constraint.
    created = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    emailable = [row.recipient_id for row in created if emails[row.recipient_id]]
    if emailable:
        emailed = list(
            Notification.objects.filter(
                dedupe_key=dedupe_key, recipient_id__in=emailable, emailed_at__isnull=True
            ).values_list("pk", flat=True)
        )
        if emailed:
            transaction.on_commit(lambda: emails_enqueue(emailed))
    return created


def messages_inserted(
    rule, application: Application, *, dedupe_key: str = "", **values
) -> list[Notification]:
    """A message (`values`: its columns) to each user `rule` names who may see `application`
    and, with `dedupe_key`, holds none under that key yet, in one INSERT … SELECT over
    `selectors.recipients_where`: no read of the recipients before. A row someone else's sweep
    saved for the same person and key meanwhile is skipped by the unique constraint (ON
    CONFLICT DO NOTHING, no savepoint). The statement returns the rows written and whether
    each recipient has an email address; the emails go to a background job after the commit."""
    where = selectors.recipients_where(rule, application, untold_under=dedupe_key)
    if where is None:
        return []
    recipients_sql, recipients_params = where
    sample = Notification(application=application, dedupe_key=dedupe_key, **values)
    statement, fields = _messages_insert_sql(bool(dedupe_key))
    connection = connections[router.db_for_write(Notification)]
    params = [f.get_db_prep_save(getattr(sample, f.attname), connection) for f in fields]
    statement = statement.format(recipients=recipients_sql)
    rows = statement_rows(statement, [*params, *recipients_params])
    emailed = [pk for pk, _recipient, has_email in rows if has_email]
    if emailed:
        transaction.on_commit(lambda: emails_enqueue(emailed))
    created = []
    for pk, recipient_id, _has_email in rows:
        row = Notification(
            pk=pk,
            recipient_id=recipient_id,
            application=application,
            dedupe_key=dedupe_key,
            **values,
        )
        row._state.adding = False
        created.append(row)
    return created


@functools.cache
def _messages_insert_sql(deduplicated: bool) -> tuple[str, list]:
    """`messages_inserted`'s statement, with `{recipients}` left for the FROM … WHERE of
    `selectors.recipients_where`, and the fields whose values come first in its parameters."""
    meta = Notification._meta
    quote = connections[router.db_for_write(Notification)].ops.quote_name
    recipient = meta.get_field("recipient")
    fields = [f for f in meta.concrete_fields if not f.primary_key and f is not recipient]
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in [recipient, *fields])
    user_table = quote(get_user_model()._meta.db_table)
    statement = (
        f"INSERT INTO {table} ({columns}) SELECT u.id, {', '.join(['%s'] * len(fields))}"
        " {recipients}"
        + (" ON CONFLICT DO NOTHING" if deduplicated else "")
        + f" RETURNING {table}.{quote(meta.pk.column)}, {table}.{quote(recipient.column)},"
        f" (SELECT e.email <> '' FROM {user_table} e"
        f" WHERE e.id = {table}.{quote(recipient.column)})"
    )
    return statement, fields


def message_parts(title: Phrase | str, body: Phrase | list[Phrase] | str = ()) -> dict:
    """A message's title and body written in the active language, and its wording (none for a
    text given as written)."""
    if not isinstance(title, Phrase):
        return {"title": title[:200], "body": body or "", "wording": {}}
    lines = [body] if isinstance(body, Phrase) else list(body)
    return {
        "title": str(title)[:200],
        "body": "\n".join(str(line) for line in lines),
        "wording": wording_stored(title=title, body=lines),
    }


def messages_write(rows: list[Notification], emails: dict[int, str]) -> list[Notification]:
    """Write messages without a dedupe key in one INSERT (`emails`: each recipient's address,
    empty for none); a background job emails those who have one after the commit."""
    created = Notification.objects.bulk_create(rows)
    emailed = [row.pk for row in created if emails[row.recipient_id]]
    if emailed:
        transaction.on_commit(lambda: emails_enqueue(emailed))
    return created


def emails_enqueue(notification_ids: list[int]) -> None:
    """The job that emails these messages (call it on commit)."""
    from ..tasks import notifications_email_job

    notifications_email_job.enqueue(notification_ids=notification_ids)


def notifications_email(*, notification_ids: list[int]) -> int:
    """Email each message not emailed yet to its recipient (from DEFAULT_FROM_EMAIL) and stamp
    it; returns the number sent. The background job calls this."""
    rows = list(
        Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True)
        .exclude(recipient__email="")
        .select_related("recipient__reader_language")
    )
    if not rows:
        return 0
    messages = []
    for row in rows:
        with translation.override(_reader_language(row.recipient)):
            subject, body = row.title_shown, _email_body(row)
        messages.append(
            EmailMessage(
                subject=subject,
                body=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[row.recipient.email],
            )
        )
    sent = get_connection().send_messages(messages) or 0
    Notification.objects.filter(pk__in=[row.pk for row in rows]).update(emailed_at=timezone.now())
    return sent


def _reader_language(user) -> str:
    """The language `user` chose while signed in (services.accounts), else the site's."""
    try:
        return user.reader_language.language
    except ObjectDoesNotExist:
        return settings.LANGUAGE_CODE


def _email_body(row: Notification) -> str:
    """The message's lines in the active language, and its link."""
    text = row.body_shown
    if row.link:
        text += "\n\n" + settings.SITE_URL.rstrip("/") + row.link
    return text


def site_language():
    """Messages are written in the site's language, whoever's request writes them."""
    return translation.override(settings.LANGUAGE_CODE)


def _task_title(node) -> Term:
    """A stage's title as a label the catalogues translate (its name when it has none)."""
    return Term(node.task_title or node.name)


def _members(application: Application) -> selectors.MembersOf:
    return selectors.MembersOf(application.institution_id)


def users_holding(permission: str):
    """Everyone who holds the model permission (through a role or directly)."""
    return get_user_model().objects.with_perm(permission, backend=MODEL_BACKEND)


# --- to the applicant ---------------------------------------------------------------------------


def document_issued_notify(*, document: Document, application: Application) -> None:
    """A document issued to one applicant: a correction notice says what to supply and by
    when, a decision says so, anything else that it was issued."""
    with site_language():
        kind, title, body = document_issued_message(document=document, application=application)
        notify(
            recipients=_members(application),
            kind=kind,
            title=title,
            body=body,
            link=reverse("application_detail", args=[application.pk]),
            application=application,
        )


def document_issued_message(*, document: Document, application: Application):
    """(kind, title, body lines) of the message telling the applicant of `document`
    (`document_issued_notify`, and notifications_bulk for a batch's chunk)."""
    names = {"title": Term(document.title), "number": document.number, "call": application.call}
    if document.kind == Document.Kind.CORRECTION_NOTICE:
        body = [
            phrase(
                gettext_noop(
                    "补正要求：%(reason)s\n请在%(deadline)s前提交补正材料，逾期视为放弃申报。"
                ),
                reason=application.correction_reason,
                deadline=application.correction_deadline,
            )
        ]
        if application.correction_deadline_provisional:
            body.append(phrase(gettext_noop("（期限暂定：当年节假日安排尚未录入。）")))
        title = phrase(gettext_noop("申报被退回补正：%(call)s"), **names)
        return Kind.CORRECTION_REQUESTED, title, body
    kind = Kind.DECISION if document.kind in DECISION_DOCUMENTS else Kind.DOCUMENT_ISSUED
    title = phrase(gettext_noop("已印发%(title)s：%(call)s"), **names)
    body = phrase(gettext_noop("《%(title)s》（%(number)s）已印发，请登录查看和下载。"), **names)
    return kind, title, [body]


def application_moved_notify(*, application: Application, to: str, reason: str = "") -> None:
    """An outcome that no document of the applicant's own carries (recommended, approved,
    listed on the public notice, paid)."""
    if to not in STATUS_NEWS:
        return
    with site_language():
        body = [phrase(STATUS_NEWS[to])]
        if reason:
            body.append(phrase(gettext_noop("意见：%(reason)s"), reason=reason))
        notify(
            recipients=_members(application),
            kind=Kind.DECISION,
            title=phrase(
                gettext_noop("%(status)s：%(call)s"),
                status=Term(Status(to).label),
                call=application.call,
            ),
            body=body,
            link=reverse("application_detail", args=[application.pk]),
            application=application,
        )


# --- to whoever must act ------------------------------------------------------------------------


def task_created_notify(task: Task) -> None:
    """Work arrived: a person's own task (an expert's seat) tells that person; a task waiting
    for a role (a `View` with a permission, or a `Handle` node marked `work_for`) tells those
    holding it who may see the application (a city office: its own region), at most once a day
    per stage and call."""
    node = task.flow_task
    if task.flow_task_type == "HUMAN":
        permission = task.owner_permission
    elif task.flow_task_type == "FUNCTION":
        permission = getattr(node, "work_for", None)
        if permission is None:
            return
    else:
        return
    if task.owner_id is None and (not permission or permission == APPLICANT_PERMISSION):
        return  # the applicant's correction: its notice told them
    # The application the step that created the task loaded (stages.base.application_of).
    process = task.process if Task.process.is_cached(task) else None
    application = getattr(process, "_application", None) or (
        Application.objects.filter(process_id=task.process_id)
        .select_related("call", "institution")
        .first()
    )
    if application is None:
        return
    if task.owner_id is not None:
        task_assigned_notify(task=task, application=application)
        return
    with site_language():
        names = {"task": _task_title(node), "call": application.call}
        notify(
            recipients=selectors.HoldersOf(permission),
            kind=Kind.WORK_ARRIVED,
            title=phrase(gettext_noop("新的待办：%(task)s（%(call)s）"), **names),
            body=phrase(
                gettext_noop("《%(call)s》有申报等待您办理「%(task)s」，请到待办事项查看。"),
                **names,
            ),
            link=reverse("inbox"),
            application=application,
            dedupe_key=f"work:{node.name}:{application.call_id}:{timezone.localdate()}",
        )


def task_assigned_notify(
    *, task: Task, application: Application, seat: PanelSeat | None = None
) -> None:
    """A task given to one person (an expert's seat, also a replacement's). The owner may not
    see the application yet (an expert declares no conflict first): the message names the call
    and the due date, not the applicant."""
    seat = seat or PanelSeat.objects.filter(pk=(task.data or {}).get("seat")).first()
    node = task.flow_task
    with site_language():
        names = {"task": _task_title(node), "call": application.call}
        body = [
            phrase(
                gettext_noop("您有一项新的待办「%(task)s」（%(call)s），请到待办事项办理。"),
                **names,
            )
        ]
        if seat is not None and seat.due_at is not None:
            body.append(phrase(gettext_noop("请在%(due)s前完成。"), due=seat.due_at))
        notify(
            recipients=[task.owner],
            kind=Kind.WORK_ARRIVED,
            title=phrase(gettext_noop("新的待办：%(task)s（%(call)s）"), **names),
            body=body,
            link=reverse("task_detail", args=[task.pk]),
            dedupe_key=f"task:{task.pk}:{task.owner_id}",
        )


def objection_lodged_notify(*, objection) -> None:
    application = objection.application
    with site_language():
        notify(
            recipients=selectors.HoldersOf("workflows.run_public_notice"),
            kind=Kind.WORK_ARRIVED,
            title=phrase(
                gettext_noop("收到异议：%(institution)s"), institution=application.institution
            ),
            body=phrase(
                gettext_noop("《%(call)s》公示期间收到对%(institution)s的异议，请及时处理。"),
                call=application.call,
                institution=application.institution,
            ),
            link=reverse("application_detail", args=[application.pk]),
            application=application,
        )


# --- reminders and escalation -------------------------------------------------------------------


def deadlines_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Reminders `NOTIFY_REMIND_WORKING_DAYS` working days before each deadline, and
    escalations of overdue tasks to the supervising role; each once (dedupe keys), so running
    it again sends nothing new. Returns {kind: messages sent}."""
    now = now or timezone.now()
    return {Kind.REMINDER: reminders_send(now=now), Kind.OVERDUE: overdue_escalate(now=now)}


def reminders_send(*, now: datetime) -> int:
    """Reminders of the deadlines that end within `NOTIFY_REMIND_WORKING_DAYS` working days of
    `now`, each once."""
    with site_language():
        return _corrections_remind(now) + _seats_remind(now) + _notices_remind(now)


def overdue_escalate(*, now: datetime) -> int:
    """The supervising role told of each task past its deadline at `now`, once."""
    with site_language():
        return _seats_escalate(now) + _tasks_escalate(now)


def _remind_until(now: datetime) -> datetime:
    """Deadlines up to the end of the N-th working day after today are reminded of today."""
    return calendar.working_days_until(now, settings.NOTIFY_REMIND_WORKING_DAYS).at


def _corrections_remind(now: datetime) -> int:
    sent = 0
    due = Application.objects.filter(
        status=Status.CORRECTION,
        correction_deadline__gt=now,
        correction_deadline__lte=_remind_until(now),
    ).select_related("call", "institution")
    for application in due:
        deadline = application.correction_deadline
        sent += len(
            notify(
                recipients=_members(application),
                kind=Kind.REMINDER,
                title=phrase(gettext_noop("补正期限提醒：%(call)s"), call=application.call),
                body=phrase(
                    gettext_noop(
                        "请在%(deadline)s前提交补正材料，逾期视为放弃申报。\n补正要求：%(reason)s"
                    ),
                    deadline=deadline,
                    reason=application.correction_reason,
                ),
                link=reverse("application_detail", args=[application.pk]),
                application=application,
                dedupe_key=f"remind:correction:{application.pk}:{deadline.isoformat()}",
            )
        )
    return sent


SEAT_OPEN = [PanelSeat.Status.DRAWN, PanelSeat.Status.DECLARED]


def _seats_remind(now: datetime) -> int:
    sent = 0
    due = PanelSeat.objects.filter(
        status__in=SEAT_OPEN, due_at__gt=now, due_at__lte=_remind_until(now)
    ).select_related("expert__user", "application__call")
    for seat in due:
        sent += len(
            notify(
                recipients=[seat.expert.user],
                kind=Kind.REMINDER,
                title=phrase(gettext_noop("评审期限提醒：%(call)s"), call=seat.application.call),
                body=phrase(
                    gettext_noop("您的一项专家评审须在%(due)s前完成，请到待办事项办理。"),
                    due=seat.due_at,
                ),
                link=reverse("task_detail", args=[seat.task_id]) if seat.task_id else "",
                dedupe_key=f"remind:seat:{seat.pk}:{seat.due_at.isoformat()}",
            )
        )
    return sent


def _notices_remind(now: datetime) -> int:
    sent = 0
    due = PublicNotice.objects.filter(ends_at__gt=now, ends_at__lte=_remind_until(now))
    notices = list(due.select_related("call"))
    officers = list(users_holding("workflows.run_public_notice")) if notices else []
    for notice in notices:
        sent += len(
            notify(
                recipients=officers,
                kind=Kind.REMINDER,
                title=phrase(gettext_noop("公示期即将届满：%(title)s"), title=notice.title),
                body=phrase(
                    gettext_noop("公示期于%(end)s届满，请及时处理收到的异议。"), end=notice.ends_at
                ),
                dedupe_key=f"remind:notice:{notice.pk}:{notice.ends_at.isoformat()}",
            )
        )
    return sent


def _supervisors(permission: str):
    supervising = settings.NOTIFY_ESCALATE_TO.get(permission)
    return list(users_holding(supervising)) if supervising else []


def _escalate(*, permission: str, task_title, application, due: datetime, key: str) -> int:
    names = {"task": task_title, "institution": application.institution, "due": due}
    return len(
        notify(
            recipients=_supervisors(permission),
            kind=Kind.OVERDUE,
            title=phrase(gettext_noop("逾期督办：%(task)s（%(institution)s）"), **names),
            body=phrase(
                gettext_noop(
                    "%(institution)s的申报「%(task)s」已超过期限（%(due)s）仍未办理，请督办。"
                ),
                **names,
            ),
            link=reverse("application_detail", args=[application.pk]),
            application=application,
            dedupe_key=key,
        )
    )


def _seats_escalate(now: datetime) -> int:
    sent = 0
    late = PanelSeat.objects.filter(
        status__in=SEAT_OPEN, due_at__lte=now, task__status__in=OPEN
    ).select_related("application__institution", "application__call", "expert")
    for seat in late:
        sent += _escalate(
            permission="workflows.expert_review",
            task_title=phrase(gettext_noop("专家评分（%(expert)s）"), expert=seat.expert.name),
            application=seat.application,
            due=seat.due_at,
            key=f"overdue:seat:{seat.pk}:{seat.due_at.isoformat()}",
        )
    return sent


def _tasks_escalate(now: datetime) -> int:
    """Open tasks of a role older than its `NOTIFY_TASK_WORKING_DAYS` (working days)."""
    sent = 0
    limits = settings.NOTIFY_TASK_WORKING_DAYS
    if not limits:
        return 0
    # A task is at least `days` calendar days old before it can be `days` working days old: the
    # roles' candidates in one query.
    old_enough = Q()
    for permission, days in limits.items():
        old_enough |= Q(owner_permission=permission, created__lte=now - timedelta(days=days))
    candidates = Task.objects.filter(old_enough, flow_task_type="HUMAN", status__in=OPEN).order_by(
        "owner_permission", "created", "pk"
    )
    for task in candidates:
        permission = task.owner_permission
        due = calendar.working_days_until(task.created, limits[permission]).at
        if due <= now:
            application = Application.objects.filter(process_id=task.process_id).first()
            if application is None:
                continue
            sent += _escalate(
                permission=permission,
                task_title=_task_title(task.flow_task),
                application=application,
                due=due,
                key=f"overdue:task:{task.pk}",
            )
    return sent


# --- reading --------------------------------------------------------------------------------


def notification_read(*, user, notification: Notification) -> Notification:
    if notification.recipient_id != user.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_read_all(*, user) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def task_saved(sender, instance, created, **kwargs) -> None:
    """`post_save` receiver (connected in apps.py): a task just created may be work for
    someone."""
    if created and isinstance(instance, Task):
        task_created_notify(instance)
