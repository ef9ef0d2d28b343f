"""Per-image image-quality metrics and the summary of their spread.

All metrics compare uint8 RGB images (N, H, W, 3) in their 0..255 units,
the form the pipeline stores and users see, so numbers from different
models, baselines and exported formats are directly comparable.

* SSIM: ``skimage.metrics.structural_similarity`` over the three colour
  channels (``channel_axis=-1``), ``data_range=255``, default 7x7 window.
  1 means identical.
* PSNR: ``skimage.metrics.peak_signal_noise_ratio`` with ``data_range=255``.
  Two identical images have an infinite PSNR; a mean over a set that holds
  one would be infinite too, and JSON and MLflow cannot hold infinity. So an
  identical image scores :data:`PSNR_CAP_DB` (100 dB), and so does any
  image closer than that. The cap only touches images that are all but
  identical: one grey level off in one channel of one pixel is 89 dB at
  64x64 and 101 dB at 256x256, while a useful colourisation scores 15-30 dB.
* L1: mean absolute error in [0, 1] units (``|a - b| / 255``), the same
  quantity the pix2pix L1 loss minimises (there in [-1, 1] units, i.e. x2).
* Fill colour difference: the mean CIEDE2000 colour difference
  (``skimage.color.deltaE_ciede2000`` between CIELAB colours) over the *fill*
  pixels only: those that are neither line in the sketch nor white paper in
  the ground truth (:func:`sketch2color.lineart.fill_mask`). Line art is
  mostly paper and lines, which the sketch itself already gets right, so SSIM, PSNR and L1 reward a model that
  changes nothing; this one asks only whether the colours the artist painted
  came back. About 1 is a just-visible difference, 2-10 a clear one, above 30
  another colour. An image with no fill pixels has no score and is left out
  of the mean (``fill_images`` counts those that have one).
* Leak and tint, for pictures at the sketch's own resolution: leak is the share of the ground truth's
  paper around the drawing (white in the truth, off the sketch's lines, and
  connected to the border) that the picture paints in one of the dabs'
  colours: nearer (CIEDE2000) to a dab's colour than to white, and visibly
  off white (:data:`PAPER_SEEN`). A dab that floods through a gap onto the
  page shows here; the model's own faint tint does not, unless it has a
  dab's colour. Tint is the share painted visibly off white in any colour.
* Line fidelity, for pictures at the sketch's own resolution: ``line_recall``
  is the share of the sketch's line pixels that are line (dark) in the
  output too, ``line_iou`` the intersection over union of the two sets of
  dark pixels. Recall asks whether the artist's lines survived; IoU also
  counts dark pixels the output adds, including dark fills that belong there.

A mean alone hides whether a model is uniformly mediocre or mostly good with
a few failures, so each metric is summarised by mean, std, median, p5, p95.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from sketch2color import lineart

PSNR_CAP_DB = 100.0
METRIC_NAMES = ("ssim", "psnr", "l1", "fill_delta_e")
LINE_METRIC_NAMES = ("line_recall", "line_iou")


@dataclass(frozen=True)
class Summary:
    """The spread of one metric over a set of images."""

    mean: float
    std: float
    median: float
    p5: float
    p95: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def summarize(values: np.ndarray) -> Summary:
    """Mean, population std, median and the 5th / 95th percentiles of per-image values."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("cannot summarise a metric over zero images")
    p5, median, p95 = np.percentile(values, [5, 50, 95])
    return Summary(
        mean=float(values.mean()),
        std=float(values.std()),
        median=float(median),
        p5=float(p5),
        p95=float(p95),
    )


def _check_batches(predictions: np.ndarray, targets: np.ndarray) -> None:
    if predictions.shape != targets.shape or predictions.ndim != 4 or predictions.shape[-1] != 3:
        raise ValueError(
            f"expected two uint8 batches of the same (N, H, W, 3) shape, "
            f"got {predictions.shape} and {targets.shape}"
        )


