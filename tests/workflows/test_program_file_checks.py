"""What a program file may not say twice or leave blank, and how it writes true or false: each
refusal names the file, the key path and its line (as test_program_refusals). Also: loading the
program files into a database that was never migrated says to migrate first."""

import tomllib
from typing import Annotated, get_args, get_origin

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from tests.process_support import manage_py
from tests.programs_support import program_text
from tests.workflows.test_program_refusals import problems_of
from workflows import programs
from workflows.programs.schema import Program
from workflows.stages import STAGE_TYPES, stage_module


def refused(tmp_path, slug, old, new, key, words) -> programs.ProgramProblem:
    """The test program `slug` with `old` replaced by `new` is refused: a problem of `key` whose
    message holds `words`, at a line of the file."""
    text = program_text(slug)
    assert old in text
    problems = problems_of(tmp_path, slug, text.replace(old, new, 1))
    found = [p for p in problems if p.key == key and words in p.message]
    assert found, [str(p) for p in problems]
    assert found[0].line is not None and found[0].source == f"{slug}.toml"
    return found[0]


# --- keys that must be unique ---------------------------------------------------------------

SECOND_ATTACHMENT = (
    '[[attachments]]\nkey = "management_rules"\n'
    'zh = "知识产权管理制度"\nen = "IP management rules"\n'
)


@pytest.mark.parametrize(
    "slug, old, new, key, words",
    [
        (
            "award_two_rounds",
            'key = "second"',
            'key = "first"',
            "tiers[1].key",
            "duplicate tier key 'first' (also tiers[0])",
        ),
        (
            "award_two_rounds",
            "rank = 1",
            "rank = 2",
            "tiers[1].rank",
            "duplicate rank 2 (also tiers[0])",
        ),
        (
            "recognition_without_notice",
            SECOND_ATTACHMENT,
            SECOND_ATTACHMENT + "\n" + SECOND_ATTACHMENT.replace("制度", "文件"),
            "attachments[1].key",
            "duplicate attachment key 'management_rules' (also attachments[0])",
        ),
        (
            "recognition_without_notice",
            '{ key = "services"',
            '{ key = "manufacturing"',
            "fields[2].options[1].key",
            "duplicate option key 'manufacturing' (also fields[2].options[0])",
        ),
        (
            "recognition_without_notice",
            'name = "employees"',
            'name = "contact_name"',
            "fields[1].name",
            "duplicate field name 'contact_name' (also fields[0])",
        ),
    ],
    ids=["tier-key", "tier-rank", "attachment-key", "option-key", "field-name"],
)
def test_a_key_given_twice_is_refused_naming_both(tmp_path, slug, old, new, key, words):
    refused(tmp_path, slug, old, new, key, words)


def test_two_tiers_of_one_rank_are_refused_even_without_amounts(tmp_path):
    """Tiers that pay nothing still order the committee's places and the upgrades."""
    text = program_text("award_two_rounds")
    for amount in ('amount = "100000.00"\n', 'amount = "50000.00"\n'):
        assert amount in text
        text = text.replace(amount, "", 1)
    text = text.replace('[[stages]]\ntype = "disbursement"\n', "")
    problems = problems_of(tmp_path, "award_two_rounds", text.replace("rank = 2", "rank = 1", 1))
    assert [(p.key, p.line) for p in problems if "duplicate rank 1" in p.message] == [
        ("tiers[1].rank", 30)
    ], [str(p) for p in problems]


# --- titles that are there must say something -------------------------------------------------


@pytest.mark.parametrize(
    "old, new, key",
    [
        (
            'certificate_title = "贵州省知识产权示范单位"',
            'certificate_title = "   "',
            "stages[3].certificate_title",
        ),
        ("validity_years = 3", 'validity_years = 3\ntitle = "　"', "stages[3].title"),
        ("validity_years = 3", 'validity_years = 3\ntitle = ""', "stages[3].title"),
    ],
    ids=["blank-certificate-title", "ideographic-space-title", "empty-title"],
)
def test_a_blank_document_title_is_refused(tmp_path, old, new, key):
    problem = refused(tmp_path, "recognition_without_notice", old, new, key, "missing text")
    assert "leave the key out" in problem.message


