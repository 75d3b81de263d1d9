"""Helpers the stage packages share: reading the application of a flow activation, conditions,
wiring a stage's exit to the next stage."""

from django.shortcuts import redirect
from viewflow import this
from viewflow.workflow import flow


def application_of(activation):
    from ..models import Application

    return Application.objects.select_related("public_notice").get(process=activation.process)


def status_in(*statuses):
    """A condition for If/Switch nodes: the application's status is one of `statuses`."""

    def condition(activation) -> bool:
        return application_of(activation).status in statuses

    condition.__name__ = "status_in_" + "_".join(statuses)
    return condition


def next_or_end(nodes: dict, next_node: str | None, outcome: str):
    """`this.<next_node>`, or a new End node named for the outcome when the stage is last."""
    if next_node is None:
        nodes[outcome] = flow.End()
        return getattr(this, outcome)
    return getattr(this, next_node)


def task_view(request, **kwargs):
    """viewflow wants a view per human task; ours are the stage pages the task page leads to."""
    return redirect("task_detail", task_pk=kwargs["task_pk"])
