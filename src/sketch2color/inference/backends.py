"""Loading a generator in any of its formats behind one interface (:class:`Backend`).

The export stage writes the generator as a SavedModel and TFLite files next
to ``models/generator.keras``; evaluate, the export parity check, colorize,
the GUI and the MLflow model take any of them through here. Each backend
takes and returns uint8 RGB squares so that callers never see a format's own
input range or dtype. ``.keras`` files load with Keras ``safe_mode``; TFLite
runs on LiteRT (``ai-edge-litert``), TensorFlow's successor to the deprecated
``tf.lite.Interpreter``; nothing here unpickles anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from sketch2color.config import InferenceMode
from sketch2color.inference.errors import InferenceError, ModelLoadError
from sketch2color.logs import native_logs_below_level_hidden
from sketch2color.pixels import HINT_CHANNELS, from_model_output, hint_mask, model_inputs, to_model_input

HINTS_SIGNATURE = "with_hints"
"""The exported signature of a hint model that takes (sketch, hints); ``serving_default`` takes the sketch."""


class Backend(Protocol):
    """A loaded generator: uint8 RGB squares (N, S, S, 3) in, uint8 RGB out.

    A model trained with hints (``takes_hints``) also takes uint8 RGBA hint
    squares (N, S, S, 4), whose alpha marks the hint pixels; without them it
    colours as a plain model does.
    """

    format: str
    path: Path
    input_size: int
    takes_hints: bool

    def color_batch(self, sketches: np.ndarray, hints: np.ndarray | None = None) -> np.ndarray: ...


def _square_size(shape, path: Path, channels: tuple[int, ...] = (3,)) -> int:
    """S from a (batch, S, S, C) shape; anything else is not a generator we can drive."""
    dims = tuple(None if d is None or d == -1 else int(d) for d in shape)
    if len(dims) != 4 or dims[3] not in channels or dims[1] is None or dims[1] != dims[2]:
        raise ModelLoadError(
            f"{path}: expected a generator taking (batch, S, S, 3) images, got input shape {shape}"
        )
    return dims[1]


def _refuse_hints(backend: Backend, hints: np.ndarray | None) -> None:
    if hints is not None and not backend.takes_hints and hint_mask(hints).any():
        raise InferenceError(
            f"{backend.path} was not trained with hints (train.hints.enabled); colour without them, "
            "or train a hint model (profiles/openmoji-hints.yaml)"
        )


def _check_output(outputs: np.ndarray, sketches: np.ndarray, backend: Backend) -> np.ndarray:
    if outputs.shape != sketches.shape:
        raise InferenceError(
            f"{backend.path}: the model returned shape {outputs.shape} for input {sketches.shape}; "
            "a generator must return images of its input's shape"
        )
    return outputs


def load_keras_generator(path: str | Path):
    """Load a ``.keras`` generator with Keras ``safe_mode`` on.

    safe_mode refuses Lambda layers and other deserialised Python code, so a
    model file from someone else cannot run arbitrary code on load; the
    generator is built from stock Keras layers only, so ours load normally.
    """
    import keras

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


class KerasBackend:
    """A ``.keras`` generator, traced once per inference mode with a fixed input signature."""

    format = "keras"

    def __init__(self, path: Path, mode: InferenceMode):
        with native_logs_below_level_hidden():
            import tensorflow as tf

            model = load_keras_generator(path)
        self.path = path
        self.mode = mode
        if not hasattr(model, "inputs") or len(model.inputs) != 1:
            raise ModelLoadError(f"{path}: expected a generator with one image input")
        self.model = model  # the network itself, for the export stage's converters
        self.input_size = _square_size(model.input_shape, path, channels=(3, 3 + HINT_CHANNELS))
        channels = int(model.input_shape[-1])
        self.takes_hints = channels == 3 + HINT_CHANNELS
        spec = tf.TensorSpec((None, self.input_size, self.input_size, channels), tf.float32)
        training = mode == "train_dropout"
        self._call = tf.function(lambda x: model(x, training=training), input_signature=[spec])

    def color_batch(self, sketches: np.ndarray, hints: np.ndarray | None = None) -> np.ndarray:
        _refuse_hints(self, hints)
        inputs = model_inputs(sketches, hints, self.takes_hints)
        return _check_output(from_model_output(self._call(inputs)), sketches, self)


class SavedModelBackend:
    """An exported SavedModel's ``serving_default`` signature (uint8 RGB in and out)."""

    format = "savedmodel"

    def __init__(self, path: Path, fallback_size: int | None = None):
        self.path = path
        with native_logs_below_level_hidden():
            import tensorflow as tf

            try:
                self._loaded = tf.saved_model.load(str(path))
            except Exception as exc:  # noqa: BLE001 - every failure here means "not a usable SavedModel"
                raise ModelLoadError(
                    f"{path}: not a loadable SavedModel: {type(exc).__name__}: {exc}"
                ) from None
        signature = self._loaded.signatures.get("serving_default")
        if signature is None:
            raise ModelLoadError(f"{path}: the SavedModel has no 'serving_default' signature")
        args, kwargs = signature.structured_input_signature
        specs = list(args) + list(kwargs.values())
        if len(specs) != 1:
            raise ModelLoadError(f"{path}: 'serving_default' must take one image input, takes {len(specs)}")
        self._input_name = next(iter(kwargs), None)
        self._input_dtype = specs[0].dtype
        shape = specs[0].shape.as_list()
        if fallback_size and len(shape) == 4 and shape[1] is None and shape[2] is None:
            shape = [None, fallback_size, fallback_size, shape[3]]
        self.input_size = _square_size(shape, path)
        self._signature = signature
        self._with_hints = self._loaded.signatures.get(HINTS_SIGNATURE)
        self.takes_hints = self._with_hints is not None

    def color_batch(self, sketches: np.ndarray, hints: np.ndarray | None = None) -> np.ndarray:
        import tensorflow as tf

        _refuse_hints(self, hints)
        if hints is not None and self.takes_hints:
            result = self._with_hints(sketch=tf.constant(sketches), hints=tf.constant(hints, tf.uint8))
            return _check_output(next(iter(result.values())).numpy(), sketches, self)
        if self._input_dtype == tf.uint8:
            inputs = tf.constant(sketches)
        else:
            inputs = tf.constant(to_model_input(sketches), dtype=self._input_dtype)
        result = (
            self._signature(**{self._input_name: inputs}) if self._input_name else self._signature(inputs)
        )
        output = next(iter(result.values())) if isinstance(result, dict) else result
        array = output.numpy()
        array = array if array.dtype == np.uint8 else from_model_output(array)
        return _check_output(array, sketches, self)


