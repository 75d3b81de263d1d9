"""Rehearsing the city recommendation: the office of each applicant's city recommends it, or
not, with a reason; a city whose places are used up declines the rest.

When a round holds more applications than the cities have places (the demo's single call), the
places go first to one application of each branch, so that every branch still reaches the
stages after this one."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .services import recommendation_decide

NAME = _("市州推荐")

# The status an application ends with when a stage gives it each adverse outcome.
ENDS = {"not_recommend": "not_recommended"}


def outcomes(stage: dict, program: dict) -> list[tuple[str, str]]:
    return [("recommend", _("推荐")), ("not_recommend", _("不予推荐"))]


def rehearse(run, stage: dict, entries) -> None:
    done = set()
    # First one recommended application per branch: a branch's entry in a city already full
    # is declined (the city stays full) and its next entry, perhaps in another city, is tried.
    for branch in dict.fromkeys(entry.branch for entry in entries):
        for entry in entries:
            if entry.branch != branch or run.outcome(entry, stage) == "not_recommend":
                continue
            done.add(id(entry))
            if _decide(run, entry, recommended=True):
                break
    for entry in entries:
        if id(entry) not in done:
            _decide(run, entry, recommended=run.outcome(entry, stage) != "not_recommend")


def _decide(run, entry, *, recommended: bool) -> bool:
    """The city office's decision on one entry; False when the city had no place left for it."""
    application = entry.application
    office = run.cast.city_offices[application.institution.region_code[:4]]
    try:
        recommendation_decide(
            user=office,
            application=application,
            recommended=recommended,
            reason="" if recommended else "本地区另有更优项目（预演）。",
        )
        return True
    except ValidationError as error:
        if error.code != "quota_exceeded":
            raise
    recommendation_decide(
        user=office,
        application=application,
        recommended=False,
        reason="本市推荐名额已用完（预演）。",
    )
    return False
