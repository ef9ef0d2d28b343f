"""The split stage: raw pair files -> train/val/test TFRecord shards and a manifest.

Files are assigned to splits *before* they are decoded, from a seeded
permutation of their sorted relative paths, so the assignment depends only on
the file list and the seed: a bad file removes one pair from its split and
moves nothing else. Decoding runs in worker processes and streams straight
into the shard writers, so memory stays flat for the full Kaggle set.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sketch2color.atomic import atomic_directory, write_json
from sketch2color.config import Params
from sketch2color.data.images import BadImage, is_image_name, load_pair
from sketch2color.data.shards import Pair, write_shards
from sketch2color.errors import DataError
from sketch2color.paths import ProjectPaths

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
RAW_FOLDERS = ("train", "val")


@dataclass(frozen=True)
class RawFile:
    """A raw pair file and its path relative to data/raw (its stable name)."""

    path: Path
    name: str


@dataclass
class SplitResult:
    counts: dict[str, int] = field(default_factory=dict)
    shard_counts: dict[str, list[int]] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)


def list_raw_files(raw: Path) -> tuple[dict[str, list[RawFile]], list[dict[str, str]]]:
    """Image files under raw/train and raw/val (any depth), sorted; other files are reported."""
    found: dict[str, list[RawFile]] = {folder: [] for folder in RAW_FOLDERS}
    ignored: list[dict[str, str]] = []
    for folder in RAW_FOLDERS:
        base = raw / folder
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file() or p.is_symlink()):
            name = record_name(path.relative_to(raw).as_posix())
            if path.is_symlink():
                ignored.append({"file": name, "reason": "symbolic link refused"})
            elif is_image_name(path):
                found[folder].append(RawFile(path, name))
            else:
                ignored.append({"file": name, "reason": "not an image file name"})
    return found, ignored


def record_name(relative: str) -> str:
    """The file's relative path as valid UTF-8, the form a record and the manifest can hold.

    Linux file names are bytes: one that is not UTF-8 (a zip or a disk from
    an old system) reaches Python with surrogate escapes, which cannot be
    encoded. Its undecodable bytes are written as ``\\xNN`` instead, so the
    pair is kept and its name still says which file it was.
    """
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(relative).decode("utf-8", errors="backslashreplace")
    return relative


def assign_splits(
    files: dict[str, list[RawFile]], params: Params, groups: Mapping[str, str] | None = None
) -> dict[str, list[RawFile]]:
    """Deterministic train/val/test lists from the seed and the fractions.

    With ``split.test_source: kaggle_val`` the archive's val/ folder is the test
    set and only train/ is divided into train and val. ``groups`` (from
    ``data/raw/pair_groups.json``) names pairs that are variants of one drawing:
    a group is assigned as a whole, so no split holds a recoloured twin of
    another's pair. Without it every file is its own group. The fractions are
    of groups (drawings), and the groups are shuffled as a whole: a set with
    and without its variants puts the same drawings in the test split only if
    both hold the same groups. With OpenMoji's ``skin_tones: include`` the
    fetch keeps a slightly different set of drawings (its recoloured-twin
    check sees the variants too), so its test split holds mostly other
    drawings than without (docs/openmoji.md).
    """
    cfg = params.split
    rng = np.random.default_rng(params.seed)
    if cfg.test_source == "kaggle_val":
        if not files["val"]:
            raise DataError(
                "split.test_source is 'kaggle_val' but data/raw/val holds no images; "
                "use test_source: fraction or fetch an archive with a val/ folder"
            )
        pool, test = files["train"], list(files["val"])
        test_fraction = 0.0
    else:
        pool, test = files["train"] + files["val"], []
        test_fraction = cfg.test_fraction
    units = _variant_units(pool, groups or {})
    order = [units[i] for i in rng.permutation(len(units))]
    n_val = _share(len(order), cfg.val_fraction)
    n_test = _share(len(order), test_fraction)
    if n_val + n_test >= len(order):
        n_val = n_test = 0
    assigned = {
        "val": [raw for unit in order[:n_val] for raw in unit],
        "test": test + [raw for unit in order[n_val : n_val + n_test] for raw in unit],
        "train": [raw for unit in order[n_val + n_test :] for raw in unit],
    }
    # Shards are written in name order so output bytes do not depend on the permutation's
    # interaction with worker scheduling; the permutation only decides membership.
    return {split: sorted(members, key=lambda f: f.name) for split, members in assigned.items()}


def _variant_units(pool: Sequence[RawFile], groups: Mapping[str, str]) -> list[list[RawFile]]:
    """The pool as units that move together: one per group (in the order of its first file)."""
    units: dict[str, list[RawFile]] = {}
    for index, raw in enumerate(pool):
        units.setdefault(groups.get(raw.name, f"\0file {index}"), []).append(raw)
    return list(units.values())


def read_pair_groups(paths: ProjectPaths) -> dict[str, str]:
    """``data/raw/pair_groups.json`` (a source that knows its variants writes it), else {}."""
    try:
        payload = json.loads(paths.pair_groups.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise DataError(f"{paths.pair_groups}: unreadable ({exc}); rerun the fetch stage") from None
    if not isinstance(payload, dict) or not all(isinstance(v, str) for v in payload.values()):
        raise DataError(
            f"{paths.pair_groups}: expected a JSON object of file name to group name; rerun the fetch stage"
        )
    return payload


def _share(total: int, fraction: float) -> int:
    if fraction <= 0 or total == 0:
        return 0
    return max(1, int(round(total * fraction)))


def _decode_job(job: tuple[str, str, int, int]) -> tuple[str, tuple[np.ndarray, np.ndarray] | str]:
    """(name, (sketch, colour)), or (name, why the file was skipped)."""
    path, name, image_size, max_pixels = job
    try:
        return name, load_pair(Path(path), image_size, max_pixels)
    except BadImage as exc:
        return name, str(exc)
    except Exception as exc:  # noqa: BLE001 - a decoder crash on one file must not stop the run
        return name, f"unexpected decoder error: {type(exc).__name__}: {exc}"


def _decoded_pairs(
    files: Sequence[RawFile], params: Params, pool, skipped: list[dict[str, str]]
) -> Iterator[Pair]:
    jobs = [
        (str(f.path), f.name, params.data.image_size, params.fetch.safety.max_image_pixels) for f in files
    ]
    results = pool.map(_decode_job, jobs, chunksize=8) if pool else map(_decode_job, jobs)
    try:
        for name, decoded in results:
            if isinstance(decoded, str):
                log.warning("skipped %s: %s", name, decoded)
                skipped.append({"file": name, "reason": decoded})
            else:
                sketch, color = decoded
                yield Pair(sketch=sketch, color=color, name=name)
    except BrokenProcessPool as exc:
        raise DataError(
            f"a decoding process died ({exc}); run the split stage again, or set split.workers: 1 "
            "to decode in the stage's own process"
        ) from None


def split_dataset(params: Params, paths: ProjectPaths) -> SplitResult:
    """Decode, resize and shard every raw pair; write data/split and its manifest."""
    files, ignored = list_raw_files(paths.raw)
    total = sum(len(v) for v in files.values())
    if total == 0:
        raise DataError(
            f"no image files in {paths.raw / 'train'} or {paths.raw / 'val'}; run the fetch stage "
            "first or check fetch.source"
        )
    groups = read_pair_groups(paths)
    assigned = assign_splits(files, params, groups)
    result = SplitResult(skipped=list(ignored))
    context = multiprocessing.get_context("spawn")
    workers = params.split.workers
    with atomic_directory(paths.split) as out:
        # A process pool that reports a worker's death: multiprocessing.Pool loses the dead
        # worker's tasks and waits for them for ever.
        pool = ProcessPoolExecutor(workers, mp_context=context) if workers > 1 else None
        try:
            for split in SPLITS:
                pairs = _decoded_pairs(assigned[split], params, pool, result.skipped)
                counts = write_shards(pairs, out, split, params.split.shards)
                result.shard_counts[split] = counts
                result.counts[split] = sum(counts)
        finally:
            if pool:
                pool.shutdown(cancel_futures=True)
        if result.counts["train"] == 0:
            raise DataError(
                f"no usable training pairs: all {total} files in {paths.raw} were skipped "
                f"(first reasons: {result.skipped[:3]})"
            )
        write_json(out / ProjectPaths.SPLIT_MANIFEST, _manifest(params, files, result, groups, paths))
    log.info(
        "split: train %d, val %d, test %d pairs at %dpx; %d files skipped",
        result.counts["train"],
        result.counts["val"],
        result.counts["test"],
        params.data.image_size,
        len(result.skipped),
    )
    return result


def _manifest(
    params: Params,
    files: dict[str, list[RawFile]],
    result: SplitResult,
    groups: Mapping[str, str],
    paths: ProjectPaths,
) -> dict:
    return {
        "image_size": params.data.image_size,
        "seed": params.seed,
        "test_source": params.split.test_source,
        "fractions": {"val": params.split.val_fraction, "test": params.split.test_fraction},
        "sources": {f"raw/{folder}": len(members) for folder, members in files.items()},
        "data_source": _data_source(paths),
        "variant_groups": len(set(groups.values())) if groups else None,
        "counts": result.counts,
        "shards": result.shard_counts,
        "skipped_count": len(result.skipped),
        "skipped": sorted(result.skipped, key=lambda s: s["file"]),
    }


def _data_source(paths: ProjectPaths) -> dict:
    """Where data/raw came from and under which licence, carried on for train to record."""
    try:
        report = json.loads(paths.fetch_report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"source": None, "attribution": None}
    return {"source": report.get("source"), "attribution": report.get("attribution")}
