"""Rehearsing the formal review: accept; return for correction, corrected and accepted; refuse;
return for correction and let the deadline pass."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from ... import services
from ...demo import pdf_upload
from ...services.notifications import reminders_send
from .services import formal_review_complete

NAME = _("形式审查")

# The status an application ends with when a stage gives it each adverse outcome.
ENDS = {"refuse": "refused", "lapse": "lapsed"}


def outcomes(stage: dict, program: dict) -> list[tuple[str, str]]:
    return [
        ("accept", _("受理")),
        ("correction", _("退回补正后受理")),
        ("refuse", _("不予受理")),
        ("lapse", _("逾期未补正")),
    ]


def rehearse(run, stage: dict, entries) -> None:
    from ...rehearsal import timers_fire

    lapsing = []
    for entry in entries:
        application = entry.application
        reviewer = run.user_for(stage["role"], application)
        outcome = run.outcome(entry, stage)
        if outcome == "refuse":
            formal_review_complete(
                user=reviewer,
                application=application,
                outcome="refuse",
                reason="申报材料不符合本项目受理条件（预演）。",
            )
            continue
        if outcome in ("correction", "lapse"):
            formal_review_complete(
                user=reviewer,
                application=application,
                outcome="correction",
                reason="材料扫描件不清晰，请重新上传（预演）。",
            )
            if outcome == "lapse":
                lapsing.append(application)
                continue
            first = run.program["attachments"][0]["key"] if run.program["attachments"] else None
            if first:
                services.attachment_add(
                    user=run.cast.applicant,
                    application=application,
                    kind=first,
                    upload=pdf_upload("corrected.pdf"),
                )
            services.application_submit(user=run.cast.applicant, application=application)
        formal_review_complete(user=reviewer, application=application, outcome="accept")
    if lapsing:
        # On the deadline's last day the applicant is reminded (what cron's sweep does then);
        # then the deadline passes: what the timer does when its time comes.
        last_day = min(application.correction_deadline for application in lapsing)
        reminders_send(now=last_day - timedelta(hours=1))
        timers_fire(run.call, process__application__in=lapsing)
