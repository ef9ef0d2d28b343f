"""One training = one MLflow run, and tracking never stops training.

The contract with the training loop:

* :meth:`TrainingRun.start` fails fast and loudly: an unreachable store is a
  :class:`TrackingUnavailable` within seconds, before any weight is trained.
* After that, nothing here raises for a tracking fault. If the server goes
  away mid-run, the log calls warn once, count what they could not record
  (:attr:`TrainingRun.dropped`), pause for a while so a dead server does not
  cost seconds per step, and try again later. Local outputs (checkpoints,
  CSV, JSON metrics) are the training loop's and stay complete.
* A training resumed from a checkpoint reopens its run, so the step slider
  in the MLflow UI covers the whole training; :meth:`last_logged_step` lets
  the loop skip steps the run already has.

sqlite stores shared by parallel experiments are handled by
:mod:`sketch2color.tracking.store` (file lock for one-off steps, retries on
"database is locked"). The run record file is :mod:`~sketch2color.tracking.record`,
the tags that identify a run :mod:`~sketch2color.tracking.identity`, and
logging the generator network :mod:`~sketch2color.tracking.registry`
(the export stage registers the colorizer: :mod:`sketch2color.export.registration`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException

from sketch2color import atomic
from sketch2color.config import Params
from sketch2color.paths import ProjectPaths
from sketch2color.tracking.identity import default_run_name, git_commit, params_hash
from sketch2color.tracking.lookup import active_run_id, find_run
from sketch2color.tracking.record import RunRecord
from sketch2color.tracking.registry import generator_signature, log_generator_network
from sketch2color.tracking.store import (
    TrackingUnavailable,
    apply_client_defaults,
    check_reachable,
    default_artifact_location,
    resolve_tracking_uri,
    retry_when_locked,
    store_lock,
)

if TYPE_CHECKING:
    import keras


log = logging.getLogger(__name__)

T = TypeVar("T")

IMAGES_ARTIFACT_FOLDER = "images"  # where MLflow's log_image(key=..., step=...) puts its files
# MLflow accepts at most 100 params in one log_batch call.
PARAMS_PER_BATCH = 100
# After a failed call, further calls are dropped without trying for this
# long: a dead server would otherwise cost its retry time on every step.
PAUSE_AFTER_FAILURE_S = 30.0
# Errors that say "your request is wrong", not "the store is gone": a bad key
# is reported and dropped, but does not pause the logging of everything else.
_REQUEST_ERROR_CODES = {"INVALID_PARAMETER_VALUE", "BAD_REQUEST"}


# ---------------------------------------------------------------- what was lost


@dataclass
class _NotLogged:
    """What failed to reach the store, so the end-of-run warning can say exactly that."""

    metric_keys: set[str] = field(default_factory=set)
    metric_steps: list[int] = field(default_factory=list)
    image_steps: dict[str, list[int]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    def add_metrics(self, keys: list[str], step: int) -> None:
        self.metric_keys.update(keys)
        self.metric_steps.append(step)

    def add_image(self, key: str, step: int) -> None:
        self.image_steps.setdefault(key, []).append(step)

    def describe(self) -> str:
        parts = []
        if self.metric_steps:
            parts.append(
                f"metrics {', '.join(sorted(self.metric_keys))} at {len(self.metric_steps)} "
                f"step(s) from {min(self.metric_steps)} to {max(self.metric_steps)}"
            )
        for key, steps in sorted(self.image_steps.items()):
            parts.append(f"image '{key}' at step(s) {', '.join(map(str, steps))}")
        parts.extend(self.other)
        return "; ".join(parts) or "nothing"


# ---------------------------------------------------------------- the run


class TrainingRun:
    """The MLflow run of one training. Build it with :meth:`start`."""

    def __init__(self, client: MlflowClient, record: RunRecord, record_path: Path, tracking_uri: str) -> None:
        self._client = client
        self._record = record
        self._record_path = record_path
        self.run_id: str = record.run_id
        self.tracking_uri = tracking_uri
        self.dropped: int = 0
        self._not_logged = _NotLogged()
        self._warned = False
        self._paused_until = 0.0
        self._finished = False

    # ------------------------------------------------------------ start

    @classmethod
    def start(
        cls,
        params: Params,
        paths: ProjectPaths,
        resume_run_id: str | None = None,
        facts: Mapping[str, str] | None = None,
    ) -> TrainingRun:
        """Open the run for this training; raise TrackingUnavailable if the store can't be used.

        A new run gets the DVC experiment's name, identity tags, ``facts``
        (tags for what the params leave to the machine, such as the precision
        ``auto`` resolved to) and every param. With ``resume_run_id`` naming a
        run the store still has, that run is reopened as it is (its params and
        tags were set when it started; a resume never changes those facts,
        since the checkpoint fingerprint holds them).
        """
        uri = resolve_tracking_uri(paths)
        check_reachable(uri)
        apply_client_defaults()
        mlflow.set_tracking_uri(uri)

        experiment_name = params.train.experiment_name
        dvc_exp_name = os.environ.get("DVC_EXP_NAME", "").strip()
        run_name = dvc_exp_name or default_run_name()
        identity = {"git_commit": git_commit(Path.cwd()), "params_hash": params_hash(params)}
        tags = {**identity, **(facts or {})}
        if dvc_exp_name:
            tags["dvc_exp_name"] = dvc_exp_name
        if os.environ.get("DVC_EXP_BASELINE_REV"):
            tags["dvc_exp_baseline_rev"] = os.environ["DVC_EXP_BASELINE_REV"]

        try:
            with store_lock(uri):
                # Creating the client creates the store, and with it the
                # tables of a fresh database: that must happen under the lock.
                client = retry_when_locked(
                    lambda: MlflowClient(tracking_uri=uri, registry_uri=uri), "opening the store"
                )
                experiment_id = retry_when_locked(
                    lambda: _ensure_experiment(client, experiment_name, uri),
                    f"opening experiment '{experiment_name}'",
                )
                run, resumed = _open_run(client, experiment_id, resume_run_id, run_name, tags)
                if not resumed:
                    try:
                        _log_params(client, run.info.run_id, params)
                    except Exception:
                        _end_quietly(run.info.run_id, "FAILED")
                        raise
        except TrackingUnavailable:
            raise
        except Exception as exc:
            raise TrackingUnavailable(
                f"MLflow tracking store {uri} failed while starting the run "
                f"({type(exc).__name__}: {_first_line(exc)})"
            ) from exc

        record = RunRecord(
            run_id=run.info.run_id,
            experiment_id=experiment_id,
            experiment_name=experiment_name,
            tracking_uri=uri,
            run_name=run.info.run_name or run_name,
            params_hash=identity["params_hash"],
            git_commit=identity["git_commit"],
            resumed=resumed,
        )
        training_run = cls(client, record, paths.run_record, uri)
        training_run._write_record()
        log.info(
            "MLflow: %s run %s (%s) in experiment '%s' at %s",
            "resumed" if resumed else "started",
            record.run_id,
            record.run_name,
            experiment_name,
            uri,
        )
        return training_run

    @property
    def record(self) -> RunRecord:
        return self._record

    # ------------------------------------------------------------ logging

    def last_logged_step(self, key: str) -> int:
        """The highest step of metric ``key`` in this run, -1 if none (or unreadable, warned)."""
        try:
            history = retry_when_locked(
                lambda: self._client.get_metric_history(self.run_id, key),
                f"reading metric '{key}'",
            )
        except Exception as exc:  # noqa: BLE001 - never stop training for tracking
            log.warning(
                "MLflow: could not read the history of metric '%s' from run %s at %s (%s); assuming none",
                key,
                self.run_id,
                self.tracking_uri,
                _first_line(exc),
            )
            return -1
        return max((int(m.step) for m in history), default=-1)

    def last_logged_image_step(self, key: str) -> int:
        """The highest step of an image logged under ``key`` (see :meth:`log_image`), -1 if none.

        MLflow keeps stepped images as artifacts named
        ``images/<key>+step+<n>+timestamp+...``, not as a metric history, so a
        resumed training reads the steps back from those names; otherwise an
        epoch redone after a kill would show its figure twice on the slider.
        """
        prefix = re.sub(r"/", "~", key)  # MLflow's own sanitising of the key in file names
        pattern = re.compile(rf"{re.escape(prefix)}[+%]step[+%](\d+)[+%]timestamp[+%].*\.png")
        try:
            files = retry_when_locked(
                lambda: self._client.list_artifacts(self.run_id, IMAGES_ARTIFACT_FOLDER),
                f"listing the images of run {self.run_id}",
            )
        except Exception as exc:  # noqa: BLE001 - never stop training for tracking
            log.warning(
                "MLflow: could not list the images of run %s at %s (%s); assuming none",
                self.run_id,
                self.tracking_uri,
                _first_line(exc),
            )
            return -1
        steps = [
            int(match.group(1)) for f in files if (match := pattern.fullmatch(f.path.rsplit("/", 1)[-1]))
        ]
        return max(steps, default=-1)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Log several metrics at one step in one call; never raises for a tracking fault."""
        if not metrics:
            return
        timestamp = int(time.time() * 1000)
        batch = [Metric(key, float(value), timestamp, int(step)) for key, value in metrics.items()]
        keys = list(metrics)
        self._attempt(
            lambda: self._client.log_batch(self.run_id, metrics=batch, synchronous=True),
            f"metrics {', '.join(keys)} at step {step}",
            lambda: self._not_logged.add_metrics(keys, int(step)),
        )

    def log_image(self, key: str, image: np.ndarray, step: int) -> None:
        """Log a uint8 HxWx3 RGB image under ``key`` at ``step`` (the UI's step slider).

        A wrong array is a bug in the caller and raises ValueError; a tracking
        fault never raises.
        """
        array = np.asarray(image)
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(
                f"log_image('{key}'): expected a uint8 HxWx3 RGB array, "
                f"got {array.dtype} of shape {array.shape}"
            )
        self._attempt(
            lambda: self._client.log_image(self.run_id, array, key=key, step=int(step), synchronous=True),
            f"image '{key}' at step {step}",
            lambda: self._not_logged.add_image(key, int(step)),
        )

    def log_generator(self, generator: keras.Model, example_sketch: np.ndarray) -> str | None:
        """Log the generator network (Keras flavour) to this run; its model URI, or None when the
        store failed (warned, counted).

        ``example_sketch`` is one model input (HxWxC or 1xHxWxC, in the
        model's [-1, 1] range); the signature is inferred from it and the
        generator's prediction on it. Nothing is registered here: the export
        stage registers the colorizer that serves pictures.
        """
        signature = generator_signature(generator, example_sketch)
        what = "the generator model"

        def log_to_this_run() -> str:
            self._ensure_active()
            return log_generator_network(generator, signature, self.tracking_uri)

        model_uri = self._attempt(
            log_to_this_run, what, lambda: self._not_logged.other.append(what), retry=False
        )
        if model_uri is None:
            return None
        self._record = dataclasses.replace(self._record, keras_model_uri=model_uri)
        self._write_record()
        log.info("MLflow: generator logged as %s", model_uri)
        return model_uri

    # ------------------------------------------------------------ end

    def finish(self, status: str = "FINISHED") -> None:
        """End the run with ``status`` and say what, if anything, was not logged. Idempotent."""
        if self._finished:
            return
        self._finished = True
        # The client call carries the status (with retries); end_run only
        # clears MLflow's process-wide "active run" so another run can start.
        self._attempt(
            lambda: self._client.set_terminated(self.run_id, status),
            f"the run's end status {status}",
            lambda: self._not_logged.other.append(f"end status {status}"),
        )
        self._end_fluent_run(status)
        if self.dropped:
            log.warning(
                "MLflow: %d log call(s) to run %s at %s were not recorded: %s. "
                "Local metrics, checkpoints and models are complete.",
                self.dropped,
                self.run_id,
                self.tracking_uri,
                self._not_logged.describe(),
            )

    def __enter__(self) -> TrainingRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.finish("FINISHED")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish("KILLED")
        else:
            self.finish("FAILED")

    # ------------------------------------------------------------ internals

    def _attempt(
        self,
        action: Callable[[], T],
        what: str,
        remember: Callable[[], None],
        retry: bool = True,
    ) -> T | None:
        """Run one store call; on failure warn once, count, remember, and pause.

        ``retry=False`` for actions that retry their own steps (a retry of
        the whole would log a second copy of what already succeeded).
        """
        if time.monotonic() < self._paused_until:
            self._drop(what, remember, None)
            return None
        try:
            return retry_when_locked(action, what) if retry else action()
        except Exception as exc:  # noqa: BLE001 - tracking must never stop training
            if getattr(exc, "error_code", None) not in _REQUEST_ERROR_CODES:
                self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_S
            self._drop(what, remember, exc)
            return None

    def _drop(self, what: str, remember: Callable[[], None], exc: BaseException | None) -> None:
        self.dropped += 1
        remember()
        if not self._warned:
            self._warned = True
            log.warning(
                "MLflow: could not log %s to run %s at %s (%s). Training goes on; "
                "further calls are retried every %.0f s and whatever is not logged is "
                "listed when the run ends.",
                what,
                self.run_id,
                self.tracking_uri,
                f"{type(exc).__name__}: {_first_line(exc)}" if exc else "store unavailable",
                PAUSE_AFTER_FAILURE_S,
            )

    def _end_fluent_run(self, status: str) -> None:
        """Clear MLflow's active run. end_run also re-sends the status: when the
        store is known to be down, send it without HTTP retries, so a dead
        server does not add its retry time to the end of training."""
        active = active_run_id()
        if active != self.run_id:
            return
        store_down = time.monotonic() < self._paused_until
        saved = os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES")
        if store_down:
            os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
        try:
            mlflow.end_run(status)
        except Exception:  # noqa: BLE001 - the status call above already reported it
            pass
        finally:
            if store_down:
                if saved is None:
                    os.environ.pop("MLFLOW_HTTP_REQUEST_MAX_RETRIES", None)
                else:
                    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = saved

    def _ensure_active(self) -> None:
        """Model logging attaches to MLflow's active run, so that must be this one."""
        active = active_run_id()
        if active is None:
            mlflow.start_run(run_id=self.run_id)
        elif active != self.run_id:
            raise RuntimeError(
                f"another MLflow run ({active}) is active in this process; "
                f"cannot attach the generator to run {self.run_id}"
            )

    def _write_record(self) -> None:
        atomic.write_json(self._record_path, self._record.to_dict())


