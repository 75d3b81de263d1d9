"""Staff actions on issued documents (reissue, void) and a call's batch-issue progress page.

Reissue and void find the document through `documents_visible_to` (404 when the user may not see
it), then need the decision role (403), then call one service, which writes the audit record.
They are mounted under /verify/ in the "documents" namespace with the public verification page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents.batch import latest_issue_batch
from documents.models import Document

from ..models import Call
from ..selectors import documents_visible_to
from ..services import issuing
from .base import input_keep


@require_POST
@login_required
def document_reissue(request, pk):
    document = get_object_or_404(documents_visible_to(request.user), pk=pk)
    _require(request.user)
    try:
        reissued = issuing.document_reissue(
            document=document, user=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        input_keep(request, "document_reissue", pk, reason=request.POST.get("reason", ""))
    else:
        messages.success(
            request,
            _("已重新印发，新版本文号：%(number)s，验证码：%(code)s")
            % {"number": reissued.number or "—", "code": reissued.verification_code},
        )
    return _back(request, document)


@require_POST
@login_required
def document_void(request, pk):
    document = get_object_or_404(documents_visible_to(request.user), pk=pk)
    _require(request.user)
    try:
        issuing.document_void(
            document=document, user=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        input_keep(request, "document_void", pk, reason=request.POST.get("reason", ""))
    else:
        messages.success(request, _("文书已作废，文号保留且不再使用。"))
    return _back(request, document)


def _require(user) -> None:
    if not user.has_perm(issuing.ISSUE_PERMISSION):
        raise PermissionDenied


def _back(request, document):
    """To the page the form was on, or else the document's verification page."""
    referrer = request.META.get("HTTP_REFERER", "")
    if referrer and url_has_allowed_host_and_scheme(
        referrer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(referrer)
    return redirect("documents:verify", code=document.verification_code)


@login_required
def batch_progress(request, call_pk):
    """Staff: how far the latest batch issue for a call has got (the page refreshes itself)."""
    _require(request.user)
    call = get_object_or_404(Call, pk=call_pk)
    batch = latest_issue_batch(call)
    running = batch is None or batch.status in (batch.Status.PENDING, batch.Status.RUNNING)
    # The batch's documents whose PDF a worker has still to render (a call decided at once).
    rendering = 0
    if batch is not None and batch.status == batch.Status.FINISHED:
        rendering = Document.objects.filter(
            call=call, render_requested_at__gte=batch.started_at, rendered_at__isnull=True
        ).count()
    return render(
        request,
        "workflows/batch_progress.html",
        {"call": call, "batch": batch, "running": running or rendering, "rendering": rendering},
    )


# Before the verification page's catch-all `<code>/` (config/urls.py puts them first).
urlpatterns = [
    path("documents/<int:pk>/reissue/", document_reissue, name="document_reissue"),
    path("documents/<int:pk>/void/", document_void, name="document_void"),
    path("batches/<int:call_pk>/", batch_progress, name="batch_progress"),
]
