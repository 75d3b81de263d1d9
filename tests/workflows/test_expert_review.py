"""专家评审 (stage type expert_review): a panel drawn at random from the pool, conflicts excluded;
each expert declares (or recuses, and a replacement takes over the same task) before reading the
application, then scores the rubric; the panel score is the trimmed mean; staff replace late
experts, see the panel and the ranked list; nobody else sees the scores.

The program under test is a file written into a temporary programs folder (the shipped programs
do not use this stage); `program_installed` makes it importable the way viewflow needs. The
applicant and the formal reviewer act through the services; experts and staff through HTTP.
"""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation
from viewflow.workflow import chart
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from tests.factories import CallFactory, UserFactory, institution_for
from tests.programs_support import program_installed
from workflows import demo, flows, programs, services
from workflows.models import (
    Application,
    AuditRecord,
    Expert,
    ExpertRelation,
    PanelSeat,
    ReviewScore,
)
from workflows.selectors import tasks_actionable_by
from workflows.stages.expert_review import services as panels
from workflows.stages.formal_review.services import formal_review_complete
from workflows.stages.leadership_meeting.services import leadership_decide

pytestmark = pytest.mark.django_db

Status = Application.Status
Seat = PanelSeat.Status
SLUG = "expert_panel_test"
# Built once per process: viewflow caches the nodes it resolves by dotted path.

# An IP advantage-enterprise recognition judged by a panel of five (trimmed mean).
PANEL_PROGRAM = f"""
slug = "{SLUG}"

[title]
zh = "知识产权优势企业认定（专家评审测试）"
en = "IP advantage enterprise recognition (expert review test)"

[policy_basis]
document = "贵州省专利转化运用专项行动实施方案（2023—2025年）"
clause = "二（二）2"
text = "培育一批知识产权优势企业。"

[issuer]
name = "贵州省市场监督管理局"
code = "黔市监知"
reconsideration_body = "贵州省人民政府"

[eligibility]
designation_in_call_window = false
region_prefix = "52"

[[attachments]]
key = "self_assessment"
zh = "知识产权工作自评报告"
en = "IP self-assessment report"
required = true

# The acceptance notice prints an approval date (documents/acceptance_notice.html needs one).
[[fields]]
name = "approval_date"
type = "date"
zh = "获批日期"
en = "Approval date"

[[fields]]
name = "contact_name"
type = "text"
zh = "联系人"
en = "Contact person"
max_length = 50

[[fields]]
name = "ip_summary"
type = "textarea"
zh = "知识产权工作概况"
en = "Summary of IP work"

[[rubric]]
key = "quality"
zh = "技术先进性与专利质量"
en = "Technology and patent quality"
max_points = 30
guidance = "核心专利的技术先进性、权利稳定性和保护范围。"
measures = "quality"

[[rubric]]
key = "transformation"
zh = "专利转化运用效益"
en = "Benefit from transforming patents"
max_points = 30
guidance = "近三年专利实施、转让、许可、质押取得的经济效益。"
measures = "transformation_benefit"

[[rubric]]
key = "management"
zh = "知识产权管理体系"
en = "IP management system"
max_points = 20
guidance = "制度、机构、人员和贯标情况。"
measures = "management"

[[rubric]]
key = "innovation"
zh = "研发投入与创新能力"
en = "R&D investment and innovation"
max_points = 15
guidance = "研发投入占营业收入比例及研发平台。"
measures = "innovation"

[[rubric]]
key = "patents"
zh = "有效发明专利数量"
en = "Valid invention patents"
max_points = 5
guidance = "仅作参考，不作为主要评价依据。"
measures = "patent_count"

[[stages]]
type = "application"

[[stages]]
type = "formal_review"
role = "formal_reviewer"

[[stages]]
type = "expert_review"
role = "formal_reviewer"
panel_size = 5
score_method = "trimmed_mean"
review_days = 10

[[stages]]
type = "leadership_meeting"
role = "leadership"

[[stages]]
type = "public_notice"
role = "notice_officer"
days = 7

[[stages]]
type = "decision"
role = "notice_officer"
document = "recognition_decision"
per_applicant = "certificate"
validity_years = 3
"""
CRITERIA = ("quality", "transformation", "management", "innovation", "patents")
# Five experts' points per criterion; totals 92, 81, 70.5, 85.25, 55.
PANEL_POINTS = [
    ("28", "27", "18", "14", "5"),
    ("25", "24", "16", "12", "4"),
    ("22.5", "20", "15", "10", "3"),
    ("26", "25.25", "17", "13", "4"),
    ("18", "15", "12", "8", "2"),
]
# Dropping 92 and 55: (81 + 70.5 + 85.25) / 3 = 78.9166… -> 78.92.
PANEL_SCORE = Decimal("78.92")


