# Two commands set everything up: `make run` and `make test`. Nothing global is installed:
# Python packages go to .venv, JavaScript packages to frontend/node_modules.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed-stamp
FRONTEND_STAMP := frontend/node_modules/.installed-stamp
FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.* frontend/package.json -type f 2>/dev/null)
PYTEST_ARGS ?=

.PHONY: run test lint test-python test-frontend frontend openapi bench clean

$(PY_STAMP): pyproject.toml $(wildcard services/agent/pyproject.toml)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]' $(if $(wildcard services/agent/pyproject.toml),-e services/agent)
	touch $@

$(FRONTEND_STAMP): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend/dist/index.html: $(FRONTEND_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run build

frontend: frontend/dist/index.html

## make run: embedded PostgreSQL, migrations, demo data, API + worker + web app on 127.0.0.1:8000
run: $(PY_STAMP) frontend
	$(VENV)/bin/seawall run

## make test: the whole suite (lint and type checks first, then Python on a real PostgreSQL, frontend unit tests, browser tests)
# `lint` is listed first so that a lint or type error fails in seconds, before the long test runs.
test: lint $(PY_STAMP) frontend test-frontend test-python

## make lint: ruff and mypy (configured in pyproject.toml), and the frontend's TypeScript check
lint: $(PY_STAMP) $(FRONTEND_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	cd frontend && npx tsc -b

test-frontend: $(FRONTEND_STAMP)
	cd frontend && npm run check:api && npm test

# Two runs: Playwright's sync API keeps an event loop running in its process, which would break the
# async tests after it, so the browser tests run on their own after the rest (two xdist workers).
test-python: $(PY_STAMP) frontend
	$(PY) -m pytest -n 2 --ignore=tests/e2e $(PYTEST_ARGS)
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

## make openapi: refresh frontend/openapi.json and the generated TypeScript types after an API change
openapi: $(PY_STAMP) $(FRONTEND_STAMP)
	$(VENV)/bin/seawall openapi > frontend/openapi.json
	cd frontend && npm run gen:api

bench: $(PY_STAMP)
	@echo "see bench/README.md"

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist
