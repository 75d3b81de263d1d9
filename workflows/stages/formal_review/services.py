"""The formal reviewer's conclusion, and the lapse of a correction period."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from documents.models import Document
from documents.services import reason_length_check

from ... import calendar
from ...facts import fields_stored
from ...models import Application
from ...services.advance import task_done
from ...services.audit import application_move, official_text
from ...services.issuing import adverse_issue, document_context, issue
from ...services.tasks import task_taken
from ...wording import phrase
from ..base import stage_of_node

Status = Application.Status
NODE = "formal_review"


def formal_review_complete(
    *, user, application: Application, outcome: str, reason: str = ""
) -> Application:
    """受理 (accept), 补正 (return for correction with a deadline) or 不予受理 (refuse)."""
    with task_taken(user, application, NODE) as activation:
        reason = reason_length_check(reason)
        if outcome in ("correction", "refuse") and not reason:
            raise ValidationError(_("退回补正或不予受理时必须写明理由。"), code="reason_required")
        if outcome not in ("accept", "correction", "refuse"):
            raise ValidationError(_("请选择审查结论。"), code="outcome")
        stage = stage_of_node(application, activation.task.flow_task)
        if outcome == "accept":
            application_move(
                application=application,
                to=Status.ACCEPTED,
                actor=user,
                action="accept",
                reason=reason,
            )
            issue(
                kind=Document.Kind.ACCEPTANCE_NOTICE,
                application=application,
                call=application.call,
                user=user,
                context=document_context(application, application.call),
            )
        elif outcome == "correction":
            now = timezone.now()
            deadline = calendar.working_days_until(now, stage["correction_working_days"])
            application.correction_reason = reason
            application.correction_deadline = deadline.at
            application.correction_started_at = now
            application.correction_days = stage["correction_working_days"]
            application.correction_deadline_provisional = deadline.provisional
            application.correction_snapshot = {"fields": fields_stored(application)}
            application_move(
                application=application,
                to=Status.CORRECTION,
                actor=user,
                action="correction",
                reason=reason,
                also_saved=(
                    "correction_reason",
                    "correction_deadline",
                    "correction_started_at",
                    "correction_days",
                    "correction_deadline_provisional",
                    "correction_snapshot",
                ),
            )
            adverse_issue(
                kind=Document.Kind.CORRECTION_NOTICE,
                application=application,
                user=user,
                reasons=reason,
                deadline=deadline.at,
                days=stage["correction_working_days"],
                provisional_reason=deadline.reason,
            )
        else:
            application_move(
                application=application,
                to=Status.REFUSED,
                actor=user,
                action="refuse",
                reason=reason,
            )
            context = document_context(application, application.call)
            context["reasons"] = reason
            issue(
                kind=Document.Kind.REFUSAL_DECISION,
                application=application,
                call=application.call,
                user=user,
                context=context,
            )
        task_done(activation)
    return application


def application_correction_lapse(*, application: Application) -> None:
    """Called by the flow when the correction deadline passes without a resubmission."""
    if application.status == Status.CORRECTION:
        reason = phrase(gettext_noop("逾期未提交补正材料，视为放弃申报。"))
        application_move(
            application=application,
            to=Status.LAPSED,
            actor=None,
            action="correction_lapse",
            reason=reason,
        )
        adverse_issue(
            kind=Document.Kind.LAPSE_NOTICE,
            application=application,
            user=None,
            reasons=official_text(reason),
            deadline=application.correction_deadline,
        )
