"""Who may see and do what, through HTTP: every object a user may not see answers 404, every action
a user may not take answers 403, and anonymous visitors are sent to the login page.

The state is set up through the services, as users' clicks would leave it; the requests go through
Django's test client. URLs are written as templates over the world's primary keys, e.g.
"/applications/{theirs}/review/" is the review page of the other institution's application.
"""

from dataclasses import dataclass
from string import Formatter

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import Client
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import Document
from tests.factories import CallFactory, UserFactory, institution_for
from tests.tasks_support import tasks_run
from workflows import demo, services
from workflows.models import Application, Call, Objection
from workflows.permissions import roles_sync
from workflows.stages.formal_review.services import formal_review_complete
from workflows.stages.leadership_meeting.services import leadership_decide
from workflows.stages.public_notice import services as notice_services
from workflows.stages.public_notice.services import public_notice_publish

Status = Application.Status
LOGIN_URL = "/accounts/login/"


# --- state ------------------------------------------------------------------------------------


def submitted(user, institution, call, tier: str = "national") -> Application:
    """A complete application, submitted: its formal-review task waits."""
    application = demo.application_draft(user=user, call=call, institution=institution, tier=tier)
    return services.application_submit(user=user, application=application)


def open_task(application: Application) -> Task:
    """The application's one waiting human task."""
    return Task.objects.get(
        process_id=application.process_id,
        flow_task_type="HUMAN",
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
    )


def objection_lodge(user, application: Application) -> Objection:
    return notice_services.objection_lodge(
        user=user,
        application=application,
        capacity="organisation",
        organisation_name="贵州某科技有限公司",
        phone="0851-85551234",
        statement="获批文件的日期与事实不符。",
        evidence=demo.pdf_upload("evidence.pdf"),
    )


@dataclass
class World:
    """Two institutions in one call. Each has an application accepted, approved and on public
    notice (`mine`, `theirs`) and one waiting for formal review (`*_waiting`); each applicant
    has lodged an objection against the other's application."""

    call: Call
    mine: Application
    theirs: Application
    mine_waiting: Application
    theirs_waiting: Application
    objection_by_me: Objection
    objection_by_them: Objection

    def url(self, template: str) -> str:
        """Fill a URL template: {call}, {theirs}, {objection_by_me}… are primary keys;
        {<application>_task|_file|_document} its waiting task, first attachment or acceptance
        notice; {notice} the public notice."""
        names = [name for _text, name, _spec, _conv in Formatter().parse(template) if name]
        return template.format(**{name: self._key(name) for name in names})

    def _key(self, name: str) -> int:
        if name == "notice":
            return self.mine.public_notice_id
        if name.endswith("_task"):
            return open_task(getattr(self, name.removesuffix("_task"))).pk
        if name.endswith("_file"):
            return getattr(self, name.removesuffix("_file")).attachments.first().pk
        if name.endswith("_document"):
            application = getattr(self, name.removesuffix("_document"))
            return application.documents.get(kind=Document.Kind.ACCEPTANCE_NOTICE).pk
        return getattr(self, name).pk

    def statuses(self) -> dict[int, str]:
        return dict(Application.objects.values_list("pk", "status"))


