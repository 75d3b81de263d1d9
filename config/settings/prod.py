"""Production settings: PostgreSQL via DATABASE_URL, secrets from the environment; background
jobs through the backend TASK_BACKEND names (base.py)."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import DATABASES, PERSONAL_DATA_KEYS, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment for production.")
if not env("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must name the PostgreSQL database in production.")
assert DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
if not PERSONAL_DATA_KEYS:
    raise ImproperlyConfigured(
        "PERSONAL_DATA_KEYS must list the Fernet key(s) that encrypt personal data in production"
        " (make one: python -c 'from cryptography.fernet import Fernet;"
        " print(Fernet.generate_key().decode())')."
    )

SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
# Behind the TLS proxy the README describes: the proxy says the request came over HTTPS in
# X-Forwarded-Proto; plain HTTP is redirected, and browsers are told to use HTTPS only.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The proxy appends the client's address to X-Forwarded-For; failed logins count by it.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=1)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# Staff, experts and superusers always owe their second factor; nobody skips it.
OTP_REQUIRED = True
OTP_SKIP_USERNAMES: list[str] = []

# Email through SMTP: EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.gov.cn:587
# (django-environ sets EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER…).
vars().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))
