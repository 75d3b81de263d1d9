"""Rehearsing the city recommendation: the office of each applicant's city recommends it, or
not, with a reason; a city whose places are used up declines the rest."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .services import recommendation_decide

NAME = _("市州推荐")

# The status an application ends with when a stage gives it each adverse outcome.
ENDS = {"not_recommend": "not_recommended"}


def outcomes(stage: dict, program: dict) -> list[tuple[str, str]]:
    return [("recommend", "推荐"), ("not_recommend", "不予推荐")]


def rehearse(run, stage: dict, entries) -> None:
    for entry in entries:
        application = entry.application
        office = run.cast.city_offices[application.institution.region_code[:4]]
        recommended = run.outcome(entry, stage) != "not_recommend"
        try:
            recommendation_decide(
                user=office,
                application=application,
                recommended=recommended,
                reason="" if recommended else "本地区另有更优项目（预演）。",
            )
        except ValidationError as error:
            if error.code != "quota_exceeded":
                raise
            recommendation_decide(
                user=office,
                application=application,
                recommended=False,
                reason="本市推荐名额已用完（预演）。",
            )
