"""The form field for each field type a program file may use (text, textarea, date, tier,
bank_account, phone, declaration, boolean, patent_number, integer, decimal, money, choice), with
the bounds the file gives and messages in the user's language. The application form and the
services' check at submission clean values with the same fields."""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .validators import (
    BANK_ACCOUNT_RE,
    PHONE_RE,
    localised,
    patent_number_clean,
    phone_valid,
)

TWO_PLACES = Decimal("0.01")
# What people type around an amount: the currency sign, thousands separators, spaces.
AMOUNT_NOISE_RE = re.compile(r"[¥￥,，\s]|元$")


class PatentNumberField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return patent_number_clean(value) if value else value


def _bound_text(value, kind: str) -> str:
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    if kind == "money":
        return f"¥{Decimal(value):,.2f}"
    return format(Decimal(value).normalize(), "f")


def half_width_required(text: str, also: str = "") -> None:
    """Refuse full-width digits (and the characters `also`) in a figure or a code, naming them:
    they look like digits on the page but are not what a form reads as such."""
    if re.search(f"[０-９{also}]", text):
        raise ValidationError(_("请使用半角数字（0-9）输入。"), code="full_width")


# Fifteen integer digits: a trillion yuan and more is never a figure on an application.
LARGEST = Decimal(10) ** 15


class NumberField(forms.Field):
    """An integer, a decimal or an amount of money (¥, two places), within the file's bounds.
    Currency signs and thousands separators are allowed; full-width digits are named."""

    def __init__(self, *, kind: str, places: int | None, minimum=None, maximum=None, **kwargs):
        self.kind = kind
        self.places = 0 if kind == "integer" else 2 if kind == "money" else places
        self.minimum = None if minimum is None else Decimal(str(minimum))
        self.maximum = None if maximum is None else Decimal(str(maximum))
        attrs = {"inputmode": "numeric" if kind == "integer" else "decimal"}
        super().__init__(widget=forms.TextInput(attrs=attrs), **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int | Decimal):
            number = Decimal(value)
        else:
            text = str(value).strip()
            half_width_required(text, also="．")
            text = AMOUNT_NOISE_RE.sub("", text) if self.kind == "money" else text.replace(",", "")
            try:
                number = Decimal(text)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                raise ValidationError(self._wrong(), code="invalid")
        if abs(number) >= LARGEST:
            # Beyond any figure a form asks for, and beyond what Decimal rounds (1e30 raised).
            raise ValidationError(_("数值过大，请核对后重新输入。"), code="too_large")
        if self.places is not None and number != number.quantize(Decimal(1).scaleb(-self.places)):
            raise ValidationError(self._wrong(), code="places")
        if self.minimum is not None and number < self.minimum:
            raise ValidationError(
                _("不能小于%(limit)s。") % {"limit": _bound_text(self.minimum, self.kind)},
                code="min_value",
            )
        if self.maximum is not None and number > self.maximum:
            raise ValidationError(
                _("不能大于%(limit)s。") % {"limit": _bound_text(self.maximum, self.kind)},
                code="max_value",
            )
        if self.kind == "integer":
            return int(number)
        return number.quantize(TWO_PLACES) if self.kind == "money" else number

    def _wrong(self) -> str:
        if self.kind == "integer":
            return _("请输入整数。")
        if self.kind == "money":
            return _("请输入金额（元），最多保留两位小数，例如 1500000.00。")
        if self.places is not None:
            return _("请输入数字，最多保留%(n)d位小数。") % {"n": self.places}
        return _("请输入数字。")


class BoundedDateField(forms.DateField):
    def __init__(self, *, minimum=None, maximum=None, **kwargs):
        self.minimum, self.maximum = _as_date(minimum), _as_date(maximum)
        super().__init__(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs
        )

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if self.minimum and value < self.minimum:
            raise ValidationError(
                _("不能早于%(limit)s。") % {"limit": _bound_text(self.minimum, "date")},
                code="min_value",
            )
        if self.maximum and value > self.maximum:
            raise ValidationError(
                _("不能晚于%(limit)s。") % {"limit": _bound_text(self.maximum, "date")},
                code="max_value",
            )


