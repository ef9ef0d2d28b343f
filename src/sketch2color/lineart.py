"""What the pixels of line art mean: line, paper and fill.

The one home of each rule, in its numpy form (uint8 images) and, where a
graph needs it, its TensorFlow form (images in the model's [-1, 1] range),
so that the data, training, evaluation and the inference layer can never
disagree about which pixel is a line.

* **Line** (:data:`LINE_LEVEL`): a sketch pixel whose darkest channel is
  below mid-grey. It is the ink the model sees and the metrics leave out: an
  anti-aliased edge lighter than half its stroke is counted as paper, so a
  line's share of a drawing does not grow with its blur. The fill that
  carries a user's dabs across a drawing has its own, lighter rule for what
  stops colour, so pencil strokes are walls too
  (:data:`sketch2color.inference.regions.DEFAULT_LINE_DARKNESS`).
* **Paper** (:data:`PAPER_LEVEL`): a ground-truth pixel with every channel
  near white. JPEG-like noise and a faint paper tone stay paper.
* **Fill**: neither line in the sketch nor paper in the truth: the pixels an
  artist coloured, which the fill colour difference scores and the hint
  sampler aims at.

Which pixels of a hint image are dabs is part of the model's input contract,
beside its channels: :func:`sketch2color.pixels.hint_mask`.
"""

from __future__ import annotations

import numpy as np

from sketch2color.pixels import to_model_input

LINE_LEVEL = 128
"""A sketch pixel whose darkest channel is below this (uint8) is line."""
PAPER_LEVEL = 245
"""A ground-truth pixel with every channel at least this (uint8) is white paper."""


def line_mask(sketch: np.ndarray) -> np.ndarray:
    """(..., H, W) bool: the line pixels of uint8 RGB sketches (..., H, W, 3)."""
    return sketch.min(axis=-1) < LINE_LEVEL


def paper_mask(color: np.ndarray) -> np.ndarray:
    """(..., H, W) bool: the white-paper pixels of uint8 RGB pictures."""
    return color.min(axis=-1) >= PAPER_LEVEL


def fill_mask(sketches: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(..., H, W) bool: the pixels the artist coloured: not line in the sketch, not paper in the truth."""
    return ~line_mask(sketches) & ~paper_mask(targets)


# ---------------------------------------------------------------- tensor forms (model range)


def _in_model_range(level: int) -> float:
    return float(to_model_input(np.array(level, np.uint8)))


def line_mask_tensor(sketches):
    """(B, S, S) bool: :func:`line_mask` of sketches in the model's [-1, 1] range."""
    import tensorflow as tf

    return tf.reduce_any(sketches < _in_model_range(LINE_LEVEL), axis=-1)


def paper_mask_tensor(colors):
    """(B, S, S) bool: :func:`paper_mask` of pictures in the model's [-1, 1] range."""
    import tensorflow as tf

    return tf.reduce_all(colors >= _in_model_range(PAPER_LEVEL), axis=-1)
