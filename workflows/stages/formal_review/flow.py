"""formal_review (View) -> accepted: next stage | correction (applicant's View, with a timer:
correction_lapse -> lapsed) -> formal_review again | refused (End)."""

from django.utils.translation import gettext_lazy as _
from viewflow.workflow import flow

from ...permissions import APPLICANT_PERMISSION, ROLE_TASK_PERMISSION
from ..base import Wiring, application_of, runs_on_application, status_in, task_view


def institution_of(process):
    return process.application.institution


def correction_deadline(activation):
    """The correction task's timer fires at the deadline given to the applicant."""
    return application_of(activation).correction_deadline


@runs_on_application
def correction_lapse(activation):
    from .services import application_correction_lapse

    application_correction_lapse(application=application_of(activation))


def build(stage: dict, next_node: str | None):
    wiring = Wiring(stage, next_node)
    accepted = wiring.exit("accepted")
    wiring.add(
        "formal_review",
        flow.View(task_view)
        .Annotation(title=stage.get("name") or _("形式审查"))
        .Permission(ROLE_TASK_PERMISSION[stage["role"]])
        .Next(wiring.to("check_formal_review")),
    )
    wiring.add(
        "check_formal_review",
        flow.Switch()
        .Case(accepted, status_in("accepted"))
        .Case(wiring.to("correction"), status_in("correction"))
        .Default(wiring.to("refused")),
    )
    wiring.add(
        "correction",
        flow.View(task_view)
        .Annotation(title=_("补正申报材料"))
        .Permission(APPLICANT_PERMISSION, obj=institution_of)
        .OnTimeout(correction_deadline, wiring.to("correction_lapse"), title=_("补正期限届满"))
        .Next(wiring.to("formal_review")),
    )
    wiring.add("correction_lapse", flow.Function(correction_lapse).Next(wiring.to("lapsed")))
    wiring.add("lapsed", flow.End())
    wiring.add("refused", flow.End())
    return wiring.built("formal_review")
