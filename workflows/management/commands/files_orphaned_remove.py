"""`manage.py files_orphaned_remove [--dry-run]`: remove stored uploads and PDFs that no row
names (left behind by a transaction that rolled back after storing them), once they are more
than an hour old (workflows.services.files). Run it daily from cron."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from workflows.services.files import orphaned_files_remove


class Command(BaseCommand):
    help = "Remove stored files no row refers to (older than an hour)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List the files, remove nothing."
        )

    def handle(self, *args, **options):
        names = orphaned_files_remove(dry_run=options["dry_run"])
        for name in names:
            self.stdout.write(name)
        message = (
            _("找到%(n)d个无记录引用的文件（未删除）。")
            if options["dry_run"]
            else _("已删除%(n)d个无记录引用的文件。")
        )
        self.stdout.write(message % {"n": len(names)})