def world_build() -> World:
    roles_sync()
    applicant = UserFactory(username="applicant", role="applicant")
    other_applicant = UserFactory(username="other_applicant", role="applicant")
    reviewer = UserFactory(username="reviewer", role="formal_reviewer")
    leadership = UserFactory(username="leader", role="leadership")
    notice_officer = UserFactory(username="notice", role="notice_officer")
    institution = institution_for(applicant, name="贵州省技术转移示范中心")
    other_institution = institution_for(other_applicant, name="遵义市技术转移服务中心")
    call = CallFactory()

    mine = submitted(applicant, institution, call)
    theirs = submitted(other_applicant, other_institution, call)
    for application in (mine, theirs):
        formal_review_complete(user=reviewer, application=application, outcome="accept")
    tasks_run()  # a worker renders the acceptance notices
    leadership_decide(user=leadership, decisions=[(mine, True, ""), (theirs, True, "")])
    public_notice_publish(user=notice_officer, call=call)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    return World(
        call=call,
        mine=mine,
        theirs=theirs,
        mine_waiting=submitted(applicant, institution, call, tier="provincial"),
        theirs_waiting=submitted(other_applicant, other_institution, call, tier="provincial"),
        objection_by_me=objection_lodge(applicant, theirs),
        objection_by_them=objection_lodge(other_applicant, mine),
    )


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    """The world, built once for this module in a transaction rolled back at its end.

    Each test still runs in its own savepoint inside it (pytest-django's `db`), so what a test
    changes is undone before the next one. The users have the role fixtures' usernames, so
    `applicant`, `formal_reviewer`… are the same people.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield world_build()
        transaction.set_rollback(True)


@pytest.fixture
def world(module_world, db) -> World:
    return module_world


@pytest.fixture
def users(applicant, other_applicant, formal_reviewer, leadership, notice_officer, finance_officer):
    """Role fixtures by name, for parametrized tests."""
    return {
        "anonymous": AnonymousUser(),
        "applicant": applicant,
        "other_applicant": other_applicant,
        "formal_reviewer": formal_reviewer,
        "leadership": leadership,
        "notice_officer": notice_officer,
        "finance_officer": finance_officer,
    }


# A POST carries the valid form of its page (by the URL's last segment): only permissions refuse.
FORMS = {
    "review": {"outcome": "accept", "reason": ""},
    "payment": {
        "voucher_number": "PZ-TEST-0001",
        "paid_on": timezone.localdate().isoformat(),
        "confirm": "1",
    },
    "handle": {"decision": "uphold", "reason": "经核实，异议成立。"},
    "leadership": {"approve_all": "1", "confirm": "1"},
}


def request_as(user, method: str, url: str):
    client = Client()
    if user.is_authenticated:
        client.force_login(user)
    if method == "POST":
        return client.post(url, FORMS.get(url.rstrip("/").rsplit("/", 1)[-1], {}))
    return client.get(url)


# Every URL of config/urls.py that names an object, pointed at the other institution's objects.
THEIR_OBJECTS = [
    ("GET", "/applications/{theirs}/"),
    ("GET", "/applications/{theirs_waiting}/edit/"),
    ("POST", "/applications/{theirs_waiting}/submit/"),
    ("GET", "/applications/{theirs_waiting}/review/"),
    ("POST", "/applications/{theirs_waiting}/review/"),
    ("POST", "/applications/{theirs}/award-letter/"),
    ("GET", "/applications/{theirs}/payment/"),
    ("POST", "/applications/{theirs}/payment/"),
    ("GET", "/attachments/{theirs_file}/"),
    ("GET", "/documents/{theirs_document}/"),
    ("GET", "/objections/{objection_by_them}/evidence/"),
    ("GET", "/objections/{objection_by_them}/handle/"),
    ("POST", "/objections/{objection_by_them}/handle/"),
    ("GET", "/tasks/{theirs_waiting_task}/"),
]


# --- rule 1: another institution's objects are not found ----------------------------------------


@pytest.mark.parametrize("method, template", THEIR_OBJECTS)
def test_applicant_gets_404_for_another_institutions_object(world, applicant, method, template):
    """An applicant asking for another institution's object is told it does not exist."""
    before = world.statuses()

    response = request_as(applicant, method, world.url(template))

    assert response.status_code == 404
    assert world.statuses() == before


@pytest.mark.parametrize("method, template", [c for c in THEIR_OBJECTS if c[0] == "GET"])
def test_the_owning_institution_finds_its_objects(world, other_applicant, method, template):
    """The same URLs are found (no 404) by the other institution's own applicant."""
    response = request_as(other_applicant, method, world.url(template))

    assert response.status_code in (200, 302, 403)


# --- rule 1: seeing an object does not mean acting on it -----------------------------------------

ROLE_REFUSALS = [
    # (user, method, URL): the user can see the object, or the page shows no institution's
    # object, but the action belongs to another role.
    ("applicant", "GET", "/applications/{mine_waiting}/review/"),
    ("applicant", "POST", "/applications/{mine_waiting}/review/"),
    ("applicant", "POST", "/applications/{mine}/award-letter/"),
    ("applicant", "GET", "/applications/{mine}/payment/"),
    ("applicant", "POST", "/applications/{mine}/payment/"),
    ("applicant", "GET", "/tasks/{mine_waiting_task}/"),
    ("applicant", "GET", "/objections/{objection_by_me}/handle/"),
    ("applicant", "POST", "/objections/{objection_by_me}/handle/"),
    ("applicant", "GET", "/calls/{call}/leadership/"),
    ("applicant", "GET", "/calls/{call}/manage/"),
    ("applicant", "GET", "/programs/"),
    ("applicant", "GET", "/programs/tech_transfer_agency/chart/"),
    ("applicant", "GET", "/finance/"),
    ("formal_reviewer", "GET", "/applications/{theirs}/payment/"),
    ("formal_reviewer", "POST", "/applications/{theirs}/payment/"),
    ("formal_reviewer", "POST", "/applications/{theirs}/award-letter/"),
    ("formal_reviewer", "GET", "/applications/{theirs_waiting}/edit/"),
    ("formal_reviewer", "POST", "/applications/{theirs_waiting}/submit/"),
    ("formal_reviewer", "GET", "/calls/{call}/manage/"),
    ("finance_officer", "GET", "/applications/{theirs_waiting}/review/"),
    ("finance_officer", "POST", "/applications/{theirs_waiting}/review/"),
    ("finance_officer", "GET", "/tasks/{theirs_waiting_task}/"),
    ("finance_officer", "GET", "/calls/{call}/leadership/"),
    ("leadership", "GET", "/calls/{call}/manage/"),
    ("leadership", "GET", "/applications/{theirs_waiting}/review/"),
    ("notice_officer", "GET", "/calls/{call}/leadership/"),
    ("notice_officer", "POST", "/calls/{call}/leadership/"),
    ("notice_officer", "GET", "/applications/{theirs}/payment/"),
]


