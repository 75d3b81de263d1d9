"""Benchmark: one award letter rendered by the project (template + safe fetcher + shared fonts)
against WeasyPrint rendering the same HTML alone; ms per document, median and p95.

Run with `.venv/bin/python bench/documents.py` (or `make bench`)."""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import weasyprint  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402

from documents import rendering  # noqa: E402
from tests.documents.contexts import award_letter_context  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "40"))


def timed(func) -> list[float]:
    func()  # warm: fonts and caches
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(label: str, times: list[float]) -> float:
    ordered = sorted(times)
    median = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(f"{label:<42} median {median:6.1f} ms   p95 {p95:6.1f} ms")
    return median


def main():
    context = award_letter_context()
    html = render_to_string("documents/award_letter.html", context)
    pdf = rendering.render_pdf("documents/award_letter.html", context)
    print(f"award letter: {len(pdf) / 1024:.0f} KB, {RUNS} runs each")
    project = summary(
        "project (render_pdf)",
        timed(lambda: rendering.render_pdf("documents/award_letter.html", context)),
    )
    fonts = weasyprint.text.fonts.FontConfiguration()
    alone = summary(
        "WeasyPrint alone (same HTML, shared fonts)",
        timed(lambda: weasyprint.HTML(string=html).write_pdf(font_config=fonts)),
    )
    print(f"overhead ratio (project / WeasyPrint alone): {project / alone:.2f}x")


if __name__ == "__main__":
    main()
