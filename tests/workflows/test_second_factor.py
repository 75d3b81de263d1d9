"""The second factor (issue 13, 等保 2.0): staff and experts enrol an authenticator app after the
password and enter its code at every login; recovery codes work once; until the code is in, no
page or download opens; applicants may opt in; the security administrator resets a second factor
and unlocks a login django-axes locked, each audited. Real TOTP codes, computed from the
device's key; real logins through the login form (django-axes in front)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory
from tests.workflows.test_inbox import submitted
from workflows.demo import DEMO_PASSWORD
from workflows.models import AuditRecord


@pytest.fixture
def second_factor_on(settings):
    """The requirement as in production (the test settings leave it off for force_login)."""
    settings.OTP_REQUIRED = True
    settings.OTP_SKIP_USERNAMES = []
    return settings


@pytest.fixture
def security_admin(db):
    return UserFactory(username="security", role="security_admin")


def code_of(device: TOTPDevice, drift: int = 0) -> str:
    """The code the person's authenticator app shows now (drift=1: the next 30 seconds)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):0{device.digits}d}"  # noqa: E501


def wrong_code_of(device: TOTPDevice) -> str:
    valid = {code_of(device, drift) for drift in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in valid)


def password_login(client: Client, username: str, next_url: str = ""):
    data = {"username": username, "password": DEMO_PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def enrol(client: Client, user) -> tuple[TOTPDevice, list[str]]:
    """Through the enrolment page: the key it shows, the first code, the recovery codes."""
    page = client.get(reverse("second_factor_setup"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post(reverse("second_factor_setup"), {"code": code_of(device)})
    assert done.status_code == 302, done.content.decode()
    codes = client.get(done["Location"]).context["codes"]
    device.refresh_from_db()
    return device, codes


def verified(client: Client) -> bool:
    """The home page opens instead of sending the person to a code page."""
    return client.get(reverse("home")).status_code == 200


# --- staff enrol, then enter a code at every login -----------------------------------------------


def test_staff_without_an_authenticator_are_sent_to_enrolment_right_after_the_password(
    second_factor_on, formal_reviewer, client
):
    logged_in = password_login(client, "reviewer")
    home = client.get(logged_in["Location"])

    assert home.status_code == 302
    assert home["Location"].startswith(reverse("second_factor_setup"))
    page = client.get(home["Location"])
    text = page.content.decode()
    assert "启用两步验证" in text
    assert "<svg" in text  # the QR code, drawn inline
    assert "<script" not in text.split("</head>")[1]  # no inline script (CSP)
    device = TOTPDevice.objects.get(user=formal_reviewer, confirmed=False)
    assert page.context["secret"].replace(" ", "") in text.replace(" ", "")
    assert client.get(reverse("second_factor_setup")).context["secret"] == page.context["secret"]
    assert not device.confirmed


def test_enrolling_with_a_correct_code_shows_ten_recovery_codes_once_and_is_audited(
    second_factor_on, formal_reviewer, client
):
    password_login(client, "reviewer")
    device, codes = enrol(client, formal_reviewer)

    assert device.confirmed
    assert len(codes) == 10 and len(set(codes)) == 10
    again = client.get(reverse("second_factor_recovery_codes"))
    assert again.context["codes"] is None  # shown once
    assert verified(client)
    record = AuditRecord.objects.get(action="second_factor_enrol")
    assert record.actor == formal_reviewer
    assert record.action_label == "启用两步验证"


def test_a_wrong_enrolment_code_is_refused_in_chinese(second_factor_on, formal_reviewer, client):
    password_login(client, "reviewer")
    client.get(reverse("second_factor_setup"))
    device = TOTPDevice.objects.get(user=formal_reviewer)

    refused = client.post(reverse("second_factor_setup"), {"code": wrong_code_of(device)})

    assert refused.status_code == 200
    assert "验证码不正确" in refused.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not verified(client)


def test_the_next_login_asks_for_the_code_then_opens_the_page_asked_for(
    second_factor_on, formal_reviewer, client, call, applicant, institution
):
    application = submitted(applicant, institution, call)
    password_login(client, "reviewer")
    device, _codes = enrol(client, formal_reviewer)
    client.post(reverse("logout"))

    detail = reverse("application_detail", args=[application.pk])
    logged_in = password_login(client, "reviewer", next_url=detail)
    asked = client.get(logged_in["Location"])
    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("second_factor_verify"))
    page = client.get(asked["Location"])
    assert "两步验证" in page.content.decode()

    done = client.post(asked["Location"], {"code": code_of(device, drift=1), "next": detail})

    assert done.status_code == 302 and done["Location"] == detail
    assert client.get(detail).status_code == 200


def test_wrong_codes_are_refused_and_then_throttled_with_a_chinese_message(
    second_factor_on, formal_reviewer, client
):
    password_login(client, "reviewer")
    device, _codes = enrol(client, formal_reviewer)
    client.post(reverse("logout"))
    password_login(client, "reviewer")
    verify = reverse("second_factor_verify")

    # django-otp's delay doubles with each failure (1, 2, 4… seconds times the factor); a
    # factor of 10 keeps this test's few requests inside the delay on a slow machine.
    second_factor_on.OTP_TOTP_THROTTLE_FACTOR = 10

    wrong = client.post(verify, {"code": wrong_code_of(device)})
    assert wrong.status_code == 200
    assert "验证码不正确" in wrong.content.decode()
    throttled = client.post(verify, {"code": code_of(device, drift=1)})  # right, but too soon

    assert "验证码错误次数过多，请" in throttled.content.decode()
    assert "秒后再试" in throttled.content.decode()
    assert not verified(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()
    assert client.post(verify, {"code": code_of(device, drift=1)}).status_code == 302
    assert verified(client)


def test_a_recovery_code_works_once_and_not_twice(second_factor_on, formal_reviewer, client):
    password_login(client, "reviewer")
    _device, codes = enrol(client, formal_reviewer)
    client.post(reverse("logout"))

    password_login(client, "reviewer")
    used = client.post(reverse("second_factor_verify"), {"code": codes[0].upper()})
    assert used.status_code == 302
    assert verified(client)
    assert StaticToken.objects.filter(device__user=formal_reviewer).count() == 9
    client.post(reverse("logout"))

    password_login(client, "reviewer")
    again = client.post(reverse("second_factor_verify"), {"code": codes[0]})

    assert again.status_code == 200
    assert "恢复码不正确或已使用过" in again.content.decode()
    assert not verified(client)


@pytest.mark.parametrize(
    "role", ["formal_reviewer", "expert", "city_office", "finance_officer", "leadership"]
)
def test_every_staff_role_and_expert_must_enrol(second_factor_on, client, role):
    UserFactory(username="someone", role=role)
    password_login(client, "someone")

    assert client.get(reverse("inbox"))["Location"].startswith(reverse("second_factor_setup"))


def test_a_superuser_must_enrol_before_the_admin_opens(second_factor_on, client):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.com", DEMO_PASSWORD)
    password_login(client, "root")

    admin = client.get(reverse("admin:index"))

    assert admin.status_code == 302
    assert admin["Location"].startswith(reverse("second_factor_setup"))


def test_before_the_code_no_application_page_download_or_export_opens(
    second_factor_on, formal_reviewer, client, call, applicant, institution
):
    application = submitted(applicant, institution, call)
    attachment = application.attachments.first()
    password_login(client, "reviewer")
    enrol(client, formal_reviewer)
    client.post(reverse("logout"))
    password_login(client, "reviewer")  # the password only

    for url in (
        reverse("application_detail", args=[application.pk]),
        reverse("attachment_download", args=[attachment.pk]),
        reverse("document_download", args=[1]),
        reverse("application_list") + "?export=xlsx",
        reverse("inbox"),
        reverse("account_security"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("second_factor_verify")), url
        assert not getattr(response, "streaming", False), url
    # not even a POST to an action
    submit = client.post(reverse("application_submit", args=[application.pk]))
    assert submit["Location"].startswith(reverse("second_factor_verify"))
    # and the enrolment page cannot replace the authenticator with the password alone
    setup = client.get(reverse("second_factor_setup"))
    assert setup["Location"].startswith(reverse("second_factor_verify"))
    assert TOTPDevice.objects.filter(user=formal_reviewer).count() == 1


# --- applicants -----------------------------------------------------------------------------------


def test_an_applicant_logs_in_with_the_password_only(second_factor_on, applicant, institution):
    client = Client()
    password_login(client, "applicant")

    assert client.get(reverse("application_list")).status_code == 200
    assert verified(client)


def test_an_applicant_who_opted_in_must_then_enter_a_code(
    second_factor_on, applicant, institution, client
):
    password_login(client, "applicant")
    page = client.get(reverse("account_security")).content.decode()
    assert "未启用" in page
    device, _codes = enrol(client, applicant)
    client.post(reverse("logout"))

    password_login(client, "applicant")
    asked = client.get(reverse("application_list"))

    assert asked["Location"].startswith(reverse("second_factor_verify"))
    client.post(reverse("second_factor_verify"), {"code": code_of(device, drift=1)})
    assert client.get(reverse("application_list")).status_code == 200


def test_an_applicant_may_turn_the_second_factor_off_but_staff_may_not(
    second_factor_on, applicant, formal_reviewer
):
    for user in (applicant, formal_reviewer):
        client = Client()
        password_login(client, user.username)
        enrol(client, user)
        client.post(reverse("second_factor_disable"), {"confirm": "1"})

    assert not TOTPDevice.objects.filter(user=applicant).exists()
    assert TOTPDevice.objects.filter(user=formal_reviewer, confirmed=True).exists()


def test_turning_off_a_second_factor_never_turned_on_says_so(second_factor_on, applicant):
    """It answered 两步验证已关闭 and wrote an audit record of a change that was not made."""
    from workflows.models import AuditRecord

    client = Client()
    password_login(client, applicant.username)

    response = client.post(reverse("second_factor_disable"), {"confirm": "1"}, follow=True)

    shown = response.content.decode()
    assert "您的账号没有开启两步验证" in shown and "两步验证已关闭" not in shown
    assert not AuditRecord.objects.filter(action="second_factor_disable").exists()


def test_regenerating_recovery_codes_voids_the_old_ones(second_factor_on, formal_reviewer, client):
    password_login(client, "reviewer")
    _device, old = enrol(client, formal_reviewer)

    done = client.post(reverse("recovery_codes_regenerate"), {"confirm": "1"})
    new = client.get(done["Location"]).context["codes"]

    assert len(new) == 10 and not set(new) & set(old)
    tokens = set(StaticToken.objects.filter(device__user=formal_reviewer).values_list("token"))
    assert tokens == {(code,) for code in new}
    assert AuditRecord.objects.filter(action="recovery_codes_regenerate").count() == 1


# --- the security administrator -------------------------------------------------------------------


def test_the_security_administrator_resets_a_second_factor_and_it_is_audited(
    security_admin, formal_reviewer, client_for, settings
):
    TOTPDevice.objects.create(user=formal_reviewer, name="authenticator", confirmed=True)
    admin = client_for(security_admin)
    detail = reverse("account_detail", args=[formal_reviewer.pk])
    assert "重置两步验证" in admin.get(detail).content.decode()

    unconfirmed = admin.post(reverse("account_second_factor_reset", args=[formal_reviewer.pk]))
    assert TOTPDevice.objects.filter(user=formal_reviewer).exists()  # no confirmation, no reset
    assert "我已核对" in admin.get(unconfirmed["Location"]).content.decode()

    done = admin.post(
        reverse("account_second_factor_reset", args=[formal_reviewer.pk]), {"confirm": "1"}
    )

    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=formal_reviewer).exists()
    record = AuditRecord.objects.get(action="second_factor_reset")
    assert record.actor == security_admin
    assert record.data["user"] == formal_reviewer.pk
    assert record.action_label == "重置两步验证"
    assert "重置两步验证" in admin.get(detail).content.decode()  # the account's record lists it
    # the person enrols again at the next login
    settings.OTP_REQUIRED = True
    client = Client()
    password_login(client, "reviewer")
    assert client.get(reverse("home"))["Location"].startswith(reverse("second_factor_setup"))


def test_only_the_security_administrator_may_reset_or_unlock(
    security_admin, formal_reviewer, leadership, applicant, notice_officer, client_for
):
    TOTPDevice.objects.create(user=formal_reviewer, name="authenticator", confirmed=True)
    for user in (leadership, applicant, notice_officer):
        client = client_for(user)
        assert client.get(reverse("account_list")).status_code == 403
        assert client.get(reverse("account_detail", args=[formal_reviewer.pk])).status_code == 403
        reset = reverse("account_second_factor_reset", args=[formal_reviewer.pk])
        assert client.post(reset, {"confirm": "1"}).status_code == 403
        unlock = reverse("account_unlock", args=[formal_reviewer.pk])
        assert client.post(unlock, {"confirm": "1"}).status_code == 403
    assert TOTPDevice.objects.filter(user=formal_reviewer).exists()
    assert not AuditRecord.objects.filter(action="second_factor_reset").exists()
    admin = client_for(security_admin)
    assert admin.get(reverse("account_detail", args=[99999])).status_code == 404
    assert admin.post(reverse("account_unlock", args=[99999]), {"confirm": "1"}).status_code == 404
    assert admin.get(reverse("account_second_factor_reset", args=[1])).status_code == 405


def test_the_account_list_finds_accounts_and_shows_their_second_factor(
    security_admin, formal_reviewer, applicant, client_for
):
    TOTPDevice.objects.create(user=formal_reviewer, name="authenticator", confirmed=True)
    admin = client_for(security_admin)

    page = admin.get(reverse("account_list"), {"q": "review"})
    without = admin.get(reverse("account_list"), {"enrolled": "no"})

    assert [u.username for u in page.context["rows"]] == ["reviewer"]
    assert page.context["rows"][0].has_second_factor
    assert "形式审查员" in page.content.decode()
    assert "reviewer" not in [u.username for u in without.context["rows"]]
    assert "applicant" in [u.username for u in without.context["rows"]]
    home = admin.get(reverse("home")).content.decode()
    assert reverse("account_list") in home


def test_unlocking_an_account_django_axes_locked_lets_it_log_in_and_is_audited(
    security_admin, formal_reviewer, client_for, settings
):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "reviewer", "password": "wrong-password"})
    assert password_login(client, "reviewer").status_code == 429
    admin = client_for(security_admin)
    listed = admin.get(reverse("account_list"), {"locked": "yes"})
    assert [u.username for u in listed.context["rows"]] == ["reviewer"]
    assert "已锁定" in listed.content.decode()
    assert "127.0.0.1" in listed.content.decode()  # the address is locked too

    done = admin.post(reverse("account_unlock", args=[formal_reviewer.pk]), {"confirm": "1"})

    assert done.status_code == 302
    assert "已解除 reviewer 的登录锁定" in admin.get(done["Location"]).content.decode()
    record = AuditRecord.objects.get(action="login_unlock")
    assert record.actor == security_admin
    assert record.data["username"] == "reviewer"
    assert record.data["attempts"] >= 1
    assert password_login(client, "reviewer").status_code == 302
    assert admin.get(reverse("account_list"), {"locked": "yes"}).context["rows"] == []


def test_unlocking_an_address_django_axes_locked_is_audited(
    security_admin, formal_reviewer, client_for, settings
):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):  # a different login name each time
        client.post(reverse("login"), {"username": f"guess{n}", "password": "wrong-password"})
    assert password_login(client, "reviewer").status_code == 429
    admin = client_for(security_admin)
    assert [a["ip_address"] for a in admin.get(reverse("account_list")).context["addresses"]] == [
        "127.0.0.1"
    ]

    done = admin.post(reverse("address_unlock"), {"ip_address": "127.0.0.1", "confirm": "1"})

    assert done.status_code == 302
    assert admin.get(reverse("account_list")).context["addresses"] == []
    record = AuditRecord.objects.get(action="login_unlock")
    assert record.data["ip_address"] == "127.0.0.1"
    assert password_login(client, "reviewer").status_code == 302


