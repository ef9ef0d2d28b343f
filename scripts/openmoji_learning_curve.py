"""Would more drawings reach the OpenMoji fill target? Smaller runs and the full one on one held-out set.

Each run's own test split is a different draw of emoji, and a small one, so
their scores cannot be set side by side. This script scores every run on the
same pictures instead: the full project's held-out emoji that none of the
smaller runs trained or validated on. Since every model colours the same
pictures, the differences between them are paired, and their standard errors
are much smaller than those of the scores themselves.

Run it in the full project (``make repro PROFILE=openmoji``). A smaller run
is the same profile with ``fetch.openmoji.limit`` set (that many emoji,
spread evenly over the set), run in a copy of the project, for instance with
``dvc exp run -S fetch.openmoji.limit=403`` there; pass its generator and its
data/split, smallest run first:

    python scripts/openmoji_learning_curve.py \
        --run ../om-403/models/generator.keras ../om-403/data/split \
        --run ../om-806/models/generator.keras ../om-806/data/split
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from sketch2color.config import load_params
from sketch2color.data.shard_reader import read_split
from sketch2color.data.shards import find_shards
from sketch2color.evaluation.baselines import mean_color_image
from sketch2color.evaluation.metrics import fill_delta_e_per_image
from sketch2color.inference.backends import KerasBackend
from sketch2color.paths import ProjectPaths


def record_names(split_folder: Path, parts: tuple[str, ...], size: int) -> set[str]:
    return {pair.name for part in parts for pair in read_split(split_folder, part, size, [], warn=False)}


def colored(model: Path, sketches: np.ndarray) -> np.ndarray:
    backend = KerasBackend(model, "eval")
    return np.concatenate([backend.color_batch(sketches[i : i + 32]) for i in range(0, len(sketches), 32)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run",
        nargs=2,
        action="append",
        required=True,
        metavar=("GENERATOR", "SPLIT"),
        help="a smaller run's generator.keras and its data/split folder (repeat, smallest first)",
    )
    args = parser.parse_args()
    paths = ProjectPaths.discover()
    size = load_params(paths.params).data.image_size
    runs = [(Path(model), Path(split)) for model, split in args.run] + [(paths.generator, paths.split)]

    seen_by_smaller_runs = set().union(
        *(record_names(split, ("train", "val"), size) for _, split in runs[:-1])
    )
    pairs = [
        pair for pair in read_split(paths.split, "test", size, []) if pair.name not in seen_by_smaller_runs
    ]
    sketches = np.stack([pair.sketch for pair in pairs])
    truths = np.stack([pair.color for pair in pairs])
    print(f"{len(pairs)} held-out emoji that no run trained or validated on")

    mean_image = mean_color_image(find_shards(paths.split, "train"), size)
    for label, output in (
        ("the sketch itself", sketches),
        ("the full run's mean training colour", np.broadcast_to(mean_image, truths.shape)),
    ):
        print(f"{label:>40}: fill dE00 {np.nanmean(fill_delta_e_per_image(output, truths, sketches)):.2f}")

    previous = None
    for model, split in runs:
        errors = fill_delta_e_per_image(colored(model, sketches), truths, sketches)
        training = len(record_names(split, ("train",), size))
        line = f"{training:>20} training pairs ({model}): fill dE00 {np.nanmean(errors):.2f}"
        if previous is not None:
            change = errors - previous
            change = change[~np.isnan(change)]
            paired_se = change.std(ddof=1) / np.sqrt(len(change))
            line += f", {change.mean():+.2f} on the run before (paired se {paired_se:.2f})"
        print(line)
        previous = errors


if __name__ == "__main__":
    main()
