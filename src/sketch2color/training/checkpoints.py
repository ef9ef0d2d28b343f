"""Checkpoints that make the train stage resumable, and only where that is right.

``models/checkpoints/`` holds TensorFlow checkpoints named by global step
(``ckpt-<step>``), kept by a ``tf.train.CheckpointManager``, plus two small
JSON files of ours:

- ``fingerprint.json``: a hash of everything that decides what training
  learns (the train and data params, the seed, the code's format version) and
  an md5 of every training shard. A rerun resumes only when both hashes match;
  otherwise the old checkpoints are deleted and training starts afresh, so
  ``dvc exp run -S train.lambda_l1=50`` never continues another configuration's
  weights. It also records the MLflow run id, so a resumed training keeps
  logging into the same run.
- ``latest.json``: written after each successful save (atomically): the
  checkpoint, step, epoch, batch within the epoch and cumulative training time.

(The loop also keeps ``train_history.csv`` here, the copy of the loss history
a resumed training reads back; see :mod:`sketch2color.training.history`.)

A save is atomic as far as it matters: TensorFlow writes the data, then the
index, then renames its state file; a kill in between leaves a checkpoint that
either reads back completely or is skipped. Before resuming, every candidate
is read back in full (each tensor's CRC is checked) newest first, so a torn or
corrupt latest checkpoint falls back to the previous one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tensorflow as tf

from sketch2color import atomic
from sketch2color.config import Params
from sketch2color.errors import Sketch2ColorError
from sketch2color.hashing import file_digest
from sketch2color.training.hooks import NO_FAULTS, FaultHooks
from sketch2color.training.precision import training_policy
from sketch2color.training.state import TrainingState

log = logging.getLogger(__name__)

FINGERPRINT_FILE = "fingerprint.json"
LATEST_FILE = "latest.json"
COMPLETED_FILE = "completed.json"
CHECKPOINT_PREFIX = "ckpt"
# Bump when the models or the checkpoint layout change incompatibly: old
# checkpoints then no longer match and training starts afresh.
FORMAT_VERSION = 1
# Train params that change how a run is operated, not what it learns:
# changing them keeps the checkpoints (e.g. resume a run with xla on).
OPERATIONAL_TRAIN_KEYS = frozenset(
    {
        "checkpoint_every_steps",
        "log_every_steps",
        "keep_checkpoints",
        "validation_examples",
        "experiment_name",
        "xla",
        "strategy",
        "cache_dataset",
    }
)
_STEP_KEY = "step/.ATTRIBUTES/VARIABLE_VALUE"


# ---------------------------------------------------------------- fingerprint


@dataclass(frozen=True)
class Fingerprint:
    """What a checkpoint was trained with; two runs may share checkpoints only if these match."""

    params_hash: str
    data_hash: str
    params: dict[str, Any]
    shards: dict[str, dict[str, Any]]

    def matches(self, other: Fingerprint | None) -> bool:
        return (
            other is not None and self.params_hash == other.params_hash and self.data_hash == other.data_hash
        )

    def to_json(self, run_id: str | None) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "params_hash": self.params_hash,
            "data_hash": self.data_hash,
            "params": self.params,
            "shards": self.shards,
            "mlflow_run_id": run_id,
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Fingerprint:
        return cls(
            params_hash=str(payload["params_hash"]),
            data_hash=str(payload["data_hash"]),
            params=dict(payload.get("params", {})),
            shards=dict(payload.get("shards", {})),
        )


def training_params(params: Params) -> dict[str, Any]:
    """The params that decide what is learned (hashed into the fingerprint).

    ``mixed_precision`` enters as the policy it resolves to on this machine,
    not as written: ``auto`` means float32 on one machine and bfloat16 on
    another, and a mixed run's checkpoints hold loss-scale state a float32
    run has not, so moving checkpoints between the two starts afresh.
    """
    train = {k: v for k, v in params.train.model_dump().items() if k not in OPERATIONAL_TRAIN_KEYS}
    train["mixed_precision"] = training_policy(params.train.mixed_precision)
    return {
        "format": FORMAT_VERSION,
        "seed": params.seed,
        "data": params.data.model_dump(),
        "train": train,
    }


def compute_fingerprint(
    params: Params, train_files: Sequence[Path], previous: Fingerprint | None = None
) -> Fingerprint:
    """Hash params and shard contents; md5s of unchanged files (same size and mtime) are reused."""
    subset = training_params(params)
    known = previous.shards if previous is not None else {}
    shards: dict[str, dict[str, Any]] = {}
    for path in sorted(train_files, key=lambda p: p.name):
        stat = path.stat()
        entry = known.get(path.name)
        if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            md5 = entry["md5"]
        else:
            md5 = file_digest(path, "md5")
        shards[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "md5": md5}
    data_identity = sorted((name, entry["md5"]) for name, entry in shards.items())
    return Fingerprint(
        params_hash=_hash_json(subset),
        data_hash=_hash_json(data_identity),
        params=subset,
        shards=shards,
    )


def _hash_json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- store


@dataclass(frozen=True)
class ResumePoint:
    checkpoint: str  # path prefix, e.g. .../ckpt-120
    step: int
    train_seconds: float  # training time spent before this checkpoint, over all sessions


@dataclass(frozen=True)
class OpenedStore:
    """What :meth:`CheckpointStore.open` decided: resume from where, under which run."""

    resume: ResumePoint | None
    run_id: str | None  # the MLflow run of the training these checkpoints belong to
    reason: str  # one line for the log: why we resume or start afresh


class CheckpointStore:
    """models/checkpoints: decide whether to resume, restore, and save atomically.

    ``writable=False`` is for non-chief workers of a multi-worker training:
    they read the chief's checkpoints to resume from the same step but never
    change that folder; their own saves (TensorFlow wants every worker to take
    part) go to a private temporary folder.
    """

    def __init__(self, folder: Path, keep: int, writable: bool = True) -> None:
        self.folder = Path(folder)
        self.keep = keep
        self.writable = writable
        self._fingerprint: Fingerprint | None = None
        self._run_id: str | None = None
        self._checkpoint: tf.train.Checkpoint | None = None
        self._manager: tf.train.CheckpointManager | None = None
        self._save_folder = (
            self.folder if writable else Path(tempfile.mkdtemp(prefix="sketch2color-worker-ckpt-"))
        )

    # -- deciding

    def open(self, params: Params, train_files: Sequence[Path]) -> OpenedStore:
        """Compare fingerprints; clear stale checkpoints; find the newest readable one."""
        if (self.folder / COMPLETED_FILE).exists():
            # DVC reruns a finished training only when something it depends on changed
            # (code, an operational param, `dvc repro -f`): that deserves a new training,
            # never the old weights handed back as a new model version.
            if self.writable:
                self.clear()
            self._fingerprint = compute_fingerprint(params, train_files)
            self._run_id = None
            if self.writable:
                self._write_fingerprint()
            return OpenedStore(None, None, "the last training here finished: starting a new one")
        stored, stored_run_id = self._read_fingerprint()
        fingerprint = compute_fingerprint(params, train_files, previous=stored)
        self._fingerprint = fingerprint
        if not fingerprint.matches(stored):
            had_checkpoints = bool(self._candidates())
            self._run_id = None
            if self.writable:
                self.clear()
                self._write_fingerprint()
            if stored is None:
                reason = "no earlier training here: starting afresh"
            else:
                what = "params" if stored.params_hash != fingerprint.params_hash else "training data"
                reason = (
                    f"the checkpoints there were made with other {what}: starting afresh"
                    if had_checkpoints
                    else f"{what} changed since the last training: starting afresh"
                )
            return OpenedStore(resume=None, run_id=None, reason=reason)

        self._run_id = stored_run_id
        if self.writable:
            self._write_fingerprint()  # refreshes the cached md5s' mtimes
        resume = self._newest_readable()
        if resume is None:
            return OpenedStore(None, stored_run_id, "same params and data, but no usable checkpoint yet")
        return OpenedStore(resume, stored_run_id, f"resuming from {Path(resume.checkpoint).name}")

    def mark_completed(self) -> None:
        """Record that this training finished and its generator was saved and logged."""
        if self.writable:
            atomic.write_json(self.folder / COMPLETED_FILE, {"run_id": self._run_id})

    def record_run_id(self, run_id: str | None) -> None:
        """Remember the MLflow run, so a resumed training reopens it."""
        self._run_id = run_id
        if self.writable:
            self._write_fingerprint()

    def clear(self) -> None:
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    # -- restoring and saving

    def attach(self, state: TrainingState) -> None:
        """Bind the live models/optimisers; required before :meth:`restore` and :meth:`save`."""
        self._checkpoint = state.checkpoint()
        self._manager = tf.train.CheckpointManager(
            self._checkpoint,
            str(self._save_folder),
            max_to_keep=self.keep,
            checkpoint_name=CHECKPOINT_PREFIX,
        )

    def restore(self, point: ResumePoint) -> None:
        assert self._checkpoint is not None, "attach() first"
        status = self._checkpoint.restore(point.checkpoint)
        try:
            status.assert_existing_objects_matched()
        except AssertionError as exc:
            raise Sketch2ColorError(
                f"{point.checkpoint} does not fit the current models ({exc}); delete "
                f"{self.folder} to start afresh"
            ) from None

    def save(self, state: TrainingState, train_seconds: float, hooks: FaultHooks = NO_FAULTS) -> str:
        """Write ckpt-<step>, then latest.json pointing at it; return the checkpoint path."""
        assert self._manager is not None, "attach() first"
        step = int(state.step.numpy())
        path = self._manager.save(checkpoint_number=step)
        hooks.checkpoint_written(step)
        atomic.write_json(
            self._save_folder / LATEST_FILE,
            {
                "checkpoint": Path(path).name,
                "step": step,
                "epoch": int(state.epoch.numpy()),
                "batch_in_epoch": int(state.batch_in_epoch.numpy()),
                "train_seconds": round(train_seconds, 3),
                "mlflow_run_id": self._run_id,
                "params_hash": self._fingerprint.params_hash if self._fingerprint else None,
                "data_hash": self._fingerprint.data_hash if self._fingerprint else None,
            },
        )
        return path

    @property
    def latest_saved(self) -> str | None:
        """The newest checkpoint this store knows of (for messages)."""
        if self._manager is not None and self._manager.latest_checkpoint:
            return self._manager.latest_checkpoint
        candidates = self._candidates()
        return candidates[0][1] if candidates else None

    def close(self) -> None:
        """Drop a non-chief worker's private checkpoints."""
        if not self.writable:
            shutil.rmtree(self._save_folder, ignore_errors=True)

    # -- internals

    def _read_fingerprint(self) -> tuple[Fingerprint | None, str | None]:
        path = self.folder / FINGERPRINT_FILE
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("format") != FORMAT_VERSION:
                return None, None
            return Fingerprint.from_json(payload), payload.get("mlflow_run_id")
        except FileNotFoundError:
            return None, None
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("%s is unreadable; treating the checkpoints as unknown", path)
            return None, None

    def _write_fingerprint(self) -> None:
        assert self._fingerprint is not None
        atomic.write_json(self.folder / FINGERPRINT_FILE, self._fingerprint.to_json(self._run_id))

    def _candidates(self) -> list[tuple[int, str]]:
        """(number, prefix) of every checkpoint on disk, newest first."""
        found = {}
        for index in self.folder.glob(f"{CHECKPOINT_PREFIX}-*.index"):
            match = re.fullmatch(rf"{CHECKPOINT_PREFIX}-(\d+)\.index", index.name)
            if match:
                found[int(match.group(1))] = str(index.with_suffix(""))
        return sorted(found.items(), reverse=True)

    def _newest_readable(self) -> ResumePoint | None:
        if self.writable:
            for leftover in self.folder.glob(f"{CHECKPOINT_PREFIX}-*_temp*"):
                # A save killed before TensorFlow merged its shards.
                shutil.rmtree(leftover, ignore_errors=True)
        good: list[tuple[int, str]] = []
        for _, prefix in self._candidates():
            step = _readable_step(prefix)
            if step is None:
                log.warning("checkpoint %s is torn or corrupt; falling back to an older one", prefix)
                if self.writable:
                    _remove_checkpoint_files(prefix)
                continue
            good.append((step, prefix))
        if not good:
            return None
        step, prefix = good[0]
        if self.writable:
            # Leave TensorFlow's own state file listing only checkpoints that read back. The
            # manager deletes beyond keep_checkpoints only those whose timestamp is after the
            # "last preserved" one: without timestamps, the ones listed here would be kept forever.
            oldest_first = [p for _, p in reversed(good)]
            tf.compat.v1.train.update_checkpoint_state(
                str(self.folder),
                model_checkpoint_path=prefix,
                all_model_checkpoint_paths=oldest_first,
                all_model_checkpoint_timestamps=[Path(p + ".index").stat().st_mtime for p in oldest_first],
                last_preserved_timestamp=0.0,
            )
        latest = self._read_latest()
        if latest.get("step") == step:
            seconds = float(latest.get("train_seconds", 0.0))
        else:
            seconds = _estimate(latest, step)
        return ResumePoint(checkpoint=prefix, step=step, train_seconds=seconds)

    def _read_latest(self) -> dict[str, Any]:
        try:
            return json.loads((self.folder / LATEST_FILE).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}


def _readable_step(prefix: str) -> int | None:
    """The checkpoint's step if every tensor in it reads back intact, else None (logged)."""
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
        return int(reader.get_tensor(_STEP_KEY))
    except Exception as exc:  # noqa: BLE001 - OpError, IndexError, ValueError...: all mean unusable
        log.warning(
            "checkpoint %s does not read back: %s: %s",
            prefix,
            type(exc).__name__,
            str(exc).splitlines()[0] if str(exc) else "",
        )
        return None


def _remove_checkpoint_files(prefix: str) -> None:
    for path in Path(prefix).parent.glob(Path(prefix).name + ".*"):
        path.unlink(missing_ok=True)


def _estimate(latest: dict[str, Any], step: int) -> float:
    """Training time at ``step`` when latest.json describes another checkpoint.

    That happens when a kill lands between TensorFlow's save and our latest.json.
    """
    seconds, at = float(latest.get("train_seconds", 0.0)), int(latest.get("step", 0) or 0)
    return seconds * step / at if at > 0 else 0.0
