"""Development settings: `make run` on one machine with SQLite."""

from .base import *  # noqa: F401,F403
from .base import PERSONAL_DATA_KEYS, env, personal_data_key_derived

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="dev-only-not-secret-7f1c2e")
PERSONAL_DATA_KEYS = PERSONAL_DATA_KEYS or [personal_data_key_derived(SECRET_KEY)]

# The specimen seal (marked 样章, like no real organisation's) for every issuer of the programs.
SPECIMEN_SEAL = "documents/seals/specimen.png"
DOCUMENT_SEALS = {"贵州省市场监督管理局": SPECIMEN_SEAL, "贵州省财政厅": SPECIMEN_SEAL}
# A throw-away CA (var/signing/, never committed) signs the documents of development.
DOCUMENT_SIGNING_THROWAWAY_CA = env.bool("DOCUMENT_SIGNING_THROWAWAY_CA", default=True)

# Emails are printed where `runserver` (or the worker) runs.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# The demo accounts `manage.py demo_data` creates (and `make run` prints) log in with the demo
# password alone; any other account still owes its second factor. Never in production.
OTP_SKIP_USERNAMES = [
    "reviewer",
    "leader",
    "notice",
    "finance",
    "guiyang",
    "zunyi",
    "anshun",
    "bijie",
    "committee",
    "security",
    *(f"expert{n}" for n in range(1, 10)),
]
