"""Parameters of the public notice stage."""

from typing import Annotated, Literal

from ...programs.types import PositiveInt, Role, StageBase, at_most


class PublicNoticeStage(StageBase):
    """The list published is whoever reached the notice: after a leadership meeting, a
    committee vote, an expert panel, or a formal review."""

    type: Literal["public_notice"]
    role: Role = "notice_officer"
    # The call page that publishes the list and handles the period asks this.
    ROLE_MUST_HOLD = "workflows.run_public_notice"
    days: Annotated[PositiveInt, at_most(90, "days")] = 7
    day_kind: Literal["calendar", "working"] = "calendar"


Params = PublicNoticeStage
