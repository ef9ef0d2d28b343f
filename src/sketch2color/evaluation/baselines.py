"""Two trivial "models" scored beside the generator, so its numbers mean something.

An SSIM of 0.6 says little on its own: line art on white already shares most
of its structure with the colour image, and a flat average image already has
a low L1 on datasets with a common palette. A model is only worth its
training if it is well ahead of both:

* ``baseline_sketch``: the input sketch returned unchanged (no colour at all);
* ``baseline_mean_color``: the per-pixel mean of the *training* colour images,
  whatever the sketch (the best constant output under L2; no test data leaks
  into it because it reads only the train split of ``data/split``, not the
  augmented copies, which would smear it by their random transforms).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sketch2color.data.shard_reader import read_pairs
from sketch2color.errors import DataError

log = logging.getLogger(__name__)


def sketch_baseline(sketches: np.ndarray) -> np.ndarray:
    """The output of a model that colours nothing: the sketch itself."""
    return sketches


def mean_color_image(train_shards: Sequence[Path], image_size: int) -> np.ndarray:
    """Per-pixel mean of the training colour images, rounded to uint8 (H, W, 3).

    Summed in float64 one pair at a time, so memory does not grow with the
    split and a large split does not lose precision.
    """
    if not train_shards:
        raise DataError(
            "no train shards in data/split: the mean-colour baseline needs the "
            "train split; run the split stage first"
        )
    total = np.zeros((image_size, image_size, 3), np.float64)
    count = 0
    # Strict: a baseline averaged over part of the split would not be the baseline it is called.
    for pair in read_pairs(list(train_shards), strict=True, what="the train split"):
        if pair.color.shape != total.shape:
            raise DataError(
                f"train pair {pair.name!r} is {pair.color.shape[0]} px but data.image_size is "
                f"{image_size}: data/split is stale; rerun the split stage"
            )
        total += pair.color
        count += 1
    if count == 0:
        raise DataError(f"the train split ({train_shards[0].parent}) has no records")
    log.info("mean-colour baseline from %d training images", count)
    return np.clip(np.rint(total / count), 0, 255).astype(np.uint8)


def mean_color_baseline(mean_image: np.ndarray, batch_size: int) -> np.ndarray:
    """The mean training image repeated for a batch (the same for every sketch)."""
    return np.broadcast_to(mean_image, (batch_size, *mean_image.shape))
