"""Program shapes the four shipped programs do not use, each run from its file alone
(tests/programs/) through the pages a person uses: a recognition with no public notice, the
leadership meeting before the experts and the city's recommendation after the formal review, a
notice counted in working days, two expert rounds each with its own panel size and rubric where
only the best N go on, and grants whose amount a rule computes from the applicant's figures."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.status import PROCESS

from documents.models import Document
from tests.documents.pdfs import compact
from tests.factories import CallFactory
from tests.programs_support import program_installed, program_text
from tests.workflows import competitive_steps as cs
from tests.workflows import http_steps as steps
from workflows import calendar, demo, programs
from workflows.models import Application, PanelResult, PanelSeat, Payment
from workflows.stages.expert_review import services as panels

pytestmark = pytest.mark.django_db

Status = Application.Status
SHAPES = (
    "recognition_without_notice",
    "leadership_before_panel",
    "award_two_rounds",
    "licence_grant_share",
    "licence_grant_grades",
    "joint_grant",
    "brand_commendation",
    "level_recognition",
)


@pytest.fixture
def shapes(tmp_path, monkeypatch, settings):
    program_installed(tmp_path, monkeypatch, settings, {s: program_text(s) for s in SHAPES})
    yield
    programs.programs_loaded.cache_clear()


@pytest.fixture
def cast(shapes):
    return demo.cast_make(expert_count=10)


@pytest.fixture
def clients(cast):
    return cs.browsers(cast)


def registered(cast, serial: int, region_code: str = "520100"):
    return demo.institution_make(
        user=cast.applicant, serial=serial, name=f"贵州样例单位{serial}号", region_code=region_code
    )


def decided_through_the_call_page(clients, call):
    return steps.call_manage(clients.notice, call, "decide")


# --- a recognition without a public notice ------------------------------------------------------


def test_a_recognition_without_notice_is_decided_straight_after_the_leadership_meeting(
    cast, clients
):
    """Its own fields (a number with a floor, a choice, a declaration) are asked and checked in
    Chinese, what was typed is kept, and the decision follows the leadership meeting: no notice
    is published and nobody waits for one."""
    call = CallFactory(program_slug="recognition_without_notice", title="2026年度示范单位认定")
    institution = registered(cast, 51)
    form = steps.page(clients.applicant.get(reverse("application_create", args=[call.pk])))
    assert "职工人数" in form and "所属行业" in form and "本单位近三年无严重失信行为" in form
    assert "获批级别" not in form

    fields = {"contact_name": "王芳", "employees": "5", "sector": "manufacturing"}
    application, page = cs.draft_create(clients.applicant, call, institution, fields)
    assert application is None
    assert "不能小于10。" in steps.form_errors(page)
    assert "请阅读并勾选此项声明。" in steps.form_errors(page)
    assert steps.input_value(page, "contact_name") == "王芳"  # what was typed is kept
    application, page = cs.draft_create(
        clients.applicant,
        call,
        institution,
        fields | {"employees": "１２０", "no_dishonesty": "on"},
    )
    assert application is None and "请使用半角数字（0-9）输入。" in steps.form_errors(page)
    application = cs.submitted(
        clients.applicant, call, institution, fields | {"employees": "120", "no_dishonesty": "on"}
    )
    assert application.extra["employees"] == 120 and application.extra["sector"] == "manufacturing"

    steps.formal_review(clients.reviewer, application, "accept")
    # The decision lists the whole call: it waits while an application is still on its way.
    response = decided_through_the_call_page(clients, call)
    assert "该批次还有1项申报尚未办结前序环节" in " ".join(steps.messages_shown(response))
    steps.leadership_one_by_one(clients.leader, call, {application: ("approve", "")})
    response = decided_through_the_call_page(clients, call)
    assert "决定正在后台印发，请查看印发进度。" in steps.messages_shown(response)

    application.refresh_from_db()
    assert application.status == Status.DECIDED and application.public_notice is None
    assert not call.public_notices.exists()
    assert application.process.status == PROCESS.DONE
    certificate = steps.document_text(clients.applicant, application, "贵州省知识产权示范单位")
    assert "贵州样例单位51号" in steps.squeeze(certificate)
    # The decision names the steps this program took, and no others.
    decision = Document.objects.get(call=call, application__isnull=True)
    text = steps.squeeze(steps.pdf_text(decision.file.read()))
    assert "经申报、形式审查和审议，" in text
    assert "公示" not in text and "专家评审" not in text


def test_a_commendation_of_institutions_says_so_and_names_no_patents(cast):
    """A commendation whose applicants hold no patents: its decision commends institutions
    (受表彰单位, their credit codes) after the steps its file has, and each certificate says the
    institution was named (被评为) to its tier, not recognised."""
    from workflows.rehearsal import rehearse

    report = rehearse(cast=cast, slug="brand_commendation", passing_only=True)
    assert report["ok"], report
    decision = Document.objects.get(kind="commendation_decision")
    text = steps.squeeze(steps.pdf_text(decision.file.read()))
    assert decision.title == "关于知识产权服务品牌机构表彰的决定"  # not 表彰的表彰决定
    assert "经申报、形式审查和评审委员会评定，" in text and "共评出受表彰单位1家" in text
    assert "受表彰单位名单" in text and "统一社会信用代码" in text
    assert "专利" not in text and "公示" not in text
    certificate = Document.objects.get(kind="certificate")
    assert certificate.title == "知识产权服务品牌机构表彰证书"
    words = steps.squeeze(steps.pdf_text(certificate.file.read()))
    assert "被评为示范机构，特发此证。" in words and "认定" not in words
    acceptance = Document.objects.get(kind="acceptance_notice")
    words = steps.squeeze(steps.pdf_text(acceptance.file.read()))
    assert "审核结果经评审委员会评定后另行通知。" in words and "公示" not in words


def test_a_recognition_of_stated_levels_words_each_refusal_and_counts_validity_to_its_eve(cast):
    """Tiers without amounts (nothing is paid, so no amount is ever computed: submitting once
    ended in a TypeError), a meeting named 厅（局）长办公会审议 and a committee named
    认定委员会审定: their refusals do not repeat the verb, the committee's says 不予认定, and
    three years from the decision end the day before its anniversary."""
    from documents.rendering import chinese_date
    from workflows.rehearsal import rehearse

    report = rehearse(cast=cast, slug="level_recognition")
    assert report["ok"], report

    def texts(kind):
        documents = Document.objects.filter(kind=kind)
        assert documents.exists(), kind
        return [steps.squeeze(steps.pdf_text(d.file.read())) for d in documents]

    for words in texts("rejection_decision"):
        assert "经厅（局）长办公会审议，未获通过。" in words and "审议审议" not in words
    for words in texts("not_awarded_decision"):
        assert "经认定委员会审定，未获通过。" in words and "表决" not in words
        assert "不予认定。" in words and "奖励" not in words
    for decision in Document.objects.filter(kind="recognition_decision"):
        first = timezone.localtime(decision.issued_at).date()
        last = first.replace(year=first.year + 3) - timedelta(days=1)
        words = steps.squeeze(steps.pdf_text(decision.file.read()))
        assert f"认定有效期三年，自{chinese_date(first)}至{chinese_date(last)}。" in words
        for certificate in Document.objects.filter(kind="certificate", call=decision.call):
            text = steps.squeeze(steps.pdf_text(certificate.file.read()))
            assert f"有效期至{chinese_date(last)}" in text


# --- leadership before the experts, recommendation after the review, a notice in working days --


def test_leadership_before_the_panel_and_a_recommendation_after_the_formal_review(cast, clients):
    call = CallFactory(program_slug="leadership_before_panel", title="2026年度高价值专利培育中心")
    institution = registered(cast, 52)
    application = cs.submitted(
        clients.applicant,
        call,
        institution,
        {"contact_name": "李强", "founded": "2020-05-01"},
    )
    steps.formal_review(clients.reviewer, application, "accept")
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED
    response = cs.recommend(cs.city_browser(clients, institution), application, "recommend")
    assert "已推荐" in " ".join(steps.messages_shown(response))
    assert not application.seats.exists()  # the experts come after the leadership meeting
    steps.leadership_one_by_one(clients.leader, call, {application: ("approve", "")})
    application = cs.panel_scored(application, ["50", "30"])
    assert application.status == Status.SCORED and application.panel_score == Decimal("80.00")
    assert application.seats.filter(status=PanelSeat.Status.SCORED).count() == 3

    steps.call_manage(clients.notice, call, "publish")
    notice = steps.notice_of(call)
    assert notice.ends_at == calendar.working_days_after(notice.starts_at, 5)
    demo.notice_expire(call)
    decided_through_the_call_page(clients, call)
    application.refresh_from_db()
    assert application.status == Status.DECIDED and application.process.status == PROCESS.DONE


def test_a_founding_date_after_the_files_maximum_is_refused_in_chinese(cast, clients):
    call = CallFactory(program_slug="leadership_before_panel")
    application, page = cs.draft_create(
        clients.applicant,
        call,
        registered(cast, 53),
        {"contact_name": "李强", "founded": "2026-01-02"},
    )
    assert application is None and "不能晚于2025年12月31日。" in steps.form_errors(page)


# --- two expert rounds ----------------------------------------------------------------------------


def round_ranking(client, call, round_key: str) -> list[tuple[str, str, str]]:
    url = reverse("ranking", args=[call.pk]) + f"?round={round_key}"
    text = steps.page(client.get(url))
    rows = re.findall(r'<tr class="ranking-row">(.*?)</tr>', text, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", re.sub(r"<a [^>]*>|</a>", "", row)) for row in rows]
    return [(c[0], c[1], c[2]) for c in cells]


def test_two_expert_rounds_with_their_own_panels_and_rubrics_pass_only_the_best(cast, clients):
    """初评: panels of 3 score the first rubric; only the best 4 of the call go on, the fifth
    ends with a numbered 评审结果决定书 that states its score, rank and remedies. 终评: panels of
    7 score the second rubric. Each round's ranking is kept apart."""
    call = CallFactory(program_slug="award_two_rounds", title="2026年度科技成果转化奖")
    applications = []
    for n in range(5):
        institution = registered(cast, 60 + n)
        applications.append(
            cs.submitted(
                clients.applicant,
                call,
                institution,
                {
                    "patent_number": demo.patent_number_make(6000 + n),
                    "bank_name": "中国银行",
                    "account_name": institution.name,
                    "bank_account": "2402000012345678",
                },
            )
        )
    for application in applications:
        steps.formal_review(clients.reviewer, application, "accept")
    # 初评: three experts each, the first round's rubric.
    first = applications[0]
    seat = first.seats.select_related("expert__user").first()
    scoring = cs.browser(seat.expert.user)
    cs.declare(scoring, seat)
    page = steps.page(scoring.get(reverse("seat_score", args=[seat.pk])))
    assert "技术创新性" in page and "产业带动作用" not in page
    for n, application in enumerate(applications):
        assert application.seats.filter(stage_key="initial_review").count() == 3
        cs.panel_scored(application, [str(45 - 5 * n), str(40 - 5 * n)])
    ranking = round_ranking(clients.reviewer, call, "initial_review")
    assert [name for _rank, name, _score in ranking] == [a.institution.name for a in applications]
    assert [score for *_rest, score in ranking] == ["85.00", "75.00", "65.00", "55.00", "45.00"]
    assert round_ranking(clients.reviewer, call, "final_review") == []
    assert not PanelSeat.objects.filter(stage_key="final_review").exists()  # nobody goes on yet

    # The panel manager closes the round from the ranking page.
    url = reverse("round_close", args=[call.pk, "initial_review"])
    ranking_page = steps.page(clients.reviewer.get(reverse("ranking", args=[call.pk])))
    assert f'action="{url}"' in ranking_page
    assert clients.leader.post(url).status_code == 403
    response = clients.reviewer.post(url, follow=True)
    assert "正在印发评审结果决定书" in " ".join(steps.messages_shown(response))
    steps.tasks_run()  # the worker closes the round and issues its decisions

    last = applications[-1]
    last.refresh_from_db()
    assert last.status == Status.NOT_ADVANCED and last.process.status == PROCESS.DONE
    result = PanelResult.objects.get(application=last, stage_key="initial_review")
    assert (result.rank, result.advanced) == (5, False)
    text = compact(steps.document_text(clients.applicant, last, "评审结果决定书"))
    for words in ("初评", "得分45.00分", "排名第5位", "前4位", "最低得分为55.00分"):
        assert words in text, words
    assert "六十日内向贵州省人民政府申请行政复议" in text and "六个月内" in text
    assert last.documents.get(kind="round_result_decision").number.startswith("黔市监知〔")

    # 终评: the four that went on, seven experts each, the second rubric.
    for n, application in enumerate(applications[:4]):
        application.refresh_from_db()
        assert application.seats.filter(stage_key="final_review").count() == 7
        seat = application.seats.filter(stage_key="final_review").first()
        assert [
            row["key"] for row in panels.stage_rules(application, "final_review")["rubric"]
        ] == [
            "impact",
            "quality",
        ]
        cs.panel_scored(application, [str(30 + 5 * n), str(20 + 5 * n)])
    final = round_ranking(clients.reviewer, call, "final_review")
    assert [name for _r, name, _s in final] == [a.institution.name for a in applications[3::-1]]
    assert round_ranking(clients.reviewer, call, "initial_review")[0][2] == "85.00"  # kept apart

    # The panel page shows both rounds, each with its own panel.
    panel_page = steps.page(clients.reviewer.get(reverse("panel_detail", args=[first.pk])))
    assert "初评" in panel_page and "终评" in panel_page

    # The committee, the notice, the decision and the payment follow as the file says.
    leader, runner_up = applications[3], applications[2]
    cs.committee_vote(
        clients.committee,
        call,
        {leader: "first", runner_up: "second", applications[1]: "second", applications[0]: "none"},
        {applications[0]: "综合得分排名靠后。"},
    )
    steps.call_manage(clients.notice, call, "publish")
    notice = steps.notice_of(call)
    assert notice.ends_at == calendar.working_days_after(notice.starts_at, 5)
    demo.notice_expire(call)
    decided_through_the_call_page(clients, call)
    steps.paid(clients, leader, voucher="PZ-ROUNDS-1")
    assert Payment.objects.get(application=leader).amount == Decimal("100000.00")


