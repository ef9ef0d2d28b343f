"""``models/mlflow_run.json``: how a training's MLflow run is found again after it ends.

The train stage writes it; the evaluate and export stages read it to log to
that same run (:mod:`sketch2color.tracking.run_link`). A resumed training
finds its run through the checkpoint fingerprint instead, which survives a
kill before this file is written. Nothing here imports MLflow, so reading the
record costs nothing when the store is never reached.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunRecord:
    """What the later stages (evaluate, export) need to find the training's run again.

    Written whole by the train stage to ``models/mlflow_run.json``. Only
    ``run_id`` is required when reading: a record that names nothing else
    (hand-written, or from an older train stage) must still link the results
    to that run.
    """

    run_id: str
    experiment_id: str | None = None
    experiment_name: str | None = None
    tracking_uri: str | None = None
    run_name: str | None = None
    params_hash: str | None = None
    git_commit: str | None = None
    resumed: bool = False
    keras_model_uri: str | None = None
    """The generator network (Keras flavour); the export stage logs and registers the colorizer."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def read(cls, path: Path) -> RunRecord:
        """The record at ``path``; raises OSError (FileNotFoundError when missing) or
        ValueError (not JSON, not an object, no ``run_id``). Fields it does not know (from an
        older train stage) are ignored."""
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not isinstance(raw.get("run_id"), str) or not raw["run_id"]:
            raise ValueError("expected a JSON object with a run_id")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})
