"""Reading program files: TOML, then the typed models (schema), then the rules (rules).

Every problem names the file, the key path (`stages[3].panel_size`) and, where the file has the
key, its line; the start-up check (workflows.checks) refuses to start on any.
"""

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from pydantic import BaseModel, ValidationError

from .content import program_stage
from .locate import key_lines, line_of
from .rules import program_problems
from .schema import Program, _Nested


@dataclass(frozen=True)
class ProgramProblem:
    source: str
    key: str
    message: str
    line: int | None = None

    def __str__(self):
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.key}: {self.message}"


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


def program_check(content: dict, source: str, text: str = "") -> tuple[dict | None, list]:
    """(the normalised content, []) or (None, every problem) for a parsed program file."""
    lines = key_lines(text) if text else {}
    try:
        program = Program.model_validate(content)
    except ValidationError as error:
        return None, _problems(source, lines, _one_per_key([_translate(e) for e in error.errors()]))
    found = program_problems(program)
    if found:
        return None, _problems(source, lines, found)
    return program.model_dump(mode="json"), []


def program_normalise(content: dict) -> dict:
    """The content as the engine reads it (every default filled in), without the rules: for a
    file the start-up check would refuse but whose flow a test still builds."""
    return Program.model_validate(content).model_dump(mode="json")


def _problems(source: str, lines: dict, found) -> list[ProgramProblem]:
    problems = []
    for key, message in found:
        problem = ProgramProblem(source, key, message, line_of(lines, key))
        if problem not in problems:
            problems.append(problem)
    return problems


def program_file_read(path: Path) -> tuple[ProgramFile | None, list[ProgramProblem]]:
    source = path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        # Saved by an editor in GBK or GB 18030, as Chinese Windows does by default.
        line = raw[: error.start].count(b"\n") + 1
        return None, [
            ProgramProblem(
                source,
                "(file)",
                "not UTF-8 text (saved as GBK or GB 18030?): save the file as UTF-8",
                line,
            )
        ]
    try:
        content = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"at line (\d+)", str(error))
        return None, [
            ProgramProblem(
                source, "(file)", f"not valid TOML: {error}", int(line.group(1)) if line else None
            )
        ]
    normalised, problems = program_check(content, source, text)
    if content.get("slug") and path.stem != content["slug"]:
        problems.append(
            ProgramProblem(
                source,
                "slug",
                "must equal the file name without .toml",
                line_of(key_lines(text), "slug"),
            )
        )
    if problems:
        return None, problems
    return ProgramFile(source, hashlib.sha256(raw).hexdigest(), normalised), []


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


def program_get(slug: str) -> ProgramFile:
    return programs_loaded()[slug]


def program_pays(slug: str) -> bool:
    """Whether the program of `slug` pays money (it has a disbursement stage); a program no
    longer loaded is taken to, so that money recorded under it still shows."""
    program = programs_loaded().get(slug)
    return program is None or program_stage(program.content, "disbursement") is not None


def program_has_stage(slug: str, stage_type: str) -> bool:
    """Whether the program of `slug` has a stage of `stage_type` (pages link to a stage's page
    only for the calls that have it)."""
    program = programs_loaded().get(slug)
    return program is not None and program_stage(program.content, stage_type) is not None


# --- pydantic's errors in the words of a program file ------------------------------------------


# The members of a union pydantic names in an error's path (`max` is a number or a date):
# 'function-before[_number(), decimal]', 'date'. They are not keys of the file.
UNION_MEMBER_RE = re.compile(r"^(date|decimal|int|str|bool|float)$|[\[(]")


def _path(loc: tuple) -> str:
    """('stages', 3, 'expert_review', 'rubric', 0, 'key') -> 'stages[3].rubric[0].key' (the
    tag pydantic adds for the stage type, and the members of a union, are left out)."""
    from ..stages import STAGE_TYPES

    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        elif i == len(loc) - 1 and UNION_MEMBER_RE.search(str(item)) and i > 0:
            continue
        elif not (i == 2 and loc[0] == "stages" and item in STAGE_TYPES):
            parts.append(str(item))
    return ".".join(parts)


def _one_per_key(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One message per key: a value that fits none of a union's members got one from each (must
    be a number; must be a number or a date); the last, the widest, is kept."""
    kept: dict[str, str] = {}
    for key, message in problems:
        kept.pop(key, None)
        kept[key] = message
    return list(kept.items())


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class of the table at `loc` (for the keys it allows)."""
    from typing import get_args, get_origin

    from ..stages import stage_module

    model: object = Program
    for i, item in enumerate(loc):
        if isinstance(item, int):
            continue
        if isinstance(model, type) and issubclass(model, BaseModel):
            if item in model.model_fields:
                model = model.model_fields[item].annotation
            elif loc[:1] == ("stages",) and i == 2:
                model = stage_module(item, "params").Params
                continue
            else:
                return None
        model = _unwrap(model, get_args, get_origin)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation, get_args, get_origin):
    """The model inside list[...], X | None, Annotated[...]."""
    for _ in range(4):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) is None or not args:
            break
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        annotation = models[0] if models else args[0]
    return annotation


def _translate(error: dict) -> tuple[str, str]:
    """(key path, message) of one pydantic error."""
    loc = tuple(error["loc"])
    kind = error["type"]
    context = error.get("ctx") or {}
    key = _path(loc)
    name = str(loc[-1]) if loc else ""
    if kind == "value_error" and isinstance(context.get("error"), _Nested):
        nested = context["error"]
        return f"{key}.{nested.key}" if key else nested.key, str(nested.error)
    if kind == "value_error":
        return key, str(context.get("error", error["msg"]))
    if kind == "missing":
        if name in ("zh", "en", "name", "document", "clause", "text", "guidance"):
            return key, "missing text"
        if loc[:1] == ("stages",) and name == "type":
            return key, "missing stage type"
        return key, f"missing {name}: a required key"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        template = model.UNKNOWN_KEY if model else "unknown key"
        return key, template.format(allowed=allowed)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        from ..stages import STAGE_TYPES

        tag = context.get("tag")
        if kind == "union_tag_not_found" or tag in (None, "None"):
            return f"{key}.type", "missing stage type"
        return f"{key}.type", f"unknown stage type {tag!r}; known: {sorted(STAGE_TYPES)}"
    if kind in ("literal_error", "enum"):
        allowed = sorted(re.findall(r"'([^']*)'", str(context.get("expected", ""))))
        return key, f"must be one of {allowed}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return key, "must be a table"
    if kind == "list_type":
        return key, f"must be a list of tables ([[{name}]])" if name in (
            "rubric",
            "tiers",
            "stages",
            "fields",
            "attachments",
            "grades",
            "options",
        ) else "must be a list"
    if kind in ("string_type",):
        return key, "must be a string"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return key, "must be an integer"
    if kind in ("bool_type", "bool_parsing"):
        if isinstance(error.get("input"), str):
            return key, "must be true or false, without quotes"
        return key, "must be true or false"
    if kind in ("too_short",) and name == "stages":
        return key, "needs at least one stage"
    if kind.startswith(("date", "decimal")) or kind == "is_instance_of":
        return key, "must be a number or a date, e.g. 2024-01-01"
    return key, str(error["msg"])