# --- the program under test -----------------------------------------------------------------------


@pytest.fixture
def panel_program(tmp_path, monkeypatch, settings):
    program_installed(tmp_path, monkeypatch, settings, {SLUG: PANEL_PROGRAM})
    yield SLUG
    programs.programs_loaded.cache_clear()


@pytest.fixture
def panel_call(panel_program):
    return CallFactory(program_slug=panel_program, title="2026年度知识产权优势企业认定")


def submitted(user, institution, call) -> Application:
    application = services.application_create(
        user=user,
        call=call,
        institution=institution,
        data={
            "approval_date": call.designation_from,
            "contact_name": "张敏",
            "ip_summary": "建立知识产权管理体系，近三年转化专利12件。",
        },
    )
    services.attachment_add(
        user=user,
        application=application,
        kind="self_assessment",
        upload=demo.pdf_upload("self-assessment.pdf"),
    )
    return services.application_submit(user=user, application=application)


def accepted(user, institution, call, formal_reviewer) -> Application:
    """Submitted and accepted by formal review: the panel is drawn."""
    application = submitted(user, institution, call)
    formal_review_complete(user=formal_reviewer, application=application, outcome="accept")
    application.refresh_from_db()
    return application


@pytest.fixture
def application(panel_call, applicant, institution, formal_reviewer, experts):
    return accepted(applicant, institution, panel_call, formal_reviewer)


# --- reading pages and clicking -----------------------------------------------------------------


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def seats_open(application) -> list[PanelSeat]:
    return list(
        application.seats.filter(status__in=panels.OPEN_SEATS)
        .select_related("expert__user")
        .order_by("pk")
    )


def declare(client, seat, decision="no_conflict", reason="", relation_kind=""):
    """From the expert's task list, open the declaration and send it."""
    listing = text_of(client.get(reverse("expert_seats")))
    url = reverse("seat_declare", args=[seat.pk])
    assert f'href="{url}"' in listing, "no 声明 link for the seat"
    text_of(client.get(url))
    return client.post(
        url, {"decision": decision, "reason": reason, "relation_kind": relation_kind}, follow=True
    )


def score(client, seat, points, comment="技术先进，转化效益明显，管理体系健全。"):
    """Open the scoring page and submit the points, criterion by criterion."""
    url = reverse("seat_score", args=[seat.pk])
    text_of(client.get(url))
    data = {f"points_{key}": value for key, value in zip(CRITERIA, points, strict=True)}
    return client.post(url, data | {"comment": comment, "confirm": "1"}, follow=True)


def declare_and_score(client_for, seat, points, comment="技术先进，转化效益明显。"):
    client = client_for(seat.expert.user)
    response = declare(client, seat)
    assert response.redirect_chain[-1][0] == reverse("seat_score", args=[seat.pk])
    response = score(client, seat, points, comment)
    assert "评分已提交。" in text_of(response)
    return response


def panel_scored(client_for, application, points=PANEL_POINTS) -> Application:
    for seat, given in zip(seats_open(application), points, strict=True):
        declare_and_score(client_for, seat, given)
    application.refresh_from_db()
    return application


