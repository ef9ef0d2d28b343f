"""Reading shards that may be damaged, in one of two modes, and naming the damaged file.

A shard is a stage's output: a disk fault, a copy cut short or a killed
writer can damage one after it was written. Readers differ in what they can
do about it, so there are two modes, and every reader is one of them:

* **strict** (training, the mean-colour baseline): every record or nothing.
  Training plans its steps from the record count and fingerprints the data,
  and a baseline over part of the split would not be the baseline it is
  called; a damaged shard stops the stage with a :class:`DamagedShardError`
  that names the file and the stage to rerun.
* **lenient** (augment, evaluate, export, the validation figure): the
  records before the damage are kept, the rest of that shard is listed in a
  ``skipped`` report, and the other shards are still read; one bad file
  costs its records, not the stage.

TensorFlow's reader checks every record's CRC32C in C++ but takes a shard
cut inside a record header for a clean end of file, so both modes also walk
the record headers (:func:`framing_damage`, microseconds per record).
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from sketch2color.data.shards import Pair, find_shards, iterate_pairs
from sketch2color.errors import DamagedShardError, DataError

log = logging.getLogger(__name__)

# A TFRecord is: length (uint64 LE), masked CRC32C of the length, the data, masked CRC32C of it.
_RECORD_HEADER = struct.Struct("<QI")
_RECORD_FOOTER_BYTES = 4
# TensorFlow wraps an op's message in "{{function_node ...}} ... [Op:Name] name: ".
_TF_DECORATION = re.compile(r"^\{\{[^}]*\}\}\s*|\s*\[Op:[^\]]*\].*$")
# Which stage writes the shards of each data/ folder (see ProjectPaths): the one to rerun when
# a shard there is damaged.
_WRITER_OF_FOLDER = {"split": "split", "augmented": "augment"}
MAX_PARALLEL_FILES = 8
"""Shard files read at once: more only adds memory on 2 cores."""


def parallel_reads(paths) -> int:
    """How many of ``paths`` TensorFlow's reader should read in parallel."""
    return max(1, min(len(paths), MAX_PARALLEL_FILES))


# ---------------------------------------------------------------- the two modes


def read_pairs(
    paths: Sequence[Path],
    *,
    strict: bool,
    what: str,
    skipped: list[dict] | None = None,
    label: Callable[[Path], str] = str,
) -> Iterator[Pair]:
    """Every pair of ``paths`` in order, strictly or leniently (see the module docstring).

    ``what`` names the shards in a strict error ("the train split");
    ``skipped`` collects a lenient reader's damaged shards, each named by
    ``label``.
    """
    if strict:
        yield from _read_strictly(paths, what)
    else:
        yield from _read_leniently(paths, [] if skipped is None else skipped, label)


def _read_strictly(paths: Sequence[Path], what: str) -> Iterator[Pair]:
    for path in paths:
        reason = framing_damage(path)
        if reason is not None:
            raise damaged_shard_error(path, reason)
    try:
        yield from iterate_pairs(paths)
    except _read_errors() as exc:
        raise shard_read_error(paths, exc, what) from None


def _read_leniently(
    paths: Sequence[Path], skipped: list[dict], label: Callable[[Path], str], warn: bool = True
) -> Iterator[Pair]:
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
            if warn:
                log.warning(
                    "skipping the rest of %s after %d records: %s; %s", path, read, reason, rewrite_hint(path)
                )
            skipped.append({"path": label(path), "records_kept": read, "reason": reason})


def count_records(paths: Sequence[Path], what: str) -> int:
    """How many records the shards hold, strictly (read in parallel; nothing is decoded).

    Reads every byte through TensorFlow's reader, which checks each record's
    masked CRC32Cs in C++, after the header walk that catches the one cut
    that reader misses; so a count is also a full check of the data.
    """
    import tensorflow as tf

    for path in paths:
        reason = framing_damage(path)
        if reason is not None:
            raise damaged_shard_error(path, reason)
    dataset = tf.data.TFRecordDataset([str(p) for p in paths], num_parallel_reads=parallel_reads(paths))
    try:
        return int(dataset.reduce(np.int64(0), lambda count, _: count + 1).numpy())
    except tf.errors.OpError as exc:
        raise shard_read_error(paths, exc, what) from None


def read_split(
    folder: Path, split: str, image_size: int, skipped: list[dict], warn: bool = True
) -> Iterator[Pair]:
    """The pairs of one split of ``data/split``, leniently, each checked to be ``image_size``.

    Records of another size mean data/split is stale (written at another
    ``data.image_size``): that is fatal, with a message saying what to rerun.
    Damaged shards are named by file name in ``skipped``; ``warn=False`` for
    a second pass over shards whose damage the first one already reported.
    """
    for path in find_shards(folder, split):
        for pair in _read_leniently([path], skipped, label=_file_name, warn=warn):
            if pair.sketch.shape != (image_size, image_size, 3):
                raise DataError(
                    f"{path}: records are {pair.sketch.shape[0]} px but data.image_size is "
                    f"{image_size}: data/split is stale; rerun the split stage"
                )
            yield pair


def _file_name(path: Path) -> str:
    return path.name


# ---------------------------------------------------------------- naming the damage


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
