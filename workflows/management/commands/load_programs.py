"""Store the current version of every program file and create the role groups."""

from django.core.management.base import BaseCommand, CommandError

from workflows.permissions import roles_sync
from workflows.programs import programs_read
from workflows.services import program_version_current


class Command(BaseCommand):
    help = "Validate config/programs/*.toml, store each file's current version, sync role groups."

    def handle(self, *args, **options):
        programs, problems = programs_read()
        if problems:
            raise CommandError("\n".join(str(p) for p in problems))
        for program in programs:
            version = program_version_current(slug=program.slug)
            self.stdout.write(f"{program.source}: {program.content['title']['zh']} @ {version}")
        roles_sync()
        self.stdout.write("Role groups are up to date.")