# --- settings -------------------------------------------------------------------------------------


def test_demo_accounts_skip_the_code_only_where_the_settings_list_them(second_factor_on, client):
    UserFactory(username="reviewer", role="formal_reviewer")
    second_factor_on.OTP_SKIP_USERNAMES = ["reviewer"]
    password_login(client, "reviewer")

    assert client.get(reverse("inbox")).status_code == 200


def test_every_demo_login_make_run_prints_works_at_once_in_development():
    """Development lets exactly the demo accounts skip the second factor."""
    import importlib

    from workflows import demo

    dev = importlib.import_module("config.settings.dev")
    cast = demo.cast_make(logins=False)
    usernames = {
        *(u.username for u in (cast.formal_reviewer, cast.leadership, cast.notice_officer)),
        *(u.username for u in (cast.finance_officer, cast.city_office, cast.award_committee)),
        *(u.username for u in cast.city_offices.values()),
        *(e.user.username for e in cast.experts),
        demo.DEMO_SECURITY_ADMIN[0],
    }
    assert dev.OTP_REQUIRED is True
    assert usernames <= set(dev.OTP_SKIP_USERNAMES)


def test_the_second_factor_is_required_by_default_and_always_in_production():
    from config.settings import base

    assert base.OTP_REQUIRED is True and base.OTP_SKIP_USERNAMES == []
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "x" * 64,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "PERSONAL_DATA_KEYS": "ZmRpc2Nsb3N1cmUtb25seS10ZXN0LWtleS0zMmJ5dGU=",
        "OTP_REQUIRED": "false",  # an environment cannot switch it off
    }
    script = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.OTP_REQUIRED, settings.OTP_SKIP_USERNAMES, "
        "'django_otp.middleware.OTPMiddleware' in settings.MIDDLEWARE, "
        "'workflows.middleware.SecondFactorMiddleware' in settings.MIDDLEWARE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "[]", "True", "True"]


def test_check_deploy_warns_when_anyone_may_skip_the_second_factor(settings):
    from workflows.checks import second_factor_deploy_check

    settings.OTP_REQUIRED, settings.OTP_SKIP_USERNAMES = True, []
    assert second_factor_deploy_check(None) == []
    settings.OTP_SKIP_USERNAMES = ["reviewer"]
    assert [w.id for w in second_factor_deploy_check(None)] == ["workflows.W013"]
    settings.OTP_REQUIRED, settings.OTP_SKIP_USERNAMES = False, []
    assert [w.id for w in second_factor_deploy_check(None)] == ["workflows.W013"]
