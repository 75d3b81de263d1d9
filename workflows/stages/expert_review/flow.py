"""draw_panel -> panel_split -> expert_score (one task per seat, in parallel) -> panel_join ->
panel_close -> next stage (see the package's docstring). With `advance_top`, panel_close ->
await_round (until staff close the round) -> check_round: not_advanced (End) | next stage."""

from django.utils.translation import gettext_lazy as _
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.split import SplitActivation

from ..base import Wiring, application_of, runs_on_application, stage_of_node, status_in, task_view
from .params import MANAGE_PANELS


class PanelSplitActivation(SplitActivation):
    """One outgoing branch per panel seat, each carrying `{"seat": <id>}` in its task data."""

    @Activation.status.super()
    def activate(self):
        from .services import panel_branches

        (node, _cond, _data_source), *_rest = self.flow_task._branches
        application = application_of(self)
        stage = stage_of_node(application, self.flow_task)
        for data in panel_branches(application=application, stage=stage):
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


def _application_and_stage(activation):
    application = application_of(activation)
    return application, stage_of_node(application, activation.flow_task)


@runs_on_application
def panel_draw(activation):
    from .services import panel_draw as draw

    application, stage = _application_and_stage(activation)
    draw(application=application, stage=stage)


def seat_expert_user(activation):
    """`.Assign()`: the expert of the seat the task was created for (None for a vacant seat)."""
    from .services import seat_expert_user as expert_user

    return expert_user(seat_id=activation.task.data.get("seat"))


def seat_task_link(activation):
    from .services import seat_task_link as link

    link(task=activation.task)


@runs_on_application
def panel_close(activation):
    from .services import panel_close as close

    application, stage = _application_and_stage(activation)
    close(application=application, stage=stage)


def build(stage: dict, next_node: str | None):
    wiring = Wiring(stage, next_node)
    wiring.add("draw_panel", flow.Function(panel_draw).Next(wiring.to("panel_split")))
    wiring.add("panel_split", PanelSplit().Next(wiring.to("expert_score")))
    wiring.add(
        "expert_score",
        flow.View(task_view)
        .Annotation(title=_("专家评分"))
        .Permission(MANAGE_PANELS)
        .Assign(seat_expert_user)
        .onCreate(seat_task_link)
        .Next(wiring.to("panel_join")),
    )
    wiring.add("panel_join", flow.Join().Next(wiring.to("panel_close")))
    if not stage.get("advance_top"):
        wiring.add("panel_close", flow.Function(panel_close).Next(wiring.exit("scored")))
        return wiring.built("draw_panel")
    # Only the best N of the call go on: each waits here until staff close the round.
    wiring.add("panel_close", flow.Function(panel_close).Next(wiring.to("await_round")))
    wiring.add(
        "await_round",
        flow.Handle().Annotation(title=_("确定进入下一环节名单")).Next(wiring.to("check_round")),
        work_for=MANAGE_PANELS,
    )
    wiring.add(
        "check_round",
        flow.If(status_in("not_advanced"))
        .Then(wiring.to("not_advanced"))
        .Else(wiring.exit("advanced")),
    )
    wiring.add("not_advanced", flow.End())
    return wiring.built("draw_panel")
