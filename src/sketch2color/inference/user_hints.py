"""Hints as users give them: a hint image, dabs at points, and the one way a dab is painted.

A hint image is RGBA of any size whose hint pixels
(:func:`sketch2color.pixels.hint_mask`) say which colour goes there (it is
scaled with its sketch, see :func:`sketch2color.inference.geometry.fit_hints_to_square`).
On the command line a dab is ``x,y,#rrggbb`` in the sketch's own pixels.
:func:`paint_stroke` is the one place a dab's shape is drawn: the command's
dabs, the hint curve's simulated ones and the GUI's brush and eraser
(:mod:`sketch2color.gui.hint_layer`) all go through it, so a dab is the same
wherever it was made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sketch2color.inference.errors import InferenceError
from sketch2color.inference.geometry import hints_at_size

_DAB = re.compile(r"^\s*(\d+)\s*,\s*(\d+)\s*,\s*#?([0-9a-fA-F]{6})\s*$")


@dataclass(frozen=True)
class Dab:
    x: int
    y: int
    color: tuple[int, int, int]


def parse_dab(text: str) -> Dab:
    """``x,y,#rrggbb`` (x and y in the sketch's pixels, from the top left)."""
    match = _DAB.match(text)
    if match is None:
        raise InferenceError(f"--hint {text!r}: expected x,y,#rrggbb, for example 120,80,#d22f27")
    x, y, hex_color = match.groups()
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (0, 2, 4))
    return Dab(int(x), int(y), (red, green, blue))


def default_radius(height: int, width: int) -> int:
    """A dab's radius when none is given: 1% of the sketch's longer side, at least 2 px."""
    return max(2, round(max(height, width) / 100))


def empty_hints(height: int, width: int) -> np.ndarray:
    return np.zeros((height, width, 4), np.uint8)


def paint_stroke(
    hints: np.ndarray, points: Sequence[tuple[int, int]], rgba: tuple[int, int, int, int], radius: int
) -> np.ndarray:
    """``hints`` (RGBA, changed in place and returned) with a round dab of ``rgba`` at each of
    ``points`` (x, y), joined by strokes as wide: a brush dragged through them. Transparent
    ``rgba`` erases. Points outside the image are clipped, as a brush at the canvas edge is."""
    radius = max(0, int(radius))
    for start, end in zip(points, points[1:], strict=False):
        cv2.line(hints, start, end, rgba, thickness=2 * radius + 1, lineType=cv2.LINE_8)
    for point in points:
        cv2.circle(hints, point, radius, rgba, thickness=-1, lineType=cv2.LINE_8)
    return hints


def paint_dab(hints: np.ndarray, dab: Dab, radius: int) -> np.ndarray:
    """``hints`` (RGBA, changed in place and returned) with a round opaque dab at ``dab``."""
    height, width = hints.shape[:2]
    if not (0 <= dab.x < width and 0 <= dab.y < height):
        raise InferenceError(f"hint at {dab.x},{dab.y} is outside the {width}x{height} sketch")
    return paint_stroke(hints, [(dab.x, dab.y)], (*dab.color, 255), radius)


@dataclass(frozen=True)
class UserHints:
    """What a user asked for: a hint image, dabs, or both (the dabs painted over the image)."""

    file: Path | None = None
    dabs: tuple[Dab, ...] = ()
    radius: int | None = None

    def __bool__(self) -> bool:
        return self.file is not None or bool(self.dabs)

    def render(self, height: int, width: int, max_pixels: int) -> np.ndarray:
        """The hints as an RGBA image of the sketch's size."""
        from sketch2color.data.images import BadImage, load_rgba

        hints = empty_hints(height, width)
        if self.file is not None:
            try:
                loaded = load_rgba(self.file, max_pixels)
            except BadImage as exc:
                raise InferenceError(f"--hints {self.file}: {exc}") from None
            hints = hints_at_size(loaded, height, width)
        radius = self.radius if self.radius is not None else default_radius(height, width)
        for dab in self.dabs:
            paint_dab(hints, dab, radius)
        return hints


NO_HINTS = UserHints()