def test_a_round_cannot_close_while_a_panel_of_the_call_still_scores(cast, clients):
    call = CallFactory(program_slug="award_two_rounds")
    a, b = (
        cs.submitted(
            clients.applicant,
            call,
            registered(cast, 70 + n),
            {
                "patent_number": demo.patent_number_make(7000 + n),
                "bank_name": "中国银行",
                "account_name": "样例",
                "bank_account": "2402000012345678",
            },
        )
        for n in range(2)
    )
    for application in (a, b):
        steps.formal_review(clients.reviewer, application, "accept")
    cs.panel_scored(a, ["40", "40"])
    url = reverse("round_close", args=[call.pk, "initial_review"])
    response = clients.reviewer.post(url, follow=True)
    assert "该批次还有1项申报尚未完成本轮评审" in " ".join(steps.messages_shown(response))
    a.refresh_from_db()
    assert a.status == Status.SCORED and not PanelResult.objects.filter(rank__isnull=False).exists()


# --- computed amounts --------------------------------------------------------------------------


def grant_through(clients, call, applications):
    for application in applications:
        steps.formal_review(clients.reviewer, application, "accept")
    steps.leadership_one_by_one(clients.leader, call, {a: ("approve", "") for a in applications})
    if call.program_slug == "licence_grant_share":
        steps.call_manage(clients.notice, call, "publish")
        demo.notice_expire(call)
    decided_through_the_call_page(clients, call)
    for n, application in enumerate(applications):
        steps.paid(clients, application, voucher=f"PZ-{call.pk}-{n}")


