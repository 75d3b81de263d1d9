# One Makefile for everything a developer or a new user runs. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
SYSTEM_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 poppler-utils
PG_URL ?= postgres://postgres@127.0.0.1:5432/ipgrants
ZH_PO := locale/zh_Hans/LC_MESSAGES/django.po

.DEFAULT_GOAL := help
.PHONY: help system-deps install install-dev migrate setup run test lint format check \
	test-sqlite test-postgres browser-deps demo bench messages timers worker clean schema

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

system-deps: ## Install the Debian packages WeasyPrint needs for Chinese PDFs (when missing)
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: system-deps $(VENV)/.installed ## Create the virtual environment and install everything

install-dev: install $(VENV)/.installed-dev ## Also install the test and lint tools

browser-deps: ## Install Debian's chromium for the browser tests (when missing; never downloaded by Playwright)
	@if ! command -v chromium >/dev/null 2>&1 && [ -z "$$CHROMIUM" ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	fi

migrate: install ## Create or update the database (SQLite in var/ unless DATABASE_URL is set)
	$(MANAGE) migrate --noinput

setup: migrate ## Load the program files, roles and demo data
	$(MANAGE) load_programs
	$(MANAGE) demo_data

run: setup ## Install, migrate, load programs and demo data, serve on http://127.0.0.1:8000 with a job worker
	@# The background jobs (batches of documents, emails) run in a db_worker next to runserver,
	@# never inside a request; stopping runserver (Ctrl+C) stops the worker too.
	$(MANAGE) db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) runserver 127.0.0.1:$${PORT:-8000}

check: install-dev ## Lint, format check, Django checks, missing migrations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) makemigrations --check --dry-run

test-sqlite: install-dev browser-deps ## The test suite on SQLite
	@echo "== Test suite on SQLite =="
	env -u DATABASE_URL $(VENV)/bin/pytest

test-postgres: install-dev browser-deps ## The test suite on PostgreSQL (DATABASE_URL, or the local server)
	@url="$${DATABASE_URL:-$(PG_URL)}"; \
	echo "== Test suite on PostgreSQL ($${url%%\?*}) =="; \
	DATABASE_URL="$$url" $(VENV)/bin/pytest

test: check test-sqlite ## All checks and tests: SQLite always, PostgreSQL when reachable
	@if [ -n "$$DATABASE_URL" ] || pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		$(MAKE) --no-print-directory test-postgres; \
	else \
		echo "== PostgreSQL not reachable: ran the suite on SQLite only =="; \
	fi

demo: setup ## A scripted batch of 50 applications through every branch; PDFs under var/demo/
	$(MANAGE) demo_batch --count 50 --out var/demo

bench: install-dev ## Benchmarks (engine vs bare viewflow, lifecycles per second, queries per transition, PDFs, a 500-document batch)
	$(PY) bench/engine.py
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) bench/lifecycle.py
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) bench/competitive.py
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) bench/documents.py
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) bench/batch.py

messages: install-dev ## Rebuild the zh_Hans and en catalogues (needs gettext), keeping viewflow's
	$(MANAGE) makemessages -l zh_Hans -l en -e html,txt,py,svg --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	# Our msgids are Chinese: in zh_Hans each one translates to itself (no fuzzy guesses).
	msgattrib --no-obsolete --clear-fuzzy --clear-previous -o $(ZH_PO) $(ZH_PO)
	msgfilter --keep-header -i $(ZH_PO) -o $(ZH_PO) sh -c 'cat >/dev/null; printf "%s" "$$MSGFILTER_MSGID"'
	msgcat --use-first -o $(ZH_PO) $(ZH_PO) locale/viewflow.zh_Hans.po
	$(MANAGE) compilemessages -l zh_Hans -l en --ignore=.venv

schema: install ## Write the JSON Schema of program files (config/programs/program.schema.json)
	$(MANAGE) program_schema --out config/programs/program.schema.json

timers: ## Fire due workflow timers once (cron runs this every minute in production)
	$(MANAGE) workflow_timers

worker: ## Run a background-job worker: db_worker, or rqworker when TASK_BACKEND=rq (run several)
	@if [ "$$TASK_BACKEND" = rq ]; then \
		$(MANAGE) rqworker default --job-class django_tasks_rq.Job --worker-class rq.worker.SimpleWorker; \
	else \
		$(MANAGE) db_worker; \
	fi

clean: ## Remove the virtual environment and local data (var/)
	rm -rf $(VENV) var
