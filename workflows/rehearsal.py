"""Rehearsing a program: synthetic applications through every branch of its file, in the file's
own stage order, as its users would take them (through the services).

A branch is one outcome of one stage with every other stage passing: the path on which
everything passes, and for each stage each other outcome its type can give (a correction, a
refusal, a lapse, no recommendation, a recusal, not reaching the next round, a rejection, an
objection upheld or dismissed, no award). Each stage type's package says which outcomes it has
and how a person brings each about (`stages/<type>/rehearsal.py`); this module plans the
branches, makes one institution and application per branch, walks the stages in order, and
reports where each application ended, the documents it was issued (with their numbers) and the
deadlines computed. An application whose process is still running at the end did not reach an
end: it is reported with the stage where it stopped, and the rehearsal fails.

`manage.py program_rehearse` runs it on a throw-away database; `make demo` runs it on the
development database for every program file, several applications per branch.
"""

import io
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from documents.models import Document
from documents.services import documents_render_pending
from forms.validators import localised

from . import demo, services
from .flows import local_name
from .models import Application, Call, OfficeRegion
from .programs import stage_key
from .stages import stage_module

PASSING = pgettext_lazy("rehearsal branch", "全部通过")
# An application that ends with one of these did not pass; a branch on which everything passes
# must end with none of them.
ADVERSE_ENDS = {"refused", "lapsed", "not_recommended", "not_advanced", "rejected", "withdrawn"}


@dataclass
class Entry:
    """One synthetic application, the outcome planned for it at each stage, and the status it
    must end with (None: any status that is not an adverse end)."""

    branch: str
    plan: dict
    expect: str | None = None
    companion: bool = False  # only there so that a round has someone to rank above the branch
    application: Application | None = None
    error: str = ""
    error_stage: str = ""


@dataclass
class Run:
    """What the stage packages' rehearsal steps are given: the cast, the call, the program."""

    cast: demo.Cast
    call: Call
    program: dict
    entries: list[Entry] = field(default_factory=list)

    def user_for(self, role: str, application=None):
        """The cast's user of a role (a stage's `role` parameter); for a city office acting on an
        application, the office of the application's region."""
        if role == "city_office" and application is not None:
            prefix = application.institution.region_code[:4]
            return self.cast.city_offices.get(prefix, self.cast.city_office)
        return getattr(self.cast, role)

    def waiting(self, stage: dict, local: str | None = None) -> list[Entry]:
        """The entries whose application waits at a task of `stage` (at its node `local`, when
        given), in entry order."""
        key = stage_key(stage)
        waiting = set()
        tasks = Task.objects.filter(
            process__application__call=self.call,
            status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.SCHEDULED],
        ).values_list("process__application__id", "flow_task")
        for application_id, node in tasks:
            if node is not None and getattr(node, "stage_key", None) == key:
                if local is None or local_name(node) == local:
                    waiting.add(application_id)
        return [e for e in self.entries if e.application and e.application.pk in waiting]

    def outcome(self, entry: Entry, stage: dict) -> str:
        return entry.plan.get(stage_key(stage), "")


def stage_name(stage: dict) -> str:
    """How the report names a stage: its own name, else its type's, with its key when it has one
    of its own."""
    module = stage_module(stage["type"], "rehearsal")
    name = stage.get("name") or (str(module.NAME) if module else stage["type"])
    key = stage_key(stage)
    return name if key == stage["type"] else f"{name}（{key}）"


def branches_plan(program: dict, per_branch: int = 1) -> list[Entry]:
    """The branches of a program: everything passes; then each other outcome of each stage."""
    stages = program["stages"]
    outcomes = {
        stage_key(s): list(stage_module(s["type"], "rehearsal").outcomes(s, program))
        for s in stages
    }
    passing = {key: options[0][0] for key, options in outcomes.items()}
    plans = [(str(PASSING), passing, None)]
    for stage in stages:
        key = stage_key(stage)
        ends = stage_module(stage["type"], "rehearsal").ENDS
        for outcome, label in outcomes[key][1:]:
            plans.append(
                (
                    _("%(stage)s：%(outcome)s") % {"stage": stage_name(stage), "outcome": label},
                    {**passing, key: outcome},
                    ends.get(outcome),
                )
            )
    return [
        Entry(branch=label, plan=dict(plan), expect=expect)
        for label, plan, expect in plans
        for _n in range(per_branch)
    ]


