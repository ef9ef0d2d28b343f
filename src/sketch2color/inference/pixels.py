"""The mapping between uint8 pixels and the generator's [-1, 1] (tanh) range.

The one definition for every side of the model: the tf.data input pipeline
and the exported serving graph use the tensor forms, evaluate, colorize and
the figures the array forms. Outputs are rounded half to even (``np.rint``
and ``tf.round`` agree) and clipped, so every path turns the same float into
the same pixel.
"""

from __future__ import annotations

import numpy as np

SCALE = 127.5


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return np.asarray(images).astype(np.float32) / SCALE - 1.0


def from_model_output(outputs) -> np.ndarray:
    """float [-1, 1] -> uint8 [0, 255], rounded and clipped."""
    values = (np.asarray(outputs, dtype=np.float32) + 1.0) * SCALE
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def to_model_range(images):
    """The tensor form of :func:`to_model_input` (uint8 tensor -> float32)."""
    import tensorflow as tf

    return tf.cast(images, tf.float32) / SCALE - 1.0


def to_pixels(outputs):
    """The tensor form of :func:`from_model_output` (float tensor -> uint8)."""
    import tensorflow as tf

    values = (tf.cast(outputs, tf.float32) + 1.0) * SCALE
    return tf.cast(tf.clip_by_value(tf.round(values), 0.0, 255.0), tf.uint8)
