"""The second factor, enforced in one place for every URL (pages, downloads, exports, the admin):
a signed-in account that owes a code this session reaches nothing but the code page, the
enrolment page, the login and logout, and the language switch. It sits after django-otp's
OTPMiddleware, which tells whether this session verified a code."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from .permissions import second_factor_required

OPEN_WHILE_UNVERIFIED = {
    "login",
    "logout",
    "set_language",
    "second_factor_verify",
    "second_factor_setup",
}


def second_factor_step(user) -> str | None:
    """What the signed-in `user` still owes this session: "verify" (enter a code), "setup"
    (enrol an authenticator first) or None."""
    from .services.second_factor import second_factor_enrolled

    if not user.is_authenticated or user.is_verified():
        return None
    if second_factor_enrolled(user):
        return "verify"
    if second_factor_required(user):
        return "setup"
    return None


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        step = second_factor_step(request.user)
        if step is not None and not self._open(request):
            target = reverse(f"second_factor_{step}")
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{target}?{query}")
        return self.get_response(request)

    @staticmethod
    def _open(request) -> bool:
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.url_name in OPEN_WHILE_UNVERIFIED
