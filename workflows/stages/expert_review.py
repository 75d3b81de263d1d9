"""专家评审: a panel of experts drawn at random from the pool scores the program's rubric.

    draw_panel -> panel_split -> expert_score (one task per seat, in parallel) -> panel_join
               -> panel_close -> next stage

`panel_split` is a dynamic split: its activation asks the services for the panel's seats and
creates one `expert_score` task per seat (the seat id travels in `task.data`), all sharing the
split's token prefix, so viewflow's Join waits for however many branches there are. A recusal or a
late expert's replacement reassigns the *same* task to the replacement expert, so the number of
branches never changes and the join still waits for every seat. A seat no expert can fill stays
an unassigned task for the panel managers (permission `workflows.manage_panels`).
"""

from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.split import SplitActivation

from .base import application_of, next_or_end, task_view

PARAMS = {
    # The staff role that runs the panels (it must hold workflows.manage_panels).
    "role": (str, "formal_reviewer"),
    "panel_size": (int, 5),
    "score_method": ({"mean", "trimmed_mean"}, "trimmed_mean"),
    # Working days an expert has from the draw to the score; later, staff may replace them.
    "review_days": (int, 10),
}
REQUIRES = ("application",)
MANAGE_PANELS = "workflows.manage_panels"


def stage_problems(stage: dict, content: dict) -> list[tuple[str, str]]:
    """(parameter, message) for what the generic parameter check cannot see: the staff role
    must be able to manage panels (replace late experts, fill or close vacant seats). The
    rubric is checked by `workflows.rubric`."""
    from ..permissions import ROLES

    role = stage.get("role", PARAMS["role"][1])
    if isinstance(role, str) and role in ROLES and MANAGE_PANELS not in ROLES[role][1]:
        return [("role", f"the role must hold {MANAGE_PANELS}")]
    return []


class PanelSplitActivation(SplitActivation):
    """One outgoing branch per panel seat, each carrying `{"seat": <id>}` in its task data."""

    @Activation.status.super()
    def activate(self):
        from ..services.expert_review import panel_branches

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
    from ..services.expert_review import panel_draw as draw

    draw(application=application_of(activation))


def seat_expert_user(activation):
    """`.Assign()`: the expert of the seat the task was created for (None for a vacant seat)."""
    from ..services.expert_review import seat_expert_user as expert_user

    return expert_user(seat_id=activation.task.data.get("seat"))


def seat_task_link(activation):
    from ..services.expert_review import seat_task_link as link

    link(task=activation.task)


def panel_close(activation):
    from ..services.expert_review import panel_close as close

    close(application=application_of(activation))


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["draw_panel"] = flow.Function(panel_draw).Next(this.panel_split)
    nodes["panel_split"] = PanelSplit().Next(this.expert_score)
    nodes["expert_score"] = (
        flow.View(task_view)
        .Permission(MANAGE_PANELS)
        .Assign(seat_expert_user)
        .onCreate(seat_task_link)
        .Next(this.panel_join)
    )
    nodes["panel_join"] = flow.Join().Next(this.panel_close)
    nodes["panel_close"] = flow.Function(panel_close).Next(next_or_end(nodes, next_node, "scored"))
    return "draw_panel", nodes
