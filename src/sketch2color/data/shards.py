"""The TFRecord shard format shared by split, augment, train and evaluate.

A record is one pair at a fixed square size: the sketch and the colour image
as raw uint8 RGB bytes (lossless, and decoded by a reshape rather than a PNG
decoder), plus its size and the name of the raw file it came from. Scaling to
the model's [-1, 1] range happens when reading, in :func:`to_model_range`.
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sketch2color.atomic import atomic_path
from sketch2color.errors import DamagedShardError, DataError

log = logging.getLogger(__name__)

SHARD_SUFFIX = ".tfrecord"
# Which stage writes the shards of each data/ folder (see ProjectPaths): the one to rerun when
# a shard there is damaged.
_WRITER_OF_FOLDER = {"split": "split", "augmented": "augment"}
# TensorFlow wraps an op's message in "{{function_node ...}} ... [Op:Name] name: ".
_TF_DECORATION = re.compile(r"^\{\{[^}]*\}\}\s*|\s*\[Op:[^\]]*\].*$")
# A TFRecord is: length (uint64 LE), masked CRC32C of the length, the data, masked CRC32C of it.
_RECORD_HEADER = struct.Struct("<QI")
_RECORD_FOOTER_BYTES = 4


@dataclass(frozen=True)
class Pair:
    """One training example in memory: two HxWx3 uint8 arrays and where it came from."""

    sketch: np.ndarray
    colour: np.ndarray
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
    if pair.sketch.shape != (size, size, 3) or pair.colour.shape != (size, size, 3):
        raise ValueError(
            f"{pair.name}: expected two {size}x{size}x3 arrays, "
            f"got {pair.sketch.shape} and {pair.colour.shape}"
        )
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "sketch": _bytes_feature(np.ascontiguousarray(pair.sketch, np.uint8).tobytes()),
                "colour": _bytes_feature(np.ascontiguousarray(pair.colour, np.uint8).tobytes()),
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
            "colour": tf.io.FixedLenFeature([], tf.string),
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
    colour = tf.reshape(tf.io.decode_raw(parsed["colour"], tf.uint8), shape)
    return sketch, colour


def to_model_range(image):
    """uint8 [0, 255] -> float32 [-1, 1], the generator's tanh range."""
    import tensorflow as tf

    return tf.cast(image, tf.float32) / 127.5 - 1.0


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
                colour=np.frombuffer(feature["colour"].bytes_list.value[0], np.uint8).reshape(shape),
                name=feature["name"].bytes_list.value[0].decode("utf-8"),
            )


def image_size_of(paths: Sequence[Path]) -> int:
    """The square size stored in the first record (all records in a split share it)."""
    for pair in iterate_pairs(paths[:1]):
        return pair.sketch.shape[0]
    raise ValueError(f"no records in {paths[0] if paths else 'an empty shard list'}")


# ---------------------------------------------------------------- damaged shards


def rewrite_hint(path: Path) -> str:
    """What to run so that the stage which wrote ``path`` writes it again.

    Taken from the shard's folder rather than passed in by the caller,
    because some readers (``check_image_size`` in training) serve shards of
    both data/split and data/augmented and do not know which they were given.
    ``-s`` reruns that one stage only: ``-f`` alone would also force every
    stage above it (a fresh fetch, perhaps a download) for one bad file.
    """
    stage = _WRITER_OF_FOLDER.get(Path(path).parent.name)
    if stage is None:
        return "write it again with the stage that produced it"
    return f"rerun `dvc repro -f -s {stage}` to write it again"


def damage_reason(exc: BaseException) -> str:
    """``Type: first line`` of a read error, without TensorFlow's op decoration around it."""
    message = getattr(exc, "message", None) or str(exc)
    lines = message.strip().splitlines()
    first = _TF_DECORATION.sub("", lines[0]).strip() if lines else ""
    return f"{type(exc).__name__}: {first or 'unreadable record'}"


def _read_errors() -> tuple[type[BaseException], ...]:
    """What a damaged shard raises while read record by record (TensorFlow imported lazily)."""
    import tensorflow as tf
    from google.protobuf.message import DecodeError

    return (tf.errors.OpError, DecodeError, ValueError, KeyError, IndexError)


