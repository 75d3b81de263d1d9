"""Browser fixtures for every test (tests/conftest.py loads them): Playwright for Python
driving Debian's Chromium (`apt-get install chromium`, launched by its path; no browser is
downloaded) against Django's live server on the test database, SQLite or PostgreSQL.

Each step saves a screenshot under `var/screenshots/<test>/` (not committed) so that a person
can look at what the test saw. `Pages.open` fails a step that shows a server error, English
Django text or a horizontal scroll."""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to set
# up data are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "Debian's chromium is not installed: `make test` installs it (apt-get install "
            "chromium), or set CHROMIUM to the browser's path."
        )
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


class Pages:
    """One signed-in person in one browser window of a given width."""

    def __init__(self, context, live_server, folder: Path):
        self.context = context
        self.page = context.new_page()
        self.base = live_server.url
        self.folder = folder
        self.step = 0
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # A script or style the Content-Security-Policy blocks is an error of the page too.
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )

    def url(self, path: str) -> str:
        return self.base + path

    def open(self, path: str, name: str | None = None):
        response = self.page.goto(self.url(path))
        status = response.status if response is not None else None
        assert status is not None and status < 400, f"{path} answered {status}"
        self.check(name or path)
        return self.page

    def check(self, name: str) -> None:
        """The page as a person sees it: saved, no server error, no horizontal scroll, no
        script error, nothing of Django's English error pages."""
        self.page.wait_for_load_state("load")
        self.shot(name)
        body = self.page.inner_text("body")
        assert "Server Error" not in body and "Traceback" not in body, name
        assert "Page not found" not in body and "Forbidden" not in body, name
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px"
        assert not self.errors, f"{name}: script errors {self.errors}"

    def shot(self, name: str) -> None:
        self.step += 1
        slug = re.sub(r"[^\w-]+", "-", name).strip("-")[:60] or "page"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.folder / f"{self.step:02d}-{slug}.png"), full_page=True)

    def text(self) -> str:
        return self.page.inner_text("main")


@pytest.fixture
def pages(browser, live_server, request):
    """`pages(user, narrow=False)`: a browser window signed in as `user` (None: anonymous)."""
    from django.test import Client

    opened = []

    def make(user=None, *, narrow: bool = False) -> Pages:
        context = browser.new_context(
            viewport=NARROW if narrow else WIDE, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(15_000)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            context.add_cookies(
                [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
            )
        width = "390" if narrow else "1280"
        who = getattr(user, "username", "anonymous")
        folder = SCREENSHOTS / request.node.name / f"{who}-{width}"
        opened.append(context)
        return Pages(context, live_server, folder)

    yield make
    for context in opened:
        context.close()
