"""Test settings: fast hashing, the embedded database unless DATABASE_URL names another."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F401,F403
from .base import PERSONAL_DATA_KEYS, personal_data_key_derived

SECRET_KEY = "test-only-not-secret"
PERSONAL_DATA_KEYS = PERSONAL_DATA_KEYS or [personal_data_key_derived(SECRET_KEY)]
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="ipgrants-test-media-"))
LANGUAGE_CODE = "zh-hans"
# The tests enter holiday years of their own; the missing-year warning is tested directly.
SILENCED_SYSTEM_CHECKS = ["workflows.W003"]

# The specimen seal (marked 样章, like no real organisation's) for every issuer of the programs.
SPECIMEN_SEAL = "documents/seals/specimen.png"
DOCUMENT_SEALS = {"贵州省市场监督管理局": SPECIMEN_SEAL, "贵州省财政厅": SPECIMEN_SEAL}
# A throw-away CA per test run, shared with the worker processes a batch starts (they inherit
# the environment, so they sign with the same CA the tests verify against).
DOCUMENT_SIGNING_THROWAWAY_CA = True
DOCUMENT_SIGNING_DIR = Path(
    os.environ.setdefault(
        "IPGRANTS_TEST_SIGNING_DIR", tempfile.mkdtemp(prefix="ipgrants-test-signing-")
    )
)

# Emails stay in django.core.mail.outbox.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
