"""DVC stage ``export``: models/generator.keras -> models/export/ and metrics/export.json.

The whole ``models/export`` folder is built under a temporary name, checked
(parity and timing run on the files in it) and only then swapped in, so a
failed or killed export leaves the previous export complete, never half of
a new one. ``models/export/formats.json`` describes the folder for the
colorize and GUI tools: which files exist, which agree with Keras, which is
fastest, the image size and the inference mode baked in.

Which formats are written is ``export.formats``; the inference mode is
``evaluate.inference_mode``, so evaluate, export and colorize all run the
generator the same way.

Last, the colorizer (the MLflow model that ``mlflow models serve`` serves) is
logged to the training's run and registered as ``export.registered_model_name``
(:mod:`sketch2color.export.registration`): here and not in training, so that
a change to the picture code re-exports without retraining.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sketch2color import atomic
from sketch2color.config import Params
from sketch2color.data.shard_reader import read_split
from sketch2color.errors import DataError
from sketch2color.export import formats, parity, tool_format
from sketch2color.inference.backends import cpu_threads, open_model
from sketch2color.inference.selection import trained_generator
from sketch2color.iteration import batched
from sketch2color.paths import ProjectPaths
from sketch2color.tracking.run_link import TrainingRunLink

log = logging.getLogger(__name__)

ARTIFACT_FOLDER = "export"


def run(params: Params, paths: ProjectPaths) -> None:
    """Write the requested formats, check each against Keras, time them, record and log."""
    config = params.export
    mode = params.evaluate.inference_mode
    size = params.data.image_size
    keras_backend = trained_generator(paths, mode, size)
    sketches, colors = parity_pairs(paths, size, config.parity_images)
    reference = keras_backend.color_batch(sketches)
    # The hints and Keras's answer to them, for a model that takes hints.
    with_hints: tuple[np.ndarray, np.ndarray] | None = None
    if keras_backend.takes_hints:
        hints = parity_hints(colors, sketches, params)
        with_hints = hints, keras_backend.color_batch(sketches, hints)
    judge = mode == "eval"

    target = paths.export
    with atomic.atomic_directory(target) as building:
        written, skipped = formats.write_formats(keras_backend.model, size, mode, config.formats, building)
        for name, reason in skipped.items():
            log.warning("export: %s skipped: %s", name, reason)
        reports = {}
        for name, path in written.items():
            backend = open_model(path, mode, size)  # exactly what colorize loads
            reports[name] = parity.FormatReport(
                path=(target / path.name).relative_to(paths.root).as_posix(),
                bytes=formats.size_in_bytes(path),
                parity=parity.compare(backend.color_batch(sketches), reference, judge),
                timing=parity.measure_timing(backend, sketches, config.latency_runs),
                parity_with_hints=None
                if with_hints is None
                else parity.compare(backend.color_batch(sketches, with_hints[0]), with_hints[1], judge),
            )
            _log_format(name, reports[name])
        keras_timing = parity.measure_timing(keras_backend, sketches, config.latency_runs)
        fastest = fastest_usable(reports)
        first_picture = {
            name: tool_format.time_to_first_picture(path, sketches[0]) for name, path in written.items()
        }
        default = tool_format.choose_tool_format(reports, first_picture)
        _log_first_pictures(first_picture, default)
        atomic.write_json(
            building / ProjectPaths.EXPORT_MANIFEST,
            folder_manifest(reports, written, fastest, default, first_picture, size, mode),
        )

    summary = build_summary(reports, skipped, fastest, keras_timing, params, len(sketches))
    summary.update(default=default, first_picture_s=first_picture)
    link = TrainingRunLink.open(paths)
    summary["registered_model"] = None if link is None else register_colorizer(link, paths, params)
    atomic.write_json(paths.export_metrics, summary)
    log.info(
        "export: wrote %s to %s; fastest per image: %s; colorize and the GUI load: %s",
        ", ".join(written),
        target,
        fastest,
        default,
    )
    if link is not None:
        log_to_training_run(link, target, paths.export_metrics, summary)


def parity_pairs(paths: ProjectPaths, image_size: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``count`` test-split (sketches, colours) (the val split if there is no test split)."""
    for split in ("test", "val"):
        for batch in batched(read_split(paths.split, split, image_size, []), count):
            return np.stack([pair.sketch for pair in batch]), np.stack([pair.color for pair in batch])
    raise DataError(
        f"no test or val records in {paths.split} to check the exported formats "
        "against the Keras model: run the split stage"
    )


PARITY_HINTS = 5
PARITY_HINT_SEED = 7


def parity_hints(colors: np.ndarray, sketches: np.ndarray, params: Params) -> np.ndarray:
    """A few hints per parity image, drawn from its ground truth, to check the with_hints signatures."""
    from sketch2color.data.hints import as_rgba, draw_for_evaluation

    return as_rgba(
        draw_for_evaluation(colors, sketches, PARITY_HINTS, params.train.hints, PARITY_HINT_SEED, 0)
    )


def _log_format(name: str, report: parity.FormatReport) -> None:
    p, t = report.parity, report.timing
    log.info(
        "export: %-15s %9.1f KiB  max |diff| %3d  mean |diff| %.3f  SSIM vs Keras %.4f  "
        "p50 %.2f ms  p95 %.2f ms  %.1f img/s",
        name,
        report.bytes / 1024,
        p.max_abs_diff,
        p.mean_abs_diff,
        p.ssim_vs_keras,
        t.latency_ms_p50,
        t.latency_ms_p95,
        t.throughput_images_per_s,
    )
    if p.agrees is False:
        log.warning(
            "export: %s does NOT agree with the Keras model (SSIM %.3f, mean |diff| "
            "%.2f); it is kept for inspection but not offered to colorize",
            name,
            p.ssim_vs_keras,
            p.mean_abs_diff,
        )


