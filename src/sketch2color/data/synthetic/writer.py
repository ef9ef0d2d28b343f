"""The parallel writer the fetch stage calls: ``cfg.count`` pairs as PNG files, in worker processes.

Generation is the slow part of the default fetch, so it is spread over
processes; since each pair seeds its own generator, the files written never
depend on the worker count.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2

from sketch2color.atomic import write_bytes
from sketch2color.config import SyntheticConfig
from sketch2color.data.synthetic.compose import encode_png, generate_pair


def pair_file_name(index: int) -> str:
    return f"{index:06d}.png"


def _write_one(job: tuple[str, int, int, int]) -> int:
    folder, index, seed, height = job
    write_bytes(Path(folder) / pair_file_name(index), encode_png(generate_pair(index, seed, height)))
    return index


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core already; no nested thread pools


def write_synthetic_dataset(folder: Path, cfg: SyntheticConfig, seed: int) -> int:
    """Write ``folder/train/000000.png`` ... for ``cfg.count`` pairs; return the count.

    Each file is written atomically. Since each pair seeds its own generator,
    the bytes never depend on ``cfg.workers``. Workers are 'spawn' processes:
    safe even when the parent already runs TensorFlow or OpenCV threads, at
    the price that the parent's ``__main__`` must be importable and guarded by
    ``if __name__ == "__main__"`` (as stage scripts are). A process pool
    executor, not ``multiprocessing.Pool``: a worker that cannot start raises
    ``BrokenProcessPool`` instead of being restarted forever.

    Files already in ``folder/train`` are overwritten, never removed: build
    into a fresh folder (for example with ``atomic_directory``) to drop stale pairs.
    """
    train = Path(folder) / "train"
    train.mkdir(parents=True, exist_ok=True)
    jobs = [(str(train), index, seed, cfg.pair_height) for index in range(cfg.count)]
    workers = min(cfg.workers, cfg.count)
    if workers <= 1:
        for job in jobs:
            _write_one(job)
        return cfg.count
    chunk = max(1, min(16, len(jobs) // (workers * 4)))
    with ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
    ) as pool:
        for _ in pool.map(_write_one, jobs, chunksize=chunk):
            pass
    return cfg.count
