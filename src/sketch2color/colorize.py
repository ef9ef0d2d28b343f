"""Colouring sketch files of any size with the trained generator (``sketch2color colorize``).

A sketch from a user can have any size, aspect ratio and pixel format, while
the generator only takes S x S RGB. Each file is decoded by
:func:`sketch2color.data.images.load_rgb` (the same untrusted-file decoder the
pipeline uses), fitted into a white S x S square without distortion, coloured,
and the coloured square is cut back out and resized to the file's own size.

The generator is the fastest exported format available among those that
agreed with the Keras model (``fastest`` and ``usable`` in the export
stage's manifest ``models/export/formats.json``, else ``metrics/export.json``),
with ``models/generator.keras`` as the fallback; ``--model`` picks a
``.keras`` file, a ``.tflite`` file or a SavedModel folder explicitly. ``.keras`` files load through
:func:`sketch2color.inference.load_generator` (Keras ``safe_mode``); nothing
here unpickles anything.

Folders are streamed: only a small fixed window of files (a couple of
batches of S x S squares, and one full-size image per I/O thread) is in
memory at a time, whatever the folder's size. One bad file is
reported on stderr and skipped; the exit code is 1 if any file failed, so a
script can tell.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol, Sequence

import cv2
import numpy as np

from sketch2color.config import SafetyConfig
from sketch2color.data.images import IMAGE_SUFFIXES, BadImage, load_rgb
from sketch2color.errors import ConfigError, Sketch2ColorError
from sketch2color.image_io import write_rgb
from sketch2color.inference import InferenceMode, ModelLoadError, from_model_output, to_model_input
from sketch2color.paths import ProjectPaths

WHITE = 255
DEFAULT_BATCH_SIZE = 8
# Decoding and PNG encoding release the GIL; a few threads keep the model fed.
DEFAULT_IO_WORKERS = max(1, min(4, os.cpu_count() or 1))

# What the export stage writes under models/export/ (sketch2color.export.formats);
# its manifest formats.json names the files, these are the defaults without one.
EXPORT_MANIFEST = "formats.json"
SAVEDMODEL_DIR_NAMES = ("savedmodel", "saved_model")
TFLITE_FILES = {"tflite_float32": "generator_float32.tflite", "tflite_float16": "generator_float16.tflite"}
# Used when metrics/export.json names no fastest format: measured on CPU, a
# SavedModel runs as fast as Keras in tf.function, TFLite float about 2x slower.
FORMAT_PREFERENCE = ("savedmodel", "tflite_float32", "tflite_float16", "keras")

Report = Callable[[str], None]


class ColorizeError(Sketch2ColorError):
    """A request that cannot be carried out as asked (bad -o, bad mode for a format)."""


# ---------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Placement:
    """Where an image of ``height`` x ``width`` sits inside the model's white square."""

    height: int
    width: int
    top: int
    left: int
    inner_height: int
    inner_width: int


def _interpolation(source_hw: tuple[int, int], target_hw: tuple[int, int]) -> int:
    """Area averaging when shrinking (thin lines survive), cubic when enlarging."""
    shrinking = target_hw[0] <= source_hw[0] and target_hw[1] <= source_hw[1]
    return cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return np.ascontiguousarray(image)
    method = _interpolation(image.shape[:2], (height, width))
    return cv2.resize(np.ascontiguousarray(image), (width, height), interpolation=method)


def fit_to_square(rgb: np.ndarray, size: int) -> tuple[np.ndarray, Placement]:
    """Pad an image to a white square and resize it to size x size, keeping its aspect ratio.

    The image is scaled first and padded second: the result is the same as
    padding then scaling, but a 40-megapixel strip never becomes a
    gigapixel square in memory.
    """
    height, width = rgb.shape[:2]
    scale = size / max(height, width)
    inner_height = min(size, max(1, round(height * scale)))
    inner_width = min(size, max(1, round(width * scale)))
    top, left = (size - inner_height) // 2, (size - inner_width) // 2
    square = np.full((size, size, 3), WHITE, np.uint8)
    square[top : top + inner_height, left : left + inner_width] = _resize(rgb, inner_height, inner_width)
    return square, Placement(height, width, top, left, inner_height, inner_width)


