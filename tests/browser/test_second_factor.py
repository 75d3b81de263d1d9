"""A staff member enrols an authenticator in the browser and logs in with its code (1280 px);
the security administrator does the same on a phone (390 px) and opens the account-security
pages. The codes are the ones the person's app would show, computed from the device's key."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory
from tests.workflows.test_second_factor import code_of
from workflows.demo import DEMO_PASSWORD


@pytest.fixture
def second_factor_on(settings):
    settings.OTP_REQUIRED = True
    settings.OTP_SKIP_USERNAMES = []


def log_in(window, username: str):
    page = window.open("/accounts/login/", "login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form [type=submit]")
    return page


def enrol(window, user) -> TOTPDevice:
    page = window.page
    page.wait_for_url("**/accounts/two-factor/setup/**")
    window.check("enrolment")
    assert page.is_visible("figure.qr svg")
    secret = page.inner_text("#second-factor-secret").replace(" ", "")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert len(secret) == 32
    page.fill("input[name=code]", code_of(device))
    page.click("main form:has(input[name=code]) [type=submit]")
    page.wait_for_url("**/accounts/two-factor/recovery-codes/**")
    window.check("recovery codes")
    assert page.locator("ol.recovery-codes li").count() == 10
    page.click("text=我已保存，继续")
    return device


def test_a_staff_member_enrols_an_authenticator_then_logs_in_with_its_code(
    db, pages, second_factor_on
):
    reviewer = UserFactory(username="reviewer", role="formal_reviewer")
    window = pages()
    log_in(window, "reviewer")
    device = enrol(window, reviewer)
    window.page.wait_for_url(window.url("/"))
    window.check("home after enrolment")
    assert "您好" in window.text()

    window.page.click("nav form[action='/accounts/logout/'] button")
    window.page.wait_for_load_state("load")
    page = log_in(window, "reviewer")
    page.wait_for_url("**/accounts/two-factor/?next=**")
    window.check("code after the password")
    assert "两步验证" in window.text()
    page.fill("input[name=code]", "000000" if code_of(device, 1) != "000000" else "111111")
    page.click("main form:has(input[name=code]) [type=submit]")
    window.check("wrong code")
    assert "验证码不正确" in window.text()
    device.refresh_from_db()
    device.throttle_reset()
    page.fill("input[name=code]", code_of(device, drift=1))
    page.click("main form:has(input[name=code]) [type=submit]")
    page.wait_for_url(window.url("/"))
    window.check("home after the code")
    assert "待办" in window.text()


def test_on_a_phone_the_security_administrator_enrols_and_opens_the_account_pages(
    db, pages, second_factor_on
):
    admin = UserFactory(username="security", role="security_admin")
    UserFactory(username="reviewer", role="formal_reviewer", first_name="张审查")
    window = pages(narrow=True)
    log_in(window, "security")
    enrol(window, admin)
    window.page.wait_for_url(window.url("/"))

    page = window.open("/security/accounts/", "account list")
    assert "账号安全管理" in window.text()
    assert "张审查" in window.text()
    page.click("text=reviewer")
    page.wait_for_url("**/security/accounts/*/")
    window.check("account detail")
    assert "两步验证" in window.text()
    window.open("/accounts/security/", "own account security")
    assert "已启用" in window.text()
