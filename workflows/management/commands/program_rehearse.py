"""`manage.py program_rehearse <slug or file.toml>`: synthetic applications through every branch
of a program file on a throw-away database (workflows.rehearsal); exits non-zero when a branch
cannot reach an end or the file is refused."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from workflows import demo
from workflows.permissions import roles_sync
from workflows.programs import program_get, programs_loaded
from workflows.rehearsal import rehearse, rehearse_isolated_many, report_lines


class Command(BaseCommand):
    help = "Rehearse a program file: every branch, on a throw-away database."

    def add_arguments(self, parser):
        parser.add_argument("programs", nargs="+", help="programs' slugs, or paths of .toml files")
        parser.add_argument("--per-branch", type=int, default=1, help="applications per branch")
        parser.add_argument("--json", help="also write the reports to this file (a JSON list)")
        parser.add_argument(
            "--here", action="store_true", help="run in this database (the throw-away process)"
        )
        parser.add_argument(
            "--language", help="the report's language (zh-hans, en); the site's default if none"
        )

    def handle(
        self, *args, programs, per_branch, json: str | None, here: bool, language, **options
    ):
        if language:
            translation.activate(language)
        if here:
            results = self._here(programs, per_branch)
            if not json:  # run by hand (the isolated runner reads the JSON and prints itself)
                for result in results:
                    for line in report_lines(result):
                        self.stdout.write(line)
        else:
            paths = []
            for program in programs:
                path = Path(program)
                if not path.suffix == ".toml":
                    path = Path(settings.PROGRAMS_DIR) / f"{program}.toml"
                if not path.exists():
                    raise CommandError(f"No program file {path}.")
                paths.append(path)
            results = rehearse_isolated_many(paths, per_branch=per_branch, language=language)
            for result in results:
                for line in report_lines(result):
                    self.stdout.write(line)
        if json:
            Path(json).write_text(_dumps(results), encoding="utf-8")
        failed = [result["program"] for result in results if not result["ok"]]
        if failed:
            raise CommandError(f"The rehearsal of {', '.join(failed)} failed.", returncode=1)

    def _here(self, slugs: list[str], per_branch: int) -> list[dict]:
        call_command("migrate", verbosity=0, interactive=False)
        roles_sync()
        missing = [slug for slug in slugs if slug not in programs_loaded()]
        if missing:
            raise CommandError(f"No valid program {missing} in {settings.PROGRAMS_DIR}.")
        contents = [program_get(slug).content for slug in slugs]
        cast = demo.cast_make(expert_count=max(map(_experts_needed, contents)), logins=False)
        serial = 1
        results = []
        for slug in slugs:
            result = rehearse(cast=cast, slug=slug, per_branch=per_branch, serial_start=serial)
            results.append({"source": Path(program_get(slug).source).name, **result})
            serial += 1000
        return results


def _experts_needed(content: dict) -> int:
    sizes = [s["panel_size"] for s in content["stages"] if s["type"] == "expert_review"]
    return max([demo.DEMO_EXPERTS, *(size + 3 for size in sizes)])


def _dumps(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2, default=str)
