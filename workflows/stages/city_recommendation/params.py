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
        """Each quota's key is a city of the province (its 4-digit prefix, 5201 for 贵阳市) that
        the program admits (its eligibility's `region_prefix`)."""
        from forms.regions import region_names

        cities = {code[:4] for code in region_names() if code.endswith("00")}
        admitted = program.eligibility.region_prefix or ""
        problems = []
        for prefix in self.quotas:
            if not CITY_PREFIX_RE.match(prefix):
                problems.append((f"quotas.{prefix}", "must be a 4-digit region prefix, e.g. 5201"))
            elif prefix not in cities:
                problems.append((f"quotas.{prefix}", "no city of Guizhou has this prefix"))
            elif not (prefix.startswith(admitted) or admitted.startswith(prefix)):
                problems.append(
                    (f"quotas.{prefix}", f"outside the program's region_prefix {admitted!r}")
                )
        return problems


def quota_for(stage: dict, prefix: str) -> int | None:
    """The number of places the city with region `prefix` has per call; None when unlimited."""
    return stage["quotas"].get(prefix, stage["quota_per_city"]) or None


Params = CityRecommendationStage