def test_a_grant_of_ten_percent_between_a_floor_and_a_cap(cast, clients):
    """The applicant types the contract value (with a ¥ sign and separators if they like); the
    rule computes the amount, and the letter says how."""
    call = CallFactory(program_slug="licence_grant_share", title="2026年度专利许可转化资助")
    registered(cast, 79)
    form = steps.page(clients.applicant.get(reverse("application_create", args=[call.pk])))
    assert "许可合同金额（元）" in form and "获批级别" not in form
    values = {"¥1,500,000.00": "150000.00", "5000000": "200000.00", "120,000": "20000.00"}
    applications = []
    for n, typed in enumerate(values):
        institution = registered(cast, 80 + n)
        applications.append(
            cs.submitted(
                clients.applicant,
                call,
                institution,
                {
                    "contract_number": f"2026-LIC-{n}",
                    "contract_value": typed,
                    "bank_name": "中国银行",
                    "account_name": institution.name,
                    "bank_account": "2402000012345678",
                },
            )
        )
    assert applications[0].extra["contract_value"] == "1500000.00"
    grant_through(clients, call, applications)
    paid = [Payment.objects.get(application=a).amount for a in applications]
    assert paid == [Decimal(v) for v in values.values()]
    assert all(isinstance(amount, Decimal) for amount in paid)
    letter = compact(steps.document_text(clients.applicant, applications[0], "奖励通知书"))
    assert "资助金额按许可合同金额¥1,500,000.00的10%计算" in letter
    capped = compact(steps.document_text(clients.applicant, applications[1], "奖励通知书"))
    assert "超过最高额¥200,000.00的按最高额" in capped and "人民币贰拾万元整" in capped

    # The same contract is never paid twice: a second call refuses it at submission.
    again = CallFactory(program_slug="licence_grant_share")
    draft, _page = cs.draft_create(
        clients.applicant,
        again,
        applications[0].institution,
        {
            "contract_number": "2026-LIC-0",
            "contract_value": "1500000",
            "bank_name": "中国银行",
            "account_name": "样例",
            "bank_account": "2402000012345678",
        },
    )
    response = steps.submit(clients.applicant, draft)
    assert "同一认定不重复资助" in " ".join(steps.messages_shown(response))


