# The habits: `make run` serves the platform locally, `make test` runs every check. Both install what
# they need first, idempotently (a stamp file per environment, rebuilt when its pins change).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# SAM CLI runs on the machine's default python3. The application's venv runs the tests, the local stack and
# the bench on Lambda's python3.13 where the machine has one (the image carries 3.13.0 under pyenv; a bare
# python3.13 shim fails there, so ask for it by PYENV_VERSION), else on python3, and says so. Chosen once.
PYTHON ?= python3
PYTHON313 := $(shell PYENV_VERSION=3.13.0 python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null)
APP_PYTHON ?= $(or $(PYTHON313),$(PYTHON))
APP_PYTHON_VERSION := $(shell $(APP_PYTHON) -c 'import platform; print(platform.python_version())')
PORT ?= 3000
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
# One stamp per interpreter version: a venv made by another interpreter is removed and made again.
VENV_STAMP := $(VENV)/.installed-$(APP_PYTHON_VERSION)
UV := $(VENV)/bin/uv
SAM := $(SAM_VENV)/bin/sam
UV_VERSION := 0.13.9
# The layer's transitive set, resolved for Lambda's python3.13 on arm64 (template.yaml) with hashes. An
# existing lock's versions are kept where they still fit: `make lock LOCK_FLAGS=--upgrade` moves them on.
LAYER_REQUIREMENTS := layers/cashback/requirements.txt
LAYER_LOCK := layers/cashback/requirements.lock
LOCK_FLAGS ?=
# SAM CLI's venv lends its uv (the same pinned version): the application's venv installs from the lock, so
# it cannot be the one that makes it.
LOCK_COMPILE = $(SAM_VENV)/bin/uv pip compile --quiet --python-version 3.13 --python-platform aarch64-manylinux2014 \
	--generate-hashes --custom-compile-command "make lock" $(LOCK_FLAGS) $(LAYER_REQUIREMENTS)

export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-central-1
# uv compiles bytecode at install time; nothing else may write .pyc files here (PYTHONDONTWRITEBYTECODE).
export UV_COMPILE_BYTECODE := 1
export PYTHONPATH := $(CURDIR)/layers/cashback/python:$(CURDIR)

.PHONY: help interpreter install lock lock-check compile run test lint format typecheck validate build unit integration e2e fuzz bench openapi reconcile clean

help:
	@echo "make run      serve the platform on http://127.0.0.1:$(PORT) (DynamoDB Local + local gateway)"
	@echo "make test     every check: lint, types, template, build, unit, integration, e2e"
	@echo "make bench    benchmarks (figures as ratios against bare boto3 baselines)"
	@echo "make lint | typecheck | validate | build | unit | integration | e2e | fuzz | openapi | reconcile"

# Made afresh whenever the interpreter or a pin changes, so that a dropped dependency leaves the venv too
# (uv's cache makes that quick).
$(VENV_STAMP): requirements/dev.txt $(LAYER_REQUIREMENTS) $(LAYER_LOCK)
	rm -rf $(VENV)
	$(APP_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(PY) --compile-bytecode -r requirements/dev.txt || \
		{ echo "Installing failed. After changing $(LAYER_REQUIREMENTS), run make lock." >&2; exit 1; }
	touch $@

lock: $(SAM_VENV)/.installed
	$(LOCK_COMPILE) -o $(LAYER_LOCK)

# Fails when requirements.txt and the lock drift apart: resolves again into a copy of the lock (so its
# versions are preferred and only a changed requirement moves anything) and compares.
lock-check: $(SAM_VENV)/.installed
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cp $(LAYER_LOCK) "$$tmp/requirements.lock" && \
	$(LOCK_COMPILE) -o "$$tmp/requirements.lock" && \
	if ! diff -u $(LAYER_LOCK) "$$tmp/requirements.lock"; then \
		echo "$(LAYER_LOCK) does not match $(LAYER_REQUIREMENTS): run make lock" >&2; exit 1; \
	fi && echo "$(LAYER_LOCK) matches $(LAYER_REQUIREMENTS)"

# Which interpreter the tests run on, said at the start of every run.
interpreter:
ifeq ($(PYTHON313),)
	@echo "Python 3.13 not found: testing on $(APP_PYTHON_VERSION) ($(APP_PYTHON)); Lambda runs python3.13"
else
	@echo "Testing on Python $(APP_PYTHON_VERSION) ($(APP_PYTHON)), as Lambda's python3.13"
endif

# The project's own code gets bytecode too (PYTHONDONTWRITEBYTECODE stops imports from writing it), so
# that local runs and the cold-import bench measure importing, not compiling our sources every time.
compile: $(VENV_STAMP)
	$(PY) -m compileall -q layers/cashback/python functions local bench ops

$(SAM_VENV)/.installed: requirements/sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	test -x $(SAM_VENV)/bin/uv || $(SAM_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	$(SAM_VENV)/bin/uv pip install --quiet --python $(SAM_VENV)/bin/python --compile-bytecode -r requirements/sam.txt
	touch $@

install: $(VENV_STAMP) $(SAM_VENV)/.installed

run: interpreter $(VENV_STAMP) compile
	$(PY) -m local.run --port $(PORT)

# lint-imports checks the layer's import boundaries: the contracts in pyproject.toml [tool.importlinter].
# lock-check: the layer's lock matches its requirements.
lint: $(VENV_STAMP) lock-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo --cache-dir .cache/import-linter

format: $(VENV_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Every handler is an app.py of its own (as Lambda loads it): one mypy run per function directory.
typecheck: $(VENV_STAMP)
	$(VENV)/bin/mypy layers/cashback/python local bench ops tests
	for function in functions/*/; do \
		(cd $$function && MYPYPATH=$(CURDIR)/layers/cashback/python:$(CURDIR) $(CURDIR)/$(VENV)/bin/mypy \
			--config-file $(CURDIR)/pyproject.toml --cache-dir $(CURDIR)/.mypy_cache app.py) || exit 1; \
	done

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint

build: $(SAM_VENV)/.installed
	$(SAM) build --build-dir .aws-sam/build --cached --parallel

openapi: $(VENV_STAMP)
	$(PY) -m local.openapi

unit: interpreter $(VENV_STAMP)
	$(PY) -m pytest tests/unit -q

integration: interpreter $(VENV_STAMP)
	$(PY) -m pytest tests/integration -q

e2e: interpreter $(VENV_STAMP)
	$(PY) -m pytest tests/e2e -q

# The suite's OpenAPI fuzz test with many more cases: FUZZ_EXAMPLES per operation, role (member, admin) and
# generation mode (valid, invalid requests): 30 make about 3,000 cases in all, in about a minute.
FUZZ_EXAMPLES ?= 30
fuzz: interpreter $(VENV_STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/e2e/test_openapi_fuzz.py -q -p no:cacheprovider

# Two processes: the moto tests in one, the local stack's (DynamoDB Local, the gateway) in the other
# (tests/conftest.py groups them), which halves the suite's time on two cores.
test: interpreter install lint typecheck validate build
	$(PY) -m local.openapi --check
	$(PY) -m pytest -q -n 2 --dist loadgroup

bench: interpreter $(VENV_STAMP) compile
	$(PY) -m bench

reconcile: $(VENV_STAMP)
	$(PY) -m ops.reconcile

clean:
	rm -rf .aws-sam .cache .data $(VENV) $(SAM_VENV)
