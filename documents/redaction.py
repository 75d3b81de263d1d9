"""Personal data kept off public pages (PIPL): the masking rule for ID numbers, and free text
typed by staff (a void or reissue reason, a notice period's change) shown to the public with
any ID number or phone number in it masked. Names in free text cannot be told from other words:
the pages say only what they must, and staff are asked not to write personal data in reasons."""

import re

# Not part of a longer code (a unified social credit code has 18 characters too, but is never
# in these texts; any 15 or 18-digit run is masked all the same).
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<![0-9A-Za-z-])(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?![0-9A-Za-z])")


def id_number_mask(value: str) -> str:
    """`520102199001011234` → `5201**********1234`: the first 4 and last 4 characters kept,
    every other one `*`; 8 characters or fewer are all masked."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def phone_mask(value: str) -> str:
    """`13912345678` → `139****5678`, `0851-85550000` → `085******0000`."""
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def personal_data_redact(text: str) -> str:
    """`text` with every ID number and phone number in it masked."""
    text = ID_NUMBER_RE.sub(lambda match: id_number_mask(match.group()), text or "")
    return PHONE_RE.sub(lambda match: phone_mask(match.group()), text)