def test_a_grant_graded_by_the_contract_value_which_the_applicant_cannot_pick(cast, clients):
    call = CallFactory(program_slug="licence_grant_grades", title="2026年度分档资助")
    registered(cast, 89)
    form = steps.page(clients.applicant.get(reverse("application_create", args=[call.pk])))
    assert "一档" not in form and 'name="tier"' not in form
    values = {
        "6000000": ("200000.00", "一档"),
        "2000000": ("100000.00", "二档"),
        "300000": ("30000.00", "三档"),
    }
    applications = []
    for n, typed in enumerate(values):
        institution = registered(cast, 90 + n)
        fields = {
            "contract_value": typed,
            "bank_name": "中国银行",
            "account_name": institution.name,
            "bank_account": "2402000012345678",
        }
        applications.append(cs.submitted(clients.applicant, call, institution, fields))
    too_small, page = cs.draft_create(
        clients.applicant, call, registered(cast, 99), {"contract_value": "150000"}
    )
    assert too_small is None and "不能小于¥200,000.00。" in steps.form_errors(page)
    grant_through(clients, call, applications)
    for application, (amount, grade) in zip(applications, values.values(), strict=True):
        payment = Payment.objects.get(application=application)
        assert payment.amount == Decimal(amount) and payment.tier.startswith("grade_")
        letter = compact(steps.document_text(clients.applicant, application, "奖励通知书"))
        assert f"所属档次“{grade}”确定" in letter
        # A grade of a figure is not a level: the letter did read 你单位获批一档.
        assert f"获批{grade}" not in letter
        notice = compact(steps.document_text(clients.applicant, application, "资助决定通知书"))
        assert f"资助档次：{grade}" in notice and f"获批级别：{grade}" not in notice
    from documents.models import Document
    from tests.documents.pdfs import document_pdf

    decision = Document.objects.get(call=call, kind=Document.Kind.FUNDING_DECISION)
    listed = compact(steps.pdf_text(document_pdf(decision)))
    assert "档次" in listed and "级别" not in listed


