"""The paper's validation figure (its Function 2), as an image array.

One row per fixed validation example: the input sketch, the ground truth and
the generator's prediction, each titled, with the epoch above them. Logged to
MLflow once per epoch under one key, it becomes a step slider that shows the
generator learning; saved as PNG it is the same picture on disk.

Drawn on a private Agg canvas (``matplotlib.figure.Figure``, not pyplot), so
it needs no display, touches no global matplotlib state and frees its memory
when the function returns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sketch2color.pixels import from_model_output

DEFAULT_TITLES = ("Input Sketch", "Ground Truth", "Predicted Image")
PANEL_INCHES = 2.6
DPI = 80


def render_validation_figure(
    sketches: np.ndarray | Sequence[np.ndarray],
    targets: np.ndarray | Sequence[np.ndarray],
    predictions: np.ndarray | Sequence[np.ndarray],
    titles: tuple[str, str, str] = DEFAULT_TITLES,
    *,
    epoch: int,
) -> np.ndarray:
    """Return the figure as a uint8 RGB array (height x width x 3).

    Each of ``sketches``, ``targets``, ``predictions`` is N images of HxWx3
    (or HxWx1), either uint8 or floats in the model's [-1, 1] range (tensors
    are fine). ``epoch`` is keyword-only: it follows ``titles``, which has a
    default.
    """
    if len(titles) != 3:
        raise ValueError(f"titles: expected 3 titles (sketch, truth, prediction), got {titles!r}")
    columns = [
        _as_display_images(sketches, "sketches"),
        _as_display_images(targets, "targets"),
        _as_display_images(predictions, "predictions"),
    ]
    counts = {len(c) for c in columns}
    if len(counts) != 1:
        raise ValueError(
            "sketches, targets and predictions must hold the same number of images, got "
            f"{len(columns[0])}, {len(columns[1])} and {len(columns[2])}"
        )
    rows = counts.pop()
    if rows == 0:
        raise ValueError("render_validation_figure needs at least one example")

    figure = Figure(figsize=(3 * PANEL_INCHES, rows * PANEL_INCHES + 0.4), dpi=DPI)
    canvas = FigureCanvasAgg(figure)
    axes = figure.subplots(rows, 3, squeeze=False)
    for row in range(rows):
        for col in range(3):
            ax = axes[row][col]
            ax.imshow(columns[col][row], interpolation="nearest")
            ax.set_title(titles[col], fontsize=10)
            ax.axis("off")
    figure.suptitle(f"Epoch {epoch}", fontsize=12)
    figure.tight_layout()
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., :3])


def _as_display_images(images: np.ndarray | Sequence[np.ndarray], name: str) -> np.ndarray:
    """N x H x W x 3 uint8, from uint8 or [-1, 1] floats."""
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[..., np.newaxis] if array.shape[-1] not in (1, 3) else array[np.newaxis]
    if array.ndim != 4 or array.shape[-1] not in (1, 3):
        raise ValueError(f"{name}: expected N x H x W x 3 images, got shape {array.shape}")
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{name}: expected uint8 or float images, got {array.dtype}")
    return from_model_output(np.nan_to_num(array.astype(np.float32)))
