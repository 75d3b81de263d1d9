"""Parameters of the city recommendation stage and the quota they give each city."""

import re

PARAMS = {
    "role": (str, "city_office"),
    # Places per city and call; 0 means no quota.
    "quota_per_city": (int, 0),
    # Per-city overrides keyed by the city's 4-digit region prefix, e.g. {"5201" = 3}.
    "quotas": (dict, {}),
}
REQUIRES = ("application",)

CITY_PREFIX_RE = re.compile(r"^\d{4}$")


def quota_for(stage: dict, prefix: str) -> int | None:
    """The number of places the city with region `prefix` has per call; None when unlimited."""
    return stage["quotas"].get(prefix, stage["quota_per_city"]) or None


def stage_problems(stage: dict, content: dict) -> list[tuple[str, str]]:
    """(parameter, message) for what the generic parameter check cannot see."""
    problems = []
    quotas = stage.get("quotas", {})
    if not isinstance(quotas, dict):  # the generic parameter check reports it
        return problems
    for prefix, quota in quotas.items():
        if not CITY_PREFIX_RE.match(prefix):
            problems.append((f"quotas.{prefix}", "must be a 4-digit region prefix, e.g. 5201"))
        if not isinstance(quota, int) or isinstance(quota, bool) or quota <= 0:
            problems.append((f"quotas.{prefix}", "must be a positive integer"))
    return problems
