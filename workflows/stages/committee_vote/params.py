"""Parameters of the committee vote stage and the quota they give each tier."""

from typing import Literal

from ...programs.types import PositiveInt, Role, StageBase


class CommitteeVoteStage(StageBase):
    type: Literal["committee_vote"]
    role: Role = "award_committee"
    # "tier": the committee gives each application a tier from the program's [[tiers]];
    # "approve": it approves or not, and the application keeps the tier it applied for.
    outcome: Literal["tier", "approve"] = "tier"
    # Tier key -> the most applications of a call that may hold it, e.g. {gold = 1, silver = 3}.
    quotas: dict[str, PositiveInt] = {}

    PROVIDES = ("list_decided",)

    def problems(self, program) -> list[tuple[str, str]]:
        problems = []
        if self.role == "city_office":
            # A city office acts for its own region; the vote decides the whole call's list.
            problems.append(
                ("role", "a city office cannot vote on a whole call; choose a provincial role")
            )
        tier_keys = {tier.key for tier in program.tiers}
        if self.outcome == "tier" and not tier_keys:
            problems.append(("outcome", "a committee that assigns tiers needs [[tiers]]"))
        for key in self.quotas:
            if key not in tier_keys:
                problems.append((f"quotas.{key}", f"unknown tier; known: {sorted(tier_keys)}"))
        return problems


def quota_for(stage: dict, tier: str) -> int | None:
    """The number of places a tier has per call; None when unlimited."""
    return stage["quotas"].get(tier) or None


Params = CommitteeVoteStage
