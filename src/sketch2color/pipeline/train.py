"""The DVC ``train`` stage: shards -> models/generator.keras, tracked in MLflow.

Order matters for a user watching it:

1. The tracking store is checked first, so an unreachable MLflow server fails
   the stage within seconds, before shards are hashed or models built.
2. The plan decides resume or fresh start; a resumed training reopens its own
   MLflow run (one training = one run, however often it was interrupted).
3. Training writes checkpoints and local metrics as it goes.
4. Only after the last step is the generator saved (atomically, so DVC never
   caches half a model) and logged to MLflow (the network; the export stage
   registers the colorizer that serves pictures).
"""

from __future__ import annotations

import glob
import json
import logging
import os
from pathlib import Path

import keras

from sketch2color.config import Params
from sketch2color.paths import ProjectPaths
from sketch2color.training.allocator import keep_freed_memory
from sketch2color.training.callbacks import NullTracker
from sketch2color.training.hooks import NO_FAULTS, FaultHooks
from sketch2color.training.loop import run_training
from sketch2color.training.plan import prepare_training
from sketch2color.training.precision import training_policy
from sketch2color.training.strategy import is_chief, make_strategy

log = logging.getLogger(__name__)

GENERATOR_TEMP_SUFFIX = ".tmp.keras"


def run(params: Params, paths: ProjectPaths, hooks: FaultHooks = NO_FAULTS) -> None:
    from sketch2color.tracking import TrainingRun, check_reachable, resolve_tracking_uri

    # TensorFlow's checkpoint writer logs a line per save at INFO through absl.
    logging.getLogger("absl").setLevel(logging.WARNING)
    keep_freed_memory()  # no page faults on every step's tensors (see training.allocator)
    strategy = make_strategy(params.train.strategy)
    if is_chief(strategy):
        check_reachable(resolve_tracking_uri(paths))
        remove_leftovers_of_killed_writes(paths)
    plan = prepare_training(params, paths, strategy)
    if not plan.writes_outputs:
        # A non-chief worker of a multi-worker training: train in lockstep, write nothing.
        try:
            run_training(plan, NullTracker(), hooks)
        finally:
            plan.store.close()
        return

    facts = {"precision": training_policy(params.train.mixed_precision), **data_source_tags(paths)}
    with TrainingRun.start(params, paths, resume_run_id=plan.resume_run_id, facts=facts) as run:
        plan.store.record_run_id(run.run_id)
        outcome = run_training(plan, run, hooks)
        save_generator(outcome.generator, paths.generator)
        run.log_generator(outcome.generator, outcome.example_sketch)
        plan.store.mark_completed()
    log.info(
        "train: %d steps in %.1f s (%s images/s); generator saved to %s",
        outcome.summary["steps"],
        outcome.summary["wall_time_s"],
        outcome.summary["images_per_s"],
        paths.generator,
    )


def data_source_tags(paths: ProjectPaths) -> dict[str, str]:
    """Where the training data came from and under which licence, from the split manifest, as run tags.

    CC BY-SA data (OpenMoji) must be attributed wherever it is used; the run
    that trained on it says so next to its params.
    """
    try:
        source = json.loads(paths.split_manifest.read_text(encoding="utf-8")).get("data_source") or {}
    except (OSError, ValueError):
        return {}
    tags = {"data.source": str(source.get("source"))} if source.get("source") else {}
    attribution = source.get("attribution") or {}
    if attribution:
        tags.update(
            {
                "data.license": str(attribution.get("license")),
                "data.license_url": str(attribution.get("license_url")),
                "data.attribution": str(attribution.get("notice")),
                "data.version": f"{attribution.get('name')} {attribution.get('version')}",
            }
        )
    return tags


def save_generator(generator: keras.Model, target: Path) -> None:
    """model.save to a temporary .keras beside the target, then rename over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}{GENERATOR_TEMP_SUFFIX}")
    try:
        generator.save(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def remove_leftovers_of_killed_writes(paths: ProjectPaths) -> None:
    """Delete the temporary siblings that a killed write of this stage's outputs left behind.

    Every output is written to a temporary name and renamed, so a reader never
    sees half a file; but a SIGKILL inside a write runs no cleanup, and its
    temporary file would stay forever (DVC deletes a stage's outputs before a
    rerun, not their hidden siblings). Only names this stage's own writes use
    are removed: ``.<output>.<random>.tmp`` (:func:`sketch2color.atomic.atomic_path`)
    and ``.generator.<pid>.tmp.keras`` (:func:`save_generator`).
    """
    from sketch2color.training.checkpoints import COMPLETED_FILE, FINGERPRINT_FILE, LATEST_FILE

    checkpoints = paths.checkpoints
    outputs = [
        paths.train_history,
        paths.train_metrics,
        paths.validation_figure,
        paths.run_record,
        checkpoints / ProjectPaths.TRAIN_HISTORY,
        checkpoints / LATEST_FILE,
        checkpoints / FINGERPRINT_FILE,
        checkpoints / COMPLETED_FILE,
    ]
    patterns = [(out.parent, f".{glob.escape(out.name)}.*.tmp") for out in outputs]
    patterns.append((paths.models, f".{glob.escape(paths.generator.stem)}.*{GENERATOR_TEMP_SUFFIX}"))
    for folder, pattern in patterns:
        for leftover in folder.glob(pattern):
            if leftover.is_file() and not leftover.is_symlink():
                log.info("train: removing %s, left by a write that was killed", leftover)
                leftover.unlink(missing_ok=True)
