"""Checks of what people type that the forms and the services share: unified social credit codes
(GB 32100-2015), Chinese patent numbers, phone numbers, bank accounts and a password's length.
The forms layer sits below the engine: nothing here imports `workflows`."""

import re
import unicodedata

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from stdnum.cn import uscc as uscc_module
from stdnum.exceptions import ValidationError as StdnumError

PHONE_RE = re.compile(r"^[0-9+\-() ]{7,20}$")
# What the digits of a phone number can be, once spaces, dashes and brackets are dropped: a
# mobile (with or without +86), a fixed line with its area code (0851 85551234, an extension
# after it), or a 400/800 service number. A date (9999-12-31) has the shape but not the digits.
PHONE_DIGITS_RE = re.compile(
    r"(?:(?:\+|00)?86)?1[3-9]\d{9}|0[1-9]\d{1,2}[2-9]\d{6,7}\d{0,6}|[48]00\d{7}"
)
PHONE_SEPARATORS_RE = re.compile(r"[\s\-()]")


def phone_valid(value: str) -> bool:
    """Whether `value` (of PHONE_RE's shape) is a number one could dial in China."""
    return bool(PHONE_DIGITS_RE.fullmatch(PHONE_SEPARATORS_RE.sub("", value)))


BANK_ACCOUNT_RE = re.compile(r"^[0-9 ]{8,32}$")
PATENT_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def patent_number_clean(value: str) -> str:
    """A Chinese patent (application) number, e.g. ZL202110123456.7 -> 202110123456.7.

    Twelve digits (year, type 1–3 or 8–9, serial) and the check character after the dot: the
    weighted sum (weights 2–9, 2–5) modulo 11, with 10 written X."""
    text = value.strip().upper().replace(" ", "")
    for prefix in ("ZL", "CN"):
        text = text.removeprefix(prefix)
    digits, _dot, check = text.partition(".")
    if not (len(digits) == 12 and ascii_digits(digits) and len(check) == 1):
        raise ValidationError(
            _("专利号格式不正确，应为12位数字加校验位，例如 ZL202110123456.7。"),
            code="patent_format",
        )
    if check != patent_check_character(digits):
        raise ValidationError(
            _("专利号校验位不正确（%(value)s），请核对。") % {"value": value}, code="patent_check"
        )
    return f"{digits}.{check}"


def ascii_digits(text: str) -> bool:
    """Only 0-9: `str.isdigit()` also takes full-width (５) and other scripts' digits, which
    look alike on a page but match no code the office keeps."""
    return text.isascii() and text.isdigit()


def patent_check_character(digits: str) -> str:
    """The check character of a 12-digit patent number."""
    total = sum(int(d) * w for d, w in zip(digits, PATENT_WEIGHTS, strict=True)) % 11
    return "X" if total == 10 else str(total)


def uscc_clean(value: str) -> str:
    if not value.strip().isascii():
        # python-stdnum would quietly turn full-width digits into ASCII; the office keeps codes
        # as typed on a half-width keyboard, so the applicant is told instead.
        raise ValidationError(
            _("统一社会信用代码请使用半角数字和字母输入（例如输入法切换到半角）：%(value)s")
            % {"value": value},
            code="uscc_not_ascii",
        )
    try:
        return uscc_module.validate(value.strip().upper())
    except StdnumError as error:
        raise ValidationError(
            _("统一社会信用代码无效：应为18位，且校验码正确（%(value)s）。") % {"value": value},
            code="invalid_uscc",
        ) from error


def english_active() -> bool:
    """Whether the reader works in English (else Chinese, the default)."""
    from django.utils.translation import get_language

    return (get_language() or "").startswith("en")


def localised(item: dict) -> str:
    """An item's `en` text when English is active, else its `zh` text (labels in program files)."""
    return (item.get("en") or item["zh"]) if english_active() else item["zh"]


class PasswordMinimumLength(MinimumLengthValidator):
    """Django's minimum-length rule, its refusal worded in our catalogue: Django 5.2 reworded
    the message (%d for %(min_length)d) and its Chinese catalogue has not caught up, so the
    refusal came out in English on a Chinese page."""

    def get_error_message(self):
        return ngettext(
            "密码太短，至少需要%(min_length)d个字符。",
            "密码太短，至少需要%(min_length)d个字符。",
            self.min_length,
        ) % {"min_length": self.min_length}


NAME_MARKS = set(" ·•.-'")


def _letter(char: str) -> bool:
    """A letter of any script (汉字, Latin, Uyghur…)."""
    return unicodedata.category(char).startswith("L")


def person_name_valid(name: str) -> bool:
    """Whether `name` can be a person's name: letters of any script (王小明, Anna Müller), with the
    spaces and marks names are written with (阿依古丽·买买提), and no digits or symbols."""
    name = name.strip()
    return any(map(_letter, name)) and all(_letter(c) or c in NAME_MARKS for c in name)


def organisation_name_valid(name: str) -> bool:
    """Whether `name` can be an organisation's name: some letters (digits may come with them, as
    in 贵州第3建筑工程公司), and none of the brackets of markup."""
    name = name.strip()
    return any(map(_letter, name)) and not set(name) & set("<>{}\\")
