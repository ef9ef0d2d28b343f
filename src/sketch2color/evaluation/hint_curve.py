"""What a few colour hints buy: a hint model scored at 0, 1, 2, 5, 10 and 20 hints.

For a generator trained with hints (``train.hints.enabled``), every test
pair is coloured again at each count of :data:`HINT_COUNTS`, with hints drawn
from its own ground truth by the training's sampler
(:mod:`sketch2color.data.hints`) from a fixed seed, so the curve is the same
on every run. Each count gets SSIM, PSNR and the fill colour difference, and
``hint_delta_e``: whether each hint is followed, as the CIEDE2000 difference
between the hint's colour and the output's mean colour over the hint's patch
grown by :data:`FOLLOW_RADIUS` pixels (clipped to the image).

The same curve is also scored on the picture a user gets
(``pictures``): for the test pairs that evaluate scores at the originals'
resolution, the same hints become the round dabs that ``colorize --hint
x,y,#rrggbb`` paints (at each hint's centre, of the default radius, in the
full-resolution truth's colour there: :func:`user_dabs`), and the
line-faithful picture, in which a dab fills the shape the
lines close around it (:mod:`sketch2color.inference.hint_regions`), is
scored against the full-resolution ground truth.

The tables go into ``metrics/eval.json``, ``metrics/hint_curve.csv`` (a DVC
plot; the picture's scores are its ``picture_`` columns) and MLflow (one
metric per score, its step the number of hints).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from sketch2color.config import HintsConfig
from sketch2color.data.hints import Hints, as_rgba, draw_for_evaluation
from sketch2color.evaluation.full_resolution import RawPair, raw_pairs
from sketch2color.evaluation.metrics import MetricAccumulator
from sketch2color.evaluation.scoring import reread_test_pairs
from sketch2color.inference.backends import Backend
from sketch2color.inference.colorizer import color_sketches
from sketch2color.inference.user_hints import Dab, default_radius, empty_hints, paint_dab
from sketch2color.iteration import batched
from sketch2color.lineart import line_mask
from sketch2color.pixels import from_model_output

HINT_COUNTS = (0, 1, 2, 5, 10, 20)
METRICS = ("ssim", "psnr", "fill_delta_e")
SEED = 2017
"""The hints' seed: one curve for every run of the same model and data."""
FOLLOW_RADIUS = 1
"""Pixels around a hint's patch (at the model's size) over which its colour must be followed."""
PICTURE_PREFIX = "picture_"
CSV_COLUMNS = ("hints", *METRICS, "hint_delta_e", *(PICTURE_PREFIX + name for name in METRICS))


@dataclass(frozen=True)
class Originals:
    """Where evaluate reads the test pairs at their own resolution, and which of them it scores."""

    raw: Path
    names: Sequence[str]
    max_pixels: int


@dataclass
class HintCurve:
    counts: tuple[int, ...] = HINT_COUNTS
    scores: dict[int, MetricAccumulator] = field(default_factory=dict)
    followed: dict[int, list[float]] = field(default_factory=dict)
    pictures: dict[int, MetricAccumulator] = field(default_factory=dict)
    """The same hints as dabs on the full-resolution sketch, scored on the line-faithful picture."""

    def __post_init__(self) -> None:
        self.scores = {count: MetricAccumulator(METRICS) for count in self.counts}
        self.followed = {count: [] for count in self.counts}
        self.pictures = {count: MetricAccumulator(METRICS) for count in self.counts}

    def rows(self) -> list[dict[str, float | None]]:
        """One row per number of hints; None where nothing could be scored (no picture, no hint)."""
        rows = []
        for count in self.counts:
            summaries = self.scores[count].summaries()
            row: dict[str, float | None] = {"hints": count}
            row.update({name: summaries[name].mean for name in METRICS if name in summaries})
            row["hint_delta_e"] = float(np.mean(self.followed[count])) if self.followed[count] else None
            pictures = self.pictures[count].summaries()
            row.update(
                {PICTURE_PREFIX + name: pictures[name].mean if name in pictures else None for name in METRICS}
            )
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": list(self.counts),
            "table": self.rows(),
            "seed": SEED,
            "follow_radius_px": FOLLOW_RADIUS,
            "images": self.scores[self.counts[0]].count,
            "picture_images": self.pictures[self.counts[0]].count,
        }


