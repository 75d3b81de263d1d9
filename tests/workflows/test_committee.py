"""评审委员会表决 (stage type committee_vote): the committee sees a call's ranked list, gives each
application a tier (or approves it) or not with a reason, and approves the list as a whole within
the per-tier quotas; a refused list changes nothing and the page keeps the choices made.

The programs under test are files written into a temporary programs folder (see
`tests.programs_support.program_installed`).
"""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from viewflow.workflow import chart
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from tests.factories import CallFactory, institution_for
from tests.programs_support import program_installed
from tests.workflows import http_steps as steps
from tests.workflows.test_recommendation import SHIPPED
from workflows import demo, services
from workflows.flows import FLOWS
from workflows.models import Application, AuditRecord
from workflows.stages.committee_vote import services as committee_service
from workflows.stages.formal_review.services import formal_review_complete

pytestmark = pytest.mark.django_db

Status = Application.Status

# A patent award: formal review, then the committee gives tiers within quotas.
PATENT_AWARD_SLUG = "committee_patent_award"
PATENT_AWARD = f'''
slug = "{PATENT_AWARD_SLUG}"

[title]
zh = "专利奖评选表彰"
en = "Patent award"

[policy_basis]
document = "贵州省专利转化运用专项行动实施方案（2023—2025年）"
clause = "二（二）2"
text = "开展专利奖评选表彰活动。"

[issuer]
name = "贵州省市场监督管理局"
code = "黔市监知"
reconsideration_body = "贵州省人民政府"

[[tiers]]
key = "gold"
zh = "金奖"
en = "Gold award"
amount = "300000.00"
rank = 3

[[tiers]]
key = "silver"
zh = "银奖"
en = "Silver award"
amount = "200000.00"
rank = 2

[[tiers]]
key = "excellence"
zh = "优秀奖"
en = "Excellence award"
amount = "50000.00"
rank = 1

[[attachments]]
key = "patent_certificate"
zh = "专利证书"
en = "Patent certificate"
required = true

# The acceptance notice prints the approval date; for a patent it is the grant date.
[[fields]]
name = "approval_date"
type = "date"
zh = "授权公告日"
en = "Grant date"

[[fields]]
name = "contact_name"
type = "text"
zh = "联系人"
en = "Contact person"
max_length = 50

[[fields]]
name = "contact_phone"
type = "phone"
zh = "联系电话"
en = "Contact phone"

[[stages]]
type = "application"

[[stages]]
type = "formal_review"
role = "formal_reviewer"

[[stages]]
type = "committee_vote"
role = "award_committee"
outcome = "tier"
quotas = {{ gold = 1, silver = 2 }}
'''

# A recognition list: applicants apply for a level; the committee approves or not, within quotas.
RECOGNITION_SLUG = "recognition_list"
RECOGNITION = (
    SHIPPED.read_text(encoding="utf-8")
    .split("# The ordered stages.")[0]
    .replace('slug = "tech_transfer_agency"', f'slug = "{RECOGNITION_SLUG}"')
    + """
[[stages]]
type = "application"

[[stages]]
type = "formal_review"
role = "formal_reviewer"

[[stages]]
type = "committee_vote"
role = "award_committee"
outcome = "approve"
quotas = { provincial = 1 }
"""
)


@pytest.fixture
def programs_under_test(tmp_path, monkeypatch, settings):
    from workflows import programs

    program_installed(
        tmp_path,
        monkeypatch,
        settings,
        {PATENT_AWARD_SLUG: PATENT_AWARD, RECOGNITION_SLUG: RECOGNITION},
    )
    yield
    programs.programs_loaded.cache_clear()


@pytest.fixture
def award_call(programs_under_test):
    return CallFactory(program_slug=PATENT_AWARD_SLUG, title="2026年度贵州省专利奖评选")


