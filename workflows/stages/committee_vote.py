"""评审委员会表决: the award committee sets an outcome (a tier, or approve / not) for each
application on the ranked list and approves the list as a whole, within per-tier quotas."""

from viewflow import this
from viewflow.workflow import flow

from ..permissions import ROLE_TASK_PERMISSION
from .base import next_or_end, status_in, task_view

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


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["committee_vote"] = (
        flow.View(task_view)
        .Permission(ROLE_TASK_PERMISSION[stage["role"]])
        .Next(this.check_committee)
    )
    nodes["check_committee"] = (
        flow.If(status_in("approved"))
        .Then(next_or_end(nodes, next_node, "awarded"))
        .Else(this.not_awarded)
    )
    nodes["not_awarded"] = flow.End()
    return "committee_vote", nodes