@pytest.mark.parametrize("role, method, template", ROLE_REFUSALS)
def test_user_without_the_role_gets_403(world, users, role, method, template):
    """A user who may see the object but not take the action is refused with 403."""
    before = world.statuses()

    response = request_as(users[role], method, world.url(template))

    assert response.status_code == 403
    assert world.statuses() == before


ROLE_PAGES = [
    # (user, URL, status): the same kinds of pages open for the role that holds the permission.
    ("applicant", "/applications/{mine}/", 200),
    ("applicant", "/attachments/{mine_file}/", 200),
    ("applicant", "/documents/{mine_document}/", 200),
    ("applicant", "/objections/{objection_by_me}/evidence/", 200),
    ("formal_reviewer", "/applications/{theirs_waiting}/review/", 200),
    ("formal_reviewer", "/tasks/{theirs_waiting_task}/", 302),
    ("formal_reviewer", "/programs/", 200),
    ("formal_reviewer", "/programs/tech_transfer_agency/chart/", 200),
    # The payment form is offered only while the payment waits (theirs is on notice).
    ("finance_officer", "/applications/{theirs}/payment/", 404),
    ("finance_officer", "/finance/", 200),
    ("leadership", "/calls/{call}/leadership/", 200),
    ("notice_officer", "/calls/{call}/manage/", 200),
    ("notice_officer", "/objections/{objection_by_them}/handle/", 200),
]


@pytest.mark.parametrize("role, template, status", ROLE_PAGES)
def test_user_with_the_role_opens_the_page(world, users, role, template, status):
    """The pages refused above open for the role that holds the permission."""
    response = request_as(users[role], "GET", world.url(template))

    assert response.status_code == status


# --- rule 2: anonymous visitors ------------------------------------------------------------------

PAGES_NEEDING_LOGIN = [
    *THEIR_OBJECTS,
    ("GET", "/applications/"),
    ("GET", "/inbox/"),
    ("GET", "/finance/"),
    ("GET", "/calls/"),
    ("GET", "/calls/{call}/apply/"),
    ("GET", "/calls/{call}/leadership/"),
    ("GET", "/calls/{call}/manage/"),
    ("GET", "/notices/{notice}/object/{theirs}/"),
    ("GET", "/programs/"),
    ("GET", "/programs/tech_transfer_agency/chart/"),
]


@pytest.mark.parametrize("method, template", PAGES_NEEDING_LOGIN)
def test_anonymous_visitor_is_sent_to_login(world, method, template):
    """Without a login every page but the public notices redirects to the login page."""
    before = world.statuses()

    response = request_as(AnonymousUser(), method, world.url(template))

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert world.statuses() == before


def test_public_notice_is_open_to_everyone(world):
    """The notice list and a notice's names answer 200 without login."""
    client = Client()
    notice_url = world.url("/notices/{notice}/")

    listing = client.get("/notices/")
    detail = client.get(notice_url)

    assert listing.status_code == 200
    assert f'href="{notice_url}"' in listing.content.decode()
    assert detail.status_code == 200
    assert world.mine.institution.name in detail.content.decode()
    assert world.theirs.institution.name in detail.content.decode()


# --- rule 3: lists show what the user may see -------------------------------------------------


def test_applicant_lists_only_its_own_applications(world, applicant):
    """The applicant's application list names its institution, never the other one."""
    page = request_as(applicant, "GET", "/applications/").content.decode()

    assert world.mine.institution.name in page
    assert world.theirs.institution.name not in page
    for name in ("mine", "mine_waiting"):
        assert world.url(f'href="/applications/{{{name}}}/"') in page
    for name in ("theirs", "theirs_waiting"):
        assert world.url(f'href="/applications/{{{name}}}/"') not in page


