"""Template filters for official documents: amounts and dates as the documents print them.

    {% load documents_tags %}
    {{ amount|amount_words }}    人民币壹佰万元整
    {{ amount|amount_figures }}  ¥1,000,000.00
    {{ amount|amount_plain }}    1,000,000.00   (in a column headed "（元）")
    {{ issued_on|chinese_date }} 2026年3月5日
    {{ reason|public_text }}     ID and phone numbers masked, for a public page

The amount filters raise on anything but a non-negative Decimal with at most two decimals: an
official document with a wrong or empty amount must not be produced.
"""

from datetime import date, datetime
from decimal import Decimal

from django import template

from documents import amounts, redaction, rendering

register = template.Library()


@register.filter
def amount_words(value: Decimal) -> str:
    return amounts.amount_in_words(value)


@register.filter
def amount_figures(value: Decimal) -> str:
    return amounts.amount_figures(value)


@register.filter
def amount_plain(value: Decimal) -> str:
    return amounts.amount_figures(value, currency_sign=False)


@register.filter
def chinese_date(value: date | datetime) -> str:
    return rendering.chinese_date(value)


@register.filter
def get_item(mapping, key):
    """`{{ seals|get_item:issuer.name }}`: a value of a dict by a key with spaces or CJK."""
    return (mapping or {}).get(key)


@register.filter
def signers(issuer: dict, seals: dict | None = None) -> list[dict]:
    """The issuers of a (joint) document in order, the lead first, each with its seal."""
    seals = seals or {}
    names = [issuer["name"], *(other["name"] for other in issuer.get("joint") or [])]
    return [{"name": name, "seal": seals.get(name)} for name in names]


@register.filter
def public_text(text: str) -> str:
    """Free text on a public page: any ID number or phone number in it masked."""
    return redaction.personal_data_redact(text)
