"""The statistics page (/statistics/): what staff and leadership read in its tables and Excel
exports matches the applications, payments and recognitions in the database; the policy
target's progress by year; who may see it; a constant number of queries; the charts come from
the vendored ECharts file and no inline script."""

import html
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote
from urllib.request import urlopen
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pydantic import ValidationError

from tests.factories import (
    ApplicationFactory,
    CallFactory,
    PaymentFactory,
    UserFactory,
    institution_for,
)
from workflows.models import Application, AuditRecord
from workflows.statistics import (
    Filters,
    TargetsFile,
    statistics_tables,
    table_money,
    targets_loaded,
)

Status = Application.Status
SHANGHAI = ZoneInfo("Asia/Shanghai")
GRANT = "tech_transfer_agency"
ENTERPRISE = "ip_advantage_enterprise"


def moment(year: int, month: int = 6, day: int = 1) -> datetime:
    return datetime(year, month, day, 10, tzinfo=SHANGHAI)


def decided_in(application: Application, at: datetime) -> None:
    """Set-up: the audit record the decision stage writes when it moves an application to
    decided (application_move), dated `at`."""
    AuditRecord.objects.create(
        application=application,
        call=application.call,
        action="decide",
        from_status=Status.NOTICE_CLOSED,
        to_status=Status.DECIDED,
        created_at=at,
    )


def enterprise_in(city_code: str, name: str):
    return institution_for(UserFactory(role="applicant"), name=name, region_code=city_code)


@pytest.fixture
def world(db):
    """Two grant calls (one of 2025) and two recognition calls, applications in four cities."""
    today = timezone.localdate()
    grant = CallFactory(title="技术转移2026批", budget_total=Decimal("2000000.00"))
    old_grant = CallFactory(
        title="技术转移2025批",
        opens_at=moment(2025, 3, 1),
        closes_at=moment(2025, 4, 1),
        budget_total=Decimal("500000.00"),
    )
    enterprise = CallFactory(
        program_slug=ENTERPRISE, title="优势企业认定批次", budget_total=Decimal("0.00")
    )
    enterprise_again = CallFactory(
        program_slug=ENTERPRISE, title="优势企业认定第二批", budget_total=Decimal("0.00")
    )
    zunyi = enterprise_in("520302", "遵义技术转移中心")
    bijie = enterprise_in("520502", "毕节技术转移中心")
    # Guiyang (520100) is the factories' default.
    ApplicationFactory(call=grant, status=Status.DRAFT)
    ApplicationFactory(call=grant, status=Status.SUBMITTED, institution=zunyi)
    ApplicationFactory(call=grant, status=Status.REFUSED)
    ApplicationFactory(
        call=grant, status=Status.DECIDED, institution=bijie, award_amount=Decimal("300000.00")
    )
    PaymentFactory(
        application=ApplicationFactory(
            call=grant, status=Status.PAID, award_amount=Decimal("1000000.00")
        )
    )
    PaymentFactory(
        application=ApplicationFactory(
            call=old_grant, status=Status.PAID, institution=zunyi, award_amount=Decimal("300000.00")
        )
    )
    # Recognitions in Anshun (520402): the same enterprise recognised in 2023 and again in 2025
    # counts once towards the target, in 2023.
    twice = enterprise_in("520402", "安顺优势企业甲")
    recognitions = {
        "expiring": (enterprise_in("520402", "安顺优势企业乙"), moment(2024), 30),
        "expired": (twice, moment(2023), -1),
        "this_year": (enterprise_in("520402", "安顺优势企业丙"), timezone.now(), 400),
    }
    made = {}
    for label, (institution, at, days_left) in recognitions.items():
        made[label] = ApplicationFactory(
            call=enterprise,
            institution=institution,
            status=Status.DECIDED,
            valid_until=today + timedelta(days=days_left),
        )
        decided_in(made[label], at)
    again = ApplicationFactory(
        call=enterprise_again,
        institution=twice,
        status=Status.DECIDED,
        valid_until=today + timedelta(days=800),
    )
    decided_in(again, moment(2025))
    ApplicationFactory(
        call=enterprise, institution=enterprise_in("520402", "安顺企业丁"), status=Status.REJECTED
    )
    return {"grant": grant, "old_grant": old_grant, "enterprise": enterprise, **made}


