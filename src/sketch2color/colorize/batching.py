"""Colouring decoded sketches: one image for the GUI, a stream of files for the command.

Folders are streamed: only a small fixed window of files (a couple of
batches of S x S squares, and one full-size image per I/O thread) is in
memory at a time, whatever the folder's size.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from sketch2color.colorize.backends import Backend
from sketch2color.colorize.errors import Report
from sketch2color.colorize.geometry import Placement, fit_to_square, restore_from_square
from sketch2color.colorize.inputs import Failure, Job, read_sketch
from sketch2color.data.images import BadImage
from sketch2color.image_io import write_rgb

# Decoding and PNG encoding release the GIL; a few threads keep the model fed.
DEFAULT_IO_WORKERS = max(1, min(4, os.cpu_count() or 1))


def colorize_array(backend: Backend, rgb: np.ndarray) -> np.ndarray:
    """Colour one RGB image of any size; the result has the same size."""
    square, placement = fit_to_square(rgb, backend.input_size)
    return restore_from_square(backend.colour_batch(square[None])[0], placement)


save_rgb = write_rgb  # the GUI and tests save through this name


@dataclass
class Summary:
    coloured: int = 0
    failures: list[Failure] = field(default_factory=list)


def _prepare(job: Job, size: int, max_pixels: int) -> tuple[Job, Placement, np.ndarray] | Failure:
    """Decode and fit one file (in an I/O thread); the full-size image is dropped here."""
    try:
        rgb = read_sketch(job.source, max_pixels)
    except BadImage as exc:
        return Failure(job.source, str(exc))
    square, placement = fit_to_square(rgb, size)
    return job, placement, square


def _finish(job: Job, placement: Placement, square: np.ndarray) -> Failure | None:
    """Restore one coloured square to its file's size and write it (in an I/O thread)."""
    try:
        save_rgb(restore_from_square(square, placement), job.target)
    except OSError as exc:
        return Failure(job.source, f"cannot write {job.target}: {exc.strerror or exc}")
    return None


def colorize_jobs(
    backend: Backend,
    jobs: Iterable[Job],
    *,
    batch_size: int,
    max_pixels: int,
    report: Report,
    advance: Callable[[int], None] = lambda n: None,
    io_workers: int = DEFAULT_IO_WORKERS,
) -> Summary:
    """Colour each job's file into its target, ``batch_size`` squares per model call.

    Decoding and encoding (most of the time for small models) run in a few
    threads while the model runs, but only a fixed window of files is in
    flight at once: memory depends on the batch size, never on how many
    files there are. Failures are reported in the order of the files.
    """
    summary = Summary()
    window = max(2 * batch_size, 2 * io_workers)
    reading: deque[Future] = deque()
    writing: deque[tuple[Job, Future]] = deque()
    pending: list[tuple[Job, Placement, np.ndarray]] = []

    def fail(failure: Failure) -> None:
        summary.failures.append(failure)
        report(f"{failure.source}: skipped: {failure.reason}")

    def settle_writes(keep: int) -> None:
        while len(writing) > keep:
            _, future = writing.popleft()
            failure = future.result()
            if failure is None:
                summary.coloured += 1
            else:
                fail(failure)
            advance(1)

    with ThreadPoolExecutor(max_workers=io_workers, thread_name_prefix="colorize-io") as pool:

        def flush() -> None:
            coloured = backend.colour_batch(np.stack([square for _, _, square in pending]))
            for (job, placement, _), square in zip(pending, coloured, strict=True):
                writing.append((job, pool.submit(_finish, job, placement, square)))
            pending.clear()
            settle_writes(keep=window)

        def take_oldest_read() -> None:
            prepared = reading.popleft().result()
            if isinstance(prepared, Failure):
                fail(prepared)
                advance(1)
                return
            pending.append(prepared)
            if len(pending) >= batch_size:
                flush()

        for job in jobs:
            reading.append(pool.submit(_prepare, job, backend.input_size, max_pixels))
            if len(reading) >= window:
                take_oldest_read()
        while reading:
            take_oldest_read()
        if pending:
            flush()
        settle_writes(keep=0)
    return summary
