"""What the start-up check refuses in a program file, each refusal naming the file, the key, its
line and the reason: stage orders that cannot run, repeated stage types without keys, a rubric
per round, fields and amount rules, and the seed's rule that patent counts may not drive money
(`000` 二(一)1), recognised by what a criterion, tier or amount says, not by its tag."""

import re

import pytest
from django.test import override_settings

from tests.programs_support import REFUSED, TEST_PROGRAMS, program_text
from workflows import programs
from workflows.checks import program_files_check

CLAUSE = "不得直接将专利数量作为主要约束条件,不得将财政资助奖励政策与专利数量简单挂钩"


def messages_for(tmp_path, slug: str, text: str) -> list[str]:
    (tmp_path / f"{slug}.toml").write_text(text, encoding="utf-8")
    with override_settings(PROGRAMS_DIR=tmp_path):
        return [error.msg for error in program_files_check(None)]


def problems_of(tmp_path, slug: str, text: str) -> list[programs.ProgramProblem]:
    path = tmp_path / f"{slug}.toml"
    path.write_text(text, encoding="utf-8")
    program, problems = programs.program_file_read(path)
    assert (program is None) == bool(problems)
    return problems


def refused(tmp_path, slug, text, key, words) -> programs.ProgramProblem:
    """The one problem of `key` whose message holds `words`; its line is the key's line."""
    found = [p for p in problems_of(tmp_path, slug, text) if p.key == key and words in p.message]
    assert found, [str(p) for p in problems_of(tmp_path, slug, text)]
    assert found[0].line is not None and found[0].source == f"{slug}.toml"
    return found[0]


@pytest.mark.parametrize(
    "slug", sorted(p.stem for p in TEST_PROGRAMS.glob("*.toml") if p.stem not in REFUSED)
)
def test_the_test_programs_are_accepted(tmp_path, slug):
    assert problems_of(tmp_path, slug, program_text(slug)) == []


def test_an_order_that_cannot_run_is_refused_naming_file_stage_and_what_is_missing(tmp_path):
    slug = "decision_before_a_list"
    messages = messages_for(tmp_path, slug, program_text(slug))
    assert any(
        f"{slug}.toml, line 37, key 'stages[2].type'" in m
        and "stage 'decision' needs a stage that decides the list" in m
        for m in messages
    ), messages
    assert any(
        "'stages[3].type'" in m
        and "stage 'public_notice' cannot come after a 'decision' stage" in m
        for m in messages
    ), messages


@pytest.mark.parametrize(
    "old, new, key, words",
    [
        # A second application stage.
        (
            '[[stages]]\ntype = "formal_review"\n',
            '[[stages]]\ntype = "formal_review"\n\n'
            '[[stages]]\ntype = "application"\nkey = "again"\n',
            "stages[2].type",
            "an application is submitted once",
        ),
        # The same key twice.
        ('key = "final_review"', 'key = "initial_review"', "stages[3].key", "duplicate stage key"),
        # The round's rubric with a key the format does not know.
        (
            'measures = "innovation"',
            'measures = "innovation"\nweight = 2',
            "stages[2].rubric[0].weight",
            "unknown key; allowed:",
        ),
        # A negative number of places.
        ("advance_top = 4", "advance_top = -1", "stages[2].advance_top", "positive integer"),
        # A panel size written as text.
        ("panel_size = 3", 'panel_size = "three"', "stages[2].panel_size", "must be an integer"),
        # A committee quota for a tier the file does not have.
        ("first = 1,", "gold = 1,", "stages[4].quotas.gold", "unknown tier"),
    ],
    ids=[
        "two-applications",
        "duplicate-key",
        "rubric-key",
        "places",
        "size",
        "quota",
    ],
)
def test_a_bad_stage_is_refused(tmp_path, old, new, key, words):
    text = program_text("award_two_rounds")
    assert old in text
    refused(tmp_path, "award_two_rounds", text.replace(old, new, 1), key, words)


@pytest.mark.parametrize(
    "slug, old, new, key, words",
    [
        (
            "licence_grant_share",
            'field = "contract_value"',
            'field = "turnover"',
            "amount.field",
            "no field 'turnover' on the form",
        ),
        (
            "licence_grant_share",
            'percent = "10"',
            'percent = "150"',
            "amount.percent",
            "at most 100",
        ),
        (
            "licence_grant_share",
            'cap = "200000.00"',
            'cap = "10000.00"',
            "amount.cap",
            "must not be less than floor",
        ),
        (
            "licence_grant_share",
            'floor = "20000.00"',
            "floor = 20000",
            "amount.floor",
            "must be a string",
        ),
        (
            "licence_grant_grades",
            'below = "5000000"',
            'below = "6000000"',
            "amount.grades[1]",
            "overlaps amount.grades[0]",
        ),
        (
            "licence_grant_grades",
            '[[fields]]\nname = "contract_value"',
            '[[fields]]\nname = "grade"\ntype = "tier"\nzh = "档次"\nen = "Grade"\n\n'
            '[[fields]]\nname = "contract_value"',
            "fields[0].type",
            "a tier field needs [[tiers]]",
        ),
        (
            "recognition_without_notice",
            "min = 10",
            'min = "ten"',
            "fields[1].min",
            "must be a number or a date",
        ),
        (
            "recognition_without_notice",
            "options = [",
            "min = 1\noptions = [",
            "fields[2].min",
            "fields have min",
        ),
        (
            "recognition_without_notice",
            'type = "boolean"',
            'type = "checkbox"',
            "fields[3].type",
            "must be one of",
        ),
    ],
    ids=[
        "unknown-field",
        "percent",
        "cap-below-floor",
        "floor-number",
        "overlapping-grades",
        "tier-field",
        "min-text",
        "min-on-choice",
        "field-type",
    ],
)
def test_a_bad_field_or_amount_rule_is_refused(tmp_path, slug, old, new, key, words):
    text = program_text(slug)
    assert old in text
    problems = problems_of(tmp_path, slug, text.replace(old, new, 1))
    assert any(p.key.startswith(key) and words in p.message for p in problems), [
        str(p) for p in problems
    ]


