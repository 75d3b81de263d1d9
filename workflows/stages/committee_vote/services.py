"""评审委员会表决: the committee gives each application on a call's ranked list its outcome (a
tier, or approve / not) and approves the list as a whole, within the per-tier quotas.

The reads here (the ranked list, places given per tier) serve the committee page and the quota
check, so both count the same way.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import Document
from documents.services import reason_length_check
from forms.validators import localised

from ...flows import nodes_named
from ...models import Application, Call
from ...permissions import ROLE_TASK_PERMISSION
from ...programs import program_get, program_stage
from ...services.advance import task_done
from ...services.audit import application_move, audit_write, official_text
from ...services.issuing import adverse_issue
from ...services.tasks import task_taken
from .params import quota_for

Status = Application.Status
NODE = "committee_vote"
# The committee's choice for an application when the stage's outcome is "approve".
APPROVE = "approve"
# Statuses of applications that hold the tier they were given (withdrawn ones gave it back).
HOLDING_TIER = (
    Status.APPROVED,
    Status.IN_NOTICE,
    Status.NOTICE_CLOSED,
    Status.DECIDED,
    Status.LETTER_ISSUED,
    Status.PAID,
)


def committee_program(*, call: Call, applications: list[Application]) -> dict:
    """The program rules the list is voted under: the version the first application on the list
    started under, or the program file as it is now when the list is empty."""
    if applications:
        return applications[0].program
    return program_get(call.program_slug).content


def committee_stage(program: dict) -> dict | None:
    """The program's committee_vote stage (None when the program has none)."""
    return program_stage(program, NODE)


def committee_ranked(*, call: Call) -> QuerySet[Application]:
    """The call's applications waiting for the committee: highest panel score first, then the
    earliest application; applications without a score come last."""
    if committee_stage(program_get(call.program_slug).content) is None:
        return Application.objects.none()
    waiting = Task.objects.filter(
        process__application__call=call,
        flow_task__in=nodes_named(call.program_slug, NODE),
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
    ).values("process_id")
    return (
        Application.objects.filter(call=call, process_id__in=waiting)
        .select_related("institution", "program_version", "call")
        .order_by(F("panel_score").desc(nulls_last=True), "pk")
    )


def tiers_given(*, call: Call, excluding=()) -> dict[str, int]:
    """{tier key: applications of the call holding that tier after the committee}."""
    counts: dict[str, int] = {}
    rows = (
        Application.objects.filter(call=call, status__in=HOLDING_TIER)
        .exclude(pk__in=[a.pk for a in excluding])
        .exclude(tier="")
        .values_list("tier", flat=True)
    )
    for tier in rows:
        counts[tier] = counts.get(tier, 0) + 1
    return counts


def _tier_of(application: Application, choice: str | None, outcome: str) -> str | None:
    """The tier the application will hold after the vote (None when not awarded)."""
    if choice is None:
        return None
    return application.tier if outcome == APPROVE else choice


def _list_problems(
    *,
    call: Call,
    applications: list[Application],
    program: dict,
    choices: dict,
    reasons: dict,
) -> list[str]:
    """Every reason to refuse the list, in list order, then the quotas."""
    problems = []
    stage = committee_stage(program)
    outcome = stage["outcome"]
    tiers = {tier["key"]: tier for tier in program["tiers"]}
    allowed = {APPROVE} if outcome == APPROVE else set(tiers)
    waiting = {a.pk for a in applications}
    if set(choices) - waiting:
        problems.append(_("名单已变化（有申报已办理或新进入表决），请刷新页面后重新表决。"))
    for application in applications:
        name = application.institution.name
        if application.pk not in choices:
            problems.append(_("请为每一项申报选择表决结果：%(name)s。") % {"name": name})
            continue
        choice = choices[application.pk]
        try:
            reason_length_check(reasons.get(application.pk) or "")
        except ValidationError as error:
            problems.extend(f"{message}（{name}）" for message in error.messages)
        if choice is None:
            if not (reasons.get(application.pk) or "").strip():
                if outcome == APPROVE:
                    message = _("不通过的申报须写明理由：%(name)s。")
                else:
                    message = _("未获奖的申报须写明理由：%(name)s。")
                problems.append(message % {"name": name})
        elif choice not in allowed:
            problems.append(
                _("“%(tier)s”不是本项目的奖励等级：%(name)s。") % {"tier": choice, "name": name}
            )
    given = tiers_given(call=call, excluding=applications)
    chosen: dict[str, int] = {}
    for application in applications:
        if application.pk in choices and choices[application.pk] in allowed | {None}:
            tier = _tier_of(application, choices[application.pk], outcome)
            if tier:
                chosen[tier] = chosen.get(tier, 0) + 1
    for key, tier in tiers.items():
        quota = quota_for(stage, key)
        if quota is None or not chosen.get(key):
            continue
        if given.get(key, 0) + chosen[key] > quota:
            problems.append(
                _(
                    "“%(tier)s”的名额为%(quota)d个，本批次已授予%(given)d个，"
                    "本次选择了%(chosen)d个，超出名额。"
                )
                % {
                    "tier": localised(tier),
                    "quota": quota,
                    "given": given.get(key, 0),
                    "chosen": chosen[key],
                }
            )
    return problems


