"""TEST-ONLY fault injection for the train stage. Never set these variables outside tests.

Why this exists: the reliability suite (issue 6) must show that a SIGKILL
landing *inside* a checkpoint write, or *between* two MLflow calls of one
step, loses nothing. A timer outside the process cannot hit windows that are
milliseconds wide, so the process kills itself there instead, with the same
uncatchable SIGKILL a user's ``kill -9`` or the OOM killer would send: no
``finally``, no ``atexit``, no flush runs.

``SKETCH2COLOR_TEST_KILL_AT=<point>:<step>``, where ``<point>`` is one of

- ``step``: right after the optimiser update of global step ``<step>``,
  before that step is logged or checkpointed (a kill mid-epoch);
- ``checkpoint_write``: while the checkpoint of step ``<step>`` is being
  saved: TensorFlow's files (data, index, its ``checkpoint`` state file) are
  written, our ``latest.json`` is not;
- ``mlflow_log``: right after the first MLflow call made at step ``<step>``
  (that step's metrics, one ``log_batch``) was recorded, before the calls
  that follow it (at an epoch's end: the epoch metrics and the validation
  figure).

``SKETCH2COLOR_INJECT_INF_AT_STEP=<step>`` makes the colour targets of that
step's batch infinite, so the L1 term, and with it the generator loss, is
``inf`` (the NaN counterpart, ``SKETCH2COLOR_INJECT_NAN_AT_STEP``, lives in
:mod:`sketch2color.training.loop`).

Unset (the normal case) each check is one environment lookup per call.
"""

from __future__ import annotations

import os
import signal

import tensorflow as tf

from sketch2color.errors import Sketch2ColorError

KILL_AT_ENV = "SKETCH2COLOR_TEST_KILL_AT"
INJECT_INF_ENV = "SKETCH2COLOR_INJECT_INF_AT_STEP"
KILL_POINTS = ("step", "checkpoint_write", "mlflow_log")


def _kill_request() -> tuple[str, int] | None:
    raw = os.environ.get(KILL_AT_ENV, "").strip()
    if not raw:
        return None
    point, _, step = raw.partition(":")
    if point not in KILL_POINTS or not step.strip().isdigit():
        raise Sketch2ColorError(
            f"{KILL_AT_ENV}={raw!r}: expected <point>:<step> with <point> one of {', '.join(KILL_POINTS)}"
        )
    return point, int(step)


def check_environment() -> None:
    """Refuse malformed test hooks when training starts, not at the step they name."""
    _kill_request()
    injected_inf_step()


def kill_point(point: str, step: int) -> None:
    """SIGKILL this process if the test hook asks for a kill at ``point`` of ``step``."""
    if _kill_request() == (point, step):
        os.kill(os.getpid(), signal.SIGKILL)


def injected_inf_step() -> int | None:
    raw = os.environ.get(INJECT_INF_ENV, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Sketch2ColorError(f"{INJECT_INF_ENV}={raw!r}: expected a step number") from None


def with_infinite_targets(dataset: tf.data.Dataset, first_step: int, at_step: int | None) -> tf.data.Dataset:
    """``dataset`` (batches of sketch, colour; the first is step ``first_step``) with the
    colours of step ``at_step`` set to +inf; unchanged when that step is not in it."""
    if at_step is None or at_step < first_step:
        return dataset
    index = at_step - first_step
    infinite = tf.constant(float("inf"))

    def poison(position, batch):
        sketch, colour = batch
        return sketch, tf.where(position == index, colour + infinite, colour)

    return dataset.enumerate().map(poison)
