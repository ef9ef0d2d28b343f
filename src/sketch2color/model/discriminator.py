"""The 70x70 PatchGAN discriminator (the paper's Table 1 at 256x256).

It sees the sketch and a colour image side by side (6 channels) and answers
real/fake for each overlapping 70x70 patch: a 30x30 map of logits at 256 px.
Judging patches rather than the whole image is what makes the generator paint
sharp local texture while L1 takes care of the overall colours.

The logits are float32 even under mixed precision, so the losses are too.
"""

from __future__ import annotations

import math

import keras

from sketch2color.config import Norm
from sketch2color.model.layers import KERNEL_SIZE, LEAKY_SLOPE, down_block, normalization, weight_init

PATCHGAN_DOWN_BLOCKS = 3


def build_discriminator(image_size: int, ndf: int = 64, norm: Norm = "batch", dtype=None) -> keras.Model:
    """PatchGAN over concat(input_image=sketch, target_image=colour) -> patch logits.

    Below 32 px three halvings would leave nothing for the two 4x4 valid
    convs, so tiny images get one halving fewer (same layers otherwise).
    """
    if image_size < 16:
        raise ValueError(f"the discriminator needs images of at least 16 px, got {image_size}")
    halvings = min(PATCHGAN_DOWN_BLOCKS, int(math.log2(image_size)) - 2)

    sketch = keras.Input(shape=(image_size, image_size, 3), name="input_image")
    color = keras.Input(shape=(image_size, image_size, 3), name="target_image")
    x = keras.layers.Concatenate(name="concatenate", dtype=dtype)([sketch, color])

    for index in range(halvings):
        block_norm = None if index == 0 else norm
        x = down_block(ndf * 2**index, f"down_{index + 1}", block_norm, dtype=dtype)(x)

    x = keras.layers.ZeroPadding2D(name="zero_padding2d", dtype=dtype)(x)
    x = keras.layers.Conv2D(
        ndf * 8,
        KERNEL_SIZE,
        strides=1,
        kernel_initializer=weight_init(),
        use_bias=False,
        name="conv2d",
        dtype=dtype,
    )(x)
    x = normalization(norm, "norm", dtype)(x)
    x = keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="leaky_re_lu", dtype=dtype)(x)
    x = keras.layers.ZeroPadding2D(name="zero_padding2d_1", dtype=dtype)(x)
    logits = keras.layers.Conv2D(
        1,
        KERNEL_SIZE,
        strides=1,
        kernel_initializer=weight_init(),
        name="patch_logits",
        dtype="float32",
    )(x)
    return keras.Model([sketch, color], logits, name="discriminator")
