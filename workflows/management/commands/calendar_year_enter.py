"""`manage.py calendar_year_enter <file.toml>`: enter a year's statutory holidays and make-up
working days from the State Council's notice (format: config/calendar/holidays-template.toml);
every provisional deadline is recomputed, never to an earlier date."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from workflows.services.deadlines import calendar_year_enter, year_file_read


class Command(BaseCommand):
    help = "Enter a year's holidays and make-up working days; recompute provisional deadlines."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the year's file (see config/calendar/)")

    def handle(self, *args, file, **options):
        try:
            arrangement = year_file_read(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValidationError) as error:
            messages = getattr(error, "messages", [str(error)])
            raise CommandError("\n".join(messages)) from error
        year, recomputed = calendar_year_enter(user=None, arrangement=arrangement)
        self.stdout.write(
            f"{year.year}: {year.days.filter(kind='holiday').count()} holidays, "
            f"{year.days.filter(kind='workday').count()} make-up working days ({year.source})"
        )
        self.stdout.write(f"{len(recomputed)} provisional deadlines recomputed:")
        for item in recomputed:
            later = "" if item.given == item.computed else " (kept: the new date is earlier)"
            self.stdout.write(
                f"  {item.what}: {timezone.localtime(item.old):%Y-%m-%d} -> "
                f"{timezone.localtime(item.given):%Y-%m-%d}{later}"
            )
