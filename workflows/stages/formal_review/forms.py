"""The formal reviewer's conclusion form."""

from django import forms
from django.utils.translation import gettext_lazy as _


class FormalReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("审查结论"),
        choices=[
            ("accept", _("受理")),
            ("correction", _("退回补正")),
            ("refuse", _("不予受理")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("理由 / 补正要求"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("退回补正或不予受理时必填；不予受理的理由将写入决定书。"),
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") in ("correction", "refuse") and not data.get("reason", "").strip():
            self.add_error("reason", _("退回补正或不予受理时必须写明理由。"))
        return data
