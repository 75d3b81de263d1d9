"""The program-file format as typed models (pydantic): one `Program` per file.

`Program.model_json_schema()` is the published JSON Schema (`make schema` writes
`config/programs/program.schema.json`), so that a program author's editor completes and checks
keys. A stage is one of the registered stage types' `Params` (stages/<type>/params.py), told
apart by its `type`.
"""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal, Union

from pydantic import AfterValidator, Discriminator, Strict, Tag, create_model, model_validator
from pydantic import Field as SchemaField

from documents.models import Document

from ..stages import STAGE_TYPES, stage_module
from .types import (
    Count,
    Criterion,
    Flag,
    Key,
    Model,
    Money,
    Number,
    PositiveInt,
    PositiveMoney,
    Text,
    Texts,
    _fail,
)

SLUG_PATTERN = r"^[a-z][a-z0-9_]{1,62}$"
# 机关代字: the number adds the year in 〔〕 and the sequence, so the code holds neither brackets
# nor digits nor spaces.
ISSUER_CODE_PATTERN = r"^[^\s\d〔〕\[\]()（）［］]{1,16}$"
ISSUER_CODE_MESSAGE = "must be 1 to 16 characters without spaces, brackets or digits, e.g. 黔市监知"


def _issuer_code(value: str) -> str:
    if not re.match(ISSUER_CODE_PATTERN, value):
        _fail("issuer_code", ISSUER_CODE_MESSAGE)
    return value


def _slug(value: str) -> str:
    if not re.match(SLUG_PATTERN, value):
        _fail("slug", "must be lower-case letters, digits, _")
    return value


IssuerCode = Annotated[
    str, Strict(), AfterValidator(_issuer_code), SchemaField(pattern=ISSUER_CODE_PATTERN)
]


class PolicyBasis(Model):
    """The policy text the program carries out, cited on its documents."""

    document: Text
    clause: Text
    text: Text


DocumentCodes = create_model(
    "DocumentCodes",
    __base__=Model,
    __doc__="机关代字 of the document types numbered in a sequence of their own (one sequence "
    "per code and year); any other type is numbered under `issuer.code`.",
    **{kind: (IssuerCode | None, None) for kind in Document.Kind.values},
)
DocumentCodes.UNKNOWN_KEY = "unknown document type; known: {allowed}"

DocumentTitles = create_model(
    "DocumentTitles",
    __base__=Model,
    __doc__="Titles printed on the documents of the given types instead of the default wording "
    '(e.g. rejection_decision = "不予认定决定书").',
    **{kind: (Text | None, None) for kind in Document.Kind.values},
)
DocumentTitles.UNKNOWN_KEY = "unknown document type; known: {allowed}"


class JointIssuer(Model):
    """Another issuer of a joint document (联合发文), after the lead issuer."""

    name: Text


class Issuer(Model):
    """The issuer (the lead issuer of a joint document): its name and 机关代字 number the
    documents; `joint` lists the other issuers, in order (GB/T 9704 §7.2.4, §7.3.5);
    `copy_to` (抄送) and `printer` (印发机关, the issuer by default) fill the 版记 (§7.4)."""

    name: Text
    code: IssuerCode
    reconsideration_body: Text
    document_codes: DocumentCodes = DocumentCodes()
    joint: list[JointIssuer] = []
    copy_to: list[Text] = []
    printer: Text | None = None


class NoticeContact(Model):
    """Where objections to a public notice go (printed on the notice): the office and how to
    reach it. Without it, the notice names the issuer."""

    contact: Text | None = None
    phone: Text | None = None
    address: Text | None = None
    email: Text | None = None


class _Nested(ValueError):
    """An error of a nested key, raised by a validator of its parent (loading puts it there)."""

    def __init__(self, key: str, error: Exception):
        super().__init__(str(error))
        self.key, self.error = key, error


class Tier(Model):
    """A designation level or award tier, and the fixed amount it is paid (the `tier` rule)."""

    key: Key
    zh: Text
    en: Text
    amount: PositiveMoney | None = None
    # 1 is the highest; a lower tier has a larger rank.
    rank: PositiveInt


class Upgrade(Model):
    """A unit paid a lower tier and later designated a higher one: `top_up` pays the difference
    (就高补差), `full` the higher amount in full, `none` nothing more (从高不重复)."""

    rule: Literal["top_up", "full", "none"]


class Eligibility(Model):
    # The approval date must lie inside the call's designation window.
    designation_in_call_window: Flag = True
    # Region code prefix (GB/T 2260) of the province: the institution must be registered there.
    region_prefix: str | None = None
    max_entries_per_institution: PositiveInt | None = None
    patent_not_awarded_before: Flag = False


class Attachment(Model):
    key: Key
    zh: Text
    en: Text
    required: Flag = True


class Option(Model):
    """One choice of a `choice` field."""

    key: Key
    zh: Text
    en: Text


FIELD_TYPES = (
    "text",
    "textarea",
    "date",
    "tier",
    "bank_account",
    "phone",
    "declaration",
    "boolean",
    "patent_number",
    "integer",
    "decimal",
    "money",
    "choice",
)
NUMBER_TYPES = ("integer", "decimal", "money")
BOUNDED_TYPES = (*NUMBER_TYPES, "date")