@pytest.fixture
def leader_client(client_for, leadership):
    return client_for(leadership)


def page_of(client, **params) -> str:
    response = client.get(reverse("statistics"), params)
    assert response.status_code == 200
    return response.content.decode()


def table(text: str, name: str) -> dict[str, list[str]]:
    """{first cell: the other cells} of the table in the page's section `name`."""
    section = re.search(rf'<section[^>]*id="{re.escape(name)}".*?</section>', text, re.S)
    assert section, name
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", section.group(0), re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def workbook_rows(client, name: str, **params) -> list[list]:
    response = client.get(reverse("statistics"), {**params, "export": "xlsx", "table": name})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- the numbers ---------------------------------------------------------------------------------


def test_applications_and_outcomes_by_program(leader_client, world):
    rows = table(page_of(leader_client), "program")

    # submitted (not drafts), in progress, decided, not successful, drafts
    assert rows["技术转移机构经费资助"] == ["5", "1", "3", "1", "1"]
    assert rows["知识产权优势企业认定"] == ["5", "0", "4", "1", "0"]
    assert rows["贵州省专利奖评选表彰"] == ["0", "0", "0", "0", "0"]


def test_applications_and_outcomes_by_city(leader_client, world):
    rows = table(page_of(leader_client), "city")

    assert rows["贵阳市"] == ["2", "0", "1", "1", "1"]
    assert rows["遵义市"] == ["2", "1", "1", "0", "0"]
    assert rows["安顺市"] == ["5", "0", "4", "1", "0"]
    assert rows["毕节市"] == ["1", "0", "1", "0", "0"]
    assert set(rows) - {"市（州）"} == {"贵阳市", "遵义市", "安顺市", "毕节市"}


def test_applications_by_status_and_by_call(leader_client, world):
    text = page_of(leader_client)
    by_status = table(text, "status")
    by_call = table(text, "call")

    assert by_status["草稿"] == ["1"]
    assert by_status["已印发决定"] == ["5"]
    assert by_status["已拨付"] == ["2"]
    assert by_status["审议未通过"] == ["1"]
    assert by_status["公示中"] == ["0"]
    assert by_call["技术转移2026批"] == ["技术转移机构经费资助", "4", "1", "2", "1", "1"]
    assert by_call["技术转移2025批"] == ["技术转移机构经费资助", "1", "0", "1", "0", "0"]


def test_money_decided_and_paid_against_each_budget(leader_client, world):
    rows = table(page_of(leader_client), "money")

    # budget, decided, paid, budget left, decided but not yet paid
    assert rows["技术转移2026批"][1:] == [
        "¥2,000,000.00",
        "¥1,300,000.00",
        "¥1,000,000.00",
        "¥1,000,000.00",
        "¥300,000.00",
    ]
    assert rows["合计"][1:] == [
        "¥2,500,000.00",
        "¥1,600,000.00",
        "¥1,300,000.00",
        "¥1,200,000.00",
        "¥300,000.00",
    ]


def test_a_program_that_pays_nothing_has_no_row_in_the_money_table(leader_client, world):
    rows = table(page_of(leader_client), "money")

    assert "技术转移2026批" in rows and "技术转移2025批" in rows
    assert "优势企业认定批次" not in rows and "优势企业认定第二批" not in rows


def test_money_is_counted_in_decimal(world):
    from workflows.statistics import _calls_counted

    money = table_money(_calls_counted(Filters()))
    grant = next(row for row in money.rows if row[0] == "技术转移2026批")

    assert grant[2:] == [
        Decimal("2000000.00"),
        Decimal("1300000.00"),
        Decimal("1000000.00"),
        Decimal("1000000.00"),
        Decimal("300000.00"),
    ]
    assert all(isinstance(value, Decimal) for value in grant[2:])


