"""Find and export: every list filters (program, call, city, status, dates), searches by name or
credit code, sorts by its column headers, keeps the filters in its page links, and exports the
same rows to Excel; visibility stays the selectors' (an applicant's export holds only theirs)."""

import html
import re
from datetime import datetime, timedelta
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from documents.amounts import amount_in_words
from documents.models import Document
from tests.factories import ApplicationFactory, CallFactory, UserFactory, institution_for
from tests.workflows import http_steps as steps
from workflows.models import Application, Attachment, Objection, PanelResult, PanelSeat

Status = Application.Status


def local(year, month, day):
    return timezone.make_aware(datetime(year, month, day, 10, 0))


def rows_of(response) -> list[list[str]]:
    """The cells of each row of the page's list, as the user reads them."""
    assert response.status_code == 200, response.status_code
    body = re.search(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S).group(1)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if len(cells) > 1:
            rows.append(cells)
    return rows


def names_listed(response, column: int = 1) -> list[str]:
    return [row[column] for row in rows_of(response)]


def sheet(response) -> list[tuple]:
    """The exported workbook's rows (header first)."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(BytesIO(response.content), read_only=True)
    return [tuple(row) for row in workbook.active.iter_rows(values_only=True)]


def link(response, css_class: str = "", rel: str = "", text: str = "") -> str:
    """The href of the link with that class, rel or text."""
    content = response.content.decode()
    if css_class:
        found = re.search(rf'<a class="{css_class}" href="([^"]*)"', content)
    elif rel:
        found = re.search(rf'<a href="([^"]*)" rel="{rel}"', content)
    else:
        found = re.search(rf'<a href="([^"]*)"[^>]*>{re.escape(text)}', content)
    assert found, f"no link {css_class or rel or text}"
    return html.unescape(found.group(1))


def query_of(href: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


@pytest.fixture
def world(db, applicant, institution, other_applicant, other_institution):
    """Two programs' calls, institutions in Guiyang (5201) and Zunyi (5203), applications in
    several statuses and months."""
    grant = CallFactory(title="技术转移机构资助第一批")
    operating = CallFactory(program_slug="ip_operating_institution", title="运营服务机构第一批")
    zunyi = institution_for(
        other_applicant, name="遵义市技术转移服务中心二部", region_code="520300"
    )
    anshun = institution_for(
        UserFactory(role="applicant"), name="安顺市知识产权运营中心", region_code="520400"
    )
    made = SimpleNamespace(grant=grant, operating=operating)
    made.mine = ApplicationFactory(
        call=grant, institution=institution, status=Status.SUBMITTED, created_at=local(2026, 1, 10)
    )
    made.mine_draft = ApplicationFactory(
        call=operating, institution=institution, status=Status.DRAFT, created_at=local(2026, 1, 20)
    )
    made.theirs = ApplicationFactory(
        call=grant,
        institution=other_institution,
        status=Status.ACCEPTED,
        created_at=local(2026, 2, 10),
    )
    made.zunyi = ApplicationFactory(
        call=operating, institution=zunyi, status=Status.SUBMITTED, created_at=local(2026, 3, 5)
    )
    made.anshun = ApplicationFactory(
        call=operating, institution=anshun, status=Status.APPROVED, created_at=local(2026, 3, 20)
    )
    return made


def listed(client, **params):
    return names_listed(client.get(reverse("application_list"), params))


# --- filters, search, sort, pages ----------------------------------------------------------------


def test_each_filter_narrows_the_application_list(
    client_for, formal_reviewer, city_office, other_city_office, world
):
    staff = client_for(formal_reviewer)
    everyone = sorted(listed(staff))
    # Every application but the applicant's draft: a draft is theirs until it is submitted.
    assert len(everyone) == 4

    assert sorted(listed(staff, program="ip_operating_institution")) == sorted(
        [world.zunyi.institution.name, "安顺市知识产权运营中心"]
    )
    assert sorted(listed(staff, call=world.grant.pk)) == sorted(
        [world.mine.institution.name, world.theirs.institution.name]
    )
    # City: the first four digits of the institution's region code (贵阳 5201 / 遵义 5203).
    assert listed(staff, city="5203") == [world.zunyi.institution.name]
    assert listed(staff, status="submitted") == [
        world.zunyi.institution.name,
        world.mine.institution.name,
    ]
    # Dates are the office's days, both ends included.
    assert listed(staff, date_from="2026-02-10", date_to="2026-03-05") == [
        world.zunyi.institution.name,
        world.theirs.institution.name,
    ]
    assert listed(
        staff, program="ip_operating_institution", status="submitted", date_from="2026-03-01"
    ) == [world.zunyi.institution.name]


def test_the_search_box_finds_by_name_and_by_credit_code(client_for, formal_reviewer, world):
    staff = client_for(formal_reviewer)

    assert listed(staff, q="运营中心") == ["安顺市知识产权运营中心"]
    assert listed(staff, q=world.theirs.institution.uscc) == [world.theirs.institution.name]
    # Part of the code, typed in lower case, also finds it.
    assert listed(staff, q=world.theirs.institution.uscc[-8:].lower()) == [
        world.theirs.institution.name
    ]
    assert listed(staff, q="没有这个单位") == []


def test_column_headers_sort_and_sort_again_reverses(client_for, formal_reviewer, world):
    staff = client_for(formal_reviewer)
    # In the database's own collation, whichever it is; drafts are not listed to staff.
    submitted = Application.objects.exclude(status=Status.DRAFT)
    names = list(submitted.values_list("institution__name", flat=True))
    by_name = list(
        submitted.order_by("institution__name", "pk").values_list("institution__name", flat=True)
    )
    assert sorted(names) == sorted(by_name)

    first = staff.get(reverse("application_list"), {"sort": "institution", "status": ""})
    assert names_listed(first) == by_name
    # The header of the sorted column now reverses it, keeping the other parameters.
    reverse_href = link(first, text="申报单位")
    assert query_of(reverse_href)["sort"] == "-institution"
    assert names_listed(staff.get(reverse("application_list") + reverse_href)) == (by_name[::-1])
    # Newest first unless told otherwise.
    assert listed(staff)[0] == "安顺市知识产权运营中心"


def test_page_links_keep_the_filters_and_the_sort(client_for, formal_reviewer, world):
    call = CallFactory(title="翻页批次")
    for n in range(55):
        ApplicationFactory(
            call=call,
            institution=institution_for(UserFactory(role="applicant"), name=f"翻页单位{n:02d}"),
            status=Status.SUBMITTED if n % 5 else Status.ACCEPTED,
        )
    staff = client_for(formal_reviewer)

    first = staff.get(
        reverse("application_list"), {"q": "翻页单位", "status": "submitted", "sort": "institution"}
    )
    # 44 of the 55 are submitted: one page holds them, and no page link is shown.
    assert len(rows_of(first)) == 44 and "共44条" in steps.page(first)
    assert 'rel="next"' not in first.content.decode()

    first = staff.get(
        reverse("application_list"),
        {"q": "翻页单位", "sort": "-institution"},
    )
    assert len(rows_of(first)) == 50
    next_href = link(first, rel="next")
    assert query_of(next_href) == {"q": "翻页单位", "sort": "-institution", "page": "2"}
    second = staff.get(reverse("application_list") + next_href)
    assert names_listed(second) == [f"翻页单位{n:02d}" for n in range(4, -1, -1)]
    assert query_of(link(second, rel="prev"))["q"] == "翻页单位"


# --- export ------------------------------------------------------------------------------------


def test_the_export_holds_the_filtered_rows_of_every_page(client_for, formal_reviewer, world):
    call = CallFactory(title="导出批次")
    for n in range(60):
        ApplicationFactory(
            call=call,
            institution=institution_for(UserFactory(role="applicant"), name=f"导出单位{n:02d}"),
        )
    staff = client_for(formal_reviewer)
    page = staff.get(reverse("application_list"), {"call": call.pk, "sort": "institution"})
    export_href = link(page, css_class="export-link")
    assert query_of(export_href) == {"call": str(call.pk), "sort": "institution", "export": "xlsx"}

    rows = sheet(staff.get(reverse("application_list") + export_href))

    assert rows[0] == (
        "编号",
        "申报单位",
        "统一社会信用代码",
        "所在地区代码",
        "项目",
        "批次",
        "级别",
        "状态",
        "创建时间",
        "提交时间",
        "资助金额",
    )
    assert [r[1] for r in rows[1:]] == [f"导出单位{n:02d}" for n in range(60)]
    assert names_listed(page) == [r[1] for r in rows[1:51]]
    first = Application.objects.get(institution__name="导出单位00")
    assert rows[1][0] == first.pk and rows[1][2] == first.institution.uscc
    assert rows[1][5] == "导出批次" and rows[1][7] == "已提交"


def test_an_applicant_exports_only_their_own_and_a_city_office_only_its_region(
    client_for, applicant, city_office, other_city_office, world
):
    mine = sorted(
        sheet(client_for(applicant).get(reverse("application_list"), {"export": "xlsx"}))[1:]
    )
    assert {row[0] for row in mine} == {world.mine.pk, world.mine_draft.pk}
    assert sorted(listed(client_for(applicant))) == [world.mine.institution.name] * 2

    # 贵阳 sees its region's submitted applications (not drafts), 遵义 its own.
    guiyang = client_for(city_office)
    assert sorted(listed(guiyang)) == sorted(
        [world.mine.institution.name, world.theirs.institution.name]
    )
    exported = sheet(guiyang.get(reverse("application_list"), {"export": "xlsx"}))
    assert {row[0] for row in exported[1:]} == {world.mine.pk, world.theirs.pk}
    # Asking for another city's applications finds nothing.
    assert listed(guiyang, city="5203") == []
    zunyi = sheet(
        client_for(other_city_office).get(reverse("application_list"), {"export": "xlsx"})
    )
    assert [row[0] for row in zunyi[1:]] == [world.zunyi.pk]


def test_a_draft_is_the_applicants_own_until_it_is_submitted(
    client_for, applicant, formal_reviewer, leadership, finance_officer, notice_officer, world
):
    """A draft's bank account and contacts are the applicant's until they submit: no office lists
    it, exports it or opens it (404), the attachments included; once submitted, staff see it."""
    draft = world.mine_draft
    attachment = Attachment.objects.create(
        application=draft,
        kind="approval_document",
        file=ContentFile(steps.MINIMAL_PDF, name="approval.pdf"),
        original_name="approval.pdf",
        sha256="0" * 64,
        size=len(steps.MINIMAL_PDF),
        uploaded_by=applicant,
    )
    for user in (formal_reviewer, leadership, finance_officer, notice_officer):
        staff = client_for(user)
        assert staff.get(reverse("application_detail", args=[draft.pk])).status_code == 404
        assert staff.get(reverse("attachment_download", args=[attachment.pk])).status_code == 404
        exported = sheet(staff.get(reverse("application_list"), {"export": "xlsx"}))
        assert draft.pk not in {row[0] for row in exported[1:]}
    # The call's page lists the call's submitted applications only, and the calls list counts
    # those.
    manage = client_for(notice_officer).get(reverse("call_manage", args=[world.operating.pk]))
    assert reverse("application_detail", args=[draft.pk]) not in manage.content.decode()
    assert reverse("application_detail", args=[world.zunyi.pk]) in manage.content.decode()
    calls = sheet(client_for(formal_reviewer).get(reverse("staff_call_list"), {"export": "xlsx"}))
    column = calls[0].index("申报数")
    counts = {row[0]: row[column] for row in calls[1:]}
    assert counts[world.operating.title] == 2  # zunyi's and anshun's, not the draft
    own = client_for(applicant)
    assert own.get(reverse("application_detail", args=[draft.pk])).status_code == 200
    assert own.get(reverse("attachment_download", args=[attachment.pk])).status_code == 200

    Application.objects.filter(pk=draft.pk).update(status=Status.SUBMITTED)
    staff = client_for(formal_reviewer)
    assert staff.get(reverse("application_detail", args=[draft.pk])).status_code == 200
    assert staff.get(reverse("attachment_download", args=[attachment.pk])).status_code == 200


def test_a_city_office_sees_whom_to_call_but_not_the_bank_account(
    client_for, city_office, formal_reviewer, world
):
    """A city office recommends; finance pays. Only provincial staff and the applicant see the
    account money goes to."""
    Application.objects.filter(pk=world.mine.pk).update(
        bank_account="6222000011112222", contact_phone="13912345678"
    )
    url = reverse("application_detail", args=[world.mine.pk])
    office = client_for(city_office).get(url).content.decode()
    assert "13912345678" in office and "6222000011112222" not in office
    staff = client_for(formal_reviewer).get(url).content.decode()
    assert "13912345678" in staff and "6222000011112222" in staff


def test_an_application_without_a_level_shows_none_and_no_dangling_mark(
    client_for, formal_reviewer, world
):
    """The heading read 探针测试科技有限公司 · and the export's level None."""
    Application.objects.filter(pk=world.zunyi.pk).update(tier="")
    staff = client_for(formal_reviewer)
    page = steps.page(staff.get(reverse("application_detail", args=[world.zunyi.pk])))
    assert world.zunyi.institution.name in page and f"{world.zunyi.institution.name} ·" not in page
    rows = sheet(staff.get(reverse("application_list"), {"export": "xlsx"}))
    level = rows[0].index("级别")
    (row,) = [row for row in rows[1:] if row[0] == world.zunyi.pk]
    assert row[level] in (None, "")


