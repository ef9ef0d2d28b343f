"""The pix2pix U-Net generator (the paper's generator, sized by the image).

The encoder halves the image with each down block until it is 1x1, so the
number of blocks is log2(image_size): 8 at 256 px as in the paper, 6 at 64 px.
Filters follow 64, 128, 256, 512, 512, ... scaled by ``ngf / 64``. The decoder
mirrors it with transposed convs, concatenating the encoder output of the same
size (the U-Net skips that let low-level line positions pass straight through).

Two places get no norm: the first conv (normalising raw pixels only throws
away their contrast) and the 1x1 bottleneck (a norm over one pixel, or over a
batch of one, outputs a constant and cuts the bottleneck off).

The encoder uses LeakyReLU(0.2) and the decoder ReLU, as in pix2pix; dropout
0.5 on the first three decoder blocks is pix2pix's noise source.
"""

from __future__ import annotations

import math

import keras

from sketch2color.config import Norm
from sketch2color.model.layers import (
    KERNEL_SIZE,
    down_block,
    normalization,
    strided_conv,
    weight_init,
)
from sketch2color.pixels import HINT_CHANNELS

DECODER_DROPOUT_BLOCKS = 3
DROPOUT_RATE = 0.5


def encoder_filters(image_size: int, ngf: int) -> list[int]:
    """Filters of each down block: ngf * (1, 2, 4, 8, 8, ...), one block per halving."""
    depth = _depth(image_size)
    return [ngf * min(2**i, 8) for i in range(depth)]


def build_generator(
    image_size: int, ngf: int = 64, norm: Norm = "batch", dtype=None, hints: bool = False
) -> keras.Model:
    """U-Net from a (size, size, 3) sketch in [-1, 1] to a colour image in [-1, 1].

    ``dtype`` is a Keras dtype policy name ("float32", "mixed_float16"); the
    output layer stays float32 so the tanh image and the losses are float32.
    ``hints`` adds :data:`HINT_CHANNELS` input channels (the hint colours and
    their mask, see :mod:`sketch2color.data.hints`); only the first
    convolution sees them, everything after it is the paper's network.
    """
    filters = encoder_filters(image_size, ngf)
    depth = len(filters)
    channels = 3 + (HINT_CHANNELS if hints else 0)
    sketch = keras.Input(
        shape=(image_size, image_size, channels), name="sketch_and_hints" if hints else "sketch"
    )

    x = sketch
    skips = []
    for index, count in enumerate(filters):
        is_first, is_bottleneck = index == 0, index == depth - 1
        block_norm = None if (is_first or is_bottleneck) else norm
        x = down_block(count, f"down_{index + 1}", block_norm, dtype=dtype)(x)
        skips.append(x)

    # Decoder: one up block per encoder block except the bottleneck; each is
    # joined to the encoder output of the same size.
    for index, skip in enumerate(reversed(skips[:-1])):
        count = skip.shape[-1]
        x = _up_block(count, f"up_{index + 1}", norm, index < DECODER_DROPOUT_BLOCKS, dtype)(x)
        x = keras.layers.Concatenate(name=f"skip_{index + 1}", dtype=dtype)([x, skip])

    color = keras.layers.Conv2DTranspose(
        3,
        KERNEL_SIZE,
        strides=2,
        padding="same",
        kernel_initializer=weight_init(),
        activation="tanh",
        name="output",
        dtype="float32",
    )(x)
    return keras.Model(sketch, color, name="generator")


def _up_block(filters: int, name: str, norm: Norm, dropout: bool, dtype) -> keras.Sequential:
    layers = [
        strided_conv(filters, f"{name}_deconv", dtype, transpose=True),
        normalization(norm, f"{name}_norm", dtype),
    ]
    if dropout:
        layers.append(keras.layers.Dropout(DROPOUT_RATE, name=f"{name}_dropout", dtype=dtype))
    layers.append(keras.layers.ReLU(name=f"{name}_act", dtype=dtype))
    return keras.Sequential(layers, name=name)


def _depth(image_size: int) -> int:
    depth = int(round(math.log2(image_size)))
    if image_size < 4 or 2**depth != image_size:
        raise ValueError(f"image_size must be a power of two of at least 4, got {image_size}")
    return depth
