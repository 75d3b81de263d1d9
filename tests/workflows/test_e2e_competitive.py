"""End-to-end runs of the two competitive programs through the HTTP test client:
知识产权优势企业认定 (config/programs/ip_advantage_enterprise.toml) and 专利奖
(config/programs/patent_award.toml).

Every user step is a page a person opens and a form they send, each person in their own logged-in
browser: the applicant's form and submission, the city office's recommendation, formal review, the
experts' declarations and scores, the panel manager's pages, the leadership meeting or the award
committee, the public notice and an objection, the decision, and finance. The only step that is not
HTTP is closing the notice period (`workflows.demo.notice_expire`, what cron does). One test runs
one call with an application per branch, so the branches share the stages they have in common.
"""

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.status import PROCESS

from documents.rendering import chinese_date
from tests.documents.pdfs import compact, pdf_text
from tests.factories import UserFactory
from tests.workflows import competitive_steps as cs
from tests.workflows import http_steps as steps
from workflows import demo
from workflows.models import Application, Expert, Objection, PanelSeat, Payment

pytestmark = pytest.mark.django_db

Status = Application.Status
Seat = PanelSeat.Status
ENTERPRISE = "ip_advantage_enterprise"
AWARD = "patent_award"


@pytest.fixture
def cast():
    """The demo users: one per role, a city office per city, nine experts."""
    return demo.cast_make()


@pytest.fixture
def clients(cast):
    return cs.browsers(cast)


def registered(cast, serial: int, name: str, region_code: str = "520100"):
    """An enterprise registered by the demo applicant (set-up), in 贵阳 unless told otherwise."""
    return demo.institution_make(
        user=cast.applicant, serial=serial, name=name, region_code=region_code
    )


def last_valid_day(day: date, years: int) -> date:
    """Valid `years` from `day`: until the day before the anniversary."""
    try:
        return day.replace(year=day.year + years) - timedelta(days=1)
    except ValueError:  # from 29 February
        return day.replace(year=day.year + years, month=2, day=28)


def rows_of(text: str, name: str) -> list[str]:
    """The table rows of a page that name `name`."""
    return [row for row in text.split("<tr") if f"{name}<" in row]


def row_of(text: str, name: str) -> str:
    """The one table row of a page that names `name`."""
    found = rows_of(text, name)
    assert len(found) == 1, f"{name}: {len(found)} rows"
    return found[0]


def line_of(text: str, needle: str) -> str:
    """The line of a PDF's text (layout kept) that contains `needle`."""
    found = [line for line in text.splitlines() if needle in line]
    assert len(found) == 1, f"{needle}: {found}"
    return found[0]


def document_titles(client: Client, application: Application) -> list[str]:
    detail = client.get(reverse("application_detail", args=[application.pk]))
    return [label for label, _href in steps.links(detail, "document_download")]


# --- 知识产权优势企业认定 -------------------------------------------------------------------------


