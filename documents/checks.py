"""System checks for PDF rendering, run by `manage.py check`, `runserver` and `migrate`.

- documents.E001 (Error: start-up refuses to continue): WeasyPrint found no libharfbuzz-subset.
  It would then subset CJK fonts with fontTools, ~50× slower (6.4 s instead of 0.13 s a letter).
- documents.E002 (Error): no signing identity is configured, so issued PDFs would be unsigned.
- documents.W001 (Warning): fontconfig knows no Noto CJK font, the free fallback of every font
  stack in the document templates; without it (and without the commercial fonts) Chinese text
  renders with whatever font fontconfig picks, or as empty boxes.
"""

import functools
import subprocess

from django.core.checks import Error, Warning, register

FALLBACK_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")


@register("documents")
def check_harfbuzz_subset(app_configs, **kwargs) -> list[Error]:
    # Imported here: loading WeasyPrint takes most of a second, which only checks should pay.
    from .rendering import harfbuzz_subset_available

    if harfbuzz_subset_available():
        return []
    return [
        Error(
            "WeasyPrint cannot load HarfBuzz subsetting (libharfbuzz-subset).",
            hint="Install Debian's libharfbuzz-subset0 (apt-get install libharfbuzz-subset0). "
            "Without it every Chinese PDF takes seconds to render.",
            id="documents.E001",
        )
    ]


@register("documents")
def check_cjk_fonts(app_configs, **kwargs) -> list[Warning]:
    families = chinese_font_families()
    if families is None:
        return [
            Warning(
                "fc-list is not available: cannot check the Chinese fonts for official documents.",
                hint="Install Debian's fontconfig and fonts-noto-cjk.",
                id="documents.W001",
            )
        ]
    missing = [family for family in FALLBACK_FAMILIES if family not in families]
    if not missing:
        return []
    return [
        Warning(
            f"Fontconfig finds no {', '.join(missing)}: official documents may render Chinese "
            "text with an unsuitable font or not at all.",
            hint="Install Debian's fonts-noto-cjk.",
            id="documents.W001",
        )
    ]


@functools.cache
def chinese_font_families() -> frozenset[str] | None:
    """Font families fontconfig offers for Chinese, or None if fc-list cannot be run."""
    try:
        listing = subprocess.run(
            ["fc-list", ":lang=zh", "family"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(family.strip() for line in listing.splitlines() for family in line.split(","))


@register("documents")
def check_signing(app_configs, **kwargs) -> list[Error]:
    """documents.E002: issued documents must be signed (documents.signing)."""
    from .signing import signing_configured

    if signing_configured():
        return []
    return [
        Error(
            "No signing identity: issued documents would carry no PAdES signature.",
            hint="Set DOCUMENT_SIGNING_KEY and DOCUMENT_SIGNING_CERT (PEM files of the office's "
            "certificate) and DOCUMENT_TRUST_ROOTS; see the README's 'Signed documents'.",
            id="documents.E002",
        )
    ]
