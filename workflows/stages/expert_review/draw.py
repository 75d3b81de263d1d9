"""Drawing experts at random, on the record: each draw keeps the whole pool, every expert left
out with the reason, the candidates, the seed and the order drawn (`PanelDraw`), so that staff
and inspectors can see it and replay it from the panel page.

The draw is `random.Random(seed).sample(candidates, n)` with the candidates in ascending id and a
fresh 64-bit seed from the operating system's random source: replaying it with the recorded seed
gives the same experts in the same order.
"""

import random
import secrets
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ...models import Application, Expert, ExpertRelation, PanelDraw, PanelSeat

Seat = PanelSeat.Status
# Why an expert of the pool may not sit on a panel, in the order they are checked.
REASONS = {
    "inactive": _("不在库（已停用）"),
    "employer": _("工作单位为申报单位"),
    "member": _("为申报单位的经办人"),
    "relation": _("已声明与申报单位存在利害关系"),
    "recused": _("曾对本申报申请回避"),
    "late": _("曾因逾期未评审被替换"),
    "seated": _("已在本评审组"),
}


@dataclass
class Screening:
    """The pool for one application's round: all experts, those left out and why, the rest."""

    pool: list[int]
    excluded: list[dict]
    candidates: list[int]


def pool_screen(*, application: Application, stage_key: str) -> Screening:
    """Every expert of the pool, each either a candidate or left out with a reason: inactive,
    employed by the applicant or acting for it, a declared relation with it, or a seat on this
    round's panel before (recused, replaced for lateness, or seated)."""
    institution_id = application.institution_id
    experts = list(Expert.objects.select_related("user").order_by("pk"))
    members = set(application.institution.members.values_list("pk", flat=True))
    relations: dict[int, list[str]] = {}
    for expert_id, kind in ExpertRelation.objects.filter(institution_id=institution_id).values_list(
        "expert_id", "kind"
    ):
        relations.setdefault(expert_id, []).append(str(ExpertRelation.Kind(kind).label))
    seats = dict(application.seats.filter(stage_key=stage_key).values_list("expert_id", "status"))
    excluded, candidates = [], []
    for expert in experts:
        reason, detail = _reason(expert, institution_id, members, relations, seats)
        if reason is None:
            candidates.append(expert.pk)
        else:
            excluded.append({"expert": expert.pk, "reason": reason, "detail": detail})
    return Screening([e.pk for e in experts], excluded, candidates)


def _reason(expert, institution_id, members, relations, seats) -> tuple[str | None, str]:
    if not (expert.active and expert.user.is_active):
        return "inactive", ""
    if expert.employer_id == institution_id:
        return "employer", ""
    if expert.user_id in members:
        return "member", ""
    if expert.pk in relations:
        return "relation", "、".join(relations[expert.pk])
    status = seats.get(expert.pk)
    if status == Seat.RECUSED:
        return "recused", ""
    if status == Seat.REPLACED:
        return "late", ""
    if status is not None:
        return "seated", ""
    return None, ""


def experts_draw(
    *,
    application: Application,
    stage_key: str,
    size: int,
    kind: str,
    actor=None,
    replaces: PanelSeat | None = None,
) -> tuple[list[Expert], PanelDraw]:
    """`size` experts drawn at random from the candidates (fewer when they are short), and the
    record of the draw."""
    screening = pool_screen(application=application, stage_key=stage_key)
    seed = secrets.token_hex(8)
    drawn = random.Random(seed).sample(screening.candidates, min(size, len(screening.candidates)))
    record = PanelDraw.objects.create(
        application=application,
        stage_key=stage_key,
        kind=kind,
        size=size,
        seed=seed,
        pool=screening.pool,
        excluded=screening.excluded,
        candidates=screening.candidates,
        drawn=drawn,
        replaces=replaces,
        actor=actor if actor is not None and actor.is_authenticated else None,
    )
    by_pk = Expert.objects.select_related("user").in_bulk(drawn)
    return [by_pk[pk] for pk in drawn], record


def draw_replay(record: PanelDraw) -> list[int]:
    """The experts the recorded seed draws from the recorded candidates: the record holds when
    this equals `record.drawn`."""
    return random.Random(record.seed).sample(list(record.candidates), len(record.drawn))


@dataclass
class DrawView:
    """A draw as the panel page shows it: names, reasons, and whether the replay agrees."""

    record: PanelDraw
    drawn: list[Expert]
    excluded: list[tuple[Expert, str]]
    candidates: list[Expert]
    replayed: bool


def draws_of(application: Application, stage_key: str) -> list[DrawView]:
    records = list(application.draws.filter(stage_key=stage_key).select_related("actor"))
    ids = {pk for r in records for pk in r.pool}
    experts = Expert.objects.in_bulk(ids)
    views = []
    for record in records:
        views.append(
            DrawView(
                record=record,
                drawn=[experts[pk] for pk in record.drawn if pk in experts],
                excluded=[
                    (experts[row["expert"]], _reason_text(row))
                    for row in record.excluded
                    if row["expert"] in experts
                ],
                candidates=[experts[pk] for pk in record.candidates if pk in experts],
                replayed=draw_replay(record) == list(record.drawn),
            )
        )
    return views


def _reason_text(row: dict) -> str:
    reason = str(REASONS[row["reason"]])
    return f"{reason}：{row['detail']}" if row["detail"] else reason
