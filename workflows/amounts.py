"""What an application is paid: the program's amount rule (`[amount]` in its file: the fixed
amount of its tier, a percentage of a money field between a floor and a cap, or the grade whose
range holds a field's value), under its upgrade rule, against what the institution was paid
before for the same designation. Amounts are Decimal throughout, rounded half up to the fen."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from documents.prepared import Prepared

from .models import Application, Institution, Payment
from .programs import COLUMN_FIELDS

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Award:
    """What the rule gives an application, and what is paid now."""

    amount: Decimal  # to pay now
    full: Decimal  # what the rule gives, before the upgrade rule
    previously_paid: Decimal  # for lower tiers of the same designation (upgrade rules)
    label: str  # the tier or grade the amount is for (Chinese, for documents); "" for a share
    basis: str  # how the rule computed it (Chinese, for documents); "" for a tier's amount
    tier: str  # what the payment is recorded under: the tier key, or the grade key
    designation: str  # what is paid for (the designation field's value)


def amount_rule(program: dict) -> dict:
    return program.get("amount") or {"rule": "tier"}


def field_value(application: Application, name: str):
    """The value the applicant gave a field (a column or the extra data)."""
    if name in COLUMN_FIELDS:
        return getattr(application, name)
    return application.extra.get(name)


def _figure(application: Application, name: str) -> Decimal:
    value = field_value(application, name)
    label = next((f["zh"] for f in application.program["fields"] if f["name"] == name), name)
    if value in (None, ""):
        raise ValidationError(
            _("请填写“%(field)s”：资助金额按此计算。") % {"field": label}, code="amount_field"
        )
    return Decimal(str(value))


def designation_of(application: Application) -> str:
    """The value that names what is paid for (one payment per institution, program, tier and
    designation, ever): the amount rule's `designation_field`, else the patent number."""
    name = amount_rule(application.program).get("designation_field") or "patent_number"
    value = field_value(application, name)
    return "" if value is None else str(value)


def paid_for(
    *, institution: Institution, program_slug: str, designation: str = ""
) -> dict[str, Decimal]:
    """What an institution was already paid under a program for one designation, by tier."""
    rows = _PAID(institution_id=institution.pk, program_slug=program_slug, designation=designation)
    return {row["tier"]: row["amount"] for row in rows}


def payments_for(institution_id, program_slug, designation):
    """The payments made to an institution under a program for one designation."""
    return Payment.objects.filter(
        institution_id=institution_id, program_slug=program_slug, designation=designation
    )


_PAID = Prepared(
    Payment,
    lambda institution_id, program_slug, designation: (
        payments_for(institution_id, program_slug, designation)
        .order_by("pk")
        .values("tier", "amount")
    ),
)


def paid_for_many(applications: list[Application]) -> dict[tuple, dict[str, Decimal]]:
    """`paid_for` of each application's institution, program and designation, in one query:
    {(institution id, program slug, designation): {tier: amount}} (`award_figure`'s `paid`)."""
    keys = {(a.institution_id, a.call.program_slug, designation_of(a)) for a in applications}
    paid: dict[tuple, dict[str, Decimal]] = {key: {} for key in keys}
    if not keys:
        return paid
    rows = Payment.objects.filter(
        institution_id__in={key[0] for key in keys},
        program_slug__in={key[1] for key in keys},
        designation__in={key[2] for key in keys},
    ).values_list("institution_id", "program_slug", "designation", "tier", "amount")
    for institution_id, slug, designation, tier, amount in rows:
        key = (institution_id, slug, designation)
        if key in paid:
            paid[key][tier] = amount
    return paid