def input_value(response, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', response.content.decode())
    assert tag, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None


def expert_tasks(application) -> list[Task]:
    node = flows.FLOWS[SLUG].instance.node("expert_score")
    return list(Task.objects.filter(process_id=application.process_id, flow_task=node))


def open_task(application, node_name: str) -> Task | None:
    node = flows.FLOWS[SLUG].instance.node(node_name)
    return Task.objects.filter(
        process_id=application.process_id,
        flow_task=node,
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
    ).first()


# --- the panel score --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "totals, method, expected",
    [
        (["92", "81", "70.5", "85.25", "55"], "trimmed_mean", "78.92"),
        (["92", "81", "70.5", "85.25", "55"], "mean", "76.75"),
        # Fewer than five scores: the trimmed mean is the plain mean.
        (["80", "70", "90", "60"], "trimmed_mean", "75.00"),
        # Half a cent rounds up (330.10 / 4 = 82.525).
        (["80.10", "85", "80", "85"], "mean", "82.53"),
        ([], "trimmed_mean", None),
    ],
)
def test_panel_score_by_the_programs_method(totals, method, expected):
    result = panels.panel_score_compute([Decimal(t) for t in totals], method)
    assert result == (Decimal(expected) if expected else None)


# --- drawing the panel --------------------------------------------------------------------------


def test_panel_of_five_is_drawn_excluding_the_employee_and_a_declared_relation(
    panel_call, applicant, institution, formal_reviewer, experts
):
    employee, related = experts[0], experts[1]
    employee.employer = institution
    employee.save()
    ExpertRelation.objects.create(
        expert=related, institution=institution, kind=ExpertRelation.Kind.COLLABORATION
    )

    application = accepted(applicant, institution, panel_call, formal_reviewer)

    seats = list(application.seats.select_related("expert", "task"))
    assert {seat.expert for seat in seats} == set(experts[2:])
    assert all(seat.status == Seat.DRAWN for seat in seats)
    # One parallel task per seat, assigned to the seat's expert, all from one split.
    tasks = expert_tasks(application)
    assert len(tasks) == 5
    assert {seat.task for seat in seats} == set(tasks)
    assert all(seat.task.owner_id == seat.expert.user_id for seat in seats)
    assert all(t.status == STATUS.ASSIGNED for t in tasks)
    assert len({str(t.token).rsplit("_", 1)[0] for t in tasks}) == 1
    # Each seat is due ten working days after the draw.
    assert all(seat.due_at > seat.drawn_at + timedelta(days=10) for seat in seats)
    draw = AuditRecord.objects.get(application=application, action="panel_draw")
    assert draw.data["eligible"] == 5 and draw.data["vacant"] == 0
    assert application.status == Status.ACCEPTED and application.panel_score is None


# --- declaring and scoring ----------------------------------------------------------------------


