"""Small builders shared by the tests: raw pair files and hostile files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def pair_image(index: int, height: int = 32) -> np.ndarray:
    """A Kaggle-format pair (colour left, sketch right) that encodes its index in its pixels."""
    rng = np.random.default_rng(index)
    colour = np.full((height, height, 3), rng.integers(40, 220, size=3), np.uint8)
    sketch = np.full((height, height, 3), 255, np.uint8)
    cv2.line(sketch, (2, index % height), (height - 3, height - 1 - index % height), (0, 0, 0), 1)
    return np.concatenate([colour, sketch], axis=1)


def write_pair_png(path: Path, index: int, height: int = 32) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", cv2.cvtColor(pair_image(index, height), cv2.COLOR_RGB2BGR))
    assert ok
    path.write_bytes(data.tobytes())
    return path


def write_raw_pairs(raw: Path, count: int, folder: str = "train", height: int = 32) -> list[Path]:
    return [write_pair_png(raw / folder / f"{i:04d}.png", i, height) for i in range(count)]