def test_money_export_matches_the_page(leader_client, world):
    rows = workbook_rows(leader_client, "money")
    response = leader_client.get(reverse("statistics"), {"export": "xlsx", "table": "money"})
    assert quote("预算指标、决定金额和拨付金额") in response["Content-Disposition"]

    assert rows[0] == [
        "申报批次",
        "项目",
        "预算指标",
        "已决定金额",
        "已拨付金额",
        "预算余额",
        "已决定未拨付",
    ]
    grant = next(row for row in rows if row[0] == "技术转移2026批")
    assert [Decimal(str(value)) for value in grant[2:]] == [
        Decimal("2000000"),
        Decimal("1300000"),
        Decimal("1000000"),
        Decimal("1000000"),
        Decimal("300000"),
    ]
    assert rows[-1][0] == "合计"
    assert Decimal(str(rows[-1][3])) == Decimal("1600000")


def test_exports_of_counts_match_the_page(leader_client, world):
    by_city = {row[0]: row[1:] for row in workbook_rows(leader_client, "city")[1:]}

    assert by_city["安顺市"] == [5, 0, 4, 1, 0]
    assert by_city["贵阳市"] == [2, 0, 1, 1, 1]


def test_every_table_exports_what_the_page_shows(leader_client, world):
    """Each table's 导出 Excel link answers a workbook whose rows read as the page's (the status
    table's labels are translated names, which once broke the export with a 500)."""
    text = page_of(leader_client)
    names = re.findall(r"export=xlsx&amp;table=([\w-]+)", text)
    assert "status" in names and len(names) >= 6
    for name in names:
        exported = workbook_rows(leader_client, name)
        shown = table(text, name)
        assert len(exported) == len(shown), name
        for row in exported[1:]:
            assert str(row[0]) in shown, (name, row)
    by_status = {row[0]: row[1] for row in workbook_rows(leader_client, "status")[1:]}
    assert by_status["草稿"] == int(table(text, "status")["草稿"][0])


def test_recognitions_in_force_and_expiring(leader_client, world):
    rows = table(page_of(leader_client), "recognitions")
    later = table(page_of(leader_client, days=500), "recognitions")

    # total, in force, expiring within the days asked, expired
    assert rows["知识产权优势企业认定"] == ["4", "3", "1", "1"]
    assert later["知识产权优势企业认定"] == ["4", "3", "2", "1"]
    assert "其中500天内到期" in page_of(leader_client, days=500)
    assert "技术转移机构经费资助" not in rows  # awards without a validity are no recognitions
    assert f'href="{reverse("recognition_expiring")}?days=500"' in page_of(leader_client, days=500)


def test_target_progress_by_year(leader_client, world):
    name = "target-advantage_enterprises_2025"
    text = page_of(leader_client)
    rows = table(text, name)
    this_year = str(timezone.localdate().year)

    # new that year, cumulative, target, share of the target
    assert rows["2023"] == ["1", "1", "500", "0.2%"]
    assert rows["2024"] == ["1", "2", "500", "0.4%"]
    # Recognised again in 2025: the enterprise was counted in 2023.
    assert rows["2025"] == ["0", "2", "500", "0.4%"]
    assert rows[this_year] == ["1", "3", "500", "0.6%"]
    assert "累计培育省级以上知识产权优势企业：2025年目标500家" in html.unescape(text)
    assert (
        "依据：《贵州省专利转化运用专项行动实施方案（2023—2025年）》一、总体要求"
        in html.unescape(text)
    )
    exported = workbook_rows(leader_client, name)
    assert exported[1] == ["2023", 1, 1, 500, 0.2]


