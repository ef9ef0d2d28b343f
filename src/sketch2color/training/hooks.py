"""Fault hooks: where a test may break a real training on purpose.

The reliability tests must show that a SIGKILL landing *inside* a checkpoint
write, or *between* two MLflow calls of one step, loses nothing, and that a
NaN or infinite loss stops training cleanly. A timer outside the process
cannot hit windows that are milliseconds wide, so the training calls these
hooks at exactly those points. :data:`NO_FAULTS`, the default everywhere,
does nothing; only the test suite passes anything else (its hooks reach the
real stage process through ``tests/reliability/stage_hooks``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the hooks are imported by processes that never train (see the tests)
    import tensorflow as tf


class FaultHooks:
    """The points a fault can be injected at; every method here does nothing."""

    def batches(self, dataset: tf.data.Dataset, first_step: int) -> tf.data.Dataset:
        """The epoch's batches, whose first is global step ``first_step`` (a fault may alter one)."""
        return dataset

    def after_step(self, step: int) -> None:
        """After the optimiser update of ``step``, before it is logged or checkpointed."""

    def after_metrics_logged(self, step: int) -> None:
        """After the first MLflow call of ``step`` (its metrics), before the calls that follow."""

    def checkpoint_written(self, step: int) -> None:
        """After TensorFlow wrote the checkpoint of ``step``, before ``latest.json`` names it."""


NO_FAULTS = FaultHooks()