def calls_plan(program: dict, entries: list[Entry]) -> list[list[Entry]]:
    """One call per branch, so that no quota of one branch cuts another's path; a branch that
    must fall short of a round passing its best N comes with N applications that pass it."""
    groups = []
    for entry in entries:
        group = [entry]
        for stage in program["stages"]:
            if entry.plan.get(stage_key(stage)) == "not_advanced":
                passing = {
                    key: value for key, value in entry.plan.items() if key != stage_key(stage)
                }
                passing[stage_key(stage)] = "score"
                companion = _("%(branch)s（对照）") % {"branch": entry.branch}
                group += [
                    Entry(branch=companion, plan=passing, companion=True)
                    for _n in range(stage["advance_top"])
                ]
        groups.append(group)
    return groups


# --- synthetic applicants ---------------------------------------------------------------------


def region_codes(program: dict, cast: demo.Cast) -> list[str]:
    """Region codes the program accepts (its eligibility's prefix), each with a city office."""
    prefix = program["eligibility"].get("region_prefix") or ""
    codes = [code for code in demo.DEMO_CITIES if code.startswith(prefix)]
    if not codes:
        codes = [(prefix + "0" * 6)[:6] if len(prefix) < 4 else (prefix + "00")[:6]]
    for code in codes:
        if code[:4] not in cast.city_offices:
            user = demo.user_make(
                f"office{code}", "city_office", f"{code}市州局（预演）", login=False
            )
            OfficeRegion.objects.get_or_create(
                user=user, defaults={"region_code": code, "name": f"{code}市州局"}
            )
            cast.city_offices[code[:4]] = user
    return codes


def applications_make(run: Run, serial_start: int) -> None:
    """One institution and one submitted application per entry."""
    codes = region_codes(run.program, run.cast)
    turns = _turns(run.entries)
    for n, entry in enumerate(run.entries):
        institution = demo.institution_make(
            user=run.cast.applicant,
            serial=serial_start + n,
            # The first applications of the branches spread over the cities, then the second…:
            # when a round has more applications than the cities have places, each city has
            # few branches to give its places to (see city_recommendation's rehearsal).
            region_code=codes[turns[n] % len(codes)],
            name=f"预演申报单位{serial_start + n}号",
        )
        application = services.application_create(
            user=run.cast.applicant,
            call=run.call,
            institution=institution,
            data=demo.field_answers(run.program, run.call, institution, serial_start + n - 1),
        )
        for attachment in run.program["attachments"]:
            services.attachment_add(
                user=run.cast.applicant,
                application=application,
                kind=attachment["key"],
                upload=demo.pdf_upload(f"{attachment['key']}.pdf"),
            )
        services.application_submit(user=run.cast.applicant, application=application)
        entry.application = application


def _turns(entries: list[Entry]) -> list[int]:
    """Each entry's place when the entries are taken in turns over their branches (the first of
    each branch, then the second…)."""
    seen: dict[str, int] = {}
    keys = []
    for position, entry in enumerate(entries):
        seen[entry.branch] = seen.get(entry.branch, -1) + 1
        keys.append((seen[entry.branch], position))
    order = sorted(range(len(entries)), key=keys.__getitem__)
    turns = [0] * len(entries)
    for turn, index in enumerate(order):
        turns[index] = turn
    return turns


# --- clocks ---------------------------------------------------------------------------------------


def timers_fire(call: Call, **moved) -> None:
    """Let viewflow's timers of the call fire now (what cron does when their time comes)."""
    past = timezone.now() - timedelta(seconds=1)
    Task.objects.filter(process__application__call=call, status=STATUS.SCHEDULED, **moved).update(
        scheduled=past
    )
    call_command("workflow_timers", stdout=io.StringIO())


# --- the run --------------------------------------------------------------------------------------


def rehearse(
    *,
    cast: demo.Cast,
    slug: str,
    per_branch: int = 1,
    one_call: bool = False,
    title: str = "",
    serial_start: int = 1,
    progress=None,
    passing_only: bool = False,
) -> dict:
    """Every branch of the program, from draft to its end; the report (see `report`).

    By default each branch runs in a call of its own (`calls_plan`) and must end as planned;
    with `one_call` (the demo), every branch shares one call, as a real round would, and
    quotas may turn a branch from its plan. With `passing_only`, only the path on which
    everything passes, `per_branch` times (the benchmark)."""
    started = time.monotonic()
    program = services.program_version_current(slug=slug).content
    entries = branches_plan(program, per_branch)
    if passing_only:
        entries = [entry for entry in entries if entry.branch == PASSING]
    groups = [entries] if one_call else calls_plan(program, entries)
    runs = []
    serial = serial_start
    for group in groups:
        call = demo.call_make(slug=slug, title=title or f"{program['title']['zh']}（预演）")
        run = Run(cast=cast, call=call, program=program, entries=group)
        applications_make(run, serial)
        serial += len(group)
        _stages_walk(run, progress)
        runs.append(run)
    return report(runs, time.monotonic() - started, check_plan=not one_call)


