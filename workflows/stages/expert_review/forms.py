"""The expert's declaration and scoring forms."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from ...models import ExpertRelation
from ...views.base import CONFIRM_MISSING


def confirm_field(label) -> forms.BooleanField:
    """The required "我已核对…" checkbox of an irreversible action's form."""
    return forms.BooleanField(label=label, error_messages={"required": CONFIRM_MISSING})


class DeclarationForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("利害关系声明"),
        choices=[
            ("no_conflict", gettext_lazy("本人与该申报单位无利害关系，同意评审")),
            ("recuse", gettext_lazy("本人与该申报单位有利害关系，申请回避")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择声明内容。")},
    )
    reason = forms.CharField(
        label=gettext_lazy("回避理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("申请回避时必填。"),
    )
    relation_kind = forms.ChoiceField(
        label=gettext_lazy("利害关系类型"),
        required=False,
        choices=[("", "—")] + list(ExpertRelation.Kind.choices),
        help_text=gettext_lazy("选填。登记后，今后抽取专家时将自动回避该单位。"),
    )


class ScoreForm(forms.Form):
    """One points field per rubric criterion (`points_<key>`) and the comment. The range of each
    criterion is checked by the service, so that its message names the criterion."""

    def __init__(self, *args, rubric: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        for row in rubric:
            self.fields[f"points_{row['key']}"] = forms.CharField(
                label=row["name"],
                required=False,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
            )
        self.fields["comment"] = forms.CharField(
            label=gettext_lazy("评审意见"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 5}),
        )
        self.fields["confirm"] = confirm_field(
            gettext_lazy("我已核对各项得分和评审意见，确认提交；评分提交后不能修改。")
        )
        self.rubric = rubric

    def points(self) -> dict:
        return {row["key"]: self.cleaned_data[f"points_{row['key']}"] for row in self.rubric}

    def rows(self) -> list[dict]:
        return [row | {"field": self[f"points_{row['key']}"]} for row in self.rubric]

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, errors in error.message_dict.items():
            name = "comment" if key == "comment" else f"points_{key}"
            self.add_error(name if name in self.fields else None, errors)
