"""Rehearsing a program before a call opens: `manage.py program_rehearse` runs every branch of a
program file, in its own stage order, on a throw-away database in a process of its own, and
fails clearly when the file's stages cannot reach an end. The shipped files and the test files
(tests/programs/) all pass; the staff page shows the same report.

The rehearsal always runs on its own SQLite file, whatever database the suite uses, so these
tests run once, on SQLite."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from tests.programs_support import REFUSED, TEST_PROGRAMS
from workflows.models import Application, ProgramRehearsal
from workflows.rehearsal import branches_plan, calls_plan

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="a rehearsal runs on its own SQLite file"
)

SHIPPED = sorted(p.stem for p in Path(settings.PROGRAMS_DIR).glob("*.toml"))
NEW = sorted(p.stem for p in TEST_PROGRAMS.glob("*.toml") if p.stem not in REFUSED)


def rehearsed(folder: Path, *programs: str) -> tuple[list[dict], str, bool]:
    """(the JSON reports, what the command printed, whether it succeeded): one process, one
    throw-away database for all the programs."""
    from io import StringIO

    out = folder / "report.json"
    printed = StringIO()
    try:
        call_command("program_rehearse", *programs, "--json", str(out), stdout=printed)
        ok = True
    except CommandError:
        ok = False
    return json.loads(out.read_text(encoding="utf-8")), printed.getvalue(), ok


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The four shipped files rehearsed together (no database of the suite is touched)."""
    reports, printed, ok = rehearsed(tmp_path_factory.mktemp("shipped"), *SHIPPED)
    return {report["program"]: report for report in reports}, printed, ok


@pytest.fixture(scope="module")
def new(tmp_path_factory):
    """The test files (tests/programs/) rehearsed together, the refused one among them."""
    paths = [str(TEST_PROGRAMS / f"{slug}.toml") for slug in [*NEW, *sorted(REFUSED)]]
    reports, printed, ok = rehearsed(tmp_path_factory.mktemp("new"), *paths)
    return {report["program"]: report for report in reports}, printed, ok


@pytest.mark.parametrize("slug", SHIPPED)
def test_every_shipped_program_rehearses_to_an_end(shipped, slug):
    reports, printed, ok = shipped
    report = reports[slug]
    assert ok and report["ok"], printed
    rows = report["branches"]
    assert {row["branch"] for row in rows} >= {
        "全部通过",
        "形式审查：不予受理",
        "形式审查：逾期未补正",
    }
    passing = next(row for row in rows if row["branch"] == "全部通过")
    assert passing["documents"] and all(d["number"] for d in passing["documents"])
    refused = next(row for row in rows if row["branch"] == "形式审查：不予受理")
    assert refused["end"] == "不予受理" and refused["documents"][0]["title"] == "不予受理决定书"
    lapsed = next(row for row in rows if row["branch"] == "形式审查：逾期未补正")
    assert lapsed["deadlines"][0]["what"] == "补正期限"
    assert f"{slug}.toml): {len(rows)} branches, 0 failed" in printed


@pytest.mark.parametrize("slug", NEW)
def test_every_new_program_file_rehearses_to_an_end(new, slug):
    reports, printed, _ok = new
    assert reports[slug]["ok"], printed
    assert all(row["ended"] for row in reports[slug]["branches"])


def test_the_two_round_award_rehearses_every_round_and_its_cut(new):
    report = new[0]["award_two_rounds"]
    ends = {row["branch"]: row["end"] for row in report["branches"] if not row["companion"]}
    assert ends["初评（initial_review）：未进入下一环节"] == "未进入下一环节"
    assert ends["终评（final_review）：专家回避后补抽"] == "已拨付"
    cut = next(
        r for r in report["branches"] if r["branch"] == "初评（initial_review）：未进入下一环节"
    )
    assert [d["title"] for d in cut["documents"]][-1] == "评审结果决定书"


def test_a_file_whose_stages_cannot_finish_fails_clearly(new):
    reports, printed, ok = new
    report = reports["decision_before_a_list"]
    assert not ok and not report["ok"] and report["branches"] == []
    assert "not rehearsed, the file is refused" in printed
    assert "stages[2].type: stage 'decision' needs a stage that decides the list" in printed


