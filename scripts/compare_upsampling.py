"""Measure the ways of bringing the model's colour up to the sketch's resolution (docs/full-resolution.md).

Runs in a project that has been through ``dvc repro`` (the test split, the
originals in data/raw, the trained generator) and scores, on the first N
held-out pairs at the originals' resolution, each candidate against the
full-size ground truth:

* ``stretched``: the model's square resized (bicubic), as the paper's tool did;
* ``bicubic + multiply``: the same, with the sketch multiplied over it;
* ``guided + multiply``: ``cv2.ximgproc.guidedFilter`` guided by the sketch;
* ``joint bilateral + multiply``: ``cv2.ximgproc.jointBilateralFilter``;
* ``line-faithful``: what colorize does (:mod:`sketch2color.inference.compose`).

    python scripts/compare_upsampling.py --pairs 200
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2
import numpy as np

from sketch2color.config import load_params
from sketch2color.data.images import resize_rgb
from sketch2color.evaluation.full_resolution import raw_pairs
from sketch2color.evaluation.metrics import (
    fill_delta_e_per_image,
    line_iou_per_image,
    line_recall_per_image,
    ssim_per_image,
)
from sketch2color.evaluation.scoring import reread_test_pairs
from sketch2color.inference.colorizer import color_sketches
from sketch2color.inference.compose import line_faithful, multiply_lines
from sketch2color.inference.geometry import cut_from_square
from sketch2color.inference.selection import trained_generator
from sketch2color.paths import ProjectPaths


def candidates(sketch: np.ndarray, color: np.ndarray) -> dict[str, object]:
    """Every way of bringing ``colour`` (the model's size) to ``sketch``'s size, as callables."""
    height, width = sketch.shape[:2]
    scale = max(height / color.shape[0], width / color.shape[1])

    def up() -> np.ndarray:
        return resize_rgb(color, height, width)

    return {
        "stretched": up,
        "bicubic + multiply": lambda: multiply_lines(up(), sketch),
        "guided + multiply": lambda: multiply_lines(
            cv2.ximgproc.guidedFilter(sketch, up(), int(scale), 100.0), sketch
        ),
        "joint bilateral + multiply": lambda: multiply_lines(
            cv2.ximgproc.jointBilateralFilter(sketch, up(), 2 * int(scale) + 1, 30, scale), sketch
        ),
        "line-faithful": lambda: line_faithful(sketch, color),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200, help="held-out pairs to score (default 200)")
    args = parser.parse_args()
    paths = ProjectPaths.discover()
    params = load_params(paths.params)
    backend = trained_generator(paths, params.evaluate.inference_mode, params.data.image_size)
    names = [pair.name for pair in reread_test_pairs(paths.split, params.data.image_size, args.pairs)]
    scores: dict[str, dict[str, list[float]]] = {}
    for pair in raw_pairs(paths.raw, names, params.fetch.safety.max_image_pixels, []):
        answer = color_sketches(backend, [pair.sketch])[0]
        small = cut_from_square(answer.square, answer.placement)
        for name, make in candidates(pair.sketch, small).items():
            started = time.perf_counter()
            picture = make()
            entry = scores.setdefault(
                name, {"ms": [], "ssim": [], "fill_delta_e": [], "line_recall": [], "line_iou": []}
            )
            entry["ms"].append(1000 * (time.perf_counter() - started))
            entry["ssim"].append(ssim_per_image(picture[None], pair.color[None])[0])
            entry["fill_delta_e"].append(
                fill_delta_e_per_image(picture[None], pair.color[None], pair.sketch[None])[0]
            )
            entry["line_recall"].append(line_recall_per_image(picture[None], pair.sketch[None])[0])
            entry["line_iou"].append(line_iou_per_image(picture[None], pair.sketch[None])[0])
    print(f"{len(names)} held-out pairs at the originals' resolution, model {params.data.image_size} px")
    print("| output | SSIM | fill ΔE00 | line recall | line IoU | ms per image |\n|---|---|---|---|---|---|")
    for name, entry in scores.items():
        means = [np.nanmean(entry[key]) for key in ("ssim", "fill_delta_e", "line_recall", "line_iou", "ms")]
        print(
            f"| {name} | {means[0]:.3f} | {means[1]:.2f} | {means[2]:.3f} | {means[3]:.3f} | {means[4]:.0f} |"
        )


if __name__ == "__main__":
    main()