def restore_from_square(square: np.ndarray, placement: Placement) -> np.ndarray:
    """Cut the image's region out of a coloured square and bring it back to its own size."""
    p = placement
    inner = square[p.top : p.top + p.inner_height, p.left : p.left + p.inner_width]
    return _resize(inner, p.height, p.width)


# ---------------------------------------------------------------- backends


class Backend(Protocol):
    """A loaded generator: uint8 RGB squares (N, S, S, 3) in, uint8 RGB out."""

    format: str
    path: Path
    input_size: int

    def colour_batch(self, sketches: np.ndarray) -> np.ndarray: ...


def _square_size(shape, path: Path) -> int:
    """S from a (batch, S, S, 3) shape; anything else is not a generator we can drive."""
    dims = tuple(None if d is None or d == -1 else int(d) for d in shape)
    if len(dims) != 4 or dims[3] != 3 or dims[1] is None or dims[1] != dims[2]:
        raise ModelLoadError(
            f"{path}: expected a generator taking (batch, S, S, 3) images, got input shape {shape}"
        )
    return dims[1]


def _check_output(outputs: np.ndarray, sketches: np.ndarray, backend: Backend) -> np.ndarray:
    if outputs.shape != sketches.shape:
        raise ColorizeError(
            f"{backend.path}: the model returned shape {outputs.shape} for input {sketches.shape}; "
            "a generator must return images of its input's shape"
        )
    return outputs


class KerasBackend:
    """A ``.keras`` generator, traced once per inference mode with a fixed input signature."""

    format = "keras"

    def __init__(self, path: Path, mode: InferenceMode):
        import tensorflow as tf

        from sketch2color.inference import load_generator

        self.path = path
        self.mode = mode
        model = load_generator(path)
        if not hasattr(model, "inputs") or len(model.inputs) != 1:
            raise ModelLoadError(f"{path}: expected a generator with one image input")
        self.input_size = _square_size(model.input_shape, path)
        spec = tf.TensorSpec((None, self.input_size, self.input_size, 3), tf.float32)
        training = mode == "train_dropout"
        self._call = tf.function(lambda x: model(x, training=training), input_signature=[spec])

    def colour_batch(self, sketches: np.ndarray) -> np.ndarray:
        return _check_output(from_model_output(self._call(to_model_input(sketches))), sketches, self)


class SavedModelBackend:
    """An exported SavedModel's ``serving_default`` signature (uint8 RGB in and out)."""

    format = "savedmodel"

    def __init__(self, path: Path, fallback_size: int | None = None):
        import tensorflow as tf

        self.path = path
        try:
            self._loaded = tf.saved_model.load(str(path))
        except Exception as exc:  # noqa: BLE001 - every failure here means "not a usable SavedModel"
            raise ModelLoadError(f"{path}: not a loadable SavedModel: {type(exc).__name__}: {exc}") from None
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

    def colour_batch(self, sketches: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        if self._input_dtype == tf.uint8:
            inputs = tf.constant(sketches)
        else:
            inputs = tf.constant(to_model_input(sketches), dtype=self._input_dtype)
        result = self._signature(**{self._input_name: inputs}) if self._input_name else self._signature(inputs)
        output = next(iter(result.values())) if isinstance(result, dict) else result
        array = output.numpy()
        array = array if array.dtype == np.uint8 else from_model_output(array)
        return _check_output(array, sketches, self)


class TFLiteBackend:
    """A TFLite (LiteRT) generator; float16 files still take float32 tensors in and out."""

    format = "tflite"

    def __init__(self, path: Path):
        self.path = path
        self._interpreter = _tflite_interpreter(path)
        detail = self._interpreter.get_input_details()
        if len(detail) != 1:
            raise ModelLoadError(f"{path}: expected one image input, the model has {len(detail)}")
        self._input = detail[0]
        if self._input["dtype"] not in (np.float32, np.float16, np.uint8):
            raise ModelLoadError(
                f"{path}: input type {np.dtype(self._input['dtype']).name} is not supported "
                "(float32, float16 or uint8 RGB expected)"
            )
        self._output_index = self._interpreter.get_output_details()[0]["index"]
        self.input_size = _square_size(self._input["shape_signature"], path)
        self._dynamic_batch = int(self._input["shape_signature"][0]) == -1
        self._batch = int(self._input["shape"][0])

    def colour_batch(self, sketches: np.ndarray) -> np.ndarray:
        if self._dynamic_batch:
            return _check_output(self._run(sketches), sketches, self)
        outputs = np.concatenate([self._run(sketches[i : i + 1]) for i in range(len(sketches))])
        return _check_output(outputs, sketches, self)

    def _run(self, sketches: np.ndarray) -> np.ndarray:
        if self._dynamic_batch and len(sketches) != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], sketches.shape)
            self._interpreter.allocate_tensors()
            self._batch = len(sketches)
        dtype = self._input["dtype"]
        inputs = sketches if dtype == np.uint8 else to_model_input(sketches).astype(dtype)
        self._interpreter.set_tensor(self._input["index"], inputs)
        self._interpreter.invoke()
        output = self._interpreter.get_tensor(self._output_index)
        return output.copy() if output.dtype == np.uint8 else from_model_output(output)


