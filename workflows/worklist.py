"""What waits for each person, and where each application stands.

The inbox and the home pages read these. Two kinds of work wait for someone:

- viewflow's human tasks (a review, a recommendation, a score, a correction, a letter, a
  payment), one per application, from `selectors.tasks_actionable_by`, each with its deadline
  when it has one (the correction deadline, the expert's due date);
- work on a whole call that no single task names: a list waiting to be published, a decision
  due, a round whose list must be fixed (viewflow `Handle` nodes, which nobody owns), and
  objections waiting to be handled. Each stage package lists its own in `urls.CALL_WORK`
  ({node name: (permission, label, url of the call)}).

Deadlines are never guessed: work without one shows none, and a provisional one says 暂定.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.db.models import Count, Min, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from . import calendar
from .flows import FLOWS, local_name, nodes_named
from .models import Application, Call, Objection, PanelSeat
from .programs import stage_key
from .stages import stage_modules, stage_title

HANDLE_OBJECTIONS = "workflows.run_public_notice"


@dataclass
class Due:
    """A deadline as a person sees it: when, how many working days are left, and whether it is
    provisional (a year of the holiday calendar was not entered)."""

    at: datetime
    provisional: bool = False

    @cached_property
    def days_left(self) -> int:
        return calendar.working_days_left(self.at)

    @property
    def overdue(self) -> bool:
        return self.days_left < 0 or (self.days_left == 0 and self.at < timezone.now())


@dataclass
class CallWork:
    """Work on a whole call: `count` applications (or objections) wait since `since`."""

    label: str
    url: str
    call: Call
    count: int
    since: datetime
    due: Due | None = None


@dataclass
class TaskRow:
    """An inbox row: a human task with its application and its deadline, if it has one."""

    task: Task
    application: Application | None
    due: Due | None = None


def _call_work_nodes(user) -> dict:
    """{node: (label, url maker)} of the call-level work this user may do, over every program."""
    found = {}
    for _stage_type, module in stage_modules("urls"):
        for node_name, (permission, label, url) in getattr(module, "CALL_WORK", {}).items():
            if not user.has_perm(permission):
                continue
            for slug in FLOWS:
                for node in nodes_named(slug, node_name):
                    found[node] = (label, url)
    return found


def call_work_for(user) -> list[CallWork]:
    """The call-level work waiting for this user, oldest first (two queries, whatever the number
    of calls and applications)."""
    if not user.is_authenticated:
        return []
    nodes = _call_work_nodes(user)
    rows = []
    if nodes:
        rows = list(
            Task.objects.filter(flow_task__in=list(nodes), status=STATUS.NEW)
            .values("flow_task", "process__application__call_id")
            .annotate(n=Count("pk"), since=Min("created"))
        )
    objections = []
    if user.has_perm(HANDLE_OBJECTIONS):
        objections = list(
            Objection.objects.filter(status=Objection.Status.PENDING)
            .values("application__call_id")
            .annotate(n=Count("pk"), since=Min("lodged_at"))
        )
    call_ids = {r["process__application__call_id"] for r in rows} | {
        r["application__call_id"] for r in objections
    }
    calls = Call.objects.in_bulk(call_ids)
    work = []
    for row in rows:
        call = calls.get(row["process__application__call_id"])
        if call is None:
            continue
        label, url = nodes[row["flow_task"]]
        work.append(CallWork(str(label), url(call, row["flow_task"]), call, row["n"], row["since"]))
    for row in objections:
        call = calls[row["application__call_id"]]
        work.append(
            CallWork(
                _("处理异议"),
                reverse("call_manage", args=[call.pk]),
                call,
                row["n"],
                row["since"],
            )
        )
    return sorted(work, key=lambda w: w.since)


def tasks_with_due(tasks) -> "QuerySet[Task]":  # noqa: F821
    """The tasks with the due date of the expert seat each belongs to (one subquery)."""
    seats = PanelSeat.objects.filter(task_id=OuterRef("pk"))
    return tasks.annotate(
        seat_due=Subquery(seats.values("due_at")[:1]),
        seat_due_provisional=Subquery(seats.values("due_provisional")[:1]),
    )


def task_rows(tasks) -> list[TaskRow]:
    """Inbox rows of a page of `tasks_with_due` tasks (no further query)."""
    rows = []
    for task in tasks:
        application = getattr(task.process, "application", None)
        due = None
        if getattr(task, "seat_due", None):
            due = Due(task.seat_due, bool(task.seat_due_provisional))
        elif (
            application is not None
            and application.correction_deadline
            and task.flow_task is not None
            and local_name(task.flow_task) == "correction"
        ):
            due = Due(application.correction_deadline, application.correction_deadline_provisional)
        rows.append(TaskRow(task, application, due))
    return rows


# --- where an application stands --------------------------------------------------------------

ENDED = {
    Application.Status.NOT_RECOMMENDED,
    Application.Status.LAPSED,
    Application.Status.REFUSED,
    Application.Status.NOT_ADVANCED,
    Application.Status.REJECTED,
    Application.Status.WITHDRAWN,
}


@dataclass
class Step:
    title: str
    state: str  # done | current | ended | todo


@dataclass
class Track:
    """An application's way through its program's stages, for its applicant."""

    application: Application
    steps: list[Step] = field(default_factory=list)
    due: Due | None = None
    due_label: str = ""
    action: tuple[str, str] | None = None  # (label, url) of what the applicant must do now

    @property
    def current(self) -> Step | None:
        return next((s for s in self.steps if s.state in ("current", "ended")), None)

    @property
    def next(self) -> Step | None:
        if self.application.status in ENDED:
            return None
        return next((s for s in self.steps if s.state == "todo"), None)

    @property
    def finished(self) -> bool:
        return bool(self.steps) and all(s.state == "done" for s in self.steps)


def _latest_stages(applications) -> dict[int, tuple[str | None, bool]]:
    """{process id: (stage key of the process's latest task, whether the process has ended)}
    in one query."""
    process_ids = [a.process_id for a in applications if a.process_id]
    latest: dict[int, tuple[str | None, bool]] = {}
    if not process_ids:
        return latest
    tasks = (
        Task.objects.filter(process_id__in=process_ids)
        .order_by("process_id", "-created", "-pk")
        .values_list("process_id", "flow_task", "process__status")
    )
    for process_id, node, process_status in tasks:
        if process_id not in latest and node is not None:
            latest[process_id] = (getattr(node, "stage_key", None), process_status == "DONE")
    return latest


def tracks_of(applications) -> list[Track]:
    """Where each application stands: its program's stages, done, current (or where it ended)
    and to come, with its deadline and the applicant's next action."""
    applications = list(applications)
    latest = _latest_stages(applications)
    tracks = []
    for application in applications:
        stages = application.program["stages"]
        keys = [stage_key(stage) for stage in stages]
        status = application.status
        current_key, ended = latest.get(application.process_id, (None, False))
        if ended and status not in ENDED:
            at = len(stages)  # the process ended well: every stage done
        elif current_key in keys:
            at = keys.index(current_key)
        else:
            at = 0  # a draft, or not submitted yet
        steps = []
        for i, stage in enumerate(stages):
            if i < at:
                state = "done"
            elif i == at:
                state = "ended" if status in ENDED else "current"
            else:
                state = "todo"
            steps.append(Step(stage_title(stage), state))
        track = Track(application, steps)
        if status == Application.Status.CORRECTION and application.correction_deadline:
            track.due = Due(
                application.correction_deadline, application.correction_deadline_provisional
            )
            track.due_label = _("补正期限")
            track.action = (_("修改并重新提交"), reverse("application_edit", args=[application.pk]))
        elif status == Application.Status.DRAFT:
            track.due = Due(application.call.closes_at)
            track.due_label = _("申报截止")
            url = reverse("application_detail", args=[application.pk])
            track.action = (_("完善并提交申报"), url)
        elif status == Application.Status.IN_NOTICE and application.public_notice_id:
            notice = application.public_notice
            track.due = Due(notice.ends_at, notice.ends_provisional)
            track.due_label = _("公示截止")
        tracks.append(track)
    return tracks
