"""The registered MLflow model: a picture in, a coloured picture out, so that ``mlflow models serve`` colours.

The train stage logs the network itself (the Keras flavour); the export stage
logs this pyfunc to the same run and registers it
(:mod:`sketch2color.export.registration`). The pyfunc carries the Keras
generator as an artifact and the modules of this package that serving
imports as its code, and colours through the inference layer, exactly as
``colorize``:

* input: a DataFrame (or the ``inputs`` of a JSON request) with an ``image``
  column of base64 pictures (PNG, JPEG, WebP, BMP, TIFF, GIF) of any size, and
  an optional ``hints`` column: base64 RGBA PNGs of any size whose
  non-transparent pixels are colour dabs (scaled with their sketch). Every
  model takes them: each dab fills its region in the picture; a model
  trained with hints also sees them;
* params (:data:`REQUEST_PARAMS`): ``output`` is ``line_faithful`` (the
  default) or ``raw``; ``gap`` (pixels; none: scaled with the sketch),
  ``line_darkness`` and ``fill_rule`` are ``colorize``'s ``--gap``,
  ``--line-darkness`` and ``--fill-rule``;
* output: a DataFrame whose ``image`` column holds each coloured picture, at
  its sketch's size, as base64 PNG.

Requests come from strangers, so each one is bounded (:class:`ServingLimits`,
the served model's settings) before any picture is decoded, stops when the
scoring server's timeout has passed, and is refused with a short reason that
names the row, the column and the bound; the request itself is never echoed.
Serve it with ``mlflow models serve -m models:/sketch2color-generator/latest
--env-manager local``; ``sketch2color serve`` (:mod:`sketch2color.serving_guard`)
puts a guard in front of that server which bounds the body and keeps
MLflow's own refusals (of JSON it cannot parse, say) short as well.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import ctypes.util
import io
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import DEADLINE_EXCEEDED, INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sketch2color.config import InferenceMode
from sketch2color.inference.colorizer import DEFAULT_OUTPUT, OUTPUT_MODES
from sketch2color.inference.compose import DEFAULT_FILL, FillSettings
from sketch2color.inference.fill import FILL_RULES

IMAGE_COLUMN = "image"
HINTS_COLUMN = "hints"
COLUMNS = (IMAGE_COLUMN, HINTS_COLUMN)
GENERATOR_ARTIFACT = "generator"
SETTINGS_ARTIFACT = "settings"
"""A small JSON artifact (the inference mode); MLflow would log a model_config as run params too."""
OUTPUT_PARAM = "output"
GAP_PARAM = "gap"
LINE_DARKNESS_PARAM = "line_darkness"
FILL_RULE_PARAM = "fill_rule"
MAX_GAP = 1000
"""The widest gap a request may close, in pixels (the trapped ball's cost grows with it)."""
MAX_REASON_CHARS = 240
"""A refusal's reason is cut here: the answer stays a few hundred bytes whatever a decoder says."""


# ---------------------------------------------------------------- settings and params

Count = Annotated[int, Field(ge=1, le=2**62)]


class ServingLimits(BaseModel):
    """The bounds on one request: the served model's settings, with safe defaults.

    They travel as MLflow's ``model_config`` of the registered model (its
    MLmodel file lists them), and a deployment overrides any of them when it
    starts the server, without a new model version:
    ``MLFLOW_PYFUNC_INFERENCE_CONFIG='{"max_rows": 4}' mlflow models serve ...``
    (MLflow's own variable, read when the model loads; a key the model does
    not list is ignored with a warning). A bad value stops the server as it
    loads the model, naming the key.
    """

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    max_rows: Count = 16
    """Rows (pictures) per request."""
    max_pixels: Count = 16_777_216
    """Decoded pixels per request, sketches and hint images together, counted from every header
    before any is decoded: one 4096x4096 sketch, or a 4000x3000 one with room to spare."""
    parallel_requests: Count = 1
    """Requests coloured at once in one server worker; the others wait their turn, undecoded. TensorFlow
    and OpenCV already use every core for one request, so more mostly multiplies the memory."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> ServingLimits:
        """The limits in ``config`` (MLflow's model_config), the defaults for those it lacks."""
        try:
            return cls.model_validate(dict(config or {}))
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"model_config {key}: {first['msg']} (got {first.get('input')!r})") from None

    def as_config(self) -> dict[str, int]:
        return self.model_dump()


@dataclass(frozen=True)
class RequestParam:
    """One of a request's ``params``: its MLflow type (for the signature), its default, and its check,
    which returns what is wrong with a value (None when it is fine)."""

    name: str
    mlflow_type: str
    default: Any
    problem: Callable[[Any], str | None]


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    return lambda value: None if value in choices else f"expected one of {', '.join(choices)}"


def _gap(value: Any) -> str | None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if value is None or (number and 1 <= value <= MAX_GAP):
        return None
    return f"expected pixels from 1 to {MAX_GAP}, or none for the default (scaled with the sketch)"


def _darkness(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 255:
        return None
    return "expected a whole number from 1 to 255"


REQUEST_PARAMS: tuple[RequestParam, ...] = (
    RequestParam(OUTPUT_PARAM, "string", DEFAULT_OUTPUT, _one_of(OUTPUT_MODES)),
    RequestParam(GAP_PARAM, "double", DEFAULT_FILL.gap, _gap),
    RequestParam(LINE_DARKNESS_PARAM, "long", DEFAULT_FILL.line_darkness, _darkness),
    RequestParam(FILL_RULE_PARAM, "string", DEFAULT_FILL.rule, _one_of(FILL_RULES)),
)
"""Every param a request may set; the signature and :func:`request_params` both read this table."""


def request_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every param's value for one request (its default where the request sets none), each checked."""
    params = params or {}
    values = {}
    for param in REQUEST_PARAMS:
        value = params.get(param.name)
        value = param.default if value is None else value
        if problem := param.problem(value):
            raise ServingError(f"params.{param.name}: {problem}")
        values[param.name] = value
    return values


# ---------------------------------------------------------------- refusals


class ServingError(MlflowException):
    """A request the model refuses: MLflow answers with the error code's status and this short message.

    MLflow's scoring server rewrites the ``message`` of an MlflowException that
    ``predict`` raises into "Failed to predict data '<the whole request>' ...":
    a 60 KB sketch made a 125 KB error, a 200 MB body a 200 MB one. So the
    message is set once, by MlflowException's own constructor, and later
    assignments leave it as it is: the answer carries the reason alone.
    """

    def __init__(self, reason: str, error_code: int = INVALID_PARAMETER_VALUE) -> None:
        if len(reason) > MAX_REASON_CHARS:
            reason = reason[: MAX_REASON_CHARS - 3] + "..."
        super().__init__(reason, error_code=error_code)

    @property
    def message(self) -> str:
        return self._reason

    @message.setter
    def message(self, value: str) -> None:
        if not hasattr(self, "_reason"):
            self._reason = value


def refuse(row: int, column: str, reason: str) -> ServingError:
    return ServingError(f"row {row}, column '{column}': {reason}")


class Deadline:
    """When the scoring server stops waiting for this request; past it, the request's work stops too.

    MLflow's scoring server answers 504 after ``MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT``
    seconds (``mlflow models serve -t``) but cannot stop ``predict``, which runs
    in a thread: without these checks the work went on for minutes after the
    answer. Each row's decoding and picture is one step, so work stops within
    one step (about a second at the pixel bound) of the timeout. The clock
    starts when ``predict`` is called, after the body was read and parsed.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def check(self) -> None:
        if time.monotonic() > self.ends:
            raise self.expired()

    def expired(self) -> ServingError:
        return ServingError(
            f"stopped after the server's timeout of {self.seconds:g} s "
            "(MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT); send fewer or smaller pictures",
            DEADLINE_EXCEEDED,
        )


def server_timeout_s() -> float:
    """The scoring server's own timeout: ``mlflow models serve`` puts it in every worker's environment."""
    from mlflow.environment_variables import MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT

    return float(MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT.get())


# ---------------------------------------------------------------- pictures in and out


def encode_png(image: np.ndarray) -> str:
    from sketch2color.image_io import encode_rgb

    return base64.b64encode(encode_rgb(image, ".png")).decode("ascii")


def base64_bytes(text: str, row: int, column: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise refuse(row, column, "not base64 text") from None


def request_column(model_input: Any, column: str) -> list[Any]:
    """One column of a request, a value per row (None where a row has none; base64 text where the
    request is well formed), whichever shape MLflow hands the request over in: a DataFrame, a dict
    of columns, or a bare list of images."""
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
    return [None if _missing(value) else value for value in values]


def _missing(value: Any) -> bool:
    # MLflow's parser turns a JSON null in the ``inputs`` form into the text "None" (a column of
    # strings); as base64 it would be three bytes, never a picture, so it means "no picture" too.
    return (
        value is None
        or (isinstance(value, str) and value in ("", "None"))
        or (isinstance(value, float) and np.isnan(value))
    )


@dataclass(frozen=True)
class Row:
    """One row's pictures as bytes, read and measured but not decoded (hints: None when it has none)."""

    image: bytes
    hints: bytes | None


def read_rows(model_input: Any, limits: ServingLimits) -> list[Row]:
    """The request's pictures as bytes, every bound checked from the headers before any pixel is decoded."""
    columns = {column: request_column(model_input, column) for column in COLUMNS}
    count = len(columns[IMAGE_COLUMN])
    if count > limits.max_rows:
        raise ServingError(
            f"row {limits.max_rows}: the request has {count} rows, "
            f"over the limit of max_rows={limits.max_rows}"
        )
    rows, total = [], 0
    for row in range(count):
        image_text, hints_text = columns[IMAGE_COLUMN][row], columns[HINTS_COLUMN][row]
        if image_text is None:
            raise refuse(row, IMAGE_COLUMN, "no image (null or empty): every row needs a base64 sketch")
        pictures: dict[str, bytes] = {}
        for column, text in ((IMAGE_COLUMN, image_text), (HINTS_COLUMN, hints_text)):
            if text is None:
                continue
            pictures[column], (width, height) = _measured(text, row, column, limits)
            total += width * height
            if total > limits.max_pixels:
                raise refuse(
                    row,
                    column,
                    f"its {width}x{height} pixels bring the request to {total:,} pixels, "
                    f"over the limit of max_pixels={limits.max_pixels:,}",
                )
        rows.append(Row(pictures[IMAGE_COLUMN], pictures.get(HINTS_COLUMN)))
    return rows


def _measured(text: Any, row: int, column: str, limits: ServingLimits) -> tuple[bytes, tuple[int, int]]:
    """One picture's bytes and its (width, height), from its header alone."""
    from sketch2color.data.images import BadImage, picture_size

    if not isinstance(text, str):
        raise refuse(row, column, f"expected base64 text, got {type(text).__name__}")
    data = base64_bytes(text, row, column)
    try:
        size = picture_size(io.BytesIO(data), limits.max_pixels, "max_pixels")
    except BadImage as exc:
        raise refuse(row, column, str(exc)) from None
    return data, size


def decode(data: bytes, row: int, column: str, limits: ServingLimits) -> np.ndarray:
    """A sketch into RGB (a hint image: RGBA), through the one decoder for untrusted files."""
    from sketch2color.data.images import BadImage, load_rgb, load_rgba

    load = load_rgba if column == HINTS_COLUMN else load_rgb
    try:
        return load(io.BytesIO(data), limits.max_pixels, "max_pixels")
    except BadImage as exc:
        raise refuse(row, column, str(exc)) from None


def keep_freed_memory_returnable() -> None:
    """Make glibc give freed memory back to the system instead of keeping it for later (glibc only).

    Two of its habits held a worker 200-350 MiB above idle after a load of
    4000x3000 sketches from 8 clients:

    * blocks over its mmap threshold get mappings of their own, unmapped when
      freed, but each such block freed raises the threshold to its size (up to
      32 MiB), after which pictures come from its heaps and stay there; the
      threshold is fixed here instead (``M_MMAP_THRESHOLD``);
    * each thread that allocates may get an arena of its own, and the scoring
      server parses requests in a pool of threads, so several arenas each kept
      the fragments of one big request; two arenas (``M_ARENA_MAX``) are
      plenty for a process whose heavy work is one request at a time.

    Measured with 16 requests of 4000x3000 from 8 clients, three times over:
    85-155 MiB over idle afterwards instead of 170-205, and 123 MiB instead of
    251 after the largest request the bounds allow (``make bench`` reports it).
    """
    if _LIBC is not None:
        _LIBC.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        _LIBC.mallopt(_M_ARENA_MAX, _ARENAS)


def release_freed_memory() -> None:
    """Hand back what a request freed in glibc's heaps (the small blocks); elsewhere this does nothing."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc's malloc.h
_MMAP_THRESHOLD_BYTES = 1 << 20
"""1 MiB: a picture row or a request's text is larger, TensorFlow's small tensors are not."""
_ARENAS = 2


def _glibc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return (
            libc if libc is not None and hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
        )
    except OSError:
        return None


_LIBC = _glibc()


# ---------------------------------------------------------------- the model


class SketchColorizer(PythonModel):
    """The pyfunc MLflow loads and serves."""

    def load_context(self, context) -> None:
        from sketch2color.inference.backends import KerasBackend

        settings = json.loads(Path(context.artifacts[SETTINGS_ARTIFACT]).read_text(encoding="utf-8"))
        mode: InferenceMode = settings.get("inference_mode", "eval")
        self.backend = KerasBackend(Path(context.artifacts[GENERATOR_ARTIFACT]), mode)
        self.limits = ServingLimits.from_config(getattr(context, "model_config", None))
        self.turns = threading.BoundedSemaphore(self.limits.parallel_requests)
        keep_freed_memory_returnable()

    # The DataFrame hint is what MLflow hands over under the signature's columns; it is one of the hints
    # MLflow infers no schema from, so the logged signature() stays in charge, and it spares every import
    # of this module MLflow's "Add type hints to the predict method" warning.
    def predict(self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None):
        deadline = Deadline(server_timeout_s())
        values = request_params(params)
        rows = read_rows(model_input, self.limits)
        if not self.turns.acquire(timeout=deadline.remaining()):
            raise deadline.expired()
        try:
            pictures = self._color(rows, values, deadline)
        finally:
            self.turns.release()
            release_freed_memory()
        return pd.DataFrame({IMAGE_COLUMN: pictures})

    def _color(self, rows: list[Row], values: dict[str, Any], deadline: Deadline) -> list[str]:
        from sketch2color.inference.colorizer import color_prepared, prepare

        prepared = []
        for index, row in enumerate(rows):
            deadline.check()
            sketch = decode(row.image, index, IMAGE_COLUMN, self.limits)
            hints = None if row.hints is None else decode(row.hints, index, HINTS_COLUMN, self.limits)
            prepared.append(prepare(sketch, self.backend.input_size, hints, self.backend.takes_hints))
        fill = FillSettings(values[GAP_PARAM], values[LINE_DARKNESS_PARAM], values[FILL_RULE_PARAM])
        pending = list(reversed(color_prepared(self.backend, prepared))) if prepared else []
        del prepared
        pictures = []
        while pending:
            deadline.check()
            answer = pending.pop()  # dropped once painted: its full-size sketch is not needed any more
            pictures.append(encode_png(answer.picture(values[OUTPUT_PARAM], fill)))
            del answer
        return pictures


def signature():
    """Strings in and out (base64 pictures), and :data:`REQUEST_PARAMS` as params."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    return ModelSignature(
        inputs=Schema([ColSpec("string", IMAGE_COLUMN), ColSpec("string", HINTS_COLUMN, required=False)]),
        outputs=Schema([ColSpec("string", IMAGE_COLUMN)]),
        params=ParamSchema([ParamSpec(p.name, p.mlflow_type, p.default) for p in REQUEST_PARAMS]),
    )
