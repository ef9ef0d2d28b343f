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
  (:func:`sketch2color.inference.compose.line_mask`), so line pixels that
  touch only at their corners, as a thin diagonal stroke's do, still part
  two regions;
* a hint pixel is one at least half opaque (:data:`sketch2color.pixels.HINT_ALPHA`): the soft edge
  of an anti-aliased dab blends its colour with whatever was under it;
* a dab is a connected blob of hint pixels of one colour, so two dabs of
  different colours that touch across a thin line stay two dabs; each
  belongs to the region that holds most of its non-line pixels, since a
  brush may overlap the line it was placed beside, and colours only that
  region (a stroke dragged over several shapes colours the one it lies in
  most);
* a region that touches the sketch's border stays the model's: that is the
  paper around the drawing, or where a gap in an outline leads, and a bucket
  fill from one dab there would paint the page;
* a region with dabs of several colours is shared between them: each pixel
  takes the colour of the nearest dab pixel in the region (OpenCV's
  labelled distance transform), so every dab shows its own colour where it
  was put, and dabs of one colour fill the region flat.
"""

from __future__ import annotations

import cv2
import numpy as np

from sketch2color.pixels import hint_mask


def _dabs(hints: np.ndarray, opaque: np.ndarray) -> tuple[np.ndarray, int]:
    """(H, W) int32 dab labels (0: no hint) of the blobs of one colour each, and their count + 1."""
    rows, columns = np.nonzero(opaque)
    rgb = hints[rows, columns, :3].astype(np.int64)
    keys = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    order = np.argsort(keys, kind="stable")
    rows, columns, keys = rows[order], columns[order], keys[order]
    starts = np.flatnonzero(np.diff(keys, prepend=-1))
    labels, count = np.zeros(opaque.shape, np.int32), 1
    for start, stop in zip(starts, [*starts[1:], len(rows)], strict=True):
        # Only the window around this colour's pixels is labelled: cost follows the dabs, not the image.
        r, c = rows[start:stop], columns[start:stop]
        top, left = r.min(), c.min()
        window = np.zeros((r.max() - top + 1, c.max() - left + 1), np.uint8)
        window[r - top, c - left] = 1
        blobs, local = cv2.connectedComponents(window, connectivity=8)
        labels[r, c] = local[r - top, c - left] + (count - 1)
        count += blobs - 1
    return labels, count


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
    opaque = hint_mask(hints)
    if not opaque.any():
        return flat
    count, regions, stats, _ = cv2.connectedComponentsWithStats((~lines).astype(np.uint8), connectivity=4)
    height, width = lines.shape
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right, bottom = left + stats[:, cv2.CC_STAT_WIDTH], top + stats[:, cv2.CC_STAT_HEIGHT]
    closed = (left > 0) & (top > 0) & (right < width) & (bottom < height)
    closed[0] = False  # label 0 is the lines
    dabs, dab_count = _dabs(hints, opaque)
    owner = _dab_regions(regions, dabs, dab_count)
    rows, columns = np.nonzero(opaque)
    held = regions[rows, columns]
    kept = (held == owner[dabs[rows, columns]]) & closed[held]
    seeds = np.zeros_like(opaque)
    seeds[rows[kept], columns[kept]] = True
    painted = flat.copy()
    for label in np.unique(regions[seeds]):
        window = (slice(top[label], bottom[label]), slice(left[label], right[label]))
        inside = regions[window] == label
        here = seeds[window] & inside
        colors = hints[window][..., :3]
        seed_colors = colors[here]
        if (seed_colors == seed_colors[0]).all():  # one colour: a flat fill
            painted[window][inside] = seed_colors[0]
        else:
            painted[window][inside] = _nearest_seed_colors(here, colors)[inside]
    return painted
