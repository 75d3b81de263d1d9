"""The fixed vocabulary of stage types. One module per type; every program using a type shares it.

A stage module declares:
- `PARAMS`: {name: (kind, default)}; kind is int, str or a set of allowed values; default None
  means the program file must give it.
- `REQUIRES`: stage types that must come earlier in the program's list.
- `REQUIRES` entries may be a tuple: any one of those stage types will do.
- `build(stage, next_node) -> (entry_node_name, {name: node})`: the viewflow nodes of the stage,
  wired to `next_node` (the next stage's entry), or to an end of its own when it is last.
- optionally `stage_problems(stage, content) -> [(parameter, message)]`: checks that need the
  rest of the program file (quotas naming tiers, for example).
"""

from . import (
    application,
    city_recommendation,
    committee_vote,
    decision,
    disbursement,
    expert_review,
    formal_review,
    leadership_meeting,
    public_notice,
)

STAGE_TYPES = {
    "application": application,
    "city_recommendation": city_recommendation,
    "formal_review": formal_review,
    "expert_review": expert_review,
    "committee_vote": committee_vote,
    "leadership_meeting": leadership_meeting,
    "public_notice": public_notice,
    "decision": decision,
    "disbursement": disbursement,
}