def test_applicant_sees_and_downloads_only_its_own_documents(world, applicant):
    """The application page links the applicant's acceptance notice, which downloads as PDF."""
    page = request_as(applicant, "GET", world.url("/applications/{mine}/")).content.decode()
    download = request_as(applicant, "GET", world.url("/documents/{mine_document}/"))

    assert world.url('href="/documents/{mine_document}/"') in page
    assert world.url('href="/documents/{theirs_document}/"') not in page
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"


@pytest.mark.parametrize(
    "role", ["formal_reviewer", "leadership", "notice_officer", "finance_officer"]
)
def test_staff_roles_list_every_institutions_applications(world, users, role):
    """Every staff role sees both institutions' applications in the list."""
    page = request_as(users[role], "GET", "/applications/").content.decode()

    for name in ("mine", "theirs", "mine_waiting", "theirs_waiting"):
        assert world.url(f'href="/applications/{{{name}}}/"') in page


# --- rule 4: a task someone else owns ---------------------------------------------------------


def test_reviewer_cannot_complete_a_task_assigned_to_another_reviewer(
    call, applicant, institution, formal_reviewer, second_reviewer, client_for
):
    """Reviewer B's review of a task assigned to reviewer A is refused; A can still complete it."""
    application = submitted(applicant, institution, call)
    task = open_task(application)
    with task.activation() as activation:
        activation.assign(formal_reviewer)
    review_url = f"/applications/{application.pk}/review/"

    refused = client_for(second_reviewer).post(review_url, FORMS["review"])
    task_page = client_for(second_reviewer).get(f"/tasks/{task.pk}/")

    assert refused.status_code == 403
    assert task_page.status_code == 403
    application.refresh_from_db()
    task.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert (task.status, task.owner_id) == (STATUS.ASSIGNED, formal_reviewer.pk)

    accepted = client_for(formal_reviewer).post(review_url, FORMS["review"])

    assert accepted.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED


# --- rule 5: the correction task belongs to the institution -----------------------------------


def test_only_members_of_the_institution_resubmit_a_correction(
    call, applicant, institution, other_institution, other_applicant, formal_reviewer, client_for
):
    """On a correction, another institution gets 404, a reviewer 403; the member resubmits."""
    application = submitted(applicant, institution, call)
    formal_review_complete(
        user=formal_reviewer,
        application=application,
        outcome="correction",
        reason="获批文件扫描件不清晰，请重新上传。",
    )
    task = open_task(application)
    other, reviewer, member = (client_for(u) for u in (other_applicant, formal_reviewer, applicant))

    assert other.post(f"/applications/{application.pk}/submit/").status_code == 404
    assert other.get(f"/applications/{application.pk}/edit/").status_code == 404
    assert other.get(f"/tasks/{task.pk}/").status_code == 404
    assert reviewer.post(f"/applications/{application.pk}/submit/").status_code == 403
    assert reviewer.get(f"/tasks/{task.pk}/").status_code == 403
    application.refresh_from_db()
    assert application.status == Status.CORRECTION

    assert member.get(f"/tasks/{task.pk}/").status_code == 302
    assert (
        member.post(f"/applications/{application.pk}/submit/", {"confirm": "1"}).status_code == 302
    )
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


# --- rule 6: viewflow's own dashboards are not exposed ---------------------------------------


@pytest.mark.parametrize("path", ["/workflow/", "/workflow/tech_transfer_agency/", "/tasks/"])
@pytest.mark.parametrize("role", ["applicant", "formal_reviewer", "notice_officer"])
def test_viewflow_dashboards_are_not_mounted(world, users, role, path):
    """viewflow's process and task lists are not served at all."""
    response = request_as(users[role], "GET", path)

    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/admin/viewflow/", "/admin/viewflow/process/", "/admin/viewflow/task/"]
)
@pytest.mark.parametrize("role", ["applicant", "formal_reviewer", "finance_officer"])
def test_viewflow_admin_sends_role_users_to_admin_login(world, users, role, path):
    """The admin's process and task lists redirect every role to the admin login."""
    response = request_as(users[role], "GET", path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("path", ["/admin/viewflow/process/", "/admin/viewflow/task/"])
def test_viewflow_admin_lists_nothing_to_staff_without_model_permissions(
    world, formal_reviewer, path
):
    """A role user who is admin staff but holds no viewflow permission gets no process list."""
    formal_reviewer.is_staff = True
    formal_reviewer.save(update_fields=["is_staff"])

    response = request_as(formal_reviewer, "GET", path)

    assert response.status_code == 403
    assert world.theirs.institution.name not in response.content.decode()
