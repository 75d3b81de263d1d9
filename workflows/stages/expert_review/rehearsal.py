"""Rehearsing an expert round: every expert of each panel declares and scores (one recuses
first on the recusal branch, and a replacement is drawn); the applications meant to fall short
score low; a round that passes only its best N is closed by the panel manager."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from ...models import PanelSeat
from ...programs import stage_key
from .services import ROUND_NODE, round_close, seat_declare, seat_score, stage_rules

NAME = _("专家评审")

# The status an application ends with when a stage gives it each adverse outcome.
ENDS = {"not_advanced": "not_advanced"}


def outcomes(stage: dict, program: dict) -> list[tuple[str, str]]:
    found = [("score", _("评分")), ("recusal", _("专家回避后补抽"))]
    if stage.get("advance_top"):
        found.append(("not_advanced", _("未进入下一环节")))
    return found


def rehearse(run, stage: dict, entries) -> None:
    key = stage_key(stage)
    for level, entry in enumerate(entries):
        outcome = run.outcome(entry, stage)
        low = outcome == "not_advanced"
        _panel_score(
            entry.application,
            key,
            level=0 if low else len(entries) - level,
            low=low,
            recuse=outcome == "recusal",
        )
    if stage.get("advance_top") and run.waiting(stage, ROUND_NODE):
        round_close(user=run.user_for(stage["role"]), call=run.call, round_key=key)


def _panel_score(application, key: str, *, level: int, low: bool, recuse: bool) -> None:
    rubric = stage_rules(application, key)["rubric"]
    while True:
        seat = (
            application.seats.filter(
                stage_key=key, status__in=[PanelSeat.Status.DRAWN, PanelSeat.Status.DECLARED]
            )
            .select_related("expert__user")
            .order_by("pk")
            .first()
        )
        if seat is None:
            return
        user = seat.expert.user
        if seat.status == PanelSeat.Status.DRAWN:
            if recuse:
                recuse = False
                seat_declare(user=user, seat=seat, conflict=True, reason="曾与该单位合作（预演）。")
                continue
            seat = seat_declare(user=user, seat=seat, conflict=False)
        share = Decimal(30 + seat.pk % 5) / 100 if low else Decimal(min(95, 60 + 3 * level)) / 100
        points = {
            c["key"]: (Decimal(str(c["max_points"])) * share).quantize(Decimal("0.1"))
            for c in rubric
        }
        seat_score(user=user, seat=seat, points=points, comment="材料翔实（预演）。")
