"""Every outcome that goes against an applicant is a written, numbered, verifiable document that
states the facts, the officer's reasons, the policy basis and the remedies: not recommended,
rejected by the leadership meeting, removed after an upheld objection, not awarded, a lapsed
correction; and a return for correction is a 补正通知书 listing each item, the deadline in
working days, the date it falls on and what happens when it passes. The applicant finds each on
the application page and anyone can verify it."""

import html

import pytest
from django.urls import reverse

from tests.documents.pdfs import compact, document_pdf, pdf_text
from tests.factories import CallFactory
from tests.workflows import competitive_steps as cs
from tests.workflows import http_steps as steps
from workflows import demo
from workflows.models import Application

pytestmark = pytest.mark.django_db

Status = Application.Status
REMEDIES = "六十日内向贵州省人民政府申请行政复议"


@pytest.fixture
def cast():
    return demo.cast_make()


@pytest.fixture
def clients(cast):
    return cs.browsers(cast)


def document_of(application, kind):
    document = application.documents.get(kind=kind)
    return document, compact(pdf_text(document_pdf(document)))


def shown_to_the_applicant(clients, application, document) -> None:
    page = html.unescape(
        clients.applicant.get(reverse("application_detail", args=[application.pk])).content.decode()
    )
    assert document.title in page and document.number in page
    verify = clients.applicant.get(reverse("documents:verify", args=[document.verification_code]))
    assert verify.status_code == 200 and document.number in verify.content.decode()


def test_a_return_for_correction_is_a_numbered_notice_listing_each_item(cast, clients):
    call = CallFactory()
    application = demo.application_submitted(cast=cast, call=call, serial=3101)
    steps.formal_review(
        clients.reviewer,
        application,
        "correction",
        "获批文件扫描件不清晰，请重新上传。\n营业执照已过期，请提供有效营业执照。",
    )
    application.refresh_from_db()
    document, text = document_of(application, "correction_notice")
    assert document.title == "补正通知书" and document.number.startswith("黔市监知〔")
    assert "1.获批文件扫描件不清晰，请重新上传。" in text
    assert "2.营业执照已过期，请提供有效营业执照。" in text
    day = application.correction_deadline
    assert f"请于{day.year}年{day.month}月{day.day}日24时前" in text
    assert "5个工作日内" in text and "逾期未提交补正材料的，视为放弃申报" in text
    shown_to_the_applicant(clients, application, document)


def test_a_lapsed_correction_ends_with_a_written_notice(cast, clients):
    from workflows.rehearsal import timers_fire

    call = CallFactory()
    application = demo.application_submitted(cast=cast, call=call, serial=3102)
    steps.formal_review(clients.reviewer, application, "correction", "补充材料。")
    timers_fire(call)
    application.refresh_from_db()
    assert application.status == Status.LAPSED
    document, text = document_of(application, "lapse_notice")
    assert document.issued_by is None and "补正期限届满" in text and "终止办理" in text
    assert REMEDIES in text
    shown_to_the_applicant(clients, application, document)


def test_a_rejection_by_the_leadership_meeting_is_a_reasoned_decision(cast, clients):
    call = CallFactory()
    application = demo.application_submitted(cast=cast, call=call, serial=3103)
    steps.formal_review(clients.reviewer, application, "accept")
    steps.leadership_one_by_one(
        clients.leader, call, {application: ("reject", "获批文件与申报级别不符。")}
    )
    document, text = document_of(application, "rejection_decision")
    assert document.title == "审议不予通过决定书"
    assert "经局务会审议，未获通过" in text and "获批文件与申报级别不符。" in text
    assert "技术转移机构经费资助" in text and "二（三）3" in text and REMEDIES in text
    shown_to_the_applicant(clients, application, document)


def test_an_upheld_objection_is_a_reasoned_decision(cast, clients):
    call = CallFactory()
    application = demo.application_submitted(cast=cast, call=call, serial=3104)
    steps.formal_review(clients.reviewer, application, "accept")
    steps.leadership_one_by_one(clients.leader, call, {application: ("approve", "")})
    steps.call_manage(clients.notice, call, "publish")
    notice = steps.notice_of(call)
    steps.objection_lodge(clients.applicant, notice, application)
    objection = application.objections.get()
    steps.objection_handle(clients.notice, objection, "uphold", "经核实，获批文件系伪造。")
    document, text = document_of(application, "withdrawal_decision")
    assert notice.title in text and "异议成立" in text and "经核实，获批文件系伪造。" in text
    assert "从上述名单中撤销" in text and REMEDIES in text
    shown_to_the_applicant(clients, application, document)


def test_not_recommended_and_not_awarded_are_written_too(cast, clients):
    """The city office's refusal to recommend, and the committee's no award (patent award)."""
    from tests.workflows.test_e2e_competitive import registered

    call = CallFactory(program_slug="patent_award")
    fields = lambda n: cs.award_fields(  # noqa: E731
        patent_number=demo.patent_number_make(3200 + n),
        patent_title="一种测试装置",
        account_name=f"单位{n}",
    )
    declined = cs.submitted(
        clients.applicant, call, registered(cast, 3201, "贵州甲公司"), fields(1)
    )
    cs.recommend(
        cs.city_browser(clients, declined.institution),
        declined,
        "not_recommend",
        "名额有限，本市另有更优项目。",
    )
    document, text = document_of(declined, "not_recommended_notice")
    assert document.title == "不予推荐告知书"
    assert "经贵阳市市场监督管理局审核，未获推荐" in text and "名额有限，本市另有更优项目。" in text
    assert REMEDIES in text
    shown_to_the_applicant(clients, declined, document)

    entered = cs.submitted(clients.applicant, call, registered(cast, 3202, "贵州乙公司"), fields(2))
    cs.recommended_and_accepted(clients, [entered])
    cs.panel_scored(entered, ["20", "15", "20", "5"])
    cs.committee_vote(clients.committee, call, {entered: "none"}, {entered: "技术水平一般。"})
    document, text = document_of(entered, "not_awarded_decision")
    assert "经评审委员会表决，未获通过" in text and "技术水平一般。" in text
    assert "不予授予奖励" in text and REMEDIES in text


def test_a_program_file_names_its_own_titles(tmp_path, monkeypatch, settings, cast, clients):
    from pathlib import Path

    from tests.programs_support import program_installed
    from workflows import programs

    source = Path(settings.PROGRAMS_DIR) / "tech_transfer_agency.toml"
    text = source.read_text(encoding="utf-8").replace(
        'slug = "tech_transfer_agency"',
        'slug = "titled_grant"\n\n[document_titles]\nrejection_decision = "不予资助决定书"',
    )
    program_installed(tmp_path, monkeypatch, settings, {"titled_grant": text})
    try:
        call = CallFactory(program_slug="titled_grant")
        application = demo.application_submitted(cast=cast, call=call, serial=3301)
        steps.formal_review(clients.reviewer, application, "accept")
        steps.leadership_one_by_one(clients.leader, call, {application: ("reject", "不符合条件。")})
        assert application.documents.get(kind="rejection_decision").title == "不予资助决定书"
    finally:
        programs.programs_loaded.cache_clear()
