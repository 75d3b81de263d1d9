"""The public verification page (no login): what was issued under a code, and whether a file
someone holds is that document. The staff's reissue and void actions are the engine's
(`workflows.views.documents`): they need its permissions and audit trail."""

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .verification import (
    UPLOAD_MAX_BYTES,
    document_by_verification_code,
    document_file_check,
    verification_code_normalize,
)

# Multipart overhead on top of the file itself.
REQUEST_MAX_BYTES = UPLOAD_MAX_BYTES + 64 * 1024


class VerificationUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("待核对的PDF文件"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise ValidationError(_("文件不能超过20 MB。"), code="too_large")
        head = upload.read(5)
        upload.seek(0)
        if head != b"%PDF-":
            raise ValidationError(
                _("所选文件不是PDF文件，请上传印发的PDF文书（扩展名为 .pdf）。"), code="not_pdf"
            )
        return upload


def verify_lookup(request):
    """Public: a box to type the verification code printed on a paper document."""
    typed = request.GET.get("code", "")
    code = verification_code_normalize(typed)
    if code and all(char.isascii() and char.isalnum() for char in code):
        return redirect("documents:verify", code=code)
    if typed.strip():
        # Nothing a code could be (a slash, a tag): no document has it, and no address is made
        # of it.
        return render(request, "documents/verify.html", {"code": typed.strip()}, status=404)
    return render(request, "documents/verify_lookup.html")


def _declared_length(request) -> int:
    """The body's length as the client declared it (0 when absent or not a number)."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def verify(request, code):
    """Public: what was issued under `code`, and (POST) whether an uploaded file is that file."""
    document = document_by_verification_code(code)
    if document is None:
        return render(request, "documents/verify.html", {"code": code}, status=404)
    check = None
    refused = ""
    if request.method == "POST":
        if _declared_length(request) > REQUEST_MAX_BYTES:
            # Refused before the body is parsed: the upload is never spooled, and the form
            # (unbound) is offered again under the message.
            form = VerificationUploadForm()
            refused = _("文件不能超过20 MB。")
        else:
            form = VerificationUploadForm(request.POST, request.FILES)
            if form.is_valid():
                check = document_file_check(document, form.cleaned_data["file"])
    else:
        form = VerificationUploadForm()
    return render(
        request,
        "documents/verify.html",
        {
            "document": document,
            "replacement": document.replacement(),
            "form": form,
            "refused": refused,
            "matches": None if check is None else check.matches,
            "signature": None if check is None else check.signature,
        },
    )
