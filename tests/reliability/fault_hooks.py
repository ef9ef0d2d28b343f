"""The fault hooks the reliability tests run the real train stage with, set by environment variables.

Only the test environment sets these variables; the product never reads them.
``stage_hooks/sitecustomize.py`` (on ``PYTHONPATH`` in the tests' stage
processes, see :func:`training_runs.stage_env`) builds :class:`EnvironmentFaults`
from them and passes it to the train stage, so ``dvc repro`` runs the very
stage a user runs, with faults at the points these name:

- ``SKETCH2COLOR_TEST_KILL_AT=<point>:<step>``: SIGKILL the stage's own process
  (a timer outside cannot hit windows of milliseconds) at ``<point>`` of
  global step ``<step>``, where ``<point>`` is ``step`` (right after the
  optimiser update), ``checkpoint_write`` (TensorFlow's checkpoint files are
  written, ``latest.json`` is not) or ``mlflow_log`` (after the step's
  metrics reached MLflow, before the calls that follow them);
- ``SKETCH2COLOR_TEST_NAN_AT_STEP=<step>``: a NaN sketch batch at that step,
  so every loss and gradient of it is NaN;
- ``SKETCH2COLOR_TEST_INF_AT_STEP=<step>``: infinite colour targets at that
  step, so the L1 term and the generator loss are ``inf``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

from sketch2color.training.hooks import FaultHooks

KILL_AT_ENV = "SKETCH2COLOR_TEST_KILL_AT"
NAN_AT_ENV = "SKETCH2COLOR_TEST_NAN_AT_STEP"
INF_AT_ENV = "SKETCH2COLOR_TEST_INF_AT_STEP"
VARIABLES = (KILL_AT_ENV, NAN_AT_ENV, INF_AT_ENV)
KILL_POINTS = ("step", "checkpoint_write", "mlflow_log")
TRAIN_STAGE = "sketch2color.pipeline.train:run"
"""What ``stages/train.py`` passes to ``run_stage``."""
FAULTY_TRAIN_STAGE = "fault_hooks:train_with_faults"
"""What a fault test's stage process runs instead (``stage_hooks/sitecustomize.py``)."""


def train_with_faults(params, paths) -> None:
    """The real train stage, with :class:`EnvironmentFaults` as its hooks."""
    from sketch2color.pipeline import train

    train.run(params, paths, hooks=EnvironmentFaults())


def _step(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ValueError(f"{name}={raw!r}: expected a step number")
    return int(raw)


class EnvironmentFaults(FaultHooks):
    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        self.kill_at: tuple[str, int] | None = None
        raw = environ.get(KILL_AT_ENV, "").strip()
        if raw:
            point, _, step = raw.partition(":")
            if point not in KILL_POINTS:
                raise ValueError(
                    f"{KILL_AT_ENV}={raw!r}: expected <point>:<step>, <point> one of {KILL_POINTS}"
                )
            self.kill_at = (point, _step({KILL_AT_ENV: step}, KILL_AT_ENV))
        self.nan_at = _step(environ, NAN_AT_ENV)
        self.inf_at = _step(environ, INF_AT_ENV)

    def _kill_if(self, point: str, step: int) -> None:
        if self.kill_at == (point, step):
            os.kill(os.getpid(), signal.SIGKILL)

    def after_step(self, step: int) -> None:
        self._kill_if("step", step)

    def after_metrics_logged(self, step: int) -> None:
        self._kill_if("mlflow_log", step)

    def checkpoint_written(self, step: int) -> None:
        self._kill_if("checkpoint_write", step)

    def batches(self, dataset, first_step: int):
        """NaN sketches at ``nan_at``, infinite colours at ``inf_at``; other batches unchanged."""
        import tensorflow as tf

        nan_index = -1 if self.nan_at is None else self.nan_at - first_step
        inf_index = -1 if self.inf_at is None else self.inf_at - first_step
        if nan_index < 0 and inf_index < 0:
            return dataset

        def poison(position, batch):
            sketch, color = batch
            sketch = tf.where(position == nan_index, sketch + float("nan"), sketch)
            color = tf.where(position == inf_index, color + float("inf"), color)
            return sketch, color

        return dataset.enumerate().map(poison)