class TFLiteBackend:
    """A TFLite generator run by LiteRT, through its signatures when it has them.

    The export stage's files have a ``serving_default`` signature (and a hint
    model a ``with_hints`` one), uint8 in and out; a foreign single-input file
    without signatures is driven through its input tensor, float16 files
    taking float32 tensors in and out.
    """

    format = "tflite"

    def __init__(self, path: Path):
        self.path = path
        self._interpreter = _tflite_interpreter(path)
        signatures = self._interpreter.get_signature_list()
        self.takes_hints = HINTS_SIGNATURE in signatures
        self._runners = {key: self._interpreter.get_signature_runner(key) for key in signatures}
        if "serving_default" in self._runners:
            detail = self._runners["serving_default"].get_input_details()
            if len(detail) != 1:
                raise ModelLoadError(
                    f"{path}: 'serving_default' must take one image input, takes {len(detail)}"
                )
            ((self._input_name, self._input),) = detail.items()
        else:
            detail = self._interpreter.get_input_details()
            if len(detail) != 1:
                raise ModelLoadError(f"{path}: expected one image input, the model has {len(detail)}")
            self._input_name, self._input = None, detail[0]
            self._output_index = self._interpreter.get_output_details()[0]["index"]
        if self._input["dtype"] not in (np.float32, np.float16, np.uint8):
            raise ModelLoadError(
                f"{path}: input type {np.dtype(self._input['dtype']).name} is not supported "
                "(float32, float16 or uint8 RGB expected)"
            )
        self.input_size = _square_size(self._input["shape_signature"], path)
        self._dynamic_batch = int(self._input["shape_signature"][0]) == -1
        self._batch = int(self._input["shape"][0])

    def color_batch(self, sketches: np.ndarray, hints: np.ndarray | None = None) -> np.ndarray:
        _refuse_hints(self, hints)
        given = hints if self.takes_hints else None
        if self._dynamic_batch:
            return _check_output(self._run(sketches, given), sketches, self)
        outputs = [
            self._run(sketches[i : i + 1], None if given is None else given[i : i + 1])
            for i in range(len(sketches))
        ]
        return _check_output(np.concatenate(outputs), sketches, self)

    def _run(self, sketches: np.ndarray, hints: np.ndarray | None) -> np.ndarray:
        dtype = self._input["dtype"]
        inputs = sketches if dtype == np.uint8 else to_model_input(sketches).astype(dtype)
        if hints is not None:
            runner = self._runners[HINTS_SIGNATURE]
            output = next(
                iter(
                    runner(sketch=np.ascontiguousarray(sketches), hints=np.ascontiguousarray(hints)).values()
                )
            )
        elif self._input_name is not None:
            output = next(iter(self._runners["serving_default"](**{self._input_name: inputs}).values()))
        else:
            if self._dynamic_batch and len(sketches) != self._batch:
                self._interpreter.resize_tensor_input(self._input["index"], sketches.shape)
                self._interpreter.allocate_tensors()
                self._batch = len(sketches)
            self._interpreter.set_tensor(self._input["index"], inputs)
            self._interpreter.invoke()
            output = self._interpreter.get_tensor(self._output_index)
        return output.copy() if output.dtype == np.uint8 else from_model_output(output)