# --- a joint document ------------------------------------------------------------------------


def test_a_program_issued_jointly_names_both_issuers_and_the_lead_numbers_it(cast, clients):
    call = CallFactory(program_slug="joint_grant", title="2026年度专利转化联合资助")
    institution = registered(cast, 95)
    application = cs.submitted(
        clients.applicant,
        call,
        institution,
        {
            "contract_value": "2000000",
            "bank_name": "中国银行",
            "account_name": institution.name,
            "bank_account": "2402000012345678",
        },
    )
    steps.formal_review(clients.reviewer, application, "accept")
    steps.leadership_one_by_one(clients.leader, call, {application: ("approve", "")})
    decided_through_the_call_page(clients, call)
    decision = call.documents.get(kind="funding_decision", application__isnull=True)
    assert decision.number.startswith("黔市监知〔")
    with decision.file.open("rb") as stored:
        text = compact(steps.pdf_text(stored.read()))
    assert (
        text.index("贵州省市场监督管理局") < text.index("贵州省财政厅") < text.index("黔市监知〔")
    )
    assert "抄送：国家知识产权局，各市州市场监督管理局、财政局。" in text
    assert "印发" in text


def test_a_committee_held_by_the_leadership_votes_from_the_leaderships_inbox(cast, clients):
    """A program may give the committee's vote to another role (brand_commendation: the
    leadership): the vote reaches that role's inbox and page, not the award committee's, and
    the certificate follows from the call page."""
    call = CallFactory(program_slug="brand_commendation", title="2026年度服务品牌机构表彰")
    application = cs.submitted(clients.applicant, call, registered(cast, 61), {"clients": "40"})
    steps.formal_review(clients.reviewer, application, "accept")

    url = reverse("committee_list", args=[call.pk])
    inbox = steps.page(clients.leader.get(reverse("inbox")))
    task = re.search(r'<a href="(/tasks/\d+/)">评审委员会表决</a>', inbox)
    assert task, "the vote is not in the leadership's inbox"
    assert clients.leader.get(task.group(1), follow=True).redirect_chain[-1][0] == url
    assert "评审委员会表决" not in steps.page(clients.committee.get(reverse("inbox")))
    assert clients.committee.get(url).status_code == 403
    response = cs.committee_vote(clients.leader, call, {application: "model"})
    assert "名单已批准" in " ".join(steps.messages_shown(response))
    response = decided_through_the_call_page(clients, call)
    assert "决定正在后台印发，请查看印发进度。" in steps.messages_shown(response)
    application.refresh_from_db()
    assert application.status == Status.DECIDED
    certificate = steps.document_text(
        clients.applicant, application, "知识产权服务品牌机构表彰证书"
    )
    assert "被评为示范机构，特发此证。" in steps.squeeze(certificate)


