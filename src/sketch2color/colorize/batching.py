"""Colouring a stream of sketch files for the command, a batch per model call.

Folders are streamed: only a small fixed window of files (a couple of
batches of sketches with their S x S squares) is in memory at a time,
whatever the folder's size. Each picture is made by the inference layer
(:mod:`sketch2color.inference.colorizer`), exactly as the GUI and the MLflow
model make it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sketch2color.colorize.inputs import Failure, Job
from sketch2color.data.images import BadImage, read_sketch
from sketch2color.errors import Sketch2ColorError
from sketch2color.image_io import write_rgb
from sketch2color.inference.backends import Backend
from sketch2color.inference.colorizer import (
    DEFAULT_OUTPUT,
    Colored,
    OutputMode,
    Prepared,
    color_prepared,
    prepare,
)
from sketch2color.inference.compose import DEFAULT_FILL, FillSettings
from sketch2color.inference.errors import Report
from sketch2color.layered import paint_stack, write_layer_folder, write_result

# Decoding and PNG encoding release the GIL; a few threads keep the model fed.
DEFAULT_IO_WORKERS = max(1, min(4, os.cpu_count() or 1))


@dataclass
class Summary:
    colored: int = 0
    failures: list[Failure] = field(default_factory=list)


def _prepare(job: Job, size: int, takes_hints: bool, max_pixels: int) -> tuple[Job, Prepared] | Failure:
    """Decode and fit one file (in an I/O thread)."""
    try:
        rgb = read_sketch(job.source, max_pixels)
    except BadImage as exc:
        return Failure(job.source, str(exc))
    height, width = rgb.shape[:2]
    hints = job.hints.render(height, width, max_pixels) if job.hints else None
    return job, prepare(rgb, size, hints, takes_hints)


def _finish(job: Job, colored: Colored, output: OutputMode, fill: FillSettings) -> Failure | None:
    """Bring one coloured square to its file's size and write it, flat or as layers (in an I/O thread)."""
    try:
        if output == "raw":  # a flat picture only: the command refuses layers with it
            write_rgb(colored.picture(output), job.target)
            return None
        layers = colored.layers(fill)
        write_result(job.target, layers)
        if job.layers is not None:
            write_layer_folder(paint_stack(layers), job.layers)
    except OSError as exc:
        return Failure(job.source, f"cannot write {exc.filename or job.target}: {exc.strerror or exc}")
    except Sketch2ColorError as exc:
        return Failure(job.source, str(exc))
    return None


def colorize_jobs(
    backend: Backend,
    jobs: Iterable[Job],
    *,
    batch_size: int,
    max_pixels: int,
    report: Report,
    advance: Callable[[int], object] = lambda n: None,
    io_workers: int = DEFAULT_IO_WORKERS,
    output: OutputMode = DEFAULT_OUTPUT,
    fill: FillSettings = DEFAULT_FILL,
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
    pending: list[tuple[Job, Prepared]] = []

    def fail(failure: Failure) -> None:
        summary.failures.append(failure)
        report(f"{failure.source}: skipped: {failure.reason}")

    def settle_writes(keep: int) -> None:
        while len(writing) > keep:
            _, future = writing.popleft()
            failure = future.result()
            if failure is None:
                summary.colored += 1
            else:
                fail(failure)
            advance(1)

    with ThreadPoolExecutor(max_workers=io_workers, thread_name_prefix="colorize-io") as pool:

        def flush() -> None:
            colored = color_prepared(backend, [prepared for _, prepared in pending])
            for (job, _), result in zip(pending, colored, strict=True):
                writing.append((job, pool.submit(_finish, job, result, output, fill)))
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
            reading.append(pool.submit(_prepare, job, backend.input_size, backend.takes_hints, max_pixels))
            if len(reading) >= window:
                take_oldest_read()
        while reading:
            take_oldest_read()
        if pending:
            flush()
        settle_writes(keep=0)
    return summary