@pytest.mark.parametrize(
    "params",
    [
        {"call": "abc"},
        {"call": "99999999"},
        {"status": "nonsense"},
        {"program": "no-such-program"},
        {"city": "9999"},
        {"date_from": "2026-13-45"},
        {"date_to": "yesterday"},
        {"date_from": "0001-01-01"},
        {"date_to": "9999-12-31"},
        {"page": "abc"},
        {"page": "-3"},
        {"page": "99999"},
        {"sort": "password"},
        {"sort": "-"},
        {"q": "x" * 500},
    ],
)
def test_a_bad_filter_value_is_ignored_and_shown_never_a_500(
    client_for, formal_reviewer, finance_officer, notice_officer, world, params
):
    staff = client_for(formal_reviewer)
    response = staff.get(reverse("application_list"), params)
    assert response.status_code == 200
    field = next(iter(params))
    if field not in ("page", "sort"):
        # The refused value is named on the form; the list shows everything else.
        assert "已忽略" in steps.page(response)
    assert len(rows_of(response)) == 4
    assert staff.get(reverse("application_list"), {**params, "export": "xlsx"}).status_code == 200
    for name, user in [
        ("staff_call_list", formal_reviewer),
        ("document_list", formal_reviewer),
        ("objection_list", notice_officer),
        ("finance_list", finance_officer),
    ]:
        assert client_for(user).get(reverse(name), params).status_code == 200, name


