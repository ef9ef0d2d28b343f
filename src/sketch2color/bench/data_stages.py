"""The data stages' own speed: synthetic generation, split and augment, in pairs per second.

* generation: :func:`benchmark_generation` - draw, PNG-encode and write
  Kaggle-format pairs with the fetch stage's worker pool
  (:func:`sketch2color.data.synthetic.write_synthetic_dataset`, its start-up
  included);
* split: :func:`sketch2color.data.split.split_dataset` on a temporary
  project of synthetic pairs - decode, cut in halves, resize and shard, with
  the default ``split.workers``;
* augment: :func:`sketch2color.data.augment.benchmark_augment` - one
  augmented copy of a pair (two warps and sketch noise) at the default image
  size and at the paper's 256 px.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from sketch2color.bench.timing import Stopwatch


def benchmark_generation(count: int = 200, pair_height: int = 512, workers: int = 2) -> float:
    """Pairs per second for generate + encode + atomic write into a temporary folder,
    pool start-up included (what the fetch stage pays)."""
    from sketch2color.config import SyntheticConfig
    from sketch2color.data.synthetic import write_synthetic_dataset

    cfg = SyntheticConfig(count=count, pair_width=2 * pair_height, pair_height=pair_height,
                          workers=workers)
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-") as tmp:
        start = time.perf_counter()
        write_synthetic_dataset(Path(tmp), cfg, seed=0)
        elapsed = time.perf_counter() - start
    return count / elapsed


def _split_rate(pairs: int, pair_height: int, image_size: int, workers: int) -> dict:
    from sketch2color.config import Params, SplitConfig, SyntheticConfig
    from sketch2color.data.split import split_dataset
    from sketch2color.data.synthetic import write_synthetic_dataset
    from sketch2color.paths import ProjectPaths

    params = Params()
    params = replace(params, data=replace(params.data, image_size=image_size),
                     split=replace(params.split, workers=workers))
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-split-") as tmp:
        paths = ProjectPaths(Path(tmp))
        write_synthetic_dataset(paths.raw, SyntheticConfig(count=pairs, pair_width=2 * pair_height,
                                                           pair_height=pair_height, workers=workers), seed=0)
        with Stopwatch() as watch:
            result = split_dataset(params, paths)
    done = sum(result.counts.values())
    return {"pairs": done, "pair_size": f"{2 * pair_height}x{pair_height}", "image_size": image_size,
            "workers": workers, "seconds": round(watch.seconds, 2),
            "pairs_per_s": round(done / watch.seconds, 2)}


def data_stages_section(quick: bool, report=print) -> dict:
    from sketch2color.config import Params
    from sketch2color.data.augment import benchmark_augment

    defaults = Params()
    synthetic = defaults.fetch.synthetic
    if quick:
        count, height, workers, split_pairs, augment_pairs = 6, 64, 1, 6, 4
    else:
        count, height, workers, split_pairs, augment_pairs = 100, synthetic.pair_height, synthetic.workers, 100, 50

    report("  data: synthetic generation ...")
    generation = benchmark_generation(count=count, pair_height=height, workers=workers)
    report("  data: split ...")
    split = _split_rate(split_pairs, height, defaults.data.image_size,
                        1 if quick else defaults.split.workers)
    report("  data: augment ...")
    augment = {
        f"{size}px_pairs_per_s": round(benchmark_augment(image_size=size, pairs=augment_pairs), 2)
        for size in sorted({defaults.data.image_size, 256})
    }
    return {
        "generation": {"pairs": count, "pair_size": f"{2 * height}x{height}", "workers": workers,
                       "pairs_per_s": round(generation, 2)},
        "split": split,
        "augment": augment,
    }
