"""The pix2pix train step: one update of both networks on one global batch.

Each replica computes per-example losses averaged over the *global* batch,
so summing over replicas gives the global mean and the optimisers (which
all-reduce gradients by sum) take the single-device step.
"""

from __future__ import annotations

import tensorflow as tf

from sketch2color.config import TrainConfig
from sketch2color.model.losses import discriminator_loss, generator_losses, mean_probability
from sketch2color.training.state import TrainingState


def make_train_step(state: TrainingState, config: TrainConfig, strategy: tf.distribute.Strategy):
    """A compiled ``(generator inputs, colour batch) -> {metric: global mean}`` step.

    The inputs are the sketch, followed by the hint channels when
    ``train.hints.enabled``; the discriminator judges the sketch and the
    image, as in the paper (it is not shown the hints).
    """
    global_batch = config.batch_size
    generator, discriminator = state.generator, state.discriminator
    generator_optimizer, discriminator_optimizer = state.generator_optimizer, state.discriminator_optimizer

    def average(per_example):
        return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)

    def replica_step(inputs, color):
        sketch = inputs[..., :3]  # the discriminator sees the sketch, not the hints
        with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
            fake = generator(inputs, training=True)
            real_logits = discriminator([sketch, color], training=True)
            fake_logits = discriminator([sketch, fake], training=True)
            losses = generator_losses(fake_logits, fake, color, config.lambda_l1)
            generator_total = average(losses.total)
            discriminator_total = average(
                discriminator_loss(real_logits, fake_logits, config.d_loss_factor, config.label_smoothing)
            )
            generator_scaled = generator_optimizer.scale_loss(generator_total)
            discriminator_scaled = discriminator_optimizer.scale_loss(discriminator_total)
        generator_grads = generator_tape.gradient(generator_scaled, generator.trainable_variables)
        discriminator_grads = discriminator_tape.gradient(
            discriminator_scaled, discriminator.trainable_variables
        )
        generator_optimizer.apply_gradients(zip(generator_grads, generator.trainable_variables, strict=True))
        discriminator_optimizer.apply_gradients(
            zip(discriminator_grads, discriminator.trainable_variables, strict=True)
        )
        return {
            "gen_total": generator_total,
            "gen_gan": average(losses.gan),
            "gen_l1": average(losses.l1),
            "disc": discriminator_total,
            "d_real": average(mean_probability(real_logits)),
            "d_fake": average(mean_probability(fake_logits)),
        }

    replica_fn = tf.function(replica_step, jit_compile=True) if config.xla else replica_step

    @tf.function
    def distributed_step(batch):
        inputs, color = batch
        per_replica = strategy.run(replica_fn, args=(inputs, color))
        return {
            name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            for name, value in per_replica.items()
        }

    return distributed_step
