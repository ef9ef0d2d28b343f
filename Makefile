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

.PHONY: install repro test test-fast bench clean-outputs

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Run the whole pipeline on the embedded default data.
repro: $(STAMP)
	$(BIN)/dvc repro

## Run the test suite (unit tests and the end-to-end dvc repro).
test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

## Print speed and memory figures; writes metrics/bench.json.
bench: $(STAMP)
	$(BIN)/python -m sketch2color.bench
