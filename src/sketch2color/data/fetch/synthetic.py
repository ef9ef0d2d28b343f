"""``fetch.source: synthetic`` (the default): procedural scenes drawn locally from the seed.

The generator itself is :mod:`sketch2color.data.synthetic`; this is its
adapter to the fetch stage.
"""

from __future__ import annotations

from pathlib import Path

from sketch2color.config import Params
from sketch2color.data.fetch.report import FetchReport
from sketch2color.paths import ProjectPaths


def build(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    from sketch2color.data.synthetic import write_synthetic_dataset

    count = write_synthetic_dataset(staging, params.fetch.synthetic, params.seed)
    return FetchReport(source="synthetic", origin=f"procedural, seed {params.seed}", counts={"train": count})
