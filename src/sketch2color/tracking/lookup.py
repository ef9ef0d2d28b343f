"""Finding a run in the store, shared by a resumed training and the later stages."""

from __future__ import annotations

from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from sketch2color.tracking.store import retry_when_locked


def get_run(client: MlflowClient, run_id: str) -> Any:
    """The run ``run_id``, retried on a locked sqlite store; MLflow's error if there is none."""
    return retry_when_locked(lambda: client.get_run(run_id), f"looking up run {run_id}")


def find_run(client: MlflowClient, run_id: str) -> Any | None:
    """The run ``run_id`` if the store has it and it is not deleted, else None.

    Other store faults raise: "not there" and "cannot ask" need different
    answers from a resumed training.
    """
    try:
        run = get_run(client, run_id)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    return None if run.info.lifecycle_stage == "deleted" else run


def active_run_id() -> str | None:
    """The id of MLflow's active run in this process (a local lookup, no store call)."""
    active = mlflow.active_run()
    return active.info.run_id if active is not None else None
