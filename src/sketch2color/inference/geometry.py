"""Fitting an image of any size and aspect ratio into the generator's S x S square, and back.

The generator only takes S x S; stretching a sketch to a square would bend
its strokes, so the image is fitted into a white square without distortion
(sketches are dark lines on white paper) and cut back out afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sketch2color.data.images import resize_rgb
from sketch2color.pixels import hint_mask

WHITE = 255


@dataclass(frozen=True)
class Placement:
    """Where an image of ``height`` x ``width`` sits inside the model's white square."""

    height: int
    width: int
    top: int
    left: int
    inner_height: int
    inner_width: int


def fit_to_square(rgb: np.ndarray, size: int) -> tuple[np.ndarray, Placement]:
    """Pad an image to a white square and resize it to size x size, keeping its aspect ratio.

    The image is scaled first and padded second: the result is the same as
    padding then scaling, but a 40-megapixel strip never becomes a
    gigapixel square in memory.
    """
    height, width = rgb.shape[:2]
    scale = size / max(height, width)
    inner_height = min(size, max(1, round(height * scale)))
    inner_width = min(size, max(1, round(width * scale)))
    top, left = (size - inner_height) // 2, (size - inner_width) // 2
    square = np.full((size, size, 3), WHITE, np.uint8)
    square[top : top + inner_height, left : left + inner_width] = resize_rgb(rgb, inner_height, inner_width)
    return square, Placement(height, width, top, left, inner_height, inner_width)


def hints_at_size(hints: np.ndarray, height: int, width: int) -> np.ndarray:
    """A user's RGBA hint image (of any size) at its sketch's size: nearest neighbour, so a dab
    keeps its colour."""
    import cv2

    if hints.shape[:2] == (height, width):
        return hints
    return cv2.resize(hints, (width, height), interpolation=cv2.INTER_NEAREST)


def hints_at_working_size(hints: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A sketch-sized RGBA hint image shrunk to ``shape`` by moving each hint pixel to the working pixel
    it falls in: a dab of a pixel or two survives any shrinking, and no colour is blended."""
    if hints.shape[:2] == shape:
        return hints
    rows, columns = np.nonzero(hint_mask(hints))
    shrunk = np.zeros((*shape, 4), np.uint8)
    scale_y, scale_x = shape[0] / hints.shape[0], shape[1] / hints.shape[1]
    shrunk[(rows * scale_y).astype(int), (columns * scale_x).astype(int)] = hints[rows, columns]
    return shrunk


def fit_hints_to_square(hints: np.ndarray, placement: Placement, size: int) -> np.ndarray:
    """A user's RGBA hint image (alpha marks the dabs) in the model's square, where its sketch went.

    The hint image may have any size: it is scaled to the sketch's first
    (:func:`hints_at_size`). Shrinking to the model's
    size averages each dab's colour by its alpha, and any coverage of a model
    pixel marks it: a 3 px dab on a 512 px sketch is still a hint at 64 px.
    """
    import cv2

    p = placement
    hints = hints_at_size(hints, p.height, p.width)
    alpha = hint_mask(hints)[..., None].astype(np.float32)
    premultiplied = hints[..., :3].astype(np.float32) * alpha
    shape = (p.inner_width, p.inner_height)
    coverage = cv2.resize(alpha[..., 0], shape, interpolation=cv2.INTER_AREA)[..., None]
    color = cv2.resize(premultiplied, shape, interpolation=cv2.INTER_AREA) / np.maximum(coverage, 1e-6)
    square = np.zeros((size, size, 4), np.uint8)
    inner = square[p.top : p.top + p.inner_height, p.left : p.left + p.inner_width]
    marked = coverage[..., 0] > 0
    inner[..., :3][marked] = np.clip(np.rint(color[marked]), 0, 255).astype(np.uint8)
    inner[..., 3][marked] = 255
    return square


def cut_from_square(square: np.ndarray, placement: Placement) -> np.ndarray:
    """The image's region of a square, at the model's scale (its aspect ratio, not its size)."""
    p = placement
    return square[p.top : p.top + p.inner_height, p.left : p.left + p.inner_width]


def restore_from_square(square: np.ndarray, placement: Placement) -> np.ndarray:
    """Cut the image's region out of a coloured square and stretch it back to its own size."""
    return resize_rgb(cut_from_square(square, placement), placement.height, placement.width)