def accepted(
    applicant, reviewer, call, name: str, score: str | None, tier: str = "provincial"
) -> Application:
    """An application by a new institution of `applicant`, accepted by formal review, with the
    panel score the expert review would have given it."""
    institution = institution_for(applicant, name=name)
    application = demo.application_draft(
        user=applicant, call=call, institution=institution, tier=tier
    )
    services.application_submit(user=applicant, application=application)
    formal_review_complete(user=reviewer, application=application, outcome="accept")
    # The expert-review stage (another module) writes the score; here it is set directly.
    Application.objects.filter(pk=application.pk).update(
        panel_score=Decimal(score) if score else None
    )
    application.refresh_from_db()
    return application


@pytest.fixture
def ranked(award_call, applicant, formal_reviewer):
    """Four applications; by score: B (92.00), A (85.50, earlier), C (85.50), D (no score)."""
    a = accepted(applicant, formal_reviewer, award_call, "贵州甲科技有限公司", "85.50")
    b = accepted(applicant, formal_reviewer, award_call, "贵州乙科技有限公司", "92.00")
    c = accepted(applicant, formal_reviewer, award_call, "贵州丙科技有限公司", "85.50")
    d = accepted(applicant, formal_reviewer, award_call, "贵州丁科技有限公司", None)
    return [b, a, c, d]


# --- the page -------------------------------------------------------------------------------------


def committee_page(client: Client, call):
    return client.get(reverse("committee_list", args=[call.pk]))


def rows_shown(response) -> list[int]:
    """The application pks of the list's rows, top to bottom."""
    return [
        int(pk)
        for pk in re.findall(r'<tr class="application" data-pk="(\d+)"', steps.page(response))
    ]


def choice_shown(response, application) -> str:
    """The option selected in an application's row ('' when none)."""
    text = steps.page(response)
    select = re.search(rf'<select name="choice_{application.pk}".*?</select>', text, re.S).group(0)
    chosen = re.search(r'<option value="([^"]*)" selected>', select)
    return chosen.group(1) if chosen else ""


def vote(client: Client, call, choices: dict, reasons: dict | None = None):
    """Open the committee page, choose an outcome per row, write reasons, press 批准名单."""
    url = reverse("committee_list", args=[call.pk])
    assert "批准名单" in steps.page(client.get(url))
    data = {f"choice_{a.pk}": choice for a, choice in choices.items()}
    data |= {f"reason_{a.pk}": reason for a, reason in (reasons or {}).items()}
    return client.post(url, data, follow=True)


def committee_untouched(applications, *, lists_approved_before: int = 0) -> None:
    """Each application still waits for the committee as it was: no outcome, no tier, no owner,
    no audit record of a vote."""
    for application in applications:
        tier_before = application.tier  # as loaded before the vote
        application.refresh_from_db()
        assert (application.status, application.tier) == (Status.ACCEPTED, tier_before)
        task = Task.objects.get(
            process_id=application.process_id, status__in=[STATUS.NEW, STATUS.ASSIGNED]
        )
        assert (task.flow_task.name, task.status, task.owner_id) == (
            "committee_vote",
            STATUS.NEW,
            None,
        )
    assert not AuditRecord.objects.filter(
        application__in=applications,
        action__in=["committee_award", "committee_not_award", "tier_assign"],
    ).exists()
    assert AuditRecord.objects.filter(action="committee_list_approve").count() == (
        lists_approved_before
    )


def test_list_is_ranked_by_panel_score_with_the_score_shown(
    client_for, award_committee, award_call, ranked
):
    response = committee_page(client_for(award_committee), award_call)
    assert rows_shown(response) == [a.pk for a in ranked]
    text = steps.page(response)
    assert text.index("92.00") < text.index("85.50")
    assert [label for label in ("金奖", "银奖", "优秀奖", "未获奖") if label in text] == [
        "金奖",
        "银奖",
        "优秀奖",
        "未获奖",
    ]


