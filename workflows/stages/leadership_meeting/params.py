"""Parameters of the leadership meeting stage."""

from typing import Literal

from ...programs.types import Role, StageBase


class LeadershipMeetingStage(StageBase):
    type: Literal["leadership_meeting"]
    role: Role = "leadership"

    PROVIDES = ("list_decided",)


Params = LeadershipMeetingStage
