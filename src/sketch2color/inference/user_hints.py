"""Hints as users give them: a hint image, dabs at points, and the file a GUI session keeps them in.

A hint image is RGBA of any size: every pixel that is not fully transparent
is a hint of its colour (it is scaled with its sketch, see
:func:`sketch2color.inference.geometry.fit_hints_to_square`). On the command
line a dab is ``x,y,#rrggbb`` in the sketch's own pixels; the GUI paints the
same round dabs and keeps them beside the sketch as ``<sketch>.hints.png``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sketch2color.inference.errors import InferenceError

HINTS_SUFFIX = ".hints.png"
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
    return Dab(int(x), int(y), tuple(int(hex_color[i : i + 2], 16) for i in (0, 2, 4)))


def default_radius(height: int, width: int) -> int:
    """A dab's radius when none is given: 1% of the sketch's longer side, at least 2 px."""
    return max(2, round(max(height, width) / 100))


def empty_hints(height: int, width: int) -> np.ndarray:
    return np.zeros((height, width, 4), np.uint8)


def paint_dab(hints: np.ndarray, dab: Dab, radius: int) -> np.ndarray:
    """``hints`` (RGBA, changed in place and returned) with a round opaque dab at ``dab``."""
    height, width = hints.shape[:2]
    if not (0 <= dab.x < width and 0 <= dab.y < height):
        raise InferenceError(f"hint at {dab.x},{dab.y} is outside the {width}x{height} sketch")
    cv2.circle(hints, (dab.x, dab.y), max(0, radius), (*dab.color, 255), thickness=-1, lineType=cv2.LINE_8)
    return hints


def hints_file(sketch: Path) -> Path:
    """Where a sketch's hints are kept: ``drawing.png`` -> ``drawing.hints.png`` beside it."""
    return sketch.with_name(sketch.stem + HINTS_SUFFIX)


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
            hints = cv2.resize(loaded, (width, height), interpolation=cv2.INTER_NEAREST)
        radius = self.radius if self.radius is not None else default_radius(height, width)
        for dab in self.dabs:
            paint_dab(hints, dab, radius)
        return hints


NO_HINTS = UserHints()