def test_tiers_are_given_and_the_list_approved_as_a_whole(
    client_for, award_committee, applicant, award_call, ranked
):
    """One press gives B gold, A and C silver, D nothing (with a reason): each application moves
    on, the applicant sees its tier, and the list leaves the committee's page."""
    b, a, c, d = ranked
    committee = client_for(award_committee)
    response = vote(
        committee,
        award_call,
        {b: "gold", a: "silver", c: "silver", d: "none"},
        {d: "创新性和转化效益不足。", a: "转化效益显著。"},
    )
    assert "名单已批准：3项获奖（通过），1项未获奖（未通过）。" in steps.messages_shown(response)
    assert rows_shown(response) == []

    for application, tier, status in (
        (b, "gold", Status.APPROVED),
        (a, "silver", Status.APPROVED),
        (c, "silver", Status.APPROVED),
        (d, "", Status.REJECTED),
    ):
        application.refresh_from_db()
        assert (application.tier, application.status) == (tier, status)
        assert application.process.status == PROCESS.DONE
    owner = client_for(applicant)
    assert steps.status_shown(owner, b) == "审议通过"
    assert "金奖" in steps.page(owner.get(reverse("application_detail", args=[b.pk])))
    assert steps.status_shown(owner, d) == "审议未通过"

    assert AuditRecord.objects.get(application=d, action="committee_not_award").reason == (
        "创新性和转化效益不足。"
    )
    assert (
        AuditRecord.objects.get(application=a, action="committee_award").reason == "转化效益显著。"
    )
    assert AuditRecord.objects.get(application=b, action="tier_assign").data == {
        "tier": "gold",
        "previous": "",
    }
    whole = AuditRecord.objects.get(action="committee_list_approve", call=award_call)
    assert whole.actor == award_committee
    assert whole.data["choices"] == {
        str(b.pk): "gold",
        str(a.pk): "silver",
        str(c.pk): "silver",
        str(d.pk): None,
    }


def test_quota_exceeded_is_refused_nothing_changes_and_choices_are_kept(
    client_for, award_committee, award_call, ranked
):
    b, a, c, d = ranked
    response = vote(
        client_for(award_committee),
        award_call,
        {b: "gold", a: "gold", c: "excellence", d: "none"},
        {d: "不符合条件。"},
    )
    assert "“金奖”的名额为1个，本批次已授予0个，本次选择了2个，超出名额。" in steps.messages_shown(
        response
    )
    committee_untouched(ranked)
    assert [choice_shown(response, x) for x in ranked] == ["gold", "gold", "excellence", "none"]
    assert steps.input_value(response, f"reason_{d.pk}") == "不符合条件。"


def test_quota_counts_tiers_given_earlier_in_the_call(
    client_for, award_committee, applicant, formal_reviewer, award_call
):
    committee = client_for(award_committee)
    first = accepted(applicant, formal_reviewer, award_call, "贵州甲科技有限公司", "90.00")
    vote(committee, award_call, {first: "gold"})
    second = accepted(applicant, formal_reviewer, award_call, "贵州乙科技有限公司", "95.00")

    response = vote(committee, award_call, {second: "gold"})
    assert "“金奖”的名额为1个，本批次已授予1个，本次选择了1个，超出名额。" in steps.messages_shown(
        response
    )
    committee_untouched([second], lists_approved_before=1)
    assert second.tier == ""
    vote(committee, award_call, {second: "silver"})
    second.refresh_from_db()
    assert (second.status, second.tier) == (Status.APPROVED, "silver")


def test_not_awarded_needs_a_reason_and_every_row_an_outcome(
    client_for, award_committee, award_call, ranked
):
    b, a, c, d = ranked
    response = vote(client_for(award_committee), award_call, {b: "gold", a: "none", c: "silver"})
    shown = steps.messages_shown(response)
    assert f"未获奖的申报须写明理由：{a.institution.name}。" in shown
    assert f"请为每一项申报选择表决结果：{d.institution.name}。" in shown
    committee_untouched(ranked)
    assert [choice_shown(response, x) for x in ranked] == ["gold", "none", "silver", ""]