def test_the_application_list_costs_the_same_queries_for_5_or_65_rows(
    client_for, formal_reviewer, world, django_assert_max_num_queries
):
    staff = client_for(formal_reviewer)
    with CaptureQueriesContext(connection) as few:
        staff.get(reverse("application_list"))
    call = CallFactory(program_slug="ip_operating_institution")
    for n in range(60):
        ApplicationFactory(
            call=call, institution=institution_for(UserFactory(role="applicant"), name=f"单位{n}")
        )
    with django_assert_max_num_queries(len(few)):
        response = staff.get(reverse("application_list"), {"q": "单位", "city": "5201"})
    assert len(rows_of(response)) == 50


# --- finance -----------------------------------------------------------------------------------


def test_finance_exports_what_a_payment_needs_with_the_amount_in_capitals(clients, call, world):
    paid = steps.run_to_paid(clients, call, tier="national", voucher="PZ-2026-0001")
    letter = Document.objects.get(application=paid, kind=Document.Kind.AWARD_LETTER)

    page = clients.finance.get(reverse("finance_list"), {"q": paid.institution.uscc})
    assert names_listed(page, 0) == [paid.institution.name]
    row = rows_of(page)[0]
    assert letter.number in row and "PZ-2026-0001" in row
    rows = sheet(clients.finance.get(reverse("finance_list") + link(page, css_class="export-link")))

    assert rows[0] == (
        "申报单位",
        "统一社会信用代码",
        "批次",
        "开户银行",
        "账户名称",
        "银行账号",
        "金额（小写）",
        "金额（大写）",
        "奖励通知书文号",
        "凭证号",
        "拨付日期",
        "状态",
    )
    assert rows[1:] == [
        (
            paid.institution.name,
            paid.institution.uscc,
            call.title,
            "中国工商银行贵阳分行",
            "贵州省技术转移示范中心",
            "2402 0012 0900 1234 567",
            Decimal("1000000.00"),
            "人民币壹佰万元整",
            letter.number,
            "PZ-2026-0001",
            datetime.combine(timezone.localdate(), datetime.min.time()),
            "已拨付",
        )
    ]
    assert rows[1][7] == amount_in_words(Decimal("1000000.00"))
    # Finance only: an applicant may not open it.
    other = clients.applicant.get(reverse("finance_list"), {"export": "xlsx"})
    assert other.status_code == 403


