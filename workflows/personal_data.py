"""Personal data (PIPL 个人信息保护法): objectors' ID numbers encrypted at rest and shown masked.

- Encryption: Fernet (AES-128-CBC + HMAC-SHA256) with the keys of `PERSONAL_DATA_KEYS`, through
  `MultiFernet`: the first key encrypts, every key listed decrypts, so a key is rotated by putting
  the new one first and running `manage.py personal_data_rotate`, then dropping the old one.
  Production requires the setting; development and tests derive a key from `SECRET_KEY`.
- Display: `5201**********1234` (the first 4 and last 4 characters, every other one `*`), to
  everyone but the officer handling the objection (`id_number_shown_in_full`).
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from documents.redaction import id_number_mask

HANDLE_OBJECTIONS = "workflows.run_public_notice"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PERSONAL_DATA_KEYS must list at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(f"PERSONAL_DATA_KEYS holds an invalid key: {error}") from error


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.PERSONAL_DATA_KEYS))


class PersonalDataKeyError(Exception):
    """A stored value cannot be decrypted with any key of PERSONAL_DATA_KEYS."""


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise PersonalDataKeyError(
            "Personal data cannot be decrypted: is its key missing from PERSONAL_DATA_KEYS?"
        ) from error


class EncryptedTextField(models.TextField):
    """Text stored encrypted (Fernet token); read back in clear. The empty string stays empty.
    A token differs at every write, so the column cannot be searched by value."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


def id_number_shown_in_full(user, objection) -> bool:
    """The officer handling the objection: a notice officer (who handles objections) while it
    is pending, and once handled, the officer who handled it. Nobody else: other staff, the
    applicant, the objector's colleagues, the public."""
    if user is None or not user.is_authenticated or not user.has_perm(HANDLE_OBJECTIONS):
        return False
    return objection.status == "pending" or objection.handled_by_id == user.pk


def objector_id_number(user, objection) -> str:
    """The objector's ID number as `user` may see it."""
    value = objection.id_number
    if not value or id_number_shown_in_full(user, objection):
        return value
    return id_number_mask(value)
