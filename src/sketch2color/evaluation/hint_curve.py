"""What a few colour hints buy: the model and the picture scored at 0, 1, 2, 5, 10 and 20 hints.

Every test pair is coloured again at each count of :data:`HINT_COUNTS`, with
hints drawn from its own ground truth by the training's sampler
(:mod:`sketch2color.data.hints`) from a fixed seed, so the curve is the same
on every run.

* **At the model's size** (a model trained with hints only,
  ``train.hints.enabled``): SSIM, PSNR and the fill colour difference of its
  square, and ``hint_delta_e``: whether each hint is followed, as the
  CIEDE2000 difference between the hint's colour and the output's mean
  colour over the hint's patch grown by :data:`FOLLOW_RADIUS` pixels.
* **In the picture a user gets**, for every model (dabs fill their regions
  after the model, :mod:`sketch2color.inference.fill`): for the test pairs
  that evaluate scores at the originals' resolution, the same hints become
  the round dabs that ``colorize --hint x,y,#rrggbb`` paints
  (:func:`user_dabs`), and the line-faithful picture is scored against the
  full-resolution truth: the ``picture_`` columns. Its ``leak`` is the share
  of the truth's paper around the drawing painted in a dab's colour, and its
  ``tint`` the share painted visibly off white in any colour
  (:func:`sketch2color.evaluation.metrics.paper_marks`).
* **On gapped line art**: the same, with gaps of each width of
  ``evaluate.gap_widths`` cut into the originals' lines
  (:mod:`sketch2color.evaluation.gaps`), the truth and the dabs unchanged:
  the ``gapN_`` columns. Hand-drawn lines do not close their shapes.

The tables go into ``metrics/eval.json``, ``metrics/hint_curve.csv`` (a DVC
plot) and MLflow (one metric per score, its step the number of hints).
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
from sketch2color.evaluation.gaps import cut_gaps, seed_of
from sketch2color.evaluation.metrics import MetricAccumulator, paper_marks
from sketch2color.evaluation.scoring import reread_test_pairs
from sketch2color.inference.backends import Backend
from sketch2color.inference.colorizer import Colored, color_sketches
from sketch2color.inference.compose import DEFAULT_FILL, compose_layers
from sketch2color.inference.regions import Regions, find_regions
from sketch2color.inference.user_hints import Dab, default_radius, empty_hints, paint_dab
from sketch2color.iteration import batched
from sketch2color.lineart import line_mask
from sketch2color.pixels import from_model_output, hint_mask

HINT_COUNTS = (0, 1, 2, 5, 10, 20)
METRICS = ("ssim", "psnr", "fill_delta_e")
GAPPED_METRICS = ("fill_delta_e",)
PAPER_SCORES = ("leak", "tint")
SEED = 2017
"""The hints' seed: one curve for every run of the same model and data."""
FOLLOW_RADIUS = 1
"""Pixels around a hint's patch (at the model's size) over which its colour must be followed."""
CLOSED = "picture"
"""The picture's columns on the originals' own (closed) lines: ``picture_fill_delta_e``, ..."""


def gapped(width: int) -> str:
    """The columns' prefix for the picture with gaps ``width`` px wide (at 512 px) in its lines."""
    return f"gap{width}"


@dataclass(frozen=True)
class Originals:
    """Where evaluate reads the test pairs at their own resolution, and which of them it scores."""

    raw: Path
    names: Sequence[str]
    max_pixels: int
    gap_widths: Sequence[int] = ()


@dataclass
class PictureCurve:
    """One kind of sketch's picture scores (closed or gapped lines), per number of dabs."""

    scores: dict[int, MetricAccumulator]
    paper: dict[int, dict[str, list[float]]]

    @classmethod
    def empty(cls, counts: Sequence[int], metrics: tuple[str, ...]) -> PictureCurve:
        return cls(
            {count: MetricAccumulator(metrics) for count in counts},
            {count: {name: [] for name in PAPER_SCORES} for count in counts},
        )

    def row(self, count: int, prefix: str, metrics: Sequence[str]) -> dict[str, float | None]:
        summaries = self.scores[count].summaries()
        row = {f"{prefix}_{name}": summaries[name].mean if name in summaries else None for name in metrics}
        for name, values in self.paper[count].items():
            row[f"{prefix}_{name}"] = float(np.mean(values)) if values else None
        return row


