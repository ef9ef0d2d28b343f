"""Line-art rendering: every fill and stroke lands on the colour and the sketch half at once.

Drawing both halves with one call per shape is what keeps each sketch line
pixel-exactly on a colour edge (dark outlines on top of the fills, as in
anime colour art), whatever the size.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from sketch2color.data.synthetic.palette import RGB

# Stroke widths are given at this size of the square half and scaled from it.
REFERENCE_SIZE = 512

# cv2 drawing takes fixed-point coordinates; 4 fractional bits keep thin
# antialiased strokes smooth at every size.
_SHIFT = 4
_ONE = 1 << _SHIFT


class Painter:
    """Draws every fill and stroke on both halves at once, which keeps them aligned.

    A fill paints its colour on the colour half and white on the sketch half
    (so an object in front hides the lines behind it); a stroke paints the same
    dark ink on both.
    """

    def __init__(self, size: int, ink: int) -> None:
        self.size = size
        self.ink = ink
        self.color = np.zeros((size, size, 3), np.uint8)
        self.sketch = np.full((size, size), 255, np.uint8)

    def _fixed(self, points: np.ndarray) -> np.ndarray:
        return np.round(np.asarray(points, np.float64) * (self.size * _ONE)).astype(np.int32)

    def thickness(self, width_at_reference: float) -> int:
        return max(1, int(round(width_at_reference * self.size / REFERENCE_SIZE)))

    def fill(self, polygons: Sequence[np.ndarray], rgb: RGB, shade: float = 0.1) -> None:
        """Fill the union of polygons, lighter at its top and darker at its bottom."""
        fixed = [self._fixed(poly) for poly in polygons]
        stacked = np.concatenate(fixed)
        top, bottom = stacked[:, 1].min() / _ONE, stacked[:, 1].max() / _ONE
        x0 = max(0, int(stacked[:, 0].min() // _ONE) - 1)
        y0 = max(0, int(top) - 1)
        x1 = min(self.size, int(stacked[:, 0].max() // _ONE) + 2)
        y1 = min(self.size, int(bottom) + 2)
        if x1 <= x0 or y1 <= y0:
            return
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        offset = np.array([x0 * _ONE, y0 * _ONE], np.int32)
        for poly in fixed:  # one call each: overlapping polygons must not cancel out
            cv2.fillPoly(mask, [poly - offset], 255, cv2.LINE_AA, _SHIFT)
        alpha = mask.astype(np.float32) * np.float32(1 / 255)
        rows = np.arange(y0, y1, dtype=np.float32)
        t = np.clip((rows - top) / max(bottom - top, 1.0), 0.0, 1.0)
        factor = (1.0 + shade) - 2.0 * shade * t
        shaded = np.clip(np.asarray(rgb, np.float32)[None, :] * factor[:, None], 0, 255)
        region = self.color[y0:y1, x0:x1].astype(np.float32)
        region += alpha[..., None] * (shaded[:, None, :] - region)
        self.color[y0:y1, x0:x1] = (region + 0.5).astype(np.uint8)
        paper = self.sketch[y0:y1, x0:x1].astype(np.float32)
        paper += alpha * (255.0 - paper)
        self.sketch[y0:y1, x0:x1] = (paper + 0.5).astype(np.uint8)

    def stroke(self, lines: Sequence[np.ndarray], width: float, closed: bool = False) -> None:
        fixed = [self._fixed(line) for line in lines]
        thickness = self.thickness(width)
        ink = self.ink
        cv2.polylines(self.color, fixed, closed, (ink, ink, ink), thickness, cv2.LINE_AA, _SHIFT)
        cv2.polylines(self.sketch, fixed, closed, ink, thickness, cv2.LINE_AA, _SHIFT)

    def outlined(self, polygons: Sequence[np.ndarray], rgb: RGB, width: float, shade: float = 0.1) -> None:
        """Each polygon filled and outlined, in order (later ones in front)."""
        for poly in polygons:
            self.fill([poly], rgb, shade)
            self.stroke([poly], width, closed=True)

    def outlined_union(self, polygons: Sequence[np.ndarray], rgb: RGB, width: float) -> None:
        """One outline around a union (clouds, canopies): stroke all, then fill over the
        inner halves of the strokes, so only the outer contour stays."""
        self.stroke(polygons, 2 * width, closed=True)
        self.fill(polygons, rgb)

    def ink_fill(self, polygons: Sequence[np.ndarray]) -> None:
        """Solid ink shapes such as eyes and door knobs, the same on both halves."""
        fixed = [self._fixed(poly) for poly in polygons]
        ink = self.ink
        for poly in fixed:
            cv2.fillPoly(self.color, [poly], (ink, ink, ink), cv2.LINE_AA, _SHIFT)
            cv2.fillPoly(self.sketch, [poly], ink, cv2.LINE_AA, _SHIFT)
