"""The second factor (django-otp) and the staff's account security: enrolling an authenticator
app (TOTP), checking its code or a single-use recovery code after the password, regenerating the
recovery codes, and a security administrator's reset of someone's second factor or unlock of a
login django-axes locked. Every change is written to the audit trail."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..permissions import MANAGE_ACCOUNTS, second_factor_required
from .audit import audit_write

DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery"


def second_factor_enrolled(user) -> bool:
    """Whether the account has a confirmed authenticator (recovery codes alone do not count)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def second_factor_device_pending(*, user) -> TOTPDevice:
    """The authenticator being enrolled: the same key on every visit of the enrolment page
    until a code confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def _throttled(device) -> ValidationError | None:
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    seconds = 0
    if info and info.get("locked_until"):
        seconds = max(1, int((info["locked_until"] - timezone.now()).total_seconds() + 0.999))
    return ValidationError(
        _("验证码错误次数过多，请%(seconds)s秒后再试。") % {"seconds": seconds},
        code="throttled",
    )


def _is_totp_code(code: str) -> bool:
    return code.isascii() and code.isdigit() and len(code) == 6


def _code_clean(code: str) -> str:
    return "".join(code.split()).lower()


def second_factor_confirm(*, user, device: TOTPDevice, code: str) -> list[str]:
    """Confirm the authenticator being enrolled with a code it shows; replaces any earlier
    authenticator and gives a fresh set of recovery codes (returned: shown once). A wrong code
    counts towards the device's throttling (kept: the error is raised after the commit)."""
    code = _code_clean(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        refused = _throttled(device)
        if refused is None and not (_is_totp_code(code) and device.verify_token(code)):
            refused = ValidationError(
                _("验证码不正确：请输入身份验证器应用当前显示的6位数字。"), code="wrong_code"
            )
        if refused is None:
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _recovery_codes_make(user)
            audit_write(actor=user, action="second_factor_enrol", data={"user": user.pk})
    if refused is not None:
        raise refused
    return codes


def second_factor_verify(*, user, code: str):
    """The device that accepts `code` after the password: the authenticator's current code, or
    one of the recovery codes (used up). Wrong codes slow the next tries down (django-otp's
    throttling, per device; kept: the error is raised after the commit)."""
    code = _code_clean(code)
    if _is_totp_code(code):
        model, wrong = TOTPDevice, _("验证码不正确，请重新输入身份验证器应用当前显示的数字。")
    else:
        model, wrong = StaticDevice, _("恢复码不正确或已使用过。")
    with transaction.atomic():
        devices = list(model.objects.select_for_update().filter(user=user, confirmed=True))
        refused = next(filter(None, map(_throttled, devices)), None)
        if refused is None:
            for device in devices:
                if device.verify_token(code):
                    return device
            refused = ValidationError(wrong, code="wrong_code")
    raise refused


def _recovery_codes_make(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _n in range(settings.OTP_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    """A fresh set of recovery codes; the old ones stop working."""
    if not second_factor_enrolled(user):
        raise ValidationError(_("尚未启用两步验证。"), code="not_enrolled")
    codes = _recovery_codes_make(user)
    audit_write(actor=user, action="recovery_codes_regenerate", data={"user": user.pk})
    return codes


def _devices_delete(user) -> int:
    count = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        count += 1
    return count


@transaction.atomic
def second_factor_disable(*, user) -> None:
    """An applicant who opted in turns the second factor off again; an account that must have
    one cannot."""
    if second_factor_required(user):
        raise ValidationError(_("您的账号必须使用两步验证，不能关闭。"), code="required")
    if not second_factor_enrolled(user):
        # Nothing to turn off: saying 已关闭 would tell of a change that was not made.
        raise ValidationError(_("您的账号没有开启两步验证。"), code="not_enrolled")
    _devices_delete(user)
    audit_write(actor=user, action="second_factor_disable", data={"user": user.pk})


@transaction.atomic
def second_factor_reset(*, user, actor) -> int:
    """A security administrator removes someone's authenticator and recovery codes (a lost
    phone): the person enrols again at the next login."""
    if not actor.has_perm(MANAGE_ACCOUNTS):
        raise PermissionDenied
    removed = _devices_delete(user)
    audit_write(
        actor=actor,
        action="second_factor_reset",
        data={"user": user.pk, "username": user.get_username(), "devices": removed},
    )
    return removed


@transaction.atomic
def login_unlock(*, actor, username: str = "", ip_address: str = "") -> int:
    """Lift django-axes' lock of a login name or of an address before its 30 minutes end:
    their failed attempts are forgotten."""
    from axes.utils import reset

    if not actor.has_perm(MANAGE_ACCOUNTS):
        raise PermissionDenied
    if bool(username) == bool(ip_address):
        raise ValueError("unlock a login name or an address")
    removed = reset(username=username or None, ip=ip_address or None)
    data = {"username": username} if username else {"ip_address": ip_address}
    audit_write(actor=actor, action="login_unlock", data=data | {"attempts": removed})
    return removed
