"""Writing the generator as a SavedModel and as TFLite (LiteRT) models.

Every format has the same contract as the Keras backend of :mod:`sketch2color.inference.backends`:
uint8 RGB ``sketch`` [N, S, S, 3] in, uint8 RGB ``color`` [N, S, S, 3] out,
with the [-1, 1] scaling, rounding (half to even, like ``np.rint``) and
clipping inside the model, so a server or app needs no knowledge of the
training's value range. The batch dimension is dynamic.

The inference mode (``evaluate.inference_mode``) is baked in: ``eval`` calls
the generator with ``training=False`` (dropout off); ``train_dropout`` keeps
dropout on.

Decisions, measured on this project's generator with TF 2.21 / Keras 3:

* The SavedModel is written through ``keras.export.ExportArchive`` (a tracked
  module holding our uint8 serving function and the variables it uses)
  rather than ``tf.saved_model.save`` on a plain ``tf.Module`` that wraps
  the generator. Both load and serve identically, but the TFLite converter
  does not freeze Keras 3 variables reached through a ``tf.Module``
  attribute: the resulting .tflite reads uninitialised variables and
  outputs NaN (all-zero uint8 images). ``ExportArchive`` is also what
  ``TFLiteConverter.from_keras_model`` uses internally, and converts exactly.
  We do not call ``archive.track(generator)``: the endpoint already tracks
  the variables it reads, and tracking the model as well stores every
  weight twice (a SavedModel twice the size of the float32 TFLite file).
* TFLite float32 and float16 (float16 weights, ``Optimize.DEFAULT`` +
  ``supported_types=[float16]``: half the file; on a CPU the weights are
  usually expanded back to float32 at load, so its speed is measured by the
  export stage, not assumed).
* No dynamic-range int8 TFLite model: measured on this CPU for the 256 px
  generator it ran about 9 s per image, against 0.2 s for float32 TFLite and
  0.1 s for Keras in ``tf.function``; a variant 45x slower than float32 earns
  no place in a colouring tool, and float16 already halves the file.
* TFLite cannot express ``train_dropout``: Keras dropout uses the stateless
  random ops (``StatelessRandomUniformV2``), which the builtin TFLite ops
  lack; converting them as TF Select (Flex) ops would tie the .tflite file
  to the full TensorFlow runtime, which is what the SavedModel already is.
  In that mode the TFLite formats are skipped and the reason recorded.
* No ONNX model. The TensorFlow-to-ONNX route is tf2onnx (Keras's own ONNX
  export calls it too), and it is not a dependency of this project:
  tf2onnx 1.16 clashes with TensorFlow 2.21 on protobuf, and tf2onnx 1.17
  converts the full 256 px generator exactly but takes about 45 s and 12 GiB
  of memory, too much for an optional format in a pipeline sized for a
  2-core CPU (ONNX Runtime ran it in 0.056 s against 0.10 s for the
  SavedModel: worth doing by hand for a server that needs it). To get one,
  install tf2onnx 1.17 in a separate environment and convert the SavedModel:
  ``python -m tf2onnx.convert --saved-model models/export/savedmodel
  --output generator.onnx``. ``metrics/export.json`` records
  ``onnx: {produced: false, why: ...}``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Literal

from sketch2color.config import ExportFormat, InferenceMode
from sketch2color.inference.backends import HINTS_SIGNATURE
from sketch2color.paths import ProjectPaths
from sketch2color.pixels import HINT_CHANNELS, model_inputs_tensor, to_model_range, to_pixels

SIGNATURE_KEY = "serving_default"
INPUT_NAME = "sketch"
HINTS_NAME = "hints"
OUTPUT_NAME = "color"

TFLITE_PRECISION: dict[str, Literal["float32", "float16"]] = {
    "tflite_float32": "float32",
    "tflite_float16": "float16",
}

# Short, because dvc metrics show / dvc exp show print it as a column; the
# full reasoning is in the module docstring and the README.
ONNX_NOT_PRODUCED = (
    "tf2onnx is not a dependency: 1.16 clashes with TF 2.21 on protobuf; 1.17 converts "
    "exactly but needs ~12 GiB and 45 s at 256 px"
)


def tflite_unavailable_reason(mode: InferenceMode) -> str | None:
    """Why TFLite cannot be produced in this inference mode, or None if it can."""
    if mode == "train_dropout":
        return (
            "evaluate.inference_mode is train_dropout: Keras dropout needs the stateless "
            "random ops, which the builtin TFLite runtime does not have"
        )
    return None


def takes_hints(generator) -> bool:
    """Whether the generator was trained with hints (it takes the sketch and the hint channels)."""
    return int(generator.input_shape[-1]) == 3 + HINT_CHANNELS


def serving_function(generator, mode: InferenceMode):
    """uint8 sketches -> {"color": uint8}, the model's own scaling inside the graph.

    A hint model colours these without hints (its hint channels all zero).
    """
    import tensorflow as tf

    training = mode == "train_dropout"
    hints = takes_hints(generator)

    def serve(sketch):
        inputs = to_model_range(sketch)
        if hints:
            no_hints = tf.zeros(tf.concat([tf.shape(sketch)[:3], [4]], axis=0), tf.uint8)
            inputs = model_inputs_tensor(sketch, no_hints)
        return {OUTPUT_NAME: to_pixels(generator(inputs, training=training))}

    return serve


def hints_serving_function(generator, mode: InferenceMode):
    """(uint8 sketches, uint8 RGBA hints) -> {"color": uint8}: the ``with_hints`` signature."""
    training = mode == "train_dropout"

    def serve(sketch, hints):
        return {OUTPUT_NAME: to_pixels(generator(model_inputs_tensor(sketch, hints), training=training))}

    return serve


def input_signature(image_size: int, hints: bool = False):
    import tensorflow as tf

    specs = [tf.TensorSpec([None, image_size, image_size, 3], tf.uint8, name=INPUT_NAME)]
    if hints:
        specs.append(tf.TensorSpec([None, image_size, image_size, 4], tf.uint8, name=HINTS_NAME))
    return specs


def write_savedmodel(generator, image_size: int, mode: InferenceMode, target: Path) -> None:
    """A SavedModel whose ``serving_default`` maps uint8 sketches to uint8 colour images, and for a
    hint model a ``with_hints`` signature that also takes the RGBA hints."""
    import keras

    archive = keras.export.ExportArchive()  # no track(): see the module docstring
    archive.add_endpoint(SIGNATURE_KEY, serving_function(generator, mode), input_signature(image_size))
    if takes_hints(generator):
        archive.add_endpoint(
            HINTS_SIGNATURE, hints_serving_function(generator, mode), input_signature(image_size, hints=True)
        )
    archive.write_out(str(target), verbose=False)


def write_tflite(savedmodel: Path, target: Path, precision: Literal["float32", "float16"]) -> None:
    """Convert the SavedModel's serving signatures to a .tflite file (written atomically)."""
    import tensorflow as tf

    from sketch2color import atomic

    loaded = tf.saved_model.load(str(savedmodel))
    keys = [key for key in (SIGNATURE_KEY, HINTS_SIGNATURE) if key in loaded.signatures]
    converter = tf.lite.TFLiteConverter.from_saved_model(str(savedmodel), keys)
    if precision == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    atomic.write_bytes(target, converter.convert())


def write_formats(
    generator, image_size: int, mode: InferenceMode, formats: tuple[ExportFormat, ...], folder: Path
) -> tuple[dict[str, Path], dict[str, str]]:
    """Write each requested format into ``folder``; return (written paths, skipped reasons).

    TFLite is converted from a SavedModel, so one is written to a temporary
    folder when ``savedmodel`` itself is not among the formats.
    """
    written: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    scratch = Path(tempfile.mkdtemp(prefix="sketch2color-savedmodel-"))
    try:
        savedmodel = (
            folder / ProjectPaths.EXPORT_FILES["savedmodel"] if "savedmodel" in formats else scratch / "sm"
        )
        write_savedmodel(generator, image_size, mode, savedmodel)
        if "savedmodel" in formats:
            written["savedmodel"] = savedmodel
        reason = tflite_unavailable_reason(mode)
        for name in formats:
            if name not in TFLITE_PRECISION:
                continue
            if reason is not None:
                skipped[name] = reason
                continue
            target = folder / ProjectPaths.EXPORT_FILES[name]
            write_tflite(savedmodel, target, TFLITE_PRECISION[name])
            written[name] = target
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written, skipped


def size_in_bytes(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
