"""Installing program files that exist in no code, for tests: the engine must run them as they
are (issue 3: configuration holds up under change). `tests/programs/` holds the files the
issue-10 tests run: shapes the four shipped programs do not use."""

import shutil
from pathlib import Path

from django.conf import settings as django_settings

from workflows import flows, programs

TEST_PROGRAMS = Path(__file__).resolve().parent / "programs"
# A file the check refuses on purpose (its stages cannot run in their order).
REFUSED = {"decision_before_a_list"}

# viewflow caches node lookups per flow class: build each test program's class once per process.
_FLOW_CLASSES: dict[str, type] = {}


def program_text(slug: str) -> str:
    return (TEST_PROGRAMS / f"{slug}.toml").read_text(encoding="utf-8")


def program_installed(tmp_path, monkeypatch, settings, texts: dict[str, str]) -> None:
    """Install program files `{slug: TOML text}` next to the shipped ones for one test:
    `programs.program_get(slug)` finds them and viewflow imports their flow classes."""
    folder = tmp_path / "programs"
    folder.mkdir(exist_ok=True)
    for shipped in Path(django_settings.PROGRAMS_DIR).glob("*.toml"):
        shutil.copy(shipped, folder / shipped.name)
    for slug, text in texts.items():
        (folder / f"{slug}.toml").write_text(text, encoding="utf-8")
    settings.PROGRAMS_DIR = folder
    programs.programs_loaded.cache_clear()
    _loaded, problems = programs.programs_read(folder)
    assert problems == [], [str(p) for p in problems]
    for slug in texts:
        program = programs.program_get(slug)
        flow_class = _FLOW_CLASSES.get(slug)
        if flow_class is None:
            flow_class = _FLOW_CLASSES[slug] = flows.flow_class_build(program)
        monkeypatch.setitem(flows.FLOWS, slug, flow_class)
        monkeypatch.setattr(flows, program.flow_class_name, flow_class, raising=False)
