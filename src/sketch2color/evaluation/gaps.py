"""Gaps cut into line art: the benchmark of hand-drawn lines that do not close their shapes.

A held-out sketch gets :data:`GAPS_PER_DRAWING` gaps of a given width, each
across a stroke at a seeded point of the lines' skeleton (at least four gap
widths and 16 px apart, so two gaps never merge into one opening), while its
ground truth stays as it was. The width is given at 512 px and scales with
the sketch. Each cut is a rectangle along the stroke's local direction (the
main axis of the skeleton around the point), as wide as the stroke and its
soft edge, so the stroke is severed and no faint ghost of it is left.

The seed is the pair's name (its CRC-32), so every run cuts the same gaps
into the same drawing, whichever order the pairs come in.
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

from sketch2color.lineart import line_mask

GAPS_PER_DRAWING = 6
REFERENCE_SIDE = 512
"""The sketch side at which a gap's width is given."""
SOFT_EDGE = 3
"""Pixels beyond a stroke's dark core that the cut also clears (its anti-aliased edge)."""


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def cut_gaps(sketch: np.ndarray, width: float, seed: int, count: int = GAPS_PER_DRAWING) -> np.ndarray:
    """``sketch`` with ``count`` gaps ``width`` px wide (at 512 px; scaled with the sketch) cut across
    its strokes at seeded points."""
    from skimage.morphology import skeletonize

    lines = line_mask(sketch)
    points = np.argwhere(skeletonize(lines))
    out = sketch.copy()
    if len(points) == 0:
        return out
    width = width * max(sketch.shape[:2]) / REFERENCE_SIDE
    spacing = 4 * width + 16
    chosen: list[np.ndarray] = []
    for index in np.random.default_rng(seed).permutation(len(points)):
        point = points[index]
        if all(np.hypot(*(point - other)) > spacing for other in chosen):
            chosen.append(point)
            if len(chosen) == count:
                break
    thickness = cv2.distanceTransform(lines.astype(np.uint8), cv2.DIST_L2, 5)
    for y, x in chosen:
        near = points[np.hypot(points[:, 0] - y, points[:, 1] - x) <= 8].astype(np.float64)
        direction = np.array([0.0, 1.0])
        if len(near) > 2:
            direction = np.linalg.svd(near - near.mean(axis=0), full_matrices=False)[2][0]
        across = np.array([-direction[1], direction[0]])
        half_across = float(thickness[max(0, y - 8) : y + 9, max(0, x - 8) : x + 9].max()) + SOFT_EDGE
        centre = np.array([y, x], np.float64)
        corners = [
            centre + side * across * half_across + along * direction * width / 2
            for side, along in ((-1, -1), (-1, 1), (1, 1), (1, -1))
        ]
        polygon = np.rint([[corner[1], corner[0]] for corner in corners]).astype(np.int32)
        cv2.fillPoly(out, [polygon], (255, 255, 255))
    return out