def _tflite_interpreter(path: Path):
    """The LiteRT interpreter when installed, else TensorFlow's (deprecated but identical) one."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-not-found]
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the "use ai_edge_litert" deprecation notice
            interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count() or 1)
        interpreter.allocate_tensors()
    except Exception as exc:  # noqa: BLE001 - a bad flatbuffer raises ValueError or RuntimeError
        raise ModelLoadError(f"{path}: not a loadable TFLite model: {type(exc).__name__}: {exc}") from None
    return interpreter


# ---------------------------------------------------------------- choosing a model


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


@dataclass(frozen=True)
class ExportInfo:
    """What the export stage recorded about models/export/.

    Read from the folder's own manifest ``models/export/formats.json`` (it is
    swapped in with the files, so it always describes them), else from
    ``metrics/export.json``. ``usable`` lists the formats that agreed with
    the Keras model; None when nothing says.
    """

    fastest: str | None = None
    inference_mode: InferenceMode = "eval"
    image_size: int | None = None
    files: dict[str, str] = field(default_factory=dict)
    usable: frozenset[str] | None = None

    @classmethod
    def discover(cls, paths: ProjectPaths) -> "ExportInfo":
        for source in (paths.models / "export" / EXPORT_MANIFEST, paths.metrics / "export.json"):
            payload = _read_json_object(source)
            if payload is not None:
                return cls.from_payload(payload)
        return cls()

    @classmethod
    def from_payload(cls, payload: dict) -> "ExportInfo":
        fastest = payload.get("fastest")
        if isinstance(fastest, dict):
            fastest = fastest.get("format") or fastest.get("name")
        mode = payload.get("inference_mode")
        size = payload.get("image_size")
        files = payload.get("formats")
        usable = payload.get("usable")
        return cls(
            fastest=fastest if isinstance(fastest, str) else None,
            inference_mode=mode if mode in ("eval", "train_dropout") else "eval",
            image_size=size if isinstance(size, int) and size > 0 else None,
            files={k: v for k, v in files.items() if isinstance(v, str) and "/" not in v and v not in ("", ".", "..")}
            if isinstance(files, dict) else {},
            usable=frozenset(u for u in usable if isinstance(u, str)) if isinstance(usable, list) else None,
        )


def _read_json_object(path: Path) -> dict | None:
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def exported_candidates(paths: ProjectPaths, info: ExportInfo, report: Report) -> Iterator[tuple[str, Path]]:
    """(format, path) of each usable exported model present, fastest first, then the Keras model."""
    export = paths.models / "export"
    order = list(FORMAT_PREFERENCE)
    if info.fastest in order:
        order.remove(info.fastest)
        order.insert(0, info.fastest)
    for name in order:
        if name == "keras":
            if (paths.models / "generator.keras").is_file():
                yield name, paths.models / "generator.keras"
            continue
        path = _exported_path(export, name, info)
        if path is None:
            continue
        if info.usable is not None and name not in info.usable:
            report(f"note: skipping {path}: the export stage found it does not agree with the Keras model")
            continue
        yield name, path


def _exported_path(export: Path, name: str, info: ExportInfo) -> Path | None:
    if name in info.files:
        path = export / info.files[name]
        return path if path.exists() else None
    if name == "savedmodel":
        return next((export / n for n in SAVEDMODEL_DIR_NAMES if (export / n / "saved_model.pb").is_file()), None)
    path = export / TFLITE_FILES[name]
    return path if path.is_file() else None


@dataclass(frozen=True)
class Settings:
    """The project settings colorize shares with the pipeline, so a sketch is treated the same."""

    inference_mode: InferenceMode = "eval"
    max_image_pixels: int = SafetyConfig().max_image_pixels

    @classmethod
    def from_project(cls, paths: ProjectPaths, report: Report) -> "Settings":
        """params.yaml's values when it is this project's and valid, else the defaults.

        colorize is a user tool that may run in any folder; a params.yaml that
        belongs to something else must not stop it.
        """
        if not paths.params.is_file():
            return cls()
        from sketch2color.config import load_params

        try:
            params = load_params(paths.params)
        except ConfigError as exc:
            report(f"note: ignoring {paths.params} ({exc}); using default settings")
            return cls()
        return cls(params.evaluate.inference_mode, params.fetch.safety.max_image_pixels)


def choose_backend(
    model: Path | None,
    paths: ProjectPaths,
    mode: InferenceMode | None,
    report: Report,
    default_mode: InferenceMode = "eval",
) -> Backend:
    """The model to use: ``model`` if given, else the fastest usable export, else the Keras model.

    ``mode`` is what the user asked for (None: ``default_mode``, the project's
    ``evaluate.inference_mode``). An exported format is skipped (with a note)
    when that mode differs from the one it was exported with, or when it does
    not load.
    """
    info = ExportInfo.discover(paths)
    wanted = mode or default_mode
    if model is not None:
        kind = model_format(model)
        if kind != "keras" and mode is not None and mode != info.inference_mode:
            raise ColorizeError(
                f"--inference-mode {mode}: {model} is an exported {kind} model whose inference mode "
                f"was fixed at export ({info.inference_mode}); use a .keras model to choose the mode"
            )
        return open_model(model, wanted, info.image_size)
    unusable: list[str] = []
    for kind, path in exported_candidates(paths, info, report):
        if kind != "keras" and wanted != info.inference_mode:
            report(f"note: skipping {path}: exported with inference mode {info.inference_mode}, {wanted} asked")
            continue
        try:
            return open_model(path, wanted, info.image_size)
        except ModelLoadError as exc:
            if kind == "keras":
                raise
            report(f"warning: {exc}; trying the next format")
            unusable.append(str(path))
    raise ModelLoadError(
        f"no trained generator found under {paths.models} (looked for models/export/ and "
        f"models/generator.keras{'; unusable: ' + ', '.join(unusable) if unusable else ''}); "
        "run `dvc repro` first or pass --model PATH"
    )


# ---------------------------------------------------------------- planning outputs


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path


@dataclass(frozen=True)
class Failure:
    source: Path
    reason: str


def _is_candidate(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _walk_images(folder: Path, exclude: Path, failures: list[Failure]) -> Iterator[Path]:
    """Image files under ``folder`` in a stable order, skipping the output folder itself."""

    def on_error(exc: OSError) -> None:
        failures.append(Failure(Path(exc.filename or folder), f"cannot list folder: {exc.strerror or exc}"))

    for root, dirs, files in os.walk(folder, onerror=on_error):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d).resolve() != exclude)
        for name in sorted(files):
            if _is_candidate(here / name):
                yield here / name


def plan_jobs(sources: Sequence[Path], output: Path) -> tuple[list[Job], list[Failure]]:
    """Pair every input sketch with its output file.

    One file with ``-o NAME.png`` writes exactly that file. Otherwise ``-o`` is
    a folder: a folder argument's files keep their relative names (as .png),
    under the folder's own name when several arguments are given; loose files
    go to the top. Two inputs that would land on the same name (a.jpg, a.png)
    both survive: the later one gets its old suffix in its name.
    """
    failures: list[Failure] = []
    single_file = (
        len(sources) == 1
        and not sources[0].is_dir()
        and output.suffix.lower() in IMAGE_SUFFIXES
        and not output.is_dir()
    )
    if single_file:
        return [Job(sources[0], output)], failures
    if output.exists() and not output.is_dir():
        raise ColorizeError(f"-o {output}: is a file; colouring several sketches or a folder needs -o FOLDER")
    if output.suffix.lower() in IMAGE_SUFFIXES:
        raise ColorizeError(
            f"-o {output}: looks like an image file name, but several sketches or a folder were given; "
            "pass -o FOLDER"
        )
    exclude = output.resolve()
    jobs: list[Job] = []
    taken: set[Path] = set()
    for source in sources:
        if source.is_dir():
            prefix = Path(source.resolve().name) if len(sources) > 1 else Path()
            before = len(jobs)
            for path in _walk_images(source, exclude, failures):
                relative = prefix / path.relative_to(source)
                jobs.append(Job(path, _free_name(output / relative.with_suffix(".png"), path, taken)))
            if len(jobs) == before:
                failures.append(Failure(source, f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder"))
        elif source.exists():
            jobs.append(Job(source, _free_name(output / f"{source.stem}.png", source, taken)))
        else:
            failures.append(Failure(source, "no such file or folder"))
    return jobs, failures


def _free_name(target: Path, source: Path, taken: set[Path]) -> Path:
    candidate = target
    if candidate in taken:
        candidate = target.with_name(f"{target.stem}_{source.suffix.lstrip('.').lower() or 'file'}.png")
    number = 2
    while candidate in taken:
        candidate = target.with_name(f"{target.stem}_{number}.png")
        number += 1
    taken.add(candidate)
    return candidate


# ---------------------------------------------------------------- colouring


def read_sketch(path: Path, max_pixels: int) -> np.ndarray:
    """Decode a sketch file to RGB; every way it can be bad becomes a :class:`BadImage`."""
    try:
        if path.stat().st_size == 0:
            raise BadImage("empty file (0 bytes)")
    except OSError as exc:
        raise BadImage(f"cannot read: {exc.strerror or exc}") from None
    return load_rgb(path, max_pixels)


def colorize_array(backend: Backend, rgb: np.ndarray) -> np.ndarray:
    """Colour one RGB image of any size; the result has the same size."""
    square, placement = fit_to_square(rgb, backend.input_size)
    return restore_from_square(backend.colour_batch(square[None])[0], placement)


save_rgb = write_rgb  # the GUI and tests save through this name


@dataclass
class Summary:
    coloured: int = 0
    failures: list[Failure] = field(default_factory=list)


def _prepare(job: Job, size: int, max_pixels: int) -> tuple[Job, Placement, np.ndarray] | Failure:
    """Decode and fit one file (in an I/O thread); the full-size image is dropped here."""
    try:
        rgb = read_sketch(job.source, max_pixels)
    except BadImage as exc:
        return Failure(job.source, str(exc))
    square, placement = fit_to_square(rgb, size)
    return job, placement, square


def _finish(job: Job, placement: Placement, square: np.ndarray) -> Failure | None:
    """Restore one coloured square to its file's size and write it (in an I/O thread)."""
    try:
        save_rgb(restore_from_square(square, placement), job.target)
    except OSError as exc:
        return Failure(job.source, f"cannot write {job.target}: {exc.strerror or exc}")
    return None


