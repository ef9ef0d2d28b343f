"""MLflow tracking for training: where runs are stored, and one run per training.

* :mod:`.store` - which store, whether it can be used now, sqlite locking;
* :mod:`.run` - the run of one training (:class:`TrainingRun`);
* :mod:`.record` - ``models/mlflow_run.json``, how later stages find that run;
* :mod:`.run_link` - evaluate and export logging into the training's run;
* :mod:`.lookup` - finding a run in the store;
* :mod:`.identity` - params hash, git commit and run name;
* :mod:`.registry` - logging and registering the generator model.

The names below are imported on first use: :mod:`.store` and :mod:`.record`
must stay importable without MLflow (the evaluate and export stages read the
record, and a training checks the store, before MLflow is worth loading).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "RunRecord": "sketch2color.tracking.record",
    "TrackingUnavailable": "sketch2color.tracking.store",
    "TrainingRun": "sketch2color.tracking.run",
    "check_reachable": "sketch2color.tracking.store",
    "resolve_tracking_uri": "sketch2color.tracking.store",
    "TrainingRunLink": "sketch2color.tracking.run_link",
}

__all__ = [
    "RunRecord",
    "TrackingUnavailable",
    "TrainingRun",
    "check_reachable",
    "resolve_tracking_uri",
    "TrainingRunLink",
]

if TYPE_CHECKING:
    from sketch2color.tracking.record import RunRecord
    from sketch2color.tracking.run import TrainingRun
    from sketch2color.tracking.run_link import TrainingRunLink
    from sketch2color.tracking.store import TrackingUnavailable, check_reachable, resolve_tracking_uri


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
