"""Forms of the public notice: a written objection, and the officer's handling of it."""

from django import forms
from django.utils.translation import gettext_lazy as _

from forms.fields import NumberField, PhoneField

from ...models import Objection


class ObjectionForm(forms.Form):
    capacity = forms.ChoiceField(
        label=_("异议人身份"), choices=Objection.Capacity.choices, widget=forms.RadioSelect
    )
    organisation_name = forms.CharField(label=_("单位名称"), max_length=200, required=False)
    real_name = forms.CharField(label=_("真实姓名"), max_length=50, required=False)
    id_number = forms.CharField(label=_("身份证号码"), max_length=18, required=False)
    phone = PhoneField(label=_("联系电话"))
    # No maxlength: a browser would cut a pasted statement silently; the service refuses one
    # over the limit with a message, and the form keeps what was typed.
    statement = forms.CharField(label=_("异议事实和理由"), widget=forms.Textarea(attrs={"rows": 6}))
    evidence = forms.FileField(
        label=_("证据材料（PDF；以单位名义提出的须加盖公章）"),
        help_text=_("PDF，不超过20 MB"),
    )


class ObjectionHandleForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("处理结论"),
        choices=[("uphold", _("异议成立（撤销该申报）")), ("dismiss", _("异议不成立"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("处理理由"), widget=forms.Textarea(attrs={"rows": 3}))


class NoticePeriodForm(forms.Form):
    """The notice officer ends an open period early or extends it, with a reason."""

    action = forms.ChoiceField(
        label=_("调整方式"),
        choices=[("extend", _("延长公示期")), ("end", _("提前结束公示"))],
        widget=forms.HiddenInput,
    )
    # Half-width digits only (Django's IntegerField reads ５ as 5).
    days = NumberField(
        kind="integer", places=None, minimum=1, maximum=60, label=_("延长天数"), required=False
    )
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        # Days typed but refused already say why; only days left out are asked for.
        if data.get("action") == "extend" and not data.get("days") and "days" not in self.errors:
            self.add_error("days", _("请填写延长的天数。"))
        return data
