"""推荐: the city office's decision on an application of its region, within the city's quota.

The reads here (waiting list, places used) serve the recommendation pages and the quota check,
so both count the same way.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import Document
from documents.services import reason_length_check

from ...flows import local_name
from ...models import Application, Call, OfficeRegion
from ...selectors import office_region_of, tasks_actionable_by
from ...services.advance import task_done
from ...services.audit import application_move
from ...services.issuing import adverse_issue
from ...services.tasks import task_taken
from .params import quota_for

Status = Application.Status
NODE = "recommendation"


def city_prefix(application: Application) -> str:
    """The city an application belongs to: the first 4 digits of its institution's region."""
    return application.institution.region_code[:4]


def recommendation_quota(*, application: Application) -> int | None:
    """Places per call for the application's city under its program version; None: no quota."""
    stage = application.program_version.stage("city_recommendation")
    return quota_for(stage, city_prefix(application))


def recommendations_used(*, call: Call, prefix: str) -> int:
    """Applications of the call from the city that were recommended (whatever happened next)."""
    return (
        Application.objects.filter(
            call=call,
            institution__region_code__startswith=prefix,
            recommended_at__isnull=False,
        )
        .exclude(status=Status.NOT_RECOMMENDED)
        .count()
    )


@dataclass
class CallWaiting:
    """One call's applications waiting for the city office, with the places used and granted."""

    call: Call
    used: int
    quota: int | None
    applications: list[Application] = field(default_factory=list)


def recommendations_waiting(*, user) -> list[CallWaiting]:
    """The city office's applications waiting for recommendation, grouped by call (newest call
    first). Visibility is the inbox's rule: only the office's own region."""
    region = office_region_of(user)
    if region is None:
        return []
    groups: dict[int, CallWaiting] = {}
    for task in tasks_actionable_by(user):
        if task.flow_task is None or local_name(task.flow_task) != NODE:
            continue
        application = task.process.application
        group = groups.get(application.call_id)
        if group is None:
            group = groups[application.call_id] = CallWaiting(
                call=application.call,
                used=recommendations_used(call=application.call, prefix=region.prefix),
                quota=recommendation_quota(application=application),
            )
        group.applications.append(application)
    return sorted(groups.values(), key=lambda g: g.call.opens_at, reverse=True)


def _require_own_region(user, application: Application) -> OfficeRegion:
    region = office_region_of(user)
    if region is None or not application.institution.region_code.startswith(region.prefix):
        raise PermissionDenied
    return region


def recommendation_decide(
    *, user, application: Application, recommended: bool, reason: str
) -> Application:
    """Recommend the application (within the city's quota) or not (with a reason)."""
    region = _require_own_region(user, application)
    reason = reason_length_check(reason)
    if not recommended and not reason:
        raise ValidationError(_("不予推荐时必须写明理由。"), code="reason_required")
    with task_taken(user, application, NODE) as activation:
        # Every recommendation of the call waits here for the one before it, so two offices'
        # clerks cannot both take the last place.
        call = Call.objects.select_for_update().get(pk=application.call_id)
        if recommended:
            quota = recommendation_quota(application=application)
            used = recommendations_used(call=call, prefix=city_prefix(application))
            if quota is not None and used >= quota:
                raise ValidationError(
                    _(
                        "%(city)s在本批次的推荐名额为%(quota)d个，已推荐%(used)d个，"
                        "名额已用完，不能再推荐。"
                    )
                    % {"city": region.name, "quota": quota, "used": used},
                    code="quota_exceeded",
                )
        application.recommended_by = user
        application.recommended_at = timezone.now()
        application.recommendation_reason = reason
        application.save(
            update_fields=["recommended_by", "recommended_at", "recommendation_reason"]
        )
        application_move(
            application=application,
            to=Status.RECOMMENDED if recommended else Status.NOT_RECOMMENDED,
            actor=user,
            action="recommend" if recommended else "not_recommend",
            reason=reason,
        )
        if not recommended:
            adverse_issue(
                kind=Document.Kind.NOT_RECOMMENDED_NOTICE,
                application=application,
                user=user,
                reasons=reason,
                office=region.name,
            )
        task_done(activation)
    return application


def recommendation_waiting_for(*, user, application: Application) -> bool:
    """Whether the application's recommendation task waits for this city office."""
    if application.process_id is None:
        return False
    tasks = tasks_actionable_by(user).filter(process_id=application.process_id)
    return any(task.flow_task is not None and local_name(task.flow_task) == NODE for task in tasks)


def recommendation_places(*, application: Application) -> tuple[int, int | None] | None:
    """(places used, quota) of the application's city in its call; None when its program has no
    recommendation stage."""
    if application.program_version.stage("city_recommendation") is None:
        return None
    used = recommendations_used(call=application.call, prefix=city_prefix(application))
    return used, recommendation_quota(application=application)