def test_finance_lists_only_programs_that_pay(client_for, finance_officer, db):
    """A recognition's decided applications were listed with 印发奖励通知书, a button that always
    failed (the program pays nothing)."""
    recognised = ApplicationFactory(
        call=CallFactory(program_slug="ip_advantage_enterprise", title="认定批次"),
        institution=institution_for(UserFactory(role="applicant"), name="认定单位"),
        status=Status.DECIDED,
    )
    granted = ApplicationFactory(
        call=CallFactory(title="资助批次"),
        institution=institution_for(UserFactory(role="applicant"), name="资助单位"),
        status=Status.DECIDED,
    )
    page = client_for(finance_officer).get(reverse("finance_list"))
    assert names_listed(page, 0) == [granted.institution.name]
    assert recognised.institution.name not in page.content.decode()


# --- documents ---------------------------------------------------------------------------------


def test_the_document_list_shows_staff_every_document_and_an_applicant_only_theirs(
    clients, call, client_for, other_applicant, notice_officer
):
    paid = steps.run_to_paid(clients, call, tier="provincial", voucher="PZ-2026-0002")
    issued = Document.objects.filter(call=call)
    letter = issued.get(kind=Document.Kind.AWARD_LETTER)

    staff = client_for(notice_officer)
    assert {row[0] for row in rows_of(staff.get(reverse("document_list")))} == {
        d.number or "—" for d in issued
    }
    found = staff.get(reverse("document_list"), {"status": "award_letter"})
    assert [row[0] for row in rows_of(found)] == [letter.number]
    exported = sheet(staff.get(reverse("document_list") + link(found, css_class="export-link")))
    assert [row[0] for row in exported[1:]] == [letter.number]
    assert exported[1][3] == paid.institution.name

    # The applicant sees its own notices and the call's decision; another applicant nothing.
    own = sheet(clients.applicant.get(reverse("document_list"), {"export": "xlsx"}))
    assert {row[0] or "" for row in own[1:]} == {d.number for d in issued}
    stranger = client_for(other_applicant)
    assert rows_of(stranger.get(reverse("document_list"))) == []
    assert sheet(stranger.get(reverse("document_list"), {"export": "xlsx"}))[1:] == []