def colorize_jobs(
    backend: Backend,
    jobs: Iterable[Job],
    *,
    batch_size: int,
    max_pixels: int,
    report: Report,
    advance: Callable[[int], None] = lambda n: None,
    io_workers: int = DEFAULT_IO_WORKERS,
) -> Summary:
    """Colour each job's file into its target, ``batch_size`` squares per model call.

    Decoding and encoding (most of the time for small models) run in a few
    threads while the model runs, but only a fixed window of files is in
    flight at once: memory depends on the batch size, never on how many
    files there are. Failures are reported in the order of the files.
    """
    summary = Summary()
    window = max(2 * batch_size, 2 * io_workers)
    reading: deque[Future] = deque()
    writing: deque[tuple[Job, Future]] = deque()
    pending: list[tuple[Job, Placement, np.ndarray]] = []

    def fail(failure: Failure) -> None:
        summary.failures.append(failure)
        report(f"{failure.source}: skipped: {failure.reason}")

    def settle_writes(keep: int) -> None:
        while len(writing) > keep:
            _, future = writing.popleft()
            failure = future.result()
            if failure is None:
                summary.coloured += 1
            else:
                fail(failure)
            advance(1)

    with ThreadPoolExecutor(max_workers=io_workers, thread_name_prefix="colorize-io") as pool:

        def flush() -> None:
            coloured = backend.colour_batch(np.stack([square for _, _, square in pending]))
            for (job, placement, _), square in zip(pending, coloured):
                writing.append((job, pool.submit(_finish, job, placement, square)))
            pending.clear()
            settle_writes(keep=window)

        def take_oldest_read() -> None:
            prepared = reading.popleft().result()
            if isinstance(prepared, Failure):
                fail(prepared)
                advance(1)
                return
            pending.append(prepared)
            if len(pending) >= batch_size:
                flush()

        for job in jobs:
            reading.append(pool.submit(_prepare, job, backend.input_size, max_pixels))
            if len(reading) >= window:
                take_oldest_read()
        while reading:
            take_oldest_read()
        if pending:
            flush()
        settle_writes(keep=0)
    return summary


