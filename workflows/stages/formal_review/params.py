"""Parameters of the formal review stage."""

from typing import Literal

from ...programs.types import PositiveInt, Role, StageBase


class FormalReviewStage(StageBase):
    type: Literal["formal_review"]
    role: Role = "formal_reviewer"
    # Working days the applicant has to correct a returned application.
    correction_working_days: PositiveInt = 5


Params = FormalReviewStage
