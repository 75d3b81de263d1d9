"""System checks run at start-up: every program file must be valid, and no stage that applications
are sitting in may have been removed from its file; otherwise the server does not start."""

from collections import defaultdict

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.db import models
from django.db.models.functions import Cast
from django.db.utils import OperationalError, ProgrammingError

from .programs import programs_loaded, programs_read


@register("programs")
def program_files_check(app_configs, **kwargs):
    _programs, problems = programs_read()
    return [
        Error(
            f"Program file {problem.source}"
            + (f", line {problem.line}" if problem.line else "")
            + f", key {problem.key!r}: {problem.message}",
            hint="Fix the file in config/programs/ (see the README's program-file section).",
            id="workflows.E001",
        )
        for problem in problems
    ]


def _open_tasks() -> list[tuple[str, int, str, int]]:
    """(stored node reference, application id, program slug, program version id) of every task
    still waiting, running or scheduled, in one query.

    The node reference is read as stored ("workflows/flows.<Flow>.<node>"): viewflow's field would
    resolve a missing node to an `Obsolete` one and cache the lookup for the process's lifetime.
    """
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    return list(
        Task.objects.filter(
            status__in=[
                STATUS.NEW,
                STATUS.ASSIGNED,
                STATUS.SCHEDULED,
                STATUS.STARTED,
                STATUS.ERROR,
            ],
            process__application__isnull=False,
        )
        .annotate(node_ref=Cast("flow_task", models.CharField()))
        .values_list(
            "node_ref",
            "process__application__id",
            "process__application__call__program_slug",
            "process__application__program_version_id",
        )
        .order_by()
    )


def _stage_of_node(content: dict, node_name: str) -> str | None:
    """The stage type that defines `node_name` in a program version's stage list."""
    from .stages import STAGE_TYPES, stage_module

    for stage in content.get("stages", []):
        if stage.get("type") not in STAGE_TYPES:
            continue
        if node_name in stage_module(stage["type"], "flow").build(stage, None)[1]:
            return stage["type"]
    return None


@register("programs")
def stages_in_use_check(app_configs, **kwargs):
    """Removing a stage from a program file while applications sit in it is refused, naming them:
    applications finish under the program version they began, so their nodes must still exist.

    One query for the open tasks, and one more for the program versions only when some task's node
    is gone. Before the first `migrate` there are no tables yet: nothing to check then.
    """
    from . import flows
    from .models import ProgramVersion

    try:
        tasks = _open_tasks()
    except (OperationalError, ProgrammingError):
        return []
    stranded: dict[tuple[str, str], set[int]] = defaultdict(set)
    versions: dict[tuple[str, str], set[int]] = defaultdict(set)
    for node_ref, application_id, slug, version_id in tasks:
        node_name = (node_ref or "").rsplit(".", 1)[-1]
        flow_class = flows.FLOWS.get(slug)
        if flow_class is not None and flow_class.instance.node(node_name, no_obsolete=True):
            continue
        stranded[slug, node_name].add(application_id)
        versions[slug, node_name].add(version_id)
    if not stranded:
        return []

    contents = dict(
        ProgramVersion.objects.filter(
            pk__in={pk for pks in versions.values() for pk in pks}
        ).values_list("pk", "content")
    )
    loaded = programs_loaded()
    errors = []
    for (slug, node_name), application_ids in sorted(stranded.items()):
        source = loaded[slug].source if slug in loaded else f"{slug}.toml"
        stages = {
            _stage_of_node(contents[pk], node_name)
            for pk in versions[slug, node_name]
            if pk in contents
        } - {None}
        stage = " / ".join(sorted(stages)) or "?"
        ids = ", ".join(f"#{pk}" for pk in sorted(application_ids))
        if slug in flows.FLOWS:
            where = f"stage {stage!r} (task {node_name!r}) is no longer in the file"
        else:
            where = f"the file is missing or invalid, and its stage {stage!r} (task {node_name!r})"
            where += " cannot run"
        errors.append(
            Error(
                f"Program file {source}: {where}, but applications are waiting in it: {ids}.",
                hint=(
                    "Applications finish under the program version they began. Put the stage "
                    "back until these applications have left it, then remove it."
                ),
                id="workflows.E002",
            )
        )
    return errors


@register("programs")
def holiday_calendar_check(app_configs, **kwargs):
    """From 1 October, the next year's holidays must be entered; and any year a provisional
    deadline reaches."""
    from .services.deadlines import calendar_years_missing

    try:
        missing = calendar_years_missing()
    except (OperationalError, ProgrammingError):
        return []
    return [
        Warning(
            f"The statutory holidays of {year} are not entered: working-day deadlines that reach "
            f"{year} count Monday to Friday and are marked provisional (暂定).",
            hint="Enter the State Council's arrangement: manage.py calendar_year_enter <file> "
            "(format: config/calendar/holidays-template.toml) or the staff page /calendar/.",
            id="workflows.W003",
        )
        for year in missing
    ]


@register("security", deploy=True)
def second_factor_deploy_check(app_configs, **kwargs):
    """`check --deploy`: staff and experts must not log in without their second factor."""
    if settings.OTP_REQUIRED and not settings.OTP_SKIP_USERNAMES:
        return []
    return [
        Warning(
            "The second factor is not required of every staff member and expert "
            f"(OTP_REQUIRED={settings.OTP_REQUIRED}, OTP_SKIP_USERNAMES="
            f"{settings.OTP_SKIP_USERNAMES!r}).",
            hint="Production sets OTP_REQUIRED = True and OTP_SKIP_USERNAMES = [] (prod.py).",
            id="workflows.W013",
        )
    ]


@register("programs")
def issuer_seals_check(app_configs, **kwargs):
    """Where seals are configured, every issuer a program names (a joint one too) has one: an
    issuer left out gets its documents without a seal, beside others that have theirs."""
    seals = getattr(settings, "DOCUMENT_SEALS", {}) or {}
    if not seals:
        return []  # no seals at all: documents carry the electronic signature only
    warnings = []
    # Read afresh, as the file check reads them: the process's cache is not filled from a
    # folder a check was run against.
    programs, _problems = programs_read()
    for program in programs:
        issuer = program.content["issuer"]
        names = [issuer["name"], *(other["name"] for other in issuer.get("joint") or [])]
        for name in names:
            if name not in seals:
                warnings.append(
                    Warning(
                        f"Program {program.slug!r}: the issuer {name!r} has no seal in "
                        "DOCUMENT_SEALS; its documents are issued without one.",
                        hint="Add the seal image of that name to DOCUMENT_SEALS, or correct the "
                        "name in the program file's [issuer] to match the configured one.",
                        id="workflows.W014",
                    )
                )
    return warnings
