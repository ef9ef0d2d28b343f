"""DVC stage ``split``: data/raw -> train/val/test shards in data/split, with a manifest.

The paper's Function 1 and the deterministic assignment are :mod:`sketch2color.data.split`.
"""

from __future__ import annotations

from sketch2color.config import Params
from sketch2color.data.split import split_dataset
from sketch2color.paths import ProjectPaths


def run(params: Params, paths: ProjectPaths) -> None:
    split_dataset(params, paths)
