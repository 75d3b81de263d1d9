"""Helpers the stage packages share: wiring a stage's nodes under its key, reading the
application and the stage of a flow activation, conditions."""

from django.shortcuts import redirect
from viewflow import this
from viewflow.workflow import flow

from ..programs import stage_by_key, stage_key


class Wiring:
    """The nodes of one stage of a program, named and tagged for it.

    A stage whose key is its type (the default) names its nodes as its type's flow does
    (`formal_review`, `check_formal_review`…), so processes started under earlier versions of a
    file still find them; a stage with a key of its own prefixes them (`final_review__draw_panel`),
    so that a stage type may appear more than once. Every node carries `stage_key`, `stage_type`
    and `local_name`: the services find a task's stage (and its parameters in the application's
    program version) from its node."""

    def __init__(self, stage: dict, next_node: str | None):
        self.key = stage_key(stage)
        self.type = stage["type"]
        self.prefix = "" if self.key == self.type else f"{self.key}__"
        self.next_node = next_node
        self.nodes: dict = {}

    def name(self, local: str) -> str:
        return self.prefix + local

    def to(self, local: str):
        """`this.<node>` of one of this stage's own nodes."""
        return getattr(this, self.name(local))

    def add(self, local: str, node, *, work_for: str | None = None):
        """`work_for`: the permission of those told when a task waits at the node (a `Handle`
        waiting for someone to act on the whole call; a `View` names its own permission)."""
        node.stage_key, node.stage_type, node.local_name = self.key, self.type, local
        node.work_for = work_for
        self.nodes[self.name(local)] = node
        return node

    def exit(self, outcome: str):
        """`this.<next stage's entry>`, or a new End node named for the outcome when the stage
        is the program's last."""
        if self.next_node is None:
            self.add(outcome, flow.End())
            return self.to(outcome)
        return getattr(this, self.next_node)

    def built(self, entry: str) -> tuple[str, dict]:
        return self.name(entry), self.nodes


def decided_by_a_person(
    wiring: Wiring,
    *,
    task: str,
    title,
    permission: str,
    check: str,
    passed: str,
    exit_outcome: str,
    failed: str,
) -> tuple[str, dict]:
    """The shape of a stage in which a person decides: a task (`View`) for the role's
    permission, then a check that goes on when the application's status is `passed`, else ends
    the process at `failed`."""
    wiring.add(
        task,
        flow.View(task_view).Annotation(title=title).Permission(permission).Next(wiring.to(check)),
    )
    wiring.add(
        check,
        flow.If(status_in(passed)).Then(wiring.exit(exit_outcome)).Else(wiring.to(failed)),
    )
    wiring.add(failed, flow.End())
    return wiring.built(task)


def runs_on_application(func):
    """Mark a `flow.Function`'s function as reading of its activation only the application
    (`application_of`) and the stage: services.advance may then run it while it writes the
    rows of a step in bulk, before the function's own task row exists."""
    func.runs_on_application = True
    return func


def application_of(activation):
    """The application of the activation's process: the one the service taking the step loaded
    (and changed) under the process lock, else read once and kept on the process object for the
    nodes that follow in the same step (gateways, functions, timers)."""
    from ..models import Application

    application = getattr(activation.process, "_application", None)
    if application is None:
        application = Application.objects.select_related(*APPLICATION_RELATED).get(
            process=activation.process
        )
        application_attach(activation.process, application)
    return application


# What a transition reads of an application with it, in the one query that loads it.
APPLICATION_RELATED = ("call", "institution", "program_version", "public_notice")


def application_attach(process, application) -> None:
    """Keep `application` on its process object, so the nodes a step runs next (and
    `process.application`) use it instead of reading it again."""
    process._application = application
    type(application).process.field.set_cached_value(application, process)
    type(application).process.field.remote_field.set_cached_value(process, application)


def stage_of_node(application, node) -> dict:
    """The parameters of the node's stage under the application's own program version."""
    return stage_by_key(application.program, node.stage_key)


def status_in(*statuses):
    """A condition for If/Switch nodes: the application's status is one of `statuses`."""

    def condition(activation) -> bool:
        return application_of(activation).status in statuses

    condition.__name__ = "status_in_" + "_".join(statuses)
    return condition


def task_view(request, **kwargs):
    """viewflow wants a view per human task; ours are the stage pages the task page leads to."""
    return redirect("task_detail", task_pk=kwargs["task_pk"])
