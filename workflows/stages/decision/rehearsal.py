"""Rehearsing the decision: the call's decision and each applicant's notice or certificate."""

from django.utils.translation import gettext_lazy as _

from .services import decision_issue

NAME = _("决定")

# The status an application ends with when a stage gives it each adverse outcome.
ENDS: dict = {}


def outcomes(stage: dict, program: dict) -> list[tuple[str, str]]:
    return [("decide", _("印发决定"))]


def rehearse(run, stage: dict, entries) -> None:
    decision_issue(user=run.user_for(stage["role"]), call=run.call)