# --- objections --------------------------------------------------------------------------------


def objection(application, user, statement):
    return Objection.objects.create(
        application=application,
        lodged_by=user,
        capacity=Objection.Capacity.PERSON,
        real_name="王某",
        id_number="520102199001011234",
        phone="13800000000",
        statement=statement,
        evidence=ContentFile(b"%PDF-1.4", name="evidence.pdf"),
    )


def test_objections_are_listed_for_the_officer_and_only_their_own_for_an_objector(
    client_for, notice_officer, applicant, other_applicant, world
):
    first = objection(world.theirs, applicant, "申报材料与事实不符。")
    second = objection(world.zunyi, other_applicant, "该单位不具备资格。")
    second.status = Objection.Status.DISMISSED
    second.save()

    officer = client_for(notice_officer)
    assert sorted(names_listed(officer.get(reverse("objection_list")), 0)) == sorted(
        [world.theirs.institution.name, world.zunyi.institution.name]
    )
    pending = officer.get(reverse("objection_list"), {"status": "pending"})
    assert names_listed(pending, 0) == [world.theirs.institution.name]
    rows = sheet(officer.get(reverse("objection_list") + link(pending, css_class="export-link")))
    assert rows[0][:3] == ("申报单位", "统一社会信用代码", "批次")
    assert [(r[0], r[6]) for r in rows[1:]] == [(world.theirs.institution.name, first.statement)]
    assert all("520102199001011234" not in str(cell) for cell in rows[1])

    objector = client_for(other_applicant)
    assert names_listed(objector.get(reverse("objection_list")), 0) == [
        world.zunyi.institution.name
    ]
    own = sheet(objector.get(reverse("objection_list"), {"export": "xlsx"}))
    assert [r[6] for r in own[1:]] == [second.statement]


