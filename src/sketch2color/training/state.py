"""The trainable state: both models, both optimisers and the position counters.

This is exactly what a checkpoint holds. It is built inside the distribution
strategy's scope so variables are mirrored across replicas, with the
optimisers' slots created up front so that a restore fills them immediately.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from sketch2color.config import TrainConfig
from sketch2color.model import build_discriminator, build_generator
from sketch2color.training.fused_adam import FusedAdam
from sketch2color.training.precision import FLOAT32_POLICY, training_policy
from sketch2color.training.schedule import ConstantThenLinearDecay


@dataclass
class TrainingState:
    generator: keras.Model
    discriminator: keras.Model
    generator_optimizer: keras.optimizers.Optimizer
    discriminator_optimizer: keras.optimizers.Optimizer
    step: tf.Variable  # optimiser updates done over the whole training
    epoch: tf.Variable  # the epoch the next step belongs to (0-based)
    batch_in_epoch: tf.Variable  # batches of that epoch already trained on

    def checkpoint(self) -> tf.train.Checkpoint:
        return tf.train.Checkpoint(
            generator=self.generator,
            discriminator=self.discriminator,
            generator_optimizer=self.generator_optimizer,
            discriminator_optimizer=self.discriminator_optimizer,
            step=self.step,
            epoch=self.epoch,
            batch_in_epoch=self.batch_in_epoch,
        )

    def set_position(self, step: int, steps_per_epoch: int) -> None:
        self.step.assign(step)
        self.epoch.assign(step // steps_per_epoch)
        self.batch_in_epoch.assign(step % steps_per_epoch)


def build_training_state(
    config: TrainConfig, image_size: int, schedule: ConstantThenLinearDecay
) -> TrainingState:
    """Models and Adam(lr schedule, beta_1) optimisers; loss-scaled under mixed precision.

    The optimisers are :class:`FusedAdam`: Keras's Adam with TensorFlow's
    one-pass update kernel (the same update, a quarter of its time). Mixed
    precision is float16 on a GPU and bfloat16 on a CPU that computes it
    natively (:mod:`sketch2color.training.precision`).

    Call inside ``strategy.scope()``. Each optimiser gets its own schedule
    instance driven by its own update count; the two counts move together.
    """
    dtype = training_policy(config.mixed_precision)
    generator = build_generator(image_size, config.ngf, config.norm, dtype=dtype, hints=config.hints.enabled)
    discriminator = build_discriminator(image_size, config.ndf, config.norm, dtype=dtype)
    optimizers = []
    for name, model in (("generator_adam", generator), ("discriminator_adam", discriminator)):
        optimizer = FusedAdam(
            learning_rate=ConstantThenLinearDecay.from_config(schedule.get_config()),
            beta_1=config.beta_1,
            name=name,
        )
        if dtype != FLOAT32_POLICY:
            # Scales the loss up before the float16 backward pass and the
            # gradients back down, skipping steps whose gradients overflow.
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_loss_scale")
        optimizer.build(model.trainable_variables)
        optimizers.append(optimizer)

    def counter(name: str) -> tf.Variable:
        return tf.Variable(0, dtype=tf.int64, trainable=False, name=name)

    return TrainingState(
        generator,
        discriminator,
        optimizers[0],
        optimizers[1],
        counter("step"),
        counter("epoch"),
        counter("batch_in_epoch"),
    )
