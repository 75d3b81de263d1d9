"""Role fixtures and helpers shared by every test. Tests use the real database, real PDFs and
Django's HTTP test client."""

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from tests.factories import CallFactory, UserFactory, institution_for
from workflows.permissions import roles_sync

# The browser fixtures (`browser`, `pages`): Playwright driving Debian's Chromium.
pytest_plugins = ["tests.browser_support"]


@pytest.fixture(autouse=True)
def roles(db):
    roles_sync()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the site's default language, whatever the previous one chose."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def call(db):
    return CallFactory()


@pytest.fixture
def applicant(db):
    return UserFactory(username="applicant", role="applicant")


@pytest.fixture
def other_applicant(db):
    return UserFactory(username="other_applicant", role="applicant")


@pytest.fixture
def institution(applicant):
    return institution_for(applicant, name="贵州省技术转移示范中心")


@pytest.fixture
def other_institution(other_applicant):
    return institution_for(other_applicant, name="遵义市技术转移服务中心")


@pytest.fixture
def formal_reviewer(db):
    return UserFactory(username="reviewer", role="formal_reviewer")


@pytest.fixture
def second_reviewer(db):
    return UserFactory(username="reviewer2", role="formal_reviewer")


@pytest.fixture
def leadership(db):
    return UserFactory(username="leader", role="leadership")


@pytest.fixture
def notice_officer(db):
    return UserFactory(username="notice", role="notice_officer")


@pytest.fixture
def finance_officer(db):
    return UserFactory(username="finance", role="finance_officer")


@pytest.fixture
def second_finance_officer(db):
    return UserFactory(username="finance2", role="finance_officer")


@pytest.fixture
def client_for(client):
    """`client_for(user)` -> Django test client logged in as `user`."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def clients(
    client_for, applicant, institution, formal_reviewer, leadership, notice_officer, finance_officer
):
    """One logged-in browser per role (a test module may define its own `clients`)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        applicant=client_for(applicant),
        reviewer=client_for(formal_reviewer),
        leader=client_for(leadership),
        notice=client_for(notice_officer),
        finance=client_for(finance_officer),
    )


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def city_office(db):
    """The Guiyang city office (region 520100); tests' institutions are registered there."""
    from workflows.models import OfficeRegion

    user = UserFactory(username="guiyang", role="city_office")
    OfficeRegion.objects.create(user=user, region_code="520100", name="贵阳市市场监督管理局")
    return user


@pytest.fixture
def other_city_office(db):
    """The Zunyi city office (region 520300)."""
    from workflows.models import OfficeRegion

    user = UserFactory(username="zunyi", role="city_office")
    OfficeRegion.objects.create(user=user, region_code="520300", name="遵义市市场监督管理局")
    return user


@pytest.fixture
def experts(db):
    """An expert pool of seven, none employed by the tests' institutions."""
    from workflows.models import Expert

    pool = []
    for n in range(1, 8):
        user = UserFactory(username=f"expert{n}", role="expert")
        pool.append(Expert.objects.create(user=user, name=f"专家{n}", specialty="知识产权"))
    return pool


@pytest.fixture
def award_committee(db):
    return UserFactory(username="committee", role="award_committee")


@pytest.fixture
def tasks_run(db):
    """`tasks_run()` runs the background jobs enqueued so far (tests.tasks_support)."""
    from tests.tasks_support import tasks_run

    return tasks_run
