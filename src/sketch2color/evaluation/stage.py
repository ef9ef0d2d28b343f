"""DVC stage ``evaluate``: score models/generator.keras on the test split.

Reads ``models/generator.keras`` and ``data/split/{train,test}-*.tfrecord``;
writes ``metrics/eval.json`` (``dvc metrics``) and ``metrics/samples.png``
(``dvc plots``), and adds both, plus every scalar, to the training's MLflow
run (see :mod:`~sketch2color.tracking.run_link`).

The test split streams through in batches of ``evaluate.batch_size``; only
three floats per image and the uint8 predictions (in a temporary file, not
in memory) are kept, so a 3,500-image Kaggle test set at 256 px costs
about 700 MB of temporary disk, not of RAM. Predictions are stored rather
than recomputed for the samples grid and FID because under
``inference_mode: train_dropout`` a second pass would give different images
than the ones that were scored.
"""

from __future__ import annotations

import itertools
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sketch2color import atomic
from sketch2color.config import Params
from sketch2color.data.shards import (
    Pair,
    damaged_shard_error,
    find_shards,
    framing_damage,
    shard_read_error,
)
from sketch2color.errors import DataError
from sketch2color.evaluation import baselines, fid, samples
from sketch2color.evaluation.metrics import (
    METRIC_NAMES,
    PSNR_CAP_DB,
    MetricAccumulator,
    summaries_to_dict,
)
from sketch2color.evaluation.split_reader import (
    batched,
    check_generator_size,
    read_pairs,
)
from sketch2color.paths import ProjectPaths
from sketch2color.tracking.run_link import TrainingRunLink

log = logging.getLogger(__name__)

ARTIFACT_FOLDER = "evaluation"
SCORED = ("model", "baseline_sketch", "baseline_mean_colour")
NAME_CHARS = 20


def evaluate_stage(params: Params, paths: ProjectPaths) -> None:
    """Score the generator and both baselines on the test split; write and log the results."""
    config = params.evaluate
    size = params.data.image_size
    if config.fid:
        fid.require_fid_helper()  # fail before minutes of prediction, not after

    from sketch2color.inference import load_generator

    generator = load_generator(paths.generator)
    check_generator_size(generator, size, paths.generator)
    test_shards = find_shards(paths.split, "test")
    if not test_shards:
        raise DataError(
            f"no test shards (test-*.tfrecord) in {paths.split}: run the split stage "
            "with split.test_fraction above 0 (or split.test_source: kaggle_val)"
        )
    mean_image = _mean_colour_image(find_shards(paths.split, "train"), size)

    started = time.perf_counter()
    skipped: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="sketch2color-eval-") as tmp:
        store = PredictionStore(Path(tmp) / "predictions.u8", size)
        scores, names = _score_test_split(generator, test_shards, mean_image, store, params, skipped)
        predictions = store.read()
        model_ssim = scores["model"].per_image("ssim")
        picks = samples.pick_examples(model_ssim, config.sample_rows)
        rows = _sample_rows(picks, test_shards, predictions, model_ssim, names, size)
        fid_result = None
        if config.fid:
            fid_result = fid.compute_fid(
                _prediction_target_batches(
                    test_shards, predictions, size, config.batch_size, config.fid_max_images
                )
            )
    seconds = time.perf_counter() - started

    report = build_report(scores, params, picks, model_ssim, names, skipped, fid_result)
    eval_path = paths.eval_metrics
    samples_path = paths.eval_samples
    atomic.write_json(eval_path, report)
    samples.write_png(samples.render_grid(rows), samples_path)
    log.info(
        "evaluated %d test images in %.1f s (%s mode); model | sketch | mean colour:",
        report["test_images"],
        seconds,
        config.inference_mode,
    )
    for metric in METRIC_NAMES:
        means = [report[name].get(metric, {}).get("mean", float("nan")) for name in SCORED]
        log.info("  %-12s %8.3f | %8.3f | %8.3f", metric, *means)
    log_to_training_run(paths, report, [eval_path, samples_path])


# ---------------------------------------------------------------- scoring


def _mean_colour_image(train_shards: Sequence[Path], size: int) -> np.ndarray:
    """The mean-colour baseline, failing with the shard's name if data/split/train is damaged.

    Unlike a damaged test shard (skipped and reported: the intact test records
    still score the model), a baseline silently computed over part of the
    train split would not be the baseline eval.json says it is.
    """
    import tensorflow as tf

    for path in train_shards:  # a cut inside a record header reads as a clean end of file
        reason = framing_damage(path)
        if reason is not None:
            raise damaged_shard_error(path, reason)
    try:
        return baselines.mean_colour_image(train_shards, size)
    except tf.errors.OpError as exc:
        raise shard_read_error(train_shards, exc, "the train split") from None