# ---------------------------------------------------------------- start helpers


def _ensure_experiment(client: MlflowClient, name: str, uri: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(name, artifact_location=default_artifact_location(uri))
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":  # lost a race: use theirs
                raise
            experiment = client.get_experiment_by_name(name)
            assert experiment is not None
    if experiment.lifecycle_stage == "deleted":
        raise TrackingUnavailable(
            f"MLflow experiment '{name}' (train.experiment_name) is deleted in {uri}: "
            f"restore it with `mlflow experiments restore --experiment-id "
            f"{experiment.experiment_id}`, or choose another train.experiment_name"
        )
    return experiment.experiment_id


def _open_run(
    client: MlflowClient,
    experiment_id: str,
    resume_run_id: str | None,
    run_name: str,
    tags: dict[str, str],
) -> tuple[Any, bool]:
    """Reopen ``resume_run_id`` if the store has it (live), else start a new run."""
    if resume_run_id:
        existing = find_run(client, resume_run_id)
        if existing is not None:
            run = retry_when_locked(
                lambda: mlflow.start_run(run_id=resume_run_id), f"reopening run {resume_run_id}"
            )
            return run, True
        log.warning(
            "MLflow: run %s to resume is not in the store (or is deleted); starting a new run", resume_run_id
        )
    run = retry_when_locked(
        lambda: mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags),
        "starting a run",
    )
    return run, False


def _log_params(client: MlflowClient, run_id: str, params: Params) -> None:
    items = [Param(key, _param_text(value)) for key, value in sorted(params.to_flat_dict().items())]
    for start in range(0, len(items), PARAMS_PER_BATCH):
        batch = items[start : start + PARAMS_PER_BATCH]
        retry_when_locked(partial(client.log_batch, run_id, params=batch, synchronous=True), "logging params")


def _param_text(value: Any) -> str:
    return "null" if value is None else str(value)


def _end_quietly(run_id: str, status: str) -> None:
    if active_run_id() == run_id:
        try:
            mlflow.end_run(status)
        except Exception:  # noqa: BLE001 - the original error is what matters
            pass


def _first_line(exc: BaseException | None) -> str:
    text = str(exc).strip() if exc is not None else ""
    return text.splitlines()[0][:300] if text else type(exc).__name__
