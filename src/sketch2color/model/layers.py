"""Building blocks shared by the generator and the discriminator.

Every layer here is a stock Keras layer, so a saved ``.keras`` file loads with
``safe_mode=True`` in any process (evaluate, export, the colorize CLI, an
MLflow pyfunc server) without importing this package first.

Instance normalisation is ``GroupNormalization(groups=-1)``: one group per
channel normalises each sample's channel over its own height and width, which
is exactly instance norm. It keeps no running statistics, so it behaves the
same in training and inference and at any batch size, and it already computes
its moments in float32 under mixed precision.
"""

from __future__ import annotations

import keras

from sketch2color.config import Norm

LEAKY_SLOPE = 0.2
KERNEL_SIZE = 4


def weight_init() -> keras.initializers.Initializer:
    """pix2pix's N(0, 0.02) for every conv kernel."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def normalization(norm: Norm, name: str, dtype=None) -> keras.layers.Layer:
    if norm == "batch":
        return keras.layers.BatchNormalization(name=name, dtype=dtype)
    if norm == "instance":
        return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name, dtype=dtype)
    raise ValueError(f"unknown norm {norm!r}; expected 'batch' or 'instance'")


def strided_conv(filters: int, name: str, dtype=None, *, transpose: bool = False) -> keras.layers.Layer:
    """A bias-free 4x4 stride-2 conv with pix2pix's init: halves the size, or doubles it transposed."""
    conv = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
    return conv(
        filters,
        KERNEL_SIZE,
        strides=2,
        padding="same",
        kernel_initializer=weight_init(),
        use_bias=False,
        name=name,
        dtype=dtype,
    )


def down_block(filters: int, name: str, norm: Norm | None, dtype=None) -> keras.Sequential:
    """Conv 4x4 stride 2 (halves the size), optional norm, LeakyReLU(0.2).

    The conv never has a bias, as in the paper's code: after a norm the norm's
    beta replaces it, and the un-normed first conv has none either (that is
    what the paper's discriminator parameter count, 2,770,433, implies). A
    bias on the un-normed 1x1 bottleneck would also trip a TensorFlow graph
    optimiser bug (a "remapper failed" error on every step's trace).
    """
    layers = [strided_conv(filters, f"{name}_conv", dtype)]
    if norm is not None:
        layers.append(normalization(norm, f"{name}_norm", dtype))
    layers.append(keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{name}_act", dtype=dtype))
    return keras.Sequential(layers, name=name)
