"""Test settings: fast hashing, the embedded database unless DATABASE_URL names another."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F401,F403

SECRET_KEY = "test-only-not-secret"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="ipgrants-test-media-"))
LANGUAGE_CODE = "zh-hans"
# The tests enter holiday years of their own; the missing-year warning is tested directly.
SILENCED_SYSTEM_CHECKS = ["workflows.W003"]

# The specimen seal (marked 样章, like no real organisation's) for every issuer of the programs.
SPECIMEN_SEAL = "documents/seals/specimen.svg"
DOCUMENT_SEALS = {"贵州省市场监督管理局": SPECIMEN_SEAL, "贵州省财政厅": SPECIMEN_SEAL}
