# Two commands for a new machine: `make repro` and `make test`.
# Both create .venv and install the pinned dependencies first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS := 1
export PYTHONDONTWRITEBYTECODE := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: install system-deps repro lint format test test-fast bench

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,openmoji]'
	touch $(STAMP)

## Run the whole pipeline on the embedded default data.
repro: $(STAMP)
	$(BIN)/dvc repro

## Debian packages the GUI test needs (a virtual X screen); skipped when not root or no apt.
system-deps:
	@if command -v Xvfb >/dev/null; then echo "Xvfb present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb >/dev/null; \
	else echo "Xvfb missing: the GUI test will be skipped (install the Debian package xvfb)"; fi

## The linter and the formatter check (configured in pyproject.toml); `make format` applies both.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Run the linter, then the test suite (unit tests and the end-to-end dvc repro).
test: lint system-deps
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

## Print speed and memory figures; writes metrics/bench.json.
## Options pass through: make bench BENCH_ARGS="--only train --with-repro"
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m sketch2color.bench $(BENCH_ARGS)
