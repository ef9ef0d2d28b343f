"""DVC stage ``evaluate``: score models/generator.keras on the test split it never trained on.

Reads the generator, ``data/split/{train,test}-*.tfrecord`` and the test
pairs' originals in ``data/raw``; writes ``metrics/eval.json`` (``dvc
metrics``) and ``metrics/samples.png`` (``dvc plots``), and adds both, plus
every scalar, to the training's MLflow run.

Two sets of scores:

* at the model's size (:mod:`sketch2color.evaluation.scoring`): the model
  and both trivial baselines on SSIM, PSNR, L1 and the fill colour
  difference, with the optional FID of each;
* at the originals' resolution (:mod:`sketch2color.evaluation.full_resolution`):
  the line-faithful and the stretched output, as ``colorize`` makes them.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sketch2color import atomic
from sketch2color.config import Params
from sketch2color.data.shards import Pair, find_shards
from sketch2color.errors import DataError
from sketch2color.evaluation import baselines, fid, full_resolution, hint_curve, samples
from sketch2color.evaluation.fid import FidResult
from sketch2color.evaluation.full_resolution import FullResolutionScores
from sketch2color.evaluation.hint_curve import HintCurve
from sketch2color.evaluation.metrics import METRIC_NAMES, PSNR_CAP_DB, summaries_to_dict
from sketch2color.evaluation.scoring import (
    SCORED,
    PredictionStore,
    TestScores,
    reread_test_pairs,
    score_test_split,
)
from sketch2color.inference.selection import trained_generator
from sketch2color.iteration import batched
from sketch2color.paths import ProjectPaths
from sketch2color.tracking.run_link import TrainingRunLink

log = logging.getLogger(__name__)

ARTIFACT_FOLDER = "evaluation"
NAME_CHARS = 20


def run(params: Params, paths: ProjectPaths) -> None:
    """Score the generator and both baselines on the test split; write and log the results."""
    config = params.evaluate
    size = params.data.image_size
    if config.fid:
        fid.require_fid_helper()  # fail before minutes of prediction, not after
    backend = trained_generator(paths, config.inference_mode, size)
    if not find_shards(paths.split, "test"):
        raise DataError(
            f"no test shards (test-*.tfrecord) in {paths.split}: run the split stage "
            "with split.test_fraction above 0 (or split.test_source: kaggle_val)"
        )
    mean_image = baselines.mean_color_image(find_shards(paths.split, "train"), size)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sketch2color-eval-") as tmp:
        store = PredictionStore(Path(tmp) / "predictions.u8", size)
        test = score_test_split(backend, paths.split, size, mean_image, store, config.batch_size)
        predictions = store.read()
        model_ssim = test.scores["model"].per_image("ssim")
        picks = samples.pick_examples(model_ssim, config.sample_rows)
        picked_names = {test.names[index] for _, index in picks}
        full = full_resolution.score_full_resolution(
            backend,
            paths.raw,
            test.names[: config.full_resolution_images],
            params.fetch.safety.max_image_pixels,
            config.batch_size,
            keep=picked_names,
        )
        originals = hint_curve.Originals(
            paths.raw,
            test.names[: config.full_resolution_images],
            params.fetch.safety.max_image_pixels,
            config.gap_widths,
        )
        curve = hint_curve.score_hint_curve(
            backend,
            paths.split,
            size,
            params.train.hints,
            config.batch_size,
            originals,
        )
        grid = _samples_grid(picks, test, predictions, model_ssim, full, paths, size)
        fid_results = _fid(test, predictions, mean_image, paths, params) if config.fid else None
    seconds = time.perf_counter() - started

    report = build_report(test, full, curve, params, picks, model_ssim, fid_results)
    atomic.write_json(paths.eval_metrics, report)
    samples.write_png(grid, paths.eval_samples)
    hint_curve.write_csv(curve, paths.hint_curve)
    _log_summary(report, seconds, config.inference_mode)
    log_to_training_run(paths, report, [paths.eval_metrics, paths.eval_samples])


# ---------------------------------------------------------------- samples and FID


Picks = list[tuple[int, int]]
"""(rank, test image index) of the sample rows, best first (:func:`samples.pick_examples`)."""


def _samples_grid(
    picks: Picks,
    test: TestScores,
    predictions: np.ndarray,
    ssim: np.ndarray,
    full: FullResolutionScores,
    paths: ProjectPaths,
    size: int,
) -> np.ndarray:
    """Rows at the originals' size (line-faithful, stretched) when they were scored, else model-size rows."""
    wanted = {index for _, index in picks}
    chosen = {
        index: pair
        for index, pair in enumerate(reread_test_pairs(paths.split, size, max(wanted) + 1))
        if index in wanted
    }
    full_rows, small_rows = [], []
    for rank, index in picks:
        name = test.names[index]
        short = name if len(name) <= NAME_CHARS else "..." + name[-(NAME_CHARS - 3) :]
        label = f"{samples.rank_label(rank, len(test.names))}\nSSIM {ssim[index]:.3f}\n{short}"
        pair = chosen[index]
        small_rows.append(samples.SampleRow(label, (pair.sketch, pair.color, np.array(predictions[index]))))
        if name in full.pictures:
            picture = full.pictures[name]
            full_rows.append(
                samples.SampleRow(
                    label,
                    (picture["sketch"], picture["truth"], picture["line_faithful"], picture["stretched"]),
                )
            )
    if full_rows and len(full_rows) == len(small_rows):
        return samples.render_grid(full_rows, samples.FULL_RESOLUTION_TITLES)
    return samples.render_grid(small_rows)


