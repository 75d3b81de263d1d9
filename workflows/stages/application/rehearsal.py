"""Rehearsing the application stage: the rehearsal submits every application itself."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

NAME = pgettext_lazy("stage", "申报")

# The status an application ends with when a stage gives it each adverse outcome.
ENDS: dict = {}


def outcomes(stage: dict, program: dict) -> list[tuple[str, str]]:
    return [("submit", _("提交"))]


def rehearse(run, stage: dict, entries) -> None:
    """Nothing to do: every application was submitted when it was made."""