def _stages_walk(run: Run, progress=None) -> None:
    for stage in run.program["stages"][1:]:
        module = stage_module(stage["type"], "rehearsal")
        waiting = run.waiting(stage)
        if not waiting:
            continue
        try:
            module.rehearse(run, stage, waiting)
        except Exception as error:  # reported: the branch stops at this stage
            for entry in run.waiting(stage) or waiting:
                entry.error = f"{type(error).__name__}: {error}"
                entry.error_stage = stage_name(stage)
        _documents_render(run, stage)
        if progress:
            progress(stage_name(stage))


def _documents_render(run: Run, stage: dict) -> None:
    """Render here the PDFs of the documents the stage issued (a background job would; a
    rehearsal has no worker), so that a document that does not render fails its branch at the
    stage that issued it."""
    pending = dict(
        Document.objects.filter(call=run.call, rendered_at__isnull=True).values_list(
            "pk", "application_id"
        )
    )
    failed = documents_render_pending(pending)
    if not failed:
        return
    entries = {entry.application.pk: entry for entry in run.entries if entry.application}
    for document_id, error in failed.items():
        entry = entries.get(pending[document_id])
        for failing in [entry] if entry is not None else run.entries:
            if not failing.error:
                failing.error = f"PDF: {error}"
                failing.error_stage = stage_name(stage)


def report(runs: list[Run], seconds: float, check_plan: bool = True) -> dict:
    rows = [_row(run, entry, check_plan) for run in runs for entry in run.entries]
    calls = [run.call for run in runs]
    batch_documents = [
        {"kind": str(d.get_kind_display()), "title": d.title, "number": d.number}
        for d in Document.objects.filter(call__in=calls, application__isnull=True).order_by("pk")
    ]
    program = runs[0].program
    return {
        "program": runs[0].call.program_slug,
        "title": localised(program["title"]),  # in the language of the report
        "calls": [call.pk for call in calls],
        "stages": [stage_name(s) for s in program["stages"]],
        "branches": rows,
        "batch_documents": batch_documents,
        "ok": all(not row["failure"] for row in rows),
        "seconds": round(seconds, 1),
    }


def _row(run: Run, entry: Entry, check_plan: bool) -> dict:
    application = entry.application
    application.refresh_from_db()
    process = application.process
    ended = process is not None and process.status == PROCESS.DONE
    stopped = "" if ended else entry.error_stage or _stopped_at(run, application)
    failure = ""
    if entry.error:
        failure = f"{entry.error_stage}: {entry.error}"
    elif not ended:
        failure = f"stopped at {stopped}"
    elif check_plan and not entry.companion:
        status = application.status
        if entry.expect and status != entry.expect:
            failure = (
                f"ended as {application.get_status_display()}, planned "
                f"{Application.Status(entry.expect).label}"
            )
        elif not entry.expect and status in ADVERSE_ENDS:
            failure = f"ended as {application.get_status_display()}, planned to pass every stage"
    return {
        "branch": entry.branch,
        "companion": entry.companion,
        "call": run.call.pk,
        "failure": failure,
        "application": application.pk,
        "institution": application.institution.name,
        "ended": ended,
        "end": str(application.get_status_display()),
        "status": application.status,
        "stopped_at": stopped,
        "error": entry.error,
        "documents": [
            {"kind": str(d.get_kind_display()), "title": d.title, "number": d.number}
            for d in Document.objects.filter(application=application).order_by("pk")
        ],
        "deadlines": _deadlines(application),
        "amount": f"¥{application.award_amount:,.2f}" if application.award_amount else "",
    }


def _stopped_at(run: Run, application: Application) -> str:
    tasks = Task.objects.filter(
        process_id=application.process_id,
        status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.SCHEDULED, STATUS.STARTED, STATUS.ERROR],
    )
    for task in tasks:
        node = task.flow_task
        key = getattr(node, "stage_key", None)
        for stage in run.program["stages"]:
            if stage_key(stage) == key:
                return f"{stage_name(stage)}（{node.task_title}）"
    return "—"


def _deadlines(application: Application) -> list[dict]:
    """The deadlines the application met, each marked 暂定 when the calendar of a year it counts
    through was not entered yet (as the pages mark it)."""
    found = []
    if application.correction_deadline:
        found.append(
            {
                "what": str(_("补正期限")),
                "when": _when(
                    application.correction_deadline, application.correction_deadline_provisional
                ),
            }
        )
    if application.public_notice_id:
        notice = application.public_notice
        found.append(
            {"what": str(_("公示截止")), "when": _when(notice.ends_at, notice.ends_provisional)}
        )
    for seat in application.seats.order_by("pk"):
        if seat.due_at:
            found.append(
                {
                    "what": _("专家评审期限（%(expert)s）") % {"expert": seat.expert.name},
                    "when": _when(seat.due_at, seat.due_provisional),
                }
            )
    if application.valid_until:
        found.append({"what": str(_("有效期至")), "when": application.valid_until.isoformat()})
    return found


