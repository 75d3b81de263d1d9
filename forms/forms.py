"""Forms for every role. Validation a user can act on happens here and again in the services."""

import re

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflows.models import Objection
from workflows.programs import localised
from workflows.services import patent_number_clean, uscc_clean

PHONE_RE = re.compile(r"^[0-9+\-() ]{7,20}$")
BANK_ACCOUNT_RE = re.compile(r"^[0-9 ]{8,32}$")


class PatentNumberField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return patent_number_clean(value) if value else value


class SignupForm(UserCreationForm):
    first_name = forms.CharField(label=_("真实姓名"), max_length=50)
    email = forms.EmailField(label=_("电子邮箱"))

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "first_name", "email")


class InstitutionForm(forms.Form):
    name = forms.CharField(label=_("单位名称"), max_length=200)
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=18,
        min_length=18,
        help_text=_("18位，含校验码，例如 91520100MA6DKXXXXX"),
    )
    region_code = forms.RegexField(
        label=_("所在地区代码"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("地区代码应为6位数字，例如贵阳市 520100。")},
    )
    address = forms.CharField(label=_("地址"), max_length=300, required=False)

    def clean_uscc(self):
        return uscc_clean(self.cleaned_data["uscc"])


class ApplicationForm(forms.Form):
    """Built from the program version's `fields` and `attachments` lists."""

    def __init__(self, *args, program: dict, call, existing_kinds=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.program, self.call = program, call
        for field in program["fields"]:
            self.fields[field["name"]] = self._field(field)
        for attachment in program["attachments"]:
            needed = attachment.get("required", True)
            uploaded = attachment["key"] in existing_kinds
            help_text = str(_("PDF，不超过20 MB"))
            if needed:
                help_text += " " + str(_("（提交前必须上传）"))
            if uploaded:
                help_text += " " + str(_("（已上传，重新选择则替换）"))
            # Not required by the form: a draft may be saved before every file is at hand;
            # submission checks the required ones.
            self.fields[f"attachment_{attachment['key']}"] = forms.FileField(
                label=localised(attachment), required=False, help_text=help_text
            )

    def _field(self, field: dict) -> forms.Field:
        label = localised(field)
        required = field.get("required", True)
        kind = field["type"]
        if kind == "tier":
            choices = [(t["key"], localised(t)) for t in self.program["tiers"]]
            return forms.ChoiceField(label=label, choices=choices, required=required)
        if kind == "date":
            return forms.DateField(
                label=label, required=required, widget=forms.DateInput(attrs={"type": "date"})
            )
        if kind == "declaration":
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
            return forms.RegexField(
                label=label,
                regex=PHONE_RE,
                required=required,
                error_messages={"invalid": _("请输入有效的电话号码。")},
            )
        if kind == "bank_account":
            return forms.RegexField(
                label=label,
                regex=BANK_ACCOUNT_RE,
                required=required,
                error_messages={"invalid": _("银行账号应为8至32位数字。")},
            )
        return forms.CharField(label=label, required=required, max_length=field.get("max_length"))

    def clean_approval_date(self):
        value = self.cleaned_data["approval_date"]
        window = self.program["eligibility"].get("designation_in_call_window", True)
        if (
            value
            and window
            and not (self.call.designation_from <= value <= self.call.designation_to)
        ):
            raise ValidationError(
                _("获批日期须在%(start)s至%(end)s之间（本批次受理的获批时间范围）。"),
                params={"start": self.call.designation_from, "end": self.call.designation_to},
            )
        return value

    def data_fields(self) -> dict:
        names = {f["name"] for f in self.program["fields"]}
        return {k: v for k, v in self.cleaned_data.items() if k in names}

    def uploads(self) -> dict:
        return {
            a["key"]: self.cleaned_data.get(f"attachment_{a['key']}")
            for a in self.program["attachments"]
            if self.cleaned_data.get(f"attachment_{a['key']}")
        }


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


class ObjectionForm(forms.Form):
    capacity = forms.ChoiceField(
        label=_("异议人身份"), choices=Objection.Capacity.choices, widget=forms.RadioSelect
    )
    organisation_name = forms.CharField(label=_("单位名称"), max_length=200, required=False)
    real_name = forms.CharField(label=_("真实姓名"), max_length=50, required=False)
    id_number = forms.CharField(label=_("身份证号码"), max_length=18, required=False)
    phone = forms.RegexField(
        label=_("联系电话"),
        regex=PHONE_RE,
        error_messages={"invalid": _("请输入有效的电话号码。")},
    )
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


class PaymentForm(forms.Form):
    voucher_number = forms.CharField(label=_("凭证号"), max_length=64)
    paid_on = forms.DateField(
        label=_("拨付日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )

    def clean_paid_on(self):
        value = self.cleaned_data["paid_on"]
        if value > timezone.localdate():
            raise ValidationError(_("拨付日期不能晚于今天。"))
        return value
