"""Settings shared by every environment; environment variables through django-environ."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env("DEBUG")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Our apps first: their templates (login, error pages) take precedence over viewflow's.
    "workflows",
    "forms",
    "documents",
    "guardian",
    "viewflow",
    "viewflow.workflow",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Text values lose NUL characters, which PostgreSQL cannot store (workflows.middleware).
    "workflows.middleware.NulDroppedMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The second factor: who verified a code this session (django-otp), and nothing but the
    # code and enrolment pages for an account that still owes one (workflows.middleware).
    "django_otp.middleware.OTPMiddleware",
    "workflows.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts only from our own static files, never inline
# (chart data travels in json_script blocks, which are data, not script); styles may be inline
# (ECharts sizes its canvas with style attributes). No plugins, no framing by other sites.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workflows.context_processors.stage_nav",
                "workflows.context_processors.unread_messages",
            ],
            # The project's templates, the apps' own, then each stage package's own
            # (workflows/stages/<type>/templates/), all cached.
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    [
                        "django.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                        "workflows.stages.templates.Loader",
                    ],
                )
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"


# IMMEDIATE takes SQLite's write lock at BEGIN, so two writers queue instead of failing
# half-way; WAL lets readers go on meanwhile (STACK-NOTES, locking).
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_config(url: str | None) -> dict:
    """The `default` database: DATABASE_URL when given, else the embedded SQLite file. An
    SQLite file named by the URL (a rehearsal's, a test's) gets the same options."""
    if url:
        config = environ.Env.db_url_config(url)
        config.setdefault("CONN_MAX_AGE", 60)
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
            config["CONN_MAX_AGE"] = 0
        return config
    VAR_DIR.mkdir(exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "db.sqlite3",
        "OPTIONS": dict(SQLITE_OPTIONS),
    }


DATABASES = {"default": database_config(env("DATABASE_URL", default=None))}
# PostgreSQL prepares the statements every step runs once per connection and plans them once
# (documents.prepared.statement_rows). Set PREPARED_STATEMENTS=false behind a transaction-mode
# connection pooler that does not keep prepared statements (PgBouncer before 1.21).
PREPARED_STATEMENTS = env.bool("PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a login while the account or the address is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None

# Failed logins (django-axes): after 5 failures for one account, or from one address, further
# attempts are refused for 30 minutes with a page in Chinese (registration/locked_out.html).
# Staff unlock earlier: `manage.py axes_reset_username <login>` or `axes_reset_ip <address>`, or
# by deleting the access attempts in the admin.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The address counted is the client's, not the proxy's (workflows.middleware.client_address):
# behind one TLS proxy every request comes from 127.0.0.1, and five wrong passwords would lock
# everyone out. TRUSTED_PROXIES: how many proxies append to X-Forwarded-For (0: none).
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "workflows.middleware.client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
GUARDIAN_MONKEY_PATCH_USER = False

# The second factor (django-otp, 等保 2.0): every account that is not a pure applicant (staff of
# any office, experts, leadership, finance, superusers) enrols an authenticator app (TOTP) and
# enters its code after the password; an applicant may opt in on 账号安全 and then must too.
# On by default; only the development settings let the demo accounts skip it
# (OTP_SKIP_USERNAMES), production never does.
OTP_REQUIRED = True
OTP_SKIP_USERNAMES: list[str] = []
OTP_TOTP_ISSUER = "知识产权专项资助与认定"
OTP_RECOVERY_CODES = 10

# Django's full set: not like the username or name, at least 8 characters, not a common
# password (12345678), not all digits.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Django's rule with its refusal in our catalogue (Django 5.2's Chinese one lacks it).
    {"NAME": "forms.validators.PasswordMinimumLength"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"

# Uploaded attachments and issued documents. Never inside the repository's tracked files.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Where they are stored: every read and write goes through Django's storage API (never a local
# path), so a deployment on several machines points `default` at shared storage from the
# environment: FILE_STORAGE_BACKEND (a dotted class path) and FILE_STORAGE_OPTIONS (JSON, its
# keyword arguments), e.g. an S3-compatible object store through django-storages
# (`storages.backends.s3.S3Storage`) or FileSystemStorage on an NFS mount ({"location": …}).
# By default FileSystemStorage at MEDIA_ROOT (no `location`, so it follows MEDIA_ROOT).
STORAGES = {
    "default": {
        "BACKEND": env(
            "FILE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json("FILE_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
MEDIA_URL = "/media/"  # never served directly: downloads go through permission-checked views

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024

# Program files: one TOML file per program.
PROGRAMS_DIR = Path(env("PROGRAMS_DIR", default=str(BASE_DIR / "config" / "programs")))

# Seed 000 二(一)1: raw patent counts may carry at most this share of a scoring rubric.
PATENT_COUNT_MAX_SHARE = Decimal(env("PATENT_COUNT_MAX_SHARE", default="0.10"))

# Batch issuing (documents.batch): a worker's lease on a document (renewed every third of it
# while it works; another worker takes the document over when it expires), documents per runner
# task enqueued, and how often a document may outlive its worker before it is failed.
BATCH_LEASE_SECONDS = env.float("BATCH_LEASE_SECONDS", default=30)
BATCH_CHUNK = env.int("BATCH_CHUNK", default=10)
BATCH_MAX_ATTEMPTS = env.int("BATCH_MAX_ATTEMPTS", default=3)
# A batch of at most this many applicants' documents is recorded whole in one transaction, each
# PDF rendered by a background job as a document issued on its own (0: every batch fans out).
BATCH_AT_ONCE = env.int("BATCH_AT_ONCE", default=10)
# A document issued on its own is recorded at once and its PDF rendered by a background job
# (documents.services); workflow_timers enqueues the job again for a document still pending
# this long after it was last enqueued (its job failed or was lost).
DOCUMENT_RENDER_RETRY_SECONDS = env.int("DOCUMENT_RENDER_RETRY_SECONDS", default=300)

# Seal images printed over the issuer's name and date ({issuer name: static path of the image}),
# as each office configures its own; none by default. Development and tests print the specimen
# (documents/static/documents/seals/specimen.png, marked 样章).
DOCUMENT_SEALS: dict[str, str] = {}

# PAdES signatures (documents.signing): the office's signing key and certificate (PEM files,
# never in the repository), a certificate of its own for an issuer by name, the roots the
# verification page trusts. Development and tests make a throw-away CA in DOCUMENT_SIGNING_DIR.
DOCUMENT_SIGNER = (
    {
        "key": env("DOCUMENT_SIGNING_KEY"),
        "cert": env("DOCUMENT_SIGNING_CERT"),
        "chain": env.list("DOCUMENT_SIGNING_CHAIN", default=[]),
        "passphrase": env("DOCUMENT_SIGNING_PASSPHRASE", default=""),
    }
    if env("DOCUMENT_SIGNING_KEY", default="")
    else None
)
DOCUMENT_SIGNERS: dict[str, dict] = {}
DOCUMENT_TRUST_ROOTS = env.list("DOCUMENT_TRUST_ROOTS", default=[])
DOCUMENT_SIGNING_THROWAWAY_CA = False
DOCUMENT_SIGNING_DIR = VAR_DIR / "signing"

# Personal data (PIPL, workflows.personal_data): Fernet keys, comma-separated, that encrypt
# objectors' ID numbers; the first encrypts, all decrypt (rotation). Production requires them;
# development and tests derive one from SECRET_KEY (personal_data_key_derived).
PERSONAL_DATA_KEYS = env.list("PERSONAL_DATA_KEYS", default=[])


def personal_data_key_derived(secret: str) -> str:
    """A Fernet key derived from SECRET_KEY, for development and tests only."""
    import base64
    import hashlib

    digest = hashlib.sha256(b"ipgrants personal data:" + secret.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


# Background jobs (Django's Tasks API): batches of documents, emails, rehearsals. Never run inside
# a web request. TASK_BACKEND=database (the default): jobs are rows in the database, run by
# `manage.py db_worker` (any number, on any machine that reaches the database). TASK_BACKEND=rq:
# jobs go through Redis (REDIS_URL), run by `manage.py rqworker --job-class django_tasks_rq.Job`.
TASK_BACKEND = env("TASK_BACKEND", default="database")
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
if TASK_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif TASK_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    raise ImproperlyConfigured(f"TASK_BACKEND is 'database' or 'rq', not {TASK_BACKEND!r}.")

# Email (services.notifications): printed to the console unless an environment sets a backend
# (prod.py: SMTP from EMAIL_URL; the tests: Django's in-memory outbox).
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="知识产权专项资助与认定 <noreply@localhost>")
# Reminders go this many working days before a correction deadline, an expert's review
# deadline or the end of a notice period (manage.py workflow_timers sends them).
NOTIFY_REMIND_WORKING_DAYS = env.int("NOTIFY_REMIND_WORKING_DAYS", default=2)
# How often workflow_timers (run by cron every minute) reads the deadlines for reminders and
# escalations: a reminder is due days ahead, so once in a while is enough.
NOTIFY_SWEEP_EVERY = timedelta(minutes=env.int("NOTIFY_SWEEP_MINUTES", default=10))
# Working days a role has for an open task before it is overdue (practice: each office sets its
# own; an expert's seat has its own deadline), and who is told when a task of a role is overdue.
NOTIFY_TASK_WORKING_DAYS: dict[str, int] = {
    "workflows.recommend": 10,
    "workflows.formal_review": 5,
}
NOTIFY_ESCALATE_TO: dict[str, str] = {
    "workflows.expert_review": "workflows.manage_panels",
    "workflows.recommend": "workflows.formal_review",
    "workflows.formal_review": "workflows.leadership_review",
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        # WeasyPrint's warnings name missing fonts and refused URLs: keep them visible.
        "weasyprint": {"handlers": ["console"], "level": "WARNING"},
        "workflows": {"handlers": ["console"], "level": "INFO"},
    },
}
