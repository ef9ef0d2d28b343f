"""The paper's data augmentation, and the ``augment`` stage that applies it.

The paper grows its training set with random rotation, shear, zoom and shift,
plus Gaussian noise. For a sketch-to-colour pair the geometric part must move
both images identically, or the model would be taught that lines and colours
need not line up; so each copy draws ONE affine matrix and warps the sketch
and the colour image with it. Noise goes on the sketch only: the sketch is the
model's input (noise makes it robust to scanned or shaky line art), while the
colour image is its target, and a noisy target would teach it to paint noise.

Every random draw for input pair ``i``, copy ``k`` comes from
``np.random.default_rng([seed, i, k])``: the output does not depend on the
order in which pairs happen to be processed, and the same seed gives the same
pixels, hence (records being serialized canonically) the same shard bytes.

Transform details (see :func:`affine_matrix` and :func:`warp`):

* rotation, shear, one isotropic zoom factor, shift and an optional
  horizontal flip are composed about the image centre into one 2x3 matrix,
  so each image costs exactly one ``cv2.warpAffine``;
* interpolation is bilinear: zoom stays within 1 +/- 0.9 and mostly near 1,
  where area averaging would gain nothing, and bilinear keeps thin lines
  continuous where nearest-neighbour would break them;
* the border is ``BORDER_REFLECT_101`` on BOTH images. Rotating or shifting
  uncovers corners that had no source pixels. Filling them the same way in
  both images keeps the pair consistent pixel for pixel: a mirrored line in
  the sketch sits exactly on its mirrored colour. A white fill for the sketch
  with reflected colour would show the model colour where the sketch is blank
  paper, and a constant fill for the colour would paint flat wedges that real
  images never have; reflection avoids both and adds no hard edge.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sketch2color.config import AugmentConfig
from sketch2color.data.shards import Pair
from sketch2color.image_io import write_rgb

log = logging.getLogger(__name__)

SPLIT = "train"
SEPARATOR_PX = 2
BORDER_MODE = cv2.BORDER_REFLECT_101
INTERPOLATION = cv2.INTER_LINEAR


# ---------------------------------------------------------------- the transform


@dataclass(frozen=True)
class AffineDraw:
    """One copy's random geometry, in human units (degrees, factors, fractions of size)."""

    rotation_degrees: float
    shear_degrees: float
    zoom: float
    shift_x: float
    shift_y: float
    flip: bool


def draw_transform(config: AugmentConfig, rng: np.random.Generator) -> AffineDraw:
    """Draw one copy's geometry.

    All six values are drawn every time, in a fixed order, even when a range
    is zero or flipping is off: switching one knob then leaves every other
    draw unchanged, so experiments differ only in what was changed.
    """
    rotation = rng.uniform(-config.rotation_degrees, config.rotation_degrees)
    shear = rng.uniform(-config.shear_degrees, config.shear_degrees)
    zoom = rng.uniform(1.0 - config.zoom, 1.0 + config.zoom)
    shift_x = rng.uniform(-config.shift, config.shift)
    shift_y = rng.uniform(-config.shift, config.shift)
    coin = rng.random() < 0.5
    return AffineDraw(
        rotation_degrees=float(rotation),
        shear_degrees=float(shear),
        zoom=float(zoom),
        shift_x=float(shift_x),
        shift_y=float(shift_y),
        flip=bool(config.horizontal_flip and coin),
    )


def affine_matrix(draw: AffineDraw, size: int) -> np.ndarray:
    """The 2x3 source-to-destination matrix for a ``size`` x ``size`` image.

    Composed as translate(centre + shift) . rotate . shear . zoom . flip .
    translate(-centre), so rotation, shear, zoom and flip all pivot on the
    centre and the shift is in pixels (fraction * size). Zero ranges give the
    exact identity, and an identity warp returns the image unchanged.
    """
    centre = (size - 1) / 2.0
    theta = math.radians(draw.rotation_degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    rotate = np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])
    shear = np.array(
        [[1.0, math.tan(math.radians(draw.shear_degrees)), 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    )
    zoom = np.diag([draw.zoom, draw.zoom, 1.0])
    flip = np.diag([-1.0 if draw.flip else 1.0, 1.0, 1.0])
    to_origin = np.array([[1.0, 0.0, -centre], [0.0, 1.0, -centre], [0.0, 0.0, 1.0]])
    back = np.array(
        [[1.0, 0.0, centre + draw.shift_x * size], [0.0, 1.0, centre + draw.shift_y * size], [0.0, 0.0, 1.0]]
    )
    return (back @ rotate @ shear @ zoom @ flip @ to_origin)[:2]


def warp(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """One bilinear warpAffine with the border mode both images share (module docstring)."""
    height, width = image.shape[:2]
    return cv2.warpAffine(image, matrix, (width, height), flags=INTERPOLATION, borderMode=BORDER_MODE)


def add_sketch_noise(sketch: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise in 0..255 units, rounded to nearest and clipped back to uint8.

    One noise value per pixel, shared by the three channels: sketches are grey
    line art stored as RGB, and per-channel noise would tint them with colours
    that no real sketch has. ``cv2.add`` into uint8 rounds and saturates in one
    pass, twice as fast as the same arithmetic in numpy with the same result.
    """
    if std <= 0:
        return sketch
    noise = rng.standard_normal(sketch.shape[:2], dtype=np.float32)
    noise *= np.float32(std)
    return cv2.add(sketch, cv2.merge([noise] * sketch.shape[2]), dtype=cv2.CV_8U)


def augment_pair(pair: Pair, config: AugmentConfig, rng: np.random.Generator, name: str) -> Pair:
    """One augmented copy: the same matrix on both images, then noise on the sketch."""
    matrix = affine_matrix(draw_transform(config, rng), pair.sketch.shape[0])
    sketch = add_sketch_noise(warp(pair.sketch, matrix), config.noise_std, rng)
    return Pair(sketch=sketch, color=warp(pair.color, matrix), name=name)


def copy_name(name: str, k: int) -> str:
    return f"{name}#aug{k}"


def augmented_copies(pair: Pair, index: int, config: AugmentConfig, seed: int) -> list[Pair]:
    """Copies k = 1..copies of input pair ``index`` (the original itself is copy 0).

    The generator is seeded by (seed, index, k) alone, so a copy never depends
    on how many draws another copy or pair consumed.
    """
    return [
        augment_pair(pair, config, np.random.default_rng([seed, index, k]), copy_name(pair.name, k))
        for k in range(1, config.copies + 1)
    ]


# ---------------------------------------------------------------- the preview


def preview_grid(rows: Sequence[Sequence[Pair]], separator: int = SEPARATOR_PX) -> np.ndarray:
    """RGB uint8 grid: one row per input pair, sketch | colour for the original then each copy.

    White separators go only between cells and rows, so the size is
    ``cells * size + (cells - 1) * separator`` wide, likewise high.
    """
    if not rows or not rows[0]:
        raise ValueError("a preview needs at least one row with one pair")
    size = rows[0][0].sketch.shape[0]
    cells = 2 * max(len(row) for row in rows)
    height = len(rows) * size + (len(rows) - 1) * separator
    width = cells * size + (cells - 1) * separator
    grid = np.full((height, width, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        top = r * (size + separator)
        images = [image for pair in row for image in (pair.sketch, pair.color)]
        for c, image in enumerate(images):
            left = c * (size + separator)
            grid[top : top + size, left : left + size] = image
    return grid


def write_preview(grid: np.ndarray, target: Path) -> None:
    write_rgb(grid, target)
