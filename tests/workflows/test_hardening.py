"""Gaps a security review of the running site found, each closed: the panel page of a program
without experts is not found, codes take ASCII digits only, weak passwords are refused,
production settings pass `check --deploy`, viewflow's records are read-only in the admin, and
PostgreSQL refuses to change or delete an audit row."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.workflows.test_inbox import submitted


def test_the_panel_page_of_a_program_without_experts_is_not_found(
    call, applicant, institution, formal_reviewer, client_for
):
    application = submitted(applicant, institution, call)  # the grant has no expert stage

    response = client_for(formal_reviewer).get(reverse("panel_detail", args=[application.pk]))

    assert response.status_code == 404


def test_filling_a_seat_of_a_program_without_experts_is_not_found(
    call, applicant, institution, client_for
):
    """It answered 该席位已有专家或已关闭 and redirected to a page that is not found."""
    from tests.factories import UserFactory
    from workflows.services.tasks import open_task

    application = submitted(applicant, institution, call)  # the grant has no expert stage
    task = open_task(application, "formal_review")
    manager = UserFactory(role="formal_reviewer")

    response = client_for(manager).post(reverse("panel_vacancy", args=[task.pk]), {})

    assert response.status_code == 404


# --- codes take ASCII digits only ---------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_an_institution_with_a_full_width_region_or_credit_code_is_refused_and_kept(client_for):
    from tests.factories import UserFactory
    from tests.workflows import http_steps as steps
    from workflows.demo import uscc_make
    from workflows.models import Institution

    browser = client_for(UserFactory(role="applicant"))
    uscc = uscc_make(77)

    region = steps.institution_register(
        browser, name="全角地区测试中心", uscc=uscc, region_code="520100".translate(FULL_WIDTH)
    )
    code = steps.institution_register(
        browser, name="全角代码测试中心", uscc=uscc.translate(FULL_WIDTH), region_code="520102"
    )

    assert not Institution.objects.filter(uscc=uscc).exists()
    assert any("市州和区县" in e for e in steps.form_errors(region))
    assert any("半角" in e for e in steps.form_errors(code))
    assert steps.input_value(code, "name") == "全角代码测试中心"  # what was typed is kept


@pytest.mark.parametrize("name", ["１２３", "<b>x</b>", "----"])
def test_an_institution_must_be_registered_under_a_name(client_for, name):
    from tests.factories import UserFactory
    from tests.workflows import http_steps as steps
    from workflows.demo import uscc_make
    from workflows.models import Institution

    browser = client_for(UserFactory(role="applicant"))
    response = steps.institution_register(
        browser, name=name, uscc=uscc_make(78), region_code="520102"
    )
    assert not Institution.objects.filter(uscc=uscc_make(78)).exists()
    assert "请填写单位的全称。" in steps.form_errors(response)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("bank_account", "2402001209001234567", "请使用半角数字（0-9）输入。"),
        ("contact_phone", "0851-85550000", "请使用半角数字（0-9）输入。"),
    ],
)
def test_a_full_width_bank_account_or_phone_is_refused(
    call, applicant, institution, client_for, field, value, message
):
    from tests.workflows import http_steps as steps

    application, response = steps.draft_create(
        client_for(applicant), call, **{field: value.translate(FULL_WIDTH)}
    )

    assert application is None
    assert any(message in e for e in steps.form_errors(response))


def test_full_width_digits_in_an_approval_number_are_kept_half_width(
    call, applicant, institution, client_for
):
    """黔科函〔２０２６〕６９号 was stored as typed and would print so in official documents."""
    from tests.workflows import http_steps as steps

    application, _response = steps.draft_create(
        client_for(applicant), call, approval_number="国科火字〔２０２６〕６９号"
    )

    assert application is not None
    assert application.approval_number == "国科火字〔2026〕69号"


def test_a_full_width_patent_number_is_refused():
    from forms.validators import patent_number_clean

    assert patent_number_clean("ZL202110123456.7") == "202110123456.7"
    with pytest.raises(ValidationError):
        patent_number_clean("ZL" + "202110123456".translate(FULL_WIDTH) + ".7")


# --- passwords and production settings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [("12345678", "数字"), ("password", "常见"), ("newapplicant1", "相似"), ("q7#Lm2", "太短")],
)
def test_signup_refuses_weak_passwords_in_chinese_and_keeps_the_username(client, password, message):
    from tests.workflows import http_steps as steps

    response = client.post(
        reverse("signup"),
        {
            "username": "newapplicant1",
            "first_name": "王芳",
            "email": "wang@example.com",
            "password1": password,
            "password2": password,
        },
    )

    assert response.status_code == 200
    assert any(message in e for e in steps.form_errors(response)), steps.form_errors(response)
    assert steps.input_value(response, "username") == "newapplicant1"


def test_production_settings_pass_check_deploy(tmp_path):
    """HSTS, the HTTPS redirect and the TLS proxy's header are set in production: `manage.py
    check --deploy` reports nothing (no database is reached; signing files named only)."""
    from tests.process_support import manage_py

    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "x" * 64 + "-production-like-secret-key-for-the-deploy-check",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "ALLOWED_HOSTS": "grants.example.gov.cn",
        "DOCUMENT_SIGNING_KEY": str(tmp_path / "key.pem"),
        "DOCUMENT_SIGNING_CERT": str(tmp_path / "cert.pem"),
        "PERSONAL_DATA_KEYS": "ZmRpc2Nsb3N1cmUtb25seS10ZXN0LWtleS0zMmJ5dGU=",
    }
    result = manage_py("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# --- the admin cannot change the workflow's records -------------------------------------------


def test_a_superuser_cannot_edit_processes_tasks_or_task_results_in_the_admin(
    call, applicant, institution, client
):
    from django.contrib.auth import get_user_model
    from django_tasks_db.models import DBTaskResult
    from viewflow.workflow.models import Process, Task

    application = submitted(applicant, institution, call)
    task = Task.objects.filter(process_id=application.process_id).first()
    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "x-Pw-9!")
    client.force_login(admin_user)

    for model in (Process, Task, DBTaskResult):
        add = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        assert client.get(add).status_code == 403
    change = reverse("admin:viewflow_task_change", args=[task.pk])
    page = client.get(change)
    assert page.status_code == 200  # it can be read
    assert 'name="_save"' not in page.content.decode()
    before = task.status
    assert client.post(change, {"status": "DONE"}).status_code == 403
    task.refresh_from_db()
    assert task.status == before
    delete = reverse("admin:viewflow_process_delete", args=[application.process_id])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Process.objects.filter(pk=application.process_id).exists()


# --- audit rows cannot be changed, even with SQL --------------------------------------------------


@pytest.mark.postgres
def test_postgresql_refuses_to_update_or_delete_an_audit_row(call, applicant, institution):
    from django.db import DatabaseError, connection, transaction

    from tests.conftest import is_postgres
    from workflows.models import AuditRecord

    if not is_postgres():
        pytest.skip("the trigger exists on PostgreSQL only")
    submitted(applicant, institution, call)
    record = AuditRecord.objects.order_by("pk").first()

    for sql in (
        "UPDATE workflows_auditrecord SET reason = 'changed' WHERE id = %s",
        "DELETE FROM workflows_auditrecord WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [record.pk])

    assert AuditRecord.objects.get(pk=record.pk).reason == record.reason


# --- attachments with active content -------------------------------------------------------------


def _pdf_with(entry: str):
    """A one-page PDF whose catalogue carries an open action or embedded file (pypdf)."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if entry == "javascript":
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("1")}
        )
    elif entry == "launch":
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("a.exe")}
        )
    else:
        writer.add_attachment("payload.exe", b"MZ")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("entry", ["javascript", "launch", "embedded"])
def test_a_pdf_with_scripts_launch_actions_or_embedded_files_is_refused_and_the_draft_kept(
    call, applicant, institution, client_for, entry
):
    from tests.workflows import http_steps as steps
    from workflows.models import Application

    uploads = {
        "approval_document": steps.pdf_file("approval.pdf", _pdf_with(entry)),
        "business_licence": steps.pdf_file("licence.pdf"),
    }
    application, response = steps.draft_create(client_for(applicant), call, uploads=uploads)

    assert application is not None  # the draft is kept
    assert application.status == Application.Status.DRAFT
    kinds = set(application.attachments.values_list("kind", flat=True))
    assert kinds == {"business_licence"}
    assert any("approval.pdf" in m and "不予接收" in m for m in steps.messages_shown(response))


# --- Content-Security-Policy ---------------------------------------------------------------------


def test_every_page_carries_a_content_security_policy_without_inline_scripts(client):
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())

    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    assert directives["object-src"] == "'none'"


# --- failed logins are throttled ------------------------------------------------------------------


def test_repeated_wrong_passwords_lock_the_account_until_staff_unlock_it(client, settings):
    """Before: 25 wrong passwords, then the right one logged in."""
    from django.core.management import call_command

    from tests.factories import UserFactory
    from workflows.demo import DEMO_PASSWORD

    UserFactory(username="reviewer", role="formal_reviewer")
    login = reverse("login")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "reviewer", "password": "wrong-password"})

    locked = client.post(login, {"username": "reviewer", "password": DEMO_PASSWORD})

    assert locked.status_code == 429
    assert "登录已暂时锁定" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    call_command("axes_reset_username", "reviewer")
    unlocked = client.post(login, {"username": "reviewer", "password": DEMO_PASSWORD})
    assert unlocked.status_code == 302
    assert client.session["_auth_user_id"]


# --- input no user types ------------------------------------------------------------------------


def test_an_institution_that_is_not_a_number_is_not_found(call, applicant, institution, client_for):
    response = client_for(applicant).post(
        reverse("application_create", args=[call.pk]), {"institution": "abc"}
    )

    assert response.status_code == 404


def test_nul_characters_are_dropped_from_what_is_saved(client_for):
    """A NUL character (never typed; PostgreSQL cannot store it) is dropped from a form's and a
    query's values: the text is saved without it, on SQLite as on PostgreSQL."""
    from tests.factories import UserFactory
    from tests.workflows import http_steps as steps
    from workflows.demo import uscc_make
    from workflows.models import Institution

    browser = client_for(UserFactory(role="applicant"))
    uscc = uscc_make(78)

    steps.institution_register(browser, name="空\x00字符测试中心", uscc=uscc, region_code="520102")
    listing = browser.get(reverse("application_list"), {"q": "测试\x00"})

    assert Institution.objects.get(uscc=uscc).name == "空字符测试中心"
    assert listing.status_code == 200


def test_a_nul_character_in_a_reason_passed_on_directly_is_dropped(
    call, applicant, institution, formal_reviewer, leadership, client_for
):
    """The leadership's reasons are read from the request by the view itself, not by a form."""
    from workflows.models import AuditRecord
    from workflows.stages.formal_review.services import formal_review_complete

    application = submitted(applicant, institution, call)
    formal_review_complete(user=formal_reviewer, application=application, outcome="accept")

    response = client_for(leadership).post(
        reverse("leadership_meeting", args=[call.pk]),
        {
            f"decision_{application.pk}": "reject",
            f"reason_{application.pk}": "材料\x00不符",
            "confirm": "1",
        },
    )

    assert response.status_code == 302
    record = AuditRecord.objects.get(application=application, action="leadership_reject")
    assert record.reason == "材料不符"


def test_changing_a_draft_to_a_tier_the_institution_already_applied_for_is_refused(
    call, applicant, institution, client_for
):
    """Two drafts of one institution in a call may not hold the same tier: creating the second
    was refused, and changing it to the first's tier answered 500; both now say why, keep what
    was typed, and leave the draft as it was."""
    from tests.workflows import http_steps as steps

    browser = client_for(applicant)
    first, _page = steps.draft_create(browser, call, tier="national")
    second, _page = steps.draft_create(browser, call, tier="provincial", contact_name="李雷")
    assert first and second

    response = steps.draft_edit(browser, second, tier="national", contact_name="韩梅梅")

    assert response.status_code == 200
    assert any("已有同一级别的申报" in e for e in steps.form_errors(response))
    assert steps.input_value(response, "contact_name") == "韩梅梅"
    second.refresh_from_db()
    assert second.tier == "provincial" and second.contact_name == "李雷"


@pytest.mark.parametrize("kind", ["integer", "decimal", "money"])
@pytest.mark.parametrize("typed", ["1e30", "9" * 29, "-1e30", "1E+40"])
def test_a_number_too_large_for_any_form_is_refused_in_chinese(kind, typed):
    """A program's number fields once raised decimal.InvalidOperation (a 500) on 1e30."""
    from forms.fields import NumberField

    field = NumberField(kind=kind, places=2 if kind == "decimal" else None)

    with pytest.raises(ValidationError) as error:
        field.clean(typed)
    assert error.value.messages == ["数值过大，请核对后重新输入。"]
    assert field.clean("1500000") == 1500000


def test_a_reason_longer_than_a_document_should_print_is_refused_and_nothing_changes(
    call, applicant, institution, formal_reviewer, leadership, client_for
):
    """A 100,000-character reason once made a 164-page decision; reasons are capped at 2,000
    characters, told in Chinese with the count, and the application stays where it was."""
    from workflows.models import Application
    from workflows.stages.formal_review.services import formal_review_complete

    application = submitted(applicant, institution, call)
    with pytest.raises(ValidationError) as error:
        formal_review_complete(
            user=formal_reviewer, application=application, outcome="refuse", reason="理" * 2001
        )
    assert "理由不能超过2000字（现为2001字）" in error.value.messages[0]
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    formal_review_complete(user=formal_reviewer, application=application, outcome="accept")

    page = client_for(leadership).post(
        reverse("leadership_meeting", args=[call.pk]),
        {
            f"decision_{application.pk}": "reject",
            f"reason_{application.pk}": "由" * 100_000,
            "confirm": "1",
        },
        follow=True,
    )

    assert "理由不能超过2000字（现为100000字）" in page.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.ACCEPTED
    assert not application.documents.filter(kind="rejection_decision").exists()


def test_behind_the_proxy_failed_logins_lock_the_clients_address_not_everyones(client, settings):
    """Behind the TLS proxy every request came from 127.0.0.1: five wrong passwords for a
    made-up account locked every account. The address counted is the one the proxy appends."""
    from django.test import Client

    from tests.factories import UserFactory
    from workflows.demo import DEMO_PASSWORD

    settings.TRUSTED_PROXIES = 1
    UserFactory(username="finance", role="finance_officer")
    login = reverse("login")
    attacker = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.9.9.9, 203.0.113.7"}
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(login, {"username": "nobody", "password": "wrong"}, **attacker)

    colleague = Client().post(
        login,
        {"username": "finance", "password": DEMO_PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    again = Client().post(login, {"username": "finance", "password": DEMO_PASSWORD}, **attacker)

    assert colleague.status_code == 302
    # The forged left-hand entry (10.9.9.9) is not the address: the proxy's entry is.
    assert again.status_code == 429


def test_the_review_and_payment_forms_are_not_found_where_that_step_is_not_open(
    call, applicant, institution, formal_reviewer, finance_officer, client_for
):
    """A draft (never submitted) offered the reviewer its accept/refuse form and finance a
    payment form with an empty amount; both are offered only while that step waits."""
    from tests.workflows import http_steps as steps

    draft, _page = steps.draft_create(client_for(applicant), call)
    reviewer, finance = client_for(formal_reviewer), client_for(finance_officer)

    assert reviewer.get(reverse("formal_review", args=[draft.pk])).status_code == 404
    assert finance.get(reverse("payment_record", args=[draft.pk])).status_code == 404
    application = submitted(applicant, institution, call, tier="provincial")
    assert reviewer.get(reverse("formal_review", args=[application.pk])).status_code == 200
    assert finance.get(reverse("payment_record", args=[application.pk])).status_code == 404


def test_an_action_the_call_page_does_not_offer_is_told_not_done(call, notice_officer, client_for):
    """It redirected back with no word at all."""
    from tests.workflows import http_steps as steps

    for action in ("", "launch"):
        response = client_for(notice_officer).post(
            reverse("call_manage", args=[call.pk]), {"action": action}, follow=True
        )
        assert "该批次没有这项操作" in " ".join(steps.messages_shown(response))


def test_a_very_long_file_name_keeps_its_extension(call, applicant, institution):
    """A 300-character name was cut to 255 and lost its .pdf."""
    from workflows import demo, services

    draft = demo.application_draft(user=applicant, call=call, institution=institution)
    long_name = "批准文件" * 74 + ".pdf"  # 300 characters

    attachment = services.attachment_add(
        user=applicant,
        application=draft,
        kind="approval_document",
        upload=demo.pdf_upload(long_name),
    )

    assert len(attachment.original_name) == 255
    assert attachment.original_name.endswith(".pdf")


@pytest.mark.parametrize(
    ("typed", "taken"),
    [
        ("13912345678", True),
        ("139 1234 5678", True),
        ("+86 139-1234-5678", True),
        ("0851-85551234", True),
        ("(0851) 8555 1234", True),
        ("0851-85551234-801", True),
        ("400-123-4567", True),
        ("9999-12-31", False),
        ("0001-01-01", False),
        ("1234567", False),
        ("12345678901", False),
    ],
)
def test_a_phone_number_must_be_one_that_can_be_dialled(typed, taken):
    """A date has a phone number's shape (digits and dashes) and was taken as one."""
    from forms.fields import PhoneField

    field = PhoneField(label="联系电话")
    if taken:
        assert field.clean(typed) == typed
    else:
        with pytest.raises(ValidationError, match="请输入有效的电话号码"):
            field.clean(typed)
