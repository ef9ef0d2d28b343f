"""A sketch of any size in, a coloured picture of the same size out: what every consumer calls.

``colorize``, the GUI, the MLflow model and evaluate's full-resolution
scores all go through :func:`color_sketches` and :meth:`Colored.picture`,
so they give the same picture for the same sketch and model. The work is in
two halves so that the command can stream a folder: :func:`prepare` (fit
into the model's square) and :meth:`Colored.picture` (back to the sketch's
size) run in I/O threads, the model call between them on whole batches.

Output modes:

* ``line_faithful`` (the default): the model's colour spread edge-aware up
  to the sketch's own lines, at its own size, each region the user's dabs
  are put in taking their colour, across gaps in its outline (:mod:`.compose`);
* ``raw``: the model's square stretched back to the sketch's size, as the
  paper's tool did; kept for comparison.

Dabs work with every model: they fill their regions in the picture, after
the model. A model trained with hints also sees them, in its square, and
colours the rest of the drawing with them in mind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from sketch2color.inference.backends import Backend
from sketch2color.inference.compose import DEFAULT_FILL, FillSettings, Layers, compose_layers, line_faithful
from sketch2color.inference.geometry import (
    Placement,
    cut_from_square,
    fit_hints_to_square,
    fit_to_square,
    hints_at_size,
    restore_from_square,
)

OutputMode = Literal["line_faithful", "raw"]
OUTPUT_MODES: tuple[str, ...] = get_args(OutputMode)
DEFAULT_OUTPUT: OutputMode = "line_faithful"


@dataclass(frozen=True)
class Prepared:
    """A sketch fitted into the model's square, and where it sits there."""

    sketch: np.ndarray  # the full-size RGB sketch
    square: np.ndarray  # S x S RGB, what the model takes
    placement: Placement
    square_hints: np.ndarray | None = None  # S x S RGBA hint dabs in the same square, or None
    hints: np.ndarray | None = None  # the RGBA hint dabs at the sketch's size, or None


@dataclass(frozen=True)
class Colored:
    """The model's square for one sketch; :meth:`picture` brings it to the sketch's size."""

    sketch: np.ndarray
    square: np.ndarray
    placement: Placement
    hints: np.ndarray | None = None  # RGBA at the sketch's size, for the line-faithful picture

    @property
    def color(self) -> np.ndarray:
        """The model's colour for the sketch, at the model's scale and the sketch's aspect ratio."""
        return cut_from_square(self.square, self.placement)

    def layers(self, fill: FillSettings = DEFAULT_FILL) -> Layers:
        """The line-faithful picture's layers (flat colour, line art, dabs), for paint programs."""
        return compose_layers(self.sketch, self.color, self.hints, fill)

    def picture(self, output: OutputMode = DEFAULT_OUTPUT, fill: FillSettings = DEFAULT_FILL) -> np.ndarray:
        if output == "raw":
            return restore_from_square(self.square, self.placement)
        if output == "line_faithful":
            return line_faithful(self.sketch, self.color, self.hints, fill)
        raise ValueError(f"unknown output mode {output!r}; expected one of {', '.join(OUTPUT_MODES)}")


def prepare(
    sketch: np.ndarray, size: int, hints: np.ndarray | None = None, model_takes_hints: bool = True
) -> Prepared:
    """Fit a sketch (and its RGBA hint image, of any size) into the model's square; the hints go into
    the square only for a model that takes them (0.2 s at 4000x3000 that any other model would waste)."""
    square, placement = fit_to_square(sketch, size)
    if hints is None:
        return Prepared(sketch, square, placement)
    at_sketch_size = hints_at_size(hints, *sketch.shape[:2])
    square_hints = fit_hints_to_square(at_sketch_size, placement, size) if model_takes_hints else None
    return Prepared(sketch, square, placement, square_hints, at_sketch_size)


def color_prepared(backend: Backend, prepared: list[Prepared]) -> list[Colored]:
    """One model call for a batch of prepared sketches (those without hints get none; a model not
    trained with hints gets none at all: its dabs fill their regions in the picture only)."""
    squares = np.stack([p.square for p in prepared])
    hints = None
    if backend.takes_hints and any(p.square_hints is not None for p in prepared):
        empty = np.zeros((*squares.shape[1:3], 4), np.uint8)
        hints = np.stack([empty if p.square_hints is None else p.square_hints for p in prepared])
    colored = backend.color_batch(squares, hints)
    return [
        Colored(p.sketch, square, p.placement, p.hints) for p, square in zip(prepared, colored, strict=True)
    ]


def color_sketches(
    backend: Backend, sketches: Sequence[np.ndarray], hints: Sequence[np.ndarray | None] | None = None
) -> list[Colored]:
    """Colour RGB sketches of any sizes (one model call), each with its RGBA hints if given."""
    each_hints = hints or [None] * len(sketches)
    return color_prepared(
        backend,
        [
            prepare(sketch, backend.input_size, h, backend.takes_hints)
            for sketch, h in zip(sketches, each_hints, strict=True)
        ],
    )


def colorize_image(
    backend: Backend,
    sketch: np.ndarray,
    output: OutputMode = DEFAULT_OUTPUT,
    hints: np.ndarray | None = None,
    fill: FillSettings = DEFAULT_FILL,
) -> np.ndarray:
    """One RGB sketch of any size (and its RGBA hints) -> the coloured picture at its size."""
    return color_sketches(backend, [sketch], [hints])[0].picture(output, fill)
