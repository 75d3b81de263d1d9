"""Personal data under PIPL: objectors' ID numbers are encrypted in the database with the key
from settings, shown masked (`5201**********1234`) to everyone but the officer handling the
objection, and rotated to a new key without loss; production refuses to start without a key."""

import os

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from documents.models import Document
from tests.factories import CallFactory, UserFactory
from tests.process_support import manage_py
from workflows.demo import application_in_notice, batch_run, cast_make, pdf_upload
from workflows.models import Objection, PublicNotice
from workflows.personal_data import id_number_mask
from workflows.stages.public_notice.services import objection_handle, objection_lodge

ID_NUMBER = "520102198506121237"
MASKED = "5201**********1237"


def stored(objection) -> str:
    """The column as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM workflows_objection WHERE id = %s", [objection.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def notice_world(db):
    """An application on an open public notice, and the demo cast (applicant, staff)."""
    cast = cast_make()
    application, notice = application_in_notice(cast=cast, call=CallFactory(), serial=71)
    return cast, application, notice


def lodged(user, application, id_number: str = ID_NUMBER, real_name: str = "王晓梅") -> Objection:
    return objection_lodge(
        user=user,
        application=application,
        capacity="person",
        real_name=real_name,
        id_number=id_number,
        phone="13987654321",
        statement="获批文件与事实不符。",
        evidence=pdf_upload("evidence.pdf"),
    )


def test_the_mask_keeps_the_first_four_and_the_last_four():
    assert id_number_mask("520102199001011234") == "5201**********1234"
    assert id_number_mask(ID_NUMBER) == MASKED
    assert id_number_mask("11010519491231002X") == "1101**********002X"
    assert id_number_mask("12345678") == "********"
    assert id_number_mask("") == ""


def test_free_text_for_the_public_has_its_id_and_phone_numbers_masked():
    from documents.redaction import personal_data_redact

    text = "王某（13987654321，0851-85550000，520102198506121237）：91520100MA6DKX1234"
    assert personal_data_redact(text) == (
        "王某（139****4321，085******0000，5201**********1237）：91520100MA6DKX1234"
    )
    assert personal_data_redact("金额1500000.00元，文号黔市监知〔2026〕12号") == (
        "金额1500000.00元，文号黔市监知〔2026〕12号"
    )


def test_an_id_number_is_stored_encrypted_and_read_back_in_clear(
    notice_world, other_applicant, settings
):
    _cast, application, _notice = notice_world
    objection = lodged(other_applicant, application)

    raw = stored(objection)
    assert ID_NUMBER not in raw and "19850612" not in raw
    key = Fernet(settings.PERSONAL_DATA_KEYS[0])
    assert key.decrypt(raw.encode()).decode() == ID_NUMBER
    assert Objection.objects.get(pk=objection.pk).id_number == ID_NUMBER
    # Two objections with the same number store different tokens.
    again = lodged(other_applicant, application)
    assert stored(again) != raw


def test_a_new_key_first_still_reads_old_values_and_rotation_moves_them_to_it(
    notice_world, other_applicant, settings
):
    _cast, application, _notice = notice_world
    objection = lodged(other_applicant, application)
    old = settings.PERSONAL_DATA_KEYS[0]
    new = Fernet.generate_key().decode()

    settings.PERSONAL_DATA_KEYS = [new, old]
    assert Objection.objects.get(pk=objection.pk).id_number == ID_NUMBER
    call_command("personal_data_rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert Fernet(new).decrypt(stored(objection).encode()).decode() == ID_NUMBER
    settings.PERSONAL_DATA_KEYS = [new]  # the old key dropped
    assert Objection.objects.get(pk=objection.pk).id_number == ID_NUMBER


def test_production_refuses_to_start_without_personal_data_keys():
    result = manage_py(
        "check",
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "SECRET_KEY": "x" * 64,
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        },
        unset=("PERSONAL_DATA_KEYS",),
    )

    assert result.returncode != 0
    assert "PERSONAL_DATA_KEYS" in result.stderr


# --- who sees the number in full ----------------------------------------------------------------


def test_the_officer_handling_an_objection_sees_the_full_number_and_no_one_else(
    notice_world, other_applicant, formal_reviewer, client_for, client
):
    cast, application, _notice = notice_world
    objection = lodged(other_applicant, application)
    handle = reverse("objection_handle", args=[objection.pk])
    listing = reverse("objection_list")

    officer = client_for(cast.notice_officer).get(handle).content.decode()
    assert ID_NUMBER in officer
    assert ID_NUMBER in client_for(cast.notice_officer).get(listing).content.decode()

    staff = client_for(formal_reviewer).get(listing).content.decode()  # sees every objection
    assert MASKED in staff and ID_NUMBER not in staff
    objector = client_for(other_applicant).get(listing).content.decode()  # their own
    assert MASKED in objector and ID_NUMBER not in objector
    applicant = client_for(cast.applicant)  # the institution objected to
    assert ID_NUMBER not in applicant.get(listing).content.decode()
    assert (
        ID_NUMBER
        not in applicant.get(reverse("application_detail", args=[application.pk])).content.decode()
    )
    assert client_for(formal_reviewer).get(handle).status_code == 403
    assert client.get(handle).status_code == 302  # the public: to the login page


def test_once_handled_only_the_officer_who_handled_it_sees_the_full_number(
    notice_world, other_applicant, client_for
):
    from tests.factories import UserFactory

    cast, application, _notice = notice_world
    objection = lodged(other_applicant, application)
    objection_handle(user=cast.notice_officer, objection=objection, upheld=False, reason="不成立。")
    colleague = UserFactory(role="notice_officer")
    call_page = reverse("call_manage", args=[application.call_id])

    assert ID_NUMBER in client_for(cast.notice_officer).get(call_page).content.decode()
    other = client_for(colleague).get(call_page).content.decode()
    assert MASKED in other and ID_NUMBER not in other


def test_the_excel_export_of_objections_carries_the_masked_number_only(
    notice_world, other_applicant, client_for
):
    from tests.workflows.test_lists import sheet

    cast, application, _notice = notice_world
    lodged(other_applicant, application)

    rows = sheet(client_for(cast.notice_officer).get(reverse("objection_list"), {"export": "xlsx"}))

    assert rows[0][-1] == "身份证号码"
    assert rows[1][-1] == MASKED
    assert ID_NUMBER not in str(rows)


def test_an_objection_by_an_organisation_has_no_number_to_show(
    notice_world, other_applicant, client_for
):
    _cast, application, _notice = notice_world
    objection = Objection.objects.create(
        application=application,
        lodged_by=other_applicant,
        capacity=Objection.Capacity.ORGANISATION,
        organisation_name="贵州某科技有限公司",
        phone="0851-85551234",
        statement="材料不实。",
        evidence=ContentFile(b"%PDF-1.4", name="evidence.pdf"),
    )

    assert stored(objection) == ""
    page = client_for(other_applicant).get(reverse("objection_list")).content.decode()
    assert "贵州某科技有限公司" in page and "*" * 10 not in page


# --- public pages ---------------------------------------------------------------------------------

CONTACT_NAME = "赵联系"
UNKNOWN_NAME = "李建华"
CONTACT_PHONE = "13900001111"
OBJECTOR_NAME = "王晓梅"
OBJECTOR_PHONE = "13987654321"
SECRETS = (
    CONTACT_NAME,
    CONTACT_PHONE,
    OBJECTOR_NAME,
    OBJECTOR_PHONE,
    ID_NUMBER,
    UNKNOWN_NAME,
    "周丽娜",
)
# Typed by staff into reasons the public reads: the numbers are masked on public pages, and so
# is a name the system never held, written as a name is (after 联系人, before 女士).
REASON = (
    f"异议人来电（电话{OBJECTOR_PHONE}，身份证号码{ID_NUMBER}），"
    f"经办人{UNKNOWN_NAME}核实；另询周丽娜女士"
)


def assert_no_personal_data(page: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in page, f"{secret} shown on {where}"


def test_public_pages_show_no_contact_names_phones_or_id_numbers(db, client, client_for):
    from tests.factories import UserFactory
    from workflows.models import Application
    from workflows.services.issuing import document_reissue, document_void
    from workflows.stages.public_notice.services import notice_period_extend

    cast = cast_make()
    decided = CallFactory()
    branches = ["paid", "correction_then_paid", "refused", "rejected", "objection_upheld"]
    batch_run(cast=cast, call=decided, branches=branches, serial_start=300)
    listed, notice = application_in_notice(cast=cast, call=CallFactory(), serial=310)
    Application.objects.update(contact_name=CONTACT_NAME, contact_phone=CONTACT_PHONE)

    # A person objects through the form: the confirmation echoes none of it.
    objector = client_for(UserFactory(role="applicant"))
    confirmation = objector.post(
        reverse("objection_lodge", args=[notice.pk, listed.pk]),
        {
            "capacity": "person",
            "real_name": OBJECTOR_NAME,
            "id_number": ID_NUMBER,
            "phone": OBJECTOR_PHONE,
            "statement": "获批文件与事实不符。",
            "evidence": pdf_upload("evidence.pdf"),
        },
        follow=True,
    )
    assert "异议已提交" in confirmation.content.decode()
    assert Objection.objects.get(application=listed).id_number == ID_NUMBER
    assert_no_personal_data(confirmation.content.decode(), "the objection's confirmation")

    notice_period_extend(user=cast.notice_officer, notice=notice, days=2, reason=REASON)
    documents = list(Document.objects.order_by("pk"))
    document_void(user=cast.notice_officer, document=documents[0], reason=REASON)
    document_reissue(user=cast.notice_officer, document=documents[1], reason=REASON)

    pages = {"notices": reverse("notice_list"), "verify": reverse("documents:verify_lookup")}
    for shown in PublicNotice.objects.all():
        pages[f"notice {shown.pk}"] = reverse("notice_detail", args=[shown.pk])
    for document in Document.objects.all():
        pages[f"{document.kind} {document.pk}"] = reverse(
            "documents:verify", args=[document.verification_code]
        )
    for where, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, where
        assert_no_personal_data(response.content.decode(), where)
    kinds = set(Document.objects.values_list("kind", flat=True))
    assert kinds >= {
        "acceptance_notice",
        "correction_notice",
        "refusal_decision",
        "rejection_decision",
        "withdrawal_decision",
        "funding_decision",
        "decision_notice",
        "award_letter",
    }
    # What the public may read is there: the institution, the amount, the reason masked.
    detail = client.get(reverse("notice_detail", args=[notice.pk])).content.decode()
    assert listed.institution.name in detail and "¥" in detail
    assert "5201**********1237" in detail and "139****4321" in detail
    assert "经办人李**核实" in detail and "周**女士" in detail
    voided = client.get(reverse("documents:verify", args=[documents[0].verification_code]))
    assert "已作废" in voided.content.decode() and "139****4321" in voided.content.decode()
    assert "经办人李**核实" in voided.content.decode()
    # A file checked on the page: the answer names the issuer, nobody else.
    checked = client.post(
        reverse("documents:verify", args=[documents[2].verification_code]),
        {"file": ContentFile(documents[2].file.read(), name="held.pdf")},
    )
    assert "文件与存档一致" in checked.content.decode()
    assert_no_personal_data(checked.content.decode(), "a checked file")


# --- names in reasons the public reads -----------------------------------------------------------


def test_names_written_as_names_are_masked_and_other_words_are_not():
    from documents.redaction import personal_data_redact

    assert personal_data_redact("异议人王晓梅来电") == "异议人王**来电"
    assert personal_data_redact("联系人：欧阳娜娜") == "联系人：欧阳**"
    assert personal_data_redact("收到张伟先生的来函") == "收到张*先生的来函"
    plain_reasons = ("更正单位名称", "银行账号有误，更正后重发", "误发", "异议人来电")
    for plain in plain_reasons:
        assert personal_data_redact(plain) == plain


def test_numbers_and_names_written_with_gaps_or_full_width_are_masked_all_the_same():
    """A probe got past the masks by spacing digits and names out, writing them full-width or
    with +86; each is masked as the plain form is, and a bank account's tail is left alone."""
    from documents.redaction import personal_data_redact

    assert personal_data_redact("电话139 1234 5678") == "电话139******5678"
    assert personal_data_redact("电话１３９１２３４５６７８") == "电话139****5678"
    assert personal_data_redact("电话+86-139-1234-5678") == "电话+86**********5678"
    assert personal_data_redact("身份证110105 19491231 002X") == "身份证1101************002X"
    assert personal_data_redact("经办人王 小 明核实") == "经办人王**核实"
    assert personal_data_redact("账号2402 0012 0900 1234 567") == "账号2402 0012 0900 1234 567"


