"""推荐 (stage type city_recommendation): a city office sees only its own region's applications,
recommends them within its quota or not with a reason; a non-recommended application ends there.

The program under test is a file written into a temporary programs folder (the shipped programs
do not use this stage); `program_installed` makes it importable the way viewflow needs.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from viewflow.workflow import chart
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from tests.factories import CallFactory, UserFactory, institution_for
from tests.programs_support import program_installed
from tests.workflows import http_steps as steps
from workflows import demo, programs, services
from workflows.flows import FLOWS
from workflows.models import Application, AuditRecord, OfficeRegion
from workflows.stages.city_recommendation import services as recommendation_service
from workflows.stages.formal_review.services import formal_review_complete

pytestmark = pytest.mark.django_db

Status = Application.Status
SHIPPED = Path(django_settings.BASE_DIR) / "config" / "programs" / "tech_transfer_agency.toml"
# Built once per program slug and process: viewflow caches the nodes it resolves by dotted path.

# The tech-transfer grant with a city recommendation (one place per city, two for Zunyi) first.
CITY_GRANT_SLUG = "city_grant"
CITY_GRANT = (
    SHIPPED.read_text(encoding="utf-8")
    .replace('slug = "tech_transfer_agency"', f'slug = "{CITY_GRANT_SLUG}"')
    .replace('zh = "技术转移机构经费资助"', 'zh = "技术转移机构经费资助（市州推荐）"')
    .replace(
        '[[stages]]\ntype = "formal_review"',
        '[[stages]]\ntype = "city_recommendation"\nrole = "city_office"\nquota_per_city = 1\n'
        'quotas = { "5203" = 2 }\n\n[[stages]]\ntype = "formal_review"',
    )
)


# --- the program under test -----------------------------------------------------------------------


@pytest.fixture
def city_grant(tmp_path, monkeypatch, settings):
    program_installed(tmp_path, monkeypatch, settings, {CITY_GRANT_SLUG: CITY_GRANT})
    yield CITY_GRANT_SLUG
    programs.programs_loaded.cache_clear()


@pytest.fixture
def grant_call(city_grant):
    return CallFactory(program_slug=city_grant, title="2026年度技术转移机构经费资助（市州推荐）")


def submitted(user, institution, call) -> Application:
    application = demo.application_draft(user=user, call=call, institution=institution)
    return services.application_submit(user=user, application=application)


@pytest.fixture
def zunyi_institution(db):
    return institution_for(
        UserFactory(role="applicant"), name="遵义市科技成果转化中心", region_code="520302"
    )


@pytest.fixture
def guiyang_application(grant_call, applicant, institution):
    return submitted(applicant, institution, grant_call)


@pytest.fixture
def second_guiyang_application(grant_call, other_applicant, other_institution):
    # other_institution is registered in Guiyang (520100) too.
    return submitted(other_applicant, other_institution, grant_call)


@pytest.fixture
def zunyi_application(grant_call, zunyi_institution):
    return submitted(zunyi_institution.members.get(), zunyi_institution, grant_call)


# --- reading and acting through pages -------------------------------------------------------------


def decide(client: Client, application: Application, decision: str, reason: str = ""):
    """Open the recommendation list, click 办理推荐 for the application, send the form."""
    listing = client.get(reverse("recommendation_list"))
    url = reverse("recommendation_decide", args=[application.pk])
    assert url in steps.hrefs(listing, "recommendation_decide"), "no 办理推荐 link"
    steps.page(client.get(url))
    return client.post(url, {"decision": decision, "reason": reason}, follow=True)


def quota_shown(response, call_title: str) -> str:
    """The "已推荐 / 名额" figure the list shows for a call."""
    text = steps.page(response)
    section = text.split(f"<h2>{call_title}</h2>", 1)[1]
    return re.search(r'class="quota">.*?<strong>(.*?)</strong>', section, re.S).group(1)


def open_task_names(application: Application) -> set[str]:
    return {
        task.flow_task.name
        for task in Task.objects.filter(
            process_id=application.process_id, status__in=[STATUS.NEW, STATUS.ASSIGNED]
        )
    }


# --- who sees what --------------------------------------------------------------------------------


def test_city_office_sees_only_its_own_regions_applications_in_list_and_inbox(
    client_for,
    city_office,
    other_city_office,
    grant_call,
    institution,
    zunyi_institution,
    guiyang_application,
    zunyi_application,
):
    """Guiyang's list and inbox show the Guiyang applicant only, Zunyi's the Zunyi one only, each
    with the places its city has (one per city, two for Zunyi by the file's override)."""
    guiyang, zunyi = client_for(city_office), client_for(other_city_office)

    listing = guiyang.get(reverse("recommendation_list"))
    assert institution.name in steps.page(listing)
    assert zunyi_institution.name not in steps.page(listing)
    assert quota_shown(listing, grant_call.title) == "0 / 1"
    inbox = steps.page(guiyang.get(reverse("inbox")))
    assert institution.name in inbox and zunyi_institution.name not in inbox

    listing = zunyi.get(reverse("recommendation_list"))
    assert zunyi_institution.name in steps.page(listing)
    assert institution.name not in steps.page(listing)
    assert quota_shown(listing, grant_call.title) == "0 / 2"
    inbox = steps.page(zunyi.get(reverse("inbox")))
    assert zunyi_institution.name in inbox and institution.name not in inbox


def test_another_city_office_gets_404_and_changes_nothing(
    client_for, other_city_office, guiyang_application
):
    zunyi = client_for(other_city_office)
    url = reverse("recommendation_decide", args=[guiyang_application.pk])
    assert zunyi.get(url).status_code == 404
    assert zunyi.post(url, {"decision": "recommend", "reason": ""}).status_code == 404
    guiyang_application.refresh_from_db()
    assert guiyang_application.status == Status.SUBMITTED
    assert open_task_names(guiyang_application) == {"recommendation"}


@pytest.mark.parametrize("role", ["formal_reviewer", "applicant", "award_committee"])
def test_other_roles_get_403(request, client_for, guiyang_application, role):
    user = request.getfixturevalue(role)
    browser = client_for(user)
    assert browser.get(reverse("recommendation_list")).status_code == 403
    url = reverse("recommendation_decide", args=[guiyang_application.pk])
    assert browser.get(url).status_code == 403
    assert browser.post(url, {"decision": "recommend"}).status_code == 403
    guiyang_application.refresh_from_db()
    assert guiyang_application.status == Status.SUBMITTED


def test_anonymous_user_is_sent_to_login(guiyang_application):
    response = Client().get(reverse("recommendation_decide", args=[guiyang_application.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_service_refuses_an_office_of_another_region(other_city_office, guiyang_application):
    with pytest.raises(PermissionDenied):
        recommendation_service.recommendation_decide(
            user=other_city_office,
            application=guiyang_application,
            recommended=True,
            reason="",
        )


# --- recommend, or not ----------------------------------------------------------------------------


def test_recommended_application_goes_on_to_formal_review(
    client_for, city_office, applicant, formal_reviewer, institution, guiyang_application
):
    """The office recommends with a comment: the applicant sees 已推荐, the decision page shows
    who recommended and why, and the formal reviewer's inbox now holds the application."""
    guiyang = client_for(city_office)
    response = decide(guiyang, guiyang_application, "recommend", "该中心服务能力突出。")
    assert f"已推荐：{institution.name}。" in steps.messages_shown(response)
    assert steps.hrefs(response, "recommendation_decide") == set()  # no longer waiting

    assert steps.status_shown(client_for(applicant), guiyang_application) == "已推荐"
    decision_page = steps.page(
        guiyang.get(reverse("recommendation_decide", args=[guiyang_application.pk]))
    )
    assert "该中心服务能力突出。" in decision_page
    assert 'name="decision"' not in decision_page  # decided: no form any more

    guiyang_application.refresh_from_db()
    assert guiyang_application.recommended_by == city_office
    assert guiyang_application.recommended_at is not None
    assert open_task_names(guiyang_application) == {"formal_review"}
    assert institution.name in steps.page(client_for(formal_reviewer).get(reverse("inbox")))
    record = AuditRecord.objects.get(application=guiyang_application, action="recommend")
    assert (record.actor, record.from_status, record.to_status) == (
        city_office,
        Status.SUBMITTED,
        Status.RECOMMENDED,
    )
    assert record.reason == "该中心服务能力突出。"


def test_not_recommending_needs_a_reason_and_ends_the_process(
    client_for, city_office, applicant, institution, guiyang_application
):
    """不予推荐 without a reason is refused on the page (the choice is kept); with one, the
    application ends as 未获推荐 and the reason is shown back."""
    guiyang = client_for(city_office)
    response = decide(guiyang, guiyang_application, "not_recommend", "   ")
    assert "不予推荐时必须写明理由。" in steps.form_errors(response)
    assert re.search(r'value="not_recommend"[^>]*checked', response.content.decode())
    guiyang_application.refresh_from_db()
    assert guiyang_application.status == Status.SUBMITTED
    assert guiyang_application.recommended_at is None
    assert open_task_names(guiyang_application) == {"recommendation"}

    reason = "申报单位不在本市登记的技术转移机构名录内。"
    response = decide(guiyang, guiyang_application, "not_recommend", reason)
    assert f"已决定不予推荐：{institution.name}。" in steps.messages_shown(response)
    assert steps.status_shown(client_for(applicant), guiyang_application) == "未获推荐"
    decision_page = steps.page(
        guiyang.get(reverse("recommendation_decide", args=[guiyang_application.pk]))
    )
    assert "不予推荐" in decision_page and reason in decision_page

    guiyang_application.refresh_from_db()
    assert guiyang_application.process.status == PROCESS.DONE
    assert open_task_names(guiyang_application) == set()
    assert guiyang_application.recommendation_reason == reason
    assert AuditRecord.objects.filter(
        application=guiyang_application, action="not_recommend", reason=reason
    ).exists()


# --- the quota ------------------------------------------------------------------------------------


def test_quota_refuses_a_second_recommendation_and_changes_nothing(
    client_for,
    city_office,
    grant_call,
    institution,
    other_institution,
    guiyang_application,
    second_guiyang_application,
):
    """Guiyang has one place: the second recommendation is refused with a message naming the
    quota, and the application still waits, untouched; not recommending it still works."""
    guiyang = client_for(city_office)
    decide(guiyang, guiyang_application, "recommend")
    assert quota_shown(guiyang.get(reverse("recommendation_list")), grant_call.title) == "1 / 1"
    audit_before = AuditRecord.objects.count()

    response = decide(guiyang, second_guiyang_application, "recommend", "同样优秀。")
    assert (
        "贵阳市市场监督管理局在本批次的推荐名额为1个，已推荐1个，名额已用完，不能再推荐。"
        in steps.form_errors(response)
    )
    second_guiyang_application.refresh_from_db()
    assert second_guiyang_application.status == Status.SUBMITTED
    assert second_guiyang_application.recommended_at is None
    assert second_guiyang_application.recommended_by is None
    task = Task.objects.get(
        process_id=second_guiyang_application.process_id, status__in=[STATUS.NEW, STATUS.ASSIGNED]
    )
    assert (task.flow_task.name, task.status, task.owner_id) == ("recommendation", STATUS.NEW, None)
    assert AuditRecord.objects.count() == audit_before
    assert other_institution.name in steps.page(guiyang.get(reverse("recommendation_list")))

    response = decide(guiyang, second_guiyang_application, "not_recommend", "名额已满。")
    assert f"已决定不予推荐：{other_institution.name}。" in steps.messages_shown(response)


def test_a_city_not_recommending_keeps_its_place(
    client_for, city_office, guiyang_application, second_guiyang_application
):
    """Only recommendations use a place: after one 不予推荐 the city can still recommend one."""
    guiyang = client_for(city_office)
    decide(guiyang, guiyang_application, "not_recommend", "材料不全。")
    decide(guiyang, second_guiyang_application, "recommend")
    second_guiyang_application.refresh_from_db()
    assert second_guiyang_application.status == Status.RECOMMENDED


def test_places_are_per_city(
    client_for, city_office, other_city_office, guiyang_application, zunyi_application
):
    """Guiyang using its one place does not use Zunyi's."""
    decide(client_for(city_office), guiyang_application, "recommend")
    decide(client_for(other_city_office), zunyi_application, "recommend")
    zunyi_application.refresh_from_db()
    assert zunyi_application.status == Status.RECOMMENDED


def test_recommended_application_still_uses_its_place_after_formal_review(
    city_office, formal_reviewer, guiyang_application, second_guiyang_application
):
    """A place is used for the call once given, whatever later stages decide."""
    recommendation_service.recommendation_decide(
        user=city_office, application=guiyang_application, recommended=True, reason=""
    )
    formal_review_complete(
        user=formal_reviewer, application=guiyang_application, outcome="refuse", reason="不符。"
    )
    with pytest.raises(ValidationError) as error:
        recommendation_service.recommendation_decide(
            user=city_office, application=second_guiyang_application, recommended=True, reason=""
        )
    assert error.value.code == "quota_exceeded"


# --- program file and chart -----------------------------------------------------------------------


def test_negative_quota_in_the_program_file_is_refused(tmp_path):
    path = tmp_path / f"{CITY_GRANT_SLUG}.toml"
    path.write_text(
        CITY_GRANT.replace("quota_per_city = 1", "quota_per_city = -1"), encoding="utf-8"
    )
    _program, problems = programs.program_file_read(path)
    assert [(p.key, p.message) for p in problems] == [
        ("stages[1].quota_per_city", "must be a positive integer")
    ]


def test_chart_draws_the_recommendation_stage(client_for, formal_reviewer, city_grant):
    response = client_for(formal_reviewer).get(reverse("program_chart", args=[city_grant]))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    for label in ("市州推荐", "不予推荐"):
        assert f">{label}</text>" in response.content.decode()
    # The flow's wiring, as viewflow lays out its nodes.
    svg = chart.grid_to_svg(chart.calc_layout_data(FLOWS[city_grant]))
    for node in ("recommendation", "check_recommendation", "not_recommended"):
        assert f'id="{node}"' in svg
    for edge in (
        "submit__recommendation",
        "check_recommendation__formal_review",
        "check_recommendation__not_recommended",
    ):
        assert f'id="{edge}"' in svg


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks (PostgreSQL pass)"
)
def test_two_clerks_taking_the_last_place_at_once_get_one_place(
    city_office, grant_call, guiyang_application, second_guiyang_application
):
    """Two Guiyang clerks recommend different applications at the same moment; the city has one
    place: one recommendation is recorded, the other refused with the quota message."""
    from tests.workflows.test_concurrency import race

    colleague = UserFactory(username="guiyang2", role="city_office")
    OfficeRegion.objects.create(user=colleague, region_code="520100", name="贵阳市市场监督管理局")

    def recommend(user, application):
        return lambda: recommendation_service.recommendation_decide(
            user=user, application=application, recommended=True, reason=""
        )

    results = race(
        recommend(city_office, guiyang_application),
        recommend(colleague, second_guiyang_application),
    )
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1 and refused[0].code == "quota_exceeded", results
    assert Application.objects.filter(call=grant_call, status=Status.RECOMMENDED).count() == 1, (
        results
    )
