"""The second factor's pages (the code after the password, enrolling an authenticator, the
recovery codes shown once), a person's own 账号安全 page, and the security administrator's
account-security pages: every account's second factor and login lock, with reset and unlock.
Which URLs an account may reach before its code is decided centrally (workflows.middleware)."""

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from forms.forms import AccountSearchForm, SecondFactorCodeForm

from .. import selectors
from ..middleware import second_factor_step
from ..permissions import MANAGE_ACCOUNTS, ROLES, second_factor_required
from ..services import second_factor as second_factor_services
from .base import CONFIRM_MISSING, confirmed, form_errors, role_required

RECOVERY_CODES_SESSION_KEY = "second_factor_recovery_codes"


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _verified(request, device) -> None:
    otp_login(request, device)
    request.session.cycle_key()  # a new session id once the second factor is in


@login_required
def second_factor_verify(request):
    """After the password: the authenticator's code or a recovery code."""
    step = second_factor_step(request.user)
    if step == "setup":
        return redirect(f"{reverse('second_factor_setup')}?{request.GET.urlencode()}")
    if step is None:
        return redirect(_next_url(request))
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor_services.second_factor_verify(
                user=request.user, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            _verified(request, device)
            if isinstance(device, StaticDevice):
                left = second_factor_services.recovery_codes_left(request.user)
                messages.warning(
                    request,
                    _("已使用一个恢复码，还剩%(left)s个。用完前请在“账号安全”中重新生成。")
                    % {"left": left},
                )
            return redirect(_next_url(request))
    return render(
        request,
        "registration/second_factor_verify.html",
        {"form": form, "next": request.GET.get("next", "")},
    )


def _secret_text(device) -> str:
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
def second_factor_setup(request):
    """Enrol an authenticator app: a QR code (inline SVG, no script) and the key in text,
    confirmed by its first code. Replacing an enrolled authenticator needs this session's code
    first, so a stolen password alone cannot swap the phone."""
    user = request.user
    step = second_factor_step(user)
    if step == "verify":
        return redirect(f"{reverse('second_factor_verify')}?{request.GET.urlencode()}")
    device = second_factor_services.second_factor_device_pending(user=user)
    form = SecondFactorCodeForm(request.POST or None, recovery=False)
    if request.method == "POST" and form.is_valid():
        try:
            codes = second_factor_services.second_factor_confirm(
                user=user, device=device, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            _verified(request, device)
            request.session[RECOVERY_CODES_SESSION_KEY] = codes
            messages.success(request, _("两步验证已启用。"))
            query = request.GET.urlencode()
            return redirect(f"{reverse('second_factor_recovery_codes')}?{query}")
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "registration/second_factor_setup.html",
        {
            "form": form,
            "qr_svg": mark_safe(qr.svg_inline(scale=5, border=2, svgclass="qr-code")),  # noqa: S308
            "secret": _secret_text(device),
            "required": step == "setup",
            "next": request.GET.get("next", ""),
        },
    )


@login_required
def second_factor_recovery_codes(request):
    """The recovery codes, shown once (they were put in the session when made)."""
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    return render(
        request,
        "registration/second_factor_recovery_codes.html",
        {"codes": codes, "next": _next_url(request)},
    )


# --- one's own account ----------------------------------------------------------------------------


@login_required
def account_security(request):
    user = request.user
    return render(
        request,
        "workflows/account_security.html",
        {
            "enrolled": second_factor_services.second_factor_enrolled(user),
            "required": second_factor_required(user),
            "codes_left": second_factor_services.recovery_codes_left(user),
            "confirm_text": _("我已了解：旧的恢复码将立即失效。"),
        },
    )


@login_required
@require_POST
def recovery_codes_regenerate(request):
    if not confirmed(request):
        messages.error(request, CONFIRM_MISSING)
        return redirect("account_security")
    try:
        codes = second_factor_services.recovery_codes_regenerate(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("account_security")
    request.session[RECOVERY_CODES_SESSION_KEY] = codes
    query = f"next={reverse('account_security')}"
    return redirect(f"{reverse('second_factor_recovery_codes')}?{query}")


@login_required
@require_POST
def second_factor_disable(request):
    if not confirmed(request):
        messages.error(request, CONFIRM_MISSING)
        return redirect("account_security")
    try:
        second_factor_services.second_factor_disable(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("两步验证已关闭。"))
    return redirect("account_security")


# --- the security administrator -------------------------------------------------------------------


def _role_labels(user) -> list[str]:
    labels = [str(ROLES[g.name][0]) for g in user.groups.all() if g.name in ROLES]
    if user.is_superuser:
        labels.insert(0, _("超级管理员"))
    return labels


def _cool_off_minutes() -> int:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off()
    return int(cool_off.total_seconds() // 60) if cool_off else 0


@role_required(MANAGE_ACCOUNTS)
def account_list(request):
    """Every account: its roles, second factor and login lock; the locked addresses."""
    form = AccountSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    users = selectors.accounts_for_security(
        q=filters.get("q", ""),
        enrolled=filters.get("enrolled", ""),
        locked=filters.get("locked", ""),
    )
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    failures = selectors.login_failures_by_username(u.username for u in rows)
    for user in rows:
        user.role_labels = _role_labels(user)
        user.login_failures = failures.get(user.username, 0)
        user.login_locked = user.login_failures >= settings.AXES_FAILURE_LIMIT
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "workflows/account_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "kept": kept.urlencode(),
            "addresses": selectors.login_locked_addresses(),
            "limit": settings.AXES_FAILURE_LIMIT,
            "minutes": _cool_off_minutes(),
            "confirm_text": _("我已核对该地址，确认解除锁定。"),
        },
    )


def _account_context(account) -> dict:
    failures = selectors.login_failures_by_username([account.username]).get(account.username, 0)
    return {
        "account": account,
        "roles": _role_labels(account),
        "enrolled": second_factor_services.second_factor_enrolled(account),
        "required": second_factor_required(account),
        "codes_left": second_factor_services.recovery_codes_left(account),
        "failures": failures,
        "locked": failures >= settings.AXES_FAILURE_LIMIT,
        "limit": settings.AXES_FAILURE_LIMIT,
        "audit": selectors.account_audit(account)[:20],
        "reset_confirm": _(
            "我已核实本人身份，确认重置其两步验证（下次登录须重新添加身份验证器）。"
        ),
        "unlock_confirm": _("我已核实本人身份，确认解除该账号的登录锁定。"),
    }


@role_required(MANAGE_ACCOUNTS)
def account_detail(request, pk: int):
    account = get_object_or_404(get_user_model(), pk=pk)
    return render(request, "workflows/account_detail.html", _account_context(account))


@role_required(MANAGE_ACCOUNTS)
@require_POST
def account_second_factor_reset(request, pk: int):
    account = get_object_or_404(get_user_model(), pk=pk)
    if not confirmed(request):
        messages.error(request, CONFIRM_MISSING)
        return redirect("account_detail", pk=account.pk)
    second_factor_services.second_factor_reset(user=account, actor=request.user)
    messages.success(
        request,
        _("已重置 %(name)s 的两步验证：该账号下次登录时须重新添加身份验证器。")
        % {"name": account.get_username()},
    )
    return redirect("account_detail", pk=account.pk)


@role_required(MANAGE_ACCOUNTS)
@require_POST
def account_unlock(request, pk: int):
    account = get_object_or_404(get_user_model(), pk=pk)
    if not confirmed(request):
        messages.error(request, CONFIRM_MISSING)
        return redirect("account_detail", pk=account.pk)
    second_factor_services.login_unlock(actor=request.user, username=account.get_username())
    messages.success(request, _("已解除 %(name)s 的登录锁定。") % {"name": account.get_username()})
    return redirect("account_detail", pk=account.pk)


@role_required(MANAGE_ACCOUNTS)
@require_POST
def address_unlock(request):
    address = request.POST.get("ip_address", "").strip()
    if not address or not selectors.login_failures_by_address(address):
        messages.error(request, _("该地址没有被锁定。"))
        return redirect("account_list")
    if not confirmed(request):
        messages.error(request, CONFIRM_MISSING)
        return redirect("account_list")
    second_factor_services.login_unlock(actor=request.user, ip_address=address)
    messages.success(request, _("已解除地址 %(address)s 的登录锁定。") % {"address": address})
    return redirect("account_list")
