"""Reading the test split and the trained generator, shared by evaluate and export.

Kept apart from the stages so that the export stage depends (in dvc.yaml)
on this small module, not on the whole evaluate stage.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from sketch2color.data.shards import Pair, iterate_intact_pairs
from sketch2color.errors import DataError, Sketch2ColorError


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
    in ``skipped`` (and in eval.json, by file name), and the other shards are
    still read: scores over the intact records are still worth having.
    Records of another size mean data/split is stale: that is fatal, with a
    message saying what to rerun.
    """
    for path in shards:
        for pair in iterate_intact_pairs([path], skipped, label=_file_name):
            if pair.sketch.shape != (image_size, image_size, 3):
                raise DataError(
                    f"{path}: records are {pair.sketch.shape[0]} px but data.image_size is "
                    f"{image_size}: data/split is stale; rerun the split stage"
                )
            yield pair


def _file_name(path: Path) -> str:
    return path.name


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