def test_a_payment_without_a_decision_before_it_is_refused(tmp_path):
    text = program_text("licence_grant_grades").replace('[[stages]]\ntype = "decision"\n', "")
    refused(tmp_path, "licence_grant_grades", text, "stages[3].type", "needs a 'decision' stage")


def test_a_tier_field_beside_a_computed_amount_is_refused(tmp_path):
    text = program_text("licence_grant_grades").replace(
        "[eligibility]",
        '[[tiers]]\nkey = "one"\nzh = "一级"\nen = "One"\nrank = 1\n\n[eligibility]',
    )
    text = text.replace(
        '[[fields]]\nname = "contract_value"',
        '[[fields]]\nname = "tier"\ntype = "tier"\nzh = "档次"\nen = "Grade"\n\n'
        '[[fields]]\nname = "contract_value"',
    )
    refused(
        tmp_path, "licence_grant_grades", text, "fields[0].type", "the applicant does not choose"
    )


# --- the seed's patent-count rule, by content ----------------------------------------------------

RUBRIC_RE = re.compile(r"\[\[rubric\]\].*?(?=\[\[stages\]\])", re.S)


def with_rubric(criteria: list[tuple[str, str, str, int, str]]) -> str:
    """leadership_before_panel with its [[rubric]] replaced by (key, zh, en, points, measures)."""
    tables = "".join(
        f'[[rubric]]\nkey = "{key}"\nzh = "{zh}"\nen = "{en}"\nmax_points = {points}\n'
        f'measures = "{measures}"\nguidance = "按评分说明打分。"\n\n'
        for key, zh, en, points, measures in criteria
    )
    return RUBRIC_RE.sub(lambda _m: tables, program_text("leadership_before_panel"), count=1)


QUALITY = ("quality", "专利质量", "Patent quality", 30, "quality")
BENEFIT = ("benefit", "转化效益", "Benefit", 20, "transformation_benefit")


@pytest.mark.parametrize(
    "disguise",
    [
        ("invention_grants", "创新能力", "Innovation", 50, "quality"),
        ("inventiveness", "授权发明数", "Inventiveness", 50, "quality"),
        ("portfolio", "知识产权储备", "Number of granted patents", 50, "innovation"),
        ("portfolio", "有效发明专利拥有量", "Portfolio", 50, "management"),
        ("filings", "PCT申请件数", "International filings", 50, "other"),
    ],
    ids=["key", "zh-label", "en-label", "zh-amount-word", "filed-count"],
)
def test_a_criterion_that_counts_patents_is_refused_whatever_it_calls_itself(tmp_path, disguise):
    problems = problems_of(
        tmp_path, "leadership_before_panel", with_rubric([QUALITY, BENEFIT, disguise])
    )
    messages = [p.message for p in problems if p.key == "rubric"]
    assert messages, [str(p) for p in problems]
    assert all(CLAUSE in m and "二（一）1" in m and repr(disguise[0]) in m for m in messages)
    assert any("largest weight" in m for m in messages)


def test_a_small_patent_count_criterion_is_allowed(tmp_path):
    small = ("invention_grants", "授权发明数", "Granted inventions", 5, "quality")
    quality = ("quality", "专利质量", "Patent quality", 50, "quality")
    benefit = ("benefit", "转化效益", "Benefit", 45, "transformation_benefit")
    assert (
        problems_of(tmp_path, "leadership_before_panel", with_rubric([quality, benefit, small]))
        == []
    )


@pytest.mark.parametrize(
    "zh, en",
    [("授权发明专利10件以上", "Ten or more granted inventions"), ("授权发明专利5至9件", "Tier B")],
)
def test_a_tier_defined_by_a_number_of_patents_is_refused(tmp_path, zh, en):
    text = program_text("award_two_rounds").replace(
        'zh = "一等奖"\nen = "First prize"', f'zh = "{zh}"\nen = "{en}"'
    )
    problem = refused(tmp_path, "award_two_rounds", text, "tiers[0]", "a number of patents")
    assert CLAUSE in problem.message and "'first'" in problem.message


def test_an_amount_computed_from_a_patent_count_is_refused(tmp_path):
    text = program_text("licence_grant_grades").replace(
        'name = "contract_value"\ntype = "money"\nzh = "合同金额"\nen = "Contract value"\n'
        'min = "200000.00"',
        'name = "granted_patents"\ntype = "integer"\nzh = "授权发明专利数"\n'
        'en = "Granted inventions"',
    )
    text = text.replace('field = "contract_value"', 'field = "granted_patents"')
    text = re.sub(r'(at_least|below) = "(\d+)"', r'\1 = "\2"', text)
    problem = refused(tmp_path, "licence_grant_grades", text, "amount.field", "a number of patents")
    assert CLAUSE in problem.message and "'granted_patents'" in problem.message


def test_the_shipped_programs_say_nothing_the_rule_reads_as_a_patent_count():
    """No criterion, tier or amount of the four shipped files is mistaken for a count."""
    assert program_files_check(None) == []