def test_filters_narrow_to_a_year_and_a_program(leader_client, world):
    in_2025 = page_of(leader_client, year=2025)
    grants = page_of(leader_client, program=GRANT)

    assert table(in_2025, "program")["技术转移机构经费资助"] == ["1", "0", "1", "0", "0"]
    assert "技术转移2026批" not in table(in_2025, "money")
    assert set(table(grants, "program")) == {"项目", "技术转移机构经费资助"}
    assert "优势企业认定批次" not in table(grants, "call")
    # The target is the policy's: no filter changes it.
    assert table(in_2025, "target-advantage_enterprises_2025")["2024"][1] == "2"


def test_an_invalid_filter_is_told_and_the_page_still_answers(leader_client, world):
    text = html.unescape(page_of(leader_client, days=0))

    assert "天数须为1至3650之间的整数。" in text
    assert table(text, "recognitions")["知识产权优势企业认定"] == ["4", "3", "1", "1"]


def test_unknown_export_table_is_not_found(leader_client, world):
    response = leader_client.get(reverse("statistics"), {"export": "xlsx", "table": "nope"})

    assert response.status_code == 404


# --- who may see it ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("statistics"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_applicants_city_offices_and_experts_are_refused(
    client_for, applicant, city_office, experts
):
    for user in (applicant, city_office, experts[0].user):
        assert client_for(user).get(reverse("statistics")).status_code == 403
        export = client_for(user).get(reverse("statistics"), {"export": "xlsx", "table": "money"})
        assert export.status_code == 403


def test_staff_and_leadership_see_it_linked_in_the_header(
    client_for, leadership, formal_reviewer, finance_officer, applicant
):
    link = f'href="{reverse("statistics")}"'
    for user in (leadership, formal_reviewer, finance_officer):
        assert link in client_for(user).get(reverse("home")).content.decode()
        assert client_for(user).get(reverse("statistics")).status_code == 200
    assert link not in client_for(applicant).get(reverse("home")).content.decode()


# --- queries -------------------------------------------------------------------------------------


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        page_of(client)
    return len(captured)


def test_queries_do_not_grow_with_the_data(leader_client, world, django_assert_max_num_queries):
    before = _queries(leader_client)
    more = CallFactory(title="技术转移2026第二批", budget_total=Decimal("9000000.00"))
    for n in range(12):
        status = [Status.SUBMITTED, Status.REFUSED, Status.DECIDED, Status.PAID][n % 4]
        application = ApplicationFactory(
            call=more,
            status=status,
            institution=enterprise_in(["520201", "520602", "522301"][n % 3], f"新增单位{n}"),
            award_amount=Decimal("300000.00"),
        )
        if status == Status.PAID:
            PaymentFactory(application=application)
    recognised = ApplicationFactory(
        call=world["enterprise"],
        status=Status.DECIDED,
        valid_until=timezone.localdate() + timedelta(days=10),
    )
    decided_in(recognised, moment(2024))

    print("queries for the statistics page:", before)
    with django_assert_max_num_queries(before):
        text = page_of(leader_client)
    # 六盘水 got n = 0, 3, 6, 9: submitted, paid, decided, refused.
    assert table(text, "city")["六盘水市"] == ["4", "1", "2", "1", "0"]
    assert before <= 20


# --- the charts ----------------------------------------------------------------------------------


def test_charts_use_the_vendored_echarts_and_no_inline_script(leader_client, world):
    text = page_of(leader_client)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S)

    sources = [
        re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _ in scripts if "src=" in attrs
    ]
    assert sources == [
        "/static/ipgrants.js",
        "/static/vendor/echarts/echarts.min.js",
        "/static/statistics.js",
    ]
    data_blocks = [attrs for attrs, body in scripts if 'type="application/json"' in attrs]
    assert len(data_blocks) == len(re.findall(r'class="stat-chart"', text)) >= 7
    for attrs, body in scripts:
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
        assert "src=" not in attrs or body.strip() == ""
    assert "cdn" not in " ".join(sources).lower()
    blocks = "".join(re.findall(r"<section.*?</section>", text, re.S))
    assert not re.search(r"<[^>]+\son[a-z]+=", blocks)  # no inline event handlers


