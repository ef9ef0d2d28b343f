"""The registered MLflow model: a picture in, a coloured picture out, so that ``mlflow models serve`` colours.

The train stage logs the network itself (the Keras flavour); the export stage
logs this pyfunc to the same run and registers it
(:mod:`sketch2color.export.registration`). The pyfunc carries the Keras
generator as an artifact and the modules of this package that serving
imports as its code, and colours through the inference layer, exactly as
``colorize``:

* input: a DataFrame (or the ``inputs`` of a JSON request) with an ``image``
  column of base64 PNG or JPEG sketches of any size, and for a model trained
  with hints an optional ``hints`` column: base64 RGBA PNGs of any size whose
  non-transparent pixels are colour hints (scaled with their sketch);
* params: ``output`` is ``line_faithful`` (the default) or ``raw``;
* output: a DataFrame whose ``image`` column holds each coloured picture, at
  its sketch's size, as base64 PNG.

Serve it with ``mlflow models serve -m models:/sketch2color-generator/latest
--env-manager local``; a sketch that cannot be decoded is a 400 answer that
names its row.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PythonModel

from sketch2color.config import InferenceMode, SafetyConfig
from sketch2color.inference.colorizer import DEFAULT_OUTPUT, OUTPUT_MODES

IMAGE_COLUMN = "image"
HINTS_COLUMN = "hints"
GENERATOR_ARTIFACT = "generator"
SETTINGS_ARTIFACT = "settings"
"""A small JSON artifact (the inference mode); MLflow would log a model_config as run params too."""
OUTPUT_PARAM = "output"
MAX_IMAGE_PIXELS = SafetyConfig().max_image_pixels
"""Served sketches are untrusted: the pipeline's own default decompression-bomb limit applies."""


class ServingError(MlflowException):
    """A request the model cannot colour; MLflow answers it with a 400 and this message."""

    def __init__(self, message: str) -> None:
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)


def encode_png(image: np.ndarray) -> str:
    from sketch2color.image_io import encode_rgb

    return base64.b64encode(encode_rgb(image, ".png")).decode("ascii")


def decode_image(text: str, row: int, column: str = IMAGE_COLUMN) -> np.ndarray:
    """A base64 PNG or JPEG into RGB (the hints column: RGBA), through the decoder for untrusted files."""
    from sketch2color.data.images import BadImage, load_rgb, load_rgba

    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ServingError(f"row {row}: '{column}' is not base64 text") from None
    decode = load_rgba if column == HINTS_COLUMN else load_rgb
    try:
        return decode(io.BytesIO(data), MAX_IMAGE_PIXELS)
    except BadImage as exc:
        raise ServingError(f"row {row}: '{column}' is not a usable image: {exc}") from None


def request_column(model_input: Any, column: str) -> list[str | None]:
    """One column of a request as base64 texts (None where a row has none), whichever shape
    MLflow hands the request over in: a DataFrame, a dict of columns, or a bare list of images."""
    if hasattr(model_input, "columns"):  # a pandas DataFrame
        values = model_input[column].tolist() if column in model_input.columns else None
        rows = len(model_input)
    elif isinstance(model_input, dict):
        values = model_input.get(column)
        values = None if values is None else np.atleast_1d(values).tolist()
        rows = len(np.atleast_1d(model_input.get(IMAGE_COLUMN, [])))
    else:
        values = np.atleast_1d(model_input).tolist() if column == IMAGE_COLUMN else None
        rows = len(np.atleast_1d(model_input))
    if values is None:
        return [None] * rows
    return [None if _missing(value) else str(value) for value in values]


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and np.isnan(value))


class SketchColorizer(PythonModel):
    """The pyfunc MLflow loads and serves."""

    def load_context(self, context) -> None:
        from sketch2color.inference.backends import KerasBackend

        settings = json.loads(Path(context.artifacts[SETTINGS_ARTIFACT]).read_text(encoding="utf-8"))
        mode: InferenceMode = settings.get("inference_mode", "eval")
        self.backend = KerasBackend(Path(context.artifacts[GENERATOR_ARTIFACT]), mode)

    def predict(self, context, model_input, params: dict[str, Any] | None = None):
        import pandas as pd

        from sketch2color.inference.colorizer import color_sketches

        output = (params or {}).get(OUTPUT_PARAM) or DEFAULT_OUTPUT
        if output not in OUTPUT_MODES:
            raise ServingError(
                f"params.{OUTPUT_PARAM} is {output!r}; expected one of {', '.join(OUTPUT_MODES)}"
            )
        images = request_column(model_input, IMAGE_COLUMN)
        texts = [text for text in images if text is not None]
        if len(texts) < len(images):
            row = images.index(None)
            raise ServingError(f"row {row}: no '{IMAGE_COLUMN}' (every row needs a base64 sketch)")
        sketches = [decode_image(text, row) for row, text in enumerate(texts)]
        hints = [
            None if text is None else decode_image(text, row, HINTS_COLUMN)
            for row, text in enumerate(request_column(model_input, HINTS_COLUMN))
        ]
        if any(h is not None for h in hints) and not self.backend.takes_hints:
            raise ServingError(f"this model was not trained with hints; send no '{HINTS_COLUMN}' column")
        colored = color_sketches(self.backend, sketches, hints) if sketches else []
        return pd.DataFrame({IMAGE_COLUMN: [encode_png(answer.picture(output)) for answer in colored]})


def signature():
    """Strings in and out (base64 pictures), and the output mode as a param."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    return ModelSignature(
        inputs=Schema([ColSpec("string", IMAGE_COLUMN), ColSpec("string", HINTS_COLUMN, required=False)]),
        outputs=Schema([ColSpec("string", IMAGE_COLUMN)]),
        params=ParamSchema([ParamSpec(OUTPUT_PARAM, "string", DEFAULT_OUTPUT)]),
    )
