"""`manage.py program_rehearse <slug or file.toml>`: synthetic applications through every branch
of a program file on a throw-away database (workflows.rehearsal); exits non-zero when a branch
cannot reach an end or the file is refused."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from workflows import demo
from workflows.permissions import roles_sync
from workflows.programs import program_get, programs_loaded
from workflows.rehearsal import rehearse, rehearse_isolated, report_lines


class Command(BaseCommand):
    help = "Rehearse a program file: every branch, on a throw-away database."

    def add_arguments(self, parser):
        parser.add_argument("program", help="a program's slug, or the path of a .toml file")
        parser.add_argument("--per-branch", type=int, default=1, help="applications per branch")
        parser.add_argument("--json", help="also write the report to this file as JSON")
        parser.add_argument(
            "--here", action="store_true", help="run in this database (the throw-away process)"
        )

    def handle(self, *args, program, per_branch, json: str | None, here: bool, **options):
        if here:
            result = self._here(program, per_branch)
        else:
            path = Path(program)
            if not path.suffix == ".toml":
                path = Path(settings.PROGRAMS_DIR) / f"{program}.toml"
            if not path.exists():
                raise CommandError(f"No program file {path}.")
            result = rehearse_isolated(path, per_branch=per_branch)
            for line in report_lines(result):
                self.stdout.write(line)
        if json:
            Path(json).write_text(_dumps(result), encoding="utf-8")
        if not result["ok"]:
            raise CommandError(f"The rehearsal of {result['program']} failed.", returncode=1)

    def _here(self, slug: str, per_branch: int) -> dict:
        call_command("migrate", verbosity=0, interactive=False)
        roles_sync()
        if slug not in programs_loaded():
            raise CommandError(f"No valid program {slug!r} in {settings.PROGRAMS_DIR}.")
        cast = demo.cast_make(expert_count=_experts_needed(program_get(slug).content), logins=False)
        return rehearse(cast=cast, slug=slug, per_branch=per_branch)


def _experts_needed(content: dict) -> int:
    sizes = [s["panel_size"] for s in content["stages"] if s["type"] == "expert_review"]
    return max([demo.DEMO_EXPERTS, *(size + 3 for size in sizes)])


def _dumps(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2, default=str)