def test_five_experts_declare_and_score_and_the_panel_closes_with_the_trimmed_mean(
    client_for, application, leadership
):
    seats = seats_open(application)
    first = seats[0]
    browser = client_for(first.expert.user)
    # Before declaring, the expert sees who applied, not the application.
    declaration = text_of(browser.get(reverse("seat_declare", args=[first.pk])))
    assert application.institution.name in declaration
    assert "知识产权优势企业认定（专家评审测试）" in declaration
    assert "建立知识产权管理体系" not in declaration
    assert browser.get(reverse("seat_score", args=[first.pk])).url == reverse(
        "seat_declare", args=[first.pk]
    )
    assert browser.get(reverse("application_detail", args=[application.pk])).status_code == 404

    response = declare(browser, first)
    scoring = text_of(response)
    first.refresh_from_db()
    assert first.status == Seat.DECLARED and first.declared_at is not None
    # The scoring page: the application, its attachments, the rubric with maxima and guidance.
    assert "建立知识产权管理体系，近三年转化专利12件。" in scoring
    assert "近三年专利实施、转让、许可、质押取得的经济效益。" in scoring
    assert "有效发明专利数量" in scoring
    attachment = application.attachments.get()
    assert reverse("attachment_download", args=[attachment.pk]) in scoring
    assert browser.get(reverse("attachment_download", args=[attachment.pk])).status_code == 200

    for n, (seat, points) in enumerate(zip(seats, PANEL_POINTS, strict=True)):
        if seat == first:
            score(browser, seat, points)
        else:
            declare_and_score(client_for, seat, points)
        application.refresh_from_db()
        if n < 4:
            assert application.status == Status.ACCEPTED
            assert open_task(application, "leadership_review") is None

    assert application.status == Status.SCORED
    assert application.panel_score == PANEL_SCORE
    totals = sorted(application.seats.values_list("total", flat=True))
    assert totals == [Decimal(t) for t in ("55", "70.5", "81", "85.25", "92")]
    assert ReviewScore.objects.filter(seat__application=application).count() == 25
    close = AuditRecord.objects.get(application=application, action="panel_close")
    assert close.to_status == Status.SCORED and "78.92" in close.reason
    assert (
        close.reason
        == "专家评审得分78.92分（5位专家评分，计分方法：去掉一个最高分和一个最低分后的平均分）。"
    )
    with translation.override("en"):  # the audit trail reads it in the reader's language
        assert close.reason_shown == (
            "Expert review score: 78.92 points (5 experts scored; method: Mean score after "
            "dropping the highest and the lowest score)."
        ), close.reason_shown
    assert AuditRecord.objects.filter(application=application, action="seat_score").count() == 5
    assert AuditRecord.objects.filter(application=application, action="seat_declare").count() == 5
    # The flow moved on to the leadership meeting, which decides on the scored application.
    assert open_task(application, "leadership_review") is not None
    leadership_decide(user=leadership, decisions=[(application, True, "")])
    application.refresh_from_db()
    assert application.status == Status.APPROVED


def test_points_outside_the_range_are_refused_in_chinese_and_the_typed_values_kept(
    client_for, application
):
    seat = seats_open(application)[0]
    browser = client_for(seat.expert.user)
    declare(browser, seat)

    response = score(browser, seat, ("35", "-1", "12.555", "abc", "５"), comment="  ")

    text = text_of(response)
    # Full-width digits were read as 5 (Decimal reads them); a score is typed half-width.
    assert "“有效发明专利数量”的得分请使用半角数字（0-9）输入。" in text
    assert "“技术先进性与专利质量”的得分应在0至30分之间。" in text
    assert "“专利转化运用效益”的得分应在0至30分之间。" in text
    assert "“知识产权管理体系”的得分最多保留两位小数。" in text
    assert "“研发投入与创新能力”的得分应为数字。" in text
    assert "请填写评审意见。" in text
    assert input_value(response, "points_quality") == "35"
    assert input_value(response, "points_transformation") == "-1"
    assert input_value(response, "points_innovation") == "abc"
    assert input_value(response, "points_patents") == "５"
    seat.refresh_from_db()
    assert seat.status == Seat.DECLARED and seat.total is None
    assert not ReviewScore.objects.filter(seat=seat).exists()
    assert seat.task.status == STATUS.ASSIGNED


def test_points_written_as_exponents_and_a_comment_of_pages_are_refused(client_for, application):
    """Decimal() read 1e1 as 10 and the comment had no limit (5,000 characters were stored)."""
    seat = seats_open(application)[0]
    browser = client_for(seat.expert.user)
    declare(browser, seat)

    response = score(browser, seat, ("1e1", "1_0", "+5", "20", "10"), comment="意见" * 1001)

    text = text_of(response)
    assert "“技术先进性与专利质量”的得分应为数字。" in text
    assert "“专利转化运用效益”的得分应为数字。" in text
    assert "“知识产权管理体系”的得分应为数字。" in text
    assert "理由不能超过2000字（现为2002字）" in text
    assert input_value(response, "points_quality") == "1e1"
    assert not ReviewScore.objects.filter(seat=seat).exists()


# --- recusal, late experts, vacant seats -------------------------------------------------------


