"""System checks run at start-up: every program file must be valid, or the server does not start."""

from django.core.checks import Error, register

from .programs import programs_read


@register("programs")
def program_files_check(app_configs, **kwargs):
    _programs, problems = programs_read()
    return [
        Error(
            f"Program file {problem.source}, key {problem.key!r}: {problem.message}",
            hint="Fix the file in config/programs/ (see the README's program-file section).",
            id="workflows.E001",
        )
        for problem in problems
    ]
