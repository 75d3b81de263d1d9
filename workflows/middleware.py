"""The second factor, enforced in one place for every URL (pages, downloads, exports, the admin):
a signed-in account that owes a code this session reaches nothing but the code page, the
enrolment page, the login and logout, and the language switch. It sits after django-otp's
OTPMiddleware, which tells whether this session verified a code.

And text sent with NUL characters loses them before any view reads it (`NulDroppedMiddleware`);
`client_address` says where a request came from, behind the TLS proxy as without it.
"""

import ipaddress
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


def client_address(request) -> str | None:
    """The address a request came from. Behind `TRUSTED_PROXIES` proxies (the README's TLS proxy
    is one), the one the nearest proxy saw: the N-th from the right of X-Forwarded-For, which
    each proxy appends to (entries further left are the client's word, and could be forged);
    otherwise REMOTE_ADDR, which behind a proxy is the proxy itself, the same for everyone.
    Failed-login throttling (django-axes) counts by this address."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [part for part in chain if part]
    if len(chain) < proxies:
        return remote
    candidate = chain[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class NulDroppedMiddleware:
    """A NUL character is never typed, and PostgreSQL cannot store one in text (the request
    would end in a 500 wherever a reason or a name is saved): the query's and the form's values
    arrive without them, the rest of what was sent as it was. A form's own field validators
    still refuse NUL where a form reads it; this covers the values views pass on directly."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request.GET):
            request.GET = _nul_dropped(request.GET)
        if request.method == "POST" and request.content_type in FORM_TYPES:
            if _has_nul(request.POST):
                request.POST = _nul_dropped(request.POST)
        return self.get_response(request)


def _has_nul(values) -> bool:
    return any(NUL in key or any(NUL in v for v in vs) for key, vs in values.lists())


def _nul_dropped(values):
    cleaned = values.copy()  # a mutable QueryDict in the request's encoding
    cleaned.clear()
    for key, vs in values.lists():
        cleaned.setlist(key.replace(NUL, ""), [v.replace(NUL, "") for v in vs])
    cleaned._mutable = False
    return cleaned
