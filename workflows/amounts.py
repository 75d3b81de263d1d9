"""What an application is paid: the program's amount rule, under its upgrade rule, against what
the institution was paid before. Amounts are Decimal throughout."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Application, Institution, Payment


def paid_for(
    *, institution: Institution, program_slug: str, designation: str = ""
) -> dict[str, Decimal]:
    """What an institution was already paid under a program for one designation, by tier."""
    rows = Payment.objects.filter(
        institution=institution, program_slug=program_slug, designation=designation
    )
    return {row.tier: row.amount for row in rows}


def award_amount(*, application: Application) -> tuple[Decimal, Decimal]:
    """(amount to pay now, amount paid before for lower tiers) under the program's upgrade rule."""
    program = application.program
    tier = application.program_version.tier(application.tier)
    full = Decimal(tier["amount"])
    paid = paid_for(
        institution=application.institution,
        program_slug=application.call.program_slug,
        designation=application.patent_number,
    )
    if application.tier in paid:
        raise ValidationError(
            _("该单位的“%(tier)s”认定已获资助，同一认定不重复资助。")
            % {"tier": application.tier_label},
            code="already_paid",
        )
    lower = sum(
        (
            amount
            for key, amount in paid.items()
            if application.program_version.tier(key)["rank"] < tier["rank"]
        ),
        Decimal("0.00"),
    )
    rule = program["upgrade"]["rule"]
    if lower and rule == "none":
        raise ValidationError(
            _("该单位已获较低级别资助，按本项目“从高不重复”规则不再资助。"), code="no_upgrade"
        )
    if rule == "top_up":
        return full - lower, lower
    return full, lower