class FormField(Model):
    """A field of the application form. `tier`, `patent_number`, `approval_number`,
    `approval_date`, bank and contact fields are columns of the application; any other name is
    kept with the application's extra data."""

    name: Key
    type: Literal[FIELD_TYPES]  # type: ignore[valid-type]
    zh: Text
    en: Text
    required: Flag = True
    max_length: PositiveInt | None = None
    # Bounds of a number, amount or date (inclusive).
    min: Number | date | None = None
    max: Number | date | None = None
    # Decimal places of a `decimal` field (a `money` field has two).
    places: Count | None = None
    options: list[Option] | None = None

    @model_validator(mode="after")
    def _fits_its_type(self):
        if self.type == "choice" and not self.options:
            raise _Nested("options", ValueError("a choice field needs its options"))
        if self.type != "choice" and self.options is not None:
            raise _Nested("options", ValueError("only a choice field has options"))
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is None:
                continue
            if self.type not in BOUNDED_TYPES:
                raise _Nested(bound, ValueError(f"only {list(BOUNDED_TYPES)} fields have {bound}"))
            if (self.type == "date") != isinstance(value, date):
                expected = "a date, e.g. 2024-01-01" if self.type == "date" else "a number"
                raise _Nested(bound, ValueError(f"must be {expected}"))
            if self.type == "integer" and value != value.to_integral_value():
                raise _Nested(bound, ValueError("must be a whole number"))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _Nested("max", ValueError("must not be less than min"))
        if self.places is not None and self.type != "decimal":
            raise _Nested("places", ValueError("only a decimal field has places"))
        return self


class Grade(Model):
    """One grade of a `grades` amount rule: the field's value at least `at_least` and below
    `below` (either may be left out) is paid `amount`."""

    key: Key
    zh: Text
    en: Text
    at_least: Number | None = None
    below: Number | None = None
    amount: PositiveMoney


class AmountRule(Model):
    """How much an application is paid: `tier` (the fixed amount of its tier, as [[tiers]]
    say), `percentage` (a share of a money field, at least `floor`, at most `cap`), or
    `grades` (the grade whose range holds the field's value)."""

    rule: Literal["tier", "percentage", "grades"] = "tier"
    field: Key | None = None
    percent: Number | None = None
    floor: Money | None = None
    cap: PositiveMoney | None = None
    grades: list[Grade] | None = None
    # The field whose value names what is paid for: one payment per institution, program, tier
    # and value, ever (by default the patent number when the form asks for one).
    designation_field: Key | None = None

    NEEDED: ClassVar[dict[str, tuple[str, ...]]] = {
        "tier": (),
        "percentage": ("field", "percent"),
        "grades": ("field", "grades"),
    }

    @model_validator(mode="after")
    def _complete(self):
        for name in self.NEEDED[self.rule]:
            if getattr(self, name) is None:
                raise _Nested(name, ValueError(f"the {self.rule!r} rule needs {name!r}"))
        allowed = {*self.NEEDED[self.rule], "rule", "designation_field"}
        if self.rule == "percentage":
            allowed |= {"floor", "cap"}
        for name in ("field", "percent", "floor", "cap", "grades"):
            if name not in allowed and getattr(self, name) is not None:
                raise _Nested(name, ValueError(f"the {self.rule!r} rule has no {name!r}"))
        if self.percent is not None and not (Decimal(0) < self.percent <= Decimal(100)):
            raise _Nested("percent", ValueError("must be more than 0 and at most 100"))
        if (
            self.floor is not None
            and self.cap is not None
            and Decimal(self.floor) > Decimal(self.cap)
        ):
            raise _Nested("cap", ValueError("must not be less than floor"))
        return self


def _stage_type(value) -> str | None:
    return value.get("type") if isinstance(value, dict) else getattr(value, "type", None)


def stage_union():
    """One of the registered stage types' parameters, told apart by `type`."""
    members = tuple(
        Annotated[stage_module(stage_type, "params").Params, Tag(stage_type)]
        for stage_type in STAGE_TYPES
    )
    return Annotated[Union[members], Discriminator(_stage_type)]  # noqa: UP007


Stage = stage_union()


class Program(Model):
    """One program file (config/programs/<slug>.toml)."""

    slug: Annotated[str, Strict(), AfterValidator(_slug), SchemaField(pattern=SLUG_PATTERN)]
    title: Texts
    policy_basis: PolicyBasis
    issuer: Issuer
    document_titles: DocumentTitles = DocumentTitles()
    notice: NoticeContact = NoticeContact()
    tiers: list[Tier] = []
    upgrade: Upgrade = Upgrade(rule="none")
    amount: AmountRule | None = None
    # The default rubric of expert_review stages that have none of their own.
    rubric: list[Criterion] | None = None
    eligibility: Eligibility = Eligibility()
    attachments: list[Attachment]
    fields: list[FormField]
    stages: Annotated[list[Stage], SchemaField(min_length=1)]


def program_json_schema() -> dict:
    """The published JSON Schema of a program file."""
    schema = Program.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "program.schema.json"
    schema["title"] = "Program file (config/programs/<slug>.toml)"
    return schema
