"""The pix2pix training loop: batches in, a step, then the callbacks.

Two phases, so the caller can open the MLflow run in between:

1. :func:`sketch2color.training.plan.prepare_training` checks the data and
   decides whether to resume, and under which MLflow run id.
2. :func:`run_training` builds the models under the distribution strategy,
   restores the checkpoint if any, and trains up to exactly
   ``epochs * steps_per_epoch`` steps in total, however many times it was
   interrupted on the way.

Everything but the step itself (history, tracking, progress, figures,
checkpoints) is a callback (:mod:`sketch2color.training.callbacks`). A
non-finite loss stops training with a :class:`Sketch2ColorError` naming the
step; the diverged state is never saved, so the last good checkpoint stays the
newest. ``hooks`` (:mod:`sketch2color.training.hooks`) do nothing unless a
test injects a fault.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from sketch2color import atomic
from sketch2color.config import Params
from sketch2color.data.shard_reader import damaged_shard_error, find_damaged_shard, shard_read_error
from sketch2color.errors import DataError, Sketch2ColorError
from sketch2color.model import build_generator
from sketch2color.paths import ProjectPaths
from sketch2color.pixels import model_inputs
from sketch2color.training.callbacks import (
    Checkpointer,
    Clock,
    MetricLog,
    ProgressBar,
    Throughput,
    Tracker,
    ValidationFigure,
)
from sketch2color.training.checkpoints import CheckpointStore
from sketch2color.training.history import METRIC_NAMES, TrainHistory
from sketch2color.training.hooks import NO_FAULTS, FaultHooks
from sketch2color.training.plan import TrainingOutcome, TrainingPlan
from sketch2color.training.precision import training_policy
from sketch2color.training.schedule import learning_rate_schedule
from sketch2color.training.state import TrainingState, build_training_state
from sketch2color.training.step import make_train_step

log = logging.getLogger(__name__)


def run_training(plan: TrainingPlan, tracker: Tracker, hooks: FaultHooks = NO_FAULTS) -> TrainingOutcome:
    """Train from the plan's start step to ``epochs * steps_per_epoch`` steps; return the generator."""
    params, config = plan.params, plan.params.train
    steps_per_epoch = plan.steps_per_epoch
    keras.utils.set_random_seed(params.seed)
    schedule = learning_rate_schedule(
        config.learning_rate, config.epochs, config.decay_epochs, steps_per_epoch
    )
    with plan.strategy.scope():
        state = build_training_state(config, params.data.image_size, schedule)
    plan.store.attach(state)
    step, seconds_before = _restore(plan, state)
    clock = Clock(seconds_before)
    history = TrainHistory(plan.paths.train_history, plan.store.folder / ProjectPaths.TRAIN_HISTORY, step)
    if plan.writes_outputs:
        history.write()  # drop rows past the checkpoint at once
    throughput = Throughput(step)
    callbacks = [
        ProgressBar(config, steps_per_epoch),
        throughput,
        MetricLog(plan, history, tracker, schedule, hooks),
        ValidationFigure(plan, state.generator, tracker),
        Checkpointer(plan, state, history, clock, hooks, step),
    ]
    train_step = make_train_step(state, config, plan.strategy)

    for epoch in range(step // steps_per_epoch, config.epochs):
        done_in_epoch = step - epoch * steps_per_epoch
        for callback in callbacks:
            callback.on_epoch_begin(epoch, done_in_epoch)
        batches = hooks.batches(plan.source.epoch(epoch, done_in_epoch), first_step=step + 1)
        tick = time.perf_counter()
        for batch in _naming_damaged_shards(plan.strategy.experimental_distribute_dataset(batches), plan):
            values = {name: float(value) for name, value in train_step(batch).items()}
            seconds = time.perf_counter() - tick
            step += 1
            _stop_if_diverged(values, step, epoch, plan.store)
            hooks.after_step(step)
            for callback in callbacks:
                callback.on_step_end(step, epoch, values, seconds)
            tick = time.perf_counter()
        _check_epoch_complete(plan, step, epoch)
        for callback in callbacks:
            callback.on_epoch_end(epoch)

    summary = _summary(plan, history, throughput, clock, step)
    if plan.writes_outputs:
        history.write()
        atomic.write_json(plan.paths.train_metrics, summary)
    example = model_inputs(plan.validation_sketches[:1], None, takes_hints=config.hints.enabled)
    return TrainingOutcome(_float32_copy(state.generator, params), summary, example)


def _restore(plan: TrainingPlan, state: TrainingState) -> tuple[int, float]:
    """(step, training seconds before it) of the checkpoint to resume from; (0, 0) for a fresh start."""
    point = plan.opened.resume
    if point is None:
        return 0, 0.0
    plan.store.restore(point)
    step = int(state.step.numpy())
    if step != point.step or step > plan.total_steps:
        raise Sketch2ColorError(
            f"{point.checkpoint} is at step {step}, which does not fit a training of "
            f"{plan.total_steps} steps; delete {plan.store.folder} to start afresh"
        )
    log.info(
        "train: resumed at step %d of %d (epoch %d, batch %d)",
        step,
        plan.total_steps,
        step // plan.steps_per_epoch + 1,
        step % plan.steps_per_epoch,
    )
    return step, point.train_seconds


def _naming_damaged_shards(dataset, plan: TrainingPlan) -> Iterator:
    """The epoch's batches; a shard damaged since the start-up check is named, not an offset.

    TensorFlow's DataLossError says where in a record the read failed, never
    in which file. Only the fetch of the next batch is guarded, so the step
    itself runs as before, and the shards are reread one by one only after a
    failure, to find the one to name (see data.shard_reader.shard_read_error).
    """
    batches = iter(dataset)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except tf.errors.DataLossError as exc:
            raise shard_read_error(plan.source.files, exc, "the training shards") from None
        yield batch


def _check_epoch_complete(plan: TrainingPlan, step: int, epoch: int) -> None:
    if step == (epoch + 1) * plan.steps_per_epoch:
        return
    # A shard cut inside a record header reads as a clean, early end of file.
    damaged = find_damaged_shard(plan.source.files)
    if damaged is not None:
        raise damaged_shard_error(*damaged)
    raise DataError(
        f"epoch {epoch + 1} ended after {step - epoch * plan.steps_per_epoch} of {plan.steps_per_epoch} "
        "batches: the training shards changed while training"
    )


def _stop_if_diverged(values: Mapping[str, float], step: int, epoch: int, store: CheckpointStore) -> None:
    bad = {k: v for k, v in values.items() if not math.isfinite(v)}
    if not bad:
        return
    kept = store.latest_saved
    where = (
        f"the last good checkpoint {Path(kept).name} is kept" if kept else "no checkpoint had been saved yet"
    )
    raise Sketch2ColorError(
        f"training diverged at step {step} (epoch {epoch + 1}): non-finite "
        + ", ".join(f"{k}={v}" for k, v in bad.items())
        + f"; this state was not saved and {where}. Try a lower train.learning_rate, "
        "or check the training data."
    )


def _summary(
    plan: TrainingPlan, history: TrainHistory, throughput: Throughput, clock: Clock, step: int
) -> dict:
    """What metrics/train.json holds."""
    config = plan.params.train
    final = history.epoch_means(config.epochs)
    images_per_s = throughput.images_per_s(config.batch_size)
    return {
        "steps": step,
        "epochs": config.epochs,
        "steps_per_epoch": plan.steps_per_epoch,
        "examples": plan.source.examples,
        "batch_size": config.batch_size,
        "replicas": plan.strategy.num_replicas_in_sync,
        "precision": training_policy(config.mixed_precision),
        "resumed_from_step": plan.start_step,
        "images_per_s": round(images_per_s, 3) if images_per_s else None,
        "wall_time_s": round(clock.elapsed(), 3),
        **{name: round(final[name], 6) for name in METRIC_NAMES if name in final},
    }


def _float32_copy(generator: keras.Model, params: Params) -> keras.Model:
    """A plain float32 generator with the trained weights, free of strategy and mixed-precision state."""
    config = params.train
    copy = build_generator(params.data.image_size, config.ngf, config.norm, "float32", config.hints.enabled)
    copy.set_weights([np.asarray(w) for w in generator.get_weights()])
    return copy