def run_colorize(
    sources: Sequence[Path],
    output: Path,
    *,
    model: Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    inference_mode: InferenceMode | None = None,
    paths: ProjectPaths | None = None,
) -> int:
    """The ``colorize`` command. Exit code: 0 when every sketch was coloured, 1 when any failed.

    Problems with the whole request (no model, an unsafe model, a bad -o)
    raise a :class:`Sketch2ColorError` before any output is written; problems
    with single files are reported one line each on stderr and skipped.
    """
    from tqdm import tqdm

    if batch_size < 1:
        raise ColorizeError(f"--batch-size must be at least 1, got {batch_size}")

    def report(line: str) -> None:
        tqdm.write(line, file=sys.stderr)  # prints above a running progress bar, not through it

    paths = paths or ProjectPaths.discover()
    jobs, failures = plan_jobs(sources, output)
    for failure in failures:
        report(f"{failure.source}: skipped: {failure.reason}")
    summary = Summary()
    if jobs:
        settings = Settings.from_project(paths, report)
        backend = choose_backend(model, paths, inference_mode, report, settings.inference_mode)
        report(f"model: {backend.path} ({backend.format}, {backend.input_size}x{backend.input_size} px)")
        with tqdm(total=len(jobs), unit="img", desc="colourising", file=sys.stderr,
                  disable=not sys.stderr.isatty(), dynamic_ncols=True) as bar:
            summary = colorize_jobs(backend, jobs, batch_size=batch_size,
                                    max_pixels=settings.max_image_pixels, report=report, advance=bar.update)
    problems = len(failures) + len(summary.failures)
    where = jobs[0].target if len(jobs) == 1 and len(sources) == 1 and not sources[0].is_dir() else output
    report(f"coloured {summary.coloured} of {len(jobs)} sketch files into {where}"
           + (f"; {problems} problem(s), named above" if problems else ""))
    return 1 if problems or not jobs else 0
