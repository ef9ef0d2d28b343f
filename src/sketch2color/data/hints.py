"""Simulated colour hints drawn from the ground truth, as Zhang et al. (SIGGRAPH 2017) train with.

A user steers the colouring with a few dabs of colour; the model learns to
follow them from dabs simulated on the training pairs, and evaluate measures
what a given number of dabs buys. For each image:

* the number of hints is geometric (``train.hints.stop_probability`` p: after
  each hint, stop with probability p, so some pairs get none and the same
  model still colours without hints; the mean is (1 - p) / p), capped at
  ``train.hints.max_hints``; evaluate asks for an exact count instead;
* each hint is a square patch of 1 to 9 px at 256 px (scaled with the image
  size, at least 1 px) at a random position, drawn
  ``train.hints.colored_weight`` times more often on a fill pixel (coloured
  in the ground truth and not a line in the sketch, the pixels that
  evaluation's fill colour difference scores:
  :func:`sketch2color.lineart.fill_mask`) than on white paper or
  on a line, where a dab tells the model little: it already knows that paper
  is white and lines are black, and a third of a drawing's non-white pixels
  at 64 px are line;
* each patch is filled with the ground truth's mean colour over that patch
  (a box sum over an integral image), a later patch covering an earlier one.

Everything is a batched TensorFlow op on stateless random numbers, so it
runs inside tf.data in parallel with training, and the same seed gives the
same hints on every run and after every resume. The model sees the hints as
four more input channels: the hint colours in [-1, 1] (0 where there is
none) and a 0/1 mask (:func:`sketch2color.pixels.hint_channels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from sketch2color.config import HintsConfig
from sketch2color.lineart import line_mask_tensor, paper_mask_tensor
from sketch2color.pixels import from_model_output, to_model_input

PATCH_AT_256 = (1, 9)
"""Smallest and largest patch side at 256 px; other sizes scale it."""


@dataclass(frozen=True)
class Hints:
    """A batch's hints, as the model takes them and as evaluate scores them."""

    colors: tf.Tensor  # (B, S, S, 3) float32 in [-1, 1], 0 where no hint
    mask: tf.Tensor  # (B, S, S, 1) float32, 1 on a hint
    boxes: tf.Tensor  # (B, K, 4) int32: top, left, bottom, right (exclusive)
    box_colors: tf.Tensor  # (B, K, 3) float32: each hint's colour
    active: tf.Tensor  # (B, K) bool: which of the K slots are hints


def patch_sides(image_size: int) -> tuple[int, int]:
    """Smallest and largest patch side at ``image_size`` (9 px at 256 is 2 px at 64)."""
    low, high = PATCH_AT_256
    return low, max(low, round(high * image_size / 256))


