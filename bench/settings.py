"""Benchmark settings: the test settings plus the bare viewflow flow of `bench/bareflow`, the
baseline the engine's transitions are measured against. The product never installs it."""

from config.settings.test import *  # noqa: F401,F403
from config.settings.test import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.bareflow"]
