"""``fetch.source: kaggle_api``: the Kaggle archive downloaded with the ``kaggle`` command.

Needs the Kaggle command-line tool and credentials; a clear error says which
is missing and how to get around it (download by hand, ``kaggle_local``).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sketch2color.config import Params
from sketch2color.data.fetch.kaggle_layout import import_kaggle_zip
from sketch2color.data.fetch.report import FetchReport
from sketch2color.errors import DataError, Sketch2ColorError
from sketch2color.paths import ProjectPaths

log = logging.getLogger(__name__)


def build(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    archive = download_with_kaggle_api(params.fetch.kaggle_dataset, paths.downloads)
    report = FetchReport(source="kaggle_api", origin=params.fetch.kaggle_dataset)
    import_kaggle_zip(archive, staging, paths, params.fetch.safety, report)
    return report


def kaggle_setup_problems() -> list[str]:
    """What is missing for the Kaggle API source; empty when it can run."""
    problems = []
    if _kaggle_command() is None:
        problems.append(
            "the `kaggle` command is not installed "
            "(pip install 'sketch2color[kaggle]', or pip install kaggle)"
        )
    if not _kaggle_credentials_present():
        problems.append(
            "no Kaggle credentials: create an API token on your Kaggle account page and save it "
            "as ~/.kaggle/kaggle.json (chmod 600; KAGGLE_CONFIG_DIR moves that folder), or set "
            "both KAGGLE_USERNAME and KAGGLE_KEY"
        )
    return problems


def download_with_kaggle_api(dataset: str, downloads: Path) -> Path:
    """Run ``kaggle datasets download`` and return the zip it wrote."""
    problems = kaggle_setup_problems()
    if problems:
        raise Sketch2ColorError(
            "fetch.source is 'kaggle_api' but "
            + "; and ".join(problems)
            + ". Alternatively download the archive yourself and set fetch.source: kaggle_local "
            "with fetch.path pointing at it."
        )
    command = _kaggle_command()
    assert command is not None
    downloads.mkdir(parents=True, exist_ok=True)
    log.info("downloading Kaggle dataset %s with the kaggle command", dataset)
    result = subprocess.run(
        [command, "datasets", "download", "-d", dataset, "-p", str(downloads)], check=False
    )
    if result.returncode != 0:
        raise Sketch2ColorError(
            f"kaggle datasets download -d {dataset} failed with exit code {result.returncode} "
            "(its message is above); check fetch.kaggle_dataset and your Kaggle credentials"
        )
    slug = dataset.rsplit("/", 1)[-1]
    archive = downloads / f"{slug}.zip"
    if not archive.is_file():
        raise DataError(f"{downloads}: the kaggle command finished but {archive.name} is not there")
    return archive


def _kaggle_command() -> str | None:
    found = shutil.which("kaggle")
    if found:
        return found
    beside_python = Path(sys.executable).parent / "kaggle"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return None


def _kaggle_credentials_present() -> bool:
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    folders = [Path.home() / ".kaggle"]
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        folders.insert(0, Path(os.environ["KAGGLE_CONFIG_DIR"]).expanduser())
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    folders.append(Path(xdg) / "kaggle")
    return any((folder / "kaggle.json").is_file() for folder in folders)