def test_advantage_enterprise_call_from_forms_to_certificates(cast, clients):
    """One call, five enterprises in four cities:

    - 黔芯 is recognised although one of its experts recuses (a replacement is drawn and scores);
    - 航天精工 is recognised although one of its experts lets the period pass (staff replace him);
    - 云峰 is not recommended by its city and ends there, with the city's reason on record;
    - 绿能 is rejected by the leadership meeting;
    - 筑城 is dropped from the notice and the decision by an upheld objection.

    The recognition decision lists the two recognised enterprises only; each gets a certificate
    valid three years from the decision date; the staff's recognition pages list them with that
    date, find them as expiring within the right number of days, and mark one 已过期 once its
    validity lies in the past."""
    call = demo.call_make(slug=ENTERPRISE)
    recusal = registered(cast, 101, "贵州黔芯科技有限公司")
    late = registered(cast, 102, "遵义航天精工有限公司", "520300")
    not_recommended = registered(cast, 103, "安顺云峰制药有限公司", "520400")
    rejected = registered(cast, 104, "毕节绿能材料有限公司", "520500")
    objected = registered(cast, 105, "贵州筑城智造有限公司")
    institutions = [recusal, late, not_recommended, rejected, objected]

    # The applicant fills the program's form (its fields and its three attachments) and submits.
    form_page = steps.page(
        clients.applicant.get(
            reverse("application_create", args=[call.pk]), {"institution": recusal.pk}
        )
    )
    for label in ("主营产品及所属产业", "营业执照", "知识产权及其运用情况说明", "近三年无严重失信"):
        assert label in form_page
    a, b, c, d, e = (
        cs.submitted(clients.applicant, call, institution, cs.enterprise_fields())
        for institution in institutions
    )
    assert steps.status_shown(clients.applicant, a) == "已提交"
    assert {x.kind for x in a.attachments.all()} == {
        "business_licence",
        "ip_management_certificate",
        "ip_portfolio",
    }

    # 安顺 does not recommend 云峰: it ends as 未获推荐, the reason is kept on its record.
    anshun = cs.city_browser(clients, not_recommended)
    reason = "该企业专利产品销售收入占比偏低，本市另有更符合条件的企业。"
    response = cs.recommend(anshun, c, "not_recommend", reason)
    assert f"已决定不予推荐：{not_recommended.name}。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, c) == "未获推荐"
    decided = steps.page(anshun.get(reverse("recommendation_decide", args=[c.pk])))
    assert "不予推荐" in decided and reason in decided
    assert reason in steps.page(clients.reviewer.get(reverse("application_detail", args=[c.pk])))
    c.refresh_from_db()
    assert c.process.status == PROCESS.DONE
    assert not_recommended.name not in steps.page(clients.reviewer.get(reverse("inbox")))

    cs.recommended_and_accepted(clients, [a, b, d, e])
    for application in (a, b, d, e):
        assert steps.status_shown(clients.applicant, application) == "已受理"
        assert len(cs.seats_open(application)) == 5

    # 黔芯: an expert recuses on the declaration page; a replacement takes the same task.
    first = cs.seats_open(a)[0]
    panel_before = {seat.expert_id for seat in cs.seats_open(a)}
    recusing = cs.browser(first.expert.user)
    response = cs.declare(recusing, first, "recuse", "本人近三年与该企业有合作研发项目。")
    assert "已登记回避，系统已另行抽取专家。" in steps.messages_shown(response)
    replacement = a.seats.get(task=first.task, status=Seat.DRAWN)
    assert replacement.expert_id not in panel_before
    assert recusing.get(reverse("seat_score", args=[first.pk])).status_code == 404
    assert recusing.get(reverse("application_detail", args=[a.pk])).status_code == 404
    a = cs.panel_scored(a, ["22", "26", "31", "8"])  # 87 from each expert
    assert a.status == Status.SCORED
    replacement.refresh_from_db()
    assert (replacement.status, replacement.total) == (Seat.SCORED, 87)
    panel = steps.page(clients.reviewer.get(reverse("panel_detail", args=[a.pk])))
    assert "本人近三年与该企业有合作研发项目。" in panel
    assert panel.count('class="seat seat-scored') == 5

    # 航天精工: one expert lets the review period pass; staff replace him on the panel page.
    stale = cs.seats_open(b)[0]
    on_time = cs.seats_open(b)[1]
    PanelSeat.objects.filter(pk=stale.pk).update(due_at=timezone.now() - timedelta(hours=1))
    panel = steps.page(clients.reviewer.get(reverse("panel_detail", args=[b.pk])))
    assert "已逾期" in row_of(panel, stale.expert.name)
    assert reverse("panel_replace", args=[on_time.pk]) not in panel
    response = cs.panel_replace(clients.reviewer, stale, "超过评审期限未评分。")
    assert "已替换逾期专家，并重新抽取了专家。" in steps.messages_shown(response)
    assert b.seats.filter(task=stale.task, status=Seat.DRAWN).exists()
    late_expert = cs.browser(stale.expert.user)
    assert late_expert.get(reverse("seat_score", args=[stale.pk])).status_code == 404
    assert late_expert.get(reverse("seat_declare", args=[stale.pk])).url == reverse("expert_seats")
    b = cs.panel_scored(b, ["20", "25", "30", "7"])  # 82
    assert b.status == Status.SCORED

    cs.panel_scored(d, ["15", "18", "20", "5"])  # 58
    cs.panel_scored(e, ["18", "22", "27", "6"])  # 73
    assert cs.ranking_rows(clients.reviewer, call) == [
        ("1", recusal.name, "87.00"),
        ("2", late.name, "82.00"),
        ("3", objected.name, "73.00"),
        ("4", rejected.name, "58.00"),
    ]
    assert steps.status_shown(clients.applicant, a) == "专家评审完成"

    # The leadership meeting approves three and rejects 绿能 with a reason.
    response = steps.leadership_one_by_one(
        clients.leader,
        call,
        {
            a: ("approve", ""),
            b: ("approve", ""),
            e: ("approve", ""),
            d: ("reject", "企业近三年存在未结的知识产权侵权纠纷。"),
        },
    )
    assert "已审议4项申报。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, d) == "审议未通过"

    # The notice lists the three approved; an objection against 筑城 is upheld and drops it.
    response = steps.call_manage(clients.notice, call, "publish")
    assert "公示已发布。" in steps.messages_shown(response)
    notice = steps.notice_of(call)
    assert notice.title.endswith("拟认定名单公示")
    public = steps.page(Client().get(reverse("notice_detail", args=[notice.pk])))
    for institution in (recusal, late, objected):
        assert institution.name in public
    for institution in (not_recommended, rejected):
        assert institution.name not in public
    objector = cs.browser(UserFactory(username="objector", role="applicant"))
    response = steps.objection_lodge(
        objector, notice, e, statement="该企业申报的专利产品销售收入与其年度财务报告不符。"
    )
    assert "异议已提交，我们将依法核实处理。" in steps.messages_shown(response)
    response = steps.objection_handle(
        clients.notice, Objection.objects.get(application=e), "uphold", "经核实，异议成立。"
    )
    assert "异议已处理。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, e) == "异议成立，撤销"
    public = steps.page(Client().get(reverse("notice_detail", args=[notice.pk])))
    assert objected.name not in public and recusal.name in public

    # The period ends (cron); the notice officer issues the decision and the certificates.
    demo.notice_expire(call)
    response = steps.call_manage(clients.notice, call, "decide")
    assert "决定正在后台印发，请查看印发进度。" in steps.messages_shown(response)
    for application in (a, b):
        assert steps.status_shown(clients.applicant, application) == "已印发决定"
    assert steps.status_shown(clients.applicant, e) == "异议成立，撤销"

    today = timezone.localdate()
    valid_until = last_valid_day(today, 3)
    decision = cs.pdf_compact(clients.applicant, a, "关于认定贵州省知识产权优势企业的决定")
    for institution in (recusal, late):
        assert institution.name in decision and institution.uscc in decision
    for institution in (not_recommended, rejected, objected):
        assert institution.name not in decision
    assert "共有2家企业符合认定条件" in decision
    assert f"认定有效期三年，自{chinese_date(today)}至{chinese_date(valid_until)}。" in decision

    for application, institution in ((a, recusal), (b, late)):
        certificate = cs.pdf_compact(clients.applicant, application, "贵州省知识产权优势企业")
        assert institution.name in certificate
        assert f"有效期至{chinese_date(valid_until)}" in certificate
        assert "决定文号" in certificate
    for application in (c, d, e):
        assert "贵州省知识产权优势企业" not in document_titles(clients.applicant, application)

    # The staff's recognition pages: both valid until the date, expiring within 1,100 days.
    recognitions = steps.page(clients.notice.get(reverse("recognition_list")))
    for institution in (recusal, late):
        row = row_of(recognitions, institution.name)
        assert (
            f"{valid_until.year}年{valid_until.month}月{valid_until.day}日" in row
            and "有效" in row
            and "已过期" not in row
        )
    assert objected.name not in recognitions and rejected.name not in recognitions
    expiring = steps.page(clients.notice.get(reverse("recognition_expiring"), {"days": 1100}))
    days_left = str((valid_until - today).days)
    assert f"<td>{days_left}</td>" in row_of(expiring, recusal.name)
    assert late.name in expiring
    expiring = steps.page(clients.notice.get(reverse("recognition_expiring"), {"days": 1000}))
    assert "该期间内没有到期的认定。" in expiring and recusal.name not in expiring

    # Set-up: 黔芯's recognition ran out yesterday.
    Application.objects.filter(pk=a.pk).update(valid_until=today - timedelta(days=1))
    recognitions = steps.page(clients.notice.get(reverse("recognition_list")))
    assert "已过期" in row_of(recognitions, recusal.name)
    assert "已过期" not in row_of(recognitions, late.name)
    expiring = steps.page(clients.notice.get(reverse("recognition_expiring"), {"days": 1100}))
    assert recusal.name not in expiring and late.name in expiring