# --- true or false is a TOML boolean ----------------------------------------------------------


@pytest.mark.parametrize(
    "slug, old, new, key",
    [
        (
            "recognition_without_notice",
            'name = "employees"\ntype = "integer"',
            'name = "employees"\ntype = "integer"\nrequired = "no"',
            "fields[1].required",
        ),
        (
            "recognition_without_notice",
            'en = "IP management rules"',
            'en = "IP management rules"\nrequired = "yes"',
            "attachments[0].required",
        ),
        (
            "recognition_without_notice",
            'region_prefix = "52"',
            'region_prefix = "52"\ndesignation_in_call_window = "false"',
            "eligibility.designation_in_call_window",
        ),
        (
            "recognition_without_notice",
            'region_prefix = "52"',
            'region_prefix = "52"\npatent_not_awarded_before = 1',
            "eligibility.patent_not_awarded_before",
        ),
    ],
    ids=["field-required", "attachment-required", "call-window", "number"],
)
def test_true_or_false_written_as_text_or_a_number_is_refused(tmp_path, slug, old, new, key):
    refused(tmp_path, slug, old, new, key, "must be true or false")


def test_a_quoted_true_or_false_is_told_to_lose_its_quotes(tmp_path):
    problem = refused(
        tmp_path,
        "recognition_without_notice",
        'name = "employees"\ntype = "integer"',
        'name = "employees"\ntype = "integer"\nrequired = "false"',
        "fields[1].required",
        "without quotes",
    )
    assert problem.line == 36


def _bool_keys(model: type[BaseModel], where: str, seen: set) -> list[tuple[str, object]]:
    """(key path, its type) of every true-or-false key of `model` and the tables inside it."""
    if model in seen:
        return []
    seen.add(model)
    found = []
    for name, field in model.model_fields.items():
        annotation = Annotated[(field.annotation, *field.metadata)] if field.metadata else None
        pending = [field.annotation]
        while pending:
            current = pending.pop()
            if current is bool:
                found.append((f"{where}{name}", annotation or field.annotation))
            elif isinstance(current, type) and issubclass(current, BaseModel):
                found.extend(_bool_keys(current, f"{where}{name}.", seen))
            elif get_origin(current) is not None:
                pending.extend(get_args(current))
    return found


def test_every_true_or_false_key_of_the_format_refuses_text():
    """Also the stage types' parameters, and any key added later: a quoted "no" would read as
    true."""
    seen: set = set()
    keys = _bool_keys(Program, "", seen)
    for stage_type in STAGE_TYPES:
        keys += _bool_keys(stage_module(stage_type, "params").Params, f"stages.{stage_type}.", seen)
    assert keys
    for key, annotation in keys:
        with pytest.raises(ValidationError):
            TypeAdapter(annotation).validate_python("no")
        assert TypeAdapter(annotation).validate_python(False) is False, key


# --- loading the program files -----------------------------------------------------------------


def test_loading_programs_into_a_database_never_migrated_says_to_migrate_first(tmp_path):
    result = manage_py(
        "load_programs",
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        },
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "manage.py migrate" in result.stderr, result.stderr


# --- who acts at a stage -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stage, role, holders",
    [
        # The decision was refused at issue with an empty PermissionDenied.
        ("decision", "leadership", "notice_officer"),
        # The rehearsal crashed (no one of that role publishes a list).
        ("public_notice", "expert", "notice_officer"),
        # Only a city office has a region to recommend from.
        ("city_recommendation", "leadership", "city_office"),
    ],
)
def test_a_stage_given_a_role_that_cannot_act_there_is_refused(tmp_path, stage, role, holders):
    slug = "city_first_committee_grant"
    types = [one["type"] for one in tomllib.loads(program_text(slug))["stages"]]
    refused(
        tmp_path,
        slug,
        f'type = "{stage}"\n',
        f'type = "{stage}"\nrole = "{role}"\n',
        f"stages[{types.index(stage)}].role",
        f"role {role!r} cannot act at this stage; roles that can: {holders}",
    )


