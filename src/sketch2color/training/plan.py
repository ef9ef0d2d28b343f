"""Everything decided before a training starts: its data, strategy, checkpoints and resume point.

:func:`prepare_training` reads the shards (counting them, checking their
size), compares the checkpoint fingerprint and decides whether to resume and
under which MLflow run id, so that the stage can open that run before a
single step is trained (see :mod:`sketch2color.training.loop`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from sketch2color.config import Params
from sketch2color.data.shards import find_shards
from sketch2color.errors import DataError, Sketch2ColorError
from sketch2color.paths import ProjectPaths
from sketch2color.training.checkpoints import CheckpointStore, OpenedStore
from sketch2color.training.dataset import ShardSource, check_image_size, load_examples
from sketch2color.training.precision import training_policy
from sketch2color.training.strategy import describe, is_chief, make_strategy

log = logging.getLogger(__name__)


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
        hints=config.hints,
    )
    sketches, targets = _validation_examples(paths, params, train_files)

    chief = is_chief(strategy)
    store = CheckpointStore(paths.checkpoints, config.keep_checkpoints, writable=chief)
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