# --- 专利奖 ---------------------------------------------------------------------------------------


def patent(serial: int) -> str:
    """A valid invention patent number as the applicant types it (ZL prefix)."""
    return f"ZL{demo.patent_number_make(serial)}"


def test_patent_award_call_from_forms_to_bonus_payment(cast, clients):
    """One call, four patents of three patentees:

    - a mistyped patent number (wrong check character) is refused on the form, the typed values
      kept; a patentee's third entry is refused at submission (two per institution), still a draft;
    - the committee's list with two golds (gold quota 1) is refused and nothing changes; then
      gold, silver and excellence are given on the ranked list;
    - an upheld objection drops the fourth award from the notice and the decision;
    - the commendation decision lists tier and patent number, each award has a certificate, and
      finance issues the gold award letter (¥200,000.00, 人民币贰拾万元整) and pays it;
    - the next year the gold patent is refused at submission: it was awarded before."""
    call = demo.call_make(slug=AWARD, title="2026年度贵州省专利奖评选")
    guiyang = registered(cast, 201, "贵州黔高新材料有限公司")
    zunyi = registered(cast, 202, "遵义恒达机械制造有限公司", "520300")
    anshun = registered(cast, 203, "安顺天然药业有限公司", "520400")
    gold_number, silver_number, excellence_number, dropped_number, extra_number = (
        patent(n) for n in (1, 2, 3, 4, 5)
    )
    assert not gold_number.endswith(".0")  # so that ".0" is the wrong check character

    # A wrong check character: refused on the form, nothing saved, what was typed is kept.
    mistyped = gold_number[:-1] + "0"
    fields = cs.award_fields(
        patent_number=mistyped,
        patent_title="一种耐高温复合材料及其制备方法",
        account_name=guiyang.name,
    )
    application, response = cs.draft_create(clients.applicant, call, guiyang, fields)
    assert application is None
    assert f"专利号校验位不正确（{mistyped}），请核对。" in steps.form_errors(response)
    assert steps.input_value(response, "patent_number") == mistyped
    assert steps.input_value(response, "patent_title") == "一种耐高温复合材料及其制备方法"
    assert steps.input_value(response, "account_name") == guiyang.name
    assert not Application.objects.filter(call=call).exists()

    def entry(institution, number, title):
        fields = cs.award_fields(
            patent_number=number, patent_title=title, account_name=institution.name
        )
        return cs.submitted(clients.applicant, call, institution, fields)

    gold = entry(guiyang, gold_number, "一种耐高温复合材料及其制备方法")
    silver = entry(guiyang, silver_number, "一种复合材料的连续成型装置")
    excellence = entry(zunyi, excellence_number, "一种数控机床主轴冷却系统")
    dropped = entry(anshun, dropped_number, "一种苗药提取物及其应用")
    assert gold.patent_number == gold_number.removeprefix("ZL")

    # 黔高 already has two entries in the call: the third is saved but not submitted.
    fields = cs.award_fields(
        patent_number=extra_number, patent_title="一种树脂回收方法", account_name=guiyang.name
    )
    extra, response = cs.draft_create(clients.applicant, call, guiyang, fields)
    assert "草稿已保存。" in steps.messages_shown(response)
    response = steps.submit(clients.applicant, extra)
    assert "同一单位在本批次最多申报2项，已达上限。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, extra) == "草稿"

    # Recommendation, formal review, and the expert panels (same points from every expert).
    cs.recommended_and_accepted(clients, [gold, silver, excellence, dropped])
    cs.panel_scored(gold, ["28", "23", "32", "9"])  # 92
    cs.panel_scored(silver, ["25", "21", "30", "8"])  # 84
    cs.panel_scored(excellence, ["22", "19", "27", "7"])  # 75
    cs.panel_scored(dropped, ["20", "18", "25", "6"])  # 69
    ranked = [gold, silver, excellence, dropped]

    # The committee sees the list ranked by panel score, with the quotas.
    url = reverse("committee_list", args=[call.pk])
    response = clients.committee.get(url)
    assert cs.committee_rows(response) == [x.pk for x in ranked]
    text = steps.page(response)
    assert text.index("92.00") < text.index("84.00") < text.index("75.00") < text.index("69.00")
    assert "专利金奖" in text and "专利银奖" in text and "专利优秀奖" in text

    # Two golds where the quota is one: refused, nothing changes, the choices are kept.
    response = cs.committee_vote(
        clients.committee,
        call,
        {gold: "gold", silver: "gold", excellence: "excellence", dropped: "excellence"},
    )
    assert (
        "“专利金奖”的名额为1个，本批次已授予0个，本次选择了2个，超出名额。"
        in steps.messages_shown(response)
    )
    assert cs.committee_rows(response) == [x.pk for x in ranked]
    assert [cs.choice_shown(response, x) for x in ranked] == [
        "gold",
        "gold",
        "excellence",
        "excellence",
    ]
    for application in ranked:
        assert steps.status_shown(clients.applicant, application) == "专家评审完成"
        application.refresh_from_db()
        assert application.tier == ""

    response = cs.committee_vote(
        clients.committee,
        call,
        {gold: "gold", silver: "silver", excellence: "excellence", dropped: "excellence"},
    )
    assert "名单已批准：4项获奖（通过），0项未获奖（未通过）。" in steps.messages_shown(response)
    assert cs.committee_rows(response) == []
    for application, label in (
        (gold, "专利金奖"),
        (silver, "专利银奖"),
        (excellence, "专利优秀奖"),
    ):
        detail = steps.page(
            clients.applicant.get(reverse("application_detail", args=[application.pk]))
        )
        assert f"· {label}</h1>" in detail and "状态：<strong>审议通过</strong>" in detail

    # The notice; an upheld objection drops the fourth award.
    steps.call_manage(clients.notice, call, "publish")
    notice = steps.notice_of(call)
    assert notice.title.endswith("拟表彰名单公示")
    public = steps.page(Client().get(reverse("notice_detail", args=[notice.pk])))
    tiers_listed = [
        re.findall(r"<td>(专利.奖)（专利号 ZL", row) for row in rows_of(public, guiyang.name)
    ]
    assert sorted(tiers_listed) == [["专利金奖"], ["专利银奖"]]
    assert anshun.name in public
    objector = cs.browser(UserFactory(username="objector", role="applicant"))
    steps.objection_lodge(
        objector, notice, dropped, statement="该专利的权属存在争议，已进入诉讼程序。"
    )
    response = steps.objection_handle(
        clients.notice,
        Objection.objects.get(application=dropped),
        "uphold",
        "经核实，专利权属存在争议，异议成立。",
    )
    assert "异议已处理。" in steps.messages_shown(response)
    public = steps.page(Client().get(reverse("notice_detail", args=[notice.pk])))
    assert anshun.name not in public and zunyi.name in public
    assert steps.status_shown(clients.applicant, dropped) == "异议成立，撤销"

    demo.notice_expire(call)
    response = steps.call_manage(clients.notice, call, "decide")
    assert "决定正在后台印发，请查看印发进度。" in steps.messages_shown(response)

    # The commendation decision: tier and patent number on one row per award, the total bonus.
    manage = clients.notice.get(reverse("call_manage", args=[call.pk]))
    (decision_link,) = steps.hrefs(manage, "document_download")
    decision_pdf = steps.download(clients.notice, decision_link)
    laid_out = pdf_text(decision_pdf)
    assert "关于表彰贵州省专利奖获奖项目的决定" in compact(laid_out)
    for application, label, amount in (
        (gold, "专利金奖", "200,000.00"),
        (silver, "专利银奖", "100,000.00"),
        (excellence, "专利优秀奖", "50,000.00"),
    ):
        row = line_of(laid_out, application.patent_number)
        assert label in row and amount in row
    assert dropped.patent_number not in laid_out and anshun.name not in compact(laid_out)
    assert "奖金合计人民币叁拾伍万元整（¥350,000.00）" in compact(laid_out)

    for application, label in (
        (gold, "专利金奖"),
        (silver, "专利银奖"),
        (excellence, "专利优秀奖"),
    ):
        certificate = cs.pdf_compact(clients.applicant, application, "贵州省专利奖证书")
        assert f"你单位的专利荣获{label}，特发此证。" in certificate
        assert f"专利号：{application.patent_number}" in certificate
    assert "贵州省专利奖证书" not in document_titles(clients.applicant, dropped)

    # Finance: the gold award letter and the payment.
    finance = steps.page(clients.finance.get(reverse("finance_list")))
    amounts = sorted(re.search(r"¥[\d,.]+", r).group(0) for r in rows_of(finance, guiyang.name))
    assert amounts == ["¥100,000.00", "¥200,000.00"]
    assert anshun.name not in finance
    response = steps.award_letter(clients.finance, gold)
    assert "奖励通知书已印发。" in steps.messages_shown(response)
    letter = cs.pdf_compact(clients.applicant, gold, "奖励通知书")
    assert "人民币贰拾万元整（¥200,000.00）" in letter
    assert f"专利号：ZL{gold.patent_number}）获专利金奖" in letter
    response = steps.payment(clients.finance, gold, voucher="PZ2026-ZLJ-001")
    assert "拨付已登记。" in steps.messages_shown(response)
    assert steps.status_shown(clients.applicant, gold) == "已拨付"
    assert Payment.objects.get(application=gold).amount == 200000
    call.refresh_from_db()
    assert call.budget_paid == 200000

    # The next call: the gold patent was awarded before and is refused at submission.
    next_call = demo.call_make(slug=AWARD, title="2027年度贵州省专利奖评选")
    fields = cs.award_fields(
        patent_number=gold_number,
        patent_title="一种耐高温复合材料及其制备方法",
        account_name=zunyi.name,
    )
    again, response = cs.draft_create(clients.applicant, next_call, zunyi, fields)
    assert again is not None, steps.form_errors(response)
    response = steps.submit(clients.applicant, again)
    assert f"专利{gold.patent_number}已获得过本奖项，不能重复申报。" in steps.messages_shown(
        response
    )
    assert steps.status_shown(clients.applicant, again) == "草稿"


