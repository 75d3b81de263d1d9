"""Rehearsing the committee vote: the list approved as a whole, each application given the
highest tier its quota still allows (or approved), the others not awarded with a reason."""

from django.utils.translation import gettext_lazy as _

from .params import quota_for
from .services import APPROVE, committee_approve_list, committee_ranked

NAME = _("评审委员会表决")

# The status an application ends with when a stage gives it each adverse outcome.
ENDS = {"no_award": "rejected"}


def outcomes(stage: dict, program: dict) -> list[tuple[str, str]]:
    if stage["outcome"] == APPROVE:
        return [("award", _("表决通过")), ("no_award", _("表决不通过"))]
    return [("award", _("获奖")), ("no_award", _("未获奖"))]


def rehearse(run, stage: dict, entries) -> None:
    planned = {entry.application.pk: run.outcome(entry, stage) for entry in entries}
    ranked = list(committee_ranked(call=run.call))
    order = [t["key"] for t in sorted(run.program["tiers"], key=lambda t: -t["rank"])]
    given: dict[str, int] = {}
    choices, reasons = {}, {}
    for application in ranked:
        if planned.get(application.pk) == "no_award":
            choices[application.pk] = None
            reasons[application.pk] = "综合得分未达获奖标准（预演）。"
            continue
        if stage["outcome"] == "approve":
            choices[application.pk] = APPROVE
            continue
        tier = next(
            (t for t in order if (quota_for(stage, t) or len(ranked)) > given.get(t, 0)), None
        )
        choices[application.pk] = tier
        if tier is None:
            reasons[application.pk] = "各奖励等级名额已满（预演）。"
        else:
            given[tier] = given.get(tier, 0) + 1
    committee_approve_list(
        user=run.user_for(stage["role"]), call=run.call, choices=choices, reasons=reasons
    )
