"""DVC stage ``augment``: data/split/train -> data/augmented (originals plus augmented copies).

Reads ``augment.*``; writes the shards, ``data/augmented/augment_report.json``
and the preview grid ``metrics/augment_preview.png``. The paper's transforms
are :mod:`sketch2color.data.augment`.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from sketch2color import atomic
from sketch2color.config import Params
from sketch2color.data.augment import SPLIT, augmented_copies, preview_grid, write_preview
from sketch2color.data.shard_reader import read_pairs
from sketch2color.data.shards import Pair, find_shards, shard_paths, write_shards
from sketch2color.errors import DataError
from sketch2color.paths import ProjectPaths

log = logging.getLogger(__name__)


def _remove_stale_shards(folder: Path, keep: Sequence[Path]) -> None:
    """Delete train shards of an earlier, different shard count, which a glob would still find."""
    wanted = {p.resolve() for p in keep}
    for path in find_shards(folder, SPLIT):
        if path.resolve() not in wanted:
            path.unlink()


def run(params: Params, paths: ProjectPaths) -> None:
    """Write originals plus ``augment.copies`` copies of each training pair, a preview and a report.

    Pairs stream from the split shards to the augmented shards; only the
    preview rows are held in memory.
    """
    config = params.augment
    sources = find_shards(paths.split, SPLIT)
    if not sources:
        raise DataError(
            f"no training shards ({SPLIT}-*.tfrecord) in {paths.split}; run the split stage first"
        )
    skipped: list[dict] = []
    pairs = read_pairs(sources, strict=False, what="the train split", skipped=skipped)
    first = next(pairs, None)
    if first is None:
        detail = f" ({len(skipped)} damaged shard(s): {skipped})" if skipped else ""
        raise DataError(f"the training split in {paths.split} has no records{detail}")

    preview_rows: list[list[Pair]] = []
    input_pairs = 0

    def records() -> Iterator[Pair]:
        nonlocal input_pairs
        for index, pair in enumerate(itertools.chain([first], pairs)):
            copies = augmented_copies(pair, index, config, params.seed)
            if index < config.preview_pairs:
                preview_rows.append([pair, *copies])
            input_pairs += 1
            yield pair
            yield from copies

    started = time.perf_counter()
    counts = write_shards(records(), paths.augmented, SPLIT, config.shards)
    seconds = time.perf_counter() - started
    _remove_stale_shards(paths.augmented, shard_paths(paths.augmented, SPLIT, config.shards))
    write_preview(preview_grid(preview_rows), paths.augment_preview)

    report = {
        "input_pairs": input_pairs,
        "copies_per_pair": config.copies,
        "output_records": sum(counts),
        "shards": config.shards,
        "per_shard_counts": counts,
        "image_size": int(first.sketch.shape[0]),
        "seed": params.seed,
        "source_shards": [p.name for p in sources],
        "skipped_shards": skipped,
    }
    atomic.write_json(paths.augment_report, report)
    log.info(
        "augmented %d training pairs into %d records (%d shards) in %.1f s%s",
        input_pairs,
        sum(counts),
        config.shards,
        seconds,
        f"; {len(skipped)} damaged shard(s) skipped" if skipped else "",
    )
