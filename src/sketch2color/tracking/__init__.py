"""MLflow tracking for training: where runs are stored, and one run per training."""

from sketch2color.tracking.run import RunRecord, TrainingRun, run_record_path
from sketch2color.tracking.store import TrackingUnavailable, check_reachable, resolve_tracking_uri

__all__ = [
    "RunRecord",
    "TrackingUnavailable",
    "TrainingRun",
    "check_reachable",
    "resolve_tracking_uri",
    "run_record_path",
]