# --- rankings and expert seats -----------------------------------------------------------------


def test_the_ranking_is_paged_and_filtered_and_keeps_each_place_in_the_call(
    client_for, formal_reviewer, applicant
):
    call = CallFactory(program_slug="ip_advantage_enterprise", title="优势企业认定第一批")
    scored = []
    for n in range(60):
        application = ApplicationFactory(
            call=call,
            institution=institution_for(
                UserFactory(role="applicant"),
                name=f"排名企业{n:02d}",
                region_code="520300" if n % 2 else "520100",
            ),
            status=Status.SCORED,
            tier="",
        )
        # Scores 90.00, 89.50, … ; two share the 10th place.
        score = Decimal("90.00") - Decimal("0.50") * n if n != 10 else Decimal("85.50")
        PanelResult.objects.create(application=application, stage_key="expert_review", score=score)
        scored.append(application)
    staff = client_for(formal_reviewer)
    url = reverse("ranking", args=[call.pk])

    first = staff.get(url)
    rows = rows_of(first)
    assert len(rows) == 50
    assert [r[0] for r in rows[:12]] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "10",
        "12",
    ]
    second = staff.get(url + link(first, rel="next"))
    assert [r[0] for r in rows_of(second)] == [str(n) for n in range(51, 61)]

    # Found by name, an application keeps its place in the whole call.
    assert rows_of(staff.get(url, {"q": "排名企业36"}))[0][:2] == ["37", "排名企业36"]
    zunyi = rows_of(staff.get(url, {"city": "5203"}))
    assert len(zunyi) == 30 and zunyi[0][:2] == ["2", "排名企业01"]
    exported = sheet(staff.get(url, {"city": "5203", "export": "xlsx"}))
    assert exported[0][:4] == ("名次", "申报单位", "统一社会信用代码", "专家评审得分")
    assert [(r[0], r[1]) for r in exported[1:3]] == [(2, "排名企业01"), (4, "排名企业03")]
    assert len(exported) == 31
    # Applicants do not see rankings.
    assert client_for(applicant).get(url).status_code == 403


