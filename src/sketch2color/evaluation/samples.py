"""The samples grid: test examples from best to worst by SSIM, labelled.

Each row is one test image: ``Input Sketch | Ground Truth | Predicted Image``
(the paper's titles), and where the full-resolution pictures exist the
prediction is the line-faithful output a user gets, next to the stretched
one for comparison. Its SSIM rank, SSIM and name are written on the left.
The rows sit at evenly spaced SSIM ranks, so three rows are the best, the
median and the worst example: the grid shows how good the model is at its
best, typically, and at its worst, not just a lucky pick.

Small images are scaled up by an integer factor (nearest neighbour, so no
pixel is invented) until a tile is at least :data:`MIN_TILE_PX` wide, which
keeps the labels readable next to 32 or 64 px outputs; large ones are shrunk
to :data:`MAX_TILE_PX` by area averaging.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sketch2color.image_io import write_rgb

COLUMN_TITLES = ("Input Sketch", "Ground Truth", "Predicted Image")
FULL_RESOLUTION_TITLES = ("Input Sketch", "Ground Truth", "Line-faithful", "Stretched")
MIN_TILE_PX = 128
MAX_TILE_PX = 256
HEADER_PX = 28
LABEL_PX = 150
GAP_PX = 4
BACKGROUND = 255
TEXT_COLOR = (20, 20, 20)


@dataclass(frozen=True)
class SampleRow:
    """One row of the grid: uint8 RGB images (one per column) and what to write beside them."""

    label: str
    images: tuple[np.ndarray, ...]


def ranks_to_show(count: int, rows: int) -> list[int]:
    """Ranks (0 = best) at even spacing from best to worst; 3 rows -> best, median, worst."""
    if count <= 0:
        return []
    rows = min(rows, count)
    if rows == 1:
        return [(count - 1) // 2]
    return sorted({int(r) for r in np.linspace(0, count - 1, rows)})  # floor: the middle of 3 is the median


def pick_examples(ssim: np.ndarray, rows: int) -> list[tuple[int, int]]:
    """(rank, image index) of the rows to show, ordered best first.

    Ties keep test-set order (stable sort), so the pick is deterministic.
    """
    order = np.argsort(-np.asarray(ssim), kind="stable")
    return [(rank, int(order[rank])) for rank in ranks_to_show(len(order), rows)]


def rank_label(rank: int, count: int) -> str:
    if count > 1 and rank == 0:
        return "best"
    if count > 1 and rank == count - 1:
        return "worst"
    if rank == (count - 1) // 2:
        return "median"
    return f"rank {rank + 1}/{count}"


def tile_side(image_size: int) -> int:
    """The side of a grid tile for images of ``image_size``: scaled up by an integer, or shrunk."""
    if image_size > MAX_TILE_PX:
        return MAX_TILE_PX
    return image_size * max(1, math.ceil(MIN_TILE_PX / image_size))


def grid_shape(rows: int, image_size: int, columns: int = len(COLUMN_TITLES)) -> tuple[int, int]:
    """(height, width) of the grid for ``rows`` rows of ``columns`` images of ``image_size``."""
    tile = tile_side(image_size)
    height = HEADER_PX + rows * tile + (rows + 1) * GAP_PX
    width = LABEL_PX + columns * tile + (columns + 1) * GAP_PX
    return height, width


def render_grid(rows: Sequence[SampleRow], titles: Sequence[str] = COLUMN_TITLES) -> np.ndarray:
    """The labelled grid as one uint8 RGB image."""
    import cv2

    if not rows:
        raise ValueError("a samples grid needs at least one row")
    size = max(max(image.shape[:2]) for row in rows for image in row.images)
    tile = tile_side(size)
    height, width = grid_shape(len(rows), size, len(titles))
    grid = np.full((height, width, 3), BACKGROUND, np.uint8)

    for column, title in enumerate(titles):
        x = LABEL_PX + GAP_PX + column * (tile + GAP_PX)
        _put_text(grid, title, (x + 2, HEADER_PX - 9), 0.45)

    for index, row in enumerate(rows):
        if len(row.images) != len(titles):
            raise ValueError(f"row {index}: {len(row.images)} images for {len(titles)} columns")
        y = HEADER_PX + GAP_PX + index * (tile + GAP_PX)
        for line, text in enumerate(row.label.split("\n")):
            _put_text(grid, text, (6, y + 18 + 18 * line), 0.42)
        for column, image in enumerate(row.images):
            if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] != image.shape[1]:
                raise ValueError(f"row {index}: expected square RGB images, got {image.shape}")
            x = LABEL_PX + GAP_PX + column * (tile + GAP_PX)
            shrink = image.shape[0] > tile
            grid[y : y + tile, x : x + tile] = cv2.resize(
                image, (tile, tile), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_NEAREST
            )
    return grid


def _put_text(image: np.ndarray, text: str, origin: tuple[int, int], scale: float) -> None:
    import cv2

    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, TEXT_COLOR, 1, cv2.LINE_AA)


def write_png(image: np.ndarray, target: Path) -> None:
    write_rgb(image, target)