@pytest.mark.parametrize("per_applicant", ["certificate", "decision_notice"])
def test_the_letters_of_a_paid_commendation_cite_the_commendation(
    tmp_path, monkeypatch, settings, per_applicant
):
    """Paid by tier, without patents: the award letter (and a decision notice, when the program
    sends one instead of a certificate) cites the 表彰决定 by its number, says the institution
    was named to its tier and calls the money 奖励金额 (a grant's letters say 资助)."""
    from workflows.rehearsal import rehearse

    text = program_text("brand_commendation").replace(
        'slug = "brand_commendation"', 'slug = "brand_commendation_paid"'
    )
    text = text.replace("rank = 2\n", 'rank = 2\namount = "80000.00"\n')
    text = text.replace("rank = 1\n", 'rank = 1\namount = "30000.00"\n')
    text += '\n[[stages]]\ntype = "disbursement"\n'
    text = text.replace('per_applicant = "certificate"', f'per_applicant = "{per_applicant}"')
    text = text.replace(
        '[[fields]]\nname = "clients"',
        '[[fields]]\nname = "bank_name"\ntype = "text"\nzh = "开户银行"\nen = "Bank"\n\n'
        '[[fields]]\nname = "account_name"\ntype = "text"\nzh = "账户名称"\nen = "Account"\n\n'
        '[[fields]]\nname = "bank_account"\ntype = "bank_account"\nzh = "银行账号"\n'
        'en = "Account number"\n\n[[fields]]\nname = "clients"',
    )
    program_installed(tmp_path, monkeypatch, settings, {"brand_commendation_paid": text})
    try:
        report = rehearse(
            cast=demo.cast_make(logins=False), slug="brand_commendation_paid", passing_only=True
        )
        assert report["ok"], report
        decision = Document.objects.get(kind="commendation_decision")
        letter = Document.objects.get(kind="award_letter")
        words = steps.squeeze(steps.pdf_text(letter.file.read()))
        assert f"表彰决定（{decision.number}）" in words and "资助决定" not in words
        assert "你单位被评为示范机构，按规定给予奖励。" in words
        assert "奖励金额：人民币捌万元整（¥80,000.00）" in words and "资助" not in words
        if per_applicant == "decision_notice":
            notice = Document.objects.get(kind="decision_notice")
            words = steps.squeeze(steps.pdf_text(notice.file.read()))
            assert notice.title == "表彰决定通知书"
            assert f"我局已作出表彰决定（{decision.number}），你单位被评为示范机构" in words
            assert "受表彰单位：" in words and "奖励金额：" in words and "资助" not in words
    finally:
        programs.programs_loaded.cache_clear()


