"""Logging the trained generator as MLflow models and registering a new version of it.

Two models are logged: the Keras flavour (the network itself) and the
colorizer pyfunc (:mod:`sketch2color.serving`: pictures in, pictures out),
which is the one registered, so that ``mlflow models serve`` of a version
colours sketches. Kept apart from the run's lifecycle
(:mod:`sketch2color.tracking.run`): this is the one tracking step that
imports Keras and MLflow's model flavours, and the one that must hold the
store lock across several calls (the next version number is decided by the
store, and parallel trainings race for it).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sketch2color.config import InferenceMode
from sketch2color.tracking.store import retry_when_locked, store_lock

if TYPE_CHECKING:
    import keras

GENERATOR_ARTIFACT_NAME = "generator"


def generator_signature(generator: keras.Model, example_sketch: np.ndarray) -> Any:
    """The model signature inferred from one input and the generator's prediction on it.

    ``example_sketch`` is one model input (HxWx3 or 1xHxWx3, in the model's
    [-1, 1] range). MLflow's Keras flavour is imported here, before any store
    call, so a broken install raises as the bug it is instead of being
    counted as a tracking fault.
    """
    from mlflow.models import infer_signature

    importlib.import_module("mlflow.keras")

    example = np.asarray(example_sketch, dtype=np.float32)
    if example.ndim == 3:
        example = example[np.newaxis]
    prediction = np.asarray(generator(example, training=False))
    return infer_signature(example, prediction)


def log_and_register(
    generator: keras.Model,
    signature: Any,
    generator_file: Path,
    mode: InferenceMode,
    name: str,
    tracking_uri: str,
) -> tuple[str, str, int]:
    """Log the generator (Keras flavour) and the colorizer (pyfunc) to MLflow's active run, and
    register the colorizer, the model ``mlflow models serve`` serves; (colorizer URI, Keras URI, version)."""
    import mlflow.keras

    from sketch2color.serving import log_colorizer

    requirements = _generator_pip_requirements()
    with store_lock(tracking_uri):
        keras_info = retry_when_locked(
            lambda: mlflow.keras.log_model(
                generator, name=GENERATOR_ARTIFACT_NAME, signature=signature, pip_requirements=requirements
            ),
            "logging the generator",
        )
        colorizer_info = retry_when_locked(
            lambda: log_colorizer(generator_file, mode, requirements + _colorizer_pip_requirements()),
            "logging the colorizer",
        )
        version = retry_when_locked(
            lambda: mlflow.register_model(colorizer_info.model_uri, name),
            f"registering '{name}'",
        )
    return colorizer_info.model_uri, keras_info.model_uri, int(version.version)


def _generator_pip_requirements() -> list[str]:
    """Explicit pins: inferring them costs MLflow 5-6 s of import tracing per log."""
    import keras

    try:
        tensorflow = f"tensorflow-cpu=={importlib.metadata.version('tensorflow-cpu')}"
    except importlib.metadata.PackageNotFoundError:  # e.g. the [gpu] extra
        import tensorflow as tf

        tensorflow = f"tensorflow=={tf.__version__}"
    return [tensorflow, f"keras=={keras.__version__}"]


def _colorizer_pip_requirements() -> list[str]:
    """What the inference layer imports besides TensorFlow (the package itself travels as code)."""
    names = ("opencv-contrib-python-headless", "pillow", "numpy", "pyyaml", "pandas")
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    return pins
