"""The data stages' own speed: synthetic generation, split and augment, in pairs per second.

* generation: :func:`benchmark_generation` - draw, PNG-encode and write
  Kaggle-format pairs with the fetch stage's worker pool
  (:func:`sketch2color.data.synthetic.write_synthetic_dataset`, its start-up
  included);
* split: :func:`sketch2color.data.split.split_dataset` on a temporary
  project of synthetic pairs - decode, cut in halves, resize and shard, with
  the default ``split.workers``;
* augment: :func:`benchmark_augment` - one augmented copy of a pair
  (:func:`sketch2color.data.augment.augment_pair`: two warps and sketch noise)
  at the default image size and at the paper's 256 px.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.timing import Stopwatch

if TYPE_CHECKING:
    import numpy as np

    from sketch2color.data.shards import Pair


def benchmark_generation(count: int = 200, pair_height: int = 512, workers: int = 2) -> float:
    """Pairs per second for generate + encode + atomic write into a temporary folder,
    pool start-up included (what the fetch stage pays)."""
    from sketch2color.config import SyntheticConfig
    from sketch2color.data.synthetic import write_synthetic_dataset

    cfg = SyntheticConfig(count=count, pair_width=2 * pair_height, pair_height=pair_height, workers=workers)
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-") as tmp:
        start = time.perf_counter()
        write_synthetic_dataset(Path(tmp), cfg, seed=0)
        elapsed = time.perf_counter() - start
    return count / elapsed


def _benchmark_pair(size: int, rng: np.random.Generator, name: str) -> Pair:
    """Line art on white and a filled colour image of the same shapes, like the real data."""
    import cv2
    import numpy as np

    from sketch2color.data.shards import Pair

    sketch = np.full((size, size, 3), 255, np.uint8)
    color = np.empty((size, size, 3), np.uint8)
    color[:] = rng.integers(120, 255, 3, dtype=np.uint8)
    thickness = max(1, size // 128)
    for _ in range(6):
        centre = tuple(int(v) for v in rng.integers(size // 8, size - size // 8, 2))
        radius = int(rng.integers(size // 16, size // 4))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.circle(color, centre, radius, fill, -1, cv2.LINE_AA)
        cv2.circle(color, centre, radius, (20, 20, 20), thickness, cv2.LINE_AA)
        cv2.circle(sketch, centre, radius, (20, 20, 20), thickness, cv2.LINE_AA)
    return Pair(sketch=sketch, color=color, name=name)


def benchmark_augment(image_size: int = 256, pairs: int = 50) -> float:
    """Pairs per second of the pure transform (draw, two warps, sketch noise), no file IO.

    Each timed unit is one augmented copy of one pair with the default
    params.yaml augmentation, i.e. what the stage does per output copy before
    serialising it.
    """
    import numpy as np

    from sketch2color.config import AugmentConfig
    from sketch2color.data.augment import augment_pair

    if pairs < 1:
        raise ValueError("benchmark_augment needs at least one pair")
    config = AugmentConfig()
    rng = np.random.default_rng(0)
    inputs = [_benchmark_pair(image_size, rng, f"bench-{i}") for i in range(pairs)]
    augment_pair(inputs[0], config, np.random.default_rng([0, 0, 0]), "warm-up")
    started = time.perf_counter()
    for index, pair in enumerate(inputs):
        augment_pair(pair, config, np.random.default_rng([0, index, 1]), pair.name)
    return pairs / (time.perf_counter() - started)


def _split_rate(pairs: int, pair_height: int, image_size: int, workers: int) -> dict:
    from sketch2color.config import SyntheticConfig, params_from_dict
    from sketch2color.data.split import split_dataset
    from sketch2color.data.synthetic import write_synthetic_dataset
    from sketch2color.paths import ProjectPaths

    params = params_from_dict({"data": {"image_size": image_size}, "split": {"workers": workers}})
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-split-") as tmp:
        paths = ProjectPaths(Path(tmp))
        write_synthetic_dataset(
            paths.raw,
            SyntheticConfig(
                count=pairs, pair_width=2 * pair_height, pair_height=pair_height, workers=workers
            ),
            seed=0,
        )
        with Stopwatch() as watch:
            result = split_dataset(params, paths)
    done = sum(result.counts.values())
    return {
        "pairs": done,
        "pair_size": f"{2 * pair_height}x{pair_height}",
        "image_size": image_size,
        "workers": workers,
        "seconds": round(watch.seconds, 2),
        "pairs_per_s": round(done / watch.seconds, 2),
    }


def data_stages_section(quick: bool, report=print) -> dict:
    from sketch2color.config import Params

    defaults = Params()
    synthetic = defaults.fetch.synthetic
    if quick:
        count, height, workers, split_pairs, augment_pairs = 6, 64, 1, 6, 4
    else:
        count, height, workers, split_pairs, augment_pairs = (
            100,
            synthetic.pair_height,
            synthetic.workers,
            100,
            50,
        )

    report("  data: synthetic generation ...")
    generation = benchmark_generation(count=count, pair_height=height, workers=workers)
    report("  data: split ...")
    split = _split_rate(split_pairs, height, defaults.data.image_size, 1 if quick else defaults.split.workers)
    report("  data: augment ...")
    augment = {
        f"{size}px_pairs_per_s": round(benchmark_augment(image_size=size, pairs=augment_pairs), 2)
        for size in sorted({defaults.data.image_size, 256})
    }
    return {
        "generation": {
            "pairs": count,
            "pair_size": f"{2 * height}x{height}",
            "workers": workers,
            "pairs_per_s": round(generation, 2),
        },
        "split": split,
        "augment": augment,
    }
