"""Benchmark settings: the test settings plus the bare viewflow flow of `bench/bareflow`, the
baseline the engine's transitions are measured against. The product never installs it."""

from datetime import timedelta

from config.settings.test import *  # noqa: F401,F403
from config.settings.test import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.bareflow"]
# Production's sweep of the deadlines by workflow_timers: at most once in ten minutes, however
# many timers fire (the tests sweep on every run).
NOTIFY_SWEEP_EVERY = timedelta(minutes=10)
