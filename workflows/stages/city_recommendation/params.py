"""Parameters of the city recommendation stage and the quota they give each city."""

import re
from typing import Literal

from ...programs.types import Count, PositiveInt, Role, StageBase

CITY_PREFIX_RE = re.compile(r"^\d{4}$")


class CityRecommendationStage(StageBase):
    type: Literal["city_recommendation"]
    role: Role = "city_office"
    # A city office recommends its own region's applications.
    ROLE_MUST_HOLD = "workflows.recommend"
    # Places per city and call; 0 means no quota.
    quota_per_city: Count = 0
    # Per-city overrides keyed by the city's 4-digit region prefix, e.g. {"5201" = 3}.
    quotas: dict[str, PositiveInt] = {}

    def problems(self, program) -> list[tuple[str, str]]:
        return [
            (f"quotas.{prefix}", "must be a 4-digit region prefix, e.g. 5201")
            for prefix in self.quotas
            if not CITY_PREFIX_RE.match(prefix)
        ]


def quota_for(stage: dict, prefix: str) -> int | None:
    """The number of places the city with region `prefix` has per call; None when unlimited."""
    return stage["quotas"].get(prefix, stage["quota_per_city"]) or None


Params = CityRecommendationStage