def _tflite_interpreter(path: Path, threads: int | None = None):
    """A LiteRT interpreter on all CPU threads (or ``threads``), tensors allocated."""
    from ai_edge_litert import interpreter as litert

    try:
        with native_logs_below_level_hidden():  # LiteRT says it created its XNNPACK delegate
            interpreter = litert.Interpreter(model_path=str(path), num_threads=threads or cpu_threads())
            interpreter.allocate_tensors()
    except Exception as exc:  # noqa: BLE001 - a bad flatbuffer raises ValueError or RuntimeError
        raise ModelLoadError(f"{path}: not a loadable TFLite model: {type(exc).__name__}: {exc}") from None
    return interpreter


def cpu_threads() -> int:
    """The CPUs this process may run on (a container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def model_format(path: Path) -> str:
    """'keras', 'tflite' or 'savedmodel' from what is at ``path``; refuse anything else."""
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return "savedmodel"
        raise ModelLoadError(f"{path}: a folder, but not a SavedModel (no saved_model.pb inside)")
    if not path.exists():
        raise ModelLoadError(f"model not found: {path}")
    if path.name == "saved_model.pb":
        return "savedmodel"
    suffix = path.suffix.lower()
    if suffix == ".keras":
        return "keras"
    if suffix == ".tflite":
        return "tflite"
    raise ModelLoadError(
        f"{path}: unsupported model file; expected a .keras file, a .tflite file or a SavedModel "
        "folder (pickles and .h5 files are never loaded)"
    )


def open_model(path: Path, mode: InferenceMode = "eval", fallback_size: int | None = None) -> Backend:
    """Load an explicitly chosen model file or folder.

    Exported formats have their inference mode fixed when they were exported,
    so only a ``.keras`` model can honour ``mode``.
    """
    kind = model_format(path)
    if kind == "keras":
        return KerasBackend(path, mode)
    if kind == "savedmodel":
        folder = path.parent if path.name == "saved_model.pb" else path
        return SavedModelBackend(folder, fallback_size)
    return TFLiteBackend(path)