def iterate_intact_pairs(
    paths: Sequence[Path], skipped: list[dict], label: Callable[[Path], str] = str
) -> Iterator[Pair]:
    """Pairs from every readable shard, in order; a damaged shard is reported, not fatal.

    For readers that go record by record in Python anyway (augment, evaluate,
    export): the records before the damage were read intact and are kept, the
    rest of that shard is listed in ``skipped`` (``label`` names the shard
    there, as each stage's report already did), and the other shards are
    still read. One bad file should cost its records, not the stage.
    """
    errors = _read_errors()
    for path in paths:
        read = 0
        try:
            for pair in iterate_pairs([path]):
                read += 1
                yield pair
            reason = framing_damage(path)  # a cut in a header reads as a clean end of file
        except errors as exc:
            reason = damage_reason(exc)
        if reason is not None:
            log.warning(
                "skipping the rest of %s after %d records: %s; %s", path, read, reason, rewrite_hint(path)
            )
            skipped.append({"path": label(path), "records_kept": read, "reason": reason})


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


def masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: CRC32C (Castagnoli), rotated and offset (pure Python: short inputs only)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def framing_damage(path: Path) -> str | None:
    """Why a shard's TFRecord framing is broken, or None when it is whole records end to end.

    Needed beside TensorFlow's reader, which takes a shard cut inside a
    record header for a clean end of file and so silently loses the records
    after the cut. Only the 12-byte headers are read (a pure-Python CRC32C of
    8 bytes is cheap) and the data is seeked over, so this costs microseconds
    per record; the data CRCs are left to TensorFlow, which checks them in C++
    on every read.
    """
    size = Path(path).stat().st_size
    offset = 0
    with open(path, "rb") as fh:
        while offset < size:
            if size - offset < _RECORD_HEADER.size:
                return f"truncated record header at byte {offset}"
            fh.seek(offset)
            header = fh.read(_RECORD_HEADER.size)
            length, length_crc = _RECORD_HEADER.unpack(header)
            if masked_crc32c(header[:8]) != length_crc:
                return f"corrupted record length at byte {offset}"
            end = offset + _RECORD_HEADER.size + length + _RECORD_FOOTER_BYTES
            if end > size:
                return f"truncated record at byte {offset}: the file ends {end - size} bytes early"
            offset = end
    return None


def count_shard_records(path: Path) -> int:
    """Records in one shard, read through TensorFlow's reader, which checks every CRC.

    Raises ``tf.errors.OpError`` (``DataLossError``) for a truncated or
    corrupted shard; no record is parsed, so this runs at disk speed.
    """
    import tensorflow as tf

    dataset = tf.data.TFRecordDataset(str(path))
    return int(dataset.reduce(np.int64(0), lambda count, _: count + 1).numpy())


def find_damaged_shard(paths: Sequence[Path]) -> tuple[Path, str] | None:
    """The first shard whose TFRecord framing or checksums do not read back, and why."""
    import tensorflow as tf

    for path in paths:
        reason = framing_damage(path)
        if reason is not None:
            return Path(path), reason
        try:
            count_shard_records(path)
        except tf.errors.DataLossError as exc:  # not e.g. PermissionDenied: that is no damage
            return Path(path), damage_reason(exc)
    return None


def damaged_shard_error(path: Path, reason: str) -> DamagedShardError:
    """The error for a shard a stage cannot do without: which file, why, and what to run."""
    return DamagedShardError(path, reason, rewrite_hint(path))


def shard_read_error(paths: Sequence[Path], exc: BaseException, what: str) -> DataError:
    """The error for a failed read of several shards at once, naming the damaged one.

    TensorFlow's error gives an offset, never the file, and a read of many
    shards together cannot tell which one failed; so each is read again alone,
    only after a failure, and the normal read costs nothing extra. If every
    shard reads alone (it changed meanwhile, or the fault was not the data's),
    the folder is named instead.
    """
    damaged = find_damaged_shard(paths)
    if damaged is not None:
        return damaged_shard_error(*damaged)
    first = Path(paths[0])
    return DataError(f"{first.parent}: reading {what} failed ({damage_reason(exc)}); {rewrite_hint(first)}")
