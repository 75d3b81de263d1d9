"""Program files: `config/programs/*.toml`, one per program, read, validated and handed out here.

A program file is data; nothing here knows a particular program. The format is typed models
(`schema`, pydantic; `make schema` publishes its JSON Schema), and the rules no type can say
(`rules`: stage order, keys, amounts, the seed's patent-count rule in `patent_counts`). Every
problem names the file, the key path and the line (`loading`), and the start-up check refuses
to start on any (`workflows.checks`).
"""

from forms.validators import localised

from .content import (
    COLUMN_FIELDS,
    issuer_code,
    program_stage,
    program_stages,
    stage_by_key,
    stage_key,
)
from .loading import (
    ProgramFile,
    ProgramProblem,
    flow_class_name,
    program_check,
    program_file_read,
    program_get,
    program_has_stage,
    program_normalise,
    program_pays,
    programs_loaded,
    programs_read,
)
from .rules import CONTACT_FIELDS, PAYMENT_FIELDS

__all__ = [
    "COLUMN_FIELDS",
    "CONTACT_FIELDS",
    "PAYMENT_FIELDS",
    "ProgramFile",
    "ProgramProblem",
    "flow_class_name",
    "issuer_code",
    "localised",
    "program_check",
    "program_file_read",
    "program_get",
    "program_normalise",
    "program_has_stage",
    "program_pays",
    "program_stage",
    "program_stages",
    "programs_loaded",
    "programs_read",
    "stage_by_key",
    "stage_key",
]
