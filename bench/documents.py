"""Benchmark: one award letter rendered by the project (`document_render`: its verification QR
code, the template, the safe fetcher, shared fonts) against WeasyPrint rendering the same HTML
alone; ms per document, median and p95.

Run with `.venv/bin/python bench/documents.py` (or `make bench`)."""

import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import weasyprint  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402

from documents.rendering import render_pdf  # noqa: E402
from documents.services import document_render, verification_qr  # noqa: E402
from tests.documents.contexts import award_letter_context  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "40"))


def timed_alternately(first, second) -> tuple[list[float], list[float]]:
    """ms per call of each function, called in turn (so a slower spell of the machine falls on
    both alike)."""
    first(), second()  # warm: fonts and caches
    times = ([], [])
    for _ in range(RUNS):
        for func, into in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            func()
            into.append((time.perf_counter() - started) * 1000)
    return times


def summary(label: str, times: list[float]) -> float:
    ordered = sorted(times)
    median = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(f"{label:<42} median {median:6.1f} ms   p95 {p95:6.1f} ms")
    return median


def main():
    code = "7KQ3MXR2TD"
    context = {
        **award_letter_context(),
        "verification_code": code,
        "verification_url": f"https://ip.example.gov.cn/verify/{code}/",
    }
    # A top-up letter whose policy basis has a long title: two pages, as the figure asks.
    context["previously_paid"] = Decimal("300000.00")
    context["amount"] = Decimal("700000.00")
    context["amount_words"] = "人民币柒拾万元整"
    context["program"]["policy_document"] = "贵州省专利转化运用专项行动实施方案" * 24
    template = "documents/award_letter.html"
    html = render_to_string(
        template, {**context, "verification_qr": verification_qr(context["verification_url"])}
    )
    pdf = document_render(template, context)
    pages = len(weasyprint.HTML(string=html).render().pages)
    assert pages == 2, f"the letter has {pages} pages"
    print(f"award letter: {pages} pages, {len(pdf) / 1024:.0f} KB, {RUNS} runs each")
    fonts = weasyprint.text.fonts.FontConfiguration()
    project_times, alone_times = timed_alternately(
        lambda: document_render(template, context),
        lambda: weasyprint.HTML(string=html).write_pdf(font_config=fonts),
    )
    project = summary("project (document_render)", project_times)
    alone = summary("WeasyPrint alone (same HTML, shared fonts)", alone_times)
    print(f"overhead ratio (project / WeasyPrint alone): {project / alone:.2f}x")

    # Signing: the same letter signed (PAdES, the issuer's certificate) against unsigned.
    with_qr = {**context, "verification_qr": verification_qr(context["verification_url"])}
    signed_times, unsigned_times = timed_alternately(
        lambda: document_render(template, context),
        lambda: render_pdf(template, with_qr),
    )
    signed = summary("signed letter (document_render)", signed_times)
    unsigned = summary("unsigned letter (render_pdf)", unsigned_times)
    print(f"signing costs {signed - unsigned:.1f} ms a letter ({signed / unsigned:.2f}x)")


if __name__ == "__main__":
    main()