# --- refusals, per role ---------------------------------------------------------------------------


def fields_for(program: str, institution, serial: int) -> dict:
    if program == AWARD:
        return cs.award_fields(
            patent_number=patent(serial),
            patent_title="一种竹纤维复合板材及其制备方法",
            account_name=institution.name,
        )
    return cs.enterprise_fields()


@pytest.fixture(params=[ENTERPRISE, AWARD])
def two_cities(request, cast, clients):
    """A call of each program with one submitted application from 贵阳 and one from 遵义."""
    call = demo.call_make(slug=request.param)
    guiyang = registered(cast, 301, "贵州黔北电子有限公司")
    zunyi = registered(cast, 302, "遵义赤水竹业有限公司", "520300")
    return {
        "program": request.param,
        "guiyang": cs.submitted(
            clients.applicant, call, guiyang, fields_for(request.param, guiyang, 301)
        ),
        "zunyi": cs.submitted(
            clients.applicant, call, zunyi, fields_for(request.param, zunyi, 302)
        ),
    }


def test_city_office_cannot_reach_another_citys_application(clients, two_cities):
    """遵义's office lists and decides its own application only: 贵阳's is absent from its lists,
    its decision page, application page and attachments answer 404, and it stays untouched for
    贵阳's office."""
    mine, theirs = two_cities["zunyi"], two_cities["guiyang"]
    office = clients.cities["5203"]

    waiting = steps.page(office.get(reverse("recommendation_list")))
    assert mine.institution.name in waiting and theirs.institution.name not in waiting
    listed = steps.page(office.get(reverse("application_list")))
    assert mine.institution.name in listed and theirs.institution.name not in listed
    assert theirs.institution.name not in steps.page(office.get(reverse("inbox")))

    decide = reverse("recommendation_decide", args=[theirs.pk])
    assert office.get(decide).status_code == 404
    assert office.post(decide, {"decision": "recommend", "reason": ""}).status_code == 404
    assert office.get(reverse("application_detail", args=[theirs.pk])).status_code == 404
    attachment = theirs.attachments.first()
    assert office.get(reverse("attachment_download", args=[attachment.pk])).status_code == 404
    assert office.get(reverse("application_detail", args=[mine.pk])).status_code == 200

    assert steps.status_shown(clients.applicant, theirs) == "已提交"
    response = cs.recommend(clients.cities["5201"], theirs, "recommend")
    assert f"已推荐：{theirs.institution.name}。" in steps.messages_shown(response)


