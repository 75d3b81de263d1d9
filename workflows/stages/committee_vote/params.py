"""Parameters of the committee vote stage and the quota they give each tier."""

PARAMS = {
    "role": (str, "award_committee"),
    # "tier": the committee gives each application a tier from the program's [[tiers]];
    # "approve": it approves or not, and the application keeps the tier it applied for.
    "outcome": ({"tier", "approve"}, "tier"),
    # Tier key -> the most applications of a call that may hold it, e.g. {gold = 1, silver = 3}.
    "quotas": (dict, {}),
}
REQUIRES = ("application",)


def quota_for(stage: dict, tier: str) -> int | None:
    """The number of places a tier has per call; None when unlimited."""
    return stage["quotas"].get(tier) or None


def stage_problems(stage: dict, content: dict) -> list[tuple[str, str]]:
    """(parameter, message) for what the generic parameter check cannot see."""
    problems = []
    tier_keys = {tier.get("key") for tier in content.get("tiers") or []}
    if stage.get("outcome", "tier") == "tier" and not tier_keys:
        problems.append(("outcome", "a committee that assigns tiers needs [[tiers]]"))
    quotas = stage.get("quotas", {})
    if not isinstance(quotas, dict):  # the generic parameter check reports it
        return problems
    for key, quota in quotas.items():
        if key not in tier_keys:
            problems.append((f"quotas.{key}", f"unknown tier; known: {sorted(tier_keys)}"))
        if not isinstance(quota, int) or isinstance(quota, bool) or quota <= 0:
            problems.append((f"quotas.{key}", "must be a positive integer"))
    return problems
