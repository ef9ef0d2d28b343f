"""Tiny stand-in generators (and hostile model files) for the colorize and GUI tests.

Each model has a known answer, so a test can tell a right result from a
wrong one: the identity model returns its input (geometry, transparency and
channel order survive the round trip), the red model returns pure red
whatever it is given (a BGR mix-up would show blue).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

SIZE = 32
RED = (255, 0, 0)


def _keras():
    import keras

    return keras


def identity_generator(size: int = SIZE):
    """A linear 1x1 convolution with the identity kernel: output == input in [-1, 1]."""
    keras = _keras()
    inputs = keras.Input((size, size, 3))
    outputs = keras.layers.Conv2D(3, 1, use_bias=False, name="identity")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("identity").set_weights([np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3)])
    return model


def red_generator(size: int = SIZE):
    """Pure red everywhere: zero kernel, biases pushing tanh to (+1, -1, -1)."""
    keras = _keras()
    inputs = keras.Input((size, size, 3))
    outputs = keras.layers.Conv2D(3, 1, activation="tanh", name="paint")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("paint").set_weights(
        [np.zeros((1, 1, 3, 3), np.float32), np.array([20.0, -20.0, -20.0], np.float32)]
    )
    return model


def save_identity(path: Path, size: int = SIZE) -> Path:
    identity_generator(size).save(path)
    return path


def save_red(path: Path, size: int = SIZE) -> Path:
    red_generator(size).save(path)
    return path


def save_lambda_model(path: Path, size: int = SIZE) -> Path:
    """A .keras file whose Lambda layer would run stored Python code on load."""
    keras = _keras()
    inputs = keras.Input((size, size, 3))
    outputs = keras.layers.Lambda(lambda x: x * 0.5)(inputs)
    keras.Model(inputs, outputs).save(path)
    return path


class _TouchOnUnpickle:
    """Unpickling this creates ``marker``: proof that a loader ran a pickle's payload."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def save_pickle_payload(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps(_TouchOnUnpickle(marker)))
    return path


def hint_echo_generator(size: int = SIZE):
    """A hint model with a known answer: each hint's colour where the hint is, black elsewhere.

    One 1x1 convolution over (sketch, hint colours, mask): colour = hint + mask - 1, so a hint
    pixel (mask 1) gives its colour and any other pixel (colour 0, mask 0) gives -1, black.
    """
    keras = _keras()
    inputs = keras.Input((size, size, 7))
    outputs = keras.layers.Conv2D(3, 1, name="echo")(inputs)
    model = keras.Model(inputs, outputs)
    kernel = np.zeros((1, 1, 7, 3), np.float32)
    for channel in range(3):
        kernel[0, 0, 3 + channel, channel] = 1.0
        kernel[0, 0, 6, channel] = 1.0
    model.get_layer("echo").set_weights([kernel, np.full(3, -1.0, np.float32)])
    return model


def save_hint_echo(path: Path, size: int = SIZE) -> Path:
    hint_echo_generator(size).save(path)
    return path


def hint_identity_generator(size: int = SIZE):
    """A hint model that colours a sketch as the sketch itself and ignores the hints: the dabs then
    show only where the picture's own fill puts them (a closed shape), never through the model."""
    keras = _keras()
    inputs = keras.Input((size, size, 7))
    outputs = keras.layers.Conv2D(3, 1, use_bias=False, name="identity")(inputs)
    model = keras.Model(inputs, outputs)
    kernel = np.zeros((1, 1, 7, 3), np.float32)
    kernel[0, 0, :3, :] = np.eye(3, dtype=np.float32)
    model.get_layer("identity").set_weights([kernel])
    return model


def save_hint_identity(path: Path, size: int = SIZE) -> Path:
    hint_identity_generator(size).save(path)
    return path