def _as_date(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def program_field(field: dict, program: dict) -> forms.Field:
    """The form field for one of the program's `fields`."""
    label = localised(field)
    required = field.get("required", True)
    kind = field["type"]
    if kind == "tier":
        choices = [(t["key"], localised(t)) for t in program["tiers"]]
        return forms.ChoiceField(label=label, choices=choices, required=required)
    if kind == "choice":
        choices = [(o["key"], localised(o)) for o in field["options"]]
        widget = forms.RadioSelect if len(choices) <= 4 else forms.Select
        return forms.ChoiceField(
            label=label,
            choices=choices if widget is forms.RadioSelect else [("", "—"), *choices],
            required=required,
            widget=widget,
            error_messages={"invalid_choice": _("请从列出的选项中选择。")},
        )
    if kind == "date":
        return BoundedDateField(
            label=label, required=required, minimum=field.get("min"), maximum=field.get("max")
        )
    if kind in ("integer", "decimal", "money"):
        help_text = ""
        if kind == "money":
            help_text = _("人民币元，最多保留两位小数，例如 1500000.00")
        bounds = [
            _("不小于%(limit)s") % {"limit": _bound_text(field["min"], kind)}
            if field.get("min") is not None
            else "",
            _("不大于%(limit)s") % {"limit": _bound_text(field["max"], kind)}
            if field.get("max") is not None
            else "",
        ]
        bounds = "，".join(str(b) for b in bounds if b)
        if bounds:
            help_text = f"{help_text}（{bounds}）" if help_text else bounds
        return NumberField(
            kind=kind,
            places=field.get("places"),
            minimum=field.get("min"),
            maximum=field.get("max"),
            label=f"{label}（{_('元')}）" if kind == "money" else label,
            required=required,
            help_text=help_text,
        )
    if kind in ("declaration", "boolean"):
        return forms.BooleanField(
            label=label,
            required=True,
            error_messages={"required": _("请阅读并勾选此项声明。")},
        )
    if kind == "patent_number":
        return PatentNumberField(label=label, required=required, max_length=20)
    if kind == "textarea":
        return forms.CharField(label=label, required=required, widget=forms.Textarea)
    if kind == "phone":
        return PhoneField(label=label, required=required)
    if kind == "bank_account":
        return HalfWidthCodeField(
            label=label,
            regex=BANK_ACCOUNT_RE,
            required=required,
            error_messages={"invalid": _("银行账号应为8至32位数字。")},
        )
    return DigitsHalfWidthField(label=label, required=required, max_length=field.get("max_length"))


FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


class HalfWidthCodeField(forms.RegexField):
    """A phone number or a bank account: full-width digits are named as such (the pattern alone
    would only say the number is not valid)."""

    def to_python(self, value):
        value = super().to_python(value)
        half_width_required(value or "")
        return value


class PhoneField(HalfWidthCodeField):
    """A phone number: PHONE_RE's shape, half-width, and digits one could dial
    (validators.phone_valid)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {})
        kwargs["error_messages"].setdefault("invalid", _("请输入有效的电话号码。"))
        super().__init__(regex=PHONE_RE, **kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not phone_valid(value):
            raise ValidationError(
                _("请输入有效的电话号码：手机号码11位，固定电话请加区号（如0851-85551234）。"),
                code="invalid",
            )


class DigitsHalfWidthField(forms.CharField):
    """Free text (an approval number, a name): full-width digits are kept as half-width, as
    official documents print numbers (黔科函〔２０２６〕６９号 is stored 黔科函〔2026〕69号)."""

    def to_python(self, value):
        return super().to_python(value).translate(FULL_WIDTH_DIGITS)


def field_value_stored(value):
    """How a cleaned value is kept in the application's extra data (JSON): exact decimals as
    strings, dates in ISO form."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