def test_a_branch_that_stops_is_reported_with_the_stage_where_it_stopped(
    tmp_path, monkeypatch, settings
):
    """The rehearsal's own verdict, in this process: a panel whose experts never finish leaves
    its application waiting at 专家评审, and the report says so."""
    from tests.programs_support import program_installed, program_text
    from workflows import demo, programs
    from workflows.rehearsal import rehearse
    from workflows.stages.expert_review import rehearsal as expert_rehearsal

    program_installed(
        tmp_path,
        monkeypatch,
        settings,
        {"leadership_before_panel": program_text("leadership_before_panel")},
    )
    monkeypatch.setattr(expert_rehearsal, "rehearse", lambda run, stage, entries: None)
    try:
        report = rehearse(cast=demo.cast_make(logins=False), slug="leadership_before_panel")
    finally:
        programs.programs_loaded.cache_clear()
    assert not report["ok"]
    stuck = next(row for row in report["branches"] if row["branch"] == "全部通过")
    assert not stuck["ended"] and stuck["stopped_at"] == "专家评审（专家评分）"
    assert stuck["failure"] == "stopped at 专家评审（专家评分）"
    refused = next(row for row in report["branches"] if row["branch"] == "形式审查：不予受理")
    assert refused["ended"] and not refused["failure"]


@pytest.mark.django_db
def test_in_one_call_with_few_city_places_every_branch_still_reaches_its_end(
    tmp_path, monkeypatch, settings
):
    """`make demo` puts every branch in one call, as a real round would: when the cities have
    fewer places than the round has applications, the places go to one application of each
    branch first, so the demo still shows the committee's no-award and the upheld objection
    (and their decisions) instead of a list of 不予推荐."""
    from tests.programs_support import program_installed
    from workflows import demo, programs
    from workflows.rehearsal import rehearse

    text = (Path(settings.PROGRAMS_DIR) / "patent_award.toml").read_text(encoding="utf-8")
    assert "quota_per_city = 5" in text
    text = text.replace('slug = "patent_award"', 'slug = "few_places"')
    program_installed(
        tmp_path,
        monkeypatch,
        settings,
        {"few_places": text.replace("quota_per_city = 5", "quota_per_city = 2")},
    )
    try:
        report = rehearse(
            cast=demo.cast_make(logins=False), slug="few_places", per_branch=2, one_call=True
        )
    finally:
        programs.programs_loaded.cache_clear()
    rows = [row for row in report["branches"] if not row["companion"]]
    recommended = [row for row in rows if row["status"] != "not_recommended"]
    assert len(recommended) == 4 * 2  # four cities, two places each: the rest were declined
    planned_ends = {
        "评审委员会表决：未获奖": ("rejected", "评审未通过决定书"),
        "公示：异议成立": ("withdrawn", "撤销列入名单决定书"),
        "形式审查：不予受理": ("refused", "不予受理决定书"),
        "全部通过": ("paid", "奖励通知书"),
    }
    for branch, (status, title) in planned_ends.items():
        ended = [row for row in rows if row["branch"] == branch and row["status"] == status]
        assert ended, (branch, "; ".join(f"{r['branch']} {r['status']}" for r in rows))
        assert title in [d["kind"] for d in ended[0]["documents"]]


def test_a_meeting_held_by_city_offices_is_held_by_each_office_for_its_region(
    tmp_path, monkeypatch, settings
):
    """A program may give its leadership meeting to the city offices: the rehearsal had every
    application decided by Guiyang's office, which may not act on another region's. Each
    office now decides the applications of its own region."""
    from tests.programs_support import program_installed, program_text
    from workflows import demo, programs
    from workflows.models import AuditRecord
    from workflows.rehearsal import rehearse
    from workflows.selectors import office_region_of

    text = program_text("joint_grant").replace('slug = "joint_grant"', 'slug = "city_meeting"')
    text = text.replace(
        'type = "leadership_meeting"\n', 'type = "leadership_meeting"\nrole = "city_office"\n'
    )
    assert 'role = "city_office"' in text
    program_installed(tmp_path, monkeypatch, settings, {"city_meeting": text})
    try:
        report = rehearse(
            cast=demo.cast_make(logins=False), slug="city_meeting", per_branch=2, one_call=True
        )
    finally:
        programs.programs_loaded.cache_clear()
    assert report["ok"], [
        (b["branch"], b.get("error"), b.get("stopped")) for b in report["branches"]
    ]
    decided = AuditRecord.objects.filter(
        action__in=["leadership_approve", "leadership_reject"]
    ).select_related("actor", "application__institution")
    regions = set()
    for record in decided:
        office = office_region_of(record.actor)
        assert record.application.institution.region_code.startswith(office.prefix)
        regions.add(office.prefix)
    assert len(regions) > 1, [
        (r.application.institution.region_code, r.actor.username) for r in decided
    ]


