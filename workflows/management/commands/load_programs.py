"""Store the current version of every program file and create the role groups."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import OperationalError, ProgrammingError

from workflows.permissions import roles_sync
from workflows.programs import programs_read
from workflows.services import program_version_current


class Command(BaseCommand):
    help = "Validate config/programs/*.toml, store each file's current version, sync role groups."

    def handle(self, *args, **options):
        programs, problems = programs_read()
        if problems:
            raise CommandError("\n".join(str(p) for p in problems))
        self._database_migrated()
        for program in programs:
            version = program_version_current(slug=program.slug)
            self.stdout.write(f"{program.source}: {program.content['title']['zh']} @ {version}")
        roles_sync()
        self.stdout.write("Role groups are up to date.")

    def _database_migrated(self) -> None:
        """Refuse, before writing anything, a database without the tables the versions and the
        role groups go into (never migrated, or migrations not yet applied)."""
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except (OperationalError, ProgrammingError) as error:
            raise CommandError(f"Cannot read the database: {error}") from error
        if pending:
            raise CommandError(
                f"The database is not up to date ({len(pending)} migrations not applied): "
                "run `manage.py migrate` first."
            )
