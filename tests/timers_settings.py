"""Settings of the `workflow_timers` processes that tests/workflows/test_timers_on_several_hosts.py
starts: the test settings, with emails sent at once and written to files in TEST_EMAIL_DIR, so
the test counts what each process sent."""

import os

from config.settings.test import *  # noqa: F401,F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["TEST_EMAIL_DIR"]
# Each process sends its emails itself, so the test sees which process sent what (the suite's
# own settings queue them for a worker).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