def test_the_chart_data_carries_the_tables_numbers_and_translated_labels(leader_client, world):
    text = page_of(leader_client)
    data = re.search(r'<script id="chart-data-money" type="application/json">(.*?)</script>', text)

    chart = json.loads(data.group(1))
    assert chart["title"] == "预算指标、决定金额和拨付金额"
    assert [series["name"] for series in chart["series"]] == [
        "预算指标",
        "已决定金额",
        "已拨付金额",
    ]
    grant = chart["categories"].index("技术转移2026批")
    assert [series["data"][grant] for series in chart["series"]] == [
        "2000000.00",
        "1300000.00",
        "1000000.00",
    ]


def test_the_static_files_are_served(live_server):
    for path in ("/static/vendor/echarts/echarts.min.js", "/static/statistics.js"):
        with urlopen(live_server.url + path) as response:  # noqa: S310 (our own test server)
            body = response.read()
        assert response.status == 200
        assert len(body) > 1000
    with urlopen(live_server.url + "/static/vendor/echarts/echarts.min.js") as response:
        assert b"5.6.0" in response.read()


# --- the targets file ----------------------------------------------------------------------------


def test_every_target_cites_its_seed_clause_and_counts_a_program():
    targets = targets_loaded()

    assert [t.key for t in targets] == ["advantage_enterprises_2025"]
    target = targets[0]
    assert (target.program, target.outcome, target.counts) == (
        ENTERPRISE,
        "decided",
        "institutions",
    )
    assert (target.target, target.by_year, target.cumulative) == (500, 2025, True)
    assert target.source.file.startswith("000_")
    assert "省级以上知识产权优势企业500家以上" in target.source.text


def test_a_target_of_an_unknown_program_is_refused():
    with pytest.raises(ValidationError, match="no program file"):
        TargetsFile.model_validate(
            {
                "targets": [
                    {
                        "key": "x",
                        "label": {"zh": "某目标", "en": "A target"},
                        "program": "no_such_program",
                        "outcome": "decided",
                        "counts": "applications",
                        "cumulative": False,
                        "from_year": 2024,
                        "by_year": 2025,
                        "target": 10,
                        "unit": {"zh": "项", "en": "items"},
                        "source": {
                            "document": "某方案",
                            "file": "000.txt",
                            "clause": "一",
                            "text": "……",
                        },
                    }
                ]
            }
        )


def test_statistics_in_english_use_the_program_files_english_titles(world):
    from django.utils import translation

    with translation.override("en"):
        tables = statistics_tables(Filters())
    program = next(t for t in tables if t.name == "program")

    assert "Tech-transfer agency grant" in [row[0] for row in program.rows]
    assert "技术转移机构经费资助" not in [row[0] for row in program.rows]


# --- in a browser --------------------------------------------------------------------------------


def test_charts_are_drawn_and_tables_scroll_at_390px(leadership, world, pages):
    """In Chromium at a phone's width: every chart is drawn (an SVG), the page raises no script
    error, and the widest table scrolls inside its own box instead of widening the page."""
    window = pages(leadership, narrow=True)
    failed = []
    window.page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page = window.open(reverse("statistics"), "statistics")
    page.wait_for_selector(".stat-chart svg")
    window.shot("charts drawn")
    charts = page.locator(".stat-chart").count()
    drawn = page.locator(".stat-chart svg").count()
    money_box = page.locator("#money .table-scroll")
    box_width, table_width = money_box.evaluate(
        "box => [box.clientWidth, box.querySelector('table').scrollWidth]"
    )
    legend = page.locator("#money .stat-chart").inner_text()

    assert window.errors == []
    assert [url for url in failed if not url.endswith("/favicon.ico")] == []
    assert drawn == charts >= 7
    assert table_width > box_width  # the table scrolls in its box
    assert "已拨付金额" in legend
