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
HINT_CHANNELS = 4
"""A hint model's extra inputs: the hint colours (RGB in [-1, 1], 0 where none) and a 0/1 mask."""


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


# ---------------------------------------------------------------- hints


def hint_channels(hints: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """The generator's four hint channels from uint8 RGBA hint images (N, S, S, 4).

    A pixel whose alpha is above zero is a hint: its colour in [-1, 1] and a
    mask of 1; everywhere else 0 and 0. ``None`` means no hints (all zero),
    which a hint-trained model colours as a plain one would.
    """
    batch, height, width = shape[:3]
    if hints is None:
        return np.zeros((batch, height, width, 4), np.float32)
    mask = (np.asarray(hints)[..., 3:4] > 0).astype(np.float32)
    return np.concatenate([to_model_input(hints[..., :3]) * mask, mask], axis=-1)


def model_inputs(sketches: np.ndarray, hints: np.ndarray | None, takes_hints: bool) -> np.ndarray:
    """What the generator takes: the sketches in [-1, 1], and for a hint model the hint channels."""
    inputs = to_model_input(sketches)
    if not takes_hints:
        return inputs
    return np.concatenate([inputs, hint_channels(hints, sketches.shape)], axis=-1)


def model_inputs_tensor(sketches, hints):
    """The tensor form of :func:`model_inputs` for a hint model (uint8 sketches and RGBA hints)."""
    import tensorflow as tf

    mask = tf.minimum(tf.cast(hints[..., 3:4], tf.float32), 1.0)  # 0 or 1; TFLite has no uint8 Greater
    return tf.concat([to_model_range(sketches), to_model_range(hints[..., :3]) * mask, mask], axis=-1)