def sample_hints(
    colors: tf.Tensor, sketches: tf.Tensor, seed: tf.Tensor, config: HintsConfig, count: int | None = None
) -> Hints:
    """Hints for a batch of ground truths ``colors`` and their ``sketches`` ((B, S, S, 3) float32 in [-1, 1]).

    ``seed`` is a stateless seed (shape (2,), int); ``count`` fixes every
    image's number of hints (evaluation) instead of drawing it.
    """
    size = colors.shape[1]
    slots = config.max_hints if count is None else count
    batch = tf.shape(colors)[0]
    if slots == 0:  # evaluation's "no hints": the model's plain colouring
        empty = tf.zeros([batch, 0], tf.int32)
        return Hints(
            tf.zeros_like(colors),
            tf.zeros_like(colors[..., :1]),
            tf.zeros([batch, 0, 4], tf.int32),
            tf.zeros([batch, 0, 3], tf.float32),
            tf.cast(empty, tf.bool),
        )
    count_seed, place_seed, side_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))

    if count is None:
        uniform = tf.random.stateless_uniform([batch], count_seed, minval=1e-7, maxval=1.0)
        drawn = tf.floor(tf.math.log(uniform) / tf.math.log(1.0 - config.stop_probability))
        counts = tf.cast(tf.minimum(drawn, float(slots)), tf.int32)
    else:
        counts = tf.fill([batch], count)
    active = tf.range(slots)[None, :] < counts[:, None]  # (B, K)

    # Where: fill pixels weigh colored_weight, paper and lines 1.
    weights = tf.where(paper_mask_tensor(colors) | line_mask_tensor(sketches), 1.0, config.colored_weight)
    logits = tf.math.log(tf.reshape(weights, [batch, size * size]))
    centres = tf.random.stateless_categorical(logits, max(slots, 1), place_seed, dtype=tf.int32)[:, :slots]
    low, high = patch_sides(size)
    sides = tf.random.stateless_uniform(
        [batch, slots], side_seed, minval=low, maxval=high + 1, dtype=tf.int32
    )
    top = tf.clip_by_value(centres // size - sides // 2, 0, size - sides)
    left = tf.clip_by_value(centres % size - sides // 2, 0, size - sides)
    boxes = tf.stack([top, left, top + sides, left + sides], axis=-1)  # (B, K, 4)

    box_colors = _box_means(colors, boxes)
    painted, mask = _paint(boxes, box_colors, active, size)
    return Hints(painted, mask, boxes, box_colors, active)


def _box_means(colors: tf.Tensor, boxes: tf.Tensor) -> tf.Tensor:
    """Mean colour of each box, from four lookups in an integral image per channel."""
    integral = tf.pad(tf.cumsum(tf.cumsum(colors, axis=1), axis=2), [[0, 0], [1, 0], [1, 0], [0, 0]])
    batch, slots = tf.shape(boxes)[0], tf.shape(boxes)[1]
    image = tf.broadcast_to(tf.range(batch)[:, None], [batch, slots])

    def at(row, column):
        return tf.gather_nd(integral, tf.stack([image, row, column], axis=-1))  # (B, K, 3)

    top, left, bottom, right = tf.unstack(boxes, axis=-1)
    total = at(bottom, right) - at(top, right) - at(bottom, left) + at(top, left)
    area = tf.cast((bottom - top) * (right - left), tf.float32)[..., None]
    return total / area


def _paint(
    boxes: tf.Tensor, box_colors: tf.Tensor, active: tf.Tensor, size: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """The hint image and mask: each active box filled with its colour, later boxes on top."""
    top, left, bottom, right = (b[..., None, None] for b in tf.unstack(boxes, axis=-1))  # (B, K, 1, 1)
    rows = tf.range(size)[None, None, :, None]
    columns = tf.range(size)[None, None, None, :]
    inside = (rows >= top) & (rows < bottom) & (columns >= left) & (columns < right)  # (B, K, S, S)
    inside &= active[..., None, None]
    slots = tf.shape(boxes)[1]
    order = tf.where(inside, tf.range(1, slots + 1)[None, :, None, None], 0)
    owner = tf.argmax(order, axis=1, output_type=tf.int32)  # the last box that covers each pixel
    covered = tf.reduce_any(inside, axis=1)  # (B, S, S)
    painted = tf.gather(box_colors, owner, batch_dims=1)  # (B, S, S, 3)
    mask = tf.cast(covered, tf.float32)[..., None]
    return painted * mask, mask


def as_rgba(hints: Hints) -> np.ndarray:
    """The hints as uint8 RGBA images (alpha 255 on a hint), the form users and backends hand over."""
    mask = hints.mask.numpy()
    rgb = from_model_output(hints.colors.numpy())
    return np.concatenate([rgb, (mask * 255).astype(np.uint8)], axis=-1)


def draw_for_evaluation(
    colors_uint8: np.ndarray,
    sketches_uint8: np.ndarray,
    count: int,
    config: HintsConfig,
    seed: int,
    batch_index: int,
) -> Hints:
    """``count`` hints per ground truth and sketch (uint8 (N, S, S, 3)), reproducible from
    (seed, batch_index)."""
    colors = tf.constant(to_model_input(colors_uint8))
    sketches = tf.constant(to_model_input(sketches_uint8))
    return sample_hints(colors, sketches, tf.constant([seed, batch_index], tf.int64), config, count=count)
