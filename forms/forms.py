"""The forms every program shares: sign-up, an institution, and the application form built from
a program's fields and attachments. Each stage type's own forms are in its package. Validation a
user can act on happens here and again in the services."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from .fields import program_field
from .regions import region_choices, region_clean
from .validators import localised, organisation_name_valid, uscc_clean

# Shown as the example of a unified social credit code; a test checks that it is valid.
USCC_EXAMPLE = "91520100MA6DK1234H"


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
        # Interpolated when shown (a lazy string formatted here would be fixed in the language
        # of the process that imported the form).
        help_text=lazy(
            lambda: _("18位，含校验码，例如 %(example)s") % {"example": USCC_EXAMPLE}, str
        )(),
    )
    region_code = forms.ChoiceField(
        label=_("所在地区（市州、区县）"),
        choices=[("", _("请选择市州和区县")), *region_choices()],
        error_messages={"invalid_choice": _("请从列表中选择贵州省的市州和区县。")},
        widget=forms.Select(
            attrs={
                "class": "region-select",
                "data-city-label": _("市州"),
                "data-city-prompt": _("请选择市州"),
            }
        ),
    )
    address = forms.CharField(label=_("地址"), max_length=300, required=False)

    class Media:
        # Progressive enhancement: a 市州 select that narrows this one to its 区县.
        js = ["region_select.js"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not organisation_name_valid(name):
            raise ValidationError(_("请填写单位的全称。"), code="name")
        return name

    def clean_uscc(self):
        return uscc_clean(self.cleaned_data["uscc"])

    def clean_region_code(self):
        return region_clean(self.cleaned_data["region_code"])


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
        return program_field(field, self.program)

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


class SecondFactorCodeForm(forms.Form):
    """The code after the password, or the first code of an authenticator being enrolled."""

    code = forms.CharField(
        label=_("验证码"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "off"}
        ),
    )

    def __init__(self, *args, recovery: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if recovery:
            self.fields["code"].help_text = _(
                "身份验证器应用显示的6位数字；手机不在身边时，可输入一个恢复码（每个只能用一次）。"
            )
        else:
            self.fields["code"].widget.attrs["inputmode"] = "numeric"
            self.fields["code"].help_text = _("添加后，身份验证器应用显示的6位数字。")


class AccountSearchForm(forms.Form):
    """The security administrator's filters over every account."""

    q = forms.CharField(label=_("账号或姓名"), required=False, max_length=100)
    enrolled = forms.ChoiceField(
        label=_("两步验证"),
        required=False,
        choices=[("", _("全部")), ("yes", _("已启用")), ("no", _("未启用"))],
    )
    locked = forms.ChoiceField(
        label=_("登录锁定"), required=False, choices=[("", _("全部")), ("yes", _("已锁定"))]
    )