def test_branches_are_one_per_outcome_and_a_cut_comes_with_companions():
    from workflows.programs import programs_read

    loaded, _problems = programs_read(TEST_PROGRAMS)
    content = next(p for p in loaded if p.slug == "award_two_rounds").content
    entries = branches_plan(content)
    assert len(entries) == 1 + 3 + 2 + 1 + 1 + 2  # pass; review 3; 初评 2; 终评 1; vote; notice 2
    groups = calls_plan(content, entries)
    cut = next(g for g in groups if g[0].plan["initial_review"] == "not_advanced")
    assert len(cut) == 1 + 4 and all(entry.companion for entry in cut[1:])


def test_the_report_is_written_in_the_language_of_who_asked_for_it(client_for, formal_reviewer):
    """Branch labels go through gettext; the page hands the asker's language to the job."""
    from django.utils import translation
    from django_tasks_db.models import DBTaskResult

    from workflows.programs import program_get

    content = program_get("tech_transfer_agency").content
    with translation.override("en"):
        english = [entry.branch for entry in branches_plan(content)]
    chinese = [entry.branch for entry in branches_plan(content)]
    assert english[0] == "Everything passes" and chinese[0] == "全部通过"
    assert "Formal review: Accepted after correction" in english
    assert "形式审查：退回补正后受理" in chinese

    client = client_for(formal_reviewer)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    client.post(reverse("program_rehearsal", args=["tech_transfer_agency"]))
    job = DBTaskResult.objects.get(task_path="workflows.tasks.program_rehearse_job")
    assert job.args_kwargs["kwargs"]["language"] == "en"


@pytest.mark.parametrize("role, status", [("applicant", 403), ("formal_reviewer", 200)])
def test_the_rehearsal_page_is_for_staff(client_for, request, role, status):
    user = request.getfixturevalue(role)
    response = client_for(user).get(reverse("program_rehearsal", args=["tech_transfer_agency"]))
    assert response.status_code == status
    assert client_for(user).get(reverse("program_rehearsal", args=["no_such"])).status_code in (
        403,
        404,
    )


def test_staff_run_a_rehearsal_from_its_page_and_read_the_report(
    client_for, formal_reviewer, monkeypatch, tmp_path, tasks_run
):
    # The site stores its files elsewhere (FILE_STORAGE_*): the rehearsal's stay in its folder.
    site_files = tmp_path / "site-files"
    monkeypatch.setenv("FILE_STORAGE_OPTIONS", json.dumps({"location": str(site_files)}))
    url = reverse("program_rehearsal", args=["ip_operating_institution"])
    page = client_for(formal_reviewer).get(url).content.decode()
    assert "运行预演" in page
    client_for(formal_reviewer).post(url)
    (job,) = tasks_run()  # a worker runs the rehearsal
    assert job.status == "SUCCESSFUL"
    page = client_for(formal_reviewer).get(url).content.decode()
    rehearsal = ProgramRehearsal.objects.get()
    assert rehearsal.ok and rehearsal.status == "finished"
    assert "预演通过：每个分支都走到了终点" in page
    assert "公示：异议成立" in page and "资助决定通知书" in page
    # Nothing of the rehearsal reached this database or the site's files.
    assert not Application.objects.exists()
    assert not site_files.exists()


@pytest.mark.django_db
def test_a_rehearsal_run_here_by_hand_prints_its_report():
    """`program_rehearse <slug> --here` (run by hand in a throw-away database) printed nothing
    unless --json was given; it prints the report the isolated run prints."""
    from io import StringIO

    out = StringIO()
    call_command("program_rehearse", "tech_transfer_agency", "--here", stdout=out)

    text = out.getvalue()
    assert "(tech_transfer_agency.toml):" in text and "branches" in text
    assert "关于给予技术转移机构经费资助的决定" in text