def _when(moment, provisional: bool = False) -> str:
    when = f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
    return f"{when}（{_('暂定')}）" if provisional else when


# --- on a throw-away database ---------------------------------------------------------------------

# Settings of the process that rehearses (its own SQLite file and media folder, no passwords
# worth hashing); REHEARSAL_SETTINGS overrides them.
REHEARSAL_SETTINGS = "config.settings.dev"


def rehearse_isolated(
    path, *, per_branch: int = 1, timeout: int = 900, language: str | None = None
) -> dict:
    """Rehearse the program file at `path` (see `rehearse_isolated_many`); its report."""
    return rehearse_isolated_many(
        [path], per_branch=per_branch, timeout=timeout, language=language
    )[0]


def rehearse_isolated_many(
    paths, *, per_branch: int = 1, timeout: int = 1800, language: str | None = None
) -> list[dict]:
    """Rehearse the program files at `paths` in one process of their own, on a fresh SQLite
    database and media folder that are thrown away afterwards; a report per file, in order, in
    `language` (the site's default if None). A file the check refuses is not run: its report
    lists the problems."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from django.conf import settings

    from .programs import program_file_read

    reports: dict[Path, dict] = {}
    runnable = {}
    for path in map(Path, paths):
        program, problems = program_file_read(path)
        if program is None:
            reports[path] = {
                "program": path.stem,
                "source": path.name,
                "ok": False,
                "problems": [
                    {"key": p.key, "line": p.line, "message": p.message, "text": str(p)}
                    for p in problems
                ],
                "branches": [],
            }
        else:
            runnable[path] = program
    if runnable:
        with tempfile.TemporaryDirectory(prefix="ipgrants-rehearsal-") as folder:
            folder = Path(folder)
            (folder / "programs").mkdir()
            for path in runnable:
                shutil.copy(path, folder / "programs" / path.name)
            out = folder / "report.json"
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": os.environ.get("REHEARSAL_SETTINGS", REHEARSAL_SETTINGS),
                "DATABASE_URL": f"sqlite:///{folder / 'rehearsal.sqlite3'}",
                # Files on the throw-away folder, whatever storage the site itself uses.
                "MEDIA_ROOT": str(folder / "media"),
                "FILE_STORAGE_BACKEND": "django.core.files.storage.FileSystemStorage",
                "FILE_STORAGE_OPTIONS": json.dumps({"location": str(folder / "media")}),
                "PROGRAMS_DIR": str(folder / "programs"),
            }
            command = [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "program_rehearse",
                *(program.slug for program in runnable.values()),
                "--here",
                "--per-branch",
                str(per_branch),
                "--json",
                str(out),
                *(["--language", language] if language else []),
            ]
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
            results = (
                json.loads(out.read_text(encoding="utf-8"))
                if done.returncode in (0, 1) and out.exists()
                else None
            )
        for n, (path, program) in enumerate(runnable.items()):
            if results is None:
                result = {
                    "program": program.slug,
                    "ok": False,
                    "crashed": (done.stderr or done.stdout).strip()[-4000:],
                    "branches": [],
                }
            else:
                result = results[n]
            reports[path] = {**result, "source": path.name, "sha256": program.sha256}
    return [reports[Path(path)] for path in paths]


def report_lines(result: dict) -> list[str]:
    """The report as a person reads it in a terminal."""
    title = result.get("title") or result["program"]
    if result.get("crashed"):
        return [f"{title} ({result['source']}): the rehearsal stopped:", result["crashed"]]
    if result.get("problems"):
        return [f"{title} ({result['source']}): not rehearsed, the file is refused:"] + [
            f"  {p['text']}" for p in result["problems"]
        ]
    failed = [row for row in result["branches"] if row["failure"]]
    lines = [
        f"{title} ({result['source']}): {len(result['branches'])} branches, "
        f"{len(failed)} failed, {result['seconds']} s",
        "  stages: " + " → ".join(result["stages"]),
    ]
    for row in result["branches"]:
        mark = "FAIL" if row["failure"] else "ok  "
        lines.append(f"  {mark} {row['branch']}: {row['end']}")
        if row["failure"]:
            lines.append(f"       {row['failure']}")
        for document in row["documents"]:
            lines.append(f"       {document['title']} {document['number']}".rstrip())
        for deadline in row["deadlines"]:
            lines.append(f"       {deadline['what']}: {deadline['when']}")
        if row["amount"]:
            lines.append(f"       {_('资助金额')}: {row['amount']}")
    for document in result.get("batch_documents", []):
        lines.append(f"  call: {document['title']} {document['number']}".rstrip())
    return lines
