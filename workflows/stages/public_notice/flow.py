"""await_notice (Handle: the officer publishes the list) -> notice_period (Timer) ->
close_notice -> check_pending_objections: held at await_objections until handled ->
check_objections: withdrawn (End) | next stage."""

from django.utils.translation import gettext_lazy as _
from viewflow.workflow import flow

from ..base import Wiring, application_of, runs_on_application, status_in

RUN_PUBLIC_NOTICE = "workflows.run_public_notice"


def notice_end(activation):
    """The timer fires when the application's public notice period ends."""
    return application_of(activation).public_notice.ends_at


@runs_on_application
def notice_close(activation):
    from .services import application_notice_close

    application_notice_close(application=application_of(activation))


def objections_pending(activation) -> bool:
    from ...selectors import objections_pending_for

    return objections_pending_for(application_of(activation))


def build(stage: dict, next_node: str | None):
    wiring = Wiring(stage, next_node)
    wiring.add(
        "await_notice",
        flow.Handle().Annotation(title=_("发布公示")).Next(wiring.to("notice_period")),
        work_for=RUN_PUBLIC_NOTICE,
    )
    wiring.add("notice_period", flow.Timer(notice_end).Next(wiring.to("close_notice")))
    wiring.add(
        "close_notice", flow.Function(notice_close).Next(wiring.to("check_pending_objections"))
    )
    # Objections lodged in time but not yet handled hold the application here.
    wiring.add(
        "check_pending_objections",
        flow.If(objections_pending)
        .Then(wiring.to("await_objections"))
        .Else(wiring.to("check_objections")),
    )
    wiring.add(
        "await_objections",
        flow.Handle().Annotation(title=_("处理异议")).Next(wiring.to("check_objections")),
        work_for=RUN_PUBLIC_NOTICE,
    )
    wiring.add(
        "check_objections",
        flow.If(status_in("withdrawn")).Then(wiring.to("withdrawn")).Else(wiring.exit("noticed")),
    )
    wiring.add("withdrawn", flow.End())
    return wiring.built("await_notice")
