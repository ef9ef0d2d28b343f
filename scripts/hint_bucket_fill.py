"""A bucket fill of every hinted region beside the hint model: how far spreading each dab to the lines goes.

Runs in a project that has been through ``dvc repro`` with a hint profile
(docs/hints.md). For every held-out pair and every count of evaluate's hint
curve (the same hints, from the same seed), it scores the hint model's output
and that output with every hinted region filled with its hints' colour, as a
bucket fill would: a region is a connected component of the sketch's paper
(pixels with every channel at least ``--paper``, by default the fill colour
difference's paper level) and its colour is the median of the hint pixels in
it. That is a reference for the hint curve's targets, not a bound: the pixels
that lines only partly cover (half of the fill pixels at 64 px) keep the
model's colour, and a region whose outline has a gap at this size runs into
the paper around it, which costs PSNR.

    python scripts/hint_bucket_fill.py
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2
import numpy as np

from sketch2color.config import load_params
from sketch2color.data.hints import as_rgba, draw_for_evaluation
from sketch2color.data.images import PAPER_LEVEL
from sketch2color.evaluation.hint_curve import HINT_COUNTS, SEED
from sketch2color.evaluation.metrics import fill_delta_e_per_image, psnr_per_image
from sketch2color.evaluation.scoring import reread_test_pairs
from sketch2color.inference.selection import trained_generator
from sketch2color.iteration import batched
from sketch2color.paths import ProjectPaths


def bucket_fill_64px(
    output: np.ndarray, sketch: np.ndarray, hints_rgba: np.ndarray, paper: int
) -> np.ndarray:
    """``output`` with each paper region of ``sketch`` that holds a hint painted its hints' median."""
    painted = output.copy()
    hinted = hints_rgba[..., 3] > 0
    count, regions = cv2.connectedComponents((sketch.min(axis=-1) >= paper).astype(np.uint8), connectivity=4)
    for region in range(1, count):
        inside = regions == region
        dabs = inside & hinted
        if dabs.any():
            painted[inside] = np.median(hints_rgba[..., :3][dabs], axis=0).astype(np.uint8)
    return painted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--paper",
        type=int,
        default=PAPER_LEVEL,
        help=f"sketch level from which a pixel is paper ({PAPER_LEVEL})",
    )
    args = parser.parse_args()
    paths = ProjectPaths.discover()
    params = load_params(paths.params)
    backend = trained_generator(paths, params.evaluate.inference_mode, params.data.image_size)
    if not backend.takes_hints:
        raise SystemExit(f"error: {paths.generator} was trained without hints (train.hints.enabled)")
    pairs = list(reread_test_pairs(paths.split, params.data.image_size))
    scores = {
        count: {"model": [], "bucket": [], "model_psnr": [], "bucket_psnr": []} for count in HINT_COUNTS
    }
    for index, batch in enumerate(batched(pairs, params.evaluate.batch_size)):
        sketches = np.stack([pair.sketch for pair in batch])
        targets = np.stack([pair.color for pair in batch])
        for count in HINT_COUNTS:
            hints = as_rgba(draw_for_evaluation(targets, sketches, count, params.train.hints, SEED, index))
            outputs = backend.color_batch(sketches, hints if count else None)
            bucket = np.stack(
                [
                    bucket_fill_64px(o, s, h, args.paper)
                    for o, s, h in zip(outputs, sketches, hints, strict=True)
                ]
            )
            entry = scores[count]
            entry["model"].extend(fill_delta_e_per_image(outputs, targets, sketches))
            entry["bucket"].extend(fill_delta_e_per_image(bucket, targets, sketches))
            entry["model_psnr"].extend(psnr_per_image(outputs, targets))
            entry["bucket_psnr"].extend(psnr_per_image(bucket, targets))
    print(f"{len(pairs)} held-out pairs at {params.data.image_size} px")
    print("| hints | fill ΔE00, model | fill ΔE00, bucket fill | PSNR, model | PSNR, bucket fill |")
    print("|---:|---:|---:|---:|---:|")
    for count, entry in scores.items():
        means = [np.nanmean(entry[key]) for key in ("model", "bucket", "model_psnr", "bucket_psnr")]
        print(f"| {count} | {means[0]:.2f} | {means[1]:.2f} | {means[2]:.2f} | {means[3]:.2f} |")


if __name__ == "__main__":
    main()