def test_an_expert_pages_through_their_own_seats_and_exports_only_theirs(client_for, experts):
    me, colleague = experts[0], experts[1]
    call = CallFactory(program_slug="ip_advantage_enterprise")
    for n in range(55):
        application = ApplicationFactory(
            call=call,
            institution=institution_for(UserFactory(role="applicant"), name=f"评审企业{n:02d}"),
            status=Status.ACCEPTED,
            tier="",
        )
        PanelSeat.objects.create(
            application=application,
            expert=me,
            status=PanelSeat.Status.DRAWN if n < 3 else PanelSeat.Status.SCORED,
            due_at=timezone.now() + timedelta(days=n),
            total=None if n < 3 else Decimal("80.00"),
        )
        if n % 10 == 0:
            PanelSeat.objects.create(application=application, expert=colleague)
    browser = client_for(me.user)

    first = browser.get(reverse("expert_seats"))
    rows = rows_of(first)
    assert len(rows) == 50
    # What waits for the expert comes first, with its 声明 link.
    assert [r[0] for r in rows[:3]] == ["评审企业00", "评审企业01", "评审企业02"]
    assert [r[-1] for r in rows[:3]] == ["声明"] * 3
    assert len(rows_of(browser.get(reverse("expert_seats") + link(first, rel="next")))) == 5
    drawn = browser.get(reverse("expert_seats"), {"status": "drawn"})
    assert names_listed(drawn, 0) == ["评审企业00", "评审企业01", "评审企业02"]

    exported = sheet(browser.get(reverse("expert_seats"), {"export": "xlsx"}))
    assert len(exported) == 56
    assert exported[0][:2] == ("申报单位", "统一社会信用代码")
    colleague_seats = client_for(colleague.user).get(reverse("expert_seats"), {"export": "xlsx"})
    assert len(sheet(colleague_seats)) == 1 + 6


# --- calls -------------------------------------------------------------------------------------


def test_staff_filter_the_calls_by_program_and_phase(client_for, formal_reviewer, applicant, world):
    now = timezone.now()
    CallFactory(
        title="已截止的批次", opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=30)
    )
    staff = client_for(formal_reviewer)

    assert names_listed(staff.get(reverse("staff_call_list"), {"status": "closed"}), 0) == [
        "已截止的批次"
    ]
    operating = staff.get(reverse("staff_call_list"), {"program": "ip_operating_institution"})
    assert names_listed(operating, 0) == ["运营服务机构第一批"]
    assert rows_of(operating)[0][5] == "2"  # its submitted applications (not the draft)
    assert rows_of(operating)[0][1] == "知识产权运营服务机构经费资助"  # the program's title
    rows = sheet(staff.get(reverse("staff_call_list"), {"q": "技术转移", "export": "xlsx"}))
    assert [r[0] for r in rows[1:]] == ["技术转移机构资助第一批"]
    assert rows[1][1] == "技术转移机构经费资助"
    assert client_for(applicant).get(reverse("staff_call_list")).status_code == 403


def test_a_call_of_a_program_that_pays_nothing_shows_no_budget(client_for, formal_reviewer, db):
    CallFactory(
        title="优势企业认定批次", program_slug="ip_advantage_enterprise", budget_total=Decimal(0)
    )
    CallFactory(title="技术转移批次", budget_total=Decimal("2000000.00"))
    page = client_for(formal_reviewer).get(reverse("staff_call_list"))
    rows = {row[0]: row for row in rows_of(page)}

    assert rows["优势企业认定批次"][6:8] == ["—", "—"]
    assert rows["技术转移批次"][6:8] == ["¥2,000,000.00", "¥2,000,000.00"]


def test_every_link_on_the_calls_list_opens_for_each_staff_role(
    client_for, formal_reviewer, leadership, notice_officer, finance_officer, db
):
    """The list linked every call to 审议, 专家评审排名 and 评审委员会表决 by permission alone, and
    the pages of the stages a program does not have answered 404."""
    from workflows.permissions import ROLES

    committee = UserFactory(role="award_committee")
    assert "award_committee" in ROLES
    for slug in ("tech_transfer_agency", "ip_advantage_enterprise", "patent_award"):
        CallFactory(program_slug=slug, title=f"链接{slug}")
    for user in (formal_reviewer, leadership, notice_officer, finance_officer, committee):
        browser = client_for(user)
        page = browser.get(reverse("staff_call_list"))
        links = set(
            re.findall(
                r'href="(/(?:calls|expert-review|committee|applications)/[^"]+)"',
                page.content.decode(),
            )
        )
        assert links, user
        for href in links:
            assert browser.get(html.unescape(href)).status_code == 200, (user.username, href)
