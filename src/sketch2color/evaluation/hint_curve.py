"""What a few colour hints buy: a hint model scored at 0, 1, 2, 5, 10 and 20 hints.

For a generator trained with hints (``train.hints.enabled``), every test
pair is coloured again at each count of :data:`HINT_COUNTS`, with hints drawn
from its own ground truth by the training's sampler
(:mod:`sketch2color.data.hints`) from a fixed seed, so the curve is the same
on every run. Each count gets SSIM, PSNR and the fill colour difference, and
``hint_delta_e``: whether each hint is followed, as the CIEDE2000 difference
between the hint's colour and the output's mean colour over the hint's patch
grown by :data:`FOLLOW_RADIUS` pixels (clipped to the image). The table goes
into ``metrics/eval.json``, ``metrics/hint_curve.csv`` (a DVC plot) and
MLflow (one metric per score, its step the number of hints).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sketch2color.config import HintsConfig
from sketch2color.data.hints import as_rgba, draw_for_evaluation
from sketch2color.evaluation.metrics import MetricAccumulator
from sketch2color.evaluation.scoring import reread_test_pairs
from sketch2color.inference.backends import Backend
from sketch2color.inference.pixels import from_model_output
from sketch2color.iteration import batched

HINT_COUNTS = (0, 1, 2, 5, 10, 20)
METRICS = ("ssim", "psnr", "fill_delta_e")
SEED = 2017
"""The hints' seed: one curve for every run of the same model and data."""
FOLLOW_RADIUS = 1
"""Pixels around a hint's patch (at the model's size) over which its colour must be followed."""
CSV_COLUMNS = ("hints", *METRICS, "hint_delta_e")


@dataclass
class HintCurve:
    counts: tuple[int, ...] = HINT_COUNTS
    scores: dict[int, MetricAccumulator] = field(default_factory=dict)
    followed: dict[int, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.scores = {count: MetricAccumulator(METRICS) for count in self.counts}
        self.followed = {count: [] for count in self.counts}

    def rows(self) -> list[dict[str, float]]:
        rows = []
        for count in self.counts:
            summaries = self.scores[count].summaries()
            row = {"hints": count, **{name: summaries[name].mean for name in METRICS if name in summaries}}
            row["hint_delta_e"] = float(np.mean(self.followed[count])) if self.followed[count] else None
            rows.append(row)
        return rows

    def to_dict(self) -> dict:
        return {
            "counts": list(self.counts),
            "table": self.rows(),
            "seed": SEED,
            "follow_radius_px": FOLLOW_RADIUS,
            "images": self.scores[self.counts[0]].count,
        }


def score_hint_curve(
    backend: Backend, split_folder: Path, image_size: int, config: HintsConfig, batch_size: int
) -> HintCurve:
    """Colour the test split at every count of :data:`HINT_COUNTS` and score each (a model without
    hints: at 0 only, so the curve file always exists and shows that model's plain scores)."""
    counts = HINT_COUNTS if backend.takes_hints else (0,)
    curve = HintCurve(counts)
    pairs = reread_test_pairs(split_folder, image_size)
    for index, batch in enumerate(batched(pairs, batch_size)):
        sketches = np.stack([pair.sketch for pair in batch])
        targets = np.stack([pair.color for pair in batch])
        for count in counts:
            drawn = draw_for_evaluation(targets, sketches, count, config, SEED, index)
            outputs = backend.color_batch(sketches, as_rgba(drawn) if count else None)
            curve.scores[count].add(outputs, targets, sketches)
            curve.followed[count].extend(hint_delta_e(outputs, drawn))
    return curve


def hint_delta_e(outputs: np.ndarray, drawn) -> list[float]:
    """For every hint: CIEDE2000 between its colour and the output's mean colour around it."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    boxes, colors, active = (
        drawn.boxes.numpy(),
        from_model_output(drawn.box_colors.numpy()),
        drawn.active.numpy(),
    )
    size = outputs.shape[1]
    wanted, got = [], []
    for image, (image_boxes, image_colors, image_active) in enumerate(
        zip(boxes, colors, active, strict=True)
    ):
        for (top, left, bottom, right), color, is_hint in zip(
            image_boxes, image_colors, image_active, strict=True
        ):
            if not is_hint:
                continue
            top, left = max(0, top - FOLLOW_RADIUS), max(0, left - FOLLOW_RADIUS)
            bottom, right = min(size, bottom + FOLLOW_RADIUS), min(size, right + FOLLOW_RADIUS)
            got.append(outputs[image, top:bottom, left:right].reshape(-1, 3).mean(axis=0))
            wanted.append(color)
    if not wanted:
        return []
    lab = rgb2lab(np.stack([np.array(wanted, np.float64), np.array(got)]) / 255.0)
    return [float(v) for v in deltaE_ciede2000(lab[0], lab[1])]


def write_csv(curve: HintCurve, target: Path) -> None:
    from sketch2color.atomic import write_bytes

    lines = [",".join(CSV_COLUMNS)]
    for row in curve.rows():
        lines.append(",".join("" if row[c] is None else f"{row[c]:.6g}" for c in CSV_COLUMNS))
    write_bytes(target, ("\n".join(lines) + "\n").encode("utf-8"))
