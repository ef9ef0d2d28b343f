"""The TFRecord shard format shared by split, augment, train and evaluate.

A record is one pair at a fixed square size: the sketch and the colour image
as raw uint8 RGB bytes (lossless, and decoded by a reshape rather than a PNG
decoder), plus its size and the name of the raw file it came from. Scaling to
the model's [-1, 1] range happens when reading
(:func:`sketch2color.pixels.to_model_range`). Reading shards that may
be damaged, strictly or leniently, is :mod:`sketch2color.data.shard_reader`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sketch2color.atomic import atomic_path

log = logging.getLogger(__name__)

SHARD_SUFFIX = ".tfrecord"


@dataclass(frozen=True)
class Pair:
    """One training example in memory: two HxWx3 uint8 arrays and where it came from."""

    sketch: np.ndarray
    color: np.ndarray
    name: str


def shard_paths(folder: Path, split: str, count: int) -> list[Path]:
    return [folder / f"{split}-{i:05d}-of-{count:05d}{SHARD_SUFFIX}" for i in range(count)]


def find_shards(folder: Path, split: str) -> list[Path]:
    """The shards of one split in a folder, in name order."""
    return sorted(Path(folder).glob(f"{split}-*{SHARD_SUFFIX}"))


def _bytes_feature(value: bytes):
    import tensorflow as tf

    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int_feature(value: int):
    import tensorflow as tf

    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def serialize_pair(pair: Pair) -> bytes:
    import tensorflow as tf

    size = pair.sketch.shape[0]
    if pair.sketch.shape != (size, size, 3) or pair.color.shape != (size, size, 3):
        raise ValueError(
            f"{pair.name}: expected two {size}x{size}x3 arrays, "
            f"got {pair.sketch.shape} and {pair.color.shape}"
        )
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "sketch": _bytes_feature(np.ascontiguousarray(pair.sketch, np.uint8).tobytes()),
                "color": _bytes_feature(np.ascontiguousarray(pair.color, np.uint8).tobytes()),
                "size": _int_feature(size),
                "name": _bytes_feature(pair.name.encode("utf-8")),
            }
        )
    )
    # Protobuf map order varies between processes; deterministic=True keeps shard bytes (and
    # so DVC hashes) identical across runs and machines.
    return example.SerializeToString(deterministic=True)


def write_shards(pairs: Iterable[Pair], folder: Path, split: str, count: int) -> list[int]:
    """Write pairs round-robin into ``count`` shards, each atomically; return per-shard counts.

    Round-robin (not contiguous blocks) keeps shards the same size, so a
    parallel interleaved reader mixes the whole split from the first batch.
    """

    folder.mkdir(parents=True, exist_ok=True)
    targets = shard_paths(folder, split, count)
    counts = [0] * count
    with _AtomicShardWriters(targets) as writers:
        for index, pair in enumerate(pairs):
            writers[index % count].write(serialize_pair(pair))
            counts[index % count] += 1
    return counts


class _AtomicShardWriters:
    """Open one TFRecordWriter per shard on temporary names; rename all on clean exit."""

    def __init__(self, targets: Sequence[Path]) -> None:
        self._contexts = [atomic_path(t) for t in targets]
        self._writers: list = []

    def __enter__(self):
        import tensorflow as tf

        tmp_paths = [ctx.__enter__() for ctx in self._contexts]
        self._writers = [tf.io.TFRecordWriter(str(p)) for p in tmp_paths]
        return self._writers

    def __exit__(self, exc_type, exc, tb):
        for writer in self._writers:
            writer.close()
        for ctx in self._contexts:
            ctx.__exit__(exc_type, exc, tb)
        return False


_FEATURES = None


def _feature_spec():
    import tensorflow as tf

    global _FEATURES
    if _FEATURES is None:
        _FEATURES = {
            "sketch": tf.io.FixedLenFeature([], tf.string),
            "color": tf.io.FixedLenFeature([], tf.string),
            "size": tf.io.FixedLenFeature([], tf.int64),
            "name": tf.io.FixedLenFeature([], tf.string),
        }
    return _FEATURES


def parse_record(record, image_size: int):
    """Graph-mode parser: serialized Example -> (sketch uint8, colour uint8), both HxWx3."""
    import tensorflow as tf

    parsed = tf.io.parse_single_example(record, _feature_spec())
    shape = (image_size, image_size, 3)
    sketch = tf.reshape(tf.io.decode_raw(parsed["sketch"], tf.uint8), shape)
    color = tf.reshape(tf.io.decode_raw(parsed["color"], tf.uint8), shape)
    return sketch, color


def iterate_pairs(paths: Sequence[Path]) -> Iterator[Pair]:
    """Eager, ordered reading of shards into numpy Pairs (for augment, previews and tests)."""
    import tensorflow as tf

    for path in paths:
        for record in tf.data.TFRecordDataset(str(path)):
            example = tf.train.Example.FromString(record.numpy())
            feature = example.features.feature
            size = int(feature["size"].int64_list.value[0])
            shape = (size, size, 3)
            yield Pair(
                sketch=np.frombuffer(feature["sketch"].bytes_list.value[0], np.uint8).reshape(shape),
                color=np.frombuffer(feature["color"].bytes_list.value[0], np.uint8).reshape(shape),
                name=feature["name"].bytes_list.value[0].decode("utf-8"),
            )


def image_size_of(paths: Sequence[Path]) -> int:
    """The square size stored in the first record (all records in a split share it)."""
    for pair in iterate_pairs(paths[:1]):
        return pair.sketch.shape[0]
    raise ValueError(f"no records in {paths[0] if paths else 'an empty shard list'}")
