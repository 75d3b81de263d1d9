"""`make demo`: every program file in config/programs/, whatever its stages, run through every
branch by the rehearsal machinery (workflows.rehearsal) on the development database, several
applications per branch in one call per program as a real round would have; the PDFs copied to
a folder, with each batch decision's first page as a PNG for a person to look at."""

import shutil
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone
from tqdm import tqdm

from documents.models import Document
from workflows import demo
from workflows.models import Application, NoticePeriodChange, Notification, PublicNotice
from workflows.programs import programs_loaded
from workflows.rehearsal import branches_plan, rehearse
from workflows.services import program_version_current


class Command(BaseCommand):
    help = "Run every branch of every program file (about N applications each); copy the PDFs."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=50, help="applications per program")
        parser.add_argument("--out", default="var/demo")

    def handle(self, *args, count, out, **options):
        panel_sizes = [
            stage["panel_size"]
            for program in programs_loaded().values()
            for stage in program.content["stages"]
            if stage["type"] == "expert_review"
        ]
        cast = demo.cast_make(expert_count=max([demo.DEMO_EXPERTS, *(n + 3 for n in panel_sizes)]))
        stamp = f"{timezone.localtime():%Y-%m-%d %H:%M:%S}"
        failed = []
        messages_before = Notification.objects.order_by("-pk").values_list("pk", flat=True)
        messages_before = messages_before.first() or 0
        self.kinds_seen: set[tuple[str, str]] = set()
        self.written: dict[str, int] = {}
        for slug in programs_loaded():
            content = program_version_current(slug=slug).content
            branches = len(branches_plan(content))
            per_branch = max(1, count // branches)
            with tqdm(total=len(content["stages"]) - 1, desc=slug, unit="stage") as bar:
                result = rehearse(
                    cast=cast,
                    slug=slug,
                    per_branch=per_branch,
                    one_call=True,
                    title=f"{content['title']['zh']}（演示 {stamp}）",
                    serial_start=100000 + Application.objects.count() + 1,
                    progress=lambda _stage, bar=bar: bar.update(1),
                )
            self._report(result, Path(out))
            _notice_periods_closed(result["calls"], cast.notice_officer)
            failed += [row for row in result["branches"] if row["failure"]]
        self.stdout.write(self.style.SUCCESS("Documents written, by kind:"))
        for label, n in sorted(self.written.items(), key=lambda item: -item[1]):
            self.stdout.write(f"  {label}: {n}")
        self._messages_report(messages_before)
        if failed:
            raise CommandError(f"{len(failed)} applications did not reach an end.")

    def _messages_report(self, after_pk: int):
        """The messages the demo sent (services.notifications), by kind, and how many of them
        went by email (demo users have no address unless one was added)."""
        sent = Notification.objects.filter(pk__gt=after_pk)
        by_kind = dict(sent.values_list("kind").annotate(n=Count("pk")))
        self.stdout.write(self.style.SUCCESS(f"Notifications sent: {sum(by_kind.values())}"))
        for kind, label in Notification.Kind.choices:
            self.stdout.write(f"  {label} ({kind}): {by_kind.get(kind, 0)}")
        self.stdout.write(f"  emailed: {sent.filter(emailed_at__isnull=False).count()}")

    def _report(self, result: dict, out: Path):
        folder = out / f"call-{result['calls'][0]}-{result['program']}"
        folder.mkdir(parents=True, exist_ok=True)
        documents = Document.objects.filter(call_id__in=result["calls"]).order_by("pk")
        kinds: dict[str, int] = {}
        for document in documents:
            first_of_its_kind = document.kind not in {kind for kind, _label in self.kinds_seen}
            label = document.get_kind_display()
            kinds[label] = kinds.get(label, 0) + 1
            self.kinds_seen.add((document.kind, str(label)))
            name = f"{document.kind}-{document.application_id or 'batch'}.pdf"
            with document.file.open("rb") as source, open(folder / name, "wb") as target:
                shutil.copyfileobj(source, target)
            if first_of_its_kind and shutil.which("pdftoppm"):
                # The first pages of one document of each kind as PNG, for a person to look at.
                subprocess.run(
                    ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "2"]
                    + [str(folder / name), str(folder / f"{document.kind}-page")],
                    check=False,
                )
        by_end: dict[str, int] = {}
        for row in result["branches"]:
            by_end[row["end"]] = by_end.get(row["end"], 0) + 1
        self.stdout.write(
            self.style.SUCCESS(
                f"{result['title']}: {len(result['branches'])} applications, "
                f"{result['seconds']} s ({' → '.join(result['stages'])})"
            )
        )
        for label, n in sorted(by_end.items()):
            self.stdout.write(f"  {label}: {n}")
        for label, n in sorted(kinds.items()):
            self.stdout.write(f"  {label}: {n}")
            self.written[label] = self.written.get(label, 0) + n
        self.stdout.write(f"  {documents.count()} PDFs written to {folder}")


def _notice_periods_closed(call_ids: list[int], officer) -> None:
    """The rehearsal lets a notice's timer fire at once and keeps the notice's legal dates for its
    report, so the public notice of a demo call read as open (提出异议 on every row) while its
    applications were already decided. In the demo data the period is ended early, on the record
    as the notice officer would end it (原截止时间 → 新截止时间, with the reason)."""
    now = timezone.now()
    for notice in PublicNotice.objects.filter(call_id__in=call_ids, ends_at__gt=now):
        if notice.applications.filter(status=Application.Status.IN_NOTICE).exists():
            continue
        NoticePeriodChange.objects.create(
            notice=notice,
            kind=NoticePeriodChange.Kind.END_EARLY,
            old_ends_at=notice.ends_at,
            new_ends_at=now,
            reason="演示数据：名单上的申报均已办结，公示期提前结束。",
            changed_by=officer,
        )
        notice.ends_at = now
        notice.save(update_fields=["ends_at"])
