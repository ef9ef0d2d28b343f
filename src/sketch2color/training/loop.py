"""The pix2pix training loop: one tf.function step, checkpoints, metrics, figures.

Two phases, so the caller can open the MLflow run in between:

1. :func:`prepare_training` reads the shards (counting them, checking their
   size), compares the checkpoint fingerprint and decides whether to resume
   and under which MLflow run id. Nothing is trained yet.
2. :func:`run_training` builds the models under the distribution strategy,
   restores the checkpoint if any, and trains up to exactly
   ``epochs * steps_per_epoch`` steps in total, however many times it was
   interrupted on the way.

The tracker is anything with ``last_logged_step``, ``last_logged_image_step``,
``log_metrics`` and ``log_image`` (a :class:`sketch2color.tracking.TrainingRun`
in the stage); it never decides whether training succeeds. Local outputs are
written by the loop itself: ``metrics/train_history.csv`` (matching the latest checkpoint),
``metrics/validation.png`` (the latest epoch's figure) and
``metrics/train.json``.

A non-finite loss stops training with a :class:`Sketch2ColorError` naming the
step; the diverged state is never saved, so the last good checkpoint stays the
newest. For tests only, ``SKETCH2COLOR_INJECT_NAN_AT_STEP=<k>`` (read once when
training starts) feeds a NaN image into step ``k`` so that this path can be
exercised for real. The other test-only hooks (a SIGKILL at a chosen point,
an infinite loss) are in :mod:`sketch2color.training.faults`.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from sketch2color import atomic
from sketch2color.config import Params
from sketch2color.data.shards import (
    damaged_shard_error,
    find_damaged_shard,
    find_shards,
    shard_read_error,
    to_model_range,
)
from sketch2color.errors import DataError, Sketch2ColorError
from sketch2color.image_io import write_rgb
from sketch2color.model import build_generator
from sketch2color.model.losses import discriminator_loss, generator_losses, mean_probability
from sketch2color.paths import ProjectPaths
from sketch2color.training import faults
from sketch2color.training.checkpoints import CheckpointStore, OpenedStore
from sketch2color.training.dataset import ShardSource, check_image_size, load_examples
from sketch2color.training.history import METRIC_NAMES, HistoryRow, TrainHistory
from sketch2color.training.precision import training_policy
from sketch2color.training.schedule import ConstantThenLinearDecay, learning_rate_schedule
from sketch2color.training.state import TrainingState, build_training_state
from sketch2color.training.strategy import describe, is_chief, make_strategy

log = logging.getLogger(__name__)

INJECT_NAN_ENV = "SKETCH2COLOR_INJECT_NAN_AT_STEP"  # test-only hook, see the module docstring
VALIDATION_IMAGE_KEY = "validation"
HISTORY_FILE = "train_history.csv"
TRAIN_METRICS_FILE = "train.json"
VALIDATION_FIGURE_FILE = "validation.png"


class Tracker(Protocol):
    def last_logged_step(self, key: str) -> int: ...
    def last_logged_image_step(self, key: str) -> int: ...
    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None: ...
    def log_image(self, key: str, image: np.ndarray, step: int) -> None: ...


class NullTracker:
    """Tracks nothing: for non-chief workers and for callers that want no tracking."""

    def last_logged_step(self, key: str) -> int:
        return -1

    def last_logged_image_step(self, key: str) -> int:
        return -1

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        pass

    def log_image(self, key: str, image: np.ndarray, step: int) -> None:
        pass


# ---------------------------------------------------------------- plan


@dataclass
class TrainingPlan:
    """Everything decided before training starts."""

    params: Params
    paths: ProjectPaths
    strategy: tf.distribute.Strategy
    source: ShardSource
    store: CheckpointStore
    opened: OpenedStore
    validation_sketches: np.ndarray  # uint8, fixed examples for the per-epoch figure
    validation_targets: np.ndarray
    writes_outputs: bool  # False on non-chief workers

    @property
    def steps_per_epoch(self) -> int:
        return self.source.steps_per_epoch

    @property
    def total_steps(self) -> int:
        return self.params.train.epochs * self.steps_per_epoch

    @property
    def resume_run_id(self) -> str | None:
        """The MLflow run these checkpoints belong to (None: start a new run)."""
        return self.opened.run_id

    @property
    def start_step(self) -> int:
        return self.opened.resume.step if self.opened.resume else 0


@dataclass(frozen=True)
class TrainingOutcome:
    generator: keras.Model  # float32 copy, outside any strategy: ready to save or log
    summary: dict  # what metrics/train.json holds
    example_sketch: np.ndarray  # one model input in [-1, 1] (for the model signature)


def prepare_training(
    params: Params, paths: ProjectPaths, strategy: tf.distribute.Strategy | None = None
) -> TrainingPlan:
    """Find and check the data, pick the strategy, and decide fresh start or resume."""
    config = params.train
    strategy = strategy or make_strategy(config.strategy)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise Sketch2ColorError(
            f"train.batch_size={config.batch_size} does not split evenly over {replicas} replicas "
            f"({describe(strategy)}); use a multiple of {replicas}"
        )
    train_files = find_shards(paths.augmented, "train")
    if not train_files:
        raise DataError(
            f"no training shards in {paths.augmented} (train-*.tfrecord): run the augment stage first"
        )
    source = ShardSource(
        train_files,
        image_size=params.data.image_size,
        global_batch=config.batch_size,
        shuffle_buffer=config.shuffle_buffer,
        seed=params.seed,
        cache=config.cache_dataset,
    )
    sketches, targets = _validation_examples(paths, params, train_files)

    chief = is_chief(strategy)
    store = CheckpointStore(paths.models / "checkpoints", config.keep_checkpoints, writable=chief)
    opened = store.open(params, train_files)
    log.info(
        "train: %d pairs, %d steps per epoch, %d epochs on %s in %s; %s",
        source.examples,
        source.steps_per_epoch,
        config.epochs,
        describe(strategy),
        training_policy(config.mixed_precision),
        opened.reason,
    )
    return TrainingPlan(params, paths, strategy, source, store, opened, sketches, targets, chief)


def _validation_examples(paths: ProjectPaths, params: Params, train_files) -> tuple[np.ndarray, np.ndarray]:
    count = params.train.validation_examples
    val_files = find_shards(paths.split, "val")
    if val_files:
        check_image_size(val_files, params.data.image_size)
        try:
            return load_examples(val_files, count)
        except DataError:
            pass
    log.warning("train: no validation pairs in %s; the validation figure shows training pairs", paths.split)
    return load_examples(train_files, count)


# ---------------------------------------------------------------- the step


def make_train_step(state: TrainingState, params: Params, strategy: tf.distribute.Strategy):
    """The distributed train step: (sketch batch, colour batch, poison) -> global mean metrics.

    Each replica computes per-example losses averaged over the *global* batch,
    so summing over replicas gives the global mean and the optimisers (which
    all-reduce gradients by sum) take the single-device step.
    """
    config = params.train
    global_batch = config.batch_size
    generator, discriminator = state.generator, state.discriminator
    g_opt, d_opt = state.generator_optimizer, state.discriminator_optimizer

    def average(per_example):
        return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)

    def replica_step(sketch, colour, poison):
        sketch = sketch + poison  # 0, except NaN at the test-only injected step
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(sketch, training=True)
            real_logits = discriminator([sketch, colour], training=True)
            fake_logits = discriminator([sketch, fake], training=True)
            g_losses = generator_losses(fake_logits, fake, colour, config.lambda_l1)
            g_total = average(g_losses.total)
            d_total = average(
                discriminator_loss(real_logits, fake_logits, config.d_loss_factor, config.label_smoothing)
            )
            g_scaled = g_opt.scale_loss(g_total)
            d_scaled = d_opt.scale_loss(d_total)
        g_grads = g_tape.gradient(g_scaled, generator.trainable_variables)
        d_grads = d_tape.gradient(d_scaled, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables, strict=True))
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables, strict=True))
        return {
            "gen_total": g_total,
            "gen_gan": average(g_losses.gan),
            "gen_l1": average(g_losses.l1),
            "disc": d_total,
            "d_real": average(mean_probability(real_logits)),
            "d_fake": average(mean_probability(fake_logits)),
        }

    replica_fn = tf.function(replica_step, jit_compile=True) if config.xla else replica_step

    @tf.function
    def distributed_step(batch, poison):
        sketch, colour = batch
        per_replica = strategy.run(replica_fn, args=(sketch, colour, poison))
        return {
            name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            for name, value in per_replica.items()
        }

    return distributed_step


# ---------------------------------------------------------------- the loop


class _Interval:
    """Running sums of the step metrics between two log rows."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums = {name: 0.0 for name in METRIC_NAMES}
        self.steps = 0
        self.seconds = 0.0

    def add(self, values: Mapping[str, float], seconds: float) -> None:
        for name in METRIC_NAMES:
            self.sums[name] += values[name]
        self.steps += 1
        self.seconds += seconds

    def means(self) -> dict[str, float]:
        return {name: total / self.steps for name, total in self.sums.items()}


