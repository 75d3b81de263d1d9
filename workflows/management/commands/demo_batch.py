"""A scripted batch through every branch of every program, with a progress bar; PDFs to a folder."""

import shutil
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from documents.models import Document
from workflows import demo
from workflows.models import Application
from workflows.programs import programs_loaded


class Command(BaseCommand):
    help = "Run each program's branches (N applications per grant program) and copy the PDFs."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=50, help="applications per grant call")
        parser.add_argument("--out", default="var/demo")

    def handle(self, *args, count, out, **options):
        cast = demo.cast_make()
        stamp = f"{timezone.localtime():%Y-%m-%d %H:%M:%S}"
        for slug, program in programs_loaded().items():
            call = demo.call_make(
                slug=slug, title=f"{program.content['title']['zh']}（演示 {stamp}）"
            )
            serial = 100000 + call.pk * 1000
            if slug in demo.COMPETITIVE_BRANCHES:
                # Quotas bound a competitive call: two rounds of its branches across four cities.
                branches = list(demo.COMPETITIVE_BRANCHES[slug]) * 2
                run = demo.competitive_batch_run
            else:
                branches = [demo.BRANCHES[i % len(demo.BRANCHES)] for i in range(count)]
                run = demo.batch_run
            progress = tqdm(total=len(branches), desc=slug, unit="app")
            # One call is one batch: its applications share the meetings, notice and decision.
            applications = run(
                cast=cast,
                call=call,
                branches=branches,
                serial_start=serial,
                progress=progress.update,
            )
            progress.close()
            self._report(call, applications, Path(out))

    def _report(self, call, applications, out: Path):
        folder = out / f"call-{call.pk}-{call.program_slug}"
        folder.mkdir(parents=True, exist_ok=True)
        documents = Document.objects.filter(call=call)
        for document in documents:
            name = f"{document.kind}-{document.application_id or 'batch'}.pdf"
            with document.file.open("rb") as source, open(folder / name, "wb") as target:
                shutil.copyfileobj(source, target)
            if document.application_id is None and shutil.which("pdftoppm"):
                # The batch decision's first page as a PNG, for a person to look at the layout.
                subprocess.run(
                    [
                        "pdftoppm",
                        "-png",
                        "-r",
                        "80",
                        "-f",
                        "1",
                        "-l",
                        "1",
                        "-singlefile",
                        str(folder / name),
                        str(folder / f"{document.kind}-page1"),
                    ],
                    check=False,
                )
        by_status: dict[str, int] = {}
        for application in Application.objects.filter(pk__in=[a.pk for a in applications]):
            label = application.get_status_display()
            by_status[label] = by_status.get(label, 0) + 1
        self.stdout.write(self.style.SUCCESS(f"{len(applications)} applications in {call.title}:"))
        for label, n in sorted(by_status.items()):
            self.stdout.write(f"  {label}: {n}")
        self.stdout.write(f"  {documents.count()} PDFs written to {folder}")
