"""Logging the trained generator network to its training's MLflow run.

The train stage logs the Keras flavour: the network itself, for users who
want it. It registers nothing: the registered model is the colorizer (a
picture in, a picture out), and the export stage logs and registers it
(:mod:`sketch2color.export.registration`), so that the picture code is never
a training dependency and a re-export after a change to it registers a new
version without retraining. This is the one tracking step of training that
imports Keras and MLflow's model flavours.
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

    ``example_sketch`` is one model input (HxWxC or 1xHxWxC, in the model's
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


def log_generator_network(generator: keras.Model, signature: Any, tracking_uri: str) -> str:
    """Log the generator (Keras flavour) to MLflow's active run; its model URI."""
    import mlflow.keras

    requirements = generator_pip_requirements()
    with store_lock(tracking_uri):
        info = retry_when_locked(
            lambda: mlflow.keras.log_model(
                generator, name=GENERATOR_ARTIFACT_NAME, signature=signature, pip_requirements=requirements
            ),
            "logging the generator",
        )
    return info.model_uri


def generator_pip_requirements() -> list[str]:
    """Explicit pins: inferring them costs MLflow 5-6 s of import tracing per log."""
    import keras

    try:
        tensorflow = f"tensorflow-cpu=={importlib.metadata.version('tensorflow-cpu')}"
    except importlib.metadata.PackageNotFoundError:  # e.g. the [gpu] extra
        import tensorflow as tf

        tensorflow = f"tensorflow=={tf.__version__}"
    return [tensorflow, f"keras=={keras.__version__}"]