def test_a_known_name_spaced_out_is_still_found(db):
    from tests.factories import UserFactory
    from workflows.selectors import personal_names_in

    UserFactory(first_name="赵六")
    assert personal_names_in("联系人：赵 六来电") == ["赵六"]
    assert personal_names_in("联系人：赵\u3000六来电") == ["赵六"]


def test_a_reason_naming_a_known_person_is_refused_and_what_was_typed_is_kept(
    notice_world, other_applicant, client_for
):
    """The objector's and the contact's names are known: a void reason naming either is refused
    with the name found, the document stays valid, and the form shows the reason again."""
    from workflows.models import Application

    cast, application, notice = notice_world
    lodged(other_applicant, application)
    Application.objects.filter(pk=application.pk).update(contact_name=CONTACT_NAME)
    document = Document.objects.filter(application=application).order_by("pk").first()
    officer = client_for(cast.notice_officer)
    detail = reverse("application_detail", args=[application.pk])

    for name in ("王晓梅", CONTACT_NAME):
        typed = f"经核实{name}反映属实，原文书作废"
        page = officer.post(
            reverse("documents:document_void", args=[document.pk]),
            {"reason": typed},
            HTTP_REFERER=f"http://testserver{detail}",
            follow=True,
        ).content.decode()

        assert "不能写入个人姓名" in page and f"发现：{name}" in page
        assert f'value="{typed}"' in page
        document.refresh_from_db()
        assert not document.is_void and document.void_reason == ""
    # Shown once: the next visit offers an empty form.
    assert f'value="{typed}"' not in officer.get(detail).content.decode()

    changed = officer.post(
        reverse("notice_period", args=[notice.pk]),
        {"action": "extend", "days": "3", "reason": f"{CONTACT_NAME}申请延期", "back": "notice"},
        follow=True,
    ).content.decode()
    assert f"发现：{CONTACT_NAME}" in changed
    assert f'value="{CONTACT_NAME}申请延期"' in changed and 'value="3"' in changed
    assert not notice.changes.exists()


