# The habits: `make run` serves the platform locally, `make test` runs every check. Both install what
# they need first, idempotently (a stamp file per environment, rebuilt when its pins change).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
PORT ?= 3000
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
SAM := $(SAM_VENV)/bin/sam
UV_VERSION := 0.13.9

export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-central-1
# uv compiles bytecode at install time; nothing else may write .pyc files here (PYTHONDONTWRITEBYTECODE).
export UV_COMPILE_BYTECODE := 1
export PYTHONPATH := $(CURDIR)/layers/cashback/python:$(CURDIR)

.PHONY: help install compile run test lint format typecheck validate build unit integration e2e bench openapi reconcile clean

help:
	@echo "make run      serve the platform on http://127.0.0.1:$(PORT) (DynamoDB Local + local gateway)"
	@echo "make test     every check: lint, types, template, build, unit, integration, e2e"
	@echo "make bench    benchmarks (figures as ratios against bare boto3 baselines)"
	@echo "make lint | typecheck | validate | build | unit | integration | e2e | openapi | reconcile"

$(VENV)/.installed: requirements/dev.txt layers/cashback/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(PY) --compile-bytecode -r requirements/dev.txt
	touch $@

# The project's own code gets bytecode too (PYTHONDONTWRITEBYTECODE stops imports from writing it), so
# that local runs and the cold-import bench measure importing, not compiling our sources every time.
compile: $(VENV)/.installed
	$(PY) -m compileall -q layers/cashback/python functions local bench ops

$(SAM_VENV)/.installed: requirements/sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	test -x $(SAM_VENV)/bin/uv || $(SAM_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	$(SAM_VENV)/bin/uv pip install --quiet --python $(SAM_VENV)/bin/python --compile-bytecode -r requirements/sam.txt
	touch $@

install: $(VENV)/.installed $(SAM_VENV)/.installed

run: $(VENV)/.installed compile
	$(PY) -m local.run --port $(PORT)

# lint-imports checks the layer's import boundaries: the contracts in pyproject.toml [tool.importlinter].
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo --cache-dir .cache/import-linter

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Every handler is an app.py of its own (as Lambda loads it): one mypy run per function directory.
typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy layers/cashback/python local bench ops tests
	for function in functions/*/; do \
		(cd $$function && MYPYPATH=$(CURDIR)/layers/cashback/python:$(CURDIR) $(CURDIR)/$(VENV)/bin/mypy \
			--config-file $(CURDIR)/pyproject.toml --cache-dir $(CURDIR)/.mypy_cache app.py) || exit 1; \
	done

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint

build: $(SAM_VENV)/.installed
	$(SAM) build --build-dir .aws-sam/build --cached --parallel

openapi: $(VENV)/.installed
	$(PY) -m local.openapi

unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit -q

integration: $(VENV)/.installed
	$(PY) -m pytest tests/integration -q

e2e: $(VENV)/.installed
	$(PY) -m pytest tests/e2e -q

test: install lint typecheck validate build
	$(PY) -m local.openapi --check
	$(PY) -m pytest -q

bench: $(VENV)/.installed compile
	$(PY) -m bench

reconcile: $(VENV)/.installed
	$(PY) -m ops.reconcile

clean:
	rm -rf .aws-sam .cache .data $(VENV) $(SAM_VENV)
