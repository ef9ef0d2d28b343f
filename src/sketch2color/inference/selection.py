"""Which generator of a project (or of its export folder) colorize and the GUI use.

The generator is the format the export stage chose for them (``default`` in
its manifest ``models/export/formats.json``, else ``metrics/export.json``:
the first picture soonest, start-up included, with Keras's picture; see
:mod:`sketch2color.export.tool_format`), else the other formats that agreed
with the Keras model (``usable``), with ``models/generator.keras`` as the
fallback. The project's params decide
the inference mode and the pixel limit, so a sketch is treated here as the
pipeline treats it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sketch2color.config import InferenceMode, SafetyConfig
from sketch2color.errors import ConfigError
from sketch2color.inference.backends import Backend, KerasBackend, model_format, open_model
from sketch2color.inference.errors import InferenceError, ModelLoadError, NoModelFound, Report
from sketch2color.paths import ProjectPaths

# A SavedModel folder under models/export/ may also carry TensorFlow's usual name.
SAVEDMODEL_DIR_NAMES = (ProjectPaths.EXPORT_FILES["savedmodel"], "saved_model")
# The order when the export names no default (an export made before it did): LiteRT starts in about
# 0.5 s, TensorFlow (SavedModel, Keras) in 5-7 s on 2 cores, which a tool pays on every run.
FORMAT_PREFERENCE = ("tflite_float32", "tflite_float16", "savedmodel", "keras")


@dataclass(frozen=True)
class ExportInfo:
    """What the export stage recorded about models/export/.

    Read from the folder's own manifest ``models/export/formats.json`` (it is
    swapped in with the files, so it always describes them), else from
    ``metrics/export.json``. ``usable`` lists the formats that agreed with
    the Keras model; None when nothing says.
    """

    default: str | None = None
    """The format colorize and the GUI load (:mod:`sketch2color.export.tool_format`)."""
    fastest: str | None = None
    """The lowest per-image latency (for a server); what an export made before ``default`` offered first."""
    inference_mode: InferenceMode = "eval"
    image_size: int | None = None
    files: dict[str, str] = field(default_factory=dict)
    usable: frozenset[str] | None = None

    @classmethod
    def discover(cls, paths: ProjectPaths) -> ExportInfo:
        for source in (paths.export_manifest, paths.export_metrics):
            payload = _read_json_object(source)
            if payload is not None:
                return cls.from_payload(payload)
        return cls()

    @classmethod
    def from_folder(cls, export: Path) -> ExportInfo:
        """From an export folder's own manifest (copied without the project's metrics/)."""
        payload = _read_json_object(export / ProjectPaths.EXPORT_MANIFEST)
        return cls() if payload is None else cls.from_payload(payload)

    @classmethod
    def from_payload(cls, payload: dict) -> ExportInfo:
        fastest = payload.get("fastest")
        if isinstance(fastest, dict):
            fastest = fastest.get("format") or fastest.get("name")
        default = payload.get("default")
        mode = payload.get("inference_mode")
        size = payload.get("image_size")
        files = payload.get("formats")
        usable = payload.get("usable")
        return cls(
            default=default if isinstance(default, str) else None,
            fastest=fastest if isinstance(fastest, str) else None,
            inference_mode=mode if mode in ("eval", "train_dropout") else "eval",
            image_size=size if isinstance(size, int) and size > 0 else None,
            files={
                k: v
                for k, v in files.items()
                if isinstance(v, str) and "/" not in v and v not in ("", ".", "..")
            }
            if isinstance(files, dict)
            else {},
            usable=frozenset(u for u in usable if isinstance(u, str)) if isinstance(usable, list) else None,
        )


def _read_json_object(path: Path) -> dict | None:
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def exported_candidates(
    export: Path, generator: Path | None, info: ExportInfo, report: Report
) -> Iterator[tuple[str, Path]]:
    """(format, path) of each usable model in the ``export`` folder, the export's default first, then
    ``generator`` (the Keras model, when there is one)."""
    order = list(FORMAT_PREFERENCE)
    first = info.default or info.fastest
    if first in order:
        order.remove(first)
        order.insert(0, first)
    for name in order:
        if name == "keras":
            if generator is not None and generator.is_file():
                yield name, generator
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
        return next(
            (export / n for n in SAVEDMODEL_DIR_NAMES if (export / n / "saved_model.pb").is_file()), None
        )
    path = export / ProjectPaths.EXPORT_FILES[name]
    return path if path.is_file() else None


def trained_generator(paths: ProjectPaths, mode: InferenceMode, image_size: int) -> KerasBackend:
    """The train stage's generator, for the stages after it: it must take ``data.image_size`` images."""
    backend = KerasBackend(paths.generator, mode)
    if backend.input_size != image_size:
        raise InferenceError(
            f"{paths.generator} takes {backend.input_size} px inputs, but data.image_size is "
            f"{image_size}: retrain (dvc repro) after changing the image size"
        )
    return backend


@dataclass(frozen=True)
class Settings:
    """The project settings colorize shares with the pipeline, so a sketch is treated the same."""

    inference_mode: InferenceMode = "eval"
    max_image_pixels: int = SafetyConfig().max_image_pixels

    @classmethod
    def from_project(cls, paths: ProjectPaths, report: Report) -> Settings:
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
    """The project's model to use: ``model`` if given, else the export's default, else the Keras model.

    ``mode`` is what the user asked for (None: ``default_mode``, the project's
    ``evaluate.inference_mode``). An exported format is skipped (with a note)
    when that mode differs from the one it was exported with, or when it does
    not load. (Models from outside the project: :mod:`sketch2color.model_choice`.)
    """
    info = ExportInfo.discover(paths)
    wanted = mode or default_mode
    if model is not None:
        kind = model_format(model)
        if kind != "keras" and mode is not None and mode != info.inference_mode:
            raise InferenceError(
                f"--inference-mode {mode}: {model} is an exported {kind} model whose inference mode "
                f"was fixed at export ({info.inference_mode}); use a .keras model to choose the mode"
            )
        return open_model(model, wanted, info.image_size)
    candidates = exported_candidates(paths.export, paths.generator, info, report)
    return first_usable(candidates, info, wanted, report, f"under {paths.models}")


def choose_exported(
    export: Path, mode: InferenceMode | None, report: Report, default_mode: InferenceMode = "eval"
) -> Backend:
    """The default model of an export folder copied anywhere (``models/export`` of a project)."""
    info = ExportInfo.from_folder(export)
    candidates = exported_candidates(export, export / ProjectPaths.GENERATOR, info, report)
    return first_usable(candidates, info, mode or default_mode, report, f"in {export}")


def first_usable(
    candidates: Iterator[tuple[str, Path]],
    info: ExportInfo,
    wanted: InferenceMode,
    report: Report,
    where: str,
) -> Backend:
    """The first candidate that loads in the ``wanted`` mode; :class:`NoModelFound` when none does."""
    unusable: list[str] = []
    for kind, path in candidates:
        if kind != "keras" and wanted != info.inference_mode:
            report(
                f"note: skipping {path}: exported with inference mode {info.inference_mode}, {wanted} asked"
            )
            continue
        try:
            return open_model(path, wanted, info.image_size)
        except ModelLoadError as exc:
            if kind == "keras":
                raise
            report(f"warning: {exc}; trying the next format")
            unusable.append(str(path))
    raise NoModelFound(
        f"no trained generator found {where} (looked for models/export/ and "
        f"models/generator.keras{'; unusable: ' + ', '.join(unusable) if unusable else ''}); "
        "run `dvc repro` first or pass --model PATH"
    )
