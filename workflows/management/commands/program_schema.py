"""`manage.py program_schema [--out FILE]`: the JSON Schema of program files (`make schema`
writes config/programs/program.schema.json), for editors that complete and check TOML keys."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from workflows.programs.schema import program_json_schema


class Command(BaseCommand):
    help = "Write the JSON Schema of program files."

    def add_arguments(self, parser):
        parser.add_argument("--out", help="file to write (default: standard output)")

    def handle(self, *args, out=None, **options):
        text = json.dumps(program_json_schema(), ensure_ascii=False, indent=2) + "\n"
        if out:
            Path(out).write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote {out}")
        else:
            self.stdout.write(text, ending="")
