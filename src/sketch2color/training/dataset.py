"""tf.data input for training: shards -> shuffled, batched pairs in [-1, 1].

Resumable by construction. Each epoch gets its own dataset whose shuffle seed
is derived from (seed, epoch), so the order of epoch ``e`` is the same in the
first run and in a resumed one; resuming in the middle of an epoch skips the
batches that were already trained on. The data position is therefore just
(epoch, batch within the epoch), which the checkpoint stores as plain
integers - no iterator state (a shuffle buffer can be gigabytes) is saved.

All epochs share one in-memory cache of the decoded uint8 pairs (when
``train.cache_dataset``), filled during the first epoch; pixels are scaled to
float32 only after batching, so the cache holds 1 byte per channel, not 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from sketch2color.config import HintsConfig
from sketch2color.data.hints import sample_hints
from sketch2color.data.shard_reader import (
    count_records,
    damage_reason,
    damaged_shard_error,
    parallel_reads,
    read_pairs,
)
from sketch2color.data.shards import image_size_of, parse_record
from sketch2color.errors import DataError
from sketch2color.pixels import stack_inputs, to_model_range


def check_image_size(files: Sequence[Path], image_size: int) -> None:
    """Fail with the file's name when shards were written at another data.image_size."""
    for path in files:
        try:
            found = image_size_of([path])
        except ValueError:
            continue  # an empty shard holds no size to disagree with
        except tf.errors.OpError as exc:
            raise damaged_shard_error(path, damage_reason(exc)) from None
        if found != image_size:
            raise DataError(
                f"{path}: holds {found}x{found} pairs but data.image_size is {image_size}; "
                "rerun the split and augment stages (dvc repro) after changing data.image_size"
            )


def epoch_seed(seed: int, epoch: int) -> int:
    """A shuffle seed per epoch, a pure function of (seed, epoch) so resume replays it."""
    return (seed * 1_000_003 + epoch * 7_919 + 1) % (2**31 - 1)


class ShardSource:
    """The training shards and how to batch them; builds one dataset per epoch.

    Opening it checks the shards' image size and counts their pairs, so a
    wrong or empty dataset fails before any model is built.
    """

    def __init__(
        self,
        files: Sequence[Path],
        image_size: int,
        global_batch: int,
        shuffle_buffer: int,
        seed: int,
        cache: bool,
        hints: HintsConfig | None = None,
    ) -> None:
        if not files:
            raise DataError("no training shards found (expected data/augmented/train-*.tfrecord)")
        check_image_size(files, image_size)
        self.files = tuple(Path(f) for f in files)
        self.image_size = image_size
        self.global_batch = global_batch
        self.shuffle_buffer = shuffle_buffer
        self.seed = seed
        self.cache = cache
        self.hints = hints if hints is not None and hints.enabled else None
        # A strict count: a damaged shard stops training here, named, before any model is built.
        self.examples = count_records(self.files, "the training shards")
        if self.examples < global_batch:
            raise DataError(
                f"{self.files[0].parent}: only {self.examples} training pairs, fewer than one "
                f"batch of train.batch_size={global_batch}"
            )
        self._decoded = self._build_decoded()

    @property
    def steps_per_epoch(self) -> int:
        """Full batches per epoch (the last partial batch is dropped: fixed shapes, even replicas)."""
        return self.examples // self.global_batch

    def epoch(self, epoch: int, skip_batches: int = 0) -> tf.data.Dataset:
        """Batches of (generator inputs, colour) float32 in [-1, 1] for ``epoch``, minus the first
        ``skip_batches``. The inputs are the sketch, and with ``hints`` its simulated hints, drawn
        with a seed of (epoch, batch index): the same batch gets the same hints after a resume."""
        shuffle_seed = epoch_seed(self.seed, epoch)
        dataset = self._decoded.shuffle(
            self.shuffle_buffer, seed=shuffle_seed, reshuffle_each_iteration=False
        )
        dataset = dataset.batch(self.global_batch, drop_remainder=True).enumerate()
        if skip_batches:
            dataset = dataset.skip(skip_batches)
        hints = self.hints

        def model_inputs(index, batch):
            sketch, color = to_model_range(batch[0]), to_model_range(batch[1])
            if hints is None:
                return sketch, color
            drawn = sample_hints(color, sketch, tf.stack([tf.constant(shuffle_seed, tf.int64), index]), hints)
            return stack_inputs(sketch, drawn.colors, drawn.mask), color

        dataset = dataset.map(model_inputs, num_parallel_calls=tf.data.AUTOTUNE)
        options = tf.data.Options()
        # Every worker reads all shards and keeps its part of each batch: a
        # file-level split would give workers unequal step counts and hang.
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        options.deterministic = True
        return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)

    def _build_decoded(self) -> tf.data.Dataset:
        size = self.image_size
        dataset = tf.data.Dataset.from_tensor_slices([str(f) for f in self.files])
        dataset = dataset.interleave(
            tf.data.TFRecordDataset,
            cycle_length=parallel_reads(self.files),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        dataset = dataset.map(
            lambda record: parse_record(record, size),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        return dataset.cache() if self.cache else dataset


def load_examples(files: Sequence[Path], count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` pairs of the shards as uint8 (sketches, colours), for validation figures.

    A damaged shard here (data/split/val) is skipped with a warning naming it,
    not fatal: the figure only illustrates training, and with no pairs left
    the caller falls back to training pairs.
    """
    sketches: list[np.ndarray] = []
    colors: list[np.ndarray] = []
    for pair in read_pairs(list(files), strict=False, what="the validation pairs"):
        if len(sketches) == count:
            break
        sketches.append(pair.sketch)
        colors.append(pair.color)
    if not sketches:
        raise DataError(f"no pairs to draw the validation figure from in {[str(f) for f in files]}")
    return np.stack(sketches), np.stack(colors)