def money(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def _percent_text(percent: Decimal) -> str:
    return format(percent.normalize(), "f") + "%"


def rule_amount(application: Application) -> tuple[Decimal, str, str, str]:
    """(amount, label, basis, tier key) the program's rule gives the application."""
    rule = amount_rule(application.program)
    if rule["rule"] == "percentage":
        value = _figure(application, rule["field"])
        percent = Decimal(str(rule["percent"]))
        amount = (value * percent / 100).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
        field = _field_label(application, rule["field"])
        basis = _("按%(field)s%(value)s的%(percent)s计算") % {
            "field": field,
            "value": money(value),
            "percent": _percent_text(percent),
        }
        if rule.get("floor") is not None and amount < Decimal(rule["floor"]):
            amount = Decimal(rule["floor"])
            basis += _("，不足最低额%(floor)s的按最低额") % {"floor": money(amount)}
        if rule.get("cap") is not None and amount > Decimal(rule["cap"]):
            amount = Decimal(rule["cap"])
            basis += _("，超过最高额%(cap)s的按最高额") % {"cap": money(amount)}
        return amount, "", basis, ""
    if rule["rule"] == "grades":
        value = _figure(application, rule["field"])
        for grade in rule["grades"]:
            low, high = grade.get("at_least"), grade.get("below")
            if (low is None or value >= Decimal(str(low))) and (
                high is None or value < Decimal(str(high))
            ):
                basis = _("按%(field)s（%(value)s）所属档次“%(grade)s”确定") % {
                    "field": _field_label(application, rule["field"]),
                    "value": money(value) if _is_money(application, rule["field"]) else value,
                    "grade": grade["zh"],
                }
                return Decimal(grade["amount"]), grade["zh"], basis, grade["key"]
        raise ValidationError(
            _("“%(field)s”为%(value)s，不在本项目任何资助档次的范围内。")
            % {"field": _field_label(application, rule["field"]), "value": value},
            code="no_grade",
        )
    tier = application.program_version.tier(application.tier)
    return Decimal(tier["amount"]), tier["zh"], "", application.tier


def _field_label(application: Application, name: str) -> str:
    return next((f["zh"] for f in application.program["fields"] if f["name"] == name), name)


def _is_money(application: Application, name: str) -> bool:
    return any(f["name"] == name and f["type"] == "money" for f in application.program["fields"])


def award_figure(*, application: Application, paid_before: dict | None = None) -> Award:
    """What the application is paid now under its program's rules (ValidationError when it may
    not be paid: already paid for the designation, or `none` after a lower tier).
    `paid_before`: `paid_for_many` of a list it is on (else its payments are read here)."""
    full, label, basis, tier_key = rule_amount(application)
    designation = designation_of(application)
    key = (application.institution_id, application.call.program_slug, designation)
    if paid_before is not None and key in paid_before:
        paid = paid_before[key]
    else:
        paid = paid_for(
            institution=application.institution,
            program_slug=application.call.program_slug,
            designation=designation,
        )
    if tier_key in paid:
        raise ValidationError(
            _("该单位的“%(tier)s”认定已获资助，同一认定不重复资助。")
            % {"tier": label or application.program["title"]["zh"]},
            code="already_paid",
        )
    lower = Decimal("0.00")
    if amount_rule(application.program)["rule"] == "tier":
        rank = application.program_version.tier(application.tier)["rank"]
        lower = sum(
            (
                amount
                for key, amount in paid.items()
                if application.program_version.tier(key)["rank"] < rank
            ),
            Decimal("0.00"),
        )
    upgrade = application.program["upgrade"]["rule"]
    if lower and upgrade == "none":
        raise ValidationError(
            _("该单位已获较低级别资助，按本项目“从高不重复”规则不再资助。"), code="no_upgrade"
        )
    amount = full - lower if upgrade == "top_up" else full
    return Award(amount, full, lower, label, basis, tier_key, designation)


def award_amount(*, application: Application) -> tuple[Decimal, Decimal]:
    """(amount to pay now, amount paid before for lower tiers) under the program's rules."""
    award = award_figure(application=application)
    return award.amount, award.previously_paid


def program_pays(program: dict) -> bool:
    """Whether the program pays money (it has a disbursement stage)."""
    return any(stage["type"] == "disbursement" for stage in program["stages"])


def proposed_amount(application: Application) -> tuple[Decimal | None, str]:
    """(what the application would be paid, "") or (None, why it cannot be computed): the amount
    recorded at the decision, else what the program's rule gives now."""
    if application.award_amount is not None:
        return application.award_amount, ""
    try:
        return award_figure(application=application).amount, ""
    except ValidationError as error:
        return None, " ".join(error.messages)
    except (StopIteration, TypeError):  # no tier chosen yet, or a tier without an amount
        return None, _("尚未确定级别或金额。")


@dataclass(frozen=True)
class BudgetOutlook:
    """A call's budget against a proposed list: what is paid, what earlier lists committed,
    what is left, and the list's total."""

    total: Decimal
    paid: Decimal
    committed: Decimal
    left: Decimal
    proposed: Decimal

    @property
    def exceeded_by(self) -> Decimal:
        return max(self.proposed - self.left, Decimal("0.00"))


# Approved and not yet paid: the money an earlier list of the call already committed.
COMMITTED_STATUSES = (
    Application.Status.APPROVED,
    Application.Status.IN_NOTICE,
    Application.Status.NOTICE_CLOSED,
    Application.Status.DECIDED,
    Application.Status.LETTER_ISSUED,
)


def budget_outlook(call, proposed: list[Decimal | None], exclude=()) -> BudgetOutlook:
    """The call's budget against a proposed list of amounts (`exclude`: the pks on that list)."""
    committed = sum(
        (
            proposed_amount(application)[0] or Decimal("0.00")
            for application in call.applications.filter(status__in=COMMITTED_STATUSES)
            .exclude(pk__in=list(exclude))
            .select_related("institution", "program_version", "call")
        ),
        Decimal("0.00"),
    )
    listed = sum((amount for amount in proposed if amount is not None), Decimal("0.00"))
    left = call.budget_total - call.budget_paid - committed
    return BudgetOutlook(call.budget_total, call.budget_paid, committed, left, listed)


def award_label_into(context: dict, application: Application, label: str) -> None:
    """Put the label of the amount an application is paid into its document's context: a tier
    of the program is its level (`tier_label`, 获批级别); a grade of a figure (一至二项) is a
    grade (`grade_label`), not printed as a level."""
    if amount_rule(application.program)["rule"] == "grades":
        context["application"]["grade_label"] = label
    else:
        context["application"]["tier_label"] = label
