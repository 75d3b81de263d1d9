"""Rehearsing the public notice: the list published; an organisation objects to some entries
and the officer upholds or dismisses each; the period ends (the timer fires)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ...demo import pdf_upload
from .services import objection_handle, objection_lodge, public_notice_publish

NAME = pgettext_lazy("stage", "公示")

# The status an application ends with when a stage gives it each adverse outcome.
ENDS = {"upheld": "withdrawn"}


def outcomes(stage: dict, program: dict) -> list[tuple[str, str]]:
    return [("pass", _("无异议")), ("dismissed", _("异议不成立")), ("upheld", _("异议成立"))]


def rehearse(run, stage: dict, entries) -> None:
    from ...rehearsal import timers_fire

    officer = run.user_for(stage["role"])
    public_notice_publish(user=officer, call=run.call)
    for entry in entries:
        outcome = run.outcome(entry, stage)
        if outcome not in ("dismissed", "upheld"):
            continue
        objection = objection_lodge(
            user=run.cast.applicant,
            application=entry.application,
            capacity="organisation",
            organisation_name="贵州某科技有限公司（预演）",
            phone="0851-85551234",
            statement="申报材料与事实不符（预演）。",
            evidence=pdf_upload("evidence.pdf"),
        )
        objection_handle(
            user=officer,
            objection=objection,
            upheld=outcome == "upheld",
            reason="经核实，" + ("异议成立。" if outcome == "upheld" else "异议不成立。"),
        )
    # The period ends: what the timer does when its time comes (the notice keeps its dates).
    timers_fire(run.call)
