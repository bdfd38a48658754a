# lifeboat developer tasks. Start with:  make run   |   make test
#
#   make venv    create .venv from requirements.lock (re-runs only when the lock or
#                pyproject.toml change)
#   make run     seed a demo into $(DATA_DIR) and serve it on http://$(HOST):$(PORT)
#   make test    run the test suite; pass options with PYTEST_ARGS="-k sync -x"
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

# No "-" prefix and no "|| true": any pytest failure (including exit 5, "no tests
# collected") fails make.
test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

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