def _fid(
    test: TestScores, predictions: np.ndarray, mean_image: np.ndarray, paths: ProjectPaths, params: Params
) -> dict[str, FidResult]:
    """FID of the model and of both baselines, each against the test split's ground truth."""
    config, size = params.evaluate, params.data.image_size
    limit = min(config.fid_max_images, len(predictions))

    def pairs() -> Iterator[list[Pair]]:
        return batched(reread_test_pairs(paths.split, size, limit), config.batch_size)

    def targets() -> Iterator[np.ndarray]:
        return (np.stack([p.color for p in batch]) for batch in pairs())

    def model() -> Iterator[np.ndarray]:
        return (np.array(predictions[i : i + config.batch_size]) for i in range(0, limit, config.batch_size))

    def sketch() -> Iterator[np.ndarray]:
        return (np.stack([p.sketch for p in batch]) for batch in pairs())

    def mean_color() -> Iterator[np.ndarray]:
        return (baselines.mean_color_baseline(mean_image, len(batch)) for batch in pairs())

    outputs = {"model": model, "baseline_sketch": sketch, "baseline_mean_color": mean_color}
    return fid.compute_fid(targets, outputs)


# ---------------------------------------------------------------- reporting


def build_report(
    test: TestScores,
    full: FullResolutionScores,
    curve: HintCurve,
    params: Params,
    picks: Picks,
    ssim: np.ndarray,
    fid_results: dict[str, FidResult] | None,
) -> dict[str, Any]:
    """``metrics/eval.json``: every score, what was scored and the sample rows."""
    report: dict[str, Any] = {name: summaries_to_dict(test.scores[name].summaries()) for name in SCORED}
    report.update(
        test_images=test.scores["model"].count,
        fill_images=test.scores["model"].scored_images("fill_delta_e"),
        inference_mode=params.evaluate.inference_mode,
        image_size=params.data.image_size,
        psnr_cap_db=PSNR_CAP_DB,
        full_resolution=full.to_dict(),
        hints=curve.to_dict(),
        samples=[
            {
                "rank": rank + 1,
                "label": samples.rank_label(rank, len(test.names)),
                "name": test.names[index],
                "ssim": float(ssim[index]),
            }
            for rank, index in picks
        ],
        skipped_shards=test.skipped,
    )
    if fid_results:
        report["fid"] = {name: result.to_dict() for name, result in fid_results.items()}
    return report


def scalar_metrics(report: dict[str, Any]) -> dict[str, float]:
    """Flat ``eval_<scored>_<metric>_<stat>`` (and ``eval_full_...``) scalars for MLflow."""
    flat = {}
    for name in SCORED:
        for metric, stats in report[name].items():
            for stat, value in stats.items():
                flat[f"eval_{name}_{metric}_{stat}"] = float(value)
    full = report["full_resolution"]
    for name in full_resolution.OUTPUTS:
        for metric, stats in full[name].items():
            for stat, value in stats.items():
                flat[f"eval_full_{name}_{metric}_{stat}"] = float(value)
    flat["eval_test_images"] = float(report["test_images"])
    flat["eval_full_images"] = float(full["images"])
    for name, result in report.get("fid", {}).items():
        flat[f"eval_{name}_fid"] = float(result["score"])
    return flat


def _log_summary(report: dict[str, Any], seconds: float, mode: str) -> None:
    log.info(
        "evaluated %d test images in %.1f s (%s mode); model | sketch | mean colour:",
        report["test_images"],
        seconds,
        mode,
    )
    for metric in METRIC_NAMES:
        means = [report[name].get(metric, {}).get("mean", float("nan")) for name in SCORED]
        log.info("  %-12s %8.3f | %8.3f | %8.3f", metric, *means)
    full = report["full_resolution"]
    if full["images"]:
        log.info(
            "at full resolution (%s, %d images); line-faithful | stretched | sketch:",
            ", ".join(full["sizes"]),
            full["images"],
        )
        for metric in full_resolution.METRICS:
            means = [full[name].get(metric, {}).get("mean", float("nan")) for name in full_resolution.OUTPUTS]
            log.info("  %-12s %8.3f | %8.3f | %8.3f", metric, *means)
    curve = report["hints"]
    if curve["picture_images"]:
        gaps = [hint_curve.gapped(width) for width in curve["gap_widths_px_at_512"]]
        log.info(
            "with dabs, fill_delta_e (leak %%) in the picture (%d images): closed%s; the model's size",
            curve["picture_images"],
            "".join(f" | {name}" for name in gaps),
        )
        for row in curve["table"]:
            cells = [_cell(row, hint_curve.CLOSED), *(_cell(row, name) for name in gaps)]
            square = row["fill_delta_e"]
            square_text = "-" if square is None else f"{square:.2f}"
            log.info("  %2d dabs  %s | %s", row["hints"], " | ".join(cells), square_text)


def _cell(row: dict[str, Any], prefix: str) -> str:
    fill, leak = row.get(f"{prefix}_fill_delta_e"), row.get(f"{prefix}_leak")
    if fill is None:
        return "      -      "
    return f"{fill:6.2f} ({100 * (leak or 0.0):4.2f})"


def log_to_training_run(paths: ProjectPaths, report: dict[str, Any], files: list[Path]) -> None:
    link = TrainingRunLink.open(paths)
    if link is None:
        return
    link.log_metrics(scalar_metrics(report))
    for row in report["hints"]["table"]:  # a curve: one step per number of hints
        link.log_metrics(
            {f"eval_hints_{k}": v for k, v in row.items() if k != "hints" and v is not None},
            step=row["hints"],
        )
    tags = {"eval.inference_mode": report["inference_mode"], "eval.test_images": report["test_images"]}
    for name, result in report.get("fid", {}).items():
        tags.update({f"eval.fid.{name}.{key}": value for key, value in result.items()})
    link.set_run_tags(tags)
    for path in files:
        link.log_artifact(path, ARTIFACT_FOLDER)