# --- numbers a program file writes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "slug, old, new, key, words",
    [
        # Python reads full-width digits; the file printed ¥500,000.00 from ５０００００.00.
        (
            "award_two_rounds",
            'amount = "100000.00"',
            'amount = "１０００００.00"',
            "tiers[0].amount",
            "half-width",
        ),
        # The decision failed at issue: 'too large to write in words'.
        (
            "award_two_rounds",
            'amount = "100000.00"',
            'amount = "99999999999999.00"',
            "tiers[0].amount",
            "too large",
        ),
        ("award_two_rounds", "rank = 2", "rank = -7", "tiers[0].rank", "positive"),
        ("award_two_rounds", "days = 5\n", "days = 3650\n", None, "at most 90 days"),
        (
            "city_first_committee_grant",
            'type = "decision"\n',
            'type = "decision"\nvalidity_years = 500\n',
            None,
            "at most 30 years",
        ),
    ],
)
def test_numbers_no_office_means_are_refused(tmp_path, slug, old, new, key, words):
    text = program_text(slug)
    assert old in text
    problems = problems_of(tmp_path, slug, text.replace(old, new, 1))
    found = [p for p in problems if (key is None or p.key == key) and words in p.message]
    assert found, [str(p) for p in problems]
    assert found[0].line is not None


@pytest.mark.parametrize(
    "quota, words",
    [
        ('"9901" = 3', "no city of Guizhou has this prefix"),
        # The program admits 贵阳 (5201) only.
        ('"5203" = 1', "outside the program's region_prefix '5201'"),
    ],
)
def test_a_city_quota_must_name_a_city_the_program_admits(tmp_path, quota, words):
    refused(
        tmp_path,
        "city_first_committee_grant",
        "quota_per_city = 2\n",
        f"quota_per_city = 2\nquotas = {{ {quota} }}\n",
        "stages[1].quotas." + quota.split('"')[1],
        words,
    )


def test_a_bound_that_is_neither_a_number_nor_a_date_gets_one_plain_message(tmp_path):
    """It got two, one naming pydantic's insides: fields[2].max.function-before[_number(),
    decimal]: must be a number, and fields[2].max.date: must be a number or a date."""
    text = program_text("brand_commendation").replace("min = 1\n", 'min = 1\nmax = "abc"\n', 1)
    problems = problems_of(tmp_path, "brand_commendation", text)
    about_max = [p for p in problems if ".max" in p.key]
    assert len(about_max) == 1, [str(p) for p in problems]
    assert about_max[0].key.endswith("].max") and "must be a number" in about_max[0].message
    assert about_max[0].line is not None


def test_a_file_saved_as_gbk_is_told_to_be_saved_as_utf8(tmp_path):
    """Chinese Windows editors save GBK by default; the refusal quoted Python's codec error."""
    path = tmp_path / "brand_commendation.toml"
    path.write_bytes(program_text("brand_commendation").encode("gb18030"))
    program, problems = programs.program_file_read(path)
    assert program is None
    (problem,) = problems
    assert "save the file as UTF-8" in problem.message and "codec" not in problem.message
    first_chinese = next(
        n
        for n, line in enumerate(program_text("brand_commendation").splitlines(), 1)
        if not line.isascii()
    )
    assert problem.line == first_chinese


def test_a_committee_vote_is_not_given_to_a_city_office(tmp_path):
    """Any city office could have decided a whole call's list."""
    text = program_text("brand_commendation")
    types = [one["type"] for one in tomllib.loads(text)["stages"]]
    refused(
        tmp_path,
        "brand_commendation",
        'role = "leadership"',
        'role = "city_office"',
        f"stages[{types.index('committee_vote')}].role",
        "a city office cannot vote on a whole call",
    )
