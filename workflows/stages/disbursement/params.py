"""Parameters of the disbursement stage."""

from typing import Literal

from ...programs.types import Role, StageBase


class DisbursementStage(StageBase):
    type: Literal["disbursement"]
    role: Role = "finance_officer"

    NEEDS = ("decided",)
    PROVIDES = ("paid",)
    FORBIDS = ("paid",)


Params = DisbursementStage
