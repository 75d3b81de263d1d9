"""Parameters of the expert review stage (one round: 初评 or 终评, say, each with its own)."""

from typing import Annotated, Literal

from ...programs.types import Count, Criterion, PositiveInt, Role, StageBase, at_most

MANAGE_PANELS = "workflows.manage_panels"


class ExpertReviewStage(StageBase):
    type: Literal["expert_review"]
    # The staff role that runs the panels (it must hold workflows.manage_panels).
    role: Role = "formal_reviewer"
    panel_size: PositiveInt = 5
    score_method: Literal["mean", "trimmed_mean"] = "trimmed_mean"
    # Working days an expert has from the draw to the score; later, staff may replace them.
    review_days: Annotated[PositiveInt, at_most(60, "working days")] = 10
    # This round's own rubric ([[stages.rubric]]); without one, the program's [[rubric]].
    rubric: list[Criterion] | None = None
    # Only the best N of the call go on to the next stage (0: all); the others end with a
    # written decision once staff close the round.
    advance_top: Count = 0

    PROVIDES = ("list_decided", "scored")
    # The staff role must be able to manage panels (replace late experts, fill or close vacant
    # seats). The rubric is checked with the program's (programs.rubric).
    ROLE_MUST_HOLD = MANAGE_PANELS


Params = ExpertReviewStage
