"""形式审查: accept (受理), return for correction (补正, N working days), or refuse (不予受理)."""

from viewflow import this
from viewflow.workflow import flow

from ..permissions import APPLICANT_PERMISSION, ROLE_TASK_PERMISSION
from .base import next_or_end, status_in, task_view

PARAMS = {"role": (str, "formal_reviewer"), "correction_working_days": (int, 5)}
REQUIRES = ("application",)


def institution_of(process):
    return process.application.institution


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    accepted = next_or_end(nodes, next_node, "accepted")
    nodes["formal_review"] = (
        flow.View(task_view)
        .Permission(ROLE_TASK_PERMISSION[stage["role"]])
        .Next(this.check_formal_review)
    )
    nodes["check_formal_review"] = (
        flow.Switch()
        .Case(accepted, status_in("accepted"))
        .Case(this.correction, status_in("correction"))
        .Default(this.refused)
    )
    nodes["correction"] = (
        flow.View(task_view)
        .Permission(APPLICANT_PERMISSION, obj=institution_of)
        .Next(this.formal_review)
    )
    nodes["refused"] = flow.End()
    return "formal_review", nodes
