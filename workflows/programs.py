"""Program files: read `config/programs/*.toml`, validate them, and hand out their content.

A program file is data; nothing here knows a particular program. Validation names the file, the
key and what is wrong, and runs as a Django system check at start-up (`workflows.checks`).
"""

import hashlib
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from django.conf import settings

from forms.validators import localised  # noqa: F401  (program labels; imported from here)

from .permissions import ROLE_TASK_PERMISSION
from .rubric import rubric_problems
from .stages import STAGE_TYPES, stage_module

TOP_LEVEL_KEYS = {
    "slug": True,
    "title": True,
    "policy_basis": True,
    "issuer": True,
    "tiers": False,
    "upgrade": False,
    "rubric": False,
    "eligibility": False,
    "attachments": True,
    "fields": True,
    "stages": True,
}
UPGRADE_RULES = {"top_up", "full", "none"}
FIELD_TYPES = {
    "text",
    "date",
    "tier",
    "bank_account",
    "phone",
    "textarea",
    "declaration",
    "patent_number",
}
# Fields stored in application columns (every program needs them); any other field name goes
# to `Application.extra`.
COLUMN_FIELDS = {
    "tier",
    "patent_number",
    "approval_number",
    "approval_date",
    "bank_name",
    "bank_account",
    "account_name",
    "contact_name",
    "contact_phone",
}
# A program that pays (a disbursement stage) needs tiers with amounts and a bank account.
PAYMENT_FIELDS = {"bank_name", "bank_account", "account_name"}
ELIGIBILITY_KEYS = {
    "designation_in_call_window",
    "region_prefix",
    "max_entries_per_institution",
    "patent_not_awarded_before",
}
SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
ISSUER_KEYS = {"name", "code", "reconsideration_body", "document_codes"}
# 机关代字: the number adds the year in 〔〕 and the sequence, so the code holds neither brackets
# nor digits nor spaces.
ISSUER_CODE_RE = re.compile(r"^[^\s\d〔〕\[\]()（）［］]{1,16}$")


@dataclass(frozen=True)
class ProgramProblem:
    source: str
    key: str
    message: str

    def __str__(self):
        return f"{self.source}: {self.key}: {self.message}"


@dataclass(frozen=True)
class ProgramFile:
    source: str
    sha256: str
    content: dict

    @property
    def slug(self) -> str:
        return self.content["slug"]

    @property
    def flow_class_name(self) -> str:
        return flow_class_name(self.slug)


def flow_class_name(slug: str) -> str:
    """Stable class name for a program's flow: rows in the database refer to it."""
    return "".join(part.capitalize() for part in slug.split("_")) + "Flow"


def _require_table(problems, source, key, value):
    if not isinstance(value, dict):
        problems.append(ProgramProblem(source, key, "must be a table"))
        return False
    return True


def _check_texts(problems, source, key, table, names=("zh", "en")):
    for name in names:
        if not isinstance(table.get(name), str) or not table.get(name):
            problems.append(ProgramProblem(source, f"{key}.{name}", "missing text"))


def _check_unknown(problems, source, key, table, allowed):
    for name in table:
        if name not in allowed:
            where = f"{key}.{name}" if key else name
            problems.append(
                ProgramProblem(source, where, f"unknown key; allowed: {sorted(allowed)}")
            )


def _issuer_check(problems, source, issuer: dict) -> None:
    """Name, default 机关代字 (`code`) and, in `document_codes`, the 机关代字 of any document type
    numbered in a sequence of its own (a type not listed there is numbered under `code`)."""
    from documents.models import Document

    _check_unknown(problems, source, "issuer", issuer, ISSUER_KEYS)
    for name in ("name", "code", "reconsideration_body"):
        if not issuer.get(name):
            problems.append(ProgramProblem(source, f"issuer.{name}", "missing text"))
    codes = {"issuer.code": issuer.get("code")}
    document_codes = issuer.get("document_codes", {})
    if _require_table(problems, source, "issuer.document_codes", document_codes):
        for kind, code in document_codes.items():
            if kind not in Document.Kind.values:
                problems.append(
                    ProgramProblem(
                        source,
                        f"issuer.document_codes.{kind}",
                        f"unknown document type; known: {sorted(Document.Kind.values)}",
                    )
                )
            codes[f"issuer.document_codes.{kind}"] = code
    for key, code in codes.items():
        if code is None or code == "":
            continue  # a missing default code is reported above
        if not isinstance(code, str) or not ISSUER_CODE_RE.match(code):
            problems.append(
                ProgramProblem(
                    source,
                    key,
                    "must be 1 to 16 characters without spaces, brackets or digits, e.g. 黔市监知",
                )
            )


