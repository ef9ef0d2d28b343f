"""The hints painted over one sketch in the GUI: brush and eraser strokes, undo and redo, and their files.

The layer is a list of steps (a brush stroke, an eraser stroke, hints loaded
from a file, a clear), rendered onto an RGBA image at the sketch's size with
:func:`sketch2color.inference.user_hints.paint_stroke`, the one way a dab is
painted. Undo moves the last step to the redo list and renders the rest
again; a new step empties the redo list, as in every paint program. While a
stroke is being dragged only its new segment is painted, so a drag stays
smooth on a 4000 px sketch.

Hints are written only when the user saves them (or saves the picture,
beside it), never on every stroke; where they were last saved for a sketch
is remembered (:func:`remember_hints`), so reopening the sketch can offer
them wherever they went.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sketch2color.inference.geometry import hints_at_size
from sketch2color.inference.user_hints import empty_hints, paint_stroke
from sketch2color.pixels import hint_mask

HINTS_SUFFIX = ".hints.png"
ERASE = (0, 0, 0, 0)
REMEMBERED = 200
"""How many sketches' hint files are remembered."""


@dataclass
class Stroke:
    """One press, drag and release of the brush (or, with ``rgba`` transparent, the eraser)."""

    rgba: tuple[int, int, int, int]
    radius: int
    points: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Replace:
    """The whole layer replaced: hints loaded from a file, or cleared (``image`` None)."""

    image: np.ndarray | None


class HintLayer:
    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self.steps: list[Stroke | Replace] = []
        self.undone: list[Stroke | Replace] = []
        self.version = 0  # changes with every change: the worker's cache key
        self.saved_version = 0  # the version last written to a file
        self._image = empty_hints(height, width)
        self._empty = True

    # ------------------------------------------------------------ painting

    def begin(self, x: int, y: int, color: tuple[int, int, int] | None, radius: int) -> None:
        """Start a stroke at (x, y): a brush of ``color``, or the eraser when ``color`` is None."""
        stroke = Stroke(ERASE if color is None else (*color, 255), max(0, int(radius)), [(x, y)])
        self._push(stroke)
        paint_stroke(self._image, stroke.points, stroke.rgba, stroke.radius)
        self._changed(painted=color is not None)

    def extend(self, x: int, y: int) -> None:
        """Drag the current stroke on to (x, y): only the new segment is painted."""
        if not self.steps or not isinstance(self.steps[-1], Stroke):
            return
        stroke = self.steps[-1]
        if stroke.points[-1] == (x, y):
            return
        stroke.points.append((x, y))
        paint_stroke(self._image, stroke.points[-2:], stroke.rgba, stroke.radius)
        self._changed(painted=stroke.rgba != ERASE)

    def replace(self, image: np.ndarray | None) -> None:
        """Load hints (RGBA, scaled to the sketch) as one undoable step; None clears the layer."""
        step = Replace(None if image is None else hints_at_size(image, self.height, self.width).copy())
        self._push(step)
        self._apply(step)
        self._changed()

    def clear(self) -> bool:
        if self.empty:
            return False
        self.replace(None)
        return True

    # ------------------------------------------------------------ history

    def undo(self) -> bool:
        if not self.steps:
            return False
        self.undone.append(self.steps.pop())
        self._render_all()
        return True

    def redo(self) -> bool:
        if not self.undone:
            return False
        step = self.undone.pop()
        self.steps.append(step)
        self._apply(step)
        self._changed()
        return True

    # ------------------------------------------------------------ reading

    @property
    def empty(self) -> bool:
        return self._empty

    @property
    def dirty(self) -> bool:
        """Changed since they were last saved."""
        return self.version != self.saved_version

    def render(self) -> np.ndarray:
        """The hints as RGBA at the sketch's size (the layer's own image: do not change it)."""
        return self._image

    def hints_or_none(self) -> np.ndarray | None:
        """A copy of the hints for the model, or None when there are none."""
        return None if self._empty else self._image.copy()

    # ------------------------------------------------------------ internals

    def _push(self, step: Stroke | Replace) -> None:
        self.steps.append(step)
        self.undone.clear()

    def _apply(self, step: Stroke | Replace) -> None:
        if isinstance(step, Replace):
            self._image = empty_hints(self.height, self.width) if step.image is None else step.image.copy()
        else:
            paint_stroke(self._image, step.points, step.rgba, step.radius)

    def _render_all(self) -> None:
        self._image = empty_hints(self.height, self.width)
        for step in self.steps:
            self._apply(step)
        self._changed()

    def _changed(self, painted: bool = False) -> None:
        """A new version; whether any hint is left is only looked up when something was taken away
        (a look at every pixel of a 4000 px sketch is too slow for every drag event)."""
        self.version += 1
        self._empty = False if painted else not hint_mask(self._image).any()


# ---------------------------------------------------------------- files


def hints_file(picture: Path) -> Path:
    """The hints saved beside a sketch or a picture: ``drawing.png`` -> ``drawing.hints.png``."""
    return picture.with_name(picture.stem + HINTS_SUFFIX)


def save_hints(layer: HintLayer, target: Path) -> None:
    """Write the layer's hints as an RGBA PNG (atomically); the layer is then clean."""
    from sketch2color.atomic import write_bytes
    from sketch2color.image_io import encode_rgba

    version = layer.version
    write_bytes(target, encode_rgba(layer.render()))
    layer.saved_version = version


def memory_file() -> Path:
    from platformdirs import user_state_path

    return user_state_path("sketch2color") / "hint_files.json"


def _remembered() -> dict[str, str]:
    """sketch -> hint file, as saved; a missing or damaged memory is an empty one."""
    try:
        payload = json.loads(memory_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(payload, dict):
        return {}
    return {sketch: hints for sketch, hints in payload.items() if isinstance(hints, str)}


def remember_hints(sketch: Path, hints: Path) -> None:
    """Note where a sketch's hints were saved; a failure to note it costs only the offer later."""
    from sketch2color.atomic import write_json

    remembered = _remembered()
    remembered.pop(str(sketch.resolve()), None)
    remembered[str(sketch.resolve())] = str(hints.resolve())
    try:
        write_json(memory_file(), dict(list(remembered.items())[-REMEMBERED:]))
    except OSError:
        pass


def saved_hints_for(sketch: Path) -> Path | None:
    """The newest hint file saved for ``sketch`` that still exists: where it was last saved, or beside it."""
    candidates = [hints_file(sketch)]
    remembered = _remembered().get(str(sketch.resolve()))
    if remembered:
        candidates.append(Path(remembered))
    existing = [path for path in candidates if path.is_file()]
    return max(existing, key=lambda path: os.stat(path).st_mtime, default=None)