def test_expert_reaches_only_their_own_seats(clients, two_cities):
    """An expert on 贵阳's panel (and, as 遵义's employee, not on 遵义's) gets 404 for 遵义's
    application and for another expert's seats, 403 for the panel page with the others' scores
    and for the ranking, and never reads another expert's comment."""
    guiyang, zunyi = two_cities["guiyang"], two_cities["zunyi"]
    cs.recommended_and_accepted(clients, [guiyang])
    mine, theirs = cs.seats_open(guiyang)[:2]
    # Set-up: the expert works for the 遵义 enterprise, so is never drawn for its panel.
    Expert.objects.filter(pk=mine.expert_id).update(employer=zunyi.institution)
    cs.recommended_and_accepted(clients, [zunyi])
    assert not zunyi.seats.filter(expert_id=mine.expert_id).exists()
    elsewhere = cs.seats_open(zunyi)[0]

    me = cs.browser(mine.expert.user)
    assert me.get(reverse("application_detail", args=[guiyang.pk])).status_code == 404
    cs.declare(me, mine)
    assert me.get(reverse("application_detail", args=[guiyang.pk])).status_code == 200
    other = cs.browser(theirs.expert.user)
    cs.declare(other, theirs)
    response = cs.score(other, theirs, ["20", "20", "20", "8"], comment="独到的评审意见甲乙丙。")
    assert "评分已提交。" in steps.messages_shown(response)

    assert me.get(reverse("application_detail", args=[zunyi.pk])).status_code == 404
    attachment = zunyi.attachments.first()
    assert me.get(reverse("attachment_download", args=[attachment.pk])).status_code == 404
    for seat in (theirs, elsewhere):
        for url_name in ("seat_declare", "seat_score"):
            assert me.get(reverse(url_name, args=[seat.pk])).status_code == 404
    assert me.get(reverse("panel_detail", args=[guiyang.pk])).status_code == 403
    assert me.get(reverse("ranking", args=[guiyang.call_id])).status_code == 403
    own = steps.page(me.get(reverse("seat_score", args=[mine.pk])))
    assert "独到的评审意见甲乙丙。" not in own and theirs.expert.name not in own
    assert "独到的评审意见甲乙丙。" in steps.page(
        clients.reviewer.get(reverse("panel_detail", args=[guiyang.pk]))
    )