def test_recusal_draws_a_replacement_who_takes_over_the_same_task(client_for, application):
    seats = seats_open(application)
    recusing = seats[0]
    task = recusing.task
    browser = client_for(recusing.expert.user)

    response = declare(
        browser,
        recusing,
        decision="recuse",
        reason="本人近三年与该单位有合作研发项目。",
        relation_kind=ExpertRelation.Kind.COLLABORATION,
    )

    assert "已登记回避，系统已另行抽取专家。" in text_of(response)
    recusing.refresh_from_db()
    assert recusing.status == Seat.RECUSED
    assert recusing.recusal_reason == "本人近三年与该单位有合作研发项目。"
    assert ExpertRelation.objects.filter(
        expert=recusing.expert, institution=application.institution
    ).exists()
    replacement = application.seats.get(status=Seat.DRAWN, task=task)
    assert replacement.expert not in {seat.expert for seat in seats}
    task.refresh_from_db()
    assert task.owner_id == replacement.expert.user_id and task.status == STATUS.ASSIGNED
    assert len(expert_tasks(application)) == 5  # the branch count did not change
    assert AuditRecord.objects.filter(application=application, action="seat_recuse").exists()
    assert AuditRecord.objects.get(application=application, action="seat_draw").data[
        "replaces"
    ] == (recusing.pk)
    # The recused expert never opens the application.
    assert browser.get(reverse("seat_score", args=[recusing.pk])).status_code == 404
    assert browser.get(reverse("application_detail", args=[application.pk])).status_code == 404

    application = panel_scored(client_for, application)

    assert application.status == Status.SCORED
    assert application.panel_score == PANEL_SCORE
    assert application.seats.filter(status=Seat.SCORED).count() == 5


def test_a_late_expert_is_replaced_by_staff_and_the_stage_still_ends(
    client_for, application, formal_reviewer
):
    seats = seats_open(application)
    late, on_time = seats[0], seats[1]
    PanelSeat.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    staff = client_for(formal_reviewer)
    panel_url = reverse("panel_detail", args=[application.pk])

    panel = text_of(staff.get(panel_url))
    assert "已逾期" in panel
    assert reverse("panel_replace", args=[late.pk]) in panel
    assert reverse("panel_replace", args=[on_time.pk]) not in panel
    # An expert who is on time cannot be replaced.
    response = staff.post(reverse("panel_replace", args=[on_time.pk]), follow=True)
    assert "只能替换超过评审期限仍未评分的专家。" in text_of(response)
    on_time.refresh_from_db()
    assert on_time.status == Seat.DRAWN

    response = staff.post(
        reverse("panel_replace", args=[late.pk]), {"reason": "逾期未评"}, follow=True
    )

    assert "已替换逾期专家，并重新抽取了专家。" in text_of(response)
    late.refresh_from_db()
    assert late.status == Seat.REPLACED
    replacement = application.seats.get(status=Seat.DRAWN, task=late.task)
    late.task.refresh_from_db()
    assert late.task.owner_id == replacement.expert.user_id
    assert AuditRecord.objects.get(application=application, action="seat_replace").reason == (
        "逾期未评"
    )
    # The late expert can no longer declare or score.
    late_browser = client_for(late.expert.user)
    assert late_browser.get(reverse("seat_score", args=[late.pk])).status_code == 404
    assert late_browser.get(reverse("seat_declare", args=[late.pk])).url == reverse("expert_seats")

    application = panel_scored(client_for, application)

    assert application.status == Status.SCORED
    assert application.panel_score == PANEL_SCORE


