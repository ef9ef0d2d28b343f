"""Logging the trained generator as an MLflow model and registering a new version of it.

Kept apart from the run's lifecycle (:mod:`sketch2color.tracking.run`): this
is the one tracking step that imports Keras and MLflow's Keras flavour, and
the one that must hold the store lock across two calls (the next version
number is decided by the store, and parallel trainings race for it).
"""

from __future__ import annotations

import importlib.metadata
from typing import TYPE_CHECKING, Any

import numpy as np

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


def log_and_register(generator: keras.Model, signature: Any, name: str, tracking_uri: str) -> tuple[str, int]:
    """Log the generator to MLflow's active run and register it; (model URI, new version)."""
    import mlflow.keras

    with store_lock(tracking_uri):
        info = retry_when_locked(
            lambda: mlflow.keras.log_model(
                generator,
                name=GENERATOR_ARTIFACT_NAME,
                signature=signature,
                pip_requirements=_generator_pip_requirements(),
            ),
            "logging the generator",
        )
        version = retry_when_locked(
            lambda: mlflow.register_model(info.model_uri, name),
            f"registering '{name}'",
        )
    return info.model_uri, int(version.version)


def _generator_pip_requirements() -> list[str]:
    """Explicit pins: inferring them costs MLflow 5-6 s of import tracing per log."""
    import keras

    try:
        tensorflow = f"tensorflow-cpu=={importlib.metadata.version('tensorflow-cpu')}"
    except importlib.metadata.PackageNotFoundError:  # e.g. the [gpu] extra
        import tensorflow as tf

        tensorflow = f"tensorflow=={tf.__version__}"
    return [tensorflow, f"keras=={keras.__version__}"]
