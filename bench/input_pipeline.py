"""The training input alone: TFRecord shards -> decoded, shuffled, batched, scaled pairs.

It is the training's own :class:`~sketch2color.training.dataset.ShardSource`
on temporary shards at the benchmark's image size, iterated as the loop
iterates it, with no model behind it. Two rates:

* ``first_epoch``: read from disk and decoded (every epoch when
  ``train.cache_dataset`` is off, the first epoch when it is on);
* ``cached_epochs``: later epochs served from the in-memory cache;
* ``hints_cached_epochs``: the same with simulated colour hints drawn for
  every pair (:mod:`sketch2color.data.hints`, as ``train.hints.enabled``
  trains), so the sampler's cost shows beside the plain input's.

The ratio of each to the train step's images/s says by how much the input
outruns training (the target is at least 10x, so the step never waits).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from bench.timing import Stopwatch

SHARDS = 4
CACHED_EPOCHS = 3


def _pairs(count: int, size: int):
    from sketch2color.data.shards import Pair

    rng = np.random.default_rng(0)
    for index in range(count):
        yield Pair(
            rng.integers(0, 256, (size, size, 3), np.uint8),
            rng.integers(0, 256, (size, size, 3), np.uint8),
            f"bench-{index:05d}",
        )


def _epoch_rate(dataset) -> tuple[float, int]:
    images = 0
    with Stopwatch() as watch:
        for sketches, _ in dataset:
            images += int(sketches.shape[0])
    return images / watch.seconds, images


def input_pipeline_section(quick: bool, batch: int = 4, report=print) -> dict:
    from sketch2color.config import HintsConfig
    from sketch2color.data.shards import find_shards, write_shards
    from sketch2color.training.dataset import ShardSource

    size, pairs = (64, 64) if quick else (256, 512)
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-input-") as tmp:
        report(f"  input: writing {pairs} pairs at {size} px ...")
        write_shards(_pairs(pairs, size), Path(tmp), "train", SHARDS)
        shards = find_shards(Path(tmp), "train")
        source = ShardSource(shards, size, global_batch=batch, shuffle_buffer=2048, seed=0, cache=True)
        first, images = _epoch_rate(source.epoch(0))
        cached = [_epoch_rate(source.epoch(epoch))[0] for epoch in range(1, 1 + CACHED_EPOCHS)]
        report("  input: the same with simulated hints ...")
        hinted = ShardSource(
            shards,
            size,
            global_batch=batch,
            shuffle_buffer=2048,
            seed=0,
            cache=True,
            hints=HintsConfig(enabled=True),
        )
        _epoch_rate(hinted.epoch(0))  # fills the cache, as in the plain case
        with_hints = [_epoch_rate(hinted.epoch(epoch))[0] for epoch in range(1, 1 + CACHED_EPOCHS)]
    return {
        "image_size": size,
        "pairs": pairs,
        "batch": batch,
        "images_per_epoch": images,
        "first_epoch_images_per_s": round(first, 1),
        "cached_epochs_images_per_s": round(float(np.median(cached)), 1),
        "hints_cached_epochs_images_per_s": round(float(np.median(with_hints)), 1),
    }


def ratios_to_training(section: dict, train_images_per_s: float | None) -> dict:
    """How many times faster than the train step the input is (None without a train figure)."""
    if not train_images_per_s:
        return {
            "train_images_per_s": None,
            "first_epoch_ratio": None,
            "cached_ratio": None,
            "hints_cached_ratio": None,
        }
    return {
        "train_images_per_s": train_images_per_s,
        "first_epoch_ratio": round(section["first_epoch_images_per_s"] / train_images_per_s, 1),
        "cached_ratio": round(section["cached_epochs_images_per_s"] / train_images_per_s, 1),
        "hints_cached_ratio": round(section["hints_cached_epochs_images_per_s"] / train_images_per_s, 1),
    }
