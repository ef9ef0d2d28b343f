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
from sketch2color.inference.geometry import hints_at_size
from sketch2color.pixels import hint_mask

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
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (0, 2, 4))
    return Dab(int(x), int(y), (red, green, blue))


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
            hints = hints_at_size(loaded, height, width)
        radius = self.radius if self.radius is not None else default_radius(height, width)
        for dab in self.dabs:
            paint_dab(hints, dab, radius)
        return hints


NO_HINTS = UserHints()


class HintLayer:
    """The hints painted over one sketch in the GUI: strokes of dabs, undoable, kept in a file.

    A stroke is what one press, drag and release paints: dabs of one colour
    and radius joined by lines. The layer is rendered from the strokes (and
    the hints loaded from the sketch's hint file, beneath them), so undo is
    dropping the last stroke, not keeping a copy of the image per step.
    """

    def __init__(self, height: int, width: int, base: np.ndarray | None = None) -> None:
        self.height, self.width = height, width
        self.base = empty_hints(height, width) if base is None else base
        self.strokes: list[tuple[tuple[int, int, int], int, list[tuple[int, int]]]] = []

    @classmethod
    def for_sketch(cls, sketch_path: Path, height: int, width: int, max_pixels: int) -> HintLayer:
        """The layer saved beside the sketch, or an empty one; an unusable hint file is ignored."""
        from sketch2color.data.images import BadImage, load_rgba

        path = hints_file(sketch_path)
        if path.is_file():
            try:
                loaded = load_rgba(path, max_pixels)
            except BadImage:
                return cls(height, width)
            return cls(height, width, hints_at_size(loaded, height, width))
        return cls(height, width)

    def begin(self, x: int, y: int, color: tuple[int, int, int], radius: int) -> None:
        self.strokes.append((color, radius, [(x, y)]))

    def extend(self, x: int, y: int) -> None:
        if self.strokes:
            self.strokes[-1][2].append((x, y))

    def undo(self) -> bool:
        if self.strokes:
            self.strokes.pop()
            return True
        if self.base.any():
            self.base = empty_hints(self.height, self.width)  # the loaded hints are one step
            return True
        return False

    def clear(self) -> None:
        self.strokes.clear()
        self.base = empty_hints(self.height, self.width)

    @property
    def empty(self) -> bool:
        return not self.strokes and not self.base[..., 3].any()

    def render(self) -> np.ndarray:
        hints = self.base.copy()
        for color, radius, points in self.strokes:
            rgba = (*color, 255)
            for start, end in zip(points, points[1:], strict=False):
                cv2.line(hints, start, end, rgba, thickness=2 * radius + 1)
            for point in points:
                cv2.circle(hints, point, radius, rgba, thickness=-1)
        return hints

    def save(self, sketch_path: Path) -> Path | None:
        """Write the layer beside the sketch (remove the file when there are no hints left)."""
        from sketch2color.atomic import write_bytes
        from sketch2color.image_io import encode_rgba

        path = hints_file(sketch_path)
        if self.empty:
            path.unlink(missing_ok=True)
            return None
        write_bytes(path, encode_rgba(self.render()))
        return path


def over_sketch(sketch: np.ndarray, hints: np.ndarray) -> np.ndarray:
    """The sketch with its hint dabs painted over it, as the GUI shows them."""
    shown = sketch.copy()
    marked = hint_mask(hints)
    shown[marked] = hints[..., :3][marked]
    return shown
