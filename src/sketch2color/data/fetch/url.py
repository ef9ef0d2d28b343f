"""``fetch.source: url``: a Kaggle-layout zip downloaded over http(s), checked by its sha256."""

from __future__ import annotations

from pathlib import Path

from sketch2color.config import Params
from sketch2color.data.fetch.download import download
from sketch2color.data.fetch.kaggle_layout import import_kaggle_zip
from sketch2color.data.fetch.report import FetchReport
from sketch2color.paths import ProjectPaths


def build(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    url, sha256 = params.fetch.url, params.fetch.sha256
    assert url is not None and sha256 is not None  # config: the url source requires both
    archive = download(url, sha256, paths.downloads, max_bytes=params.fetch.safety.max_total_bytes)
    report = FetchReport(source="url", origin=url, sha256=sha256.lower())
    import_kaggle_zip(archive, staging, paths, params.fetch.safety, report)
    return report
