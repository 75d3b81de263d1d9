"""Finance's payment form."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ...views.base import CONFIRM_MISSING


class PaymentForm(forms.Form):
    voucher_number = forms.CharField(label=_("凭证号"), max_length=64)
    paid_on = forms.DateField(
        label=_("拨付日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )

    confirm = forms.BooleanField(
        label=_("我已核对金额、凭证号和拨付日期，确认登记；登记后不能撤回。"),
        error_messages={"required": CONFIRM_MISSING},
    )

    def clean_paid_on(self):
        value = self.cleaned_data["paid_on"]
        if value > timezone.localdate():
            raise ValidationError(_("拨付日期不能晚于今天。"))
        return value
