"""Thin views: the public verification page (no login) and the staff-only reissue and void actions.

Reissue and void find the document through `documents_visible_to` (404 when the user may not see
it), then need the "workflows.issue_decision" permission (403), then call one service.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from workflows.models import Call
from workflows.selectors import documents_visible_to

from . import services
from .batch import latest_issue_batch
from .verification import UPLOAD_MAX_BYTES, document_by_verification_code, document_file_matches

# Multipart overhead on top of the file itself.
REQUEST_MAX_BYTES = UPLOAD_MAX_BYTES + 64 * 1024


class VerificationUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("待核对的PDF文件"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise ValidationError(_("文件不能超过20 MB。"), code="too_large")
        return upload


def verify(request, code):
    """Public: what was issued under `code`, and (POST) whether an uploaded file is that file."""
    document = document_by_verification_code(code)
    if document is None:
        return render(request, "documents/verify.html", {"code": code}, status=404)
    matches = None
    if request.method == "POST":
        if int(request.META.get("CONTENT_LENGTH") or 0) > REQUEST_MAX_BYTES:
            # Refused before the body is parsed: the upload is never spooled.
            form = VerificationUploadForm()
            form.add_error(None, _("文件不能超过20 MB。"))
        else:
            form = VerificationUploadForm(request.POST, request.FILES)
            if form.is_valid():
                matches = document_file_matches(document, form.cleaned_data["file"])
    else:
        form = VerificationUploadForm()
    return render(
        request,
        "documents/verify.html",
        {
            "document": document,
            "replacement": document.replacement(),
            "form": form,
            "matches": matches,
        },
    )


@require_POST
@login_required
def document_reissue(request, pk):
    document = get_object_or_404(documents_visible_to(request.user), pk=pk)
    _require(request.user)
    try:
        reissued = services.document_reissue(
            document=document, user=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
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
        services.document_void(
            document=document, user=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("文书已作废，文号保留且不再使用。"))
    return _back(request, document)


def _require(user) -> None:
    if not user.has_perm(services.ISSUE_PERMISSION):
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
    return render(
        request,
        "documents/batch_progress.html",
        {"call": call, "batch": batch, "running": running},
    )
