"""The picture as a paint program's layer stack: which layers, what each holds, how they blend.

Every layered file (OpenRaster, PSD, a folder of PNGs) is written from the
one stack :func:`paint_stack` makes from the inference layer's
:class:`~sketch2color.inference.compose.Layers`, so the files can never
disagree about what a layer is. Bottom to top:

* **Paper**: opaque white, as a paint program's background layer, so the
  stack looks like the picture wherever the colour layer is transparent;
* **Flat colour**: the colour under the lines, transparent where it is the
  paper, so an artist can shade or repaint a region without touching the rest;
* **Line art**: the sketch, blended by *multiply*, with alpha from its
  darkness: alpha = 255 - the pixel's darkest channel, and its colour the
  rest of the ink once that much black is taken out. Over white it is the
  sketch exactly; multiplied it gives exactly what the picture's multiply
  gives (colour x sketch) over any colour; and a program that ignores the
  blend mode (or a PNG, which has none) still shows black lines over colour
  as the picture does, with no white box around them;
* **Dabs**: the user's hints as painted, hidden: a record of what was asked
  for, to show or to repaint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sketch2color.inference.compose import Layers

Blend = Literal["normal", "multiply"]
PAPER_WHITE = 255


@dataclass(frozen=True)
class PaintLayer:
    """One layer of the stack: straight (not premultiplied) RGBA uint8 at the picture's size."""

    name: str
    rgba: np.ndarray
    blend: Blend = "normal"
    visible: bool = True


def line_art_layer(sketch: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8: the sketch as ink with alpha from its darkness (see the module's notes)."""
    darkest = sketch.min(axis=-1, keepdims=True)
    alpha = 255 - darkest
    # Integer arithmetic (uint16 holds 255 * 255 + 127): float would take 1.7 s at 4000x3000.
    ink = ((sketch - darkest).astype(np.uint16) * 255 + alpha // 2) // np.maximum(alpha, 1)
    return np.concatenate([ink.astype(np.uint8), alpha], axis=-1)


def flat_color_layer(flat: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8: the flat colour, fully transparent where it is the paper."""
    rgba = np.empty((*flat.shape[:2], 4), np.uint8)
    rgba[..., :3] = flat
    rgba[..., 3] = np.where(paper, 0, 255)
    return rgba


def paint_stack(layers: Layers) -> list[PaintLayer]:
    """The layers a paint program gets, bottom first (the dabs only when there are any)."""
    height, width = layers.sketch.shape[:2]
    stack = [
        PaintLayer("Paper", np.full((height, width, 4), PAPER_WHITE, np.uint8)),
        PaintLayer("Flat colour", flat_color_layer(layers.flat, layers.paper)),
        PaintLayer("Line art", line_art_layer(layers.sketch), blend="multiply"),
    ]
    if layers.hints is not None:
        stack.append(PaintLayer("Dabs", np.ascontiguousarray(layers.hints), visible=False))
    return stack


def composite(stack: list[PaintLayer]) -> np.ndarray:
    """(H, W, 3) uint8: the visible layers blended as a paint program shows them (the merged image).

    Written here rather than borrowed: OpenRaster's merged image must be
    made by the writer, and only two blend modes over an opaque backdrop (the
    paper) are needed, each one line of the W3C compositing formulas:
    result = (1 - a) * backdrop + a * blend(backdrop, layer), with multiply
    rounded as the picture's own (:func:`sketch2color.inference.compose.multiply_lines`).
    """
    if not stack or (stack[0].rgba[..., 3] != 255).any():
        raise ValueError("the bottom layer of a stack must be opaque (the paper)")
    result = stack[0].rgba[..., :3].astype(np.uint16)
    for layer in stack[1:]:
        if not layer.visible:
            continue
        color = layer.rgba[..., :3].astype(np.uint16)
        alpha = layer.rgba[..., 3:].astype(np.uint16)
        blended = (result * color + 127) // 255 if layer.blend == "multiply" else color
        result = ((255 - alpha) * result + alpha * blended + 127) // 255  # at most 255 * 255 + 127
    return result.astype(np.uint8)