def test_a_seat_the_pool_cannot_fill_waits_for_staff_who_draw_again_or_close_it(
    client_for, application, institution, formal_reviewer, experts
):
    # The pool of seven less the five on the panel: make the other two ineligible.
    seated = {seat.expert for seat in seats_open(application)}
    for expert in set(experts) - seated:
        expert.employer = institution
        expert.save()
    first = seats_open(application)[0]
    task = first.task
    staff = client_for(formal_reviewer)

    declare(client_for(first.expert.user), first, decision="recuse", reason="近亲属在该单位任职。")

    task.refresh_from_db()
    assert task.owner_id is None and task.status == STATUS.NEW
    assert task in tasks_actionable_by(formal_reviewer)  # the vacant seat is staff's to handle
    assert AuditRecord.objects.filter(application=application, action="panel_vacancy").exists()
    panel = text_of(staff.get(reverse("panel_detail", args=[application.pk])))
    assert "空缺席位" in panel
    vacancy_url = reverse("panel_vacancy", args=[task.pk])
    response = staff.post(vacancy_url, {"action": "draw"}, follow=True)
    assert "专家库中没有可抽取的专家" in text_of(response)

    # An expert joins the pool: drawing again seats them on the same task.
    newcomer = Expert.objects.create(user=UserFactory(role="expert"), name="专家8")
    response = staff.post(vacancy_url, {"action": "draw"}, follow=True)
    assert "已为空缺席位抽取专家。" in text_of(response)
    seat = application.seats.get(expert=newcomer)
    assert seat.task == task and seat.status == Seat.DRAWN

    # The newcomer recuses too; with nobody left, staff close the seat with a reason.
    declare(client_for(newcomer.user), seat, decision="recuse", reason="曾为该单位提供咨询。")
    assert staff.post(vacancy_url, {"action": "close"}, follow=True).status_code == 200
    task.refresh_from_db()
    assert task.status == STATUS.NEW  # a reason is required
    response = staff.post(vacancy_url, {"action": "close", "reason": "专家库不足。"}, follow=True)
    assert "空缺席位已关闭。" in text_of(response)
    task.refresh_from_db()
    assert task.status == STATUS.DONE

    # The four others score: fewer than five scores, so the plain mean.
    application = panel_scored(client_for, application, PANEL_POINTS[:4])
    assert application.status == Status.SCORED
    assert application.panel_score == Decimal("82.19")  # (92 + 81 + 70.5 + 85.25) / 4


# --- what staff see -----------------------------------------------------------------------------


def test_ranking_lists_the_calls_applications_by_panel_score_with_the_spread(
    client_for, panel_call, applicant, institution, formal_reviewer, experts
):
    high = accepted(applicant, institution, panel_call, formal_reviewer)
    other = institution_for(applicant, name="贵州黔通智联科技有限公司")
    low = accepted(applicant, other, panel_call, formal_reviewer)
    panel_scored(
        client_for, low, [(v, "10", "10", "10", "5") for v in ("25", "27", "29", "21", "23")]
    )
    panel_scored(client_for, high)
    staff = client_for(formal_reviewer)

    text = text_of(staff.get(reverse("ranking", args=[panel_call.pk])))

    rows = re.findall(r'<tr class="ranking-row">(.*?)</tr>', text, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", re.sub(r"<a [^>]*>|</a>", "", row)) for row in rows]
    assert cells == [
        ["1", institution.name, "78.92", "5", "55.00", "92.00", "37.00"],
        ["2", other.name, "60.00", "5", "56.00", "64.00", "8.00"],
    ]
    # The panel page shows every expert's scores to staff.
    panel = text_of(staff.get(reverse("panel_detail", args=[high.pk])))
    assert "78.92" in panel and "85.25" in panel and "22.50" in panel


# --- refusals -----------------------------------------------------------------------------------


def test_experts_reach_only_their_own_seats_and_never_others_scores(
    client_for,
    panel_call,
    applicant,
    institution,
    other_applicant,
    other_institution,
    formal_reviewer,
    experts,
):
    application = accepted(applicant, institution, panel_call, formal_reviewer)
    mine, theirs = seats_open(application)[:2]
    # An application whose panel cannot include `mine` (employed by that applicant).
    Expert.objects.filter(pk=mine.expert_id).update(employer=other_institution)
    elsewhere = accepted(other_applicant, other_institution, panel_call, formal_reviewer)
    assert not elsewhere.seats.filter(expert_id=mine.expert_id).exists()
    me = client_for(mine.expert.user)
    declare(me, mine)
    declare_and_score(client_for, theirs, PANEL_POINTS[0], comment="独特的评审意见甲乙丙。")

    # Another expert's seat, declared or not: 404.
    for url_name in ("seat_declare", "seat_score"):
        assert me.get(reverse(url_name, args=[theirs.pk])).status_code == 404
    # An application with no seat of theirs: 404.
    assert me.get(reverse("application_detail", args=[elsewhere.pk])).status_code == 404
    # The scoring page shows no one else's scores, and the panel page is staff's.
    own_page = text_of(me.get(reverse("seat_score", args=[mine.pk])))
    assert "独特的评审意见甲乙丙。" not in own_page and theirs.expert.name not in own_page
    assert me.get(reverse("panel_detail", args=[application.pk])).status_code == 403
    assert me.get(reverse("ranking", args=[panel_call.pk])).status_code == 403
    response = me.post(reverse("panel_replace", args=[theirs.pk]))
    assert response.status_code == 403
    # Scoring someone else's seat through the service is refused too.
    with pytest.raises(PermissionDenied):
        panels.seat_score(user=mine.expert.user, seat=theirs, points={}, comment="x")


def test_a_score_is_not_submitted_without_the_confirmation_ticked(client_for, application):
    """Scores cannot be changed once submitted: the expert ticks 我已核对… first."""
    seat = seats_open(application)[0]
    client = client_for(seat.expert.user)
    declare(client, seat)
    url = reverse("seat_score", args=[seat.pk])
    assert "我已核对各项得分和评审意见，确认提交" in text_of(client.get(url))
    points = dict(zip(CRITERIA, PANEL_POINTS[0], strict=True))
    data = {f"points_{key}": value for key, value in points.items()} | {"comment": "材料翔实。"}
    response = client.post(url, data, follow=True)
    assert "请先勾选“我已核对”确认后再提交：该操作提交后不能撤回。" in text_of(response)
    seat.refresh_from_db()
    assert seat.status == PanelSeat.Status.DECLARED and not seat.scores.exists()
    response = client.post(url, data | {"confirm": "1"}, follow=True)
    assert "评分已提交。" in text_of(response)
    seat.refresh_from_db()
    assert seat.status == PanelSeat.Status.SCORED


def test_users_who_are_not_experts_cannot_score(client_for, application, applicant, client):
    seat = seats_open(application)[0]
    url = reverse("seat_score", args=[seat.pk])
    for user in (applicant, UserFactory(role="formal_reviewer")):
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).post(url, {"comment": "x"}).status_code == 403
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response.url


