"""Scores at the resolution of the original pairs: what a user of ``colorize`` actually gets.

The model-size scores compare 64 px squares; a user colours a drawing at its
own size. So the held-out pairs are read again from ``data/raw`` at their
own resolution (the halves of each pair: 512 px for the Kaggle and OpenMoji
pairs), each sketch is coloured through the inference layer exactly as
``colorize`` colours it, and both of its outputs are scored against the
full-resolution ground truth:

* ``line_faithful`` - the default output (:mod:`sketch2color.inference.compose`);
* ``stretched`` - the model's square stretched back (``--output raw``), as before;
* ``baseline_sketch`` - the sketch itself, for scale.

Each gets SSIM, PSNR, the fill colour difference, and the two line-fidelity
scores (:mod:`sketch2color.evaluation.metrics`). A raw file that is gone or
unreadable is skipped and listed, like a damaged shard; the first
``evaluate.full_resolution_images`` test pairs are scored (0: none).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sketch2color.data.images import BadImage, load_rgb, split_halves
from sketch2color.evaluation.metrics import LINE_METRIC_NAMES, MetricAccumulator
from sketch2color.inference.backends import Backend
from sketch2color.inference.colorizer import color_sketches
from sketch2color.iteration import batched

log = logging.getLogger(__name__)

OUTPUTS = ("line_faithful", "stretched", "baseline_sketch")
METRICS = ("ssim", "psnr", "fill_delta_e", *LINE_METRIC_NAMES)


@dataclass(frozen=True)
class RawPair:
    name: str
    sketch: np.ndarray
    color: np.ndarray


@dataclass
class FullResolutionScores:
    scores: dict[str, MetricAccumulator] = field(
        default_factory=lambda: {name: MetricAccumulator(METRICS) for name in OUTPUTS}
    )
    sizes: set[tuple[int, int]] = field(default_factory=set)
    skipped: list[dict] = field(default_factory=list)
    pictures: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """For the names asked to be kept: sketch, truth and both outputs, for the samples grid."""

    def to_dict(self) -> dict:
        sizes = sorted(self.sizes)
        report: dict = {
            "images": self.scores["line_faithful"].count,
            "sizes": [f"{w}x{h}" for h, w in sizes],
            "skipped": self.skipped,
        }
        for name in OUTPUTS:
            report[name] = {
                metric: summary.to_dict() for metric, summary in self.scores[name].summaries().items()
            }
        return report


def raw_pairs(raw: Path, names: Sequence[str], max_pixels: int, skipped: list[dict]) -> Iterator[RawPair]:
    """The named pairs of ``data/raw`` at their own resolution; a missing or bad file is listed."""
    for name in names:
        if not (raw / name).is_file():
            skipped.append({"file": name, "reason": f"not in {raw} (fetched again since the split?)"})
            continue
        try:
            color, sketch = split_halves(load_rgb(raw / name, max_pixels))
        except BadImage as exc:
            skipped.append({"file": name, "reason": str(exc)})
            continue
        if color.shape != sketch.shape:  # an odd width gives the sketch one more column
            sketch = sketch[:, : color.shape[1]]
        yield RawPair(name, sketch, color)


def score_full_resolution(
    backend: Backend,
    raw: Path,
    names: Sequence[str],
    max_pixels: int,
    batch_size: int,
    keep: AbstractSet[str] = frozenset(),
) -> FullResolutionScores:
    """Colour each named test sketch at its own resolution and score both outputs."""
    result = FullResolutionScores()
    for batch in batched(raw_pairs(raw, names, max_pixels, result.skipped), batch_size):
        colored = color_sketches(backend, [pair.sketch for pair in batch])
        for pair, answer in zip(batch, colored, strict=True):
            outputs = {
                "line_faithful": answer.picture("line_faithful"),
                "stretched": answer.picture("raw"),
                "baseline_sketch": pair.sketch,
            }
            for name, output in outputs.items():
                result.scores[name].add(output[None], pair.color[None], pair.sketch[None])
            result.sizes.add(pair.sketch.shape[:2])
            if pair.name in keep:
                result.pictures[pair.name] = {"sketch": pair.sketch, "truth": pair.color, **outputs}
    if result.skipped:
        log.warning(
            "full resolution: %d test pairs skipped (first: %s)", len(result.skipped), result.skipped[0]
        )
    return result
