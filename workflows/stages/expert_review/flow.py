"""draw_panel -> panel_split -> expert_score (one task per seat, in parallel) -> panel_join ->
panel_close -> next stage (see the package's docstring)."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.split import SplitActivation

from ..base import application_of, next_or_end, task_view
from .params import MANAGE_PANELS


class PanelSplitActivation(SplitActivation):
    """One outgoing branch per panel seat, each carrying `{"seat": <id>}` in its task data."""

    @Activation.status.super()
    def activate(self):
        from .services import panel_branches

        (node, _cond, _data_source), *_rest = self.flow_task._branches
        for data in panel_branches(application=application_of(self)):
            self.next_tasks.append((node, data))
        if not self.next_tasks:
            raise FlowRuntimeError(f"{self.flow_task.name}: the panel has no seats")


class PanelSplit(flow.Split):
    """A parallel split whose branch count comes from the data (the seats of the panel)."""

    activation_class = PanelSplitActivation

    def _ready(self):
        super()._ready()
        for node, _cond, _data_source in self._activate_next:
            node._multi_instance = True  # the chart and BPMN show a multi-instance task


def panel_draw(activation):
    from .services import panel_draw as draw

    draw(application=application_of(activation))


def seat_expert_user(activation):
    """`.Assign()`: the expert of the seat the task was created for (None for a vacant seat)."""
    from .services import seat_expert_user as expert_user

    return expert_user(seat_id=activation.task.data.get("seat"))


def seat_task_link(activation):
    from .services import seat_task_link as link

    link(task=activation.task)


def panel_close(activation):
    from .services import panel_close as close

    close(application=application_of(activation))


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["draw_panel"] = flow.Function(panel_draw).Next(this.panel_split)
    nodes["panel_split"] = PanelSplit().Next(this.expert_score)
    nodes["expert_score"] = (
        flow.View(task_view)
        .Annotation(title=_("专家评分"))
        .Permission(MANAGE_PANELS)
        .Assign(seat_expert_user)
        .onCreate(seat_task_link)
        .Next(this.panel_join)
    )
    nodes["panel_join"] = flow.Join().Next(this.panel_close)
    nodes["panel_close"] = flow.Function(panel_close).Next(next_or_end(nodes, next_node, "scored"))
    return "draw_panel", nodes