def ssim_per_image(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    from skimage.metrics import structural_similarity

    _check_batches(predictions, targets)
    return np.array(
        [
            structural_similarity(p, t, channel_axis=-1, data_range=255)
            for p, t in zip(predictions, targets, strict=True)
        ],
        dtype=np.float64,
    )


def psnr_per_image(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """PSNR in dB, :data:`PSNR_CAP_DB` for an identical pair (see the module docstring)."""
    from skimage.metrics import peak_signal_noise_ratio

    _check_batches(predictions, targets)
    scores = []
    for p, t in zip(predictions, targets, strict=True):
        if np.array_equal(p, t):
            scores.append(PSNR_CAP_DB)  # skimage would divide by a zero MSE and return inf
        else:
            scores.append(min(PSNR_CAP_DB, peak_signal_noise_ratio(t, p, data_range=255)))
    return np.array(scores, dtype=np.float64)


def l1_per_image(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Mean absolute error per image, in [0, 1] units."""
    _check_batches(predictions, targets)
    diff = np.abs(predictions.astype(np.int16) - targets.astype(np.int16))
    return diff.reshape(len(diff), -1).mean(axis=1) / 255.0


def fill_delta_e_per_image(predictions: np.ndarray, targets: np.ndarray, sketches: np.ndarray) -> np.ndarray:
    """Mean CIEDE2000 over each image's fill pixels; NaN for an image that has none."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    _check_batches(predictions, targets)
    _check_batches(sketches, targets)
    masks = lineart.fill_mask(sketches, targets)
    scores = np.full(len(predictions), np.nan)
    for index, (prediction, target, mask) in enumerate(zip(predictions, targets, masks, strict=True)):
        if mask.any():
            # Only the masked pixels are converted: a fraction of the image, as an N x 1 "image".
            predicted = rgb2lab(prediction[mask][:, None, :])
            truth = rgb2lab(target[mask][:, None, :])
            scores[index] = float(deltaE_ciede2000(truth, predicted).mean())
    return scores


def line_recall_per_image(predictions: np.ndarray, sketches: np.ndarray) -> np.ndarray:
    """The share of each sketch's line pixels that are dark in the output; NaN for a sketch without lines."""
    _check_batches(predictions, sketches)
    lines, dark = lineart.line_mask(sketches), lineart.line_mask(predictions)
    kept = (lines & dark).reshape(len(lines), -1).sum(axis=1)
    total = lines.reshape(len(lines), -1).sum(axis=1)
    return np.where(total > 0, kept / np.maximum(total, 1), np.nan)


def line_iou_per_image(predictions: np.ndarray, sketches: np.ndarray) -> np.ndarray:
    """Intersection over union of the dark pixels of output and sketch; NaN when neither has any."""
    _check_batches(predictions, sketches)
    lines, dark = lineart.line_mask(sketches), lineart.line_mask(predictions)
    both = (lines & dark).reshape(len(lines), -1).sum(axis=1)
    either = (lines | dark).reshape(len(lines), -1).sum(axis=1)
    return np.where(either > 0, both / np.maximum(either, 1), np.nan)


PAPER_SEEN = 5.0
"""CIEDE2000 from white above which a pixel of the page no longer looks like paper."""


def paper_marks(
    picture: np.ndarray, truth: np.ndarray, sketch: np.ndarray, dab_colors: np.ndarray
) -> tuple[float, float]:
    """(leak, tint): the shares of the truth's paper around the drawing that ``picture`` paints in one
    of ``dab_colors`` ((k, 3) uint8), and visibly off white in any colour; (0, 0) without such paper."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    paper = lineart.paper_mask(truth) & ~lineart.line_mask(sketch)
    _, regions = cv2.connectedComponents(paper.astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([regions[0], regions[-1], regions[:, 0], regions[:, -1]]))
    outside = np.isin(regions, border[border > 0])
    total = int(outside.sum())
    if total == 0:
        return 0.0, 0.0
    marked = picture[outside]
    marked = marked[(marked < 250).any(axis=-1)]  # near-white pixels are paper: skip the slow colour maths
    if len(marked) == 0:
        return 0.0, 0.0
    pixels = rgb2lab(marked[:, None, :])
    to_white = deltaE_ciede2000(pixels, rgb2lab(np.full((1, 1, 3), 255, np.uint8)))[:, 0]
    seen = to_white > PAPER_SEEN
    if len(dab_colors) == 0 or not seen.any():
        return 0.0, float(seen.sum() / total)
    pixels, to_white = pixels[seen], to_white[seen]
    dabs = rgb2lab(np.asarray(dab_colors, np.uint8)[:, None, :])
    to_dab = np.min([deltaE_ciede2000(pixels, dab[None])[:, 0] for dab in dabs], axis=0)
    return float((to_dab < to_white).sum() / total), float(seen.sum() / total)


class MetricAccumulator:
    """Collects per-image SSIM, PSNR, L1 and fill colour difference batch by batch.

    Keeps only four floats per image, so a test split of any size streams
    through in constant memory; the per-image SSIMs are kept for picking the
    best / median / worst samples.
    """

    def __init__(self, names: tuple[str, ...] = METRIC_NAMES) -> None:
        self.names = names
        self._values: dict[str, list[np.ndarray]] = {name: [] for name in names}

    def add(self, predictions: np.ndarray, targets: np.ndarray, sketches: np.ndarray) -> np.ndarray:
        """Score one batch (``sketches`` decide which pixels are fill and line); return its SSIMs."""
        scorers = {
            "ssim": lambda: ssim_per_image(predictions, targets),
            "psnr": lambda: psnr_per_image(predictions, targets),
            "l1": lambda: l1_per_image(predictions, targets),
            "fill_delta_e": lambda: fill_delta_e_per_image(predictions, targets, sketches),
            "line_recall": lambda: line_recall_per_image(predictions, sketches),
            "line_iou": lambda: line_iou_per_image(predictions, sketches),
        }
        for name in self.names:
            self._values[name].append(scorers[name]())
        return self._values["ssim"][-1] if "ssim" in self._values else np.zeros(0)

    def per_image(self, name: str) -> np.ndarray:
        parts = self._values[name]
        return np.concatenate(parts) if parts else np.zeros(0, np.float64)

    @property
    def count(self) -> int:
        return int(sum(len(part) for part in self._values[self.names[0]]))

    def summaries(self) -> dict[str, Summary]:
        """Each metric's spread; images without a score (no fill pixels) are left out."""
        summaries = {}
        for name in self.names:
            values = self.per_image(name)
            values = values[~np.isnan(values)]
            if values.size:
                summaries[name] = summarize(values)
        return summaries

    def scored_images(self, name: str) -> int:
        return int(np.count_nonzero(~np.isnan(self.per_image(name))))


def summaries_to_dict(summaries: dict[str, Summary]) -> dict[str, dict[str, float]]:
    return {name: summary.to_dict() for name, summary in summaries.items()}
