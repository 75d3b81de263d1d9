"""A person's messages (services.notifications): the list, newest first with the unread ones
marked, and marking one or all read. Another person's message answers 404."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .. import selectors
from ..services.notifications import notification_read, notifications_read_all


@login_required
def notification_list(request):
    page = Paginator(selectors.notifications_of(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "workflows/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_mark_read(request, pk: int):
    """Mark the message read; with `open`, go on to what it is about."""
    notification = get_object_or_404(selectors.notifications_of(request.user), pk=pk)
    notification_read(user=request.user, notification=notification)
    link = notification.link
    if "open" in request.POST and link and url_has_allowed_host_and_scheme(link, None):
        return redirect(link)
    return redirect("notification_list")


@login_required
@require_POST
def notification_mark_all_read(request):
    notifications_read_all(user=request.user)
    return redirect("notification_list")
