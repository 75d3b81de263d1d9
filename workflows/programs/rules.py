"""What a program file must hold beyond its types: stages that can run in their order, unique
keys (stages, tiers and their ranks, attachments, fields, options, criteria, grades), stage texts
that say something, a rubric for every expert round, what a paying program needs, amount rules
that read a field the form asks, and the seed's patent-count rule (patent_counts).

Each check gives (key path, message); `loading` adds the file and the line.
"""

from decimal import Decimal

from .patent_counts import amount_problems, rubric_problems, tier_problems
from .schema import NUMBER_TYPES, Program
from .types import FACTS

# A program that pays (a disbursement stage) needs a bank account on its form.
PAYMENT_FIELDS = ("bank_name", "bank_account", "account_name")
# The applicant's contact person and phone: for the offices that deal with the applicant, not for
# the experts who score the application.
CONTACT_FIELDS = ("contact_name", "contact_phone")


def stage_label(stage) -> str:
    """How an error names a stage: its type, and its key when it has one of its own."""
    if stage.key and stage.key != stage.type:
        return f"{stage.type!r} (key {stage.key!r})"
    return repr(stage.type)


def program_problems(program: Program) -> list[tuple[str, str]]:
    return [
        *_stage_problems(program),
        *_rubric_problems(program),
        *_unique_problems(program),
        *_field_problems(program),
        *_payment_problems(program),
        *tier_problems(program.tiers),
        *amount_problems(program.amount, program.fields),
    ]


def _stage_problems(program: Program) -> list[tuple[str, str]]:
    problems = []
    stages = program.stages
    if stages[0].type != "application":
        problems.append(("stages", "the first stage must be of type 'application'"))
    seen: dict[str, int] = {}
    for i, stage in enumerate(stages):
        key = stage.stage_key
        if key in seen:
            first = stages[seen[key]]
            if stage.key is None and first.type == stage.type:
                message = (
                    f"stage type {stage.type!r} appears more than once (also stages[{seen[key]}]):"
                    ' give each occurrence its own `key`, e.g. key = "final_review"'
                )
            else:
                message = f"duplicate stage key {key!r} (also stages[{seen[key]}])"
            problems.append((f"stages[{i}].key" if stage.key else f"stages[{i}].type", message))
        seen.setdefault(key, i)
    left: set[str] = set()
    for i, stage in enumerate(stages):
        for fact in stage.NEEDS:
            if fact not in left:
                problems.append(
                    (
                        f"stages[{i}].type",
                        f"stage {stage_label(stage)} needs {FACTS[fact]} before it",
                    )
                )
        for fact in stage.FORBIDS:
            if fact in left:
                problems.append(
                    (
                        f"stages[{i}].type",
                        f"stage {stage_label(stage)} cannot come after {FACTS[fact]}: "
                        + (
                            "an application is submitted once"
                            if fact == "submitted"
                            else "only a 'disbursement' stage may follow the decision, once"
                        ),
                    )
                )
        for name, message in [*stage.role_problems(), *stage.problems(program)]:
            problems.append((f"stages[{i}].{name}", message))
        for name in sorted(stage.model_fields_set):
            value = getattr(stage, name)
            if isinstance(value, str) and not value.strip():
                # A text the file gives (a document title) is printed as it is: blank, it
                # would print an empty heading instead of the default wording.
                problems.append(
                    (f"stages[{i}].{name}", "missing text: leave the key out to use the default")
                )
        left |= set(stage.PROVIDES)
    return problems


def _criteria_problems(where: str, rubric: list) -> list[tuple[str, str]]:
    problems = []
    keys: set[str] = set()
    for j, criterion in enumerate(rubric):
        if criterion.key in keys:
            problems.append((f"{where}[{j}].key", f"duplicate key {criterion.key!r}"))
        keys.add(criterion.key)
    if rubric:
        problems.extend(rubric_problems(where, rubric))
    return problems


def _rubric_problems(program: Program) -> list[tuple[str, str]]:
    problems = []
    if program.rubric is not None:
        problems.extend(_criteria_problems("rubric", program.rubric))
    for i, stage in enumerate(program.stages):
        if stage.type != "expert_review":
            continue
        if stage.rubric is not None:
            if not stage.rubric:
                problems.append((f"stages[{i}].rubric", "must list at least one criterion"))
            problems.extend(_criteria_problems(f"stages[{i}].rubric", stage.rubric))
        elif not program.rubric:
            message = "an expert_review stage needs a [[rubric]] list"
            if ("rubric", message) not in problems:
                problems.append(("rubric", message))
    return problems


