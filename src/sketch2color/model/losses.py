"""pix2pix losses, per example so that tf.distribute can average them globally.

Each function returns one value per example (shape ``(batch,)``); the train
step divides their sum by the *global* batch size
(``tf.nn.compute_average_loss``), which is what makes gradients summed over
replicas equal the single-device gradient. Everything is computed in float32,
whatever the models' dtype policy, so mixed precision never underflows a loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class GeneratorLosses:
    total: tf.Tensor
    gan: tf.Tensor
    l1: tf.Tensor


def generator_losses(fake_logits, fake, target, lambda_l1: float) -> GeneratorLosses:
    """GAN term (fool D: sigmoid CE of D(fake) against ones) + lambda_l1 * L1 to the target."""
    fake_logits = tf.cast(fake_logits, tf.float32)
    gan = _per_example_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(fake_logits), logits=fake_logits)
    )
    l1 = _per_example_mean(tf.abs(tf.cast(target, tf.float32) - tf.cast(fake, tf.float32)))
    return GeneratorLosses(total=gan + lambda_l1 * l1, gan=gan, l1=l1)


def discriminator_loss(real_logits, fake_logits, d_loss_factor: float, label_smoothing: float = 0.0):
    """d_loss_factor * (CE(D(real), 1 - smoothing) + CE(D(fake), 0)).

    Smoothing is one-sided: only the real label moves, so the discriminator is
    never rewarded for calling fakes partly real. The factor (0.5 in pix2pix)
    slows D relative to G.
    """
    real_logits = tf.cast(real_logits, tf.float32)
    fake_logits = tf.cast(fake_logits, tf.float32)
    real = _per_example_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.fill(tf.shape(real_logits), 1.0 - label_smoothing), logits=real_logits
        )
    )
    fake = _per_example_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(fake_logits), logits=fake_logits)
    )
    return d_loss_factor * (real + fake)


def mean_probability(logits):
    """Per-example mean of sigmoid(logits): how 'real' D finds each image (0..1)."""
    return _per_example_mean(tf.sigmoid(tf.cast(logits, tf.float32)))


def _per_example_mean(values):
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)