class PredictionStore:
    """Append-only uint8 predictions in a temporary file, read back as a memory map."""

    def __init__(self, path: Path, image_size: int) -> None:
        self.path = path
        self.shape = (image_size, image_size, 3)
        self.count = 0
        self._file = open(path, "wb")

    def append(self, predictions: np.ndarray) -> None:
        self._file.write(np.ascontiguousarray(predictions, np.uint8).tobytes())
        self.count += len(predictions)

    def read(self) -> np.ndarray:
        self._file.close()
        if self.count == 0:
            return np.zeros((0, *self.shape), np.uint8)
        return np.memmap(self.path, np.uint8, "r", shape=(self.count, *self.shape))


def _score_test_split(generator, test_shards, mean_image, store, params, skipped):
    from sketch2color.inference import predict_uint8

    config = params.evaluate
    scores = {name: MetricAccumulator() for name in SCORED}
    names: list[str] = []
    pairs = read_pairs(test_shards, params.data.image_size, skipped)
    for batch in batched(pairs, config.batch_size):
        sketches = np.stack([pair.sketch for pair in batch])
        targets = np.stack([pair.colour for pair in batch])
        predictions = predict_uint8(generator, sketches, config.inference_mode)
        scores["model"].add(predictions, targets, sketches)
        scores["baseline_sketch"].add(baselines.sketch_baseline(sketches), targets, sketches)
        scores["baseline_mean_colour"].add(
            baselines.mean_colour_baseline(mean_image, len(batch)), targets, sketches
        )
        store.append(predictions)
        names.extend(pair.name for pair in batch)
    if not names:
        detail = f"; damaged shards: {skipped}" if skipped else ""
        raise DataError(f"the test split in {test_shards[0].parent} has no records{detail}")
    return scores, names


def _selected_pairs(shards, indices: set[int], image_size: int) -> dict[int, Pair]:
    """Re-read only the chosen test pairs (same order and skips as the scoring pass)."""
    chosen: dict[int, Pair] = {}
    for index, pair in enumerate(read_pairs(shards, image_size, [])):
        if index in indices:
            chosen[index] = pair
            if len(chosen) == len(indices):
                break
    return chosen


def _sample_rows(picks, shards, predictions, ssim, names, image_size) -> list[samples.SampleRow]:
    pairs = _selected_pairs(shards, {index for _, index in picks}, image_size)
    rows = []
    for rank, index in picks:
        name = names[index]
        short = name if len(name) <= NAME_CHARS else "..." + name[-(NAME_CHARS - 3) :]
        label = f"{samples.rank_label(rank, len(names))}\nSSIM {ssim[index]:.3f}\n{short}"
        pair = pairs[index]
        rows.append(samples.SampleRow(label, pair.sketch, pair.colour, np.array(predictions[index])))
    return rows


def _prediction_target_batches(shards, predictions, image_size, batch_size, limit):
    pairs = itertools.islice(read_pairs(shards, image_size, []), min(limit, len(predictions)))
    start = 0
    for batch in batched(pairs, batch_size):
        targets = np.stack([pair.colour for pair in batch])
        yield np.array(predictions[start : start + len(batch)]), targets
        start += len(batch)


# ---------------------------------------------------------------- reporting


def build_report(scores, params: Params, picks, ssim, names, skipped, fid_result) -> dict:
    report: dict = {name: summaries_to_dict(scores[name].summaries()) for name in SCORED}
    report.update(
        test_images=scores["model"].count,
        fill_images=scores["model"].scored_images("fill_delta_e"),
        inference_mode=params.evaluate.inference_mode,
        image_size=params.data.image_size,
        psnr_cap_db=PSNR_CAP_DB,
        samples=[
            {
                "rank": rank + 1,
                "label": samples.rank_label(rank, len(names)),
                "name": names[index],
                "ssim": float(ssim[index]),
            }
            for rank, index in picks
        ],
        skipped_shards=skipped,
    )
    if fid_result is not None:
        report["fid"] = fid_result.to_dict()
    return report


def scalar_metrics(report: dict) -> dict[str, float]:
    """Flat ``eval_<scored>_<metric>_<stat>`` scalars for MLflow."""
    flat = {}
    for name in SCORED:
        for metric, stats in report[name].items():
            for stat, value in stats.items():
                flat[f"eval_{name}_{metric}_{stat}"] = float(value)
    flat["eval_test_images"] = float(report["test_images"])
    if "fid" in report:
        flat["eval_fid"] = float(report["fid"]["score"])
    return flat


def log_to_training_run(paths: ProjectPaths, report: dict, files: Sequence[Path]) -> None:
    link = TrainingRunLink.open(paths)
    if link is None:
        return
    link.log_metrics(scalar_metrics(report))
    tags = {"eval.inference_mode": report["inference_mode"], "eval.test_images": report["test_images"]}
    if "fid" in report:
        tags.update({f"eval.fid.{key}": value for key, value in report["fid"].items()})
    link.set_run_tags(tags)
    for path in files:
        link.log_artifact(path, ARTIFACT_FOLDER)
