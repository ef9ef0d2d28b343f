"""``fetch.source: kaggle_local``: the Kaggle pair archive, or its unpacked folder, on disk."""

from __future__ import annotations

from pathlib import Path

from sketch2color.config import Params
from sketch2color.data.fetch.kaggle_layout import import_kaggle_tree, import_kaggle_zip
from sketch2color.data.fetch.report import FetchReport
from sketch2color.paths import ProjectPaths


def build(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    origin = params.fetch.source_path(paths.root)
    assert origin is not None  # config: kaggle_local requires fetch.path
    report = FetchReport(source="kaggle_local", origin=str(origin))
    if origin.is_dir():
        import_kaggle_tree(origin, staging, params.fetch.safety, report, owned=False)
    else:
        import_kaggle_zip(origin, staging, paths, params.fetch.safety, report)
    return report
