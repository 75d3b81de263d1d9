"""The building blocks of the program-file format (pydantic): text, keys, true or false, roles,
amounts, points, a rubric criterion, and the base of every stage's parameters.

Each error a value can raise is a sentence a program author can act on; `loading` adds the file,
the key path and the line."""

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Strict
from pydantic import Field as SchemaField
from pydantic_core import PydanticCustomError

from documents.amounts import LIMIT as AMOUNT_LIMIT

from ..permissions import ROLE_TASK_PERMISSION, ROLES

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TWO_PLACES = Decimal("0.01")


class Model(BaseModel):
    """Every table of a program file: unknown keys are refused (`UNKNOWN_KEY` words the error;
    `{allowed}` lists the keys the table knows)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)
    UNKNOWN_KEY: ClassVar[str] = "unknown key; allowed: {allowed}"


def _fail(kind: str, message: str, **context: Any):
    raise PydanticCustomError(kind, message, context or None)


def _text(value: str) -> str:
    if not value.strip():
        _fail("text", "missing text")
    return value


def _key(value: str) -> str:
    if not KEY_RE.match(value):
        _fail("key", "must be lower-case letters, digits, _ (starting with a letter)")
    return value


def _positive(value: int) -> int:
    if value <= 0:
        _fail("positive", "must be a positive integer")
    return value


def _not_negative(value: int) -> int:
    if value < 0:
        _fail("positive", "must be a positive integer")
    return value


def at_most(limit: int, what: str):
    """A check that a count is no more than `limit` (a longer period is a slip of the pen: a
    notice of 3,650 days, a validity of 500 years)."""

    def check(value: int) -> int:
        if value > limit:
            _fail("at_most", "at most {limit} {what}", limit=limit, what=what)
        return value

    return AfterValidator(check)


def _role(value: str) -> str:
    if value not in ROLE_TASK_PERMISSION:
        _fail("role", "unknown role; known: {known}", known=str(sorted(ROLE_TASK_PERMISSION)))
    return value


def _half_width(value: str) -> None:
    """Python reads full-width digits (５００) as numbers; a program file writes them half-width,
    as the documents print them."""
    if not value.isascii():
        _fail("half_width", "write the number with half-width digits (0-9), not full-width")


def _money(value: str) -> str:
    _half_width(value)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount < 0
        or amount != amount.quantize(TWO_PLACES)
    ):
        _fail("money", 'must be an amount written as a string with two decimals, e.g. "300000.00"')
    if amount >= AMOUNT_LIMIT:
        _fail("money", "too large: documents write amounts in words below one trillion yuan")
    return value


def _positive_money(value: str) -> str:
    _money(value)
    if Decimal(value) <= 0:
        _fail("money", 'must be a positive amount written as a string, e.g. "300000.00"')
    return value


def _number(value: Any) -> Decimal:
    """A number written as an integer, a decimal or a string, kept exact."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        _fail("number", "must be a number")
    if isinstance(value, str):
        _half_width(value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        _fail("number", "must be a number")
    if not number.is_finite():
        _fail("number", "must be a number")
    return number


def _points(value: Any) -> Decimal:
    try:
        points = _number(value)
    except PydanticCustomError:
        points = None
    if points is None or points <= 0:
        _fail("points", "must be a positive number with at most two decimals")
    if points != points.quantize(TWO_PLACES):
        _fail("points", "must be a positive number with at most two decimals")
    return points


Text = Annotated[str, Strict(), AfterValidator(_text)]
# True or false as TOML writes it: a quoted "no" (or a 0) would read as true or pass unnoticed.
Flag = Annotated[bool, Strict()]
Key = Annotated[str, Strict(), AfterValidator(_key)]
PositiveInt = Annotated[int, Strict(), AfterValidator(_positive)]
Count = Annotated[int, Strict(), AfterValidator(_not_negative)]
Role = Annotated[
    str,
    Strict(),
    AfterValidator(_role),
    SchemaField(json_schema_extra={"enum": sorted(ROLE_TASK_PERMISSION)}),
]
# Amounts are strings in the file so that they stay exact decimals.
Money = Annotated[str, Strict(), AfterValidator(_money), SchemaField(pattern=r"^\d+(\.\d{1,2})?$")]
PositiveMoney = Annotated[
    str, Strict(), AfterValidator(_positive_money), SchemaField(pattern=r"^\d+(\.\d{1,2})?$")
]
Number = Annotated[Decimal, BeforeValidator(_number), SchemaField(json_schema_extra={})]
Points = Annotated[Decimal, BeforeValidator(_points)]
Bound = Decimal | date


class Texts(Model):
    zh: Text
    en: Text


# --- rubrics ---------------------------------------------------------------------------------

# What a criterion measures. `patent_count` is the raw number of patents (the policy limits it).
MEASURES = (
    "quality",
    "transformation_benefit",
    "management",
    "innovation",
    "patent_count",
    "other",
)


class Criterion(Model):
    """A criterion of a scoring rubric (评分项): what it measures, its points, the guidance."""

    key: Key
    zh: Text
    en: Text
    max_points: Points
    guidance: Text
    measures: Literal[MEASURES]  # type: ignore[valid-type]


# --- stages -------------------------------------------------------------------------------------

# What a stage leaves behind for the stages after it, and the words an error uses for it.
FACTS = {
    "submitted": "an 'application' stage",
    "list_decided": (
        "a stage that decides the list (a 'leadership_meeting', 'committee_vote' or "
        "'expert_review' stage)"
    ),
    "decided": "a 'decision' stage",
    "paid": "a 'disbursement' stage",
}


class StageBase(Model):
    """What every stage of a program file may say besides its type's own parameters.

    `key` names the stage in the program (its type by default); a stage type may appear more
    than once when each occurrence has its own key. `name` is how pages and documents call the
    stage (e.g. 初评), its type's name by default.

    Subclasses (one per stage type, `stages/<type>/params.py`) declare `type` as a Literal and
    their order: `NEEDS` (facts some earlier stage must leave), `PROVIDES` (facts it leaves) and
    `FORBIDS` (facts no earlier stage may have left: nothing happens after a decision but the
    payment)."""

    key: Key | None = None
    name: Text | None = None

    NEEDS: ClassVar[tuple[str, ...]] = ("submitted",)
    PROVIDES: ClassVar[tuple[str, ...]] = ()
    FORBIDS: ClassVar[tuple[str, ...]] = ("decided",)
    # The permission the stage's `role` must hold where the stage's own pages check one rather
    # than the permission of the role's tasks (None: any role with tasks will do).
    ROLE_MUST_HOLD: ClassVar[str | None] = None

    def problems(self, program) -> list[tuple[str, str]]:
        """(parameter, message) for what needs the rest of the program file."""
        return []

    def role_problems(self) -> list[tuple[str, str]]:
        """The stage's `role` lacks the permission its pages ask of whoever acts
        (ROLE_MUST_HOLD): say which roles hold it."""
        needed = self.ROLE_MUST_HOLD
        role = getattr(self, "role", None)
        if needed is None or role is None or role_holds(role, needed):
            return []
        holders = ", ".join(sorted(key for key in ROLES if role_holds(key, needed)))
        return [("role", f"role {role!r} cannot act at this stage; roles that can: {holders}")]

    @property
    def stage_key(self) -> str:
        return self.key or self.type


def role_holds(role: str, permission: str) -> bool:
    return role in ROLES and permission in ROLES[role][1]
