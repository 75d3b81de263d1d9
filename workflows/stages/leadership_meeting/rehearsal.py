"""Rehearsing the leadership meeting: the list approved, the rejected ones with a reason."""

from django.utils.translation import gettext_lazy as _

from .services import leadership_decide

NAME = _("审议")

# The status an application ends with when a stage gives it each adverse outcome.
ENDS = {"reject": "rejected"}


def outcomes(stage: dict, program: dict) -> list[tuple[str, str]]:
    return [("approve", _("审议通过")), ("reject", _("审议不通过"))]


def rehearse(run, stage: dict, entries) -> None:
    """One meeting per deciding user: a stage given to city offices is held by each office for
    the applications of its own region."""
    meetings: dict = {}
    for entry in entries:
        user = run.user_for(stage["role"], entry.application)
        rejected = run.outcome(entry, stage) == "reject"
        meetings.setdefault(user, []).append(
            (entry.application, not rejected, "材料与事实不符（预演）。" if rejected else "")
        )
    for user, decisions in meetings.items():
        leadership_decide(user=user, decisions=decisions)