def _duplicates(
    where: str, items: list, name: str, what: str, why: str = ""
) -> list[tuple[str, str]]:
    """(key path, message) for each item whose `name` an earlier item of the list has too."""
    problems = []
    first: dict = {}
    for i, item in enumerate(items):
        value = getattr(item, name)
        if value in first:
            message = f"duplicate {what} {value!r} (also {where}[{first[value]}])"
            problems.append((f"{where}[{i}].{name}", f"{message}: {why}" if why else message))
        first.setdefault(value, i)
    return problems


def _unique_problems(program: Program) -> list[tuple[str, str]]:
    """Tiers, attachments, fields and a choice field's options are told apart by their key (and
    tiers ordered by rank: a higher rank is a higher tier, for the places and the upgrades)."""
    problems = [
        *_duplicates("tiers", program.tiers, "key", "tier key"),
        *_duplicates("tiers", program.tiers, "rank", "rank", "each tier needs a rank of its own"),
        *_duplicates("attachments", program.attachments, "key", "attachment key"),
        *_duplicates("fields", program.fields, "name", "field name"),
    ]
    for i, field in enumerate(program.fields):
        problems.extend(
            _duplicates(f"fields[{i}].options", field.options or [], "key", "option key")
        )
    return problems


def _field_problems(program: Program) -> list[tuple[str, str]]:
    problems = []
    for i, field in enumerate(program.fields):
        if field.type == "tier" and not program.tiers:
            problems.append((f"fields[{i}].type", "a tier field needs [[tiers]]"))
        if field.type == "tier" and program.amount and program.amount.rule != "tier":
            problems.append(
                (
                    f"fields[{i}].type",
                    f"the amount rule {program.amount.rule!r} decides what is paid: the "
                    "applicant does not choose a tier",
                )
            )
    return problems


def _payment_problems(program: Program) -> list[tuple[str, str]]:
    problems = []
    fields = {field.name: field for field in program.fields}
    amount = program.amount
    rule = amount.rule if amount else "tier"
    pays = any(stage.type == "disbursement" for stage in program.stages)
    if pays:
        missing = [name for name in PAYMENT_FIELDS if name not in fields]
        if missing:
            problems.append(("fields", f"a paying program needs the fields {missing}"))
        if rule == "tier":
            if not program.tiers:
                problems.append(("tiers", "a paying program needs tiers"))
            for i, tier in enumerate(program.tiers):
                if tier.amount is None:
                    problems.append((f"tiers[{i}].amount", "missing amount"))
    if amount is None:
        return problems
    if amount.field is not None:
        field = fields.get(amount.field)
        wanted = ("money", "decimal") if rule == "percentage" else NUMBER_TYPES
        if field is None:
            problems.append(
                ("amount.field", f"no field {amount.field!r} on the form; fields: {list(fields)}")
            )
        elif field.type not in wanted:
            problems.append(
                ("amount.field", f"field {amount.field!r} must be of type {' or '.join(wanted)}")
            )
    if amount.designation_field is not None and amount.designation_field not in fields:
        problems.append(
            ("amount.designation_field", f"no field {amount.designation_field!r} on the form")
        )
    problems.extend(_grade_problems(amount.grades or []))
    return problems


def _grade_problems(grades: list) -> list[tuple[str, str]]:
    problems = []
    ranges = []
    keys: set[str] = set()
    for i, grade in enumerate(grades):
        if grade.key in keys:
            problems.append((f"amount.grades[{i}].key", f"duplicate key {grade.key!r}"))
        keys.add(grade.key)
        low = grade.at_least if grade.at_least is not None else Decimal("-Infinity")
        high = grade.below if grade.below is not None else Decimal("Infinity")
        if low >= high:
            problems.append((f"amount.grades[{i}].below", "must be more than at_least"))
            continue
        for j, (other_low, other_high) in ranges:
            if low < other_high and other_low < high:
                problems.append((f"amount.grades[{i}]", f"its range overlaps amount.grades[{j}]'s"))
        ranges.append((i, (low, high)))
    return problems
