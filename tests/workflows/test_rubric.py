"""Scoring rubrics in program files: each criterion is checked, a program with an expert review
needs one, and the policy rule of 000 二(一)1 refuses a rubric in which raw patent counts are the
main criterion or more than the allowed share (settings.PATENT_COUNT_MAX_SHARE)."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings

from tests.workflows.test_expert_review import PANEL_PROGRAM, SLUG
from workflows import programs
from workflows.checks import program_files_check

CLAUSE = "不得直接将专利数量作为主要约束条件,不得将财政资助奖励政策与专利数量简单挂钩"
RUBRIC_RE = re.compile(r"\[\[rubric\]\].*?(?=\[\[stages\]\])", re.S)


def criterion(key: str, max_points, measures: str, **extra) -> dict:
    return {
        "key": key,
        "zh": f"评分项{key}",
        "en": f"Criterion {key}",
        "max_points": max_points,
        "guidance": "按评分说明打分。",
        "measures": measures,
    } | extra


def toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def with_rubric(entries: list[dict], text: str = PANEL_PROGRAM) -> str:
    """The test program with its `[[rubric]]` list replaced by `entries`."""
    tables = "".join(
        "[[rubric]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in entry.items()) + "\n"
        for entry in entries
    )
    return RUBRIC_RE.sub(lambda _match: tables, text, count=1)


def read(tmp_path: Path, text: str):
    path = tmp_path / f"{SLUG}.toml"
    path.write_text(text, encoding="utf-8")
    return programs.program_file_read(path)


def problems_of(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    program, problems = read(tmp_path, text)
    assert (program is None) == bool(problems)
    return [(problem.key, problem.message) for problem in problems]


def test_the_test_programs_rubric_is_accepted(tmp_path):
    program, problems = read(tmp_path, PANEL_PROGRAM)
    assert problems == []
    assert [c["key"] for c in program.content["rubric"]] == [
        "quality",
        "transformation",
        "management",
        "innovation",
        "patents",
    ]


@pytest.mark.parametrize(
    "entries, expected",
    [
        # Patent counts as the heaviest criterion (and 30 % of the points).
        (
            [
                criterion("quality", 25, "quality"),
                criterion("benefit", 25, "transformation_benefit"),
                criterion("management", 20, "management"),
                criterion("patents", 30, "patent_count"),
            ],
            {"largest weight", "allowed"},
        ),
        # A tie with the heaviest counts as heaviest, even within the 10 % share.
        (
            [criterion(f"c{n}", 10, "quality") for n in range(9)]
            + [criterion("patents", 10, "patent_count")],
            {"largest weight"},
        ),
        # Not the heaviest, but 15 % of the points.
        (
            [
                criterion("quality", 40, "quality"),
                criterion("benefit", 35, "transformation_benefit"),
                criterion("management", 10, "management"),
                criterion("patents", 15, "patent_count"),
            ],
            {"allowed"},
        ),
        # Split over two criteria, patent counts still add up to 16 %.
        (
            [
                criterion("quality", 44, "quality"),
                criterion("benefit", 40, "transformation_benefit"),
                criterion("granted", 8, "patent_count"),
                criterion("filed", 8, "patent_count"),
            ],
            {"allowed"},
        ),
        # Only patent counts.
        ([criterion("patents", 100, "patent_count")], {"largest weight", "allowed"}),
    ],
    ids=["heaviest", "tie", "share", "split", "only"],
)
def test_a_rubric_driven_by_patent_counts_is_refused_citing_the_policy(tmp_path, entries, expected):
    problems = problems_of(tmp_path, with_rubric(entries))

    assert problems, "the policy rule must refuse the rubric"
    assert {key for key, _message in problems} == {"rubric"}
    found = set()
    for _key, message in problems:
        assert CLAUSE in message and "二（一）1" in message
        found |= {word for word in ("largest weight", "allowed") if word in message}
    assert found == expected


def test_the_allowed_share_of_patent_counts_is_a_setting(tmp_path, settings):
    entries = [
        criterion("quality", 40, "quality"),
        criterion("benefit", 35, "transformation_benefit"),
        criterion("management", 10, "management"),
        criterion("patents", 15, "patent_count"),
    ]
    settings.PATENT_COUNT_MAX_SHARE = Decimal("0.20")
    assert problems_of(tmp_path, with_rubric(entries)) == []
    settings.PATENT_COUNT_MAX_SHARE = Decimal("0.05")
    assert problems_of(tmp_path, with_rubric(entries))
    del settings.PATENT_COUNT_MAX_SHARE  # absent: 10 %
    message = dict(problems_of(tmp_path, with_rubric(entries)))["rubric"]
    assert "15%" in message and "10%" in message


def test_patent_counts_within_the_share_and_below_the_heaviest_are_accepted(tmp_path):
    entries = [
        criterion("quality", 45, "quality"),
        criterion("benefit", 45, "transformation_benefit"),
        criterion("patents", 10, "patent_count"),
    ]
    assert problems_of(tmp_path, with_rubric(entries)) == []


@pytest.mark.parametrize(
    "entry, key, words",
    [
        (criterion("quality", 30, "quality", weight=2), "rubric[0].weight", "unknown key"),
        (criterion("quality", 30, "quality", guidance=""), "rubric[0].guidance", "missing text"),
        (criterion("quality", 30, "citations"), "rubric[0].measures", "must be one of"),
        (criterion("quality", 0, "quality"), "rubric[0].max_points", "positive number"),
        (criterion("quality", -5, "quality"), "rubric[0].max_points", "positive number"),
        (criterion("quality", "thirty", "quality"), "rubric[0].max_points", "positive number"),
        (criterion("quality", 7.125, "quality"), "rubric[0].max_points", "two decimals"),
        (criterion("Quality Score", 30, "quality"), "rubric[0].key", "lower-case"),
        (criterion("benefit", 30, "quality"), "rubric[1].key", "duplicate key"),
    ],
    ids=[
        "unknown-key",
        "no-guidance",
        "bad-measure",
        "zero",
        "negative",
        "text",
        "three-decimals",
        "bad-key",
        "duplicate",
    ],
)
def test_a_bad_criterion_is_refused_naming_the_key(tmp_path, entry, key, words):
    entries = [entry, criterion("benefit", 60, "transformation_benefit")]
    problems = problems_of(tmp_path, with_rubric(entries))
    assert any(k == key and words in message for k, message in problems), problems


def test_a_program_with_an_expert_review_needs_a_rubric(tmp_path):
    without = RUBRIC_RE.sub("", PANEL_PROGRAM, count=1)
    assert ("rubric", "an expert_review stage needs a [[rubric]] list") in problems_of(
        tmp_path, without
    )
    empty = without.replace(f'slug = "{SLUG}"', f'slug = "{SLUG}"\nrubric = []')
    assert ("rubric", "an expert_review stage needs a [[rubric]] list") in problems_of(
        tmp_path, empty
    )


def test_the_panel_must_be_run_by_a_role_that_manages_panels(tmp_path):
    text = PANEL_PROGRAM.replace(
        'type = "expert_review"\nrole = "formal_reviewer"',
        'type = "expert_review"\nrole = "leadership"',
    )
    assert (
        "stages[2].role",
        "role 'leadership' cannot act at this stage; roles that can: formal_reviewer",
    ) in problems_of(tmp_path, text)


def test_a_rubric_that_is_not_a_list_is_refused(tmp_path):
    text = RUBRIC_RE.sub("", PANEL_PROGRAM, count=1)
    text = text.replace(f'slug = "{SLUG}"', f'slug = "{SLUG}"\nrubric = "quality"')
    assert ("rubric", "must be a list of tables ([[rubric]])") in problems_of(tmp_path, text)


def test_the_start_up_check_refuses_the_file_naming_file_key_and_clause(tmp_path):
    entries = [
        criterion("quality", 30, "quality"),
        criterion("patents", 70, "patent_count"),
    ]
    (tmp_path / f"{SLUG}.toml").write_text(with_rubric(entries), encoding="utf-8")
    with override_settings(PROGRAMS_DIR=tmp_path):
        messages = [error.msg for error in program_files_check(None)]
    assert messages
    assert all(f"{SLUG}.toml" in m and "'rubric'" in m and CLAUSE in m for m in messages)
