"""What every page shares: the role check (403 after the object was found, 404 before) and a
service's ValidationError shown on the form that keeps what was typed."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django_tasks import TaskResultStatus

# Irreversible actions carry a required "我已核对…" checkbox named `confirm` (no script needed);
# the server refuses the action without it.
CONFIRM_MISSING = _("请先勾选“我已核对”确认后再提交：该操作提交后不能撤回。")


def confirmed(request) -> bool:
    return request.POST.get("confirm") == "1"


def role_required(perm: str):
    """Anonymous users go to the login page; a logged-in user without the role gets 403."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def require(user, perm: str) -> None:
    """After the object was found (404 first), the action needs the role (403)."""
    if not user.has_perm(perm):
        raise PermissionDenied


def form_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form so the page shows it and keeps the input.
    Errors keyed by a field of the form go to that field."""
    if hasattr(error, "error_dict"):
        for key, errors in error.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        for message in error.messages:
            form.add_error(None, message)


KEPT_INPUT = "kept_input"


def input_keep(request, form_key: str, *key_parts, **values) -> None:
    """A small form that posts and goes back to its page (void, reissue, a notice period's
    change) keeps what was typed when the action is refused: the values wait in the session
    until the page shows the form again (`{% input_kept "document_void" d.pk as kept %}`, then
    `{{ kept.reason }}`). `form_key` and `key_parts` name the form, as the tag names it."""
    kept = request.session.get(KEPT_INPUT, {})
    kept[_kept_key(form_key, key_parts)] = {name: str(value) for name, value in values.items()}
    request.session[KEPT_INPUT] = kept


def input_kept(request, form_key: str, *key_parts) -> dict:
    """What `input_keep` kept for the form, handed out once."""
    kept = request.session.get(KEPT_INPUT) or {}
    values = kept.pop(_kept_key(form_key, key_parts), None)
    if values is not None:
        request.session[KEPT_INPUT] = kept
    return values or {}


def _kept_key(form_key: str, key_parts) -> str:
    return ":".join(str(part) for part in (form_key, *key_parts))


def batch_job_told(request, result, *, call, done: str, failed: str, running: str):
    """Tell the user how a background batch job (documents issued to a call) went: done or
    failed at once (the immediate backend), or running: then the call's progress page."""
    if result.status == TaskResultStatus.SUCCESSFUL:
        messages.success(request, done)
    elif result.status == TaskResultStatus.FAILED:
        messages.error(request, failed)
    else:
        messages.info(request, running)
        return redirect("documents:batch_progress", call_pk=call.pk)
    return None


def blocked_reason(check, **kwargs) -> str:
    """Why an action cannot be taken now ("" when it can): the message of the service's own
    check, so the disabled button and the refused POST say the same."""
    try:
        check(**kwargs)
    except PermissionDenied:
        return str(_("您没有该操作的权限。"))
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


# How far ahead a list of expiring recognitions looks: up to ten years, the longest validity a
# program gives (the statistics page and the expiring list ask the same question).
EXPIRING_MAX_DAYS = 3650


def expiring_days_field(label) -> forms.IntegerField:
    message = _("天数须为1至3650之间的整数。")
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=EXPIRING_MAX_DAYS,
        required=False,
        error_messages={"invalid": message, "min_value": message, "max_value": message},
    )
