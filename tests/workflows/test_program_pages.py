"""Pages that show an application's own data, for every shipped program: the program file's fields
in its order with its labels and values written for a reader, its attachments under their types,
dates ISO in inputs, regions from the GB/T 2260 data, the earlier correction request and what
changed since, the verification box, and the error pages in Chinese."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from stdnum.cn import uscc as uscc_module

from forms.fields import NumberField
from forms.forms import USCC_EXAMPLE
from forms.regions import region_names, regions
from forms.validators import patent_number_clean
from tests.workflows import competitive_steps as cs
from tests.workflows import http_steps as steps
from workflows import demo
from workflows.models import Application, Institution
from workflows.programs import PAYMENT_FIELDS, programs_loaded
from workflows.stages.disbursement.forms import PaymentForm

pytestmark = pytest.mark.django_db

PROGRAMS = sorted(p.stem for p in (Path(settings.BASE_DIR) / "config" / "programs").glob("*.toml"))
GRANT_LABELS = ("获批级别", "批准文号", "获批日期", "开户银行", "账户名称", "银行账号")
FIELD_ROW = re.compile(
    r'<dt>([^<]*)</dt><dd class="field field-([a-z_]+)" data-field="([a-z_]+)">(.*?)</dd>', re.S
)


@pytest.fixture
def cast():
    return demo.cast_make()


@pytest.fixture
def clients(cast):
    return cs.browsers(cast)


def field_rows(text: str) -> list[tuple[str, str, str]]:
    """(label, field name, value) of the application's fields, top to bottom."""
    return [(label, name, value.strip()) for label, _kind, name, value in FIELD_ROW.findall(text)]


def no_raw_values(text: str) -> None:
    visible = re.sub(r"<[^>]+>", " ", text)
    for word in ("True", "False", "None"):
        assert not re.search(rf"\b{word}\b", visible), f"the page shows {word!r}"


def submitted(cast, slug: str, serial: int = 1) -> Application:
    call = demo.call_make(slug=slug)
    return demo.application_submitted(cast=cast, call=call, serial=serial)


# --- the program's own fields, on every page that shows an application ----------------------------


@pytest.mark.parametrize("slug", PROGRAMS)
def test_application_pages_show_the_programs_own_fields_in_order(cast, clients, slug):
    application = submitted(cast, slug)
    program = application.program
    expected = [item["zh"] for item in program["fields"]]
    review_url = (
        reverse("recommendation_decide", args=[application.pk])
        if any(s["type"] == "city_recommendation" for s in program["stages"])
        else reverse("formal_review", args=[application.pk])
    )
    reviewer = (
        clients.cities["5201"]
        if "recommendation" in review_url or "recommend" in review_url
        else clients.reviewer
    )
    pages = {
        "applicant": steps.page(
            clients.applicant.get(reverse("application_detail", args=[application.pk]))
        ),
        "staff": steps.page(
            clients.reviewer.get(reverse("application_detail", args=[application.pk]))
        ),
        "review": steps.page(reviewer.get(review_url)),
    }
    # A city office recommends; the bank account is for the province's staff and finance.
    by_city = reviewer is not clients.reviewer
    for who, text in pages.items():
        shown_fields = [
            item
            for item in program["fields"]
            if not (who == "review" and by_city and item["name"] in PAYMENT_FIELDS)
        ]
        rows = field_rows(text)
        assert [label for label, _name, _value in rows] == [i["zh"] for i in shown_fields], who
        values = dict((name, value) for _label, name, value in rows)
        for item in shown_fields:
            shown = values[item["name"]]
            assert shown and shown != "—", (who, item["name"])
            if item["type"] in ("declaration", "boolean"):
                assert shown == "是"
            if item["type"] == "date":
                assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", shown), shown
            if item["type"] == "tier":
                assert shown == application.tier_label
        for label in GRANT_LABELS:
            if label not in expected:
                assert f"<dt>{label}</dt>" not in text, (who, label)
        for attachment in program["attachments"]:
            row = re.search(
                rf'<dt>{re.escape(attachment["zh"])} \*</dt><dd class="attachment" '
                rf'data-kind="{attachment["key"]}">(.*?)</dd>',
                text,
                re.S,
            )
            assert row, (who, attachment["key"])
            assert f"{attachment['key']}.pdf" in row.group(1)
        no_raw_values(text)


def test_an_enterprise_application_shows_no_shifted_rows(cast, clients):
    application = submitted(cast, "ip_advantage_enterprise")
    # The city recommends first: the review form waits until then; the record is the same.
    assert clients.reviewer.get(reverse("formal_review", args=[application.pk])).status_code == 404
    text = steps.page(clients.reviewer.get(reverse("application_detail", args=[application.pk])))
    values = {name: value for _label, name, value in field_rows(text)}
    assert values["contact_name"] == "张敏"
    assert values["contact_phone"] == "0851-85550000"
    assert "批准文号" not in text
    assert "营业执照" in text  # the attachment's type, not only its file name


