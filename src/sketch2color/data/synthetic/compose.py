"""The pair composer: a planned scene drawn as one Kaggle-format pair, and its PNG bytes.

Every pair draws its own random generator from ``(seed, index)``, so pairs
can be made in any order, by any number of processes, and the bytes never
depend on how the work was shared out.
"""

from __future__ import annotations

import cv2
import numpy as np

from sketch2color.data.synthetic.painter import Painter
from sketch2color.data.synthetic.scene import Scene, plan_scene

# Fixed so that the same pixels always give the same file bytes.
PNG_COMPRESSION = 3


def render_scene(scene: Scene, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw a scene as (colour HxWx3 RGB, sketch HxW grey), both uint8 and size x size."""
    painter = Painter(size, scene.ink)
    scene.background.paint(painter)
    for obj in scene.sky:
        obj.draw(painter)
    for mountain in scene.mountains:
        mountain.draw(painter)
    scene.background.stroke_lines(painter, scene.width)
    for obj in scene.ground:
        obj.draw(painter)
    return painter.color, painter.sketch


def generate_pair(index: int, seed: int, height: int = 512) -> np.ndarray:
    """One pair as an RGB uint8 array of height x 2*height: colour left, sketch right."""
    if height < 16:
        raise ValueError(f"synthetic pair height must be at least 16 pixels, got {height}")
    rng = np.random.default_rng([seed, index])
    color, sketch = render_scene(plan_scene(rng), height)
    return np.concatenate([color, np.repeat(sketch[:, :, None], 3, axis=2)], axis=1)


def encode_png(pair: np.ndarray) -> bytes:
    """PNG bytes of an RGB array (cv2 wants BGR), at a fixed compression level."""
    ok, buffer = cv2.imencode(
        ".png", np.ascontiguousarray(pair[:, :, ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION]
    )
    if not ok:
        raise RuntimeError("cv2 could not encode a synthetic pair as PNG")
    return buffer.tobytes()
