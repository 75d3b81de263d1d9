"""The browser sees the site as a new visitor does: signing in through the login form, the menu
folded on a phone, no sideways scroll."""

from tests.factories import UserFactory
from workflows.demo import DEMO_PASSWORD


def test_a_visitor_signs_in_through_the_login_form_and_lands_on_the_home_page(db, pages):
    UserFactory(username="reviewer", role="formal_reviewer")
    window = pages()
    page = window.open("/accounts/login/", "login")

    page.fill("input[name=username]", "reviewer")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form [type=submit]")
    window.check("after login")

    assert "您好" in window.text()
    assert "待办" in window.text()


def test_on_a_phone_the_menu_folds_behind_a_button(db, pages):
    user = UserFactory(username="reviewer", role="formal_reviewer")
    window = pages(user, narrow=True)
    page = window.open("/", "home")

    assert not page.is_visible("nav.app-nav")
    page.click("label.nav-toggle-label")
    window.shot("menu open")
    assert page.is_visible("nav.app-nav a[href='/inbox/']")
