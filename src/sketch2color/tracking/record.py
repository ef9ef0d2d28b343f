"""``models/mlflow_run.json``: how a training's MLflow run is found again after it ends.

The train stage writes it; the evaluate and export stages read it to log to
that same run, and a resumed training reads it to reopen the run. Nothing
here imports MLflow, so reading the record costs nothing when the store is
never reached.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sketch2color.paths import ProjectPaths

log = logging.getLogger(__name__)

RUN_RECORD_NAME = "mlflow_run.json"


@dataclass(frozen=True)
class RunRecord:
    """What later stages (evaluate, export) and a resumed training need to find the run.

    Written to ``models/mlflow_run.json``.
    """

    run_id: str
    experiment_id: str
    experiment_name: str
    tracking_uri: str
    run_name: str
    params_hash: str
    git_commit: str
    resumed: bool
    registered_model_name: str
    registered_model_version: int | None = None
    logged_model_uri: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def read(cls, path: Path) -> RunRecord | None:
        """The record at ``path``, or None if it is missing or not a record (warned)."""
        try:
            raw = load_record(path)
            names = {f.name for f in dataclasses.fields(cls)}
            return cls(**{k: v for k, v in raw.items() if k in names})
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            log.warning("MLflow: ignoring unreadable run record %s (%s)", path, exc)
            return None


def run_record_path(paths: ProjectPaths) -> Path:
    return paths.models / RUN_RECORD_NAME


def load_record(path: Path) -> dict[str, Any]:
    """The record file's JSON object as written, with no field required.

    Readers differ in what they insist on: a resumed training needs the full
    :class:`RunRecord`, the later stages only a ``run_id``. Raises OSError
    (FileNotFoundError when missing), ValueError for bad JSON, TypeError when
    the JSON is not an object.
    """
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise TypeError(f"expected a JSON object, got {type(raw).__name__}")
    return raw
