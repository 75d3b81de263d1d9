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


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("bank_account", "2402001209001234567", "账号"),
        ("contact_phone", "0851-85550000", "电话"),
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


def test_a_full_width_patent_number_is_refused():
    from forms.validators import patent_number_clean

    assert patent_number_clean("ZL202110123456.7") == "202110123456.7"
    with pytest.raises(ValidationError):
        patent_number_clean("ZL" + "202110123456".translate(FULL_WIDTH) + ".7")
