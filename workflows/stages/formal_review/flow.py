"""formal_review (View) -> accepted: next stage | correction (applicant's View, with a timer:
correction_lapse -> lapsed) -> formal_review again | refused (End)."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from ...permissions import APPLICANT_PERMISSION, ROLE_TASK_PERMISSION
from ..base import application_of, next_or_end, status_in, task_view


def institution_of(process):
    return process.application.institution


def correction_deadline(activation):
    """The correction task's timer fires at the deadline given to the applicant."""
    return application_of(activation).correction_deadline


def correction_lapse(activation):
    from .services import application_correction_lapse

    application_correction_lapse(application=application_of(activation))


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    accepted = next_or_end(nodes, next_node, "accepted")
    nodes["formal_review"] = (
        flow.View(task_view)
        .Annotation(title=_("形式审查"))
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
        .Annotation(title=_("补正申报材料"))
        .Permission(APPLICANT_PERMISSION, obj=institution_of)
        .OnTimeout(correction_deadline, this.correction_lapse, title=_("补正期限届满"))
        .Next(this.formal_review)
    )
    nodes["correction_lapse"] = flow.Function(correction_lapse).Next(this.lapsed)
    nodes["lapsed"] = flow.End()
    nodes["refused"] = flow.End()
    return "formal_review", nodes
