"""The common entry point of every stage script.

A stage script is one line: ``run_stage("package.module:function")``. This
module loads params.yaml once into typed config, discovers the project paths,
sets up logging, and turns user-facing faults into a one-line error and exit
code 1 instead of a traceback. The stage's module is imported only after the
params are valid, so a wrong key is reported before TensorFlow spends seconds
loading.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable

from sketch2color.config import Params, load_params
from sketch2color.errors import Sketch2ColorError
from sketch2color.logs import LOG_LEVEL_VARIABLE, LOG_LEVELS
from sketch2color.paths import ProjectPaths

StageFunction = Callable[[Params, ProjectPaths], None]


def configure_logging() -> None:
    """Stage logs to stderr at ``SKETCH2COLOR_LOG_LEVEL``, one of :data:`LOG_LEVELS` (default INFO)."""
    level = os.environ.get(LOG_LEVEL_VARIABLE, "INFO").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        print(f"error: {LOG_LEVEL_VARIABLE}={level!r}: use one of {', '.join(LOG_LEVELS)}", file=sys.stderr)
        raise SystemExit(1)
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


def _resolve(stage: str) -> StageFunction:
    module_name, _, function_name = stage.partition(":")
    return getattr(importlib.import_module(module_name), function_name)


def run_stage(stage: str) -> None:
    """Run ``stage`` (``"package.module:function"``, imported only once params.yaml is valid)."""
    # TensorFlow's C++ start-up chatter hides the stage's own report; keep warnings and errors.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    configure_logging()
    paths = ProjectPaths.discover()
    try:
        params = load_params(paths.params)
        _resolve(stage)(params, paths)
    except Sketch2ColorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