def run_training(plan: TrainingPlan, tracker: Tracker) -> TrainingOutcome:
    """Train from the plan's start step to ``epochs * steps_per_epoch`` steps; return the generator."""
    return _Trainer(plan, tracker).run()


class _Trainer:
    """One training session: restore, run the remaining epochs, summarise."""

    def __init__(self, plan: TrainingPlan, tracker: Tracker) -> None:
        self.plan, self.tracker = plan, tracker
        self.params, self.config = plan.params, plan.params.train
        self.spe, self.total = plan.steps_per_epoch, plan.total_steps
        self.inject_nan_at = _injected_nan_step()
        faults.check_environment()
        self.inject_inf_at = faults.injected_inf_step()
        keras.utils.set_random_seed(self.params.seed)
        self.schedule = learning_rate_schedule(
            self.config.learning_rate, self.config.epochs, self.config.decay_epochs, self.spe
        )
        with plan.strategy.scope():
            self.state = build_training_state(self.config, self.params.data.image_size, self.schedule)
        plan.store.attach(self.state)
        self.start_step, self.seconds_before = self._restore()
        self.step = self.start_step
        self.history = TrainHistory(
            plan.paths.metrics / HISTORY_FILE, plan.store.folder / HISTORY_FILE, resume_step=self.start_step
        )
        # A resumed run never logs a step twice (the killed session may have logged past its checkpoint).
        self.last_logged = tracker.last_logged_step("gen_total")
        self.last_logged_epoch = tracker.last_logged_step("epoch_gen_total")
        # Nor an epoch's figure: a kill after it was logged but before the epoch's checkpoint
        # was saved makes the resumed training redo that epoch's end.
        self.last_logged_figure = tracker.last_logged_image_step(VALIDATION_IMAGE_KEY)
        self.step_fn = make_train_step(self.state, self.params, plan.strategy)
        self.session_start = time.perf_counter()
        self.step_seconds, self.timed_steps = 0.0, 0

    def run(self) -> TrainingOutcome:
        if self.plan.writes_outputs:
            self.history.write()  # drop rows past the checkpoint at once
        for epoch in range(self.start_step // self.spe, self.config.epochs):
            self._train_epoch(epoch)
            self._end_epoch(epoch)
        summary = self._summary()
        if self.plan.writes_outputs:
            self.history.write()
            atomic.write_json(self.plan.paths.metrics / TRAIN_METRICS_FILE, summary)
        example = to_model_range(self.plan.validation_sketches[:1]).numpy()
        return TrainingOutcome(_float32_copy(self.state.generator, self.params), summary, example)

    def _restore(self) -> tuple[int, float]:
        point = self.plan.opened.resume
        if point is None:
            return 0, 0.0
        self.plan.store.restore(point)
        step = int(self.state.step.numpy())
        if step != point.step or step > self.total:
            raise Sketch2ColorError(
                f"{point.checkpoint} is at step {step}, which does not fit a training of "
                f"{self.total} steps; delete {self.plan.store.folder} to start afresh"
            )
        log.info(
            "train: resumed at step %d of %d (epoch %d, batch %d)",
            step,
            self.total,
            step // self.spe + 1,
            step % self.spe,
        )
        return step, point.train_seconds

    def _train_epoch(self, epoch: int) -> None:
        config, spe = self.config, self.spe
        skip = self.step - epoch * spe
        batches = faults.with_infinite_targets(
            self.plan.source.epoch(epoch, skip), self.step + 1, self.inject_inf_at
        )
        dataset = self.plan.strategy.experimental_distribute_dataset(batches)
        clean, poisoned = tf.constant(0.0), tf.constant(float("nan"))
        interval = _Interval()
        bar = tqdm(
            total=spe,
            initial=skip,
            desc=f"epoch {epoch + 1}/{config.epochs}",
            unit="step",
            disable=not sys.stderr.isatty(),
            leave=True,
            dynamic_ncols=True,
        )
        tick = time.perf_counter()
        for batch in _naming_damaged_shards(dataset, self.plan.source.files):
            poison = poisoned if self.step + 1 == self.inject_nan_at else clean
            values = {name: float(value) for name, value in self.step_fn(batch, poison).items()}
            seconds = time.perf_counter() - tick
            self.step += 1
            _stop_if_diverged(values, self.step, epoch, self.plan.store)
            faults.kill_point("step", self.step)
            if self.step > self.start_step + 1:  # the session's first step includes tracing
                self.step_seconds += seconds
                self.timed_steps += 1
            interval.add(values, seconds)
            bar.update(1)
            bar.set_postfix(
                G=f"{values['gen_total']:.3f}",
                L1=f"{values['gen_l1']:.3f}",
                D=f"{values['disc']:.3f}",
                refresh=False,
            )

            epoch_end = self.step == (epoch + 1) * spe
            if self.step % config.log_every_steps == 0 or epoch_end:
                row = _history_row(interval, self.step, epoch, config.batch_size, self.schedule)
                self.history.append(row)
                if self.step > self.last_logged:
                    self.tracker.log_metrics(row.values, step=self.step)
                    faults.kill_point("mlflow_log", self.step)
                interval.reset()
            if self.step % config.checkpoint_every_steps == 0 and not epoch_end:
                self._save_checkpoint()
            tick = time.perf_counter()
        bar.close()
        if self.step != (epoch + 1) * spe:
            # A shard cut inside a record header reads as a clean, early end of file.
            damaged = find_damaged_shard(self.plan.source.files)
            if damaged is not None:
                raise damaged_shard_error(*damaged)
            raise DataError(
                f"epoch {epoch + 1} ended after {self.step - epoch * spe} of {spe} batches: the "
                "training shards changed while training"
            )

    def _end_epoch(self, epoch: int) -> None:
        means = self.history.epoch_means(epoch + 1)
        log.info(
            "epoch %d/%d: %s",
            epoch + 1,
            self.config.epochs,
            ", ".join(f"{name} {value:.4g}" for name, value in means.items()),
        )
        if epoch + 1 > self.last_logged_epoch:
            self.tracker.log_metrics(
                {f"epoch_{name}": value for name, value in means.items() if name != "lr"}, step=epoch + 1
            )
        _validation_figure(
            self.plan,
            self.state.generator,
            epoch + 1,
            self.tracker if epoch + 1 > self.last_logged_figure else None,
        )
        self._save_checkpoint()

    def _save_checkpoint(self) -> None:
        self.state.set_position(self.step, self.spe)
        if self.plan.writes_outputs:
            self.history.write()
        self.plan.store.save(self.state, self._elapsed())

    def _elapsed(self) -> float:
        """Training time over all sessions of this training."""
        return self.seconds_before + time.perf_counter() - self.session_start

    def _summary(self) -> dict:
        config = self.config
        final = self.history.epoch_means(config.epochs)
        images_per_s = config.batch_size * self.timed_steps / self.step_seconds if self.step_seconds else None
        return {
            "steps": self.step,
            "epochs": config.epochs,
            "steps_per_epoch": self.spe,
            "examples": self.plan.source.examples,
            "batch_size": config.batch_size,
            "replicas": self.plan.strategy.num_replicas_in_sync,
            "precision": training_policy(config.mixed_precision),
            "resumed_from_step": self.start_step,
            "images_per_s": round(images_per_s, 3) if images_per_s else None,
            "wall_time_s": round(self._elapsed(), 3),
            **{name: round(final[name], 6) for name in METRIC_NAMES if name in final},
        }


def _history_row(
    interval: _Interval, step: int, epoch: int, batch: int, schedule: ConstantThenLinearDecay
) -> HistoryRow:
    values = interval.means()
    values["images_per_s"] = batch * interval.steps / interval.seconds if interval.seconds > 0 else 0.0
    # The rate the last update of the interval used (updates are 0-based).
    values["lr"] = float(schedule(step - 1))
    return HistoryRow(step=step, epoch=epoch + 1, values=values)


def _stop_if_diverged(values: Mapping[str, float], step: int, epoch: int, store: CheckpointStore) -> None:
    bad = {k: v for k, v in values.items() if not math.isfinite(v)}
    if not bad:
        return
    kept = store.latest_saved
    if kept:
        where = f"the last good checkpoint {Path(kept).name} is kept"
    else:
        where = "no checkpoint had been saved yet"
    raise Sketch2ColorError(
        f"training diverged at step {step} (epoch {epoch + 1}): non-finite "
        + ", ".join(f"{k}={v}" for k, v in bad.items())
        + f"; this state was not saved and {where}. Try a lower train.learning_rate, "
        "or check the training data."
    )


def _validation_figure(
    plan: TrainingPlan, generator: keras.Model, epoch: int, tracker: Tracker | None
) -> None:
    """The paper's Function 2 for the fixed examples: saved as PNG and logged at step=epoch
    (unless ``tracker`` is None: the run already has this epoch's figure)."""
    from sketch2color.training.validation_figure import render_validation_figure

    if not plan.writes_outputs:
        return
    sketches = to_model_range(plan.validation_sketches)
    predictions = generator(sketches, training=False)
    figure = render_validation_figure(
        plan.validation_sketches, plan.validation_targets, np.asarray(predictions, np.float32), epoch=epoch
    )
    write_rgb(figure, plan.paths.metrics / VALIDATION_FIGURE_FILE)
    if tracker is not None:
        tracker.log_image(VALIDATION_IMAGE_KEY, figure, step=epoch)


def _naming_damaged_shards(dataset, files):
    """The epoch's batches; a shard damaged since the start-up check is named, not an offset.

    TensorFlow's DataLossError says where in a record the read failed, never
    in which file. Only the fetch of the next batch is guarded, so the step
    itself runs as before, and the shards are reread one by one only after a
    failure, to find the one to name (see data.shards.shard_read_error).
    """
    batches = iter(dataset)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except tf.errors.DataLossError as exc:
            raise shard_read_error(files, exc, "the training shards") from None
        yield batch


def _float32_copy(generator: keras.Model, params: Params) -> keras.Model:
    """A plain float32 generator with the trained weights, free of strategy and mixed-precision state."""
    image_size = params.data.image_size
    copy = build_generator(image_size, params.train.ngf, params.train.norm, dtype="float32")
    copy.set_weights([np.asarray(w) for w in generator.get_weights()])
    return copy


def _injected_nan_step() -> int | None:
    raw = os.environ.get(INJECT_NAN_ENV, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Sketch2ColorError(f"{INJECT_NAN_ENV}={raw!r}: expected a step number") from None
