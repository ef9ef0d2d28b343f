"""Running a trained generator: loading it safely and mapping uint8 images through it.

evaluate, export and the colorize/gui tools all go through this module, so
the inference mode (``evaluate.inference_mode``) means the same everywhere:
``eval`` calls the generator with ``training=False`` (dropout off, batch-norm
moving statistics), ``train_dropout`` keeps dropout on as pix2pix's original
code did at test time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sketch2color.config import InferenceMode
from sketch2color.errors import Sketch2ColorError


class ModelLoadError(Sketch2ColorError):
    """A model file that is missing, unreadable or refused as unsafe."""


def load_generator(path: str | Path):
    """Load a ``.keras`` generator with Keras ``safe_mode`` on.

    safe_mode refuses Lambda layers and other deserialised Python code, so a
    model file from someone else cannot run arbitrary code on load; our own
    layers are registered as serialisable classes and load normally.
    """
    import keras

    import sketch2color.model  # noqa: F401  registers the project's custom layers

    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model file not found: {path}")
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except ValueError as exc:
        if "safe_mode" in str(exc) or "Lambda" in str(exc) or "unsafe" in str(exc).lower():
            raise ModelLoadError(
                f"{path}: refused to load: it contains code that could run on load (Keras safe_mode): {exc}"
            ) from None
        raise ModelLoadError(f"{path}: not a loadable Keras generator: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - zip, h5 and config errors all mean "bad file"
        raise ModelLoadError(f"{path}: not a loadable Keras generator: {type(exc).__name__}: {exc}") from None


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] NHWC -> float32 [-1, 1]."""
    return images.astype(np.float32) / 127.5 - 1.0


def from_model_output(outputs) -> np.ndarray:
    """float [-1, 1] -> uint8 [0, 255], rounded and clipped."""
    values = (np.asarray(outputs, dtype=np.float32) + 1.0) * 127.5
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def predict_uint8(generator, sketches: np.ndarray, mode: InferenceMode = "eval") -> np.ndarray:
    """Colour a batch of uint8 RGB sketches (N, S, S, 3) with the Keras generator."""
    outputs = generator(to_model_input(sketches), training=(mode == "train_dropout"))
    return from_model_output(outputs)
