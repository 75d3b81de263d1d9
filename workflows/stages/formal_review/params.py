"""Parameters of the formal review stage."""

from typing import Annotated, Literal

from ...programs.types import PositiveInt, Role, StageBase, at_most


class FormalReviewStage(StageBase):
    type: Literal["formal_review"]
    role: Role = "formal_reviewer"
    # Working days the applicant has to correct a returned application.
    correction_working_days: Annotated[PositiveInt, at_most(60, "working days")] = 5


Params = FormalReviewStage
