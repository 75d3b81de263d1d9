"""Pages of the recommendation stage (推荐): the city office's waiting list, grouped by call with
the places used, and its decision on one application of its region."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from ... import selectors
from ...selectors import RECOMMEND
from ...services.tasks import TaskAlreadyDone
from ...views.base import form_errors, role_required
from . import services as service
from .forms import RecommendationForm


@role_required(RECOMMEND)
def recommendation_list(request):
    return render(
        request,
        "city_recommendation/list.html",
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
            form_errors(form, error)
        except TaskAlreadyDone:
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
        "city_recommendation/decide.html",
        {
            "application": application,
            "form": form,
            "waiting": waiting,
            "places": service.recommendation_places(application=application),
            "attachments": application.attachments.filter(superseded=False),
        },
    )
