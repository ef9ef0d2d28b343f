"""The bookkeeping around the train step, one job per callback.

The loop (:mod:`sketch2color.training.loop`) only feeds batches to the step;
after each step and each epoch it hands the result to these callbacks, in
order:

* :class:`ProgressBar` - the tqdm bar on a terminal;
* :class:`Throughput` - images per second, leaving out each session's first
  (tracing) step;
* :class:`MetricLog` - the loss history (``metrics/train_history.csv``) and
  the MLflow step and epoch metrics; a resumed run never logs a step twice;
* :class:`ValidationFigure` - the paper's per-epoch figure, on disk and in MLflow;
* :class:`Checkpointer` - a checkpoint every ``train.checkpoint_every_steps``
  steps and at each epoch's end, with the history that matches it.

The tracker is anything with the :class:`Tracker` methods (a
:class:`sketch2color.tracking.TrainingRun` in the stage); it never decides
whether training succeeds.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import Protocol

import keras
import numpy as np
from tqdm import tqdm

from sketch2color.config import TrainConfig
from sketch2color.image_io import write_rgb
from sketch2color.pixels import model_inputs
from sketch2color.training.checkpoints import CheckpointStore
from sketch2color.training.history import METRIC_NAMES, HistoryRow, TrainHistory
from sketch2color.training.hooks import FaultHooks
from sketch2color.training.plan import TrainingPlan
from sketch2color.training.schedule import ConstantThenLinearDecay
from sketch2color.training.state import TrainingState

log = logging.getLogger(__name__)

VALIDATION_IMAGE_KEY = "validation"


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


class Clock:
    """Training time over every session of one training (a resumed one adds to the killed one's)."""

    def __init__(self, seconds_before: float) -> None:
        self.seconds_before = seconds_before
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return self.seconds_before + time.perf_counter() - self.started


class Callback:
    """Does nothing; each callback overrides what it needs."""

    def on_epoch_begin(self, epoch: int, skipped_batches: int) -> None:
        pass

    def on_step_end(self, step: int, epoch: int, values: Mapping[str, float], seconds: float) -> None:
        pass

    def on_epoch_end(self, epoch: int) -> None:
        pass


class ProgressBar(Callback):
    def __init__(self, config: TrainConfig, steps_per_epoch: int) -> None:
        self.config, self.steps_per_epoch = config, steps_per_epoch
        self.bar: tqdm = tqdm(disable=True)  # each epoch opens its own

    def on_epoch_begin(self, epoch: int, skipped_batches: int) -> None:
        self.bar = tqdm(
            total=self.steps_per_epoch,
            initial=skipped_batches,
            desc=f"epoch {epoch + 1}/{self.config.epochs}",
            unit="step",
            disable=not sys.stderr.isatty(),
            leave=True,
            dynamic_ncols=True,
        )

    def on_step_end(self, step, epoch, values, seconds) -> None:
        self.bar.update(1)
        self.bar.set_postfix(
            G=f"{values['gen_total']:.3f}",
            L1=f"{values['gen_l1']:.3f}",
            D=f"{values['disc']:.3f}",
            refresh=False,
        )

    def on_epoch_end(self, epoch: int) -> None:
        self.bar.close()


class Throughput(Callback):
    """Seconds per step, without the session's first step, which includes tracing the graph."""

    def __init__(self, start_step: int) -> None:
        self.start_step = start_step
        self.seconds, self.steps = 0.0, 0

    def on_step_end(self, step, epoch, values, seconds) -> None:
        if step > self.start_step + 1:
            self.seconds += seconds
            self.steps += 1

    def images_per_s(self, batch_size: int) -> float | None:
        return batch_size * self.steps / self.seconds if self.seconds else None


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

    def row(self, step: int, epoch: int, batch: int, schedule: ConstantThenLinearDecay) -> HistoryRow:
        values = {name: total / self.steps for name, total in self.sums.items()}
        values["images_per_s"] = batch * self.steps / self.seconds if self.seconds > 0 else 0.0
        values["lr"] = float(schedule(step - 1))  # the rate the interval's last update used (0-based)
        return HistoryRow(step=step, epoch=epoch + 1, values=values)


class MetricLog(Callback):
    """A history row (and MLflow metrics) every ``log_every_steps`` steps and at each epoch's end."""

    def __init__(
        self,
        plan: TrainingPlan,
        history: TrainHistory,
        tracker: Tracker,
        schedule: ConstantThenLinearDecay,
        hooks: FaultHooks,
    ) -> None:
        self.config, self.steps_per_epoch = plan.params.train, plan.steps_per_epoch
        self.history, self.tracker, self.schedule, self.hooks = history, tracker, schedule, hooks
        self.interval = _Interval()
        # A resumed run never logs a step twice (the killed session may have logged past its checkpoint).
        self.last_logged = tracker.last_logged_step("gen_total")
        self.last_logged_epoch = tracker.last_logged_step("epoch_gen_total")

    def on_step_end(self, step, epoch, values, seconds) -> None:
        self.interval.add(values, seconds)
        epoch_end = step == (epoch + 1) * self.steps_per_epoch
        if step % self.config.log_every_steps and not epoch_end:
            return
        row = self.interval.row(step, epoch, self.config.batch_size, self.schedule)
        self.history.append(row)
        if step > self.last_logged:
            self.tracker.log_metrics(row.values, step=step)
            self.hooks.after_metrics_logged(step)
        self.interval.reset()

    def on_epoch_end(self, epoch: int) -> None:
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


class ValidationFigure(Callback):
    """The paper's Function 2 for the fixed examples: saved as PNG and logged at step=epoch."""

    def __init__(self, plan: TrainingPlan, generator: keras.Model, tracker: Tracker) -> None:
        self.plan, self.generator, self.tracker = plan, generator, tracker
        # Nor an epoch's figure twice: a kill after it was logged but before the epoch's
        # checkpoint was saved makes the resumed training redo that epoch's end.
        self.last_logged = tracker.last_logged_image_step(VALIDATION_IMAGE_KEY)

    def on_epoch_end(self, epoch: int) -> None:
        from sketch2color.training.validation_figure import render_validation_figure

        if not self.plan.writes_outputs:
            return
        hints = self.plan.params.train.hints.enabled  # the figure shows the colouring without hints
        inputs = model_inputs(self.plan.validation_sketches, None, takes_hints=hints)
        predictions = self.generator(inputs, training=False)
        figure = render_validation_figure(
            self.plan.validation_sketches,
            self.plan.validation_targets,
            np.asarray(predictions, np.float32),
            epoch=epoch + 1,
        )
        write_rgb(figure, self.plan.paths.validation_figure)
        if epoch + 1 > self.last_logged:
            self.tracker.log_image(VALIDATION_IMAGE_KEY, figure, step=epoch + 1)


class Checkpointer(Callback):
    """A checkpoint every ``checkpoint_every_steps`` steps and at each epoch's end."""

    def __init__(
        self,
        plan: TrainingPlan,
        state: TrainingState,
        history: TrainHistory,
        clock: Clock,
        hooks: FaultHooks,
        start_step: int,
    ) -> None:
        self.plan, self.state, self.history, self.clock, self.hooks = plan, state, history, clock, hooks
        self.store: CheckpointStore = plan.store
        self.step = start_step

    def on_step_end(self, step, epoch, values, seconds) -> None:
        self.step = step
        epoch_end = step == (epoch + 1) * self.plan.steps_per_epoch
        if step % self.plan.params.train.checkpoint_every_steps == 0 and not epoch_end:
            self.save()

    def on_epoch_end(self, epoch: int) -> None:
        self.save()

    def save(self) -> None:
        self.state.set_position(self.step, self.plan.steps_per_epoch)
        if self.plan.writes_outputs:
            self.history.write()
        self.store.save(self.state, self.clock.elapsed(), self.hooks)
