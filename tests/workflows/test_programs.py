"""Program files: validated at start-up with errors that name the file and the key; each
application keeps the program version it started under."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from workflows import flows, programs
from workflows.checks import program_files_check

SOURCE = Path(__file__).resolve().parents[2] / "config" / "programs" / "tech_transfer_agency.toml"


def write_program(folder: Path, text: str) -> Path:
    path = folder / "tech_transfer_agency.toml"
    path.write_text(text, encoding="utf-8")
    return path


def check_messages(folder: Path) -> list[str]:
    with override_settings(PROGRAMS_DIR=folder):
        return [error.msg for error in program_files_check(None)]


def test_shipped_program_file_passes_the_check():
    """The program files in the repository start the server without errors."""
    assert program_files_check(None) == []


@pytest.mark.parametrize(
    "old, new, expected_key, expected_words",
    [
        ('type = "leadership_meeting"', 'type = "board_vote"', "stages[2].type", "unknown stage"),
        ('amount = "300000.00"', "", "tiers[1].amount", "missing amount"),
        ("[upgrade]", "upgrade_rule = 1\n[upgrade]", "upgrade_rule", "unknown key"),
        ('day_kind = "calendar"', 'day_kind = "lunar"', "stages[3].day_kind", "must be one of"),
        (
            "correction_working_days = 5",
            "correction_working_days = 0",
            "stages[1].correction_working_days",
            "positive integer",
        ),
        ('role = "finance_officer"', 'role = "cashier"', "stages[5].role", "unknown role"),
        (
            'award_letter = "黔市监知函"',
            'award_letter = "黔市监知函"\npayslip = "黔财"',
            "issuer.document_codes.payslip",
            "unknown document type",
        ),
        (
            'award_letter = "黔市监知函"',
            'award_letter = "黔市监知〔函〕"',
            "issuer.document_codes.award_letter",
            "without spaces, brackets or digits",
        ),
        ('code = "黔市监知"', 'code = "黔市监知 2"', "issuer.code", "without spaces"),
    ],
    ids=[
        "unknown-stage",
        "missing-amount",
        "bad-key",
        "bad-day-kind",
        "bad-days",
        "bad-role",
        "unknown-document-type",
        "bracket-in-code",
        "space-in-code",
    ],
)
def test_bad_program_file_is_refused_naming_file_and_key(
    tmp_path, old, new, expected_key, expected_words
):
    """A broken program file stops start-up with an error naming the file, key and problem."""
    text = SOURCE.read_text(encoding="utf-8")
    if old == "[upgrade]":  # a top-level key must come before the first table
        text = text.replace(
            'slug = "tech_transfer_agency"', 'slug = "tech_transfer_agency"\n' + new.split("\n")[0]
        )
    else:
        text = text.replace(old, new, 1)
    write_program(tmp_path, text)
    messages = check_messages(tmp_path)
    assert messages, "the check must refuse the file"
    assert any(
        "tech_transfer_agency.toml" in m and repr(expected_key) in m and expected_words in m
        for m in messages
    ), messages


def test_invalid_toml_is_reported(tmp_path):
    write_program(tmp_path, "slug = \n")
    (message,) = check_messages(tmp_path)
    assert "tech_transfer_agency.toml" in message and "not valid TOML" in message


def test_stage_order_is_checked(tmp_path):
    """Disbursement without a decision stage before it is refused."""
    text = SOURCE.read_text(encoding="utf-8").replace('type = "decision"', 'type = "objection"')
    text = text.replace('[[stages]]\ntype = "objection"\nrole = "notice_officer"\n', "")
    write_program(tmp_path, text)
    assert any("needs a 'decision' stage" in m for m in check_messages(tmp_path))


def test_check_fails_the_start_up_command(tmp_path):
    """`manage.py check` (run by runserver and migrate) exits with the error."""
    from django.core.management.base import SystemCheckError

    write_program(tmp_path, SOURCE.read_text(encoding="utf-8").replace('code = "黔市监知"', ""))
    with override_settings(PROGRAMS_DIR=tmp_path), pytest.raises(SystemCheckError) as error:
        call_command("check")
    assert "issuer.code" in str(error.value)


def test_flow_is_built_from_the_stage_list():
    """The flow class has the real stages of the file, in order, and viewflow draws them."""
    from viewflow.workflow import chart

    flow_class = flows.flow_for("tech_transfer_agency")
    assert flow_class.__name__ == "TechTransferAgencyFlow"
    names = {node.name for node in flow_class.instance.nodes()}
    assert {
        "submit",
        "formal_review",
        "correction",
        "refused",
        "leadership_review",
        "rejected",
        "await_notice",
        "notice_period",
        "withdrawn",
        "await_decision",
        "award_letter",
        "payment",
        "paid",
    } <= names
    svg = chart.grid_to_svg(chart.calc_layout_data(flow_class))
    assert "<svg" in svg and "Formal Review" in svg


def test_flow_builder_follows_a_different_stage_list(tmp_path):
    """A program without a public notice gets a flow without the notice nodes."""
    text = SOURCE.read_text(encoding="utf-8")
    text = text.replace(
        '[[stages]]\ntype = "public_notice"\nrole = "notice_officer"\ndays = 7\n'
        'day_kind = "calendar"\n\n',
        "",
    )
    path = write_program(tmp_path, text)
    program, problems = programs.program_file_read(path)
    assert problems == []
    flow_class = flows.flow_class_build(program)
    names = {node.name for node in flow_class.instance.nodes()}
    assert "notice_period" not in names and "await_decision" in names


def test_application_keeps_its_program_version(db, tmp_path, applicant, institution, call):
    """Editing the program file later never changes the rules of an application in flight."""
    from workflows import services
    from workflows.amounts import award_amount
    from workflows.demo import application_draft

    application = application_draft(user=applicant, call=call, institution=institution)
    original = application.program_version
    assert original.sha256 == programs.program_get("tech_transfer_agency").sha256

    edited_text = SOURCE.read_text(encoding="utf-8").replace(
        'amount = "300000.00"', 'amount = "250000.00"'
    )
    edited_path = write_program(tmp_path, edited_text)
    edited, problems = programs.program_file_read(edited_path)
    assert problems == [] and edited.sha256 != original.sha256
    programs.programs_loaded.cache_clear()
    try:
        with override_settings(PROGRAMS_DIR=tmp_path):
            new_version = services.program_version_current(slug="tech_transfer_agency")
            assert new_version.pk != original.pk
            application.refresh_from_db()
            assert application.program_version == original
            amount, _lower = award_amount(application=application)
            assert amount == Decimal("300000.00")
    finally:
        programs.programs_loaded.cache_clear()


def test_the_published_json_schema_is_current():
    """`make schema` wrote config/programs/program.schema.json from the models as they are, so an
    editor checks program files against the format the engine reads."""
    import json

    from workflows.programs.schema import program_json_schema

    published = SOURCE.parent / "program.schema.json"
    assert json.loads(published.read_text(encoding="utf-8")) == program_json_schema()


def test_an_error_names_the_line_of_the_key(tmp_path):
    text = SOURCE.read_text(encoding="utf-8").replace(
        "correction_working_days = 5", "correction_working_days = -2"
    )
    write_program(tmp_path, text)
    line = text.splitlines().index("correction_working_days = -2") + 1
    (message,) = check_messages(tmp_path)
    assert (
        f"tech_transfer_agency.toml, line {line}, key 'stages[1].correction_working_days'"
        in message
    )
    assert "positive integer" in message


def test_a_stage_type_twice_without_keys_is_refused_naming_the_type(tmp_path):
    text = SOURCE.read_text(encoding="utf-8").replace(
        '[[stages]]\ntype = "leadership_meeting"\nrole = "leadership"\n',
        '[[stages]]\ntype = "leadership_meeting"\nrole = "leadership"\n\n'
        '[[stages]]\ntype = "leadership_meeting"\nrole = "leadership"\n',
    )
    write_program(tmp_path, text)
    (message,) = check_messages(tmp_path)
    assert "'stages[3].type'" in message
    assert (
        "stage type 'leadership_meeting' appears more than once" in message and "`key`" in message
    )
