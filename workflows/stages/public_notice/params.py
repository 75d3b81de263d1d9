"""Parameters of the public notice stage."""

from typing import Literal

from ...programs.types import PositiveInt, Role, StageBase


class PublicNoticeStage(StageBase):
    """The list published is whoever reached the notice: after a leadership meeting, a
    committee vote, an expert panel, or a formal review."""

    type: Literal["public_notice"]
    role: Role = "notice_officer"
    # The call page that publishes the list and handles the period asks this.
    ROLE_MUST_HOLD = "workflows.run_public_notice"
    days: PositiveInt = 7
    day_kind: Literal["calendar", "working"] = "calendar"


Params = PublicNoticeStage
