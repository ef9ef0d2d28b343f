"""Reading the test split and the trained generator, shared by evaluate and export.

Kept apart from the stages so that the export stage depends (in dvc.yaml)
on this small module, not on the whole evaluate stage.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from sketch2color.data.shards import Pair, iterate_pairs
from sketch2color.errors import DataError, Sketch2ColorError

log = logging.getLogger(__name__)

GENERATOR_FILE = "generator.keras"


def check_generator_size(generator, image_size: int, path: Path) -> None:
    """The generator must take data.image_size images, or every score would be an error."""
    shape = tuple(generator.input_shape)
    if len(shape) != 4 or shape[1:] != (image_size, image_size, 3):
        raise Sketch2ColorError(
            f"{path} takes inputs of shape {shape}, but data.image_size is {image_size}: "
            "retrain (dvc repro) after changing the image size"
        )


def read_pairs(shards: Sequence[Path], image_size: int, skipped: list[dict]) -> Iterator[Pair]:
    """Pairs from every readable shard, in order; a damaged shard is reported, not fatal.

    The records before the damage are kept; the rest of that shard is listed
    in ``skipped`` (and in eval.json), and the other shards are still read.
    Records of another size mean data/split is stale: that is fatal, with a
    message saying what to rerun.
    """
    import tensorflow as tf
    from google.protobuf.message import DecodeError

    for path in shards:
        read = 0
        try:
            for pair in iterate_pairs([path]):
                if pair.sketch.shape != (image_size, image_size, 3):
                    raise DataError(
                        f"{path}: records are {pair.sketch.shape[0]} px but data.image_size is "
                        f"{image_size}: data/split is stale; rerun the split stage"
                    )
                read += 1
                yield pair
        except (tf.errors.OpError, DecodeError, ValueError, KeyError, IndexError) as exc:
            lines = str(exc).strip().splitlines()
            reason = f"{type(exc).__name__}: {lines[0] if lines else 'unreadable record'}"
            log.warning("skipping the rest of %s after %d records: %s", path, read, reason)
            skipped.append({"path": path.name, "records_kept": read, "reason": reason})


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
