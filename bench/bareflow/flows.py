"""The tech-transfer grant's nodes as a bare viewflow 2.4 flow (`viewflow.workflow`): the same
human tasks, handles, timer, functions, gateways and ends as `TechTransferAgencyFlow`, in the
same order, with the same process lock. The decisions live in `process.data["status"]`, written
as viewflow's `UpdateProcessView` writes them (the process saved, then the task executed); the
node bodies do nothing else.

start -> formal_review -> check_formal_review: accepted -> leadership_review | correction
(applicant's task, with a deadline timer) -> formal_review | refused;
leadership_review -> check_leadership: approved -> await_notice | rejected;
await_notice (Handle) -> notice_period (Timer) -> close_notice (Function) ->
check_pending_objections -> check_objections -> await_decision (Handle) -> award_letter ->
payment -> paid.
"""

from datetime import timedelta

from django.utils import timezone
from viewflow import this
from viewflow.workflow import flow, lock


def _status_in(*statuses):
    def condition(activation) -> bool:
        return activation.process.data.get("status") in statuses

    return condition


def _process_start(activation, **data):
    activation.process.data = {"status": "submitted", **data}
    activation.process.save()
    return activation.process


def _notice_end(activation):
    return timezone.now() + timedelta(days=7)


def _correction_deadline(activation):
    return timezone.now() + timedelta(days=15)


def _notice_close(activation):
    activation.process.data["status"] = "notice_closed"
    activation.process.save()


def _correction_lapse(activation):
    activation.process.data["status"] = "lapsed"
    activation.process.save()


def _task_view(request, **kwargs):  # pragma: no cover - never served
    raise NotImplementedError


def _no_objections(activation) -> bool:
    return False


class BareGrantFlow(flow.Flow):
    """Tech-transfer grant, bare."""

    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(_process_start).Next(this.formal_review)
    formal_review = (
        flow.View(_task_view).Permission("workflows.formal_review").Next(this.check_formal_review)
    )
    check_formal_review = (
        flow.Switch()
        .Case(this.leadership_review, _status_in("accepted"))
        .Case(this.correction, _status_in("correction"))
        .Default(this.refused)
    )
    correction = (
        # The applicant's task: anyone may take it here (the product checks an object permission
        # on the institution, which a bare flow has no model for).
        flow.View(_task_view)
        .OnTimeout(_correction_deadline, this.correction_lapse)
        .Next(this.formal_review)
    )
    correction_lapse = flow.Function(_correction_lapse).Next(this.lapsed)
    leadership_review = (
        flow.View(_task_view).Permission("workflows.leadership_review").Next(this.check_leadership)
    )
    check_leadership = flow.If(_status_in("approved")).Then(this.await_notice).Else(this.rejected)
    await_notice = flow.Handle().Next(this.notice_period)
    notice_period = flow.Timer(_notice_end).Next(this.close_notice)
    close_notice = flow.Function(_notice_close).Next(this.check_pending_objections)
    check_pending_objections = (
        flow.If(_no_objections).Then(this.await_objections).Else(this.check_objections)
    )
    await_objections = flow.Handle().Next(this.check_objections)
    check_objections = (
        flow.If(_status_in("withdrawn")).Then(this.withdrawn).Else(this.await_decision)
    )
    await_decision = flow.Handle().Next(this.award_letter)
    award_letter = flow.View(_task_view).Permission("workflows.disburse").Next(this.payment)
    payment = flow.View(_task_view).Permission("workflows.disburse").Next(this.paid)
    paid = flow.End()
    refused = flow.End()
    lapsed = flow.End()
    rejected = flow.End()
    withdrawn = flow.End()
