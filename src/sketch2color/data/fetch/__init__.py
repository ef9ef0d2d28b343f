"""Filling ``data/raw`` with Kaggle-format pairs from one source (the ``fetch`` stage's work).

Every source ends in the same layout, so the later stages never care where the
pairs came from::

    data/raw/train/**.png        colour | sketch side by side (W = 2H)
    data/raw/val/**.png          optional (the Kaggle archive's val/ folder)
    data/raw/fetch_report.json   source, licence, counts, every skipped or excluded item
    data/raw/pair_groups.json    optional: pairs that are variants of one drawing

One module per source (``fetch.source``), each with a ``build(params, paths,
staging)`` that writes into ``staging`` and returns its report. The whole of
``data/raw`` is built under a temporary name and swapped in at the end, so a
failed fetch leaves the previous ``data/raw`` intact. One bad file is skipped
and listed with its reason, never fatal; only a source with nothing usable
stops the stage, with a message naming the folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sketch2color.atomic import atomic_directory, write_json
from sketch2color.config import FetchSource, Params
from sketch2color.data.fetch import color_folder, kaggle_api, kaggle_local, openmoji, synthetic, url
from sketch2color.data.fetch.kaggle_layout import find_kaggle_layout
from sketch2color.data.fetch.report import FetchReport
from sketch2color.paths import ProjectPaths

__all__ = ["SOURCES", "FetchReport", "fetch", "find_kaggle_layout"]

Source = Callable[[Params, ProjectPaths, Path], FetchReport]

SOURCES: dict[FetchSource, Source] = {
    "synthetic": synthetic.build,
    "kaggle_local": kaggle_local.build,
    "url": url.build,
    "kaggle_api": kaggle_api.build,
    "color_folder": color_folder.build,
    "openmoji": openmoji.build,
}


def fetch(params: Params, paths: ProjectPaths) -> FetchReport:
    """Build ``data/raw`` from ``params.fetch.source`` and return what was done."""
    params.fetch.source_path(paths.root)  # a missing fetch.path fails here, before any work
    build = SOURCES[params.fetch.source]
    with atomic_directory(paths.raw) as staging:
        report = build(params, paths, staging)
        write_json(staging / paths.FETCH_REPORT, report.to_dict())
    report.log_summary(paths.fetch_report)
    return report
