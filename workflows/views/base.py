"""What every page shares: the role check (403 after the object was found, 404 before) and a
service's ValidationError shown on the form that keeps what was typed."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django_tasks import TaskResultStatus


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