def issuer_code(program: dict, kind: str) -> str:
    """The 机关代字 that numbers documents of `kind` under `program`."""
    issuer = program["issuer"]
    return issuer.get("document_codes", {}).get(kind) or issuer["code"]


def program_validate(content: dict, source: str) -> list[ProgramProblem]:
    """Every problem in one program file's content; an empty list means it is usable."""
    problems: list[ProgramProblem] = []
    for key, required in TOP_LEVEL_KEYS.items():
        if required and key not in content:
            problems.append(ProgramProblem(source, key, "required key is missing"))
    _check_unknown(problems, source, "", content, TOP_LEVEL_KEYS)
    slug = content.get("slug")
    if slug is not None and (not isinstance(slug, str) or not SLUG_RE.match(slug)):
        problems.append(ProgramProblem(source, "slug", "must be lower-case letters, digits, _"))
    if "title" in content and _require_table(problems, source, "title", content["title"]):
        _check_texts(problems, source, "title", content["title"])
    if "policy_basis" in content and _require_table(
        problems, source, "policy_basis", content["policy_basis"]
    ):
        for name in ("document", "clause", "text"):
            if not content["policy_basis"].get(name):
                problems.append(ProgramProblem(source, f"policy_basis.{name}", "missing text"))
    if "issuer" in content and _require_table(problems, source, "issuer", content["issuer"]):
        _issuer_check(problems, source, content["issuer"])

    tier_keys = set()
    for i, tier in enumerate(content.get("tiers") or []):
        key = f"tiers[{i}]"
        if not _require_table(problems, source, key, tier):
            continue
        _check_unknown(problems, source, key, tier, {"key", "zh", "en", "amount", "rank"})
        _check_texts(problems, source, key, tier)
        if not tier.get("key"):
            problems.append(ProgramProblem(source, f"{key}.key", "missing key"))
        tier_keys.add(tier.get("key"))
        if "amount" not in tier:
            problems.append(ProgramProblem(source, f"{key}.amount", "missing amount"))
        else:
            try:
                amount = Decimal(str(tier["amount"]))
                if not isinstance(tier["amount"], str):
                    raise InvalidOperation
                if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                    raise InvalidOperation
            except InvalidOperation:
                problems.append(
                    ProgramProblem(
                        source,
                        f"{key}.amount",
                        'must be a positive amount written as a string, e.g. "300000.00"',
                    )
                )
        if not isinstance(tier.get("rank"), int):
            problems.append(ProgramProblem(source, f"{key}.rank", "must be an integer"))
    if "tiers" in content and not content.get("tiers"):
        problems.append(ProgramProblem(source, "tiers", "at least one tier is needed"))

    upgrade = content.get("upgrade")
    if upgrade is not None and _require_table(problems, source, "upgrade", upgrade):
        if upgrade.get("rule") not in UPGRADE_RULES:
            problems.append(
                ProgramProblem(source, "upgrade.rule", f"must be one of {sorted(UPGRADE_RULES)}")
            )

    eligibility = content.get("eligibility", {})
    if _require_table(problems, source, "eligibility", eligibility):
        _check_unknown(problems, source, "eligibility", eligibility, ELIGIBILITY_KEYS)

    for i, attachment in enumerate(content.get("attachments") or []):
        key = f"attachments[{i}]"
        if _require_table(problems, source, key, attachment):
            _check_unknown(problems, source, key, attachment, {"key", "zh", "en", "required"})
            _check_texts(problems, source, key, attachment)
            if not attachment.get("key"):
                problems.append(ProgramProblem(source, f"{key}.key", "missing key"))

    field_names = set()
    for i, field in enumerate(content.get("fields") or []):
        key = f"fields[{i}]"
        if not _require_table(problems, source, key, field):
            continue
        _check_unknown(
            problems, source, key, field, {"name", "type", "zh", "en", "max_length", "required"}
        )
        _check_texts(problems, source, key, field)
        field_names.add(field.get("name"))
        if field.get("type") not in FIELD_TYPES:
            problems.append(
                ProgramProblem(source, f"{key}.type", f"must be one of {sorted(FIELD_TYPES)}")
            )

    seen_types = []
    for i, stage in enumerate(content.get("stages") or []):
        key = f"stages[{i}]"
        if not _require_table(problems, source, key, stage):
            continue
        stage_type = stage.get("type")
        if stage_type not in STAGE_TYPES:
            problems.append(
                ProgramProblem(
                    source,
                    f"{key}.type",
                    f"unknown stage type {stage_type!r}; known: {sorted(STAGE_TYPES)}",
                )
            )
            continue
        if stage_type in seen_types:
            problems.append(ProgramProblem(source, f"{key}.type", "stage appears twice"))
        seen_types.append(stage_type)
        stage_params = stage_module(stage_type, "params")
        params = stage_params.PARAMS
        _check_unknown(problems, source, key, stage, {"type", *params})
        stage_check = getattr(stage_params, "stage_problems", None)
        if stage_check is not None:
            for name, message in stage_check(stage, content):
                problems.append(ProgramProblem(source, f"{key}.{name}", message))
        for name, (kind, default) in params.items():
            value = stage.get(name, default)
            if value is None:
                problems.append(ProgramProblem(source, f"{key}.{name}", "required parameter"))
            elif kind is str and not isinstance(value, str):
                problems.append(ProgramProblem(source, f"{key}.{name}", "must be a string"))
            elif kind is dict and not isinstance(value, dict):
                problems.append(ProgramProblem(source, f"{key}.{name}", "must be a table"))
            elif kind is int and (
                not isinstance(value, int) or value < 0 or (value == 0 and default != 0)
            ):
                problems.append(
                    ProgramProblem(source, f"{key}.{name}", "must be a positive integer")
                )
            elif isinstance(kind, set) and value not in kind:
                problems.append(
                    ProgramProblem(source, f"{key}.{name}", f"must be one of {sorted(kind)}")
                )
            elif name == "role" and value not in ROLE_TASK_PERMISSION:
                problems.append(
                    ProgramProblem(
                        source,
                        f"{key}.role",
                        f"unknown role; known: {sorted(ROLE_TASK_PERMISSION)}",
                    )
                )
    problems.extend(rubric_problems(content, source))
    if "disbursement" in seen_types:
        if not content.get("tiers"):
            problems.append(ProgramProblem(source, "tiers", "a paying program needs tiers"))
        missing = PAYMENT_FIELDS - field_names
        if missing:
            problems.append(
                ProgramProblem(
                    source, "fields", f"a paying program needs the fields {sorted(missing)}"
                )
            )
    if "stages" in content:
        if not seen_types or seen_types[0] != "application":
            problems.append(
                ProgramProblem(source, "stages", "the first stage must be of type 'application'")
            )
        for stage_type in seen_types:
            earlier = set(seen_types[: seen_types.index(stage_type)])
            for before in stage_module(stage_type, "params").REQUIRES:
                options = before if isinstance(before, tuple) else (before,)
                if not set(options) & earlier:
                    needed = " or ".join(repr(option) for option in options)
                    problems.append(
                        ProgramProblem(
                            source,
                            "stages",
                            f"stage {stage_type!r} needs a {needed} stage before it",
                        )
                    )
    return problems


