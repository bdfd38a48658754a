# lifeboat developer tasks. Start with:  make run   |   make test
#
#   make venv    create .venv from requirements.lock (re-runs only when the lock or
#                pyproject.toml change)
#   make run     seed a demo into $(DATA_DIR) and serve it on http://$(HOST):$(PORT)
#   make test    run the test suite: unit and integration tests on worker processes (TEST_WORKERS=3),
#                then the rest one at a time; PYTEST_ARGS="-k sync -x" makes it one plain pytest run
#   make lint    ruff check (style, imports, bugs), ruff format --check, mypy (strict)
#   make format  ruff format over the tree (see pyproject.toml [tool.ruff])
#   make lock    re-resolve requirements.lock from pyproject.toml (with the dev extra)
#   make bench   run the benchmarks in bench/
#   make bench-sync  run the sync benchmark (bench/sync_bench.py), profile L on SQLite and PostgreSQL
#   make vendor  refresh the vendored Swagger UI and htmx files (needs npm)

SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.lifeboat-installed

HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= ./lifeboat-data
PYTEST_ARGS ?=
# Worker processes (pytest-xdist) for tests/unit and tests/integration: they wait on the disk
# and on PostgreSQL more than they compute, so more workers than the 2 cores of CI pay off.
TEST_WORKERS ?= 3
# Directories run on workers; every other directory under tests/ (e2e, edge, browser and any
# new one) runs in a second, serial pytest: real servers, Kamailio and chromium there check
# timings ("within 1 s", "ends within 5 s") that a busier machine could break.
PARALLEL_TESTS := tests/unit tests/integration

.DEFAULT_GOAL := help
.PHONY: help venv run test lint format lock bench bench-sync vendor

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

$(UV):
	@test -n "$(PYTHON)" || { echo "error: python3.11 or python3 not found" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(STAMP): requirements.lock pyproject.toml | $(UV)
	$(UV) pip install --python $(BIN)/python -r requirements.lock
	$(UV) pip install --python $(BIN)/python --no-deps -e .
	touch $@

venv: $(STAMP)

run: venv
	$(BIN)/lifeboat demo --data-dir "$(DATA_DIR)" --url "http://$(HOST):$(PORT)"
	$(BIN)/lifeboat serve --data-dir "$(DATA_DIR)" --host $(HOST) --port $(PORT)

# Each run ends with its slowest tests (--durations), so CI shows where the time goes.
# Any pytest failure (including exit 5, "no tests collected") fails make: both runs always
# run (CI reports every failure at once) and make exits with the first non-zero status.
test: venv
ifeq ($(strip $(PYTEST_ARGS)),)
	status=0; \
	$(BIN)/pytest -n $(TEST_WORKERS) --durations=15 $(PARALLEL_TESTS) || status=$$?; \
	$(BIN)/pytest --durations=25 tests $(addprefix --ignore=,$(PARALLEL_TESTS)) || { s=$$?; [[ $$status -ne 0 ]] || status=$$s; }; \
	exit $$status
else
	$(BIN)/pytest $(PYTEST_ARGS)
endif

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format src tests bench

lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra dev -o requirements.lock

bench: venv
	$(BIN)/python bench/run.py

bench-sync: venv
	$(BIN)/python bench/sync_bench.py

vendor:
	bash scripts/vendor-frontend.sh
