"""Test settings: fast hashing, the embedded database unless DATABASE_URL names another."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

from .base import *  # noqa: F401,F403
from .base import DATABASES, PERSONAL_DATA_KEYS, personal_data_key_derived

SECRET_KEY = "test-only-not-secret"
PERSONAL_DATA_KEYS = PERSONAL_DATA_KEYS or [personal_data_key_derived(SECRET_KEY)]
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Shared, like the signing folder below, with the worker processes a test starts.
MEDIA_ROOT = Path(
    os.environ.setdefault("IPGRANTS_TEST_MEDIA", tempfile.mkdtemp(prefix="ipgrants-test-media-"))
)
# The SQLite test database is a file, not memory, so that the worker processes a test starts
# (tests/documents/test_batch_workers.py) open the same database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        Path(
            os.environ.setdefault(
                "IPGRANTS_TEST_DB_DIR", tempfile.mkdtemp(prefix="ipgrants-test-db-")
            )
        )
        / "test.sqlite3"
    )
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

# The suite signs staff in with `force_login` (no code): the second factor is not demanded
# unless a test switches it on (tests/workflows/test_second_factor.py does, with `settings`).
# An account with a confirmed authenticator is still asked for its code.
OTP_REQUIRED = False

# Every `workflow_timers` a test runs reads the deadlines (production: once in ten minutes).
NOTIFY_SWEEP_EVERY = timedelta(0)