def score_hint_curve(
    backend: Backend,
    split_folder: Path,
    image_size: int,
    config: HintsConfig,
    batch_size: int,
    originals: Originals,
    plain_pictures: MetricAccumulator,
) -> HintCurve:
    """Colour the test split at every count of :data:`HINT_COUNTS` and score each, at the model's
    size and on the picture (a model without hints: at 0 only, so the curve file always exists
    and shows that model's plain scores). ``plain_pictures`` holds the full-resolution scores of
    the same originals' pictures without hints, which are the picture's 0 row: they are not
    coloured twice."""
    counts = HINT_COUNTS if backend.takes_hints else (0,)
    curve = HintCurve(counts)
    curve.pictures[0] = plain_pictures
    pairs = reread_test_pairs(split_folder, image_size)
    wanted = set(originals.names) if len(counts) > 1 else set()
    for index, batch in enumerate(batched(pairs, batch_size)):
        sketches = np.stack([pair.sketch for pair in batch])
        targets = np.stack([pair.color for pair in batch])
        names = [pair.name for pair in batch if pair.name in wanted]
        # A missing or bad original is already listed by the full-resolution scores.
        full = {pair.name: pair for pair in raw_pairs(originals.raw, names, originals.max_pixels, [])}
        at_full = [(image, full[pair.name]) for image, pair in enumerate(batch) if pair.name in full]
        for count in counts:
            drawn = draw_for_evaluation(targets, sketches, count, config, SEED, index)
            outputs = backend.color_batch(sketches, as_rgba(drawn) if count else None)
            curve.scores[count].add(outputs, targets, sketches)
            curve.followed[count].extend(hint_delta_e(outputs, drawn))
            if count and at_full:
                _score_pictures(backend, at_full, drawn, image_size, curve.pictures[count])
    return curve


def _score_pictures(
    backend: Backend,
    originals: list[tuple[int, RawPair]],
    drawn: Hints,
    image_size: int,
    scores: MetricAccumulator,
) -> None:
    """Colour each original with the batch's hints as a user's dabs, and score its picture."""
    hints = [user_dabs(drawn, image, image_size, pair) for image, pair in originals]
    colored = color_sketches(backend, [pair.sketch for _, pair in originals], hints)
    for (_, pair), answer in zip(originals, colored, strict=True):
        scores.add(answer.picture("line_faithful")[None], pair.color[None], pair.sketch[None])


def user_dabs(drawn: Hints, image: int, image_size: int, original: RawPair) -> np.ndarray:
    """One image's hints as the RGBA dabs ``colorize --hint x,y,#rrggbb`` paints on its original:
    at each patch's centre, of the default radius, in the original truth's mean colour over the
    dab's non-line pixels. The patch's own colour is a 64 px mean that blends in the outline
    beside it, darker than any colour a user would pick for the shape; a dab that covers only
    line is dropped."""
    height, width = original.sketch.shape[:2]
    radius = default_radius(height, width)
    off_line = ~line_mask(original.sketch)
    dabs = empty_hints(height, width)
    boxes, active = drawn.boxes.numpy()[image], drawn.active.numpy()[image]
    for (top, left, bottom, right), is_hint in zip(boxes, active, strict=True):
        if not is_hint:
            continue
        x = min(width - 1, int((left + right) / 2 * width / image_size))
        y = min(height - 1, int((top + bottom) / 2 * height / image_size))
        disc = cv2.circle(np.zeros((height, width), np.uint8), (x, y), radius, 1, thickness=-1) > 0
        under = disc & off_line
        if under.any():
            red, green, blue = (int(c) for c in np.rint(original.color[under].mean(axis=0)))
            paint_dab(dabs, Dab(x, y, (red, green, blue)), radius)
    return dabs


def hint_delta_e(outputs: np.ndarray, drawn: Hints) -> list[float]:
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