def test_service_refuses_a_tier_the_program_does_not_have(award_committee, award_call, ranked):
    from django.core.exceptions import ValidationError

    choices = {x.pk: "bronze" for x in ranked}
    with pytest.raises(ValidationError) as error:
        committee_service.committee_approve_list(
            user=award_committee, call=award_call, choices=choices, reasons={}
        )
    assert f"“bronze”不是本项目的奖励等级：{ranked[0].institution.name}。" in error.value.messages
    committee_untouched(ranked)


def test_approve_outcome_keeps_the_applied_tier_within_its_quota(
    client_for, award_committee, applicant, formal_reviewer, programs_under_test
):
    """With outcome "approve" the committee approves or not; quotas count the applied tiers."""
    call = CallFactory(program_slug=RECOGNITION_SLUG)
    first = accepted(
        applicant, formal_reviewer, call, "贵州甲技术转移中心", "88.00", tier="provincial"
    )
    second = accepted(
        applicant, formal_reviewer, call, "贵州乙技术转移中心", "80.00", tier="provincial"
    )
    national = accepted(
        applicant, formal_reviewer, call, "贵州丙技术转移中心", "70.00", tier="national"
    )
    committee = client_for(award_committee)
    assert "不通过" in steps.page(committee_page(committee, call))

    response = vote(committee, call, {first: "approve", second: "approve", national: "approve"})
    assert (
        "“省级技术转移机构”的名额为1个，本批次已授予0个，本次选择了2个，超出名额。"
        in steps.messages_shown(response)
    )
    committee_untouched([first, second, national])

    vote(
        committee,
        call,
        {first: "approve", second: "none", national: "approve"},
        {second: "名额所限。"},
    )
    for application, status, tier in (
        (first, Status.APPROVED, "provincial"),
        (second, Status.REJECTED, "provincial"),
        (national, Status.APPROVED, "national"),
    ):
        application.refresh_from_db()
        assert (application.status, application.tier) == (status, tier)


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["formal_reviewer", "applicant", "city_office"])
def test_other_roles_get_403_and_change_nothing(request, client_for, award_call, ranked, role):
    browser = client_for(request.getfixturevalue(role))
    assert committee_page(browser, award_call).status_code == 403
    url = reverse("committee_list", args=[award_call.pk])
    data = {f"choice_{x.pk}": "excellence" for x in ranked}
    assert browser.post(url, data).status_code == 403
    committee_untouched(ranked)


def test_anonymous_user_is_sent_to_login(award_call):
    response = Client().get(reverse("committee_list", args=[award_call.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_call_whose_program_has_no_committee_is_not_found(client_for, award_committee, call):
    assert committee_page(client_for(award_committee), call).status_code == 404


# --- program file and chart -----------------------------------------------------------------------


def test_unknown_outcome_in_the_program_file_is_refused(tmp_path):
    from workflows import programs

    path = tmp_path / f"{PATENT_AWARD_SLUG}.toml"
    path.write_text(PATENT_AWARD.replace('outcome = "tier"', 'outcome = "vote"'), encoding="utf-8")
    _program, problems = programs.program_file_read(path)
    assert [(p.key, p.message) for p in problems] == [
        ("stages[2].outcome", "must be one of ['approve', 'tier']")
    ]


def test_chart_draws_the_committee_stage(client_for, formal_reviewer, programs_under_test):
    response = client_for(formal_reviewer).get(reverse("program_chart", args=[PATENT_AWARD_SLUG]))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    for label in ("评审委员会表决", "未获奖"):
        assert f">{label}</text>" in response.content.decode()
    # The flow's wiring, as viewflow lays out its nodes.
    svg = chart.grid_to_svg(chart.calc_layout_data(FLOWS[PATENT_AWARD_SLUG]))
    for node in ("committee_vote", "check_committee", "awarded", "not_awarded"):
        assert f'id="{node}"' in svg
    for edge in (
        "check_formal_review__committee_vote",
        "committee_vote__check_committee",
        "check_committee__awarded",
        "check_committee__not_awarded",
    ):
        assert f'id="{edge}"' in svg
