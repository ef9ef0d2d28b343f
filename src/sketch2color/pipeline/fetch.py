"""DVC stage ``fetch``: fill data/raw with Kaggle-format pairs from ``fetch.source``.

The sources are :mod:`sketch2color.data.fetch`.
"""

from __future__ import annotations

from sketch2color.config import Params
from sketch2color.data.fetch import fetch
from sketch2color.paths import ProjectPaths


def run(params: Params, paths: ProjectPaths) -> None:
    fetch(params, paths)
