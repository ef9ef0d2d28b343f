"""The straightforward pix2pix the speed targets are measured against.

This is the TensorFlow pix2pix tutorial's model and train step, written the
way the tutorial writes them: Sequential down/up blocks with BatchNorm, the
tutorial's own LeakyReLU default slope, ``BinaryCrossentropy(from_logits=True)``
losses, two tapes, one ``@tf.function`` train step, no XLA, default thread
settings. Only two things differ from the tutorial, neither on the measured
path: Keras 3 is imported as ``keras`` (the tutorial's ``tf.keras`` is the
same library in TF 2.21), and the step logs nothing (``tf.summary`` needs
TensorBoard, which tensorflow-cpu 2.21 does not install).

It lives apart from :mod:`sketch2color.model` on purpose: the benchmark runs
both in the same process at the same time, so the speed-up it reports is
against a model nobody tuned.
"""

from __future__ import annotations

import keras
import tensorflow as tf

OUTPUT_CHANNELS = 3
LAMBDA = 100


def downsample(filters, size, apply_batchnorm=True):
    initializer = tf.random_normal_initializer(0.0, 0.02)
    result = keras.Sequential()
    result.add(
        keras.layers.Conv2D(
            filters, size, strides=2, padding="same", kernel_initializer=initializer, use_bias=False
        )
    )
    if apply_batchnorm:
        result.add(keras.layers.BatchNormalization())
    result.add(keras.layers.LeakyReLU())
    return result


def upsample(filters, size, apply_dropout=False):
    initializer = tf.random_normal_initializer(0.0, 0.02)
    result = keras.Sequential()
    result.add(
        keras.layers.Conv2DTranspose(
            filters, size, strides=2, padding="same", kernel_initializer=initializer, use_bias=False
        )
    )
    result.add(keras.layers.BatchNormalization())
    if apply_dropout:
        result.add(keras.layers.Dropout(0.5))
    result.add(keras.layers.ReLU())
    return result


def Generator(image_size: int = 256, ngf: int = 64):  # noqa: N802 - the tutorial's name
    """The tutorial's U-Net; ``image_size``/``ngf`` only exist so ``--quick`` can shrink it."""
    inputs = keras.layers.Input(shape=[image_size, image_size, 3])
    depth = image_size.bit_length() - 1  # 8 blocks at 256 px, as the tutorial lists them
    down_filters = [ngf * min(2**i, 8) for i in range(depth)]
    down_stack = [downsample(f, 4, apply_batchnorm=(i != 0)) for i, f in enumerate(down_filters)]
    up_filters = list(reversed(down_filters[:-1]))
    up_stack = [upsample(f, 4, apply_dropout=(i < 3)) for i, f in enumerate(up_filters)]

    initializer = tf.random_normal_initializer(0.0, 0.02)
    last = keras.layers.Conv2DTranspose(
        OUTPUT_CHANNELS, 4, strides=2, padding="same", kernel_initializer=initializer, activation="tanh"
    )
    x = inputs
    skips = []
    for down in down_stack:
        x = down(x)
        skips.append(x)
    skips = reversed(skips[:-1])
    for up, skip in zip(up_stack, skips, strict=True):
        x = up(x)
        x = keras.layers.Concatenate()([x, skip])
    x = last(x)
    return keras.Model(inputs=inputs, outputs=x)


def Discriminator(image_size: int = 256, ndf: int = 64):  # noqa: N802 - the tutorial's name
    initializer = tf.random_normal_initializer(0.0, 0.02)
    inp = keras.layers.Input(shape=[image_size, image_size, 3], name="input_image")
    tar = keras.layers.Input(shape=[image_size, image_size, 3], name="target_image")
    x = keras.layers.concatenate([inp, tar])
    down1 = downsample(ndf, 4, False)(x)
    down2 = downsample(ndf * 2, 4)(down1)
    down3 = downsample(ndf * 4, 4)(down2)
    zero_pad1 = keras.layers.ZeroPadding2D()(down3)
    conv = keras.layers.Conv2D(ndf * 8, 4, strides=1, kernel_initializer=initializer, use_bias=False)(
        zero_pad1
    )
    batchnorm1 = keras.layers.BatchNormalization()(conv)
    leaky_relu = keras.layers.LeakyReLU()(batchnorm1)
    zero_pad2 = keras.layers.ZeroPadding2D()(leaky_relu)
    last = keras.layers.Conv2D(1, 4, strides=1, kernel_initializer=initializer)(zero_pad2)
    return keras.Model(inputs=[inp, tar], outputs=last)


class TutorialPix2Pix:
    """Both models, both optimisers and the tutorial's ``train_step``."""

    def __init__(self, image_size: int = 256, ngf: int = 64, ndf: int = 64) -> None:
        self.generator = Generator(image_size, ngf)
        self.discriminator = Discriminator(image_size, ndf)
        self.loss_object = keras.losses.BinaryCrossentropy(from_logits=True)
        self.generator_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.discriminator_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.train_step = tf.function(self._train_step)

    def generator_loss(self, disc_generated_output, gen_output, target):
        gan_loss = self.loss_object(tf.ones_like(disc_generated_output), disc_generated_output)
        l1_loss = tf.reduce_mean(tf.abs(target - gen_output))
        total_gen_loss = gan_loss + (LAMBDA * l1_loss)
        return total_gen_loss, gan_loss, l1_loss

    def discriminator_loss(self, disc_real_output, disc_generated_output):
        real_loss = self.loss_object(tf.ones_like(disc_real_output), disc_real_output)
        generated_loss = self.loss_object(tf.zeros_like(disc_generated_output), disc_generated_output)
        return real_loss + generated_loss

    def _train_step(self, input_image, target):
        generator, discriminator = self.generator, self.discriminator
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            gen_output = generator(input_image, training=True)
            disc_real_output = discriminator([input_image, target], training=True)
            disc_generated_output = discriminator([input_image, gen_output], training=True)
            gen_total_loss, gen_gan_loss, gen_l1_loss = self.generator_loss(
                disc_generated_output, gen_output, target
            )
            disc_loss = self.discriminator_loss(disc_real_output, disc_generated_output)
        generator_gradients = gen_tape.gradient(gen_total_loss, generator.trainable_variables)
        discriminator_gradients = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        self.generator_optimizer.apply_gradients(
            zip(generator_gradients, generator.trainable_variables, strict=True)
        )
        self.discriminator_optimizer.apply_gradients(
            zip(discriminator_gradients, discriminator.trainable_variables, strict=True)
        )
        return gen_total_loss, disc_loss
