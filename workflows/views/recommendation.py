"""Pages of the recommendation stage (推荐): the city office's waiting list, grouped by call with
the places used, and its decision on one application of its region."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import selectors, services
from ..selectors import RECOMMEND
from ..services import recommendation as service
from . import _form_errors, role_required


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


@role_required(RECOMMEND)
def recommendation_list(request):
    return render(
        request,
        "workflows/recommendation/list.html",
        {"groups": service.recommendations_waiting(user=request.user)},
    )


@role_required(RECOMMEND)
def recommendation_decide(request, pk):
    # Another region's application is not found (404): a city office sees only its own region.
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    waiting = service.recommendation_waiting_for(user=request.user, application=application)
    form = RecommendationForm(request.POST or None)
    if request.method == "POST" and not waiting:
        messages.error(request, _("该申报不在待推荐阶段，或已由他人办理。"))
        return redirect("recommendation_decide", pk=pk)
    if request.method == "POST" and form.is_valid():
        recommended = form.cleaned_data["decision"] == "recommend"
        try:
            service.recommendation_decide(
                user=request.user,
                application=application,
                recommended=recommended,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        except services.TaskAlreadyDone:
            messages.error(request, _("该申报已由他人办理推荐，请刷新后查看。"))
            return redirect("recommendation_decide", pk=pk)
        else:
            name = application.institution.name
            if recommended:
                messages.success(request, _("已推荐：%(name)s。") % {"name": name})
            else:
                messages.success(request, _("已决定不予推荐：%(name)s。") % {"name": name})
            return redirect("recommendation_list")
    return render(
        request,
        "workflows/recommendation/decide.html",
        {
            "application": application,
            "form": form,
            "waiting": waiting,
            "places": service.recommendation_places(application=application),
            "attachments": application.attachments.filter(superseded=False),
        },
    )


urlpatterns = [
    path("", recommendation_list, name="recommendation_list"),
    path("<int:pk>/", recommendation_decide, name="recommendation_decide"),
]
