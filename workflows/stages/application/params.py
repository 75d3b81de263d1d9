"""The application stage takes no parameters; it comes first, once."""

from typing import Literal

from ...programs.types import StageBase


class ApplicationStage(StageBase):
    type: Literal["application"]

    NEEDS = ()
    PROVIDES = ("submitted",)
    FORBIDS = ("submitted",)


Params = ApplicationStage
