"""Reading a program's (normalised) content: its stages by type or key, its issuer codes, the
fields that are application columns. Content stored with applications by an older version may
lack keys added since; these helpers read both."""

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


def stage_key(stage: dict) -> str:
    """The stage's key within its program (its type unless it has one of its own)."""
    return stage.get("key") or stage["type"]


def program_stage(content: dict, stage_type: str) -> dict | None:
    """The program's first stage of that type with its parameters (None when it has none)."""
    return next((s for s in content["stages"] if s["type"] == stage_type), None)


def program_stages(content: dict, stage_type: str) -> list[dict]:
    """Every stage of that type, in order."""
    return [s for s in content["stages"] if s["type"] == stage_type]


def stage_by_key(content: dict, key: str) -> dict | None:
    return next((s for s in content["stages"] if stage_key(s) == key), None)


def issuer_code(program: dict, kind: str) -> str:
    """The 机关代字 that numbers documents of `kind` under `program`."""
    issuer = program["issuer"]
    return (issuer.get("document_codes") or {}).get(kind) or issuer["code"]