def test_an_offices_account_name_in_a_reason_is_not_taken_for_a_person(db):
    """Accounts named as offices (财务处) are not people; a contact's name is refused however it
    reads."""
    from tests.factories import UserFactory
    from workflows.selectors import personal_names_in

    UserFactory(first_name="财务处")
    UserFactory(first_name="王晓梅")
    assert personal_names_in("经财务处核实，原文书误发") == []
    assert personal_names_in("经王晓梅核实，原文书误发") == ["王晓梅"]


def test_an_id_number_typed_full_width_is_refused_not_kept(notice_world, other_applicant):
    """python-stdnum reads full-width digits as valid; such a number was stored as typed."""
    from django.core.exceptions import ValidationError

    cast, application, notice = notice_world
    full_width = ID_NUMBER.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))

    with pytest.raises(ValidationError) as error:
        lodged(other_applicant, application, id_number=full_width)
    assert "半角" in error.value.messages[0]
    assert not Objection.objects.exists()


def test_a_refused_period_change_keeps_the_reason_typed(notice_world, client_for):
    """Full-width days (５) are refused like any figure, and the reason typed stays in the form
    (a form error once lost it; a service error kept it)."""
    cast, application, notice = notice_world
    officer = client_for(cast.notice_officer)

    for days in ("５", "-1", "1e9"):
        page = officer.post(
            reverse("notice_period", args=[notice.pk]),
            {"action": "extend", "days": days, "reason": "应申报单位请求延长", "back": "notice"},
            follow=True,
        ).content.decode()

        assert 'value="应申报单位请求延长"' in page or ">应申报单位请求延长<" in page, days
        assert "请填写延长的天数" not in page, days  # they were filled in, only wrongly
        assert not notice.changes.exists()
    assert (
        "请使用半角数字（0-9）输入。"
        in officer.post(
            reverse("notice_period", args=[notice.pk]),
            {"action": "extend", "days": "５", "reason": "延长", "back": "notice"},
            follow=True,
        ).content.decode()
    )


