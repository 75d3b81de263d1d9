"""The city office's recommendation form."""

from django import forms
from django.utils.translation import gettext_lazy


class RecommendationForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("推荐意见"),
        choices=[("recommend", gettext_lazy("推荐")), ("not_recommend", gettext_lazy("不予推荐"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("不予推荐时必填；推荐时可写明推荐意见。"),
    )