@pytest.fixture
def waiting_for_committee(cast, clients):
    """A 专利奖 call whose one application, scored by its panel, waits for the committee."""
    call = demo.call_make(slug=AWARD)
    institution = registered(cast, 401, "贵州黔东南苗药有限公司")
    application = cs.submitted(
        clients.applicant, call, institution, fields_for(AWARD, institution, 401)
    )
    cs.recommended_and_accepted(clients, [application])
    cs.panel_scored(application, ["25", "20", "30", "8"])
    assert cs.committee_rows(clients.committee.get(reverse("committee_list", args=[call.pk]))) == [
        application.pk
    ]
    return application


def committee_refused(client: Client, application: Application, committee: Client) -> None:
    """`client` gets 403 on the committee page, reading or voting; the list is unchanged."""
    url = reverse("committee_list", args=[application.call_id])
    assert client.get(url).status_code == 403
    assert client.post(url, {f"choice_{application.pk}": "gold"}).status_code == 403
    application.refresh_from_db()
    assert (application.status, application.tier) == (Status.SCORED, "")
    assert cs.committee_rows(committee.get(url)) == [application.pk]


def test_applicant_gets_403_on_the_committee_and_ranking_pages(clients, waiting_for_committee):
    application = waiting_for_committee
    committee_refused(clients.applicant, application, clients.committee)
    assert clients.applicant.get(reverse("ranking", args=[application.call_id])).status_code == 403
    panel = reverse("panel_detail", args=[application.pk])
    assert clients.applicant.get(panel).status_code == 403
    assert steps.status_shown(clients.applicant, application) == "专家评审完成"


def test_formal_reviewer_gets_403_on_the_committee_page(clients, waiting_for_committee):
    application = waiting_for_committee
    committee_refused(clients.reviewer, application, clients.committee)
    # The reviewer manages panels: the ranking is theirs to read, the vote is not.
    assert cs.ranking_rows(clients.reviewer, application.call) == [
        ("1", application.institution.name, "83.00")
    ]
