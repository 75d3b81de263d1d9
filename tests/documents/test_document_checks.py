"""Start-up checks: missing HarfBuzz subsetting stops start-up; missing Noto CJK fonts warn."""

from django.core import checks
from weasyprint.text import ffi

from documents import checks as document_checks


def messages(tag="documents"):
    return checks.run_checks(tags=[tag])


def test_no_message_when_harfbuzz_subset_and_noto_cjk_are_installed():
    assert messages() == []


def test_missing_harfbuzz_subset_is_an_error(monkeypatch):
    monkeypatch.setattr(ffi, "harfbuzz_subset", None)

    [error] = messages()

    assert error.id == "documents.E001"
    assert error.level == checks.ERROR
    assert "libharfbuzz-subset0" in error.hint


def test_missing_noto_cjk_is_a_warning(monkeypatch):
    monkeypatch.setattr(
        document_checks, "chinese_font_families", lambda: frozenset({"Noto Sans CJK SC"})
    )

    [warning] = messages()

    assert warning.id == "documents.W001"
    assert warning.level == checks.WARNING
    assert "Noto Serif CJK SC" in warning.msg
    assert "fonts-noto-cjk" in warning.hint


def test_fontconfig_lists_the_installed_noto_fonts():
    assert {"Noto Serif CJK SC", "Noto Sans CJK SC"} <= document_checks.chinese_font_families()