def test_a_decision_names_the_programs_own_steps_in_order():
    from workflows.services.issuing import procedure_text

    def program(*stages):
        return {"stages": [{"type": "application"}, *stages, {"type": "decision"}]}

    assert procedure_text(program({"type": "formal_review"})) == "申报和形式审查"
    two_rounds = program(
        {"type": "formal_review"},
        {"type": "expert_review", "name": "初评"},
        {"type": "expert_review", "name": "终评"},
        {"type": "public_notice"},
    )
    assert procedure_text(two_rounds) == "申报、形式审查、初评、终评和公示"
    # What comes after the decision (the payment) is not part of how it was reached.
    paid = program({"type": "leadership_meeting"})
    paid["stages"].append({"type": "disbursement"})
    assert procedure_text(paid) == "申报和审议"
    # The acceptance notice says what still comes after the formal review.
    assert procedure_text(two_rounds, after="formal_review") == "初评、终评和公示"
    assert procedure_text(program({"type": "formal_review"}), after="formal_review") == ""


def test_a_default_heading_does_not_say_the_programs_last_words_twice():
    from workflows.services.issuing import default_title

    def program(title, document="commendation_decision"):
        return {
            "title": {"zh": title},
            "stages": [{"type": "decision", "document": document}],
        }

    kind = "commendation_decision"
    assert default_title(kind, program("知识产权服务品牌机构表彰")) == (
        "关于知识产权服务品牌机构表彰的决定"
    )
    assert default_title(kind, program("专利转化运用先进单位表彰奖励")) == (
        "关于专利转化运用先进单位表彰奖励的决定"
    )
    assert default_title(kind, program("第五届贵州省专利奖")) == "关于第五届贵州省专利奖的表彰决定"
