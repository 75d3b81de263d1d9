"""Personal data under PIPL: objectors' ID numbers are encrypted in the database with the key
from settings, shown masked (`5201**********1234`) to everyone but the officer handling the
objection, and rotated to a new key without loss; production refuses to start without a key."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from tests.factories import CallFactory
from workflows.demo import application_in_notice, cast_make, pdf_upload
from workflows.models import Objection
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


def lodged(user, application) -> Objection:
    return objection_lodge(
        user=user,
        application=application,
        capacity="person",
        real_name="王晓梅",
        id_number=ID_NUMBER,
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
    from django.conf import settings

    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "x" * 64,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    }
    env.pop("PERSONAL_DATA_KEYS", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
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