def program_normalise(content: dict) -> dict:
    """Fill stage parameter defaults so that services read one shape."""
    content = dict(content)
    content.setdefault("eligibility", {})
    content.setdefault("tiers", [])
    content.setdefault("upgrade", {"rule": "none"})
    content.setdefault("rubric", [])
    stages = []
    for stage in content["stages"]:
        params = stage_module(stage["type"], "params").PARAMS
        stages.append({name: stage.get(name, default) for name, (_k, default) in params.items()})
        stages[-1]["type"] = stage["type"]
    content["stages"] = stages
    return content


def program_file_read(path: Path) -> tuple[ProgramFile | None, list[ProgramProblem]]:
    source = path.name
    raw = path.read_bytes()
    try:
        content = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return None, [ProgramProblem(source, "(file)", f"not valid TOML: {error}")]
    problems = program_validate(content, source)
    if content.get("slug") and path.stem != content["slug"]:
        problems.append(ProgramProblem(source, "slug", "must equal the file name without .toml"))
    if problems:
        return None, problems
    return ProgramFile(source, hashlib.sha256(raw).hexdigest(), program_normalise(content)), []


def programs_read(directory: Path | None = None) -> tuple[list[ProgramFile], list[ProgramProblem]]:
    directory = Path(directory or settings.PROGRAMS_DIR)
    programs, problems = [], []
    for path in sorted(directory.glob("*.toml")):
        program, found = program_file_read(path)
        problems.extend(found)
        if program:
            programs.append(program)
    return programs, problems


@cache
def programs_loaded() -> dict[str, ProgramFile]:
    """The valid program files of this process, by slug (read once; a restart reloads them)."""
    programs, _problems = programs_read()
    return {program.slug: program for program in programs}


def program_stage(content: dict, stage_type: str) -> dict | None:
    """The program's stage of that type with its parameters (None when the program has none)."""
    return next((s for s in content["stages"] if s["type"] == stage_type), None)


def program_get(slug: str) -> ProgramFile:
    return programs_loaded()[slug]
