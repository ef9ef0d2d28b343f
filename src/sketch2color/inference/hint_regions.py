"""A dab inside a shape that the lines close colours the whole shape, at the sketch's own size.

Why this exists beside a model that follows hints: the model sees the dabs
at its own small size (64 px for OpenMoji), spreads them only part of the
way, and pulls their colour towards the palette it learned (docs/hints.md).
At the sketch's own size the lines are known exactly. Where a user puts a
dab inside a region that lines close all round, they have said which colour
that region is, so the picture gives the region that colour, as a paint
program's bucket fill would, and keeps the model's colour everywhere else.

The rules, each a way a bucket fill goes wrong that an artist would not
accept:

* a region is a 4-connected component of the sketch's non-line pixels
  (:func:`sketch2color.inference.compose.line_mask`), so a diagonal gap of
  one pixel in a line does not join two regions;
* each dab (an 8-connected blob of the hint image's alpha) belongs to the
  region that holds most of its non-line pixels, since a brush may overlap
  the line it was placed beside, and colours only that region;
* a region that touches the sketch's border stays the model's: that is the
  paper around the drawing, or what a gap in an outline leaks into, and a
  bucket fill from one dab there would paint the page;
* a region with dabs of several colours is shared between them: each pixel
  takes the colour of the nearest dab pixel in the region (OpenCV's
  labelled distance transform), so every dab shows its own colour where it
  was put, and dabs of one colour fill the region flat.
"""

from __future__ import annotations

import cv2
import numpy as np


def _dab_regions(regions: np.ndarray, dabs: np.ndarray, count: int) -> np.ndarray:
    """For each dab label (0 too, unused), the region holding most of its non-line pixels (0: none)."""
    on_paper = (dabs > 0) & (regions > 0)
    pairs, overlap = np.unique(np.stack([dabs[on_paper], regions[on_paper]]), axis=1, return_counts=True)
    region, most = np.zeros(count, np.int64), np.zeros(count, np.int64)
    for (dab, label), pixels in zip(pairs.T, overlap, strict=True):
        if pixels > most[dab]:
            most[dab], region[dab] = pixels, label
    return region


def _nearest_seed_colors(seeds: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """(H, W, 3): every pixel's colour from the nearest pixel of ``seeds`` ((H, W) bool)."""
    _, labels = cv2.distanceTransformWithLabels(
        (~seeds).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    table = np.zeros((labels.max() + 1, 3), np.uint8)
    table[labels[seeds]] = colors[seeds]
    return table[labels]


def fill_hinted_regions(flat: np.ndarray, lines: np.ndarray, hints: np.ndarray) -> np.ndarray:
    """``flat`` (RGB) with every closed region between ``lines`` (the sketch's (H, W) bool line
    mask) that ``hints`` (RGBA) dabs painted in its dabs' colours; all three of one size."""
    alpha = hints[..., 3] > 0
    if not alpha.any():
        return flat
    count, regions, stats, _ = cv2.connectedComponentsWithStats((~lines).astype(np.uint8), connectivity=4)
    height, width = lines.shape
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right, bottom = left + stats[:, cv2.CC_STAT_WIDTH], top + stats[:, cv2.CC_STAT_HEIGHT]
    closed = (left > 0) & (top > 0) & (right < width) & (bottom < height)
    closed[0] = False  # label 0 is the lines
    dab_count, dabs = cv2.connectedComponents(alpha.astype(np.uint8), connectivity=8)
    owner = _dab_regions(regions, dabs, dab_count)
    seeds = alpha & (regions == owner[dabs]) & closed[regions]
    painted = flat.copy()
    for label in np.unique(regions[seeds]):
        x, y, w, h = left[label], top[label], right[label] - left[label], bottom[label] - top[label]
        window = (slice(y, y + h), slice(x, x + w))
        inside = regions[window] == label
        here = seeds[window] & inside
        colors = hints[window][..., :3]
        seed_colors = colors[here]
        if (seed_colors == seed_colors[0]).all():  # one colour: a flat fill
            painted[window][inside] = seed_colors[0]
        else:
            painted[window][inside] = _nearest_seed_colors(here, colors)[inside]
    return painted