@dataclass
class HintCurve:
    counts: tuple[int, ...] = HINT_COUNTS
    """The numbers of hints scored at the model's size (0 only for a model without hints)."""
    gap_widths: tuple[int, ...] = ()
    scores: dict[int, MetricAccumulator] = field(default_factory=dict)
    followed: dict[int, list[float]] = field(default_factory=dict)
    pictures: dict[str, PictureCurve] = field(default_factory=dict)
    """The same hints as dabs on the full-resolution sketch (closed, and each gap width)."""

    def __post_init__(self) -> None:
        self.scores = {count: MetricAccumulator(METRICS) for count in self.counts}
        self.followed = {count: [] for count in self.counts}
        # The gapped pictures score their fill only: SSIM at 512 px would double evaluate's time.
        self.pictures = {
            name: PictureCurve.empty(HINT_COUNTS, METRICS if name == CLOSED else GAPPED_METRICS)
            for name in self.variants
        }

    @property
    def variants(self) -> tuple[str, ...]:
        return (CLOSED, *(gapped(width) for width in self.gap_widths))

    def columns(self) -> tuple[str, ...]:
        """The CSV's columns: the model's size, the picture, then each gapped picture's."""
        gaps = [f"{name}_{score}" for name in self.variants[1:] for score in (*GAPPED_METRICS, *PAPER_SCORES)]
        closed = [f"{CLOSED}_{name}" for name in (*METRICS, *PAPER_SCORES)]
        return ("hints", *METRICS, "hint_delta_e", *closed, *gaps)

    def rows(self) -> list[dict[str, float | None]]:
        """One row per number of hints; None where nothing could be scored (no picture, no hint)."""
        rows = []
        for count in HINT_COUNTS:
            row: dict[str, float | None] = {"hints": count}
            summaries = self.scores[count].summaries() if count in self.scores else {}
            row.update({name: summaries[name].mean if name in summaries else None for name in METRICS})
            followed = self.followed.get(count)
            row["hint_delta_e"] = float(np.mean(followed)) if followed else None
            row.update(self.pictures[CLOSED].row(count, CLOSED, METRICS))
            for name in self.variants[1:]:
                row.update(self.pictures[name].row(count, name, GAPPED_METRICS))
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": list(HINT_COUNTS),
            "model_counts": list(self.counts),
            "gap_widths_px_at_512": list(self.gap_widths),
            "table": self.rows(),
            "seed": SEED,
            "follow_radius_px": FOLLOW_RADIUS,
            "images": self.scores[0].count,
            "picture_images": self.pictures[CLOSED].scores[HINT_COUNTS[-1]].count,
        }


def score_hint_curve(
    backend: Backend,
    split_folder: Path,
    image_size: int,
    config: HintsConfig,
    batch_size: int,
    originals: Originals,
) -> HintCurve:
    """Colour the test split at every count of :data:`HINT_COUNTS` and score each: at the model's
    size (a model without hints: at 0 only), and on the pictures of the originals with closed and
    with gapped lines."""
    counts = HINT_COUNTS if backend.takes_hints else (0,)
    curve = HintCurve(counts, tuple(originals.gap_widths))
    pairs = reread_test_pairs(split_folder, image_size)
    wanted = set(originals.names)
    for index, batch in enumerate(batched(pairs, batch_size)):
        sketches = np.stack([pair.sketch for pair in batch])
        targets = np.stack([pair.color for pair in batch])
        names = [pair.name for pair in batch if pair.name in wanted]
        # A missing or bad original is already listed by the full-resolution scores.
        full = {pair.name: pair for pair in raw_pairs(originals.raw, names, originals.max_pixels, [])}
        at_full = [(image, full[pair.name]) for image, pair in enumerate(batch) if pair.name in full]
        pictures = _Pictures(backend, at_full, curve.gap_widths)
        for count in HINT_COUNTS:
            drawn = draw_for_evaluation(targets, sketches, count, config, SEED, index)
            if count in curve.scores:
                outputs = backend.color_batch(sketches, as_rgba(drawn) if count else None)
                curve.scores[count].add(outputs, targets, sketches)
                curve.followed[count].extend(hint_delta_e(outputs, drawn))
            if at_full:
                pictures.score(drawn, count, image_size, curve)
    return curve


class _Pictures:
    """One batch's originals, closed and gapped, with what stays the same between dab counts: each
    sketch's regions and, for a model without hints (which never sees the dabs), its colour."""

    def __init__(self, backend: Backend, originals: list[tuple[int, RawPair]], gap_widths: Sequence[int]):
        self.backend, self.originals = backend, originals
        self.sketches: dict[str, list[np.ndarray]] = {CLOSED: [pair.sketch for _, pair in originals]}
        for width in gap_widths:
            self.sketches[gapped(width)] = [
                cut_gaps(pair.sketch, width, seed_of(pair.name)) for _, pair in originals
            ]
        self.regions: dict[str, list[Regions]] = {
            name: [find_regions(sketch, DEFAULT_FILL.gap, DEFAULT_FILL.line_darkness) for sketch in sketches]
            for name, sketches in self.sketches.items()
        }
        self.plain: dict[str, list[Colored]] = {}

    def score(self, drawn: Hints, count: int, image_size: int, curve: HintCurve) -> None:
        dabs = [
            user_dabs(drawn, image, image_size, pair) if count else None for image, pair in self.originals
        ]
        for name, sketches in self.sketches.items():
            colored = self._color(name, sketches, dabs)
            for (_, pair), answer, regions, hints in zip(
                self.originals, colored, self.regions[name], dabs, strict=True
            ):
                picture = compose_layers(answer.sketch, answer.color, hints, DEFAULT_FILL, regions).picture
                curve.pictures[name].scores[count].add(picture[None], pair.color[None], pair.sketch[None])
                leak, tint = paper_marks(picture, pair.color, pair.sketch, _dab_colors(hints))
                curve.pictures[name].paper[count]["leak"].append(leak)
                curve.pictures[name].paper[count]["tint"].append(tint)

    def _color(self, name: str, sketches: list[np.ndarray], dabs: list[np.ndarray | None]) -> list[Colored]:
        if self.backend.takes_hints:
            return color_sketches(self.backend, sketches, dabs)
        if name not in self.plain:
            self.plain[name] = color_sketches(self.backend, sketches, [None] * len(sketches))
        return self.plain[name]


def _dab_colors(hints: np.ndarray | None) -> np.ndarray:
    if hints is None:
        return np.zeros((0, 3), np.uint8)
    return np.unique(hints[..., :3][hint_mask(hints)], axis=0)


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

    columns = curve.columns()
    lines = [",".join(columns)]
    for row in curve.rows():
        lines.append(",".join("" if row[c] is None else f"{row[c]:.6g}" for c in columns))
    write_bytes(target, ("\n".join(lines) + "\n").encode("utf-8"))