def test_an_id_number_written_into_a_handling_reason_is_masked_on_staff_lists(
    notice_world, other_applicant, client_for
):
    """The objector's number is masked for everyone but its handler; written into the handling
    reason (or the statement), it was shown whole to all staff on the lists."""
    cast, application, notice = notice_world
    objection = lodged(other_applicant, application)
    objection_handle(
        user=cast.notice_officer,
        objection=objection,
        upheld=False,
        reason=f"经核实异议人（身份证{ID_NUMBER}）所述不实。",
    )

    # The leadership sees the objections list; the call page is the notice officers' (another
    # officer of that role than the one who handled it).
    other_officer = UserFactory(role="notice_officer")
    for user, url in (
        (cast.leadership, reverse("objection_list")),
        (other_officer, reverse("call_manage", args=[application.call_id])),
    ):
        response = client_for(user).get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert ID_NUMBER not in page, url
        assert f"身份证{MASKED}" in page, url


@pytest.mark.parametrize("name", ["-5", "１２３", "9999-12-31", "<script>x</script>", "王 5"])
def test_an_objectors_name_must_be_a_name(notice_world, name):
    """A person objects under their real name: digits, dates and markup were taken as one."""
    cast, application, _notice = notice_world
    with pytest.raises(ValidationError) as refused:
        lodged(cast.applicant, application, real_name=name)
    assert "真实姓名只能由文字组成" in " ".join(refused.value.messages)
    assert not Objection.objects.exists()


