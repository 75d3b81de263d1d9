"""`manage.py` run in a process of its own, for what a test cannot see from inside its own
process: start-up under other settings (production, a database never migrated)."""

import os
import subprocess
import sys

from django.conf import settings


def manage_py(*args: str, env: dict[str, str], unset: tuple[str, ...] = ()):
    """Run `manage.py args…` with the test's environment changed by `env` and without the
    variables `unset` (DJANGO_ALLOW_ASYNC_UNSAFE is set for the browser tests only and never
    passed on); the finished process, its output as text."""
    environment = os.environ | env
    for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", *unset):
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
