"""pix2pix's learning-rate schedule: constant, then linear decay to 0.

The rate is a pure function of the optimizer's own update count
(``optimizer.iterations``), which the checkpoint saves and restores, so a
resumed training continues on exactly the curve it left instead of restarting
it. Nothing else (no epoch callback, no Python counter) drives it.
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="sketch2color")
class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``initial_rate`` for the first ``total_steps - decay_steps`` updates, then linearly to 0.

    At update ``total_steps`` (one past the last) the rate is exactly 0; with
    ``decay_steps == 0`` the rate never changes.
    """

    def __init__(self, initial_rate: float, total_steps: int, decay_steps: int) -> None:
        if not 0 <= decay_steps <= total_steps:
            raise ValueError(f"decay_steps {decay_steps} must be within 0..total_steps {total_steps}")
        self.initial_rate = float(initial_rate)
        self.total_steps = int(total_steps)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        rate = tf.constant(self.initial_rate, tf.float32)
        if self.decay_steps == 0:
            return rate
        decay_start = float(self.total_steps - self.decay_steps)
        done = tf.clip_by_value((step - decay_start) / float(self.decay_steps), 0.0, 1.0)
        return rate * (1.0 - done)

    def get_config(self) -> dict:
        return {
            "initial_rate": self.initial_rate,
            "total_steps": self.total_steps,
            "decay_steps": self.decay_steps,
        }


def learning_rate_schedule(
    learning_rate: float, epochs: int, decay_epochs: int, steps_per_epoch: int
) -> ConstantThenLinearDecay:
    """The schedule for a run of ``epochs`` whose last ``decay_epochs`` decay to 0."""
    return ConstantThenLinearDecay(
        learning_rate, total_steps=epochs * steps_per_epoch, decay_steps=decay_epochs * steps_per_epoch
    )