@pytest.mark.parametrize("name", ["王晓梅", "阿依古丽·买买提", "Anna Müller-Smith"])
def test_names_of_every_script_and_their_marks_are_taken(notice_world, name):
    cast, application, _notice = notice_world
    assert lodged(cast.applicant, application, real_name=name).real_name == name


def test_a_statement_longer_than_a_reason_may_be_is_refused(notice_world):
    cast, application, _notice = notice_world
    with pytest.raises(ValidationError, match="不能超过2000字"):
        objection_lodge(
            user=cast.applicant,
            application=application,
            capacity="organisation",
            organisation_name="贵州某科技有限公司",
            phone="0851-85551234",
            statement="事实" * 1001,
            evidence=pdf_upload("evidence.pdf"),
        )


def test_a_statement_over_the_limit_is_refused_on_the_page_and_kept(notice_world, client_for):
    """The browser is not told a maximum (it would cut a pasted statement short without a word);
    the server refuses it in Chinese and the form keeps it."""
    from tests.workflows import http_steps as steps

    cast, application, notice = notice_world
    statement = "事实" * 1001
    browser = client_for(cast.applicant)
    form = browser.get(reverse("objection_lodge", args=[notice.pk, application.pk]))
    assert "maxlength" not in form.content.decode().split('name="statement"')[1].split(">")[0]
    response = steps.objection_lodge(browser, notice, application, statement=statement)
    assert any("不能超过2000字" in error for error in steps.form_errors(response))
    assert statement in response.content.decode()
    assert not Objection.objects.exists()
