"""A scripted batch through every branch of every program, with a progress bar; PDFs to a folder."""

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from documents.models import Document
from workflows import demo
from workflows.models import Application


class Command(BaseCommand):
    help = "Run N applications through every branch and copy the issued PDFs to --out."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=50)
        parser.add_argument("--out", default="var/demo")

    def handle(self, *args, count, out, **options):
        cast = demo.cast_make()
        call = demo.call_make(title=f"演示批次 {timezone.localtime():%Y-%m-%d %H:%M:%S}")
        branches = [demo.BRANCHES[i % len(demo.BRANCHES)] for i in range(count)]
        serial = 100000 + call.pk * 1000
        progress = tqdm(total=count, desc="lifecycles", unit="app")
        # One call is one batch: applications share the leadership meeting, notice and decision.
        applications = demo.batch_run(
            cast=cast, call=call, branches=branches, serial_start=serial, progress=progress.update
        )
        progress.close()
        folder = Path(out) / f"call-{call.pk}"
        folder.mkdir(parents=True, exist_ok=True)
        documents = Document.objects.filter(call=call)
        for document in tqdm(documents, desc="PDFs", unit="pdf"):
            name = f"{document.kind}-{document.application_id or 'batch'}.pdf"
            with document.file.open("rb") as source, open(folder / name, "wb") as target:
                shutil.copyfileobj(source, target)
        by_status = {}
        for application in Application.objects.filter(pk__in=[a.pk for a in applications]):
            label = application.get_status_display()
            by_status[label] = by_status.get(label, 0) + 1
        self.stdout.write(self.style.SUCCESS(f"{count} applications in {call.title}:"))
        for label, n in sorted(by_status.items()):
            self.stdout.write(f"  {label}: {n}")
        self.stdout.write(f"{documents.count()} PDFs written to {folder}")
