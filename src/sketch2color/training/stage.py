"""The DVC ``train`` stage: shards -> models/generator.keras, tracked in MLflow.

Order matters for a user watching it:

1. The tracking store is checked first, so an unreachable MLflow server fails
   the stage within seconds, before shards are hashed or models built.
2. The plan decides resume or fresh start; a resumed training reopens its own
   MLflow run (one training = one run, however often it was interrupted).
3. Training writes checkpoints and local metrics as it goes.
4. Only after the last step is the generator saved (atomically, so DVC never
   caches half a model) and logged/registered in MLflow.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keras

from sketch2color.config import Params
from sketch2color.paths import ProjectPaths
from sketch2color.training.loop import NullTracker, prepare_training, run_training
from sketch2color.training.strategy import is_chief, make_strategy

log = logging.getLogger(__name__)

GENERATOR_FILE = "generator.keras"


def train_stage(params: Params, paths: ProjectPaths) -> None:
    from sketch2color.tracking import TrainingRun, check_reachable, resolve_tracking_uri

    # TensorFlow's checkpoint writer logs a line per save at INFO through absl.
    logging.getLogger("absl").setLevel(logging.WARNING)
    strategy = make_strategy(params.train.strategy)
    if is_chief(strategy):
        check_reachable(resolve_tracking_uri(paths))
    plan = prepare_training(params, paths, strategy)
    if not plan.writes_outputs:
        # A non-chief worker of a multi-worker training: train in lockstep, write nothing.
        try:
            run_training(plan, NullTracker())
        finally:
            plan.store.close()
        return

    with TrainingRun.start(params, paths, resume_run_id=plan.resume_run_id) as run:
        plan.store.record_run_id(run.run_id)
        outcome = run_training(plan, run)
        save_generator(outcome.generator, paths.models / GENERATOR_FILE)
        run.log_generator(outcome.generator, outcome.example_sketch)
    log.info("train: %d steps in %.1f s (%s images/s); generator saved to %s",
             outcome.summary["steps"], outcome.summary["wall_time_s"],
             outcome.summary["images_per_s"], paths.models / GENERATOR_FILE)


def save_generator(generator: keras.Model, target: Path) -> None:
    """model.save to a temporary .keras beside the target, then rename over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.keras")
    try:
        generator.save(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
