"""Logging evaluate and export results to the MLflow run that trained the model.

One training = one MLflow run: the train stage writes its run id (and the
registered model name and version) to ``models/mlflow_run.json``, and the
later stages add their metrics and files to that same run, so ``mlflow ui``
shows losses, eval scores, samples and exported files side by side.

Tracking is a record of the results, not the results themselves: the stage's
own outputs (``metrics/*.json``, images, exported models) are what DVC
tracks. So nothing here ever raises. When the record file is missing, the
store cannot be reached or the run is not in it, one warning says why and
the stage goes on; each later call that fails also warns, once per call.

The record file is :mod:`sketch2color.tracking.record`; MLflow itself is
imported when first used, so importing this module stays free of it for a
stage that never reaches the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sketch2color.paths import ProjectPaths
from sketch2color.tracking.record import RunRecord

log = logging.getLogger(__name__)

T = TypeVar("T")


def read_run_record(paths: ProjectPaths) -> RunRecord | None:
    """The training's run record, or None (with a warning) when there is no usable one."""
    path = paths.run_record
    try:
        return RunRecord.read(path)
    except FileNotFoundError:
        log.warning(
            "MLflow: %s not found (was the model trained by the train stage?); "
            "results are written locally only",
            path,
        )
    except (OSError, ValueError, TypeError) as exc:
        log.warning(
            "MLflow: %s is unreadable or has no run_id (%s: %s); results are written locally only",
            path,
            type(exc).__name__,
            exc,
        )
    return None


class TrainingRunLink:
    """A client bound to the training's run; every method warns instead of raising."""

    def __init__(self, client, record: RunRecord, uri: str) -> None:
        self._client = client
        self.record = record
        self.uri = uri

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @classmethod
    def open(cls, paths: ProjectPaths) -> TrainingRunLink | None:
        """Connect to the store and find the run; None (and a warning) if either fails."""
        record = read_run_record(paths)
        if record is None:
            return None
        uri = "?"
        try:
            from sketch2color.tracking.lookup import get_run
            from sketch2color.tracking.store import (
                apply_client_defaults,
                check_reachable,
                resolve_tracking_uri,
                sqlite_db_path,
            )

            uri = resolve_tracking_uri(paths)
            apply_client_defaults()
            check_reachable(uri)
            db_path = sqlite_db_path(uri)
            if db_path is not None and not db_path.exists():
                # Opening a missing sqlite store would create an empty one, which
                # cannot hold the training's run anyway.
                raise FileNotFoundError(f"no MLflow database at {db_path}")

            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri=uri)
            get_run(client, record.run_id)
        except Exception as exc:  # noqa: BLE001 - any failure means "log locally only"
            hint = ""
            if record.tracking_uri and record.tracking_uri != uri:
                hint = f" (the model was trained with tracking URI {record.tracking_uri})"
            log.warning(
                "MLflow: cannot reach training run %s at %s%s: %s: %s; results are written locally only",
                record.run_id,
                uri,
                hint,
                type(exc).__name__,
                _first_line(exc),
            )
            return None
        log.info("MLflow: logging to training run %s at %s", record.run_id, uri)
        return cls(client, record, uri)

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> bool:
        from mlflow.entities import Metric

        from sketch2color.tracking.store import retry_when_locked

        timestamp = _now_ms()
        entries = [Metric(key, float(value), timestamp, step) for key, value in metrics.items()]
        return self._attempt(
            lambda: retry_when_locked(
                lambda: self._client.log_batch(self.run_id, metrics=entries), "logging metrics"
            ),
            f"logging {len(entries)} metrics",
        )

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> bool:
        return self._attempt(
            lambda: self._client.log_artifact(self.run_id, str(path), artifact_path),
            f"logging artifact {path}",
        )

    def log_artifacts(self, folder: Path, artifact_path: str | None = None) -> bool:
        return self._attempt(
            lambda: self._client.log_artifacts(self.run_id, str(folder), artifact_path),
            f"logging artifacts from {folder}",
        )

    def set_run_tags(self, tags: Mapping[str, Any]) -> bool:
        from sketch2color.tracking.store import retry_when_locked

        def action() -> None:
            for key, value in tags.items():
                retry_when_locked(
                    partial(self._client.set_tag, self.run_id, key, str(value)), "tagging the run"
                )

        return self._attempt(action, "tagging the training run")

    def tag_model_version(self, name: str, version: int, tags: Mapping[str, Any]) -> bool:
        from sketch2color.tracking.store import retry_when_locked

        def action() -> None:
            for key, value in tags.items():
                retry_when_locked(
                    partial(self._client.set_model_version_tag, name, str(version), key, str(value)),
                    "tagging the model version",
                )

        return self._attempt(action, f"tagging model version {name} v{version}")

    def call(self, action: Callable[[], T], what: str) -> T | None:
        """Run one store action of the caller's (registering a model, say); its result, or None
        with a warning naming ``what`` when it failed."""
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - tracking never fails a stage
            log.warning(
                "MLflow: %s failed (%s: %s); the local outputs are complete",
                what,
                type(exc).__name__,
                _first_line(exc),
            )
            return None

    def _attempt(self, action: Callable[[], object], what: str) -> bool:
        def run() -> bool:
            action()
            return True

        return self.call(run, what) is not None


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""