def test_the_inbox_task_leads_the_expert_to_their_seat(client_for, application):
    seat = seats_open(application)[0]
    response = client_for(seat.expert.user).get(reverse("expert_task", args=[seat.task_id]))
    assert response.url == reverse("seat_declare", args=[seat.pk])
    other = seats_open(application)[1]
    assert (
        client_for(other.expert.user).get(reverse("expert_task", args=[seat.task_id])).status_code
        == 404
    )


# --- the flow chart -----------------------------------------------------------------------------


def test_the_flow_chart_renders_the_expert_review_stage(client_for, panel_program, formal_reviewer):
    flow_class = flows.FLOWS[panel_program]
    svg = chart.grid_to_svg(chart.calc_layout_data(flow_class))
    # Human tasks carry their Chinese titles (the inbox shows the same words).
    for title in ("Draw Panel", "专家评分", "Panel Close", "审议"):
        assert title in svg
    assert "v 9 m 5 -9 v 9" in svg  # expert_score carries the parallel multi-instance marker
    response = client_for(formal_reviewer).get(reverse("program_chart", args=[panel_program]))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"


def test_experts_see_the_merits_not_the_applicants_contact_or_bank(
    client_for, application, formal_reviewer
):
    """PIPL's minimum: an expert needs what is scored, not whom to call or where money goes."""
    application.bank_account = "6222000011112222"
    application.save(update_fields=["bank_account"])
    seat = seats_open(application)[0]
    browser = client_for(seat.expert.user)
    scoring = text_of(declare(browser, seat))
    detail = text_of(browser.get(reverse("application_detail", args=[application.pk])))
    for page in (scoring, detail):
        assert "建立知识产权管理体系" in page
        assert "张敏" not in page and "6222000011112222" not in page
    staff = text_of(
        client_for(formal_reviewer).get(reverse("application_detail", args=[application.pk]))
    )
    assert "张敏" in staff