def _log_first_pictures(first_picture: Mapping[str, float | None], default: str | None) -> None:
    for name, seconds in first_picture.items():
        if seconds is None:
            log.warning("export: %s: a fresh `sketch2color colorize` with it failed; not offered", name)
        else:
            log.info("export: %-15s first picture of a fresh colorize in %.2f s", name, seconds)
    if default is None:
        log.warning("export: no format agrees with Keras and runs; colorize and the GUI fall back to Keras")


def fastest_usable(reports: Mapping[str, parity.FormatReport]) -> str | None:
    """The format with the lowest p50 latency among those that agree (or were not judged)."""
    usable = {n: r for n, r in reports.items() if r.agrees is not False}
    if not usable:
        return None
    return min(usable, key=lambda n: usable[n].timing.latency_ms_p50)


def folder_manifest(reports, written, fastest, default, first_picture, image_size: int, mode: str) -> dict:
    """``models/export/formats.json``: ``default`` is what colorize and the GUI load
    (:mod:`sketch2color.export.tool_format`); ``fastest`` the lowest per-image latency, for a server."""
    return {
        "image_size": image_size,
        "inference_mode": mode,
        "signature": formats.SIGNATURE_KEY,
        "input": {"name": formats.INPUT_NAME, "dtype": "uint8", "shape": [None, image_size, image_size, 3]},
        "output": {"name": formats.OUTPUT_NAME, "dtype": "uint8", "shape": [None, image_size, image_size, 3]},
        "formats": {name: path.name for name, path in written.items()},
        "usable": [name for name, r in reports.items() if r.agrees is not False],
        "fastest": fastest,
        "default": default,
        "first_picture_s": dict(first_picture),
    }


def build_summary(reports, skipped, fastest, keras_timing, params: Params, images: int) -> dict:
    return {
        "formats": {name: report.to_dict() for name, report in reports.items()},
        "skipped": skipped,
        "fastest": fastest,
        "keras_tf_function": {
            "latency_ms_p50": keras_timing.latency_ms_p50,
            "latency_ms_p95": keras_timing.latency_ms_p95,
            "throughput_images_per_s": keras_timing.throughput_images_per_s,
        },
        "onnx": {"produced": False, "why": formats.ONNX_NOT_PRODUCED},
        "parity_images": images,
        "latency_runs": params.export.latency_runs,
        "threads": cpu_threads(),
        "inference_mode": params.evaluate.inference_mode,
        "image_size": params.data.image_size,
        "agreement_rule": {
            "min_ssim_vs_keras": parity.MIN_SSIM_VS_KERAS,
            "max_mean_abs_diff": parity.MAX_MEAN_ABS_DIFF,
            "judged": params.evaluate.inference_mode == "eval",
        },
    }


def scalar_metrics(summary: dict) -> dict[str, float]:
    flat = {}
    for name, entry in summary["formats"].items():
        for key in (
            "max_abs_diff",
            "mean_abs_diff",
            "ssim_vs_keras",
            "latency_ms_p50",
            "latency_ms_p95",
            "throughput_images_per_s",
            "bytes",
        ):
            flat[f"export_{name}_{key}"] = float(entry[key])
    for key, value in summary["keras_tf_function"].items():
        flat[f"export_keras_{key}"] = float(value)
    return flat


def model_version_tags(summary: dict, run_id: str) -> dict[str, str]:
    tags = {
        "export.formats": ",".join(summary["formats"]),
        "export.fastest": str(summary["fastest"]),
        "export.default": str(summary.get("default")),
        "export.artifacts": f"runs:/{run_id}/{ARTIFACT_FOLDER}",
        "export.inference_mode": summary["inference_mode"],
        "export.onnx": "not produced (see export.json)",
    }
    for name, entry in summary["formats"].items():
        tags[f"export.{name}"] = (
            f"p50 {entry['latency_ms_p50']:.2f} ms, max |diff| {entry['max_abs_diff']}, "
            f"SSIM vs Keras {entry['ssim_vs_keras']:.4f}, agrees {entry['agrees']}"
        )
    return tags


def register_colorizer(link: TrainingRunLink, paths: ProjectPaths, params: Params) -> dict | None:
    """Log the colorizer to the training's run and register it; its name, version and URI, or None
    (warned) when the store failed: the exported files are complete either way."""
    from sketch2color.export.registration import log_and_register

    name = params.export.registered_model_name
    outcome = link.call(
        lambda: log_and_register(
            link.run_id, paths.generator, params.evaluate.inference_mode, name, link.uri
        ),
        f"registering the colorizer as '{name}'",
    )
    if outcome is None:
        return None
    model_uri, version = outcome
    log.info("MLflow: colorizer registered as '%s' version %d (%s)", name, version, model_uri)
    return {"name": name, "version": version, "model_uri": model_uri}


def log_to_training_run(link: TrainingRunLink, folder: Path, summary_file: Path, summary: dict) -> None:
    link.log_metrics(scalar_metrics(summary))
    link.log_artifacts(folder, ARTIFACT_FOLDER)
    link.log_artifact(summary_file, ARTIFACT_FOLDER)
    registered = summary["registered_model"]
    if registered is not None:
        link.tag_model_version(
            registered["name"], registered["version"], model_version_tags(summary, link.run_id)
        )
