"""Tiny training setups for the training tests: shards, params and a recording tracker."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sketch2color.config import Params, params_from_dict
from sketch2color.data.shards import Pair, write_shards
from sketch2color.paths import ProjectPaths

SIZE = 32


def tiny_train_params(**train: Any) -> dict[str, Any]:
    """A params.yaml mapping for 32 px, 8-wide models and a few steps (override train keys)."""
    settings = {
        "epochs": 2,
        "batch_size": 4,
        "ngf": 8,
        "ndf": 8,
        "decay_epochs": 1,
        "checkpoint_every_steps": 2,
        "log_every_steps": 2,
        "validation_examples": 2,
        "shuffle_buffer": 64,
        "experiment_name": "tiny",
        "mixed_precision": False,  # float32 on every machine: the tests compare exact steps
        # The paper's loss weight and rate, and no hint channels: what these tests were sized for.
        "lambda_l1": 100.0,
        "learning_rate": 2e-4,
        "hints": {"enabled": False},
    }
    settings.update(train)
    return {"seed": 7, "data": {"image_size": SIZE}, "train": settings}


def tiny_params(**train: Any) -> Params:
    return params_from_dict(tiny_train_params(**train))


def pair(index: int, size: int = SIZE) -> Pair:
    """A circle outline (the sketch) and its filled, coloured disc (the colour image)."""
    rng = np.random.default_rng(index)
    yy, xx = np.mgrid[0:size, 0:size] / size
    cx, cy, r = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.15, 0.3)
    distance = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    sketch = np.where(np.abs(distance - r) < 0.03, 0, 255).astype(np.uint8)
    color = np.where((distance < r)[..., None], rng.integers(0, 256, 3), [230, 230, 230]).astype(np.uint8)
    return Pair(np.stack([sketch] * 3, axis=-1), color, f"pair-{index:03d}")


def write_tiny_project(root: Path, train_pairs: int = 16, val_pairs: int = 2) -> ProjectPaths:
    paths = ProjectPaths(root)
    write_shards([pair(i) for i in range(train_pairs)], paths.augmented, "train", 2)
    write_shards([pair(1000 + i) for i in range(val_pairs)], paths.split, "val", 1)
    return paths


class RecordingTracker:
    """Stands in for the MLflow run in loop tests: remembers what was logged."""

    def __init__(self) -> None:
        self.metrics: list[tuple[int, dict[str, float]]] = []
        self.images: list[tuple[str, tuple[int, ...], int]] = []

    def last_logged_step(self, key: str) -> int:
        return max((step for step, values in self.metrics if key in values), default=-1)

    def last_logged_image_step(self, key: str) -> int:
        return max((step for logged, _, step in self.images if logged == key), default=-1)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        self.metrics.append((step, dict(metrics)))

    def log_image(self, key: str, image: np.ndarray, step: int) -> None:
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        self.images.append((key, image.shape, step))

    def steps_of(self, key: str) -> list[int]:
        return [step for step, values in self.metrics if key in values]