def _not_given(program: dict, outcome: str) -> str:
    """What a committee's "no" withholds, as its refusal words it (不予…): approval, or what the
    program's decision gives (a recognition, a paid or unpaid commendation, a grant)."""
    if outcome == APPROVE:
        return official_text("通过")
    decision = program_stage(program, "decision") or {}
    document = decision.get("document")
    if document == Document.Kind.RECOGNITION_DECISION:
        return official_text("认定")
    if document == Document.Kind.FUNDING_DECISION:
        return official_text("资助")
    return official_text("授予奖励" if program_stage(program, "disbursement") else "表彰")


def committee_approve_list(
    *, user, call: Call, choices: dict[int, str | None], reasons: dict[int, str]
) -> list[Application]:
    """Approve the call's ranked list as a whole: each application gets its tier (or is approved)
    and moves to 审议通过, or is not awarded (with a reason) and moves to 审议未通过.

    `choices` maps every waiting application's pk to a tier key ("approve" when the stage's
    outcome is "approve"), or to None for not awarded. Every row is checked first; when anything
    is wrong nothing changes."""
    reasons = {pk: (text or "").strip() for pk, text in reasons.items()}
    with transaction.atomic():
        # One committee decision per call at a time: the quota count and the list stay as read.
        call = Call.objects.select_for_update().get(pk=call.pk)
        applications = list(committee_ranked(call=call))
        program = committee_program(call=call, applications=applications)
        stage = committee_stage(program)
        if stage is None or not user.has_perm(ROLE_TASK_PERMISSION[stage["role"]]):
            raise PermissionDenied
        if not applications:
            raise ValidationError(_("该批次没有待表决的申报。"), code="nothing_to_vote")
        problems = _list_problems(
            call=call,
            applications=applications,
            program=program,
            choices=choices,
            reasons=reasons,
        )
        if problems:
            raise ValidationError(problems, code="list_refused")
        outcome = stage["outcome"]
        for application in applications:
            choice = choices[application.pk]
            with task_taken(user, application, NODE) as activation:
                if choice is not None and outcome != APPROVE and application.tier != choice:
                    _tier_assign(user=user, application=application, tier=choice)
                application_move(
                    application=application,
                    to=Status.APPROVED if choice is not None else Status.REJECTED,
                    actor=user,
                    action="committee_award" if choice is not None else "committee_not_award",
                    reason=reasons.get(application.pk, ""),
                )
                if choice is None:
                    adverse_issue(
                        kind=Document.Kind.NOT_AWARDED_DECISION,
                        application=application,
                        user=user,
                        reasons=reasons.get(application.pk, ""),
                        committee=stage.get("name") or official_text("评审委员会"),
                        outcome_word=_not_given(program, outcome),
                    )
                task_done(activation)
        audit_write(
            actor=user,
            action="committee_list_approve",
            call=call,
            data={
                "outcome": outcome,
                "choices": {str(a.pk): choices[a.pk] for a in applications},
            },
        )
    return applications


def _tier_assign(*, user, application: Application, tier: str) -> None:
    previous = application.tier
    application.tier = tier
    try:
        with transaction.atomic():
            application.save(update_fields=["tier", "updated_at"])
    except IntegrityError as error:
        raise ValidationError(
            _("%(name)s在本批次已有“%(tier)s”级别的申报，同一单位不能重复获得同一级别。")
            % {"name": application.institution.name, "tier": application.tier_label},
            code="duplicate_tier",
        ) from error
    audit_write(
        actor=user,
        action="tier_assign",
        application=application,
        data={"tier": tier, "previous": previous},
    )
