"""Removing a stage from a program file while applications sit in that stage is refused at start-up
by a system check naming those applications; applications finish under the program version they
began."""

import hashlib
import tomllib
from pathlib import Path

import pytest
from django.test import override_settings

from tests.factories import CallFactory
from workflows import flows, programs
from workflows.checks import stages_in_use_check
from workflows.demo import application_submitted, cast_make
from workflows.stages.formal_review.services import formal_review_complete

SLUG = "tech_transfer_agency"
SOURCE = Path(__file__).resolve().parents[2] / "config" / "programs" / f"{SLUG}.toml"
LEADERSHIP_STAGE = '[[stages]]\ntype = "leadership_meeting"\nrole = "leadership"\n\n'


@pytest.fixture
def in_leadership(db):
    """Two applications accepted by formal review, now waiting in the leadership meeting."""
    cast = cast_make()
    call = CallFactory()
    waiting = []
    for serial in (11, 12):
        application = application_submitted(cast=cast, call=call, serial=serial)
        formal_review_complete(user=cast.formal_reviewer, application=application, outcome="accept")
        waiting.append(application)
    return waiting


@pytest.fixture
def program_folder(tmp_path):
    """A PROGRAMS_DIR holding a copy of the shipped file; the programs cache is reset around it."""
    (tmp_path / SOURCE.name).write_bytes(SOURCE.read_bytes())
    programs.programs_loaded.cache_clear()
    with override_settings(PROGRAMS_DIR=tmp_path):
        yield tmp_path
    programs.programs_loaded.cache_clear()


def install_flow_from(path: Path, monkeypatch) -> None:
    """Rebuild the program's flow class from `path` as a restart would, and install it in place
    of the current one (monkeypatch puts the original back after the test).

    The file is read without validation: with no leadership meeting left, the public notice stage
    lacks the deliberation stage it needs and workflows.E001 fires too; the flow is built anyway so
    that this check is what refuses the stranded applications."""
    raw = path.read_bytes()
    program = programs.ProgramFile(
        path.name,
        hashlib.sha256(raw).hexdigest(),
        programs.program_normalise(tomllib.loads(raw.decode("utf-8"))),
    )
    flow_class = flows.flow_class_build(program)
    monkeypatch.setattr(flows, program.flow_class_name, flow_class)
    monkeypatch.setitem(flows.FLOWS, SLUG, flow_class)


def remove_leadership_stage(folder: Path) -> Path:
    path = folder / SOURCE.name
    text = path.read_text(encoding="utf-8")
    assert LEADERSHIP_STAGE in text
    path.write_text(text.replace(LEADERSHIP_STAGE, ""), encoding="utf-8")
    return path


def test_shipped_files_with_applications_in_every_stage_pass(in_leadership, program_folder):
    assert stages_in_use_check(None) == []


def test_unchanged_file_rebuilt_passes(in_leadership, program_folder, monkeypatch):
    install_flow_from(program_folder / SOURCE.name, monkeypatch)

    assert stages_in_use_check(None) == []


def test_removing_a_stage_applications_wait_in_is_refused_naming_them(
    in_leadership, program_folder, monkeypatch
):
    install_flow_from(remove_leadership_stage(program_folder), monkeypatch)
    assert "leadership_review" not in flows.FLOWS[SLUG].instance._nodes_by_name

    (error,) = stages_in_use_check(None)

    assert error.id == "workflows.E002"
    assert error.is_serious()
    assert "tech_transfer_agency.toml" in error.msg
    assert "'leadership_meeting'" in error.msg
    assert "'leadership_review'" in error.msg
    for application in in_leadership:
        assert f"#{application.pk}" in error.msg


def test_removing_a_stage_nobody_waits_in_passes(db, program_folder, monkeypatch):
    cast = cast_make()
    application_submitted(cast=cast, call=CallFactory(), serial=13)  # waits in formal review
    install_flow_from(remove_leadership_stage(program_folder), monkeypatch)

    assert stages_in_use_check(None) == []


def test_a_removed_program_file_with_open_applications_is_refused(in_leadership, monkeypatch):
    monkeypatch.delitem(flows.FLOWS, SLUG)

    (error,) = stages_in_use_check(None)

    assert error.id == "workflows.E002"
    assert "tech_transfer_agency.toml" in error.msg
    assert "missing or invalid" in error.msg
    assert all(f"#{application.pk}" in error.msg for application in in_leadership)


def test_the_check_costs_the_same_queries_however_many_applications_wait(
    in_leadership, program_folder, monkeypatch, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):
        assert stages_in_use_check(None) == []
    install_flow_from(remove_leadership_stage(program_folder), monkeypatch)
    # The open tasks with their applications, then the program versions of the stranded ones.
    with django_assert_max_num_queries(2):
        assert len(stages_in_use_check(None)) == 1


def test_no_database_yet_means_no_error(monkeypatch):
    """Before the first migrate the tables do not exist: the check stays silent."""
    from django.db.utils import OperationalError

    from workflows import checks

    def no_tables():
        raise OperationalError("no such table: viewflow_task")

    monkeypatch.setattr(checks, "_open_tasks", no_tables)

    assert stages_in_use_check(None) == []
