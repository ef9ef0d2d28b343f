"""Scoring the generator and both baselines on the test split, at the model's size.

The test split streams through in batches of ``evaluate.batch_size``; only a
few floats per image and the uint8 predictions (in a temporary file, not in
memory) are kept, so a 3,500-image Kaggle test set at 256 px costs about
700 MB of temporary disk, not of RAM. Predictions are stored rather than
recomputed for FID because under ``inference_mode: train_dropout`` a second
pass would give different images than the ones that were scored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sketch2color.data.shard_reader import read_split
from sketch2color.data.shards import Pair
from sketch2color.errors import DataError
from sketch2color.evaluation import baselines
from sketch2color.evaluation.metrics import MetricAccumulator
from sketch2color.inference.backends import Backend
from sketch2color.iteration import batched

SCORED = ("model", "baseline_sketch", "baseline_mean_color")


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


@dataclass
class TestScores:
    """What the model-size pass found: per-output scores, the test names in order, damaged shards."""

    scores: dict[str, MetricAccumulator]
    names: list[str]
    skipped: list[dict]


def score_test_split(
    backend: Backend,
    split_folder: Path,
    image_size: int,
    mean_image: np.ndarray,
    store: PredictionStore,
    batch_size: int,
) -> TestScores:
    """Colour every test sketch with ``backend`` and score it and both baselines against the truth."""
    result = TestScores({name: MetricAccumulator() for name in SCORED}, [], [])
    for batch in batched(read_split(split_folder, "test", image_size, result.skipped), batch_size):
        sketches = np.stack([pair.sketch for pair in batch])
        targets = np.stack([pair.color for pair in batch])
        predictions = backend.color_batch(sketches)
        outputs = {
            "model": predictions,
            "baseline_sketch": baselines.sketch_baseline(sketches),
            "baseline_mean_color": baselines.mean_color_baseline(mean_image, len(batch)),
        }
        for name, output in outputs.items():
            result.scores[name].add(output, targets, sketches)
        store.append(predictions)
        result.names.extend(pair.name for pair in batch)
    if not result.names:
        detail = f"; damaged shards: {result.skipped}" if result.skipped else ""
        raise DataError(f"the test split in {split_folder} has no records{detail}")
    return result


def reread_test_pairs(split_folder: Path, image_size: int, limit: int | None = None) -> Iterator[Pair]:
    """The test pairs again, in the order and with the skips of the scoring pass (which reported them)."""
    for index, pair in enumerate(read_split(split_folder, "test", image_size, [], warn=False)):
        if limit is not None and index >= limit:
            return
        yield pair
