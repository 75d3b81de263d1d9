"""Rehearsing the disbursement: finance issues each award letter and records the payment."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .services import award_letter_issue, payment_record

NAME = pgettext_lazy("stage", "拨付")

# The status an application ends with when a stage gives it each adverse outcome.
ENDS: dict = {}


def outcomes(stage: dict, program: dict) -> list[tuple[str, str]]:
    return [("pay", _("拨付"))]


def rehearse(run, stage: dict, entries) -> None:
    for entry in entries:
        application = entry.application
        officer = run.user_for(stage["role"], application)
        award_letter_issue(user=officer, application=application)
        payment_record(
            user=officer,
            application=application,
            voucher_number=f"YY{run.call.pk:04d}{application.pk:06d}",
            paid_on=timezone.localdate(),
        )
