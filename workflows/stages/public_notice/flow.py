"""await_notice (Handle: the officer publishes the list) -> notice_period (Timer) ->
close_notice -> check_pending_objections: held at await_objections until handled ->
check_objections: withdrawn (End) | next stage."""

from viewflow import this
from viewflow.workflow import flow

from ..base import application_of, next_or_end, status_in


def notice_end(activation):
    """The timer fires when the application's public notice period ends."""
    return application_of(activation).public_notice.ends_at


def notice_close(activation):
    from .services import application_notice_close

    application_notice_close(application=application_of(activation))


def objections_pending(activation) -> bool:
    from ...selectors import objections_pending_for

    return objections_pending_for(application_of(activation))


def build(stage: dict, next_node: str | None):
    nodes: dict = {}
    nodes["await_notice"] = flow.Handle().Next(this.notice_period)
    nodes["notice_period"] = flow.Timer(notice_end).Next(this.close_notice)
    nodes["close_notice"] = flow.Function(notice_close).Next(this.check_pending_objections)
    # Objections lodged in time but not yet handled hold the application here.
    nodes["check_pending_objections"] = (
        flow.If(objections_pending).Then(this.await_objections).Else(this.check_objections)
    )
    nodes["await_objections"] = flow.Handle().Next(this.check_objections)
    nodes["check_objections"] = (
        flow.If(status_in("withdrawn"))
        .Then(this.withdrawn)
        .Else(next_or_end(nodes, next_node, "noticed"))
    )
    nodes["withdrawn"] = flow.End()
    return "await_notice", nodes
