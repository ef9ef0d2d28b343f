"""The model's pixel contract: uint8 pixels <-> the generator's [-1, 1] (tanh) range, and its input channels.

The one definition for every side of the model: the data, the tf.data input
pipeline, training, the exported serving graph, evaluate and the inference
layer all import it, so it sits on the ground floor of the package and
imports nothing of it. The tensor forms serve the graphs, the array forms
evaluate, colorize and the figures. Outputs are rounded half to even (``np.rint``
and ``tf.round`` agree) and clipped, so every path turns the same float into
the same pixel.
"""

from __future__ import annotations

import numpy as np

SCALE = 127.5
HINT_CHANNELS = 4
"""A hint model's extra inputs: the hint colours (RGB in [-1, 1], 0 where none) and a 0/1 mask."""
HINT_ALPHA = 128
"""A hint image's pixel with at least this alpha is a hint (a dab), for the model and the fill alike.

A brush's soft edge is fainter, and its straight-alpha colour there is
whatever the paint program left (often the colour blended with transparent
black by a resize): counting it would tint a dab's colour and grow the dab
past where the artist put it. The model's square marks each of its pixels
that a hint pixel covers (:func:`sketch2color.inference.geometry.fit_hints_to_square`),
so a dab of a few pixels still reaches a 64 px model."""


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


def hint_mask(hints: np.ndarray) -> np.ndarray:
    """(..., H, W) bool: the hint pixels (:data:`HINT_ALPHA`) of uint8 RGBA hint images."""
    return np.asarray(hints)[..., 3] >= HINT_ALPHA


def stack_inputs(sketch, hint_colors, hint_mask):
    """A hint model's input channels in their one order: the sketch (RGB), the hint colours (RGB),
    the hint mask (one channel); arrays give an array, tensors a tensor."""
    parts = [sketch, hint_colors, hint_mask]
    if all(isinstance(part, np.ndarray) for part in parts):
        return np.concatenate(parts, axis=-1)
    import tensorflow as tf

    return tf.concat(parts, axis=-1)


def hint_channels(hints: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """The generator's four hint channels from uint8 RGBA hint images (N, S, S, 4).

    A hint pixel (:func:`sketch2color.lineart.hint_mask`) gives its colour
    in [-1, 1] and a mask of 1; everywhere else 0 and 0. ``None`` means no hints (all zero),
    which a hint-trained model colours as a plain one would.
    """
    batch, height, width = shape[:3]
    if hints is None:
        return np.zeros((batch, height, width, 4), np.float32)
    mask = hint_mask(hints)[..., None].astype(np.float32)
    return np.concatenate([to_model_input(hints[..., :3]) * mask, mask], axis=-1)


def model_inputs(sketches: np.ndarray, hints: np.ndarray | None, takes_hints: bool) -> np.ndarray:
    """What the generator takes: the sketches in [-1, 1], and for a hint model the hint channels."""
    inputs = to_model_input(sketches)
    if not takes_hints:
        return inputs
    channels = hint_channels(hints, sketches.shape)
    return stack_inputs(inputs, channels[..., :3], channels[..., 3:])


def model_inputs_tensor(sketches, hints):
    """The tensor form of :func:`model_inputs` for a hint model (uint8 sketches and RGBA hints)."""
    import tensorflow as tf

    # Compared as floats: TFLite has no uint8 GreaterEqual.
    mask = tf.cast(tf.cast(hints[..., 3:4], tf.float32) >= HINT_ALPHA, tf.float32)
    return stack_inputs(to_model_range(sketches), to_model_range(hints[..., :3]) * mask, mask)