def test_the_expert_reads_yes_not_true(cast, clients):
    application = submitted(cast, "ip_advantage_enterprise")
    cs.recommended_and_accepted(clients, [application])
    seat = cs.seats_open(application)[0]
    expert = cs.browser(seat.expert.user)
    cs.declare(expert, seat)
    text = steps.page(expert.get(reverse("seat_score", args=[seat.pk])))
    values = {name: value for _label, name, value in field_rows(text)}
    assert values["no_serious_dishonesty"] == "是"
    assert "bank_account" not in values
    no_raw_values(text)


def test_staff_pages_show_no_file_hash(cast, clients):
    text = steps.page(clients.reviewer.get(reverse("program_list")))
    assert "文件版本" not in text
    for program in programs_loaded().values():
        assert program.sha256[:12] not in text


# --- flow charts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", PROGRAMS)
def test_the_flow_chart_names_the_stages_in_chinese(clients, slug):
    response = clients.reviewer.get(reverse("program_chart", args=[slug]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    names = re.findall(r'font-size="17" fill="#111">([^<]+)</text>', svg)
    stage_names = {
        "application": "申报",
        "city_recommendation": "市州推荐",
        "formal_review": "形式审查",
        "expert_review": "专家评审",
        "committee_vote": "评审委员会表决",
        "leadership_meeting": "审议",
        "public_notice": "公示",
        "decision": "决定",
        "disbursement": "拨付",
    }
    program = programs_loaded()[slug].content
    assert names == [s.get("name") or stage_names[s["type"]] for s in program["stages"]]
    assert "不予受理" in svg
    assert not re.search(r">\s*(Start|End|View|formal_review|check_\w+)\s*<", svg)
    sizes = [int(size) for size in re.findall(r'font-size="(\d+)"', svg)]
    assert min(sizes) >= 13
    listing = steps.page(clients.reviewer.get(reverse("program_list")))
    assert "<svg" in listing and "形式审查" in listing


# --- dates ---------------------------------------------------------------------------------------


def test_a_draft_resaved_without_retyping_keeps_its_date(cast, clients):
    call = demo.call_make(slug="tech_transfer_agency")
    institution = demo.institution_make(user=cast.applicant, serial=7)
    application = demo.application_draft(user=cast.applicant, call=call, institution=institution)
    day = application.approval_date
    form_page = clients.applicant.get(reverse("application_edit", args=[application.pk]))
    assert steps.input_value(form_page, "approval_date") == day.isoformat()
    assert 'type="date"' in steps.page(form_page)

    response = steps.draft_edit(clients.applicant, application, contact_name="李华")
    assert "草稿已保存。" in steps.messages_shown(response), steps.form_errors(response)
    application.refresh_from_db()
    assert application.approval_date == day
    assert application.contact_name == "李华"
    assert f"{day.year}年{day.month}月{day.day}日" in steps.page(response)


def test_the_payment_form_shows_todays_date_in_iso():
    rendered = str(PaymentForm()["paid_on"])
    assert f'value="{timezone.localdate().isoformat()}"' in rendered
    assert 'type="date"' in rendered


# --- regions and examples ------------------------------------------------------------------------


def test_the_region_data_is_guizhous_gbt2260_divisions():
    data = regions()
    assert data["code"] == "520000"
    cities = {city["code"]: city["name"] for city in data["cities"]}
    assert cities == {
        "520100": "贵阳市",
        "520200": "六盘水市",
        "520300": "遵义市",
        "520400": "安顺市",
        "520500": "毕节市",
        "520600": "铜仁市",
        "522300": "黔西南布依族苗族自治州",
        "522600": "黔东南苗族侗族自治州",
        "522700": "黔南布依族苗族自治州",
    }
    counties = [c for city in data["cities"] for c in city["counties"]]
    assert len(counties) == 88
    assert region_names()["520102"] == "贵阳市南明区"
    assert region_names()["520581"] == "毕节市黔西市"
    for city in data["cities"]:
        for county in city["counties"]:
            assert county["code"][:4] == city["code"][:4]


def test_an_institution_chooses_its_region_from_the_list(client_for, applicant):
    browser = client_for(applicant)
    form_page = steps.page(browser.get(reverse("institution_register")))
    options = re.findall(r'<option value="(\d{6})"', form_page)
    assert options and set(options) <= set(region_names())
    assert len(options) == 9 + 88
    assert '<optgroup label="黔东南苗族侗族自治州">' in form_page
    assert "region_select.js" in form_page and "<script>" not in form_page

    uscc = demo.uscc_make(4242, "520102")
    refused = browser.post(
        reverse("institution_register"),
        {"name": "贵州星火技术转移中心", "uscc": uscc, "region_code": "520199", "address": ""},
    )
    assert any("请从列表中选择贵州省的市州和区县" in e for e in steps.form_errors(refused))
    steps.institution_register(
        browser, name="贵州星火技术转移中心", uscc=uscc, region_code="520102"
    )
    assert Institution.objects.get(uscc=uscc).region_code == "520102"


def test_every_example_shown_in_a_form_is_valid(client_for, applicant):
    form_page = steps.page(client_for(applicant).get(reverse("institution_register")))
    assert f"例如 {USCC_EXAMPLE}" in form_page
    assert uscc_module.is_valid(USCC_EXAMPLE)
    assert patent_number_clean("ZL202110123456.7") == "202110123456.7"
    assert NumberField(kind="money", places=2).clean("1500000.00") == Decimal("1500000.00")


# --- correction: one action for the applicant, what changed for the reviewer ----------------------


def test_a_resubmitted_correction_shows_the_request_and_what_changed(cast, clients):
    application = submitted(cast, "tech_transfer_agency")
    old_number = application.approval_number
    steps.formal_review(clients.reviewer, application, "correction", "批准文件页码不全，请补正。")

    detail = steps.page(clients.applicant.get(reverse("application_detail", args=[application.pk])))
    assert detail.count("mdc-button--raised") == 1
    assert "修改并提交补正" in detail
    assert reverse("application_submit", args=[application.pk]) not in detail

    url = reverse("application_edit", args=[application.pk])
    form_page = clients.applicant.get(url)
    current = {
        name: steps.input_value(form_page, name) or ""
        for name in steps.application_fields(application.call)
        if name != "tier"
    }
    current["tier"] = application.tier
    changes = {
        "approval_number": "国科火字〔2026〕99号",
        "attachment_approval_document": steps.pdf_file("approval-complete.pdf"),
        "resubmit": "1",
    }
    # Without the confirmation ticked the changes are kept and nothing is submitted.
    unticked = clients.applicant.post(url, current | changes, follow=True)
    assert any("请先勾选" in m for m in steps.messages_shown(unticked))
    application.refresh_from_db()
    assert application.status == Application.Status.CORRECTION
    assert application.approval_number == "国科火字〔2026〕99号"

    changes["attachment_approval_document"] = steps.pdf_file("approval-complete.pdf")
    response = clients.applicant.post(url, current | changes | {"confirm": "1"}, follow=True)
    assert "申报已提交。" in steps.messages_shown(response)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED

    review = steps.page(clients.reviewer.get(reverse("formal_review", args=[application.pk])))
    history = review[review.index("此前的补正要求") :]
    assert "批准文件页码不全，请补正。" in history
    assert re.search(
        rf"<td>批准文号</td><td class=\"before\">{re.escape(old_number)}</td>"
        r"<td class=\"after\">国科火字〔2026〕99号</td>",
        history,
    )
    assert "重新上传了「获批文件」" in history
    assert "approval-complete.pdf" in history
    assert "开户银行</td>" not in history  # unchanged fields are not listed


# --- verification and error pages ----------------------------------------------------------------


def test_verify_offers_a_box_for_the_printed_code(client):
    text = steps.page(client.get("/verify/"))
    assert 'name="code"' in text and "验证码" in text
    response = client.get("/verify/", {"code": " ABCD 1234 "})
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:verify", args=["ABCD1234"])
    missing = client.get(reverse("documents:verify", args=["ABCD1234"]))
    assert missing.status_code == 404
    assert 'name="code"' in missing.content.decode()


def test_an_upload_that_is_not_a_pdf_is_told_so(cast, clients):
    application = submitted(cast, "tech_transfer_agency")
    steps.formal_review(clients.reviewer, application, "accept")
    document = application.documents.get()
    response = Client().post(
        reverse("documents:verify", args=[document.verification_code]),
        {"file": steps.png_named_pdf("notice.pdf")},
    )
    assert "所选文件不是PDF文件" in steps.page(response)


def test_a_missing_page_answers_in_chinese(client_for, applicant):
    response = client_for(applicant).get("/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "页面不存在" in text
    assert "Not Found" not in text


def test_a_refused_action_answers_in_chinese(client_for, applicant):
    response = client_for(applicant).get(reverse("program_list"))
    assert response.status_code == 403
    text = response.content.decode()
    assert "无权进行此操作" in text
    assert "Forbidden" not in text


def test_a_server_error_answers_in_chinese(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "系统暂时无法处理您的请求" in response.content.decode()
