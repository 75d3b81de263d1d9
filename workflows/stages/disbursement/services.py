"""The award letter and the payment: the amount under the program's rules, from the call's
budget (its row locked), once per designation."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.amounts import amount_in_words
from documents.models import Document
from documents.prepared import Prepared

from ... import selectors
from ...amounts import award_figure, award_label_into
from ...models import Application, Call, Payment
from ...services.advance import task_done
from ...services.audit import application_move, audit_write
from ...services.issuing import document_context, issue
from ...services.tasks import task_taken

Status = Application.Status


def award_letter_issue(*, user, application: Application) -> Document:
    with task_taken(user, application, "award_letter") as activation:
        award = award_figure(application=application)
        amount, lower = award.amount, award.previously_paid
        context = document_context(application, application.call)
        if award.label:
            award_label_into(context, application, award.label)
        decision = selectors.call_decision(application.call)
        context.update(
            amount=amount,
            amount_words=amount_in_words(amount),
            tier_amount=award.full,
            amount_basis=award.basis,
            previously_paid=lower or None,
            decision_number=decision.number if decision else "",
            decision_kind=decision.kind if decision else "",
        )
        application.award_amount = amount  # saved with the move below
        letter = issue(
            kind=Document.Kind.AWARD_LETTER,
            application=application,
            call=application.call,
            user=user,
            context=context,
        )
        application_move(
            application=application,
            to=Status.LETTER_ISSUED,
            actor=user,
            action="award_letter",
            also_saved=("award_amount",),
        )
        task_done(activation)
    return letter


def _call_for_payment(call_id: int, application_id: int, program_slug: str, voucher_number: str):
    """The call's row locked for its budget, read with the date and title of the application's
    current award letter and whether the voucher number was used before in the program."""
    letter = Document.objects.filter(
        application_id=application_id,
        kind=Document.Kind.AWARD_LETTER,
        superseded_at__isnull=True,
        voided_at__isnull=True,
    ).order_by("-issued_at")
    return (
        Call.objects.select_for_update(of=("self",))
        .filter(pk=call_id)
        .annotate(
            letter_issued_at=Subquery(letter.values("issued_at")[:1]),
            letter_title=Subquery(letter.values("title")[:1]),
            voucher_taken=Exists(
                Payment.objects.filter(program_slug=program_slug, voucher_number=voucher_number)
            ),
        )
    )


_CALL_FOR_PAYMENT = Prepared(Call, _call_for_payment)


def payment_record(
    *, user, application: Application, voucher_number: str, paid_on: date
) -> Payment:
    """Record a payment: draws down the call's budget, never below zero, never twice."""
    voucher_number = voucher_number.strip()
    with task_taken(user, application, "payment") as activation:
        if not voucher_number:
            raise ValidationError(_("请填写凭证号。"), code="voucher")
        if paid_on > timezone.localdate():
            raise ValidationError(_("拨付日期不能晚于今天。"), code="future")
        call = _CALL_FOR_PAYMENT.first(
            call_id=application.call_id,
            application_id=application.pk,
            program_slug=application.call.program_slug,
            voucher_number=voucher_number,
        )
        if call.letter_issued_at is not None:
            letter_day = timezone.localtime(call.letter_issued_at).date()
            if paid_on < letter_day:
                # Money follows the letter that announces it: an earlier date is a typing error.
                raise ValidationError(
                    _("拨付日期不能早于%(title)s的印发日期（%(date)s）。")
                    % {"title": call.letter_title, "date": letter_day.isoformat()},
                    code="before_letter",
                )
        award = award_figure(application=application)
        amount = award.amount
        if amount > call.budget_left:
            raise ValidationError(
                _("预算余额不足：本批次剩余¥%(left)s，本次应拨付¥%(amount)s。拨付未登记。")
                % {"left": f"{call.budget_left:,.2f}", "amount": f"{amount:,.2f}"},
                code="overdraft",
            )
        if call.voucher_taken:
            raise ValidationError(_("该凭证号已被使用。"), code="voucher_taken")
        try:
            # No savepoint: the error is raised on, rolling the whole step back.
            with transaction.atomic(savepoint=False):
                payment = Payment.objects.create(
                    application=application,
                    institution=application.institution,
                    call=call,
                    program_slug=call.program_slug,
                    tier=award.tier,
                    designation=award.designation,
                    amount=amount,
                    voucher_number=voucher_number,
                    paid_on=paid_on,
                    recorded_by=user,
                )
        except IntegrityError as error:
            raise ValidationError(
                _("该单位的同一认定已拨付，不能重复拨付。"), code="already_paid"
            ) from error
        call.budget_paid += amount
        call.save(update_fields=["budget_paid"])
        audit_write(
            actor=user,
            action="payment_record",
            application=application,
            data={"amount": str(amount), "voucher": voucher_number, "paid_on": str(paid_on)},
        )
        application_move(application=application, to=Status.PAID, actor=user, action="pay")
        task_done(activation)
    return payment
