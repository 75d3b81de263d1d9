"""知识产权运营服务机构经费资助: a second grant program added as one file in config/programs/, with
no Python change. The system check accepts it, a flow class is built for it, and an application
runs through the whole lifecycle to payment with the program's own wording and amounts."""

from decimal import Decimal

import pytest

from documents.models import Document
from tests.documents.pdfs import compact, document_pdf, pdf_text
from workflows import flows
from workflows.checks import program_files_check
from workflows.demo import batch_run, call_make, cast_make, institution_make
from workflows.models import Application, Payment
from workflows.programs import programs_loaded

SLUG = "ip_operating_institution"


def document_text(document: Document) -> str:
    return compact(pdf_text(document_pdf(document)))


def test_program_file_passes_the_system_check():
    assert program_files_check(None) == []
    program = programs_loaded()[SLUG]
    assert program.source == "ip_operating_institution.toml"
    assert [tier["amount"] for tier in program.content["tiers"]] == ["1000000.00", "300000.00"]


def test_a_flow_class_is_built_from_the_file():
    flow_class = flows.FLOWS[SLUG]

    assert flow_class is flows.IpOperatingInstitutionFlow
    assert flow_class.__name__ == "IpOperatingInstitutionFlow"
    assert flow_class.program_slug == SLUG
    assert flow_class.process_title == "知识产权运营服务机构经费资助"
    # The same stages as the tech-transfer grant, so the same nodes.
    assert {node.name for node in flow_class.instance.nodes()} == {
        node.name for node in flows.FLOWS["tech_transfer_agency"].instance.nodes()
    }


@pytest.mark.django_db
def test_applications_run_to_payment_with_the_programs_wording_and_amounts():
    cast = cast_make()
    call = call_make(slug=SLUG, title="2026年度知识产权运营服务机构经费资助申报")

    # The demo's own institution names say 技术转移: register these first (same serials).
    for serial in (1, 2):
        institution_make(user=cast.applicant, serial=serial, name=f"贵州知识产权运营中心{serial}号")

    # batch_run makes the first application national and the second provincial.
    national, provincial = batch_run(cast=cast, call=call, branches=["paid", "paid"])

    for application, amount in ((national, "1000000.00"), (provincial, "300000.00")):
        application.refresh_from_db()
        assert application.status == Application.Status.PAID
        assert application.process.flow_class is flows.IpOperatingInstitutionFlow
        assert Payment.objects.get(application=application).amount == Decimal(amount)
    call.refresh_from_db()
    assert call.budget_paid == Decimal("1300000.00")

    letter = document_text(national.documents.get(kind=Document.Kind.AWARD_LETTER))
    assert "获批国家级知识产权运营服务机构" in letter
    assert "给予知识产权运营服务机构经费资助" in letter
    assert "资助金额：人民币壹佰万元整（¥1,000,000.00）" in letter
    assert "技术转移" not in letter

    letter = document_text(provincial.documents.get(kind=Document.Kind.AWARD_LETTER))
    assert "获批省级知识产权运营服务机构" in letter
    assert "资助金额：人民币叁拾万元整（¥300,000.00）" in letter
    assert "技术转移" not in letter

    decision = document_text(
        call.documents.get(kind=Document.Kind.FUNDING_DECISION, application__isnull=True)
    )
    assert "对新增获批的国家级和省级知识产权运营服务机构，分别给予100万元、30万元经费资助。" in (
        decision
    )
    assert "资助金额合计人民币壹佰叁拾万元整（¥1,300,000.00）" in decision
    assert "技术转移" not in decision
