"""The leadership meeting's decisions."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from documents.models import Document
from documents.services import reason_length_check

from ...models import Application
from ...services.advance import task_done
from ...services.audit import application_move, official_text
from ...services.issuing import adverse_issue
from ...services.tasks import task_taken
from ..base import stage_of_node

Status = Application.Status
NODE = "leadership_review"


def leadership_decide(*, user, decisions: list[tuple[Application, bool, str]]) -> list[Application]:
    """Approve or reject each listed application (one, several, or a call's whole list)."""
    done = []
    with transaction.atomic():
        for application, approved, reason in decisions:
            with task_taken(user, application, NODE) as activation:
                reason_length_check(reason)
                if not approved and not reason.strip():
                    raise ValidationError(
                        _("不通过的申报须写明理由：%(name)s。")
                        % {"name": application.institution.name},
                        code="reason_required",
                    )
                application_move(
                    application=application,
                    to=Status.APPROVED if approved else Status.REJECTED,
                    actor=user,
                    action="leadership_approve" if approved else "leadership_reject",
                    reason=reason.strip(),
                )
                if not approved:
                    stage = stage_of_node(application, activation.task.flow_task)
                    adverse_issue(
                        kind=Document.Kind.REJECTION_DECISION,
                        application=application,
                        user=user,
                        reasons=reason.strip(),
                        meeting=stage.get("name") or official_text("局务会"),
                    )
                task_done(activation)
            done.append(application)
    return done
